"""Export callbacks: the payload, and how a due callback is delivered.

The outbox row is written in the same transaction that completes (or fails)
the export, so a callback is never lost and never sent for an export that
did not happen. The outbox worker (server.outbox) claims due rows with a lease
(see storage.callbacks), POSTs the exact stored body (server.delivery signs
and sends it) and records the outcome; all state is in the database, so
deliveries survive a restart and several processes can share the work.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

import orjson

from annotation_api.settings import Settings
from annotation_api.states import ExportStatus
from server.delivery import AttemptResult, next_attempt_at, post_signed, sign
from server.exports.lifecycle import CALLBACK_DUE, callback_after_attempt, has_file
from storage.callbacks import ClaimedDelivery, claim_due_deliveries, record_delivery_attempt
from storage.database import Database
from storage.types import utcnow

__all__ = ["AttemptResult", "post_callback", "sign"]

log = logging.getLogger(__name__)

USER_AGENT = "annotation-api-callback/1"
CLAIM_BATCH = 16
# Extra time a claimed row stays locked beyond the request timeout (DNS, TLS, bookkeeping).
LEASE_MARGIN_SECONDS = 60.0


def download_path(export_id: str) -> str:
    return f"/api/exports/{export_id}/download"


def callback_payload(
    *,
    settings: Settings,
    project_id: str,
    export_id: str,
    status: ExportStatus,
    format_name: str,
    total_exported: int,
    file_name: str,
    file_size: int,
    error_message: str | None,
) -> bytes:
    """The body POSTed to callback_url (seed 000), with an absolute file_url.

    A failed export has no file: its file_url is "" and file_size 0, keeping
    the documented types.
    """
    file_url = (
        settings.public_base_url.rstrip("/") + download_path(export_id) if has_file(status) else ""
    )
    return orjson.dumps(
        {
            "project_id": project_id,
            "export_id": export_id,
            "status": status,
            "format": format_name,
            "total_exported": total_exported,
            "file_url": file_url,
            "file_name": file_name,
            "file_size": file_size,
            "error_message": error_message,
        }
    )


async def post_callback(settings: Settings, url: str, body: bytes, export_id: str) -> AttemptResult:
    """POST an export's callback body to url once (server.delivery)."""
    return await post_signed(
        settings, url, body, user_agent=USER_AGENT, headers={"X-Export-Id": export_id}
    )


async def deliver(settings: Settings, database: Database, delivery: ClaimedDelivery) -> None:
    """Make one attempt at a claimed delivery and record how it went."""
    result = await post_callback(settings, delivery.url, delivery.payload, delivery.export_id)
    now = utcnow()
    if result.delivered:
        async with database.transaction() as conn:
            await record_delivery_attempt(
                conn,
                delivery_id=delivery.delivery_id,
                status=callback_after_attempt(delivered=True, retry_at=None),
                error=None,
                delivered_at=now,
            )
        log.info("callback delivered", extra={"export_id": delivery.export_id})
        return
    attempts_made = delivery.attempts + 1
    retry_at = (
        next_attempt_at(
            settings, attempts_made=attempts_made, now=now, retry_after=result.retry_after
        )
        if result.retryable
        else None
    )
    async with database.transaction() as conn:
        await record_delivery_attempt(
            conn,
            delivery_id=delivery.delivery_id,
            status=callback_after_attempt(delivered=False, retry_at=retry_at),
            error=result.error or "delivery failed",
            next_attempt_at=retry_at,
        )
    log.warning(
        "callback attempt failed",
        extra={
            "export_id": delivery.export_id,
            "attempt": attempts_made,
            "error": result.error,
            "will_retry": retry_at is not None,
        },
    )


async def claim_due_callbacks(
    database: Database, *, now: datetime, lease_until: datetime, limit: int
) -> list[ClaimedDelivery]:
    """Take up to `limit` due deliveries for this worker until `lease_until`."""
    async with database.transaction() as conn:
        return await claim_due_deliveries(
            conn, status=CALLBACK_DUE, now=now, lease_until=lease_until, limit=limit
        )


async def deliver_due_callbacks(settings: Settings, database: Database) -> int:
    """Claim and deliver the callbacks that are due now; how many were tried."""
    now = utcnow()
    lease = timedelta(seconds=settings.callback_timeout_seconds + LEASE_MARGIN_SECONDS)
    claimed = await claim_due_callbacks(
        database, now=now, lease_until=now + lease, limit=CLAIM_BATCH
    )
    if claimed:
        await asyncio.gather(*(deliver(settings, database, d) for d in claimed))
    return len(claimed)
