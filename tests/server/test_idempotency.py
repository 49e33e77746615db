"""Idempotency keys on InitProject, CreateExport and ImportPredictions, on each engine.

A retry with the same key and request returns the first response and creates
nothing; a different request under the key is 409 IDEMPOTENCY_CONFLICT; the
database decides between concurrent requests.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import grpc
import httpx
import pytest
from annotation.v1 import (
    common_pb2,
    export_service_pb2,
    export_service_pb2_grpc,
    prediction_service_pb2,
    prediction_service_pb2_grpc,
    project_service_pb2,
)
from annotation.v1.project_service_pb2_grpc import ProjectServiceStub
from sqlalchemy import func, select, update

from storage.database import Database
from storage.models import Export, IdempotencyKey, Prediction, Project
from storage.types import utcnow
from tests.gateway.support import INIT, assert_error, auth, init_body
from tests.helpers import TestUser, rpc_error
from tests.predictions.support import aap, image_tasks, prediction, seed_project

Item = project_service_pb2.TaskInput


def init_request(name: str = "keyed", count: int = 2) -> project_service_pb2.InitProjectRequest:
    return project_service_pb2.InitProjectRequest(
        name=name,
        task_type=common_pb2.TASK_TYPE_TEXT_CLASSIFICATION,
        data=[Item(content=f"text {i}") for i in range(count)],
        tags=[common_pb2.TagInput(tag="pos")],
    )


def keyed(user: TestUser, key: str) -> tuple[tuple[str, str], ...]:
    return (*user.metadata, ("idempotency-key", key))


async def count_rows(database: Database, model: Any) -> int:
    async with database.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(model))).scalar_one())


async def grpc_error(call: Any) -> Any:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return rpc_error(caught.value)


async def test_a_retried_init_returns_the_first_response_and_creates_nothing(
    project_stub: ProjectServiceStub, admin: TestUser, database: Database
) -> None:
    first = await project_stub.InitProject(init_request(), metadata=keyed(admin, "k-1"))
    again = await project_stub.InitProject(init_request(), metadata=keyed(admin, "k-1"))
    assert again == first
    assert await count_rows(database, Project) == 1
    # without a key, or with another key, the same request creates another project
    await project_stub.InitProject(init_request(), metadata=admin.metadata)
    await project_stub.InitProject(init_request(), metadata=keyed(admin, "k-2"))
    assert await count_rows(database, Project) == 3


async def test_the_same_key_with_another_request_is_a_conflict(
    project_stub: ProjectServiceStub, admin: TestUser, database: Database
) -> None:
    await project_stub.InitProject(init_request(), metadata=keyed(admin, "k"))
    error = await grpc_error(
        project_stub.InitProject(init_request(name="other"), metadata=keyed(admin, "k"))
    )
    assert error.code == grpc.StatusCode.ALREADY_EXISTS
    assert error.error_code == "IDEMPOTENCY_CONFLICT"
    assert error.details["idempotency_key"] == "k"
    assert await count_rows(database, Project) == 1


async def test_keys_belong_to_their_caller(
    project_stub: ProjectServiceStub, admin: TestUser, other_admin: TestUser, database: Database
) -> None:
    mine = await project_stub.InitProject(init_request(), metadata=keyed(admin, "k"))
    theirs = await project_stub.InitProject(init_request(), metadata=keyed(other_admin, "k"))
    assert mine.project_id != theirs.project_id
    assert await count_rows(database, Project) == 2


async def test_a_failed_request_releases_its_key(
    project_stub: ProjectServiceStub, admin: TestUser, database: Database
) -> None:
    bad = init_request()
    bad.name = ""
    error = await grpc_error(project_stub.InitProject(bad, metadata=keyed(admin, "k")))
    assert error.error_code == "INVALID_REQUEST"
    await project_stub.InitProject(init_request(), metadata=keyed(admin, "k"))
    assert await count_rows(database, Project) == 1


@pytest.mark.parametrize("key", ["", "x" * 256])
async def test_a_malformed_key_is_invalid_request(
    project_stub: ProjectServiceStub, admin: TestUser, database: Database, key: str
) -> None:
    error = await grpc_error(project_stub.InitProject(init_request(), metadata=keyed(admin, key)))
    assert (error.error_code, error.details["field"]) == ("INVALID_REQUEST", "idempotency-key")
    assert await count_rows(database, Project) == 0


async def test_a_key_is_kept_24_hours_then_forgotten(
    project_stub: ProjectServiceStub, admin: TestUser, database: Database
) -> None:
    await project_stub.InitProject(init_request(), metadata=keyed(admin, "k"))
    async with database.read() as conn:
        row = (await conn.execute(select(IdempotencyKey))).one()
    assert row.expires_at - row.created_at >= timedelta(hours=24)
    async with database.transaction() as conn:
        await conn.execute(update(IdempotencyKey).values(expires_at=utcnow()))
    await project_stub.InitProject(init_request(name="new"), metadata=keyed(admin, "k"))
    assert await count_rows(database, Project) == 2


async def test_concurrent_requests_with_one_key_create_one_project(
    project_stub: ProjectServiceStub, admin: TestUser, database: Database
) -> None:
    request = init_request(count=2000)
    outcomes = await asyncio.gather(
        *(project_stub.InitProject(request, metadata=keyed(admin, "race")) for _ in range(6)),
        return_exceptions=True,
    )
    responses = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [rpc_error(o) for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    assert len(responses) + len(refused) == 6 and responses
    assert {r.project_id for r in responses} == {responses[0].project_id}
    assert {e.error_code for e in refused} <= {"IDEMPOTENCY_CONFLICT"}
    assert await count_rows(database, Project) == 1


async def test_a_client_that_gives_up_finds_its_answer_on_retry(
    project_stub: ProjectServiceStub, admin: TestUser, database: Database
) -> None:
    request = init_request(count=20_000)
    error = await grpc_error(
        project_stub.InitProject(request, metadata=keyed(admin, "gone"), timeout=0.01)
    )
    assert error.code == grpc.StatusCode.DEADLINE_EXCEEDED
    for _ in range(600):
        try:
            response = await project_stub.InitProject(request, metadata=keyed(admin, "gone"))
            break
        except grpc.aio.AioRpcError as exc:
            assert rpc_error(exc).error_code == "IDEMPOTENCY_CONFLICT"  # still running
            await asyncio.sleep(0.05)
    else:
        raise AssertionError("the first request never finished")
    assert response.task_count == 20_000
    assert await count_rows(database, Project) == 1


async def test_a_retried_export_returns_the_first_export(
    channel: grpc.aio.Channel, admin: TestUser, database: Database
) -> None:
    project = await seed_project(database, owner=admin, tasks=image_tasks(2))
    stub = export_service_pb2_grpc.ExportServiceStub(channel)
    request = export_service_pb2.CreateExportRequest(
        project_id=project.project_id, completed_only=False
    )
    first = await stub.CreateExport(request, metadata=keyed(admin, "export"))
    again = await stub.CreateExport(request, metadata=keyed(admin, "export"))
    assert again.export_id == first.export_id
    assert await count_rows(database, Export) == 1
    request.format = common_pb2.EXPORT_FORMAT_CSV
    error = await grpc_error(stub.CreateExport(request, metadata=keyed(admin, "export")))
    assert error.error_code == "IDEMPOTENCY_CONFLICT"


async def test_a_retried_import_writes_nothing_more(
    channel: grpc.aio.Channel, admin: TestUser, database: Database
) -> None:
    project = await seed_project(database, owner=admin, labels=("cat",), tasks=image_tasks(2))
    stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    payload = aap(
        {"task_match": {"display_id": project.display_id(0)}, "predictions": [prediction()]},
        {"task_match": {"display_id": project.display_id(1)}, "predictions": [prediction()]},
    )

    async def upload(body: bytes) -> Any:
        async def messages() -> Any:
            yield prediction_service_pb2.ImportPredictionsRequest(project_id=project.project_id)
            for start in range(0, len(body), 100):
                yield prediction_service_pb2.ImportPredictionsRequest(
                    chunk=body[start : start + 100]
                )

        return await stub.ImportPredictions(messages(), metadata=keyed(admin, "import"))

    first = await upload(payload)
    again = await upload(payload)
    assert first.imported == again.imported == 2
    assert await count_rows(database, Prediction) == 2
    error = await grpc_error(upload(payload + b" "))
    assert error.error_code == "IDEMPOTENCY_CONFLICT"
    assert await count_rows(database, Prediction) == 2


async def test_rest_forwards_the_idempotency_key_header(
    http_client: httpx.AsyncClient, admin: TestUser, database: Database
) -> None:
    headers = {**auth(admin), "Idempotency-Key": "rest-1"}
    first = await http_client.post(INIT, json=init_body(), headers=headers)
    again = await http_client.post(INIT, json=init_body(), headers=headers)
    assert first.status_code == again.status_code == 200, first.text
    assert again.json() == first.json()
    assert await count_rows(database, Project) == 1
    other = await http_client.post(INIT, json=init_body(name="other"), headers=headers)
    assert_error(other, 409, "IDEMPOTENCY_CONFLICT")
    unusable = await http_client.post(
        INIT, json=init_body(), headers={**auth(admin), "Idempotency-Key": "clé".encode()}
    )
    body = assert_error(unusable, 400, "INVALID_REQUEST")
    assert body["details"]["field"] == "idempotency-key"
    assert await count_rows(database, Project) == 1


async def test_openapi_documents_the_header_on_the_keyed_operations(
    http_client: httpx.AsyncClient,
) -> None:
    document = (await http_client.get("/openapi.json")).json()
    keyed_operations = sorted(
        operation["operationId"]
        for path in document["paths"].values()
        for operation in path.values()
        if any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", []))
    )
    assert len(keyed_operations) == 4, keyed_operations
    for name in ("InitProject", "CreateExport", "ImportPredictions", "ImportAnnotations"):
        assert any(name in operation for operation in keyed_operations)
