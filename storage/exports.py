"""Export rows: inserted `running` with a lease, then moved to the status the
server decides, each statement in the caller's transaction.

Every status change is conditional on the statuses it may come from (the
server passes them, from `server/exports/lifecycle.py`), so two processes that
race to change one export cannot both win.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import orjson
from sqlalchemy import ColumnElement, Table, delete, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from annotation_api.states import CallbackStatus, ExportStatus
from storage.export_records import ExportWarning
from storage.models import CallbackDelivery, Export

_exports = cast(Table, Export.__table__)
_deliveries = cast(Table, CallbackDelivery.__table__)


@dataclass(frozen=True, slots=True)
class ExportRecord:
    """One export and the delivery state of its callback."""

    export_id: str
    project_id: str
    format: str
    completed_only: bool
    status: ExportStatus
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
    callback_status: CallbackStatus | None
    callback_attempts: int
    # the tasks the file holds incompletely (see ExportOutcome.warnings).
    warnings: tuple[ExportWarning, ...] = ()
    # the filters and the answer asked for (docs/exports.md, docs/quality.md).
    accepted_only: bool = False
    ground_truth_only: bool = False
    consensus: bool = False


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
    # only tasks with an accepted answer; only ground-truth tasks; the merged answer.
    accepted_only: bool = False
    ground_truth_only: bool = False
    consensus: bool = False


@dataclass(frozen=True, slots=True)
class ExportLease:
    """Who writes an export, and until when the claim holds without renewal."""

    owner: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ExportOutcome:
    """The values an export ends with."""

    status: ExportStatus
    file_size: int
    total_exported: int
    error_message: str | None
    # None once the export has no file (failed, expired).
    storage_path: str | None
    # the tasks the file holds incompletely, as the export reports them.
    warnings: tuple[ExportWarning, ...] = ()


async def insert_export(
    conn: AsyncConnection, *, new: NewExport, status: ExportStatus, lease: ExportLease
) -> None:
    """Record an export that `lease.owner` is about to write."""
    await conn.execute(
        insert(_exports).values(
            id=new.export_id,
            project_id=new.project_id,
            format=new.format,
            completed_only=new.completed_only,
            accepted_only=new.accepted_only,
            ground_truth_only=new.ground_truth_only,
            consensus=new.consensus,
            status=status,
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
            lease_owner=lease.owner,
            lease_expires_at=lease.expires_at,
        )
    )


async def renew_export_lease(
    conn: AsyncConnection, *, export_id: str, status: ExportStatus, lease: ExportLease
) -> bool:
    """Extend the owner's lease; False when the export is no longer its own in `status`."""
    result = await conn.execute(
        update(_exports)
        .where(
            _exports.c.id == export_id,
            _exports.c.status == status,
            _exports.c.lease_owner == lease.owner,
        )
        .values(lease_expires_at=lease.expires_at)
    )
    return bool(result.rowcount)


async def set_export_outcome(
    conn: AsyncConnection,
    *,
    export_id: str,
    from_statuses: Collection[ExportStatus],
    outcome: ExportOutcome,
    lease_owner: str | None = None,
    lease_lapsed_at: datetime | None = None,
) -> bool:
    """Move an export to its outcome and release its lease.

    Applies only while the export is in one of `from_statuses` and, when given,
    still leased by `lease_owner` / with a lease that ran out by
    `lease_lapsed_at`; False when it did not apply.
    """
    conditions: list[ColumnElement[bool]] = [
        _exports.c.id == export_id,
        _exports.c.status.in_(list(from_statuses)),
    ]
    if lease_owner is not None:
        conditions.append(_exports.c.lease_owner == lease_owner)
    if lease_lapsed_at is not None:
        conditions.append(_exports.c.lease_expires_at <= lease_lapsed_at)
    result = await conn.execute(
        update(_exports)
        .where(*conditions)
        .values(
            status=outcome.status,
            file_size=outcome.file_size,
            total_exported=outcome.total_exported,
            error_message=outcome.error_message,
            storage_path=outcome.storage_path,
            warnings_json=_warnings_json(outcome.warnings),
            lease_owner=None,
            lease_expires_at=None,
        )
    )
    return bool(result.rowcount)


