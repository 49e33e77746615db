"""A caller the server would refuse never makes the gateway read, parse or store a body.

The gateway asks the server (AccessService.CheckAccess) before it reads past
the first 64 KiB of a body and before it answers an error of its own about
one, so the answer is 401/403 before 400/413, and comes while the client is
still sending.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.serve import RunningGateway
from tests.gateway.raw_http import RawConnection
from tests.gateway.support import INIT, assert_error, auth
from tests.helpers import TestUser

IMPORT = "/api/v1/projects/proj_000000000000/predictions/import"
HUGE = 300 * 1024 * 1024


@pytest.fixture
async def connection(gateway: RunningGateway) -> AsyncIterator[RawConnection]:
    opened = await RawConnection.open(gateway.port)
    try:
        yield opened
    finally:
        opened.close()


@pytest.mark.parametrize(
    ("headers", "status", "error_code"),
    [
        ({}, 401, "INVALID_TOKEN"),
        ({"Authorization": "Bearer not-a-token"}, 401, "INVALID_TOKEN"),
    ],
)
async def test_malformed_json_from_a_stranger_is_401_not_400(
    http_client: httpx.AsyncClient, headers: dict[str, str], status: int, error_code: str
) -> None:
    response = await http_client.post(
        INIT, content=b'{"name": ', headers={**headers, "Content-Type": "application/json"}
    )
    assert_error(response, status, error_code)


async def test_malformed_json_is_403_for_an_annotator_and_400_for_an_admin(
    http_client: httpx.AsyncClient, annotator: TestUser, admin: TestUser
) -> None:
    for user, status, error_code in (
        (annotator, 403, "PERMISSION_DENIED"),
        (admin, 400, "INVALID_REQUEST"),
    ):
        response = await http_client.post(
            INIT, content=b"[1, 2", headers={**auth(user), "Content-Type": "application/json"}
        )
        assert_error(response, status, error_code)


async def test_a_bad_query_parameter_from_a_stranger_is_401(
    http_client: httpx.AsyncClient,
) -> None:
    response = await http_client.get("/api/external/projects/p/tasks?page_size=many")
    assert_error(response, 401, "INVALID_TOKEN")


async def test_a_declared_huge_json_body_is_refused_before_it_is_sent(
    connection: RawConnection,
) -> None:
    await connection.send_head(
        "POST", INIT, {"Content-Type": "application/json", "Content-Length": str(HUGE)}
    )
    await connection.send(b'{"name": "' + b"x" * (128 * 1024))
    response = await connection.read_response()
    assert response.status == 401
    assert response.json()["error_code"] == "INVALID_TOKEN"
    # Nobody wants the rest of that body: the connection is closed, not drained.
    assert await connection.closed_by_peer(timeout=10)


async def test_a_chunked_json_body_is_refused_after_the_first_64_kib(
    connection: RawConnection,
) -> None:
    await connection.send_head(
        "POST", INIT, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    )
    piece = b"x" * (32 * 1024)
    for _ in range(4):  # 128 KiB: past the prefix anyone may send, far below any limit
        await connection.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
    response = await connection.read_response()
    assert response.status == 401
    assert response.json()["error_code"] == "INVALID_TOKEN"


async def test_a_body_over_the_limit_from_a_stranger_is_401_not_413(
    connection: RawConnection,
) -> None:
    await connection.send_head(
        "POST", INIT, {"Content-Type": "application/json", "Content-Length": str(2**40)}
    )
    response = await connection.read_response()
    assert response.status == 401


@pytest.mark.parametrize("token", [None, "Bearer not-a-token"])
async def test_a_huge_upload_from_a_stranger_is_refused_before_it_is_spooled(
    connection: RawConnection, gateway: RunningGateway, token: str | None
) -> None:
    headers = {
        "Content-Type": "multipart/form-data; boundary=b0undary",
        "Content-Length": str(HUGE),
    }
    if token:
        headers["Authorization"] = token
    await connection.send_head("POST", IMPORT, headers)
    await connection.send(
        b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="p.json"\r\n\r\n'
        + b" " * (64 * 1024)
    )
    response = await connection.read_response()
    assert response.status == 401
    assert response.json()["error_code"] == "INVALID_TOKEN"


async def test_an_upload_from_an_annotator_is_403(
    http_client: httpx.AsyncClient, annotator: TestUser
) -> None:
    response = await http_client.post(
        IMPORT, files={"file": ("p.json", b"{" * 200_000)}, headers=auth(annotator)
    )
    assert_error(response, 403, "PERMISSION_DENIED")


@pytest.mark.parametrize("length", [4097, 8 * 1024, 9000, 12 * 1024, 16 * 1024])
async def test_an_over_long_token_is_invalid_token(
    http_client: httpx.AsyncClient, length: int
) -> None:
    header = {"Authorization": "Bearer " + "a" * (length - len("Bearer "))}
    for _ in range(3):  # gRPC's refusal of large metadata was random
        assert_error(
            await http_client.get("/api/external/projects/p/progress", headers=header),
            401,
            "INVALID_TOKEN",
        )
        assert_error(
            await http_client.post(INIT, json={"name": "x"}, headers=header), 401, "INVALID_TOKEN"
        )
