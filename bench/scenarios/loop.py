"""The annotation loop of one annotator on a large project: NextTask, GetTask and
SubmitAnnotation latency (gRPC, one call at a time).

The project (plan.loop_tasks tasks, created by an untimed gRPC init) is made
ready and split between plan.loop_annotators annotators with AssignTasks
`count`. One annotator then works through their queue: each cycle is NextTask
-> GetTask -> StartTask -> SubmitAnnotation; the p50 of each timed call is a figure.
"""

from __future__ import annotations

import time

import orjson
from annotation.v1 import workflow_service_pb2 as W

from bench.datasets import INIT_LABELS, grpc_init_request, init_rows
from bench.session import Session
from bench.stats import percentile
from server.accounts import create_token, create_user

RESULT = orjson.dumps(
    [
        {
            "type": "choices",
            "from_name": "label",
            "to_name": "text",
            "value": {"choices": [INIT_LABELS[0]]},
        }
    ]
).decode()
CALLS = ("next_task", "get_task", "submit")


async def run_loop(session: Session) -> None:
    plan, results = session.plan, session.results
    suffix = session.admin_id[-6:]
    async with session.database() as database:
        annotators = []
        for n in range(plan.loop_annotators):
            username = f"bench-loop-{n}-{suffix}"
            user = await create_user(database, username=username, role="annotator")
            issued = await create_token(database, username=username)
            annotators.append((user.user_id, (("authorization", f"Bearer {issued.secret}"),)))
    with session.server("loop") as server:
        async with session.clients(server) as clients:
            admin = clients.metadata
            reply = await clients.projects.InitProject(
                grpc_init_request("bench loop", init_rows(plan.loop_tasks)), metadata=admin
            )
            project_id = reply.project_id
            await clients.workflow.ConfigureProject(
                W.ConfigureProjectRequest(project_id=project_id, ready=True), metadata=admin
            )
            each = plan.loop_tasks // plan.loop_annotators
            for user_id, _ in annotators:
                await clients.workflow.AssignTasks(
                    W.AssignTasksRequest(project_id=project_id, annotator_id=user_id, count=each),
                    metadata=admin,
                )
            worker = annotators[0][1]
            workflow = clients.workflow

            async def cycle(timings: dict[str, list[float]]) -> None:
                started = time.perf_counter()
                task = (await workflow.NextTask(W.NextTaskRequest(), metadata=worker)).task
                timings["next_task"].append(time.perf_counter() - started)
                started = time.perf_counter()
                await workflow.GetTask(W.GetTaskRequest(task_id=task.task_id), metadata=worker)
                timings["get_task"].append(time.perf_counter() - started)
                await workflow.StartTask(W.StartTaskRequest(task_id=task.task_id), metadata=worker)
                started = time.perf_counter()
                await workflow.SubmitAnnotation(
                    W.SubmitAnnotationRequest(task_id=task.task_id, result=RESULT),
                    metadata=worker,
                )
                timings["submit"].append(time.perf_counter() - started)

            await cycle({name: [] for name in CALLS})  # warm-up
            for _ in range(session.runs):

                async def measured() -> dict[str, list[float]]:
                    timings: dict[str, list[float]] = {name: [] for name in CALLS}
                    for _ in range(plan.loop_calls):
                        await cycle(timings)
                    return timings

                _, memory, timings = await session.measure(server, measured)
                for name in CALLS:
                    results.figure(f"loop.{name}.p50", "ms").add(
                        percentile(sorted(timings[name]), 0.50) * 1000, memory
                    )
    results.figure("loop.next_task.p50", "ms").facts["tasks"] = plan.loop_tasks
    p50 = {name: results.figure(f"loop.{name}.p50").median for name in CALLS}
    session.log(
        "loop p50: "
        + ", ".join(f"{name} {value:.2f} ms" for name, value in p50.items())
        + f" ({plan.loop_tasks:,} tasks, {plan.loop_annotators} annotators)"
    )
