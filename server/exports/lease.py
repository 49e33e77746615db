"""Export leases: a running export belongs to a live server, or it fails.

The server writing an export holds a lease on its row (`lease_owner`,
`lease_expires_at`) and renews it every `export_heartbeat_seconds` for
`export_lease_seconds`. A server that dies (kill -9, power loss) stops
renewing; once the lease has run out, the sweeper of any server on the same
database (every `export_heartbeat_seconds`) marks the export `failed` with an
`error_message`, queues its `failed` callback when it has a `callback_url`,
and removes what the dead writer left on disk. The change to `failed` is
conditional on the lease having run out, so a writer that renewed in time
keeps its export; and the writer's own ending is conditional on still holding
the lease, so an export that was taken away from a stalled writer is never
completed afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

from annotation_api.settings import Settings
from annotation_api.states import ExportStatus
from server.exports.files import remove_export_files
from server.exports.lifecycle import EXPORT_INITIAL
from server.exports.outcomes import end_export
from storage.database import Database
from storage.exports import ExportLease, list_exports_with_lapsed_lease, renew_export_lease
from storage.types import utcnow

log = logging.getLogger(__name__)

RECLAIM_BATCH = 100
ABANDONED_MESSAGE = "export was interrupted: the server writing it stopped before it finished"

# Who this process is, as recorded on the exports it writes (host, pid, and a
# random part so that a restarted process with the same pid is someone else).
PROCESS_LEASE_OWNER = f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


def new_lease(settings: Settings, *, now: datetime | None = None) -> ExportLease:
    """A lease held by this process for `export_lease_seconds` from now."""
    start = now or utcnow()
    return ExportLease(
        owner=PROCESS_LEASE_OWNER,
        expires_at=start + timedelta(seconds=settings.export_lease_seconds),
    )


async def renew_lease(settings: Settings, database: Database, export_id: str) -> bool:
    """Extend this process's lease on a running export; False when it is no longer ours."""
    async with database.transaction() as conn:
        return await renew_export_lease(
            conn, export_id=export_id, status=EXPORT_INITIAL, lease=new_lease(settings)
        )


@contextlib.asynccontextmanager
async def holding_lease(
    settings: Settings, database: Database, export_id: str
) -> AsyncIterator[None]:
    """Renew the lease on `export_id` in the background while the body runs."""

    async def heartbeat() -> None:
        while True:
            await asyncio.sleep(settings.export_heartbeat_seconds)
            try:
                if not await renew_lease(settings, database, export_id):
                    log.warning("export lease lost", extra={"export_id": export_id})
                    return
            except Exception:
                # A database hiccup: try again at the next beat (the lease has room for it).
                log.exception("export lease renewal failed", extra={"export_id": export_id})

    task = asyncio.create_task(heartbeat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def reclaim_abandoned_exports(settings: Settings, database: Database) -> int:
    """Fail every running export whose lease has run out; how many were failed."""
    reclaimed = 0
    while True:
        now = utcnow()
        async with database.read() as conn:
            lapsed = await list_exports_with_lapsed_lease(
                conn, status=EXPORT_INITIAL, now=now, limit=RECLAIM_BATCH
            )
        for record in lapsed:
            ended = await end_export(
                settings,
                database,
                record,
                status=ExportStatus.FAILED,
                actor_id=record.created_by,
                error=ABANDONED_MESSAGE,
                lease_lapsed_at=now,
                audit_extra={"abandoned": True},
            )
            if ended is None:
                continue  # renewed or reclaimed by another server meanwhile
            reclaimed += 1
            log.warning("abandoned export failed", extra={"export_id": record.export_id})
            if record.storage_path:
                await asyncio.to_thread(
                    remove_export_files, settings, record.export_id, record.storage_path
                )
        if len(lapsed) < RECLAIM_BATCH:
            return reclaimed


async def run_lease_sweeper(settings: Settings, database: Database, stop: asyncio.Event) -> None:
    """Fail exports nobody owns any more, every heartbeat, until stop is set (a server worker)."""
    while not stop.is_set():
        try:
            await reclaim_abandoned_exports(settings, database)
        except Exception:
            log.exception("export lease sweep failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=settings.export_heartbeat_seconds)
