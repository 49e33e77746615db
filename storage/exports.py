"""Export rows: created running, then completed or failed together with their
callback outbox row and audit entry, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import orjson
from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.database import Database
from storage.models import AuditLog, CallbackDelivery, Export
from storage.types import utcnow

_exports = cast(Table, Export.__table__)
_deliveries = cast(Table, CallbackDelivery.__table__)
_audit = cast(Table, AuditLog.__table__)


@dataclass(frozen=True, slots=True)
class ExportRecord:
    """One export and the delivery state of its callback."""

    export_id: str
    project_id: str
    format: str
    completed_only: bool
    status: str
    file_name: str
    storage_path: str | None
    content_type: str
    file_size: int
    total_exported: int
    error_message: str | None
    callback_url: str | None
    created_by: str
    created_at: datetime
    expires_at: datetime
    callback_status: str | None
    callback_attempts: int


@dataclass(frozen=True, slots=True)
class NewExport:
    """What is known about an export when it starts."""

    export_id: str
    project_id: str
    format: str
    completed_only: bool
    file_name: str
    storage_path: str
    content_type: str
    callback_url: str | None
    created_by: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ExportOutcome:
    """How an export ended, written in one transaction with its side effects."""

    export_id: str
    status: str  # "completed" or "failed"
    file_size: int
    total_exported: int
    error_message: str | None
    # the exact callback body to sign and send, or None without a callback_url.
    callback_payload: bytes | None
    callback_url: str | None
    actor_id: str
    project_id: str
    audit_detail: dict[str, Any]


async def insert_running_export(db: Database, new: NewExport) -> None:
    """Record an export that is being written."""
    async with db.transaction() as conn:
        await conn.execute(
            insert(_exports).values(
                id=new.export_id,
                project_id=new.project_id,
                format=new.format,
                completed_only=new.completed_only,
                status="running",
                file_name=new.file_name,
                storage_path=new.storage_path,
                content_type=new.content_type,
                file_size=0,
                total_exported=0,
                error_message=None,
                callback_url=new.callback_url,
                created_by=new.created_by,
                created_at=new.created_at,
                expires_at=new.expires_at,
            )
        )


async def finish_export(db: Database, outcome: ExportOutcome) -> ExportRecord:
    """Complete or fail an export; its callback and audit entry commit with it."""
    now = utcnow()
    async with db.transaction() as conn:
        await conn.execute(
            update(_exports)
            .where(_exports.c.id == outcome.export_id)
            .values(
                status=outcome.status,
                file_size=outcome.file_size,
                total_exported=outcome.total_exported,
                error_message=outcome.error_message,
                storage_path=None if outcome.status == "failed" else _exports.c.storage_path,
            )
        )
        if outcome.callback_payload is not None and outcome.callback_url:
            await conn.execute(
                insert(_deliveries).values(
                    export_id=outcome.export_id,
                    url=outcome.callback_url,
                    payload=outcome.callback_payload.decode("utf-8"),
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    locked_until=None,
                    last_error=None,
                    created_at=now,
                    delivered_at=None,
                )
            )
        await conn.execute(
            insert(_audit).values(
                actor_id=outcome.actor_id,
                action="exports.create",
                project_id=outcome.project_id,
                detail_json=orjson.dumps(outcome.audit_detail).decode("utf-8"),
                created_at=now,
            )
        )
        record = await _select_export(conn, outcome.export_id)
    assert record is not None  # written above, in this transaction
    return record


async def delete_export(db: Database, export_id: str) -> None:
    """Forget an export that was refused before it produced anything."""
    async with db.transaction() as conn:
        await conn.execute(delete(_exports).where(_exports.c.id == export_id))


async def get_export(db: Database, export_id: str) -> ExportRecord | None:
    async with db.read() as conn:
        return await _select_export(conn, export_id)


async def list_expired_exports(db: Database, *, now: datetime, limit: int) -> list[ExportRecord]:
    """Completed exports whose download period is over, oldest first."""
    async with db.read() as conn:
        rows = await conn.execute(
            _export_query()
            .where(_exports.c.status == "completed", _exports.c.expires_at <= now)
            .order_by(_exports.c.expires_at)
            .limit(limit)
        )
        return [_to_record(row) for row in rows]


async def mark_export_expired(db: Database, export_id: str) -> bool:
    """Mark a completed export expired; False when another process did it first."""
    async with db.transaction() as conn:
        result = await conn.execute(
            update(_exports)
            .where(_exports.c.id == export_id, _exports.c.status == "completed")
            .values(status="expired", storage_path=None)
        )
        return bool(result.rowcount)


def _export_query() -> Any:
    return select(
        _exports,
        _deliveries.c.status.label("callback_status"),
        _deliveries.c.attempts.label("callback_attempts"),
    ).outerjoin(_deliveries, _deliveries.c.export_id == _exports.c.id)


async def _select_export(conn: AsyncConnection, export_id: str) -> ExportRecord | None:
    row = (await conn.execute(_export_query().where(_exports.c.id == export_id))).first()
    return _to_record(row) if row is not None else None


def _to_record(row: Row[Any]) -> ExportRecord:
    return ExportRecord(
        export_id=row.id,
        project_id=row.project_id,
        format=row.format,
        completed_only=row.completed_only,
        status=row.status,
        file_name=row.file_name,
        storage_path=row.storage_path,
        content_type=row.content_type,
        file_size=row.file_size,
        total_exported=row.total_exported,
        error_message=row.error_message,
        callback_url=row.callback_url,
        created_by=row.created_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
        callback_status=row.callback_status,
        callback_attempts=row.callback_attempts or 0,
    )
