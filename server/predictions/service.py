"""Prediction import (seed 002, SPEC §4.5): the rules, in the order they apply.

1. The caller must be allowed to import into the project (owner or super_admin).
2. The file is received within the upload limit, then parsed; a file that is
   not JSON, or not an AAP JSON 1.x / COCO document, is 422 with nothing written.
3. Entries are matched to tasks in bulk (server.predictions.matching).
4. Each prediction becomes a row or an error entry (server.predictions.rows).
5. Unless dry_run: in one transaction, overwrite_existing deletes the matched
   tasks' earlier external_import predictions, the rows are inserted, and the
   audit entry `predictions.import` is written.

Parsing and row building are CPU work on possibly hundreds of MB, so they run
in a worker thread: the event loop keeps serving other calls meanwhile. The
cyclic garbage collector is paused while an import holds its millions of
freshly parsed objects (see annotation_api.gc_pause).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from annotation_api.errors import DomainError, ErrorCode
from annotation_api.gc_pause import cyclic_gc_paused
from annotation_api.settings import Settings
from server.access import get_visible_project
from server.auth import Caller
from server.predictions.aap import parse_aap
from server.predictions.coco import parse_coco
from server.predictions.entries import MAX_MODEL_VERSION_LENGTH, Entry, ImportTarget
from server.predictions.geometry import POLYGON
from server.predictions.matching import match_entries
from server.predictions.rows import ImportIssue, ImportPlan, plan_rows
from server.predictions.upload import load_json, receive_file
from storage.audit import write_audit_log
from storage.database import Database
from storage.prediction_stats import rebuild_model_stats
from storage.predictions import (
    SOURCE_EXTERNAL_IMPORT,
    delete_imported_predictions,
    insert_predictions,
)
from storage.projects import get_project, list_labels
from storage.types import utcnow

log = logging.getLogger(__name__)

AUDIT_ACTION = "predictions.import"


class ImportFormat(StrEnum):
    AAP_JSON = "aap_json"
    COCO = "coco"


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """The request's fields other than the file."""

    project_id: str
    format: ImportFormat
    dry_run: bool
    model_version: str | None  # used for predictions that carry none
    overwrite_existing: bool


@dataclass(frozen=True, slots=True)
class ImportReport:
    """The response: rows written (or that would be), predictions skipped, and why."""

    imported: int
    skipped: int
    errors: list[ImportIssue]
    dry_run: bool


class PredictionImportService:
    def __init__(self, settings: Settings, database: Database) -> None:
        self._settings = settings
        self._database = database

    async def import_predictions(
        self, caller: Caller, options: ImportOptions, chunks: AsyncIterable[bytes]
    ) -> ImportReport:
        """Run one import; `chunks` is the file, read only once the caller is allowed."""
        fallback = _fallback_model_version(options.model_version)
        target = await self._authorize(caller, options.project_id)
        payload = await receive_file(chunks, limit=self._settings.max_upload_bytes)
        with cyclic_gc_paused():
            entries = await asyncio.to_thread(_parse, payload, options.format, target.task_type)
            del payload  # the parsed entries are all that is kept from here on
            async with self._database.read() as conn:
                tasks = await match_entries(
                    conn, target.project_id, entries, project_size=target.task_count
                )
            plan = await asyncio.to_thread(
                plan_rows, entries, tasks, target=target, fallback_model_version=fallback
            )
            del entries, tasks
            if not options.dry_run:
                await self._write(caller, options, target, plan, fallback)
        log.info(
            "predictions imported",
            extra={
                "project_id": target.project_id,
                "format": str(options.format),
                "dry_run": options.dry_run,
                "imported": len(plan.rows),
                "skipped": plan.skipped,
                "error_count": len(plan.issues),
            },
        )
        return ImportReport(
            imported=len(plan.rows),
            skipped=plan.skipped,
            errors=plan.issues,
            dry_run=options.dry_run,
        )

    async def _authorize(self, caller: Caller, project_id: str) -> ImportTarget:
        """Owner or super_admin may import (seed 002): exactly who sees the project
        (server.access); to anyone else it does not exist (SPEC §3)."""
        async with self._database.read() as conn:
            project = await get_visible_project(conn, caller, project_id)
            labels = await list_labels(conn, project_id)
        return ImportTarget(
            project_id=project.project_id,
            task_type=project.task_type,
            task_count=project.total_tasks,
            labels=tuple(label.name for label in labels),
        )

    async def _write(
        self,
        caller: Caller,
        options: ImportOptions,
        target: ImportTarget,
        plan: ImportPlan,
        fallback: str | None,
    ) -> None:
        now = utcnow()
        async with self._database.transaction() as conn:
            # The project's row lock keeps annotations from moving the prediction
            # stats while they are rebuilt below.
            await get_project(conn, target.project_id, for_update=True)
            replaced = 0
            if options.overwrite_existing and plan.matched_task_ids:
                replaced = await delete_imported_predictions(conn, plan.matched_task_ids)
            await insert_predictions(
                conn,
                project_id=target.project_id,
                source=SOURCE_EXTERNAL_IMPORT,
                predictions=plan.rows,
                created_at=now,
            )
            await rebuild_model_stats(conn, target.project_id)
            detail: dict[str, Any] = {
                "format": str(options.format),
                "imported": len(plan.rows),
                "skipped": plan.skipped,
                "error_count": len(plan.issues),
                "overwrite_existing": options.overwrite_existing,
                "model_version_fallback": fallback,
                "replaced": replaced,
            }
            await write_audit_log(
                conn,
                actor_id=caller.user_id,
                action=AUDIT_ACTION,
                project_id=target.project_id,
                detail=detail,
                now=now,
            )


def _fallback_model_version(value: str | None) -> str | None:
    if value is not None and len(value) > MAX_MODEL_VERSION_LENGTH:
        raise DomainError(
            ErrorCode.INVALID_REQUEST,
            f"model_version is longer than {MAX_MODEL_VERSION_LENGTH} characters",
            {"field": "model_version"},
        )
    return value or None


def _parse(payload: bytes | bytearray, file_format: ImportFormat, task_type: str) -> list[Entry]:
    document = load_json(payload)
    if file_format is ImportFormat.COCO:
        return parse_coco(document, use_segmentation=task_type == POLYGON)
    return parse_aap(document)
