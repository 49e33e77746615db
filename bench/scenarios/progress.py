"""Progress of a large project: latency of one call at a time, and throughput
with many calls in flight, through REST and gRPC.

The project is the one an init figure created (plan.progress_tasks tasks).
Before measuring, the workflow gives it real annotator counters over gRPC:
it is configured ready, three annotators get 100 tasks each, start 50 and
submit 25 of them; bench.scenarios.quality then adds overlapping answers and
ground truth and times the agreement and quality reads on the same server.
The raw engine runs the same counter queries with sqlite3.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from functools import partial

import orjson
from annotation.v1 import project_service_pb2, workflow_service_pb2

from bench.datasets import INIT_LABELS, grpc_init_request, init_rows
from bench.minimal_http import MinimalHttpClient
from bench.seed import create_annotator
from bench.session import Clients, Session, check_status
from bench.stats import percentile

ANNOTATORS = 3
ASSIGNED_EACH, STARTED_EACH, SUBMITTED_EACH = 100, 50, 25
WARM_UP_CALLS = 50


async def give_work(clients: Clients, project_id: str, annotators: list[str]) -> None:
    metadata = clients.metadata
    await clients.workflow.ConfigureProject(
        workflow_service_pb2.ConfigureProjectRequest(project_id=project_id, ready=True),
        metadata=metadata,
    )
    page = await clients.projects.ListTasks(
        project_service_pb2.ListTasksRequest(
            project_id=project_id, page_size=ANNOTATORS * ASSIGNED_EACH
        ),
        metadata=metadata,
    )
    ids = [task.task_id for task in page.tasks]
    result = orjson.dumps(
        [
            {
                "type": "choices",
                "from_name": "label",
                "to_name": "text",
                "value": {"choices": [INIT_LABELS[0]]},
            }
        ]
    ).decode()
    for n, annotator in enumerate(annotators):
        mine = ids[n * ASSIGNED_EACH : (n + 1) * ASSIGNED_EACH]
        await clients.workflow.AssignTasks(
            workflow_service_pb2.AssignTasksRequest(
                project_id=project_id, annotator_id=annotator, task_ids=mine
            ),
            metadata=metadata,
        )
        for task_id in mine[:STARTED_EACH]:
            await clients.workflow.StartTask(
                workflow_service_pb2.StartTaskRequest(task_id=task_id), metadata=metadata
            )
        for task_id in mine[:SUBMITTED_EACH]:
            await clients.workflow.SubmitAnnotation(
                workflow_service_pb2.SubmitAnnotationRequest(task_id=task_id, result=result),
                metadata=metadata,
            )


async def latencies(call: Callable[[], Awaitable[object]], count: int) -> tuple[list[float], float]:
    """Seconds of each of `count` calls made one after another (sorted), and the
    client's own CPU seconds per call (this process: the client library's cost)."""
    timings = []
    cpu = time.process_time()
    for _ in range(count):
        started = time.perf_counter()
        await call()
        timings.append(time.perf_counter() - started)
    return sorted(timings), (time.process_time() - cpu) / count


async def throughput(call: Callable[[], Awaitable[object]], count: int, in_flight: int) -> float:
    """Calls per second with `in_flight` calls outstanding at any time."""
    remaining = count

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await call()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return count / (time.perf_counter() - started)


async def ensure_project(session: Session, clients: Clients) -> str:
    if session.progress_project_id is None:
        reply = await clients.projects.InitProject(
            grpc_init_request("bench progress", init_rows(session.plan.progress_tasks)),
            metadata=clients.metadata,
        )
        session.progress_project_id = reply.project_id
    return session.progress_project_id


async def run_progress(session: Session) -> None:
    from bench.scenarios.quality import measure_quality_reads, seed_quality  # uses ours

    plan, results = session.plan, session.results
    async with session.database() as database:
        annotators = [
            await create_annotator(database, f"bench-annotator-{n}-{session.admin_id[-6:]}")
            for n in range(ANNOTATORS)
        ]
    with session.server("progress") as server:
        async with (
            session.clients(server, connections=plan.in_flight) as clients,
            MinimalHttpClient(
                "127.0.0.1", server.http_port, headers={"authorization": f"Bearer {session.token}"}
            ) as minimal,
        ):
            project_id = await ensure_project(session, clients)
            await give_work(clients, project_id, annotators)
            await seed_quality(session, clients, project_id, annotators)
            path = f"/api/external/projects/{project_id}/progress"
            grpc_request = project_service_pb2.GetProgressRequest(project_id=project_id)

            async def rest_call() -> object:
                return check_status(await clients.rest.get(path), "REST progress")

            async def minimal_call() -> object:
                status, body = await minimal.get(path)
                if status != 200:
                    raise SystemExit(f"REST progress: HTTP {status} {body[:300]!r}")
                return body

            async def grpc_call() -> object:
                return await clients.projects.GetProgress(grpc_request, metadata=clients.metadata)

            body = await rest_call()
            assert isinstance(body, dict)
            if body["total_tasks"] != plan.progress_tasks or len(body["annotators"]) != ANNOTATORS:
                raise SystemExit(f"unexpected progress: {body}")
            sequential = (("rest", rest_call), ("rest_minimal", minimal_call), ("grpc", grpc_call))
            for _, call in sequential:
                for _ in range(WARM_UP_CALLS):
                    await call()

            for _ in range(session.runs):
                for name, call in sequential:
                    _, memory, (timings, client_cpu) = await session.measure(
                        server, partial(latencies, call, plan.progress_calls)
                    )
                    results.figure(f"progress.{name}.p50", "ms").add(
                        percentile(timings, 0.50) * 1000, memory
                    )
                    results.figure(f"progress.{name}.client_cpu", "ms").add(client_cpu * 1000)
                    results.figure(f"progress.{name}.p99", "ms").add(
                        percentile(timings, 0.99) * 1000, memory
                    )
                for name, call in (("rest", rest_call), ("grpc", grpc_call)):
                    _, memory, rate = await session.measure(
                        server, partial(throughput, call, plan.throughput_calls, plan.in_flight)
                    )
                    results.figure(f"progress.{name}.throughput", "req/s").add(rate, memory)
            await measure_quality_reads(session, server, clients, project_id)
    results.figure("progress.rest.p50", "ms").facts["tasks"] = plan.progress_tasks

    raw_project = session.raw.progress_project(plan.progress_tasks, annotators=ANNOTATORS)
    raw = results.figure("raw.progress.p50", "ms")
    for _ in range(session.runs):
        timings = sorted(session.raw.progress_seconds(raw_project, plan.progress_calls))
        raw.add(percentile(timings, 0.50) * 1000)
    p50 = {name: results.figure(f"progress.{name}.p50").median for name in ("rest", "grpc")}
    session.log(f"progress p50: REST {p50['rest']:.2f} ms, gRPC {p50['grpc']:.2f} ms")
