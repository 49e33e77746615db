"""InitProjectStream over gRPC: InitProject's answer for the merged stream, one transaction.

Each test sends one request as a stream of messages (the project's fields,
then batches of items, some fields last) and compares with what InitProject
answers for the same request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import grpc
import orjson
import pytest
from annotation.v1 import common_pb2, project_service_pb2
from annotation.v1.project_service_pb2_grpc import ProjectServiceStub
from sqlalchemy import func, select

from storage.database import Database
from storage.models import AuditLog, Label, Project, Task
from tests.helpers import TestUser, rpc_error

Part = project_service_pb2.InitProjectStreamRequest
Item = project_service_pb2.TaskInput
Tag = common_pb2.TagInput


async def stream_of(parts: Sequence[Part]) -> AsyncIterator[Part]:
    for part in parts:
        yield part


def items(start: int, stop: int, **changes: Item) -> list[Item]:
    """Text items start..stop-1 (id ext_i); `changes` replaces items by index ("i5": Item)."""
    made = [
        Item(id=f"ext_{i}", content=f"text {i}", metadata='{"n": 1}') for i in range(start, stop)
    ]
    for key, item in changes.items():
        made[int(key[1:]) - start] = item
    return made


def parts(
    *batches: list[Item], first: dict[str, Any] | None = None, last: Part | None = None
) -> list[Part]:
    fields = {"name": "流式项目", "task_type": common_pb2.TASK_TYPE_TEXT_CLASSIFICATION}
    fields.update(first or {})
    made = [Part(**fields, data=batches[0]), *(Part(data=batch) for batch in batches[1:])]
    if last is not None:
        made.append(last)
    return made


async def count_rows(database: Database, model: Any) -> int:
    async with database.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(model))).scalar_one())


async def stream_error(stub: ProjectServiceStub, user: TestUser, request: list[Part]) -> Any:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.InitProjectStream(stream_of(request), metadata=user.metadata)
    return rpc_error(caught.value)


async def test_stream_creates_the_project_of_the_merged_request(
    project_stub: ProjectServiceStub, admin: TestUser, database: Database
) -> None:
    last = Part(external_id="proj-9", description="later", tags=[Tag(tag="好"), Tag(tag="坏")])
    request = parts(
        items(0, 3), items(3, 5), items(5, 6), first={"tags": [Tag(tag="中")]}, last=last
    )
    response = await project_stub.InitProjectStream(stream_of(request), metadata=admin.metadata)

    assert response.task_count == 6
    assert response.project_name == "流式项目"
    assert response.external_id == "proj-9"
    assert response.status == common_pb2.PROJECT_STATUS_DRAFT
    for label in ("中", "好", "坏"):
        assert f'value="{label}"' in response.config
    async with database.read() as conn:
        tasks = (
            await conn.execute(
                select(Task.position, Task.external_id, Task.content)
                .where(Task.project_id == response.project_id)
                .order_by(Task.id)
            )
        ).all()
        labels = (await conn.execute(select(Label.name).order_by(Label.id))).scalars().all()
        project = (await conn.execute(select(Project))).one()
        audit = (await conn.execute(select(AuditLog.action, AuditLog.detail_json))).all()
    assert [(t.position, t.external_id, t.content) for t in tasks] == [
        (i, f"ext_{i}", f"text {i}") for i in range(6)
    ]
    assert labels == ["中", "好", "坏"]
    assert project.description == "later" and project.total_tasks == 6
    assert [a.action for a in audit] == ["projects.init"]
    detail = orjson.loads(audit[0].detail_json)
    assert detail["task_count"] == 6 and detail["label_count"] == 3


async def test_a_bad_item_in_a_later_batch_writes_nothing_and_names_its_global_index(
    project_stub: ProjectServiceStub, admin: TestUser, database: Database
) -> None:
    request = parts(items(0, 10), items(10, 20), items(20, 30, i27=Item(content="   ")))
    error = await stream_error(project_stub, admin, request)

    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.error_code == "INVALID_REQUEST"
    assert error.details["field"] == "data[27].content"
    assert await count_rows(database, Project) == 0
    assert await count_rows(database, Task) == 0
    assert await count_rows(database, AuditLog) == 0


async def test_a_duplicate_id_across_batches_names_both_indexes(
    project_stub: ProjectServiceStub, admin: TestUser, database: Database
) -> None:
    request = parts(items(0, 10), items(10, 20, i15=Item(id="ext_3", content="again")))
    error = await stream_error(project_stub, admin, request)

    assert error.details["field"] == "data[15].id"
    assert error.details["first_index"] == 3
    assert await count_rows(database, Task) == 0


async def test_the_stream_answers_what_init_project_answers_for_the_same_request(
    project_stub: ProjectServiceStub, admin: TestUser, database: Database
) -> None:
    """A bad tag sent last comes before a bad item sent first, as in InitProject."""
    bad_item = items(0, 5, i1=Item(content=""))
    bad_tags = Part(tags=[Tag(tag="a"), Tag(tag="a")])
    streamed = await stream_error(project_stub, admin, parts(bad_item, last=bad_tags))
    unary = project_service_pb2.InitProjectRequest(
        name="流式项目",
        task_type=common_pb2.TASK_TYPE_TEXT_CLASSIFICATION,
        data=bad_item,
        tags=bad_tags.tags,
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await project_stub.InitProject(unary, metadata=admin.metadata)

    assert streamed.details == rpc_error(caught.value).details
    assert streamed.details["field"] == "tags[1].tag"
    assert await count_rows(database, Project) == 0


async def test_name_and_task_type_come_in_the_first_message(
    project_stub: ProjectServiceStub, admin: TestUser, database: Database
) -> None:
    missing = await stream_error(project_stub, admin, [Part(data=items(0, 2))])
    assert missing.details["field"] == "name"
    late = await stream_error(project_stub, admin, parts(items(0, 2), last=Part(name="renamed")))
    assert late.details["field"] == "name"
    assert await count_rows(database, Project) == 0


async def test_an_empty_stream_is_refused_like_an_empty_request(
    project_stub: ProjectServiceStub, admin: TestUser
) -> None:
    no_items = await stream_error(project_stub, admin, parts([]))
    assert no_items.details["field"] == "data"
    nothing = await stream_error(project_stub, admin, [])
    assert nothing.details["field"] == "name"


async def test_a_keyed_stream_runs_once(
    project_stub: ProjectServiceStub, admin: TestUser, database: Database
) -> None:
    metadata = (*admin.metadata, ("idempotency-key", "stream-1"))
    request = parts(items(0, 4), items(4, 8))
    first = await project_stub.InitProjectStream(stream_of(request), metadata=metadata)
    again = await project_stub.InitProjectStream(stream_of(request), metadata=metadata)

    assert again == first
    assert await count_rows(database, Project) == 1


async def test_annotators_may_not_stream_an_init(
    project_stub: ProjectServiceStub, annotator: TestUser, database: Database
) -> None:
    error = await stream_error(project_stub, annotator, parts(items(0, 2)))
    assert error.code == grpc.StatusCode.PERMISSION_DENIED
    assert await count_rows(database, Project) == 0


async def test_image_items_keep_their_location_as_file_path(
    project_stub: ProjectServiceStub, admin: TestUser, database: Database
) -> None:
    image = {"task_type": common_pb2.TASK_TYPE_IMAGE_CLASSIFICATION}
    batch = [Item(content=f"images/{i}.jpg") for i in range(3)]
    response = await project_stub.InitProjectStream(
        stream_of(parts(batch[:2], batch[2:], first=image)), metadata=admin.metadata
    )
    async with database.read() as conn:
        paths = (
            (
                await conn.execute(
                    select(Task.file_path)
                    .where(Task.project_id == response.project_id)
                    .order_by(Task.id)
                )
            )
            .scalars()
            .all()
        )
    assert paths == ["images/0.jpg", "images/1.jpg", "images/2.jpg"]

    bad = await stream_error(
        project_stub, admin, parts(batch, [Item(content="ftp://x/y.jpg")], first=image)
    )
    assert bad.details["field"] == "data[3].content"
