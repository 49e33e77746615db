"""Every error the gateway answers has the unified body and the documented status."""

from __future__ import annotations

import socket

import httpx
import pytest

from annotation_api.settings import Settings
from server.app import RunningServer, start_server
from storage.database import Database
from tests.gateway.support import (
    INIT,
    assert_error,
    auth,
    init_body,
    running_gateway,
    with_settings,
)
from tests.helpers import TestUser

UNKNOWN_PROJECT = "/api/external/projects/proj_000000000000/progress"


async def test_missing_or_unknown_token_is_401(
    http_client: httpx.AsyncClient, admin: TestUser
) -> None:
    assert_error(await http_client.post(INIT, json=init_body()), 401, "INVALID_TOKEN")
    wrong = {"Authorization": "Bearer not-a-token"}
    assert_error(
        await http_client.post(INIT, json=init_body(), headers=wrong), 401, "INVALID_TOKEN"
    )


async def test_annotator_is_403(http_client: httpx.AsyncClient, annotator: TestUser) -> None:
    response = await http_client.post(INIT, json=init_body(), headers=auth(annotator))
    assert_error(response, 403, "PERMISSION_DENIED")


async def test_another_tenants_project_is_404(
    http_client: httpx.AsyncClient, admin: TestUser, other_admin: TestUser
) -> None:
    created = await http_client.post(INIT, json=init_body(), headers=auth(admin))
    project_id = created.json()["project_id"]
    response = await http_client.get(
        f"/api/external/projects/{project_id}/progress", headers=auth(other_admin)
    )
    body = assert_error(response, 404, "PROJECT_NOT_FOUND")
    assert body["details"] == {"project_id": project_id}


async def test_server_side_validation_is_400(
    http_client: httpx.AsyncClient, admin: TestUser
) -> None:
    response = await http_client.post(INIT, json=init_body(name="  "), headers=auth(admin))
    assert_error(response, 400, "INVALID_REQUEST")


async def test_malformed_json_is_400(http_client: httpx.AsyncClient, admin: TestUser) -> None:
    response = await http_client.post(
        INIT,
        content=b'{"name": "x", "data": [',
        headers={**auth(admin), "Content-Type": "application/json"},
    )
    body = assert_error(response, 400, "INVALID_REQUEST")
    assert body["details"]["field"] == "body"
    assert "line" in body["details"]


async def test_wrong_json_type_is_400_naming_the_field(
    http_client: httpx.AsyncClient, admin: TestUser
) -> None:
    data = [{"content": "https://x/1.jpg"}, {"content": ["not", "a", "string"]}]
    response = await http_client.post(INIT, json=init_body(data=data), headers=auth(admin))
    body = assert_error(response, 400, "INVALID_REQUEST")
    assert body["details"]["field"] == "data[1].content"


async def test_unknown_task_type_is_invalid_task_type(
    http_client: httpx.AsyncClient, admin: TestUser
) -> None:
    response = await http_client.post(INIT, json=init_body(task_type="video"), headers=auth(admin))
    body = assert_error(response, 400, "INVALID_TASK_TYPE")
    assert "polygon" in body["details"]["supported"]


async def test_unknown_enum_value_in_a_query_is_400(
    http_client: httpx.AsyncClient, admin: TestUser
) -> None:
    response = await http_client.get(
        "/api/external/projects/proj_000000000000/tasks",
        params={"status": "done"},
        headers=auth(admin),
    )
    body = assert_error(response, 400, "INVALID_REQUEST")
    assert body["details"]["field"] == "status"
    assert body["details"]["supported"] == ["pending", "in_progress", "completed"]


async def test_unknown_route_and_wrong_method(http_client: httpx.AsyncClient) -> None:
    body = assert_error(await http_client.get("/api/external/nothing"), 404, "NOT_FOUND")
    assert body["details"]["path"] == "/api/external/nothing"
    assert_error(await http_client.delete(INIT), 405, "METHOD_NOT_ALLOWED")


async def test_body_over_the_message_limit_is_413(
    settings: Settings, grpc_server: RunningServer, admin: TestUser
) -> None:
    small = with_settings(
        settings, max_message_bytes=64 * 1024, grpc_target=f"127.0.0.1:{grpc_server.port}"
    )
    async with running_gateway(small) as client:
        data = [{"content": "x" * 1000} for _ in range(100)]
        response = await client.post(INIT, json=init_body(data=data), headers=auth(admin))
    body = assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert body["details"]["limit_bytes"] == 64 * 1024


async def test_message_over_the_servers_limit_is_413(
    settings: Settings, database: Database, admin: TestUser
) -> None:
    """gRPC's own RESOURCE_EXHAUSTED (no ErrorDetail) still becomes the documented 413."""
    server = await start_server(with_settings(settings, max_message_bytes=64 * 1024), database)
    try:
        target = with_settings(settings, grpc_target=f"127.0.0.1:{server.port}")
        async with running_gateway(target) as client:
            data = [{"content": "x" * 1000} for _ in range(100)]
            response = await client.post(INIT, json=init_body(data=data), headers=auth(admin))
    finally:
        await server.stop(0)
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")


async def test_unreachable_server_is_503(settings: Settings, unused_tcp_port: int) -> None:
    target = with_settings(settings, grpc_target=f"127.0.0.1:{unused_tcp_port}")
    async with running_gateway(target) as client:
        response = await client.get(UNKNOWN_PROJECT, headers={"Authorization": "Bearer x"})
        assert_error(response, 503, "SERVICE_UNAVAILABLE")
        assert_error(await client.get("/healthz"), 503, "SERVICE_UNAVAILABLE")


@pytest.fixture
def unused_tcp_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
