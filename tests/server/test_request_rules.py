"""Rules every request obeys (server.request_rules): JSON nesting and U+0000, on each engine.

Each case sends one valid request with one thing changed, over gRPC and over
REST, and expects 400 INVALID_REQUEST naming the field, with nothing written.
"""

from __future__ import annotations

from typing import Any

import grpc
import httpx
import orjson
import pytest
from annotation.v1 import common_pb2, project_service_pb2, workflow_service_pb2
from annotation.v1.project_service_pb2_grpc import ProjectServiceStub
from annotation.v1.workflow_service_pb2_grpc import WorkflowServiceStub
from sqlalchemy import func, select

from server.json_depth import deeper_than
from server.request_rules import MAX_JSON_DEPTH
from storage.database import Database
from storage.models import Project, Task
from tests.exports.support import create_export
from tests.gateway.support import INIT, assert_error, auth, init_body
from tests.helpers import TestUser, rpc_error
from tests.predictions.support import image_tasks, seed_project

Item = project_service_pb2.TaskInput


def nested(depth: int) -> str:
    """JSON text of an object nested depth levels deep."""
    return '{"a":' * (depth - 1) + "{}" + "}" * (depth - 1)


def nested_value(depth: int) -> Any:
    value: Any = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def init_request(**changes: Any) -> project_service_pb2.InitProjectRequest:
    fields: dict[str, Any] = {
        "name": "rules",
        "description": "d",
        "task_type": common_pb2.TASK_TYPE_TEXT_CLASSIFICATION,
        "data": [Item(id="a", content="text", metadata='{"k": "v"}')],
        "external_id": "ext",
        "tags": [common_pb2.TagInput(tag="pos")],
    }
    fields.update(changes)
    return project_service_pb2.InitProjectRequest(**fields)


async def project_count(database: Database) -> int:
    async with database.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(Project))).scalar_one())


async def grpc_error(call: Any) -> Any:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return rpc_error(caught.value)


def test_json_depth_ignores_brackets_inside_strings() -> None:
    assert not deeper_than("1", 0)
    assert deeper_than("[[{}]]", 2) and not deeper_than("[[{}]]", 3)
    assert deeper_than("[{}, {}, [1, {}]]", 2) and not deeper_than("[{}, {}, [1, {}]]", 3)
    assert deeper_than(nested(200), 199) and not deeper_than(nested(200), 200)
    deep_looking = '{"a": "' + "[" * 200 + '\\"' + "{" * 100 + '"}'
    assert not deeper_than(deep_looking, 1)
    # fed in one piece or byte by byte, the same answer
    scan_text = '["a\\\\", "\\"]", [[' + "{" * 70 + "}" * 70 + "]]]"
    assert deeper_than(scan_text, 64) and not deeper_than(scan_text, 73)


def test_json_depth_in_chunks_of_any_size() -> None:
    """The scan keeps its state (in a string, after a backslash) from chunk to chunk."""
    from server.json_depth import DepthScan, TooDeep

    text = ('{"k\\\\": ["x\\"[[[", {"\\\\\\"": [' + "[" * 60 + "]" * 60 + "]}]}").encode()
    for size in (1, 2, 3, 7, len(text)):
        for limit, too_deep in ((63, True), (64, False)):
            scan = DepthScan(limit)
            try:
                for start in range(0, len(text), size):
                    scan.feed(text[start : start + size])
                refused = False
            except TooDeep:
                refused = True
            assert refused is too_deep, (size, limit)


# ---- nesting ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("depth", "field"),
    [
        (MAX_JSON_DEPTH + 1, "data[1].metadata"),
        (255, "data[1].metadata"),
        (300, "data[1].metadata"),
        (1000, "data[1].metadata"),
        (1020, "data[1].metadata"),
        # beyond the JSON parser's own limit the body itself is refused
        (1024, "body"),
    ],
)
async def test_too_deep_metadata_over_rest_is_400_naming_the_field(
    http_client: httpx.AsyncClient, admin: TestUser, database: Database, depth: int, field: str
) -> None:
    data = [{"content": "t", "metadata": {"x": 1}}, {"content": "u", "metadata": "DEEP"}]
    body = orjson.dumps(init_body(task_type="text_classification", data=data))
    # written as text: a JSON library would refuse to build it this deep
    content = body.replace(b'"DEEP"', nested(depth).encode())
    response = await http_client.post(
        INIT, content=content, headers={**auth(admin), "content-type": "application/json"}
    )
    body = assert_error(response, 400, "INVALID_REQUEST")
    assert body["details"]["field"] == field
    assert await project_count(database) == 0


async def test_metadata_at_the_limit_is_accepted_and_exported(
    http_client: httpx.AsyncClient, admin: TestUser
) -> None:
    data = [{"content": "t", "metadata": nested_value(MAX_JSON_DEPTH)}]
    response = await http_client.post(
        INIT, json=init_body(task_type="text_classification", data=data), headers=auth(admin)
    )
    assert response.status_code == 200, response.text


