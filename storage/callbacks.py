"""The callback outbox: claiming due deliveries and recording their outcome.

Several server processes may drain the same outbox. A worker claims a row by
setting `locked_until` (a lease): nobody else takes it before the lease ends,
and if the worker dies the row becomes due again when the lease runs out. On
PostgreSQL the candidates are read with FOR UPDATE SKIP LOCKED so concurrent
claimers skip each other's rows instead of waiting; on SQLite the write lock
(BEGIN IMMEDIATE) already serialises claimers, and the conditional UPDATE
below makes the claim safe on both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, or_, select, update

from storage.database import Database
from storage.models import CallbackDelivery

_deliveries = cast(Table, CallbackDelivery.__table__)


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A delivery this worker holds until `locked_until`."""

    delivery_id: int
    export_id: str
    url: str
    payload: bytes
    attempts: int
    locked_until: datetime


async def claim_due_deliveries(
    db: Database, *, now: datetime, lease_until: datetime, limit: int
) -> list[ClaimedDelivery]:
    """Take up to `limit` pending deliveries whose time has come."""
    free = or_(_deliveries.c.locked_until.is_(None), _deliveries.c.locked_until <= now)
    due = (_deliveries.c.status == "pending", _deliveries.c.next_attempt_at <= now, free)
    async with db.transaction() as conn:
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
        if not db.is_sqlite:
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


async def record_delivered(db: Database, delivery: ClaimedDelivery, *, at: datetime) -> None:
    """The receiver accepted the callback."""
    async with db.transaction() as conn:
        await conn.execute(
            update(_deliveries)
            .where(_deliveries.c.id == delivery.delivery_id)
            .values(
                status="delivered",
                attempts=_deliveries.c.attempts + 1,
                delivered_at=at,
                locked_until=None,
                last_error=None,
            )
        )


async def record_attempt_failed(
    db: Database,
    delivery: ClaimedDelivery,
    *,
    error: str,
    retry_at: datetime | None,
) -> None:
    """An attempt failed: try again at `retry_at`, or give up when it is None."""
    values: dict[str, object] = {
        "attempts": _deliveries.c.attempts + 1,
        "locked_until": None,
        "last_error": error[:2000],
    }
    if retry_at is None:
        values["status"] = "failed"
    else:
        values["next_attempt_at"] = retry_at
    async with db.transaction() as conn:
        await conn.execute(
            update(_deliveries).where(_deliveries.c.id == delivery.delivery_id).values(**values)
        )


async def next_due_time(db: Database) -> datetime | None:
    """When the earliest pending delivery is due (for the worker's sleep)."""
    async with db.read() as conn:
        return (
            await conn.execute(
                select(_deliveries.c.next_attempt_at)
                .where(_deliveries.c.status == "pending")
                .order_by(_deliveries.c.next_attempt_at)
                .limit(1)
            )
        ).scalar()
