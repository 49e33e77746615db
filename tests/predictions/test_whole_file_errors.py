"""Whole-file errors (422, nothing written), the upload limit, and request errors over gRPC."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest
from annotation.v1 import prediction_service_pb2_grpc

from annotation_api.settings import Settings
from server.app import start_server
from storage.database import Database
from tests.helpers import WAIT_SECONDS, Metadata, RpcErrorInfo, TestUser, rpc_error
from tests.predictions.support import (
    ImportCall,
    Request,
    aap,
    audit_entries,
    prediction,
    seed_project,
    stored_predictions,
)

WHOLE_FILE_ERRORS = [
    ("aap_json", b"", "the file is empty"),
    ("aap_json", b'{"schema_version": "1.0", "tasks": [', "the file is not valid JSON"),
    ("aap_json", b"\xff\xfe{}", "the file is not valid JSON"),
    ("aap_json", b"[]", "an AAP JSON file is an object"),
    ("aap_json", b'{"schema_version": "1.0"}', "the file has no tasks"),
    ("aap_json", b'{"schema_version": "1.0", "tasks": {}}', "tasks must be a list"),
    ("aap_json", b'{"tasks": []}', "schema_version is missing"),
    ("aap_json", b'{"schema_version": "2.0", "tasks": []}', "schema_version 2.0 is not supported"),
    ("aap_json", b'{"schema_version": "0.9", "tasks": []}', "schema_version 0.9 is not supported"),
    ("aap_json", b'{"schema_version": "latest", "tasks": []}', "is not a version number"),
    ("coco", b'{"annotations": [], "categories": []}', "the file has no images"),
    ("coco", b'{"images": [], "categories": []}', "the file has no annotations"),
    ("coco", b'{"images": [], "annotations": []}', "the file has no categories"),
    ("coco", b'{"images": {}, "annotations": [], "categories": []}', "images must be a list"),
    ("coco", b"not json", "the file is not valid JSON"),
]


@pytest.mark.parametrize(("file_format", "payload", "message"), WHOLE_FILE_ERRORS)
async def test_a_file_that_cannot_be_read_is_422_and_writes_nothing(
    database: Database,
    admin: TestUser,
    import_file: ImportCall,
    file_format: str,
    payload: bytes,
    message: str,
) -> None:
    project = await seed_project(database, owner=admin, tasks=[{"content": "https://h/a.jpg"}])

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await import_file(admin, project.project_id, payload, format=file_format)

    error = rpc_error(caught.value)
    assert (error.code, error.error_code) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_IMPORT_FILE",
    )
    assert message in error.message
    assert await stored_predictions(database, project.project_id) == []
    assert await audit_entries(database, "predictions.import") == []


async def test_a_schema_version_error_names_the_supported_versions(
    database: Database, admin: TestUser, import_file: ImportCall
) -> None:
    project = await seed_project(database, owner=admin)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await import_file(admin, project.project_id, aap(schema_version="2.1"))

    assert rpc_error(caught.value).details == {
        "field": "schema_version",
        "supported": "1.x",
        "schema_version": "2.1",
    }


async def test_a_utf8_bom_is_accepted(
    database: Database, admin: TestUser, import_file: ImportCall
) -> None:
    project = await seed_project(database, owner=admin, tasks=[{"content": "https://h/a.jpg"}])
    payload = b"\xef\xbb\xbf" + aap(
        {"task_match": {"file_path": "a.jpg"}, "predictions": [prediction()]}
    )

    response = await import_file(admin, project.project_id, payload, chunk_size=2)

    assert response.imported == 1


@pytest.fixture
async def small_limit_stub(
    settings: Settings, database: Database
) -> AsyncIterator[prediction_service_pb2_grpc.PredictionServiceStub]:
    """A server whose upload limit is 1,000 bytes."""
    running = await start_server(settings.model_copy(update={"max_upload_bytes": 1000}), database)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            yield prediction_service_pb2_grpc.PredictionServiceStub(channel)
    finally:
        await running.stop(0)


async def refused_before_the_end(
    stub: prediction_service_pb2_grpc.PredictionServiceStub,
    project_id: str,
    metadata: Metadata,
) -> RpcErrorInfo:
    """Send a file over the limit and never end the stream: an answer that waited for the
    end of the file would never come (the call's deadline would, instead)."""
    call = stub.ImportPredictions(metadata=metadata, timeout=WAIT_SECONDS)
    try:
        await call.write(Request(project_id=project_id))
        for _ in range(1000):  # 1 MB: over the limit, also as a keyed stream counts it
            try:
                await call.write(Request(chunk=b" " * 1000))
            except (grpc.aio.AioRpcError, asyncio.InvalidStateError):
                break  # answered while the client was still writing
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
    finally:
        call.cancel()
    return rpc_error(caught.value)


async def test_a_file_over_the_upload_limit_is_413_and_not_read_to_the_end(
    database: Database,
    admin: TestUser,
    small_limit_stub: prediction_service_pb2_grpc.PredictionServiceStub,
) -> None:
    project = await seed_project(database, owner=admin, tasks=[{"content": "https://h/a.jpg"}])

    error = await refused_before_the_end(small_limit_stub, project.project_id, admin.metadata)

    assert (error.code, error.error_code) == (
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "PAYLOAD_TOO_LARGE",
    )
    assert error.details == {"limit_bytes": 1000}


async def test_a_file_at_the_limit_is_read(
    database: Database,
    admin: TestUser,
    small_limit_stub: prediction_service_pb2_grpc.PredictionServiceStub,
) -> None:
    project = await seed_project(database, owner=admin, tasks=[{"content": "https://h/a.jpg"}])
    body = aap({"task_match": {"file_path": "a.jpg"}, "predictions": [prediction()]})
    payload = body + b" " * (1000 - len(body))

    async def requests() -> AsyncIterator[Request]:
        yield Request(project_id=project.project_id, chunk=payload)

    response = await small_limit_stub.ImportPredictions(requests(), metadata=admin.metadata)

    assert response.imported == 1


async def test_unknown_format_value_is_invalid_request(
    database: Database,
    admin: TestUser,
    prediction_stub: prediction_service_pb2_grpc.PredictionServiceStub,
) -> None:
    project = await seed_project(database, owner=admin)

    async def requests() -> AsyncIterator[Request]:
        yield Request(project_id=project.project_id, format=42, chunk=aap())  # type: ignore[arg-type]

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await prediction_stub.ImportPredictions(requests(), metadata=admin.metadata)

    error = rpc_error(caught.value)
    assert error.error_code == "INVALID_REQUEST"
    assert error.details == {"field": "format", "supported": ["aap_json", "coco"]}


async def test_an_overlong_model_version_fallback_is_invalid_request(
    database: Database, admin: TestUser, import_file: ImportCall
) -> None:
    project = await seed_project(database, owner=admin)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await import_file(admin, project.project_id, aap(), model_version="v" * 256)

    error = rpc_error(caught.value)
    assert (error.error_code, error.details) == ("INVALID_REQUEST", {"field": "model_version"})


async def test_an_empty_stream_is_invalid_request(
    admin: TestUser, prediction_stub: prediction_service_pb2_grpc.PredictionServiceStub
) -> None:
    async def nothing() -> AsyncIterator[Request]:
        return
        yield

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await prediction_stub.ImportPredictions(nothing(), metadata=admin.metadata)

    assert rpc_error(caught.value).error_code == "INVALID_REQUEST"


async def test_a_keyed_stream_over_the_upload_limit_is_413_and_not_read_to_the_end(
    database: Database,
    admin: TestUser,
    small_limit_stub: prediction_service_pb2_grpc.PredictionServiceStub,
) -> None:
    project = await seed_project(database, owner=admin, tasks=[{"content": "https://h/a.jpg"}])

    keyed = (*admin.metadata, ("idempotency-key", "big"))
    error = await refused_before_the_end(small_limit_stub, project.project_id, keyed)

    assert error.error_code == "PAYLOAD_TOO_LARGE"
