"""Registering webhooks: create, list, read, change, delete, and their deliveries.

Administrators only (server.access); a webhook is its creator's alone, and may
name only a project its creator sees.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from annotation_api.settings import Settings
from server.access import check_webhook, get_visible_project, require_admin
from server.auth import Caller
from server.request_rules import invalid
from server.webhooks.rules import check_events, check_headers, check_url
from storage.database import Database
from storage.ids import new_webhook_id
from storage.types import utcnow
from storage.webhook_outbox import DeliveryRecord, list_deliveries
from storage.webhooks import (
    WebhookRecord,
    delete_webhook,
    get_webhook,
    insert_webhook,
    list_webhooks,
    update_webhook,
)

DEFAULT_DELIVERIES = 50
MAX_DELIVERIES = 500


@dataclass(frozen=True, slots=True)
class WebhookChange:
    """The fields an update gives; None leaves a field as it is."""

    url: str | None = None
    events: Sequence[str] | None = None
    headers: Mapping[str, str] | None = None
    is_active: bool | None = None


class WebhookService:
    def __init__(self, settings: Settings, database: Database) -> None:
        self._settings = settings
        self._database = database

    async def create_webhook(
        self,
        caller: Caller,
        *,
        project_id: str,
        url: str,
        events: Sequence[str],
        headers: Mapping[str, str],
        is_active: bool,
    ) -> WebhookRecord:
        require_admin(caller)
        checked_url = check_url(self._settings, url)
        checked_events = check_events(events)
        headers_json = orjson.dumps(check_headers(headers)).decode("utf-8")
        webhook_id = new_webhook_id()
        async with self._database.transaction() as conn:
            if project_id:
                await get_visible_project(conn, caller, project_id)
            await insert_webhook(
                conn,
                webhook_id=webhook_id,
                user_id=caller.user_id,
                project_id=project_id or None,
                url=checked_url,
                events=checked_events,
                headers_json=headers_json,
                is_active=is_active,
                now=utcnow(),
            )
            return await self._own(conn, caller, webhook_id)

    async def list_webhooks(self, caller: Caller, *, project_id: str) -> list[WebhookRecord]:
        require_admin(caller)
        async with self._database.read() as conn:
            if project_id:
                await get_visible_project(conn, caller, project_id)
            return await list_webhooks(conn, user_id=caller.user_id, project_id=project_id or None)

    async def get_webhook(self, caller: Caller, webhook_id: str) -> WebhookRecord:
        async with self._database.read() as conn:
            return await self._own(conn, caller, webhook_id)

    async def update_webhook(
        self, caller: Caller, webhook_id: str, change: WebhookChange
    ) -> WebhookRecord:
        url = check_url(self._settings, change.url) if change.url is not None else None
        events = check_events(change.events) if change.events is not None else None
        headers_json = (
            orjson.dumps(check_headers(change.headers)).decode("utf-8")
            if change.headers is not None
            else None
        )
        async with self._database.transaction() as conn:
            await self._own(conn, caller, webhook_id)
            await update_webhook(
                conn,
                webhook_id,
                now=utcnow(),
                url=url,
                events=events,
                headers_json=headers_json,
                is_active=change.is_active,
            )
            return await self._own(conn, caller, webhook_id)

    async def delete_webhook(self, caller: Caller, webhook_id: str) -> None:
        async with self._database.transaction() as conn:
            await self._own(conn, caller, webhook_id)
            await delete_webhook(conn, webhook_id)

    async def list_deliveries(
        self, caller: Caller, webhook_id: str, *, page_size: int
    ) -> list[DeliveryRecord]:
        if page_size > MAX_DELIVERIES:
            raise invalid(
                "page_size", f"page_size is at most {MAX_DELIVERIES}", maximum=MAX_DELIVERIES
            )
        async with self._database.read() as conn:
            await self._own(conn, caller, webhook_id)
            return await list_deliveries(conn, webhook_id, limit=page_size or DEFAULT_DELIVERIES)

    @staticmethod
    async def _own(conn: AsyncConnection, caller: Caller, webhook_id: str) -> WebhookRecord:
        """The webhook if the caller registered it; WEBHOOK_NOT_FOUND otherwise."""
        require_admin(caller)
        record = await get_webhook(conn, webhook_id) if webhook_id else None
        check_webhook(caller, webhook_id, record.user_id if record else None)
        assert record is not None
        return record
