"""WatchProgress over gRPC: the state at once, then after changes; coalescing; the slow
reader's bound; a revoked token; the server stopping. Waits are on conditions (a
message arriving, a stream ending), each with a generous deadline."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import orjson
import pytest
from annotation.v1 import common_pb2, project_service_pb2
from annotation.v1 import workflow_service_pb2 as W
from annotation.v1.project_service_pb2_grpc import ProjectServiceStub
from annotation.v1.workflow_service_pb2_grpc import WorkflowServiceStub
from sqlalchemy import event

from annotation_api.settings import Settings
from server.accounts import create_token, revoke
from server.app import RunningServer, channel_options, start_server
from storage.changes import Watcher
from storage.database import Database
from tests.helpers import TestUser, rpc_error
from tests.workflow.support import make_user

P = project_service_pb2
# Long enough for a loaded machine; a passing run never waits for it.
DEADLINE = 60.0
RESULT = orjson.dumps([{"type": "choices", "value": {"choices": ["ja"]}}]).decode()
# Non-ASCII contents and colliding-looking names: the progress does not care, the
# tasks are real ones all the same.
CONTENTS = ["Zürich.png", "zürich.png", "東京.jpg", "x.png", "x.jpg", "X.png", "x.jpeg", "ß"]


class World:
    """A ready project with tasks assigned to an annotator, over gRPC."""

    def __init__(self, channel: grpc.aio.Channel, admin: TestUser, annotator: TestUser) -> None:
        self.channel = channel
        self.project = ProjectServiceStub(channel)
        self.workflow = WorkflowServiceStub(channel)
        self.admin = admin
        self.annotator = annotator
        self.project_id = ""
        self.task_ids: list[str] = []

    async def create(self, tasks: int = len(CONTENTS)) -> str:
        md = self.admin.metadata
        created = await self.project.InitProject(
            P.InitProjectRequest(
                name="Überwachung",
                task_type=common_pb2.TASK_TYPE_TEXT_CLASSIFICATION,
                data=[P.TaskInput(content=CONTENTS[i % len(CONTENTS)]) for i in range(tasks)],
                tags=[common_pb2.TagInput(tag="ja"), common_pb2.TagInput(tag="nein")],
            ),
            metadata=md,
        )
        self.project_id = created.project_id
        page = await self.project.ListTasks(
            P.ListTasksRequest(project_id=self.project_id, page_size=1000), metadata=md
        )
        self.task_ids = [t.task_id for t in page.tasks]
        await self.workflow.ConfigureProject(
            W.ConfigureProjectRequest(project_id=self.project_id, ready=True), metadata=md
        )
        await self.workflow.AssignTasks(
            W.AssignTasksRequest(
                project_id=self.project_id,
                annotator_id=self.annotator.user_id,
                task_ids=self.task_ids,
            ),
            metadata=md,
        )
        return self.project_id

    async def submit(self, task_id: str) -> None:
        await self.workflow.StartTask(
            W.StartTaskRequest(task_id=task_id), metadata=self.annotator.metadata
        )
        await self.workflow.SubmitAnnotation(
            W.SubmitAnnotationRequest(task_id=task_id, result=RESULT),
            metadata=self.annotator.metadata,
        )

    async def progress(self) -> P.GetProgressResponse:
        return await self.project.GetProgress(
            P.GetProgressRequest(project_id=self.project_id), metadata=self.admin.metadata
        )

    def watch(self, user: TestUser | None = None, *, last_event_id: int = 0) -> Any:
        return self.project.WatchProgress(
            P.WatchProgressRequest(project_id=self.project_id, last_event_id=last_event_id),
            metadata=(user or self.admin).metadata,
        )


@pytest.fixture
async def world(channel: grpc.aio.Channel, admin: TestUser, annotator: TestUser) -> World:
    world = World(channel, admin, annotator)
    await world.create()
    return world


async def read(stream: Any) -> Any:
    return await asyncio.wait_for(stream.read(), DEADLINE)


async def read_until(stream: Any, wanted: P.GetProgressResponse) -> list[Any]:
    """Every message up to and including the first whose progress is `wanted`."""
    seen = []
    while True:
        message = await read(stream)
        assert message is not grpc.aio.EOF, f"the stream ended before {wanted}"
        seen.append(message)
        if message.progress == wanted:
            return seen


async def test_first_message_is_get_progress_then_a_submit_is_sent(world: World) -> None:
    stream = world.watch()
    first = await read(stream)
    assert first.event_id == 1
    assert first.progress == await world.progress()
    assert first.progress.completed_tasks == 0

    await world.submit(world.task_ids[0])
    after = await world.progress()
    assert after.completed_tasks == 1
    seen = await read_until(stream, after)
    assert [m.event_id for m in seen] == list(range(2, 2 + len(seen)))
    assert seen[-1].progress.annotators[0].completed_count == 1
    stream.cancel()


async def test_resumed_stream_continues_above_the_last_event_id(world: World) -> None:
    stream = world.watch(last_event_id=41)
    first = await read(stream)
    assert (first.event_id, first.progress) == (42, await world.progress())
    stream.cancel()


async def test_watch_refuses_as_get_progress_does(
    world: World, other_admin: TestUser, annotator: TestUser
) -> None:
    for user, code, error_code in [
        (other_admin, grpc.StatusCode.NOT_FOUND, "PROJECT_NOT_FOUND"),
        (annotator, grpc.StatusCode.PERMISSION_DENIED, "PERMISSION_DENIED"),
    ]:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await read(world.watch(user))
        error = rpc_error(caught.value)
        assert (error.code, error.error_code) == (code, error_code)
    missing = world.project.WatchProgress(
        P.WatchProgressRequest(project_id="proj_000000000000"), metadata=world.admin.metadata
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await read(missing)
    assert rpc_error(caught.value).error_code == "PROJECT_NOT_FOUND"


async def test_many_submits_are_coalesced_and_the_last_state_is_sent(
    channel: grpc.aio.Channel, admin: TestUser, annotator: TestUser
) -> None:
    world = World(channel, admin, annotator)
    await world.create(40)
    stream = world.watch()
    await read(stream)
    await asyncio.gather(*(world.submit(task_id) for task_id in world.task_ids))
    final = await world.progress()
    assert final.completed_tasks == 40
    assert final.status == common_pb2.PROJECT_STATUS_COMPLETED
    seen = await read_until(stream, final)
    # 40 commits, at most one message per 250 ms: far fewer messages than commits.
    assert len(seen) <= 20, [m.progress.completed_tasks for m in seen]
    counts = [m.progress.completed_tasks for m in seen]
    assert counts == sorted(counts)
    stream.cancel()


async def test_a_reader_that_does_not_read_holds_one_flag_not_a_queue(
    world: World, database: Database
) -> None:
    stream = world.watch()
    await read(stream)
    watchers = database.changes._watchers[world.project_id]
    (watcher,) = watchers
    # The bound is structural: a watcher has a flag and an event, and no room for more.
    assert Watcher.__slots__ == ("_wake", "changed", "closed", "key")
    assert not hasattr(watcher, "__dict__")

    for task_id in world.task_ids[:3]:
        await world.submit(task_id)
    for _ in range(10_000):
        database.changes.publish([world.project_id])  # changes nobody reads yet
    assert watcher.changed in (True, False)  # still one flag
    after = await world.progress()
    seen = await read_until(stream, after)
    # What the reader gets when it reads at last is the latest state, not a backlog.
    assert len(seen) <= 3
    await world.submit(world.task_ids[3])
    later = await world.progress()
    more = await read_until(stream, later)
    assert more[-1].event_id == seen[-1].event_id + len(more)
    stream.cancel()


async def test_a_revoked_token_ends_its_streams_and_only_those(
    world: World, database: Database, settings: Settings
) -> None:
    second = await create_token(database, username=world.admin.username)
    other_token = TestUser(world.admin.user_id, world.admin.username, "admin", second.secret)
    streams = [world.watch(), world.watch()]
    kept = world.watch(other_token)
    for stream in [*streams, kept]:
        await read(stream)
    await revoke(database, secret=world.admin.token)
    for stream in streams:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            while (await read(stream)) is not grpc.aio.EOF:
                pass
        error = rpc_error(caught.value)
        assert (error.code, error.error_code) == (
            grpc.StatusCode.UNAUTHENTICATED,
            "INVALID_TOKEN",
        )
    # The same user's other token still watches.
    world.admin = other_token
    await world.submit(world.task_ids[0])
    await read_until(kept, await world.progress())
    kept.cancel()


async def test_stopping_the_server_ends_open_streams_cleanly(
    settings: Settings, database: Database, admin: TestUser, annotator: TestUser
) -> None:
    running: RunningServer = await start_server(settings, database)
    try:
        async with grpc.aio.insecure_channel(
            f"127.0.0.1:{running.port}", options=channel_options(settings)
        ) as chan:
            world = World(chan, admin, annotator)
            await world.create(2)
            streams = [world.watch() for _ in range(3)]
            for stream in streams:
                await read(stream)
            # A long grace: the streams end at once, with OK, not when it runs out.
            stopping = asyncio.ensure_future(running.stop(DEADLINE * 2))
            for stream in streams:
                assert await read(stream) is grpc.aio.EOF
                assert await stream.code() == grpc.StatusCode.OK
            await asyncio.wait_for(stopping, DEADLINE)
    finally:
        await running.stop(0)


async def test_an_annotator_watches_their_queue_counts(
    world: World, annotator: TestUser, database: Database
) -> None:
    stream = world.workflow.WatchAssignedTasks(
        W.WatchAssignedTasksRequest(), metadata=annotator.metadata
    )
    first = await read(stream)
    assert first.event_id == 1
    assert (first.counts.pending, first.counts.in_progress, first.counts.completed) == (8, 0, 0)

    # Another annotator's work does not move this queue; the annotator's own does.
    dave = await make_user(database, "dave", "annotator")
    other = World(world.channel, world.admin, dave)
    await other.create(2)
    await world.workflow.StartTask(
        W.StartTaskRequest(task_id=world.task_ids[0]), metadata=annotator.metadata
    )
    message = await read(stream)
    while (message.counts.pending, message.counts.in_progress) != (7, 1):
        message = await read(stream)
    await world.submit(world.task_ids[1])
    more = World(world.channel, world.admin, annotator)
    await more.create(3)  # three more tasks assigned to the annotator
    while (message.counts.pending, message.counts.in_progress, message.counts.completed) != (
        9,
        1,
        1,
    ):
        message = await read(stream)
    assert message.event_id >= 3
    stream.cancel()


async def test_watchers_of_one_project_share_one_read_per_change(
    world: World, database: Database
) -> None:
    streams = [world.watch() for _ in range(20)]
    for stream in streams:
        await read(stream)
    progress_reads: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "AS annotator_id" in statement:
            progress_reads.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", count)
    try:
        await world.submit(world.task_ids[0])
        after = await world.progress()  # one read of its own
        for stream in streams:
            await read_until(stream, after)
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", count)
    # 20 streams, one change: one shared read (two if a change came during it), not 20.
    assert 1 + 1 <= len(progress_reads) <= 1 + 2, len(progress_reads)
    for stream in streams:
        stream.cancel()
