"""Prediction import (seed 002, SPEC §4.5): the rules, in the order they apply.

1. The caller must be allowed to import into the project (owner or super_admin).
2. The file is received within the upload limit onto disk, then read as a
   stream (server.predictions.json_stream); a file that is not JSON, or not an
   AAP JSON 1.x / COCO document, is 422 with nothing written.
3. Entries are matched to tasks in bulk (server.predictions.matching); a COCO
   file's images are matched once, after images[] is read and before its
   annotations stream.
4. Each prediction becomes a row or an error entry (server.predictions.rows).
5. Unless dry_run: in one transaction, overwrite_existing deletes the matched
   tasks' earlier external_import predictions, the rows are inserted, the
   prediction stats are rebuilt and the audit entry `predictions.import` is
   written.

Steps 2 to 5 run batch by batch (BATCH_SIZE entries), so the server's memory
holds three batches (one parsed, one checked, one written) and the error
entries, whatever the file's size. A fault
found late in the file (broken JSON, nesting too deep) rolls the transaction
back: nothing is written, as when the whole file was parsed first. The file's
shape (top-level object, schema_version, lists) is checked before the
transaction starts.

Parsing and row building are CPU work, so they run in worker threads (the
next batch is parsed while the current one is checked, and a batch is written
while the next one is checked): the event loop keeps serving other calls
meanwhile. The cyclic garbage collector is paused during
an import (see annotation_api.gc_pause).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from annotation_api.errors import DomainError, ErrorCode
from annotation_api.settings import Settings
from server.access import get_visible_project
from server.auth import Caller
from server.predictions.aap import iter_aap
from server.predictions.coco import iter_coco, match_images, read_coco_index
from server.predictions.entries import MAX_MODEL_VERSION_LENGTH, Entry, ImportTarget
from server.predictions.json_stream import Source, batched
from server.predictions.matching import match_entries
from server.predictions.pipeline import import_batches
from server.predictions.rows import ImportIssue, ImportPlan, ImportWarning, plan_rows
from server.vocabulary import GEOMETRY_KINDS_BY_TASK_TYPE, GeometryKind, TaskType
from server.webhooks import events as webhook_events
from storage.audit import write_audit_log
from storage.database import Database
from storage.prediction_stats import rebuild_model_stats
from storage.predictions import (
    SOURCE_EXTERNAL_IMPORT,
    delete_imported_predictions,
    get_task_texts,
    insert_predictions,
)
from storage.projects import get_project, list_labels
from storage.types import utcnow

log = logging.getLogger(__name__)

AUDIT_ACTION = "predictions.import"
# Entries (AAP tasks, COCO annotations) read, matched and written at a time. The server's
# memory follows the batch, not the file: measured at 100,000 predictions, batches of 34,000
# grew the server by about 155 MB and batches of 10,000 by about 60 MB.
BATCH_SIZE = 10_000


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
    warnings: list[ImportWarning] = field(default_factory=list)


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
        totals = _Totals()
        reader = partial(self._reader, file_format=options.format, target=target)
        limit = self._settings.max_upload_bytes
        async with import_batches(chunks, limit=limit, reader=reader) as (first, batches):
            if options.dry_run:
                async with self._database.read() as conn:
                    await _plan_all(conn, first, batches, target, fallback, totals, None)
            else:
                await self._write(caller, options, target, fallback, first, batches, totals)
        log.info(
            "predictions imported",
            extra={
                "project_id": target.project_id,
                "format": str(options.format),
                "dry_run": options.dry_run,
                "imported": totals.imported,
                "skipped": totals.skipped,
                "error_count": len(totals.issues),
                "warning_count": len(totals.warnings),
            },
        )
        return ImportReport(
            imported=totals.imported,
            skipped=totals.skipped,
            errors=totals.issues,
            dry_run=options.dry_run,
            warnings=totals.warnings,
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

    async def _reader(
        self, file: Source, file_format: ImportFormat, target: ImportTarget
    ) -> Iterator[list[Entry]]:
        """The file's entries in batches (a blocking iterator: run it in a thread)."""
        if file_format is ImportFormat.COCO:
            use_segmentation = target.task_type == TaskType.POLYGON
            index = await asyncio.to_thread(
                read_coco_index, file, use_segmentation=use_segmentation
            )
            async with self._database.read() as conn:
                await match_images(conn, target.project_id, index)
            return iter_coco(file, index, batch_size=BATCH_SIZE)
        return batched(iter_aap(file), BATCH_SIZE)

    async def _write(
        self,
        caller: Caller,
        options: ImportOptions,
        target: ImportTarget,
        fallback: str | None,
        first: list[Entry] | None,
        batches: AsyncIterator[list[Entry]],
        totals: _Totals,
    ) -> None:
        now = utcnow()
        # Entries are matched on a read connection of their own, as before the writes began:
        # on SQLite, each page read inside a write transaction that has written hundreds of
        # MB searches the write-ahead log's index of those pages.
        async with self._database.read() as reader, self._database.transaction() as conn:
            # The project's row lock keeps annotations from moving the prediction
            # stats while they are rebuilt below.
            await get_project(conn, target.project_id, for_update=True)
            writer = _BatchWriter(
                conn=conn,
                project_id=target.project_id,
                overwrite=options.overwrite_existing,
                created_at=now,
            )
            await _plan_all(reader, first, batches, target, fallback, totals, writer)
            await rebuild_model_stats(conn, target.project_id)
            detail: dict[str, Any] = {
                "format": str(options.format),
                "imported": totals.imported,
                "skipped": totals.skipped,
                "error_count": len(totals.issues),
                "overwrite_existing": options.overwrite_existing,
                "model_version_fallback": fallback,
                "replaced": writer.replaced,
            }
            await write_audit_log(
                conn,
                actor_id=caller.user_id,
                action=AUDIT_ACTION,
                project_id=target.project_id,
                detail=detail,
                now=now,
            )
            await webhook_events.predictions_imported(
                conn, project_id=target.project_id, counts=_event_counts(totals, writer)
            )


