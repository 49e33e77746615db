"""The audit log: who did what to which project."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import orjson
from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import AuditLog
from storage.types import utcnow

audit_logs = cast(Table, AuditLog.__table__)


async def write_audit_log(
    conn: AsyncConnection,
    *,
    actor_id: str | None,
    action: str,
    project_id: str | None,
    detail: dict[str, Any],
    now: datetime | None = None,
) -> None:
    """Append one entry, in the caller's transaction (it commits or rolls back with the change)."""
    await conn.execute(
        insert(audit_logs).values(
            actor_id=actor_id,
            action=action,
            project_id=project_id,
            detail_json=orjson.dumps(detail).decode(),
            created_at=now or utcnow(),
        )
    )
