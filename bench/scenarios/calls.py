"""The fixed cost of a call: SQL statements and server CPU per workflow call and
per progress call, and workflow calls per second from 1 and 8 clients (gRPC).

The project (plan.calls_tasks tasks, untimed gRPC init) is made ready and split
between 1 + CALL_CLIENTS annotators (AssignTasks `count`).

* Statements: an in-process server on the bench's database counts the SQL
  statements (SQLAlchemy `before_cursor_execute`, BEGIN included) of each RPC,
  authentication included, averaged over plan.calls_per_kind calls.
* CPU: the server process's CPU seconds over plan.calls_per_kind calls of one
  kind, one at a time, divided by the calls (annotator 0 works its queue:
  NextTask, GetTask, StartTask, SubmitAnnotation; the admin asks GetProgress).
* Review: NextReview and ReviewAnnotation server CPU per call, by a reviewer of the
  project (bench.scenarios.review_calls).
* Throughput: 1 and CALL_CLIENTS clients, each an annotator working their own
  queue (NextTask -> GetTask -> StartTask -> SubmitAnnotation), every call counted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from annotation.v1 import common_pb2, project_service_pb2_grpc, workflow_service_pb2_grpc
from annotation.v1 import project_service_pb2 as P
from annotation.v1 import workflow_service_pb2 as W
from grpc import aio
from sqlalchemy import event

from annotation_api.settings import Settings
from bench.datasets import grpc_init_request, init_rows
from bench.scenarios.loop import RESULT
from bench.scenarios.review_calls import (
    REVIEW_KINDS,
    Reviewer,
    resubmit_returned,
    submit_reviewed_batch,
)
from bench.session import Session
from server.accounts import create_token, create_user
from server.app import start_server
from storage.database import Database

CALL_CLIENTS = 8
KINDS = ("next_task", "get_task", "start_task", "submit", "progress")
Metadata = tuple[tuple[str, str], ...]


class Worker:
    """One annotator's calls on a channel."""

    def __init__(self, channel: aio.Channel, metadata: Metadata) -> None:
        self.workflow = workflow_service_pb2_grpc.WorkflowServiceStub(channel)
        self.metadata = metadata

    async def next_task(self) -> str:
        reply = await self.workflow.NextTask(W.NextTaskRequest(), metadata=self.metadata)
        return str(reply.task.task_id)

    async def get_task(self, task_id: str) -> None:
        await self.workflow.GetTask(W.GetTaskRequest(task_id=task_id), metadata=self.metadata)

    async def start(self, task_id: str) -> None:
        await self.workflow.StartTask(W.StartTaskRequest(task_id=task_id), metadata=self.metadata)

    async def submit(self, task_id: str) -> None:
        await self.workflow.SubmitAnnotation(
            W.SubmitAnnotationRequest(task_id=task_id, result=RESULT), metadata=self.metadata
        )

    async def cycle(self) -> int:
        """One task from the queue to its annotation: 4 calls."""
        task_id = await self.next_task()
        await self.get_task(task_id)
        await self.start(task_id)
        await self.submit(task_id)
        return 4


async def _annotators(session: Session, count: int) -> list[tuple[str, Metadata]]:
    suffix = session.admin_id[-6:]
    found: list[tuple[str, Metadata]] = []
    async with session.database() as database:
        for n in range(count):
            username = f"bench-calls-{n}-{suffix}"
            user = await create_user(database, username=username, role="annotator")
            issued = await create_token(database, username=username)
            found.append((user.user_id, (("authorization", f"Bearer {issued.secret}"),)))
    return found


async def _setup(session: Session, channel: aio.Channel, annotators: list[str]) -> str:
    admin = (("authorization", f"Bearer {session.token}"),)
    projects = project_service_pb2_grpc.ProjectServiceStub(channel)
    workflow = workflow_service_pb2_grpc.WorkflowServiceStub(channel)
    reply = await projects.InitProject(
        grpc_init_request("bench calls", init_rows(session.plan.calls_tasks)), metadata=admin
    )
    await workflow.ConfigureProject(
        W.ConfigureProjectRequest(project_id=reply.project_id, ready=True), metadata=admin
    )
    each = session.plan.calls_tasks // len(annotators)
    for user_id in annotators:
        await workflow.AssignTasks(
            W.AssignTasksRequest(project_id=reply.project_id, annotator_id=user_id, count=each),
            metadata=admin,
        )
    return str(reply.project_id)


@contextmanager
def _counting(database: Database) -> Iterator[list[int]]:
    counter = [0]

    def count(*_: Any) -> None:
        counter[0] += 1

    event.listen(database.engine.sync_engine, "before_cursor_execute", count)
    try:
        yield counter
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", count)


