"""Webhooks as stored: registering, reading, changing and deleting them, each statement
in the caller's transaction. Their event outbox is storage.webhook_outbox."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import Webhook, WebhookDelivery

webhooks = cast(Table, Webhook.__table__)
_deliveries = cast(Table, WebhookDelivery.__table__)


@dataclass(frozen=True, slots=True)
class WebhookRecord:
    """A webhook as stored."""

    webhook_id: str
    user_id: str
    project_id: str | None
    url: str
    events: tuple[str, ...]
    headers_json: str
    is_active: bool
    disabled_reason: str | None
    consecutive_failures: int
    created_at: datetime
    updated_at: datetime


def encode_events(events: Sequence[str]) -> str:
    """The stored form of an event list: ",A,B," (matched with LIKE), "" for all events."""
    return "," + ",".join(dict.fromkeys(events)) + "," if events else ""


def _decode_events(stored: str) -> tuple[str, ...]:
    return tuple(e for e in stored.split(",") if e)


def _record(row: object) -> WebhookRecord:
    r = row._mapping  # type: ignore[attr-defined]
    return WebhookRecord(
        webhook_id=r["id"],
        user_id=r["user_id"],
        project_id=r["project_id"],
        url=r["url"],
        events=_decode_events(r["events"]),
        headers_json=r["headers_json"],
        is_active=bool(r["is_active"]),
        disabled_reason=r["disabled_reason"],
        consecutive_failures=r["consecutive_failures"],
        created_at=r["created_at"],
        updated_at=r["updated_at"],
    )


async def insert_webhook(
    conn: AsyncConnection,
    *,
    webhook_id: str,
    user_id: str,
    project_id: str | None,
    url: str,
    events: Sequence[str],
    headers_json: str,
    is_active: bool,
    now: datetime,
) -> None:
    await conn.execute(
        insert(webhooks).values(
            id=webhook_id,
            user_id=user_id,
            project_id=project_id,
            url=url,
            events=encode_events(events),
            headers_json=headers_json,
            is_active=is_active,
            disabled_reason=None,
            consecutive_failures=0,
            created_at=now,
            updated_at=now,
        )
    )


async def get_webhook(conn: AsyncConnection, webhook_id: str) -> WebhookRecord | None:
    row = (await conn.execute(select(webhooks).where(webhooks.c.id == webhook_id))).first()
    return _record(row) if row is not None else None


async def list_webhooks(
    conn: AsyncConnection, *, user_id: str, project_id: str | None
) -> list[WebhookRecord]:
    """The user's webhooks, oldest first; of one project only when project_id is given."""
    query = select(webhooks).where(webhooks.c.user_id == user_id)
    if project_id is not None:
        query = query.where(webhooks.c.project_id == project_id)
    rows = (await conn.execute(query.order_by(webhooks.c.created_at, webhooks.c.id))).all()
    return [_record(row) for row in rows]


async def update_webhook(
    conn: AsyncConnection,
    webhook_id: str,
    *,
    now: datetime,
    url: str | None = None,
    events: Sequence[str] | None = None,
    headers_json: str | None = None,
    is_active: bool | None = None,
) -> None:
    """Change the given fields. Activating a webhook clears its failures and their reason."""
    values: dict[str, object] = {"updated_at": now}
    if url is not None:
        values["url"] = url
    if events is not None:
        values["events"] = encode_events(events)
    if headers_json is not None:
        values["headers_json"] = headers_json
    if is_active is not None:
        values["is_active"] = is_active
        if is_active:
            values["consecutive_failures"] = 0
            values["disabled_reason"] = None
    await conn.execute(update(webhooks).where(webhooks.c.id == webhook_id).values(**values))


async def delete_webhook(conn: AsyncConnection, webhook_id: str) -> None:
    """Delete the webhook and its deliveries (pending ones are never sent)."""
    await conn.execute(delete(_deliveries).where(_deliveries.c.webhook_id == webhook_id))
    await conn.execute(delete(webhooks).where(webhooks.c.id == webhook_id))
