"""Export callbacks: the payload, the signed delivery, and the outbox worker.

The outbox row is written in the same transaction that completes (or fails)
the export, so a callback is never lost and never sent for an export that
did not happen. The worker claims due rows with a lease (see
storage.callbacks), POSTs the exact stored body, and records the outcome; all
state is in the database, so deliveries survive a restart and several
processes can share the work.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
import orjson

from annotation_api.settings import Settings
from annotation_api.states import ExportStatus
from server.exports.lifecycle import CALLBACK_DUE, callback_after_attempt, has_file
from server.exports.targets import TargetRefused, resolve_target
from storage.callbacks import ClaimedDelivery, claim_due_deliveries, record_delivery_attempt
from storage.database import Database
from storage.types import utcnow

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Signature-256"
USER_AGENT = "annotation-api-callback/1"
RETRYABLE_STATUSES = frozenset({408, 429})
CLAIM_BATCH = 16
# Extra time a claimed row stays locked beyond the request timeout (DNS, TLS, bookkeeping).
LEASE_MARGIN_SECONDS = 60.0
MAX_RETRY_AFTER_SECONDS = 3600.0


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


def sign(body: bytes, secret: str) -> str:
    """The X-Signature-256 value: sha256=<hex HMAC-SHA256 of the exact body>."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """How one delivery attempt went."""

    delivered: bool
    retryable: bool
    error: str | None = None
    retry_after: float | None = None


async def post_callback(settings: Settings, url: str, body: bytes, export_id: str) -> AttemptResult:
    """POST body to url once, connected to the vetted address of its host."""
    try:
        target = httpx.URL(url)
    except httpx.InvalidURL as exc:
        return AttemptResult(False, False, f"invalid callback URL: {exc}")
    if target.scheme not in ("http", "https") or not target.host:
        return AttemptResult(False, False, "callback URL is not http(s)")
    port = target.port or (443 if target.scheme == "https" else 80)
    try:
        addresses = await resolve_target(
            target.host, port, allow_private=settings.callback_allow_private
        )
    except TargetRefused as exc:
        return AttemptResult(False, False, str(exc))
    except OSError as exc:
        return AttemptResult(False, True, f"cannot resolve {target.host}: {exc}")
    headers = {
        "Host": target.netloc.decode("ascii"),
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: sign(body, settings.callback_secret),
        "X-Export-Id": export_id,
    }
    # A fresh client per attempt: no pooled connection is ever reused for another
    # host name on the same address (SNI), and no proxy from the environment.
    async with httpx.AsyncClient(
        timeout=settings.callback_timeout_seconds, follow_redirects=False, trust_env=False
    ) as client:
        for index, address in enumerate(addresses):
            try:
                response = await client.post(
                    target.copy_with(host=str(address)),
                    content=body,
                    headers=headers,
                    extensions={"sni_hostname": target.host},
                )
                break
            except httpx.ConnectError as exc:
                if index == len(addresses) - 1:
                    return AttemptResult(False, True, f"ConnectError: {exc}")
            except httpx.HTTPError as exc:
                return AttemptResult(False, True, f"{type(exc).__name__}: {exc}")
    if 200 <= response.status_code < 300:
        return AttemptResult(True, False)
    retryable = response.status_code in RETRYABLE_STATUSES or response.status_code >= 500
    return AttemptResult(
        False,
        retryable,
        f"receiver answered HTTP {response.status_code}",
        _retry_after(response.headers.get("retry-after")),
    )


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - utcnow()).total_seconds()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def next_attempt_at(
    settings: Settings, *, attempts_made: int, now: datetime, retry_after: float | None
) -> datetime | None:
    """When to try again after `attempts_made` failures, or None to give up."""
    if attempts_made >= settings.callback_max_attempts:
        return None
    delay = settings.callback_backoff_seconds * 2 ** (attempts_made - 1)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return now + timedelta(seconds=delay)


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


async def run_callback_worker(settings: Settings, database: Database, stop: asyncio.Event) -> None:
    """Drain the outbox until stop is set (a server worker)."""
    if not settings.callback_secret:
        log.warning("callback_secret is empty: callbacks are signed with an empty key")
    while not stop.is_set():
        tried = 0
        try:
            tried = await deliver_due_callbacks(settings, database)
        except Exception:
            log.exception("callback outbox pass failed")
        if tried >= CLAIM_BATCH:
            continue  # more may be due right away
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=settings.callback_poll_seconds)