def _event_counts(totals: _Totals, writer: _BatchWriter) -> dict[str, int]:
    """The PREDICTIONS_IMPORTED event's counts."""
    return {
        "imported": totals.imported,
        "skipped": totals.skipped,
        "error_count": len(totals.issues),
        "replaced": writer.replaced,
    }


@dataclass(slots=True)
class _Totals:
    """The report so far, summed over batches."""

    imported: int = 0
    skipped: int = 0
    issues: list[ImportIssue] = field(default_factory=list)
    warnings: list[ImportWarning] = field(default_factory=list)

    def add(self, plan: ImportPlan) -> None:
        self.imported += len(plan.rows)
        self.skipped += plan.skipped
        self.issues.extend(plan.issues)
        self.warnings.extend(plan.warnings)


@dataclass(slots=True)
class _BatchWriter:
    """Writes each batch's rows in the import's transaction (conn)."""

    conn: AsyncConnection
    project_id: str
    # overwrite_existing: replace the imported predictions written before this import
    # (not at its created_at), so a task named in two batches keeps both batches' rows
    overwrite: bool
    created_at: datetime
    replaced: int = 0

    async def write(self, plan: ImportPlan) -> None:
        conn = self.conn
        if self.overwrite and plan.matched_task_ids:
            self.replaced += await delete_imported_predictions(
                conn, plan.matched_task_ids, except_created_at=self.created_at
            )
        await insert_predictions(
            conn,
            project_id=self.project_id,
            source=SOURCE_EXTERNAL_IMPORT,
            predictions=plan.rows,
            created_at=self.created_at,
        )


async def _plan_all(
    conn: AsyncConnection,
    first: list[Entry] | None,
    rest: AsyncIterator[list[Entry]],
    target: ImportTarget,
    fallback: str | None,
    totals: _Totals,
    writer: _BatchWriter | None,
) -> None:
    """Match (on conn), check and (with a writer) write every batch, adding each to totals.

    A batch is written while the next one is matched and checked: SQLite and
    PostgreSQL do their part of the write without holding the GIL, so the two
    overlap. Writes keep the file's order, one at a time.
    """
    writing: asyncio.Future[None] | None = None
    try:
        batch = first
        while batch is not None:
            tasks = await match_entries(
                conn, target.project_id, batch, project_size=target.task_count
            )
            texts = None
            if GeometryKind.SPAN in GEOMETRY_KINDS_BY_TASK_TYPE.get(target.task_type, ()):
                # spans are fitted to their task's text
                found = {task.task_id for task in tasks if task is not None}
                texts = await get_task_texts(conn, target.project_id, found)
            plan = await asyncio.to_thread(
                plan_rows,
                batch,
                tasks,
                target=target,
                fallback_model_version=fallback,
                texts=texts,
            )
            del tasks, batch, texts
            if writer is not None:
                if writing is not None:
                    await writing
                writing = asyncio.ensure_future(writer.write(plan))
            totals.add(plan)
            del plan
            batch = await anext(rest, None)
        if writing is not None:
            await writing
    finally:
        # Leaving early (a fault in a later batch) waits for the write under way, so that
        # the transaction is rolled back only once its connection is idle.
        if writing is not None and not writing.done():
            with contextlib.suppress(BaseException):
                await asyncio.shield(writing)
        elif writing is not None and not writing.cancelled():
            writing.exception()  # retrieved: an error behind an earlier one is not logged


def _fallback_model_version(value: str | None) -> str | None:
    if value is not None and len(value) > MAX_MODEL_VERSION_LENGTH:
        raise DomainError(
            ErrorCode.INVALID_REQUEST,
            f"model_version is longer than {MAX_MODEL_VERSION_LENGTH} characters",
            {"field": "model_version"},
        )
    return value or None
