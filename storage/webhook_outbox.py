"""The webhook event outbox, each statement in the caller's transaction.

An event becomes one delivery row per webhook that wants it, written by one
INSERT … SELECT in the transaction that made the change: with no webhook
registered it inserts nothing and, on SQLite, rides along with the
transaction's next trip (DEFERRED_WRITE), so a writer pays next to nothing.

Order per project: an event's `sequence` is one more than the project's last.
Every writer that emits holds the project's row lock (or created the project),
so the events of a project are numbered in commit order. A worker claims a
delivery only when no earlier delivery of the same webhook and project is still
pending (see `claim_due_webhook_deliveries`), so a later event never overtakes
an earlier one that is being retried. Claims are leases, as for export callbacks
(storage.callbacks).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import (
    Boolean,
    String,
    Table,
    Text,
    bindparam,
    case,
    exists,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from annotation_api.states import CallbackStatus
from storage.models import WebhookDelivery
from storage.sqlite_cursor import DEFERRED_WRITE
from storage.types import UTCDateTime
from storage.webhooks import webhooks

deliveries = cast(Table, WebhookDelivery.__table__)

MAX_ERROR_CHARS = 2000


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """One event's delivery to one webhook, as stored."""

    delivery_id: int
    event_id: str
    webhook_id: str
    project_id: str
    sequence: int
    action: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    last_attempt_at: datetime | None
    delivered_at: datetime | None


@dataclass(frozen=True, slots=True)
class ClaimedWebhookDelivery:
    """A delivery this worker holds until `locked_until`, with what it needs to send it."""

    delivery_id: int
    event_id: str
    webhook_id: str
    project_id: str
    sequence: int
    action: str
    payload: str
    attempts: int
    created_at: datetime
    url: str
    headers_json: str


# One INSERT … SELECT: a delivery per active webhook that wants the event. Written as
# text: the writers run it on every change, and a Core statement this size costs about
# 90 µs of cache-key building per execution, more than the statement itself. The LIKE
# pattern is an expression, not a bare parameter: SQLite re-prepares a statement whose
# LIKE takes a bare parameter at every execution (about 10 times the statement's cost).
# Users are looked up per candidate webhook (EXISTS), never scanned.
_EMIT = (
    text(
        """
INSERT INTO webhook_deliveries (event_id, webhook_id, project_id, sequence, action, payload,
    status, attempts, next_attempt_at, created_at)
SELECT :event_id, webhooks.id, :project_id,
    (SELECT COALESCE(MAX(sequence), 0) + 1 FROM webhook_deliveries
        WHERE webhook_deliveries.project_id = :project_id),
    :action, :payload, :status, 0, :now, :now
FROM webhooks
WHERE webhooks.is_active = :active
    AND (webhooks.project_id = :project_id
        OR (webhooks.project_id IS NULL
            AND (webhooks.user_id = (SELECT owner_id FROM projects WHERE id = :project_id)
                OR EXISTS (SELECT 1 FROM users
                    WHERE users.id = webhooks.user_id AND users.role = :role))))
    AND (webhooks.events = ''
        OR webhooks.events LIKE '%,' || :action_pattern || ',%' ESCAPE '\\')
"""
    )
    .bindparams(
        bindparam("event_id", type_=String()),
        bindparam("project_id", type_=String()),
        bindparam("action", type_=String()),
        bindparam("payload", type_=Text()),
        bindparam("status", type_=String()),
        bindparam("now", type_=UTCDateTime()),
        bindparam("active", type_=Boolean()),
        bindparam("role", type_=String()),
        bindparam("action_pattern", type_=String()),
    )
    .execution_options(**DEFERRED_WRITE)
)


async def insert_event(
    conn: AsyncConnection,
    *,
    event_id: str,
    project_id: str,
    action: str,
    payload: str,
    status: CallbackStatus,
    all_projects_role: str,
    now: datetime,
) -> None:
    """Queue the event for every active webhook of the project that wants `action`
    (a webhook without a project serves its owner's projects, or every project when its
    owner's role is `all_projects_role`)."""
    await conn.execute(
        _EMIT,
        {
            "event_id": event_id,
            "project_id": project_id,
            "action": str(action),
            "payload": payload,
            "status": str(status),
            "now": now,
            "active": True,
            "role": str(all_projects_role),
            # "_" is LIKE's any-character: matched as itself
            "action_pattern": action.replace("_", "\\_"),
        },
    )


