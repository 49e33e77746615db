"""A stream the server refuses at its first message is answered with the refusal, every time.

The gateway may still be writing the file when the server's answer arrives; a write
failing then used to replace the server's status with gRPC's own "Internal error from
Core" (about one request in a hundred answered 500). Counted, not timed: every one of
the requests below must be the documented 400.
"""

from __future__ import annotations

import asyncio

import httpx

from tests.gateway.support import auth
from tests.helpers import TestUser

REQUESTS = 200
PARALLEL = 4
FILE = b"[" + b'{"id": 1, "data": {"image": "https://img.example/a.jpg"}},' * 4000 + b"{}]"


async def test_an_import_refused_at_its_first_message_is_always_400(
    http_client: httpx.AsyncClient, admin: TestUser
) -> None:
    statuses: list[tuple[int, str]] = []

    async def post() -> None:
        response = await http_client.post(
            "/api/v1/projects/%11/annotations/import",
            params={"annotator_id": ""},
            files={"file": ("export.json", FILE, "application/json")},
            headers=auth(admin),
        )
        statuses.append((response.status_code, response.json()["error_code"]))

    async def worker(count: int) -> None:
        for _ in range(count):
            await post()

    await asyncio.gather(*(worker(REQUESTS // PARALLEL) for _ in range(PARALLEL)))
    assert len(statuses) == REQUESTS
    assert {status for status in statuses if status[0] != 400} == set()
    assert {code for _, code in statuses} == {"INVALID_REQUEST"}
