"""What a call costs the database: SQL statements per RPC (BEGIN included, as the
engine's `before_cursor_execute` sees them), and the token cache that spares
most calls their token lookup while revocations still take effect."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Collection, Iterator
from contextlib import contextmanager
from typing import Any

import aiosqlite
import grpc
import pytest
from annotation.v1 import common_pb2
from sqlalchemy import event

import server.auth
from annotation_api.errors import DomainError, ErrorCode
from annotation_api.settings import Settings
from server.accounts import find_tokens, revoke
from server.app import RunningServer
from server.auth import Authenticator
from storage.database import Database
from storage.users import revoke_tokens
from tests.helpers import TestUser
from tests.workflow.support import make_user
from tests.workflow.test_rules import RESULT, Setup, W

# Statements per call with the token looked up every call (auth_cache_seconds=0):
# the token lookup plus the call's own transaction. Neither engine's BEGIN is a
# statement of its own here: asyncpg begins without one, and on SQLite it travels
# with the transaction's first statement (storage.sqlite_cursor).
LIMITS = {
    "sqlite": {
        "NextTask": 1 + 1,  # the task detail with the queue seek
        "GetTask": 1 + 1,  # the task detail
        "StartTask": 1 + 5,  # lock read, task, assignment, project, annotator
        # ... the annotation, and its webhook event (an INSERT … SELECT that inserts
        # nothing when no webhook wants it; it travels with the COMMIT)
        "SubmitAnnotation": 1 + 7,
        "GetProgress": 1 + 1,  # project with its annotators
    },
    "postgresql": {
        "NextTask": 1 + 1,
        "GetTask": 1 + 1,
        "StartTask": 1 + 6,  # project lock, task under it, four updates
        "SubmitAnnotation": 1 + 8,  # ... and the webhook event
        "GetProgress": 1 + 1,
    },
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"auth_cache_seconds": 0.0})


@contextmanager
def counting(
    database: Database, *, besides: Collection[asyncio.Task[None]] = ()
) -> Iterator[list[str]]:
    """The statements run on database meanwhile, but for those of the tasks `besides`: the
    server's background workers, which poll whenever their time comes, during a call or not."""
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if asyncio.current_task() not in besides:
            statements.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", count)


@pytest.mark.parametrize("per_task", [1, 2])
async def test_statements_per_workflow_call_and_progress(
    channel: grpc.aio.Channel,
    grpc_server: RunningServer,
    admin: TestUser,
    annotator: TestUser,
    database: Database,
    db_engine: str,
    per_task: int,
) -> None:
    """The same counts with overlap (annotations_per_task 2: another annotator holds the
    task too, and the submit leaves it waiting for their answer)."""

    async def statements_of(call: Awaitable[Any]) -> list[str]:
        with counting(database, besides=grpc_server.workers) as statements:
            await call
        return statements

    setup = Setup(channel, admin)
    pid, task_ids = await setup.new_project(3)
    wf, md = setup.workflow, annotator.metadata
    if per_task > 1:
        await wf.ConfigureProject(
            W.ConfigureProjectRequest(
                project_id=pid, quality=common_pb2.QualitySettings(annotations_per_task=per_task)
            ),
            metadata=admin.metadata,
        )
        other = await make_user(database, "other", "annotator")
        await setup.assign(pid, other, task_ids)
        await wf.StartTask(W.StartTaskRequest(task_id=task_ids[0]), metadata=other.metadata)
    await setup.assign(pid, annotator, task_ids)
    await wf.NextTask(W.NextTaskRequest(), metadata=md)  # first use of the connection pool

    counts: dict[str, list[str]] = {}
    counts["NextTask"] = await statements_of(wf.NextTask(W.NextTaskRequest(), metadata=md))
    task_id = task_ids[0]
    counts["GetTask"] = await statements_of(
        wf.GetTask(W.GetTaskRequest(task_id=task_id), metadata=md)
    )
    counts["StartTask"] = await statements_of(
        wf.StartTask(W.StartTaskRequest(task_id=task_id), metadata=md)
    )
    counts["SubmitAnnotation"] = await statements_of(
        wf.SubmitAnnotation(W.SubmitAnnotationRequest(task_id=task_id, result=RESULT), metadata=md),
    )
    counts["GetProgress"] = await statements_of(setup.progress(pid))

    over = {
        name: statements
        for name, statements in counts.items()
        if len(statements) > LIMITS[db_engine][name]
    }
    assert not over, over
    # the calls did their work: the annotation is counted (with overlap, the task waits
    # for the other annotator's answer)
    progress = await setup.progress(pid)
    mine = next(a for a in progress.annotators if a.user_id == annotator.user_id)
    assert (progress.completed_tasks, mine.completed_count) == (int(per_task == 1), 1)
    assert progress.in_progress_tasks == int(per_task > 1)


