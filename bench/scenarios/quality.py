"""Agreement and ground-truth reads on the progress project (plan.progress_tasks tasks).

After the progress scenario's work (three annotators, 25 answers each), a second
annotator answers the first one's 25 tasks (written as SubmitAnnotation writes an
overlapping answer: the scoring call, then the row), ten of those tasks become
ground truth (SetGroundTruth) and a third annotator's answers to them are scored.
Then GetAgreement and GetQualityReport are timed one call at a time, over REST and
gRPC: both read the project's score sums, never its tasks.
"""

from __future__ import annotations

from functools import partial

import orjson
from annotation.v1 import project_service_pb2, quality_service_pb2, quality_service_pb2_grpc

from bench.datasets import INIT_LABELS
from bench.process import ServerProcess
from bench.scenarios.progress import ASSIGNED_EACH, SUBMITTED_EACH, WARM_UP_CALLS, latencies
from bench.session import Clients, Session, check_status
from bench.stats import percentile
from server.quality.scoring import score_answer
from storage.database import Database
from storage.types import utcnow
from storage.workflow import insert_annotation

GROUND_TRUTH_TASKS = 10


def _choice(n: int) -> str:
    label = INIT_LABELS[n % len(INIT_LABELS)]
    region = {"type": "choices", "from_name": "label", "to_name": "text"}
    return orjson.dumps([{**region, "value": {"choices": [label]}}]).decode()


async def _answer(
    database: Database, project_id: str, task_id: str, user_id: str, result: str
) -> None:
    async with database.transaction() as conn:
        scores = await score_answer(
            conn, task_id=int(task_id), annotation_id=None, user_id=user_id, result_json=result
        )
        await insert_annotation(
            conn,
            task_id=int(task_id),
            project_id=project_id,
            user_id=user_id,
            result_json=result,
            parent_prediction_id=None,
            lead_time_seconds=None,
            matches_parent=None,
            agreement=scores.agreement,
            ground_truth_score=scores.ground_truth_score,
            now=utcnow(),
        )


async def seed_quality(
    session: Session, clients: Clients, project_id: str, annotators: list[str]
) -> None:
    page = await clients.projects.ListTasks(
        project_service_pb2.ListTasksRequest(project_id=project_id, page_size=ASSIGNED_EACH),
        metadata=clients.metadata,
    )
    answered = [task.task_id for task in page.tasks][:SUBMITTED_EACH]
    quality = quality_service_pb2_grpc.QualityServiceStub(clients.channel)
    async with session.database() as database:
        for n, task_id in enumerate(answered):
            await _answer(database, project_id, task_id, annotators[1], _choice(n // 5))
        await quality.SetGroundTruth(
            quality_service_pb2.SetGroundTruthRequest(
                project_id=project_id, task_ids=answered[:GROUND_TRUTH_TASKS], ground_truth=True
            ),
            metadata=clients.metadata,
        )
        for n, task_id in enumerate(answered[:GROUND_TRUTH_TASKS]):
            await _answer(database, project_id, task_id, annotators[2], _choice(n // 3))


async def measure_quality_reads(
    session: Session, server: ServerProcess, clients: Clients, project_id: str
) -> None:
    quality = quality_service_pb2_grpc.QualityServiceStub(clients.channel)
    calls = {
        "agreement": (
            f"/api/v1/projects/{project_id}/agreement",
            partial(
                quality.GetAgreement,
                quality_service_pb2.GetAgreementRequest(project_id=project_id),
            ),
        ),
        "report": (
            f"/api/v1/projects/{project_id}/quality",
            partial(
                quality.GetQualityReport,
                quality_service_pb2.GetQualityReportRequest(project_id=project_id),
            ),
        ),
    }
    results, plan = session.results, session.plan
    for name, (path, grpc_call) in calls.items():

        async def rest_call(path: str = path) -> object:
            return check_status(await clients.rest.get(path), f"REST {path}")

        async def grpc_timed(grpc_call: partial[object] = grpc_call) -> object:
            return await grpc_call(metadata=clients.metadata)  # type: ignore[misc]

        for call in (rest_call, grpc_timed):
            for _ in range(WARM_UP_CALLS):
                await call()
        for _ in range(session.runs):
            for transport, call in (("rest", rest_call), ("grpc", grpc_timed)):
                _, memory, (timings, _) = await session.measure(
                    server, partial(latencies, call, plan.progress_calls)
                )
                for q in (0.50, 0.99):
                    figure = results.figure(f"quality.{name}.{transport}.p{round(q * 100)}", "ms")
                    figure.add(percentile(timings, q) * 1000, memory)
    results.figure("quality.agreement.rest.p50", "ms").facts["tasks"] = plan.progress_tasks
