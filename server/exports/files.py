"""Where export files live, and the sweeper that removes expired ones.

Files are `<export_dir>/<export_id>.<ext>`; a file being written is
`<export_id>.<ext>.part` and is renamed when complete, so a download never
sees half a file. An expired export is marked `expired` first (only one
process wins that update) and its file removed afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from annotation_api.settings import Settings
from storage.database import Database
from storage.exports import ExportRecord, list_expired_exports, mark_export_expired
from storage.types import utcnow

log = logging.getLogger(__name__)

SWEEP_INTERVAL_SECONDS = 300.0
SWEEP_BATCH = 200


def export_file(settings: Settings, storage_path: str) -> Path:
    """The absolute path of a stored export file (names are ours: no traversal)."""
    return settings.resolved_export_dir / Path(storage_path).name


async def expire_export(settings: Settings, database: Database, record: ExportRecord) -> None:
    """Mark an export expired and remove its file (idempotent across processes)."""
    await mark_export_expired(database, record.export_id)
    if record.storage_path:
        await asyncio.to_thread(export_file(settings, record.storage_path).unlink, True)


async def sweep_expired_exports(settings: Settings, database: Database) -> int:
    """Expire every export whose time is over; how many were expired."""
    swept = 0
    while True:
        due = await list_expired_exports(database, now=utcnow(), limit=SWEEP_BATCH)
        for record in due:
            await expire_export(settings, database, record)
        swept += len(due)
        if len(due) < SWEEP_BATCH:
            return swept


async def run_expiry_sweeper(settings: Settings, database: Database, stop: asyncio.Event) -> None:
    """Sweep expired exports now and then until stop is set (a server worker)."""
    interval = min(SWEEP_INTERVAL_SECONDS, max(settings.export_ttl_hours * 3600 / 10, 1.0))
    while not stop.is_set():
        try:
            swept = await sweep_expired_exports(settings, database)
            if swept:
                log.info("expired exports removed", extra={"count": swept})
        except Exception:
            log.exception("export expiry sweep failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