async def test_too_deep_metadata_over_grpc_is_invalid_request(
    project_stub: ProjectServiceStub, admin: TestUser, database: Database
) -> None:
    request = init_request(data=[Item(content="t"), Item(content="u", metadata=nested(300))])
    error = await grpc_error(project_stub.InitProject(request, metadata=admin.metadata))
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.error_code == "INVALID_REQUEST"
    assert error.details["field"] == "data[1].metadata"
    assert error.details["max_depth"] == MAX_JSON_DEPTH
    assert await project_count(database) == 0


async def test_too_deep_annotation_result_is_invalid_request(
    project_stub: ProjectServiceStub,
    workflow_stub: WorkflowServiceStub,
    admin: TestUser,
    annotator: TestUser,
) -> None:
    created = await project_stub.InitProject(init_request(), metadata=admin.metadata)
    W = workflow_service_pb2
    await workflow_stub.ConfigureProject(
        W.ConfigureProjectRequest(project_id=created.project_id, ready=True),
        metadata=admin.metadata,
    )
    tasks = await project_stub.ListTasks(
        project_service_pb2.ListTasksRequest(project_id=created.project_id),
        metadata=admin.metadata,
    )
    task_id = tasks.tasks[0].task_id
    await workflow_stub.AssignTasks(
        W.AssignTasksRequest(
            project_id=created.project_id, annotator_id=annotator.user_id, task_ids=[task_id]
        ),
        metadata=admin.metadata,
    )
    await workflow_stub.StartTask(W.StartTaskRequest(task_id=task_id), metadata=admin.metadata)
    result = "[" + nested(300) + "]"
    error = await grpc_error(
        workflow_stub.SubmitAnnotation(
            W.SubmitAnnotationRequest(task_id=task_id, result=result), metadata=admin.metadata
        )
    )
    assert error.error_code == "INVALID_REQUEST"
    assert error.details["field"] == "result"


async def test_an_export_that_cannot_write_a_task_names_it(
    channel: grpc.aio.Channel, database: Database, admin: TestUser
) -> None:
    # A value stored before the nesting rule existed (written straight to the table).
    project = await seed_project(
        database, owner=admin, task_type="text_classification", tasks=[{"content": "a"}] * 2
    )
    async with database.transaction() as conn:
        await conn.execute(
            Task.__table__.update()
            .where(Task.__table__.c.id == project.task_ids[1])
            .values(metadata_json=nested(300))
        )
    error = await grpc_error(
        create_export(channel, admin, project.project_id, "json", completed_only=False)
    )
    assert error.error_code == "EXPORT_FAILED"
    assert f"T-{project.task_ids[1]}" in error.message


# ---- U+0000 -------------------------------------------------------------------

NUL = "a\x00b"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": NUL}, "name"),
        ({"description": NUL}, "description"),
        ({"external_id": NUL}, "external_id"),
        ({"data": [Item(content=NUL)]}, "data[0].content"),
        ({"data": [Item(content="t", id=NUL)]}, "data[0].id"),
        ({"data": [Item(content="t", metadata='{"k": "a\x00"}')]}, "data[0].metadata"),
        ({"tags": [common_pb2.TagInput(tag=NUL)]}, "tags[0].tag"),
    ],
)
async def test_nul_in_any_init_field_is_invalid_request(
    project_stub: ProjectServiceStub,
    admin: TestUser,
    database: Database,
    changes: dict[str, Any],
    field: str,
) -> None:
    error = await grpc_error(
        project_stub.InitProject(init_request(**changes), metadata=admin.metadata)
    )
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.error_code == "INVALID_REQUEST"
    assert error.details["field"] == field
    assert await project_count(database) == 0


@pytest.mark.parametrize("field", ["name", "description", "external_id"])
async def test_nul_over_rest_is_400(
    http_client: httpx.AsyncClient, admin: TestUser, database: Database, field: str
) -> None:
    response = await http_client.post(INIT, json=init_body(**{field: NUL}), headers=auth(admin))
    body = assert_error(response, 400, "INVALID_REQUEST")
    assert body["details"]["field"] == field
    assert await project_count(database) == 0


async def test_nul_in_a_path_id_is_400(http_client: httpx.AsyncClient, admin: TestUser) -> None:
    response = await http_client.get(
        "/api/external/projects/proj_%00/progress", headers=auth(admin)
    )
    body = assert_error(response, 400, "INVALID_REQUEST")
    assert body["details"]["field"] == "project_id"


async def test_nul_in_callback_url_is_400(
    http_client: httpx.AsyncClient, admin: TestUser, database: Database
) -> None:
    project = await seed_project(database, owner=admin, tasks=image_tasks(1))
    response = await http_client.post(
        f"/api/external/projects/{project.project_id}/export",
        json={"format": "json", "callback_url": "https://example.com/\x00hook"},
        headers=auth(admin),
    )
    body = assert_error(response, 400, "INVALID_REQUEST")
    assert body["details"]["field"] == "callback_url"


async def test_nul_in_a_task_id_is_invalid_request(
    workflow_stub: WorkflowServiceStub, admin: TestUser
) -> None:
    error = await grpc_error(
        workflow_stub.StartTask(
            workflow_service_pb2.StartTaskRequest(task_id="1\x00"), metadata=admin.metadata
        )
    )
    assert error.error_code == "INVALID_REQUEST"
    assert error.details["field"] == "task_id"