# SQLite: trips to the connection's thread per call (storage.sqlite_cursor), the token
# lookup included: the writes whose outcome is not read travel with the next trip.
TRIPS = {
    "StartTask": 1 + 2,  # lock read; the four writes with COMMIT
    # lock read; four writes and the annotation's INSERT (its id is read back); the
    # webhook event (it names that id) with COMMIT
    "SubmitAnnotation": 1 + 3,
}


async def test_sqlite_trips_per_change_of_a_task(
    channel: grpc.aio.Channel,
    grpc_server: RunningServer,
    admin: TestUser,
    annotator: TestUser,
    db_engine: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if db_engine != "sqlite":
        pytest.skip("trips to a connection's own thread are aiosqlite's")
    setup = Setup(channel, admin)
    pid, task_ids = await setup.new_project(2)
    await setup.assign(pid, annotator, task_ids)
    wf, md = setup.workflow, annotator.metadata
    trips: list[object] = []
    execute = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if asyncio.current_task() not in grpc_server.workers:  # (see counting)
            trips.append(fn)
        return await execute(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    counts: dict[str, int] = {}
    for task_id in task_ids:  # the first round opens the pool's connections
        trips.clear()
        await wf.StartTask(W.StartTaskRequest(task_id=task_id), metadata=md)
        counts["StartTask"] = len(trips)
        trips.clear()
        await wf.SubmitAnnotation(
            W.SubmitAnnotationRequest(task_id=task_id, result=RESULT), metadata=md
        )
        counts["SubmitAnnotation"] = len(trips)
    assert counts == TRIPS
    progress = await setup.progress(pid)
    assert (progress.completed_tasks, progress.annotators[0].completed_count) == (2, 2)


class Clock:
    """The monotonic clock the token cache reads, moved by the test: no waiting, no race."""

    start = 1000.0

    def __init__(self) -> None:
        self.now = self.start

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(server.auth, "time", clock)
    return clock


async def test_a_known_token_is_looked_up_once_per_cache_lifetime(
    admin: TestUser, database: Database, clock: Clock
) -> None:
    authenticator = Authenticator(database, cache_seconds=1.0)
    with counting(database) as statements:
        first = await authenticator.authenticate(admin.token)
    assert statements, "the first use of a token looks it up"
    clock.now = clock.start + 0.5
    with counting(database) as statements:
        again = await authenticator.authenticate(admin.token)
    assert (again, statements) == (first, [])
    clock.now = clock.start + 1.0
    with counting(database) as statements:
        await authenticator.authenticate(admin.token)
    assert statements, "a cache lifetime later the token is looked up again"


async def test_a_token_revoked_elsewhere_stops_working_within_the_cache_lifetime(
    settings: Settings, admin: TestUser, database: Database, clock: Clock
) -> None:
    authenticator = Authenticator(database, cache_seconds=0.3)
    await authenticator.authenticate(admin.token)
    # revoked by another process: straight in the database, this process is not told
    other = Database(settings.resolved_database_url)
    try:
        [token] = await find_tokens(other, username=admin.username)
        async with other.transaction() as conn:
            assert await revoke_tokens(conn, [token.token_id]) == 1
    finally:
        await other.dispose()
    clock.now = clock.start + 0.3
    with pytest.raises(DomainError) as caught:
        await authenticator.authenticate(admin.token)
    assert caught.value.code == ErrorCode.INVALID_TOKEN


async def test_a_token_revoked_by_this_process_stops_working_at_once(
    annotator: TestUser, database: Database
) -> None:
    authenticator = Authenticator(database, cache_seconds=1.0)
    await authenticator.authenticate(annotator.token)
    await revoke(database, secret=annotator.token)
    with pytest.raises(DomainError) as caught:
        await authenticator.authenticate(annotator.token)
    assert caught.value.code == ErrorCode.INVALID_TOKEN


# Review (server.review): the submit of a reviewed task costs what any submit costs (the
# review counters ride in the counters' statements); a verdict costs about a submit.
REVIEW_LIMITS = {
    "sqlite": {
        "SubmitAnnotation": LIMITS["sqlite"]["SubmitAnnotation"],
        "NextReview": 1 + 3,  # the queue's seek, the task detail, its annotations
        # annotation, lock read, verdict, history, its webhook event, counters
        "ReviewAnnotation": 1 + 7,
    },
    "postgresql": {
        "SubmitAnnotation": LIMITS["postgresql"]["SubmitAnnotation"],
        "NextReview": 1 + 3,
        "ReviewAnnotation": 1 + 8,  # ... the project lock and the task under it
    },
}


async def test_statements_per_review_call(
    channel: grpc.aio.Channel,
    grpc_server: RunningServer,
    admin: TestUser,
    annotator: TestUser,
    database: Database,
    db_engine: str,
) -> None:
    from annotation.v1 import common_pb2
    from annotation.v1 import review_service_pb2 as R
    from annotation.v1.review_service_pb2_grpc import ReviewServiceStub

    from tests.workflow.test_review import set_review_mode

    async def statements_of(call: Awaitable[Any]) -> list[str]:
        with counting(database, besides=grpc_server.workers) as statements:
            await call
        return statements

    setup = Setup(channel, admin)
    pid, task_ids = await setup.new_project(3)
    await set_review_mode(database, pid, "all")
    await setup.assign(pid, annotator, task_ids)
    wf, md, review = setup.workflow, annotator.metadata, ReviewServiceStub(channel)
    await wf.NextTask(W.NextTaskRequest(), metadata=md)  # first use of the connection pool
    counts: dict[str, list[str]] = {}
    for task_id in task_ids[:2]:
        await wf.StartTask(W.StartTaskRequest(task_id=task_id), metadata=md)
        counts["SubmitAnnotation"] = await statements_of(
            wf.SubmitAnnotation(
                W.SubmitAnnotationRequest(task_id=task_id, result=RESULT), metadata=md
            )
        )
    request = R.NextReviewRequest(project_id=pid)
    counts["NextReview"] = await statements_of(review.NextReview(request, metadata=admin.metadata))
    annotation_id = (await review.NextReview(request, metadata=admin.metadata)).annotation_id
    verdict = R.ReviewAnnotationRequest(
        annotation_id=annotation_id, verdict=common_pb2.REVIEW_VERDICT_ACCEPT
    )
    counts["ReviewAnnotation"] = await statements_of(
        review.ReviewAnnotation(verdict, metadata=admin.metadata)
    )
    measured = {name: len(statements) for name, statements in counts.items()}
    over = {
        name: statements
        for name, statements in counts.items()
        if len(statements) > REVIEW_LIMITS[db_engine][name]
    }
    assert not over, (measured, over)
    progress = await setup.progress(pid)
    assert (progress.review_pending_count, progress.accepted_count) == (1, 1)
