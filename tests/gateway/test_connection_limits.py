"""Slow and idle clients are cut off, and the number served at once is capped.

Each test runs a gateway with small limits and a raw socket client that
misbehaves in one way, and is bounded by those limits (never by the test's
own timeout).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from annotation_api.settings import Settings
from gateway.serve import RunningGateway, start_gateway
from server.app import RunningServer
from tests.gateway.raw_http import RawConnection
from tests.gateway.support import INIT, with_settings
from tests.helpers import WAIT_SECONDS, TestUser, wait_until

HEADER_TIMEOUT = 0.5
HEADERS_LATE = "closing a connection whose request headers did not arrive in time"
BODY_TIMEOUT = 0.5
KEEP_ALIVE = 1
CONCURRENCY = 2


@asynccontextmanager
async def gateway_with(
    settings: Settings, grpc_server: RunningServer, **limits: float
) -> AsyncIterator[RunningGateway]:
    strict = with_settings(settings, grpc_target=f"127.0.0.1:{grpc_server.port}", **limits)
    running = await start_gateway(strict)
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def strict_gateway(
    settings: Settings, grpc_server: RunningServer
) -> AsyncIterator[RunningGateway]:
    async with gateway_with(
        settings,
        grpc_server,
        http_header_timeout_seconds=HEADER_TIMEOUT,
        http_body_timeout_seconds=BODY_TIMEOUT,
        http_keep_alive_seconds=KEEP_ALIVE,
    ) as running:
        yield running


async def test_headers_sent_a_byte_at_a_time_are_cut_off(
    strict_gateway: RunningGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gateway.connections")
    connection = await RawConnection.open(strict_gateway.port)
    await connection.send(b"GET /healthz HTTP/1.1\r\nHost: gateway\r\n")

    async def trickle() -> None:
        """A byte each fifth of the deadline, for as long as the connection is open: a
        deadline renewed by each byte would never close it."""
        try:
            while True:
                await connection.send(b"X")
                await asyncio.sleep(HEADER_TIMEOUT / 5)  # the pace of the slow client
        except ConnectionError:
            pass

    trickling = asyncio.create_task(trickle())
    try:
        assert await connection.closed_by_peer(timeout=WAIT_SECONDS)
    finally:
        trickling.cancel()
        connection.close()
    assert HEADERS_LATE in caplog.messages  # closed by the header deadline, not another limit


async def test_a_connection_that_sends_nothing_is_closed(
    strict_gateway: RunningGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gateway.connections")
    connection = await RawConnection.open(strict_gateway.port)
    try:
        assert await connection.closed_by_peer(timeout=WAIT_SECONDS)
    finally:
        connection.close()
    assert HEADERS_LATE in caplog.messages


async def test_an_idle_keep_alive_connection_is_closed(strict_gateway: RunningGateway) -> None:
    connection = await RawConnection.open(strict_gateway.port)
    try:
        await connection.send_head("GET", "/healthz", {})
        assert (await connection.read_response()).status == 200
        await connection.send_head("GET", "/healthz", {})  # still open: keep-alive works
        assert (await connection.read_response()).status == 200
        assert await connection.closed_by_peer(timeout=WAIT_SECONDS)
    finally:
        connection.close()


async def test_a_body_that_stalls_gets_408_and_the_connection_closes(
    strict_gateway: RunningGateway, admin: TestUser
) -> None:
    connection = await RawConnection.open(strict_gateway.port)
    try:
        await connection.send_head(
            "POST",
            INIT,
            {
                "Authorization": f"Bearer {admin.token}",
                "Content-Type": "application/json",
                "Content-Length": "1000",
            },
        )
        await connection.send(b'{"name": ')
        response = await connection.read_response()
        assert response.status == 408
        assert response.json()["error_code"] == "REQUEST_TIMEOUT"
        assert await connection.closed_by_peer(timeout=WAIT_SECONDS)
    finally:
        connection.close()


async def test_requests_over_the_concurrency_cap_get_503(
    settings: Settings, grpc_server: RunningServer, admin: TestUser
) -> None:
    async with gateway_with(settings, grpc_server, http_max_concurrency=CONCURRENCY) as capped:
        await _over_the_cap(capped, admin)


async def _over_the_cap(strict_gateway: RunningGateway, admin: TestUser) -> None:
    state = strict_gateway.server.server_state  # uvicorn's open connections and requests
    busy = [await RawConnection.open(strict_gateway.port) for _ in range(CONCURRENCY)]
    try:
        for connection in busy:  # each request waits for its body
            await connection.send_head(
                "POST",
                INIT,
                {"Authorization": f"Bearer {admin.token}", "Content-Length": "100"},
            )
        await wait_until(lambda: len(state.tasks) == CONCURRENCY, what="the requests served")
        extra = await RawConnection.open(strict_gateway.port)
        try:
            await extra.send_head("GET", "/healthz", {})
            response = await extra.read_response()
            assert response.status == 503
            assert response.json()["error_code"] == "SERVICE_UNAVAILABLE"
        finally:
            extra.close()
    finally:
        for connection in busy:
            connection.close()
    await wait_until(lambda: not (state.tasks or state.connections), what="all closed")
    again = await RawConnection.open(strict_gateway.port)
    try:
        await again.send_head("GET", "/healthz", {})
        assert (await again.read_response()).status == 200
    finally:
        again.close()
