"""How an export ends: its outcome, its callback and its audit entry, in one transaction.

The export row moves to `completed` or `failed` only from a state the
lifecycle allows (and, for the process writing it, only while it still holds
the lease); in the same transaction the callback body is queued in the outbox
and the `exports.create` audit entry is written. So a callback is never lost,
never sent for an export that did not end, and never sent twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from annotation_api.settings import Settings
from annotation_api.states import ExportStatus
from server.exports.callbacks import callback_payload
from server.exports.lifecycle import CALLBACK_INITIAL, has_file, sources
from server.webhooks import events as webhook_events
from storage.audit import write_audit_log
from storage.callbacks import insert_delivery
from storage.database import Database
from storage.export_records import ExportWarning
from storage.exports import ExportOutcome, ExportRecord, get_export, set_export_outcome
from storage.projects import get_project
from storage.types import utcnow

AUDIT_ACTION = "exports.create"


class EndingExport(Protocol):
    """What ending an export needs to know about it (a NewExport or an ExportRecord)."""

    @property
    def export_id(self) -> str: ...
    @property
    def project_id(self) -> str: ...
    @property
    def format(self) -> str: ...
    @property
    def completed_only(self) -> bool: ...
    @property
    def accepted_only(self) -> bool: ...
    @property
    def ground_truth_only(self) -> bool: ...
    @property
    def consensus(self) -> bool: ...
    @property
    def file_name(self) -> str: ...
    @property
    def storage_path(self) -> str | None: ...
    @property
    def callback_url(self) -> str | None: ...


async def end_export(
    settings: Settings,
    database: Database,
    export: EndingExport,
    *,
    status: ExportStatus,
    actor_id: str | None,
    total: int = 0,
    size: int = 0,
    error: str | None = None,
    warnings: Sequence[ExportWarning] = (),
    lease_owner: str | None = None,
    lease_lapsed_at: datetime | None = None,
    audit_extra: dict[str, object] | None = None,
) -> ExportRecord | None:
    """End a running export; None when it was no longer running (or no longer
    held by `lease_owner`, or its lease had not run out by `lease_lapsed_at`)."""
    now = utcnow()
    async with database.transaction() as conn:
        applied = await set_export_outcome(
            conn,
            export_id=export.export_id,
            from_statuses=sources(status),
            outcome=ExportOutcome(
                status=status,
                file_size=size,
                total_exported=total,
                error_message=error,
                storage_path=export.storage_path if has_file(status) else None,
                warnings=tuple(warnings),
            ),
            lease_owner=lease_owner,
            lease_lapsed_at=lease_lapsed_at,
        )
        if not applied:
            return None
        # the project's row lock numbers its webhook events in commit order (storage.webhook_outbox)
        await get_project(conn, export.project_id, for_update=True)
        payload = callback_payload(
            settings=settings,
            project_id=export.project_id,
            export_id=export.export_id,
            status=status,
            format_name=export.format,
            total_exported=total,
            file_name=export.file_name,
            file_size=size,
            error_message=error,
        )
        if export.callback_url:
            await insert_delivery(
                conn,
                export_id=export.export_id,
                url=export.callback_url,
                payload=payload,
                status=CALLBACK_INITIAL,
                due_at=now,
            )
        await webhook_events.export_ended(
            conn, project_id=export.project_id, completed=has_file(status), export=payload
        )
        await write_audit_log(
            conn,
            actor_id=actor_id,
            action=AUDIT_ACTION,
            project_id=export.project_id,
            detail={
                "export_id": export.export_id,
                "format": export.format,
                "completed_only": export.completed_only,
                "accepted_only": export.accepted_only,
                "ground_truth_only": export.ground_truth_only,
                "consensus": export.consensus,
                "status": str(status),
                "total_exported": total,
                "file_size": size,
                "callback": export.callback_url is not None,
                "error_message": error,
                "warnings": len(warnings),
                **(audit_extra or {}),
            },
            now=now,
        )
        return await get_export(conn, export_id=export.export_id)
