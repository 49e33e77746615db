"""A keyed request cancelled at any moment leaves no key claimed with nobody running it.

The client's deadline sweeps from 1 ms upward, so that the cancel lands before the
claim, inside the claim's transaction, as it commits, while the work runs and after.
Whatever the moment, once nothing runs under a key any more it is either gone or
completed, and a retry with the same key gets the project (never 409).
"""

from __future__ import annotations

import asyncio

import grpc
from annotation.v1.project_service_pb2_grpc import ProjectServiceStub
from sqlalchemy import select

from storage.database import Database
from storage.models import IdempotencyKey, Project
from tests.helpers import TestUser
from tests.server.test_idempotency import count_rows, init_request, keyed

# 1 ms to 40 ms in steps of 0.5 ms
DEADLINES = [0.001 + step * 0.0005 for step in range(79)]
# how long the keys may take to settle once their clients have gone (a bound, not a pace)
SETTLE_POLLS = 1500


async def running_keys(database: Database) -> list[str]:
    async with database.read() as conn:
        rows = await conn.execute(
            select(IdempotencyKey.key).where(IdempotencyKey.status == "running")
        )
        return [row.key for row in rows]


async def wait_until_settled(database: Database) -> list[str]:
    """The keys still running once the work under them has had every chance to end."""
    for _ in range(SETTLE_POLLS):
        if not (left := await running_keys(database)):
            return []
        await asyncio.sleep(0.02)
    return left


async def test_a_cancel_at_any_moment_leaves_no_orphaned_key(
    project_stub: ProjectServiceStub, admin: TestUser, database: Database
) -> None:
    outcomes: dict[str, grpc.StatusCode] = {}
    for index, deadline in enumerate(DEADLINES):
        key = f"sweep-{index}"
        try:
            await project_stub.InitProject(
                init_request(name=key), metadata=keyed(admin, key), timeout=deadline
            )
            outcomes[key] = grpc.StatusCode.OK
        except grpc.aio.AioRpcError as exc:
            outcomes[key] = exc.code()
    assert set(outcomes.values()) <= {grpc.StatusCode.OK, grpc.StatusCode.DEADLINE_EXCEEDED}

    assert await wait_until_settled(database) == []

    for index in range(len(DEADLINES)):
        key = f"sweep-{index}"
        response = await project_stub.InitProject(
            init_request(name=key), metadata=keyed(admin, key)
        )
        assert response.project_name == key
    # one project per key, whether the first call or the retry made it
    assert await count_rows(database, Project) == len(DEADLINES)
