"""A client without a token cannot hold the gateway by trickling a body, nor one address
take every place.

The body read before the access check (the first 64 KiB) must arrive within the body
timeout in all: sending one byte per interval no longer restarts the wait. And one
client address may hold at most `http_max_concurrency_per_client` connections, so
another client still gets in while it trickles on all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from annotation_api.settings import Settings
from gateway.serve import RunningGateway, start_gateway
from server.app import RunningServer
from tests.gateway.raw_http import RawConnection, RawResponse
from tests.gateway.support import INIT, auth, with_settings
from tests.helpers import TestUser

BODY_TIMEOUT = 1.0
# a byte sent each interval, far more often than the per-piece timeout
TRICKLE_INTERVAL = BODY_TIMEOUT / 5
# bytes a trickle may send before its answer: 20 times what the deadline allows
MAX_TRICKLED_BYTES = 100
ATTACKER = "127.0.0.2"  # another loopback address: another client


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


async def open_from(address: str, port: int) -> RawConnection:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(address, 0))
    return RawConnection(reader, writer)


async def start_trickle(connection: RawConnection) -> None:
    await connection.send_head(
        "POST", INIT, {"Content-Type": "application/json", "Content-Length": "60000"}
    )
    await connection.send(b"{")


async def trickle_until_answered(connection: RawConnection) -> tuple[RawResponse | None, int]:
    """Send a byte each interval until the gateway answers; (the answer, bytes sent)."""
    sent = 0
    reading = asyncio.ensure_future(connection.read_response(timeout=60))
    try:
        while sent < MAX_TRICKLED_BYTES:
            done, _ = await asyncio.wait({reading}, timeout=TRICKLE_INTERVAL)
            if done:
                return reading.result(), sent
            with contextlib.suppress(ConnectionError):
                await connection.send(b" ")
            sent += 1
        return None, sent
    finally:
        reading.cancel()
        connection.close()


async def test_a_body_trickled_without_a_token_is_cut_off_at_the_deadline(
    settings: Settings, grpc_server: RunningServer
) -> None:
    async with gateway_with(settings, grpc_server, http_body_timeout_seconds=BODY_TIMEOUT) as gw:
        connection = await RawConnection.open(gw.port)
        await start_trickle(connection)
        response, sent = await trickle_until_answered(connection)

    assert response is not None, f"still reading after {sent} bytes, one per interval"
    # the gateway's own refusal (408) reaches a caller without a token as 401
    assert response.status == 401
    assert response.json()["error_code"] == "INVALID_TOKEN"
    assert response.headers["connection"] == "close"


async def test_one_address_cannot_take_every_place(
    settings: Settings, grpc_server: RunningServer, admin: TestUser
) -> None:
    limits = {
        "http_max_concurrency": 20,
        "http_max_concurrency_per_client": 5,
        "http_body_timeout_seconds": 300.0,  # the trickles last the whole test
    }
    async with gateway_with(settings, grpc_server, **limits) as gw:
        trickles = [await open_from(ATTACKER, gw.port) for _ in range(20)]
        try:
            # the sixth and later are answered 503 and closed as they connect
            for connection in trickles[5:]:
                answer = await connection.read_response(timeout=30)
                assert answer.status == 503, answer.body
                assert answer.json()["error_code"] == "SERVICE_UNAVAILABLE"
                assert await connection.closed_by_peer(timeout=30)
            for connection in trickles[:5]:
                await start_trickle(connection)

            async with httpx.AsyncClient(base_url=gw.url, timeout=30) as client:
                response = await client.get(
                    "/api/external/projects", headers=auth(admin), params={"page_size": 1}
                )
            assert response.status_code == 200, response.text
        finally:
            for connection in trickles:
                connection.close()