async def set_export_status(
    conn: AsyncConnection,
    *,
    export_id: str,
    from_statuses: Collection[ExportStatus],
    status: ExportStatus,
    storage_path: str | None,
) -> bool:
    """Change an export's status (and file); False when it was in no state of `from_statuses`."""
    result = await conn.execute(
        update(_exports)
        .where(_exports.c.id == export_id, _exports.c.status.in_(list(from_statuses)))
        .values(status=status, storage_path=storage_path)
    )
    return bool(result.rowcount)


async def delete_export(conn: AsyncConnection, *, export_id: str) -> None:
    """Forget an export (one refused before it produced anything)."""
    await conn.execute(delete(_exports).where(_exports.c.id == export_id))


async def get_export(conn: AsyncConnection, *, export_id: str) -> ExportRecord | None:
    row = (await conn.execute(_export_query().where(_exports.c.id == export_id))).first()
    return _to_record(row) if row is not None else None


async def list_exports_past_expiry(
    conn: AsyncConnection, *, status: ExportStatus, now: datetime, limit: int
) -> list[ExportRecord]:
    """Exports in `status` whose download period is over, oldest first."""
    return await _list_due(conn, _exports.c.expires_at, status=status, now=now, limit=limit)


async def list_exports_with_lapsed_lease(
    conn: AsyncConnection, *, status: ExportStatus, now: datetime, limit: int
) -> list[ExportRecord]:
    """Exports in `status` whose lease ran out by `now` (nobody renews it), oldest first."""
    return await _list_due(conn, _exports.c.lease_expires_at, status=status, now=now, limit=limit)


async def _list_due(
    conn: AsyncConnection,
    due_at: ColumnElement[Any],
    *,
    status: ExportStatus,
    now: datetime,
    limit: int,
) -> list[ExportRecord]:
    rows = await conn.execute(
        _export_query()
        .where(_exports.c.status == status, due_at <= now)
        .order_by(due_at)
        .limit(limit)
    )
    return [_to_record(row) for row in rows]


async def list_export_ids(
    conn: AsyncConnection, *, export_ids: Collection[str], status: ExportStatus
) -> set[str]:
    """Which of `export_ids` are in `status`."""
    if not export_ids:
        return set()
    rows = await conn.execute(
        select(_exports.c.id).where(
            _exports.c.id.in_(list(export_ids)), _exports.c.status == status
        )
    )
    return set(rows.scalars())


def _export_query() -> Any:
    return select(
        _exports,
        _deliveries.c.status.label("callback_status"),
        _deliveries.c.attempts.label("callback_attempts"),
    ).outerjoin(_deliveries, _deliveries.c.export_id == _exports.c.id)


def _to_record(row: Row[Any]) -> ExportRecord:
    return ExportRecord(
        export_id=row.id,
        project_id=row.project_id,
        format=row.format,
        completed_only=row.completed_only,
        status=ExportStatus(row.status),
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
        callback_status=CallbackStatus(row.callback_status) if row.callback_status else None,
        callback_attempts=row.callback_attempts or 0,
        warnings=_read_warnings(row.warnings_json),
        accepted_only=bool(row.accepted_only),
        ground_truth_only=bool(row.ground_truth_only),
        consensus=bool(row.consensus),
    )


def _warnings_json(warnings: tuple[ExportWarning, ...]) -> str | None:
    if not warnings:
        return None
    return orjson.dumps(
        [{"task_id": w.task_id, "display_id": w.display_id, "message": w.message} for w in warnings]
    ).decode()


def _read_warnings(text: str | None) -> tuple[ExportWarning, ...]:
    if not text:
        return ()
    return tuple(
        ExportWarning(str(w["task_id"]), str(w["display_id"]), str(w["message"]))
        for w in orjson.loads(text)
    )