async def claim_due_webhook_deliveries(
    conn: AsyncConnection,
    *,
    status: CallbackStatus,
    now: datetime,
    lease_until: datetime,
    limit: int,
) -> list[ClaimedWebhookDelivery]:
    """Take up to `limit` due deliveries of active webhooks that nobody holds and that
    no earlier pending delivery of the same webhook and project precedes."""
    earlier = deliveries.alias("earlier")
    free = or_(deliveries.c.locked_until.is_(None), deliveries.c.locked_until <= now)
    first_in_line = ~exists().where(
        earlier.c.webhook_id == deliveries.c.webhook_id,
        earlier.c.project_id == deliveries.c.project_id,
        earlier.c.sequence < deliveries.c.sequence,
        earlier.c.status == status,
    )
    due = (deliveries.c.status == status, deliveries.c.next_attempt_at <= now, free)
    query = (
        select(
            deliveries.c.id,
            deliveries.c.event_id,
            deliveries.c.webhook_id,
            deliveries.c.project_id,
            deliveries.c.sequence,
            deliveries.c.action,
            deliveries.c.payload,
            deliveries.c.attempts,
            deliveries.c.created_at,
            webhooks.c.url,
            webhooks.c.headers_json,
        )
        .join(webhooks, webhooks.c.id == deliveries.c.webhook_id)
        .where(*due, webhooks.c.is_active.is_(True), first_in_line)
        .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
        .limit(limit)
    )
    if conn.dialect.name != "sqlite":
        query = query.with_for_update(skip_locked=True, of=deliveries)
    claimed: list[ClaimedWebhookDelivery] = []
    for row in (await conn.execute(query)).all():
        result = await conn.execute(
            update(deliveries)
            .where(deliveries.c.id == row.id, *due)
            .values(locked_until=lease_until)
        )
        if result.rowcount:
            claimed.append(
                ClaimedWebhookDelivery(
                    delivery_id=row.id,
                    event_id=row.event_id,
                    webhook_id=row.webhook_id,
                    project_id=row.project_id,
                    sequence=row.sequence,
                    action=row.action,
                    payload=row.payload,
                    attempts=row.attempts,
                    created_at=row.created_at,
                    url=row.url,
                    headers_json=row.headers_json,
                )
            )
    return claimed


async def record_webhook_attempt(
    conn: AsyncConnection,
    *,
    delivery: ClaimedWebhookDelivery,
    status: CallbackStatus,
    status_code: int | None,
    error: str | None,
    now: datetime,
    next_attempt_at: datetime | None,
    disable_after: int,
    disabled_reason: str,
) -> None:
    """Count one attempt and release the claim; a delivered attempt clears the webhook's
    failures, a failed one counts one more and disables the webhook at `disable_after`."""
    values: dict[str, object] = {
        "status": status,
        "attempts": deliveries.c.attempts + 1,
        "locked_until": None,
        "last_error": error[:MAX_ERROR_CHARS] if error else None,
        "last_status_code": status_code,
        "last_attempt_at": now,
    }
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    if error is None:
        values["delivered_at"] = now
    await conn.execute(
        update(deliveries).where(deliveries.c.id == delivery.delivery_id).values(**values)
    )
    if error is None:
        changes: dict[str, object] = {"consecutive_failures": 0}
    else:
        failures = webhooks.c.consecutive_failures + 1
        limit_reached = failures >= disable_after
        changes = {
            "consecutive_failures": failures,
            "is_active": case((limit_reached, False), else_=webhooks.c.is_active),
            "disabled_reason": case(
                (limit_reached, disabled_reason), else_=webhooks.c.disabled_reason
            ),
        }
    await conn.execute(
        update(webhooks).where(webhooks.c.id == delivery.webhook_id).values(**changes)
    )


async def list_deliveries(
    conn: AsyncConnection, webhook_id: str, *, limit: int
) -> list[DeliveryRecord]:
    """The webhook's last `limit` deliveries, newest first."""
    rows = (
        await conn.execute(
            select(deliveries)
            .where(deliveries.c.webhook_id == webhook_id)
            .order_by(deliveries.c.id.desc())
            .limit(limit)
        )
    ).all()
    return [
        DeliveryRecord(
            delivery_id=r.id,
            event_id=r.event_id,
            webhook_id=r.webhook_id,
            project_id=r.project_id,
            sequence=r.sequence,
            action=r.action,
            status=r.status,
            attempts=r.attempts,
            last_status_code=r.last_status_code,
            last_error=r.last_error,
            created_at=r.created_at,
            last_attempt_at=r.last_attempt_at,
            delivered_at=r.delivered_at,
        )
        for r in rows
    ]
