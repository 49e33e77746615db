"""Where export files live, and the sweeper that removes expired and orphaned ones.

Files are `<export_dir>/<export_id>.<ext>`; a file being written is
`<export_id>.<ext>.part` and is renamed when complete, so a download never
sees half a file, and a format's temporary files go to the directory
`<export_id>.scratch`. An expired export is marked `expired` first (only one
process wins that update) and its file removed afterwards.

A partial file or scratch directory whose export is not running any more
(its server was killed, or an older version left it) is removed by the same
sweeper; the files of an export whose lease ran out are removed when it is
failed (server/exports/lease.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
from pathlib import Path

from annotation_api.settings import Settings
from annotation_api.states import ExportStatus
from server.exports.lifecycle import sources
from storage.database import Database
from storage.exports import (
    ExportRecord,
    list_export_ids,
    list_exports_past_expiry,
    set_export_status,
)
from storage.types import utcnow

log = logging.getLogger(__name__)

SWEEP_INTERVAL_SECONDS = 300.0
SWEEP_BATCH = 200
PARTIAL_SUFFIX = ".part"
SCRATCH_SUFFIX = ".scratch"


def export_file(settings: Settings, storage_path: str) -> Path:
    """The absolute path of a stored export file (names are ours: no traversal)."""
    return settings.resolved_export_dir / Path(storage_path).name


def partial_file(final: Path) -> Path:
    """Where the file is written before it is complete."""
    return final.with_name(final.name + PARTIAL_SUFFIX)


def scratch_dir(settings: Settings, export_id: str) -> Path:
    """The export's own directory for a format's temporary files."""
    return settings.resolved_export_dir / f"{Path(export_id).name}{SCRATCH_SUFFIX}"


def remove_export_files(settings: Settings, export_id: str, storage_path: str) -> None:
    """Remove whatever an export that did not complete left: file, partial file, scratch."""
    final = export_file(settings, storage_path)
    final.unlink(missing_ok=True)
    partial_file(final).unlink(missing_ok=True)
    shutil.rmtree(scratch_dir(settings, export_id), ignore_errors=True)


async def expire_export(settings: Settings, database: Database, record: ExportRecord) -> None:
    """Mark an export expired and remove its file (idempotent across processes)."""
    async with database.transaction() as conn:
        await set_export_status(
            conn,
            export_id=record.export_id,
            from_statuses=sources(ExportStatus.EXPIRED),
            status=ExportStatus.EXPIRED,
            storage_path=None,
        )
    if record.storage_path:
        await asyncio.to_thread(export_file(settings, record.storage_path).unlink, True)


async def sweep_expired_exports(settings: Settings, database: Database) -> int:
    """Expire every export whose time is over; how many were expired."""
    swept = 0
    while True:
        async with database.read() as conn:
            due = await list_exports_past_expiry(
                conn, status=ExportStatus.COMPLETED, now=utcnow(), limit=SWEEP_BATCH
            )
        for record in due:
            await expire_export(settings, database, record)
        swept += len(due)
        if len(due) < SWEEP_BATCH:
            return swept


def _partial_entries(directory: Path) -> dict[Path, str]:
    """Partial files and scratch directories in `directory`, with the export id they belong to."""
    found: dict[Path, str] = {}
    with contextlib.suppress(FileNotFoundError), os.scandir(directory) as entries:
        for entry in entries:
            if entry.name.endswith((PARTIAL_SUFFIX, SCRATCH_SUFFIX)):
                found[Path(entry.path)] = entry.name.split(".", 1)[0]
    return found


async def sweep_orphaned_partials(settings: Settings, database: Database) -> int:
    """Remove partial files and scratch directories of exports that are not running.

    The listing comes before the database read: a running export's row is
    committed before its files are created, so a file seen here whose export
    is not running then is no longer (or never was) being written.
    """
    found = await asyncio.to_thread(_partial_entries, settings.resolved_export_dir)
    if not found:
        return 0
    async with database.read() as conn:
        running = await list_export_ids(
            conn, export_ids=set(found.values()), status=ExportStatus.RUNNING
        )
    orphans = [path for path, export_id in found.items() if export_id not in running]
    for path in orphans:
        await asyncio.to_thread(_remove_path, path)
    return len(orphans)


def _remove_path(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


async def run_expiry_sweeper(settings: Settings, database: Database, stop: asyncio.Event) -> None:
    """Sweep expired exports and orphaned partial files now and then until stop is set."""
    interval = min(SWEEP_INTERVAL_SECONDS, max(settings.export_ttl_hours * 3600 / 10, 1.0))
    while not stop.is_set():
        try:
            swept = await sweep_expired_exports(settings, database)
            if swept:
                log.info("expired exports removed", extra={"count": swept})
            orphans = await sweep_orphaned_partials(settings, database)
            if orphans:
                log.info("orphaned partial export files removed", extra={"count": orphans})
        except Exception:
            log.exception("export expiry sweep failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