async def _statements(session: Session, annotator: Metadata, project_id: str) -> None:
    """Statements per RPC, counted on an in-process server's engine."""
    plan, results = session.plan, session.results
    settings = Settings(
        data_dir=session.workdir / "calls-data",
        database_url=session.database_url,
        grpc_port=0,
        http_port=0,
        host="127.0.0.1",
    )
    database = Database(session.database_url)
    server = await start_server(settings, database)
    try:
        async with aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            worker = Worker(channel, annotator)
            projects = project_service_pb2_grpc.ProjectServiceStub(channel)
            admin = (("authorization", f"Bearer {session.token}"),)
            calls = max(plan.calls_per_kind // 10, 5)
            counts = dict.fromkeys(KINDS, 0)
            await worker.cycle()  # warm-up
            for _ in range(calls):
                with _counting(database) as counter:
                    task_id = await worker.next_task()
                counts["next_task"] += counter[0]
                for kind, call in (
                    ("get_task", worker.get_task),
                    ("start_task", worker.start),
                    ("submit", worker.submit),
                ):
                    with _counting(database) as counter:
                        await call(task_id)
                    counts[kind] += counter[0]
                request = P.GetProgressRequest(project_id=project_id)
                with _counting(database) as counter:
                    await projects.GetProgress(request, metadata=admin)
                counts["progress"] += counter[0]
            for kind in KINDS:
                results.figure(f"calls.{kind}.statements", "statements").add(counts[kind] / calls)
    finally:
        await server.stop(1.0)
        await database.dispose()


async def run_calls(session: Session) -> None:
    plan, results = session.plan, session.results
    annotators = await _annotators(session, 1 + CALL_CLIENTS)
    with session.server("calls") as server:
        async with aio.insecure_channel(server.grpc_target) as channel:
            await channel.channel_ready()
            project_id = await _setup(session, channel, [user_id for user_id, _ in annotators])
            admin = (("authorization", f"Bearer {session.token}"),)
            projects = project_service_pb2_grpc.ProjectServiceStub(channel)
            progress_request = P.GetProgressRequest(project_id=project_id)
            solo = Worker(channel, annotators[0][1])
            await solo.cycle()  # warm-up
            reviewer = await Reviewer.create(session, channel, project_id)
            n = plan.calls_per_kind
            batch: list[str] = []  # the tasks of one run's StartTask/GetTask/Submit batches
            answers: list[str] = []  # the answers one run's reviewer gives verdicts
            pending = W.ListAssignedTasksRequest(status=common_pb2.TASK_STATUS_PENDING, page_size=n)
            for _ in range(session.runs):

                async def next_tasks() -> None:
                    for _ in range(n):
                        await solo.next_task()

                async def starts() -> None:
                    for task_id in batch:
                        await solo.start(task_id)

                async def get_tasks() -> None:
                    for task_id in batch:
                        await solo.get_task(task_id)

                async def submits() -> None:
                    for task_id in batch:
                        await solo.submit(task_id)

                async def progress() -> None:
                    for _ in range(n):
                        await projects.GetProgress(progress_request, metadata=admin)

                # NextTask answers the first in_progress task before a pending one: take
                # the next n pending tasks from a page of the queue (outside the figures)
                page = await solo.workflow.ListAssignedTasks(pending, metadata=solo.metadata)
                batch[:] = [str(task.task_id) for task in page.tasks]

                async def next_reviews() -> None:
                    for _ in range(n):
                        await reviewer.next_review()

                async def reviews() -> None:
                    for index, annotation_id in enumerate(answers):
                        await reviewer.verdict(annotation_id, index)

                for kind, phase in (
                    ("next_task", next_tasks),
                    ("start_task", starts),
                    ("get_task", get_tasks),
                    ("submit", submits),
                    ("progress", progress),
                    ("next_review", next_reviews),
                    ("review", reviews),
                ):
                    if kind == "next_review":  # answers waiting for review (untimed)
                        answers[:] = await submit_reviewed_batch(
                            session, solo.workflow, solo.metadata, project_id, n
                        )
                    _, memory, _ = await session.measure(server, phase)
                    calls = len(answers) if kind == "review" else len(batch)
                    if kind in ("next_task", "progress", "next_review"):
                        calls = n
                    results.figure(f"calls.{kind}.cpu", "ms").add(
                        memory.cpu_seconds * 1000 / max(calls, 1), memory
                    )
                await resubmit_returned(solo.workflow, solo.metadata)
                for clients in (1, CALL_CLIENTS):
                    workers = [
                        Worker(channel, metadata) for _, metadata in annotators[1 : 1 + clients]
                    ]
                    rate = await _throughput(workers, plan.calls_throughput)
                    results.figure(f"calls.throughput.{clients}", "calls/s").add(rate)
    await _statements(session, annotators[0][1], project_id)
    results.figure("calls.throughput.1", "calls/s").facts["tasks"] = plan.calls_tasks
    cpu = {kind: results.figure(f"calls.{kind}.cpu").median for kind in KINDS + REVIEW_KINDS}
    statements = {kind: results.figure(f"calls.{kind}.statements").median for kind in KINDS}
    session.log(
        "calls, server CPU ms (statements): "
        + ", ".join(f"{kind} {cpu[kind]:.2f} ({statements[kind]:.0f})" for kind in KINDS)
        + ", "
        + ", ".join(f"{kind} {cpu[kind]:.2f}" for kind in REVIEW_KINDS)
        + f"; calls/s: 1 client {results.figure('calls.throughput.1').median:.0f}, "
        + f"{CALL_CLIENTS} clients {results.figure(f'calls.throughput.{CALL_CLIENTS}').median:.0f}"
    )


async def _throughput(workers: list[Worker], calls: int) -> float:
    """Workflow calls per second, each worker cycling through its own queue."""
    remaining = calls

    async def work(worker: Worker) -> int:
        nonlocal remaining
        done = 0
        while remaining > 0:
            remaining -= 4
            done += await worker.cycle()
        return done

    started = time.perf_counter()
    done = await asyncio.gather(*(work(worker) for worker in workers))
    return sum(done) / (time.perf_counter() - started)
