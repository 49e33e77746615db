"""The callback outbox: queueing, claiming due deliveries and recording attempts,
each statement in the caller's transaction.

Several server processes may drain the same outbox. A worker claims a row by
setting `locked_until` (a lease): nobody else takes it before the lease ends,
and if the worker dies the row becomes due again when the lease runs out. On
PostgreSQL the candidates are read with FOR UPDATE SKIP LOCKED so concurrent
claimers skip each other's rows instead of waiting; on SQLite the write lock
(BEGIN IMMEDIATE, taken by `Database.transaction()`) already serialises
claimers, and the conditional UPDATE below makes the claim safe on both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from annotation_api.states import CallbackStatus
from storage.models import CallbackDelivery

_deliveries = cast(Table, CallbackDelivery.__table__)

MAX_ERROR_CHARS = 2000


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A delivery this worker holds until `locked_until`."""

    delivery_id: int
    export_id: str
    url: str
    payload: bytes
    attempts: int
    locked_until: datetime


async def insert_delivery(
    conn: AsyncConnection,
    *,
    export_id: str,
    url: str,
    payload: bytes,
    status: CallbackStatus,
    due_at: datetime,
) -> None:
    """Queue the exact body to sign and send to `url`, first due at `due_at`."""
    await conn.execute(
        insert(_deliveries).values(
            export_id=export_id,
            url=url,
            payload=payload.decode("utf-8"),
            status=status,
            attempts=0,
            next_attempt_at=due_at,
            locked_until=None,
            last_error=None,
            created_at=due_at,
            delivered_at=None,
        )
    )


async def claim_due_deliveries(
    conn: AsyncConnection,
    *,
    status: CallbackStatus,
    now: datetime,
    lease_until: datetime,
    limit: int,
) -> list[ClaimedDelivery]:
    """Take up to `limit` deliveries in `status` whose time has come and nobody holds."""
    free = or_(_deliveries.c.locked_until.is_(None), _deliveries.c.locked_until <= now)
    due = (_deliveries.c.status == status, _deliveries.c.next_attempt_at <= now, free)
    query = (
        select(
            _deliveries.c.id,
            _deliveries.c.export_id,
            _deliveries.c.url,
            _deliveries.c.payload,
            _deliveries.c.attempts,
        )
        .where(*due)
        .order_by(_deliveries.c.next_attempt_at, _deliveries.c.id)
        .limit(limit)
    )
    if conn.dialect.name != "sqlite":
        query = query.with_for_update(skip_locked=True)
    candidates = (await conn.execute(query)).all()
    claimed: list[ClaimedDelivery] = []
    for row in candidates:
        result = await conn.execute(
            update(_deliveries)
            .where(_deliveries.c.id == row.id, *due)
            .values(locked_until=lease_until)
        )
        if result.rowcount:
            claimed.append(
                ClaimedDelivery(
                    delivery_id=row.id,
                    export_id=row.export_id,
                    url=row.url,
                    payload=row.payload.encode("utf-8"),
                    attempts=row.attempts,
                    locked_until=lease_until,
                )
            )
    return claimed


async def record_delivery_attempt(
    conn: AsyncConnection,
    *,
    delivery_id: int,
    status: CallbackStatus,
    error: str | None,
    next_attempt_at: datetime | None = None,
    delivered_at: datetime | None = None,
) -> None:
    """Count one attempt, release the claim and set the status the server decided."""
    values: dict[str, object] = {
        "status": status,
        "attempts": _deliveries.c.attempts + 1,
        "locked_until": None,
        "last_error": error[:MAX_ERROR_CHARS] if error else None,
    }
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    if delivered_at is not None:
        values["delivered_at"] = delivered_at
    await conn.execute(update(_deliveries).where(_deliveries.c.id == delivery_id).values(**values))
