"""Sending webhook events: the body, the signed POST and what an attempt changes.

The outbox worker (server.outbox) calls `deliver_due_webhooks` on every pass.
A delivery is claimed only when it is first in line for its webhook and
project (storage.webhook_outbox), so events reach a receiver in their project's
order, at least once: a receiver drops repeats by `event_id`.

A failed attempt is retried with the callbacks' backoff (server.delivery) until
`callback_max_attempts`, then given up (failed), and the next event is sent.
Every failed attempt counts against the webhook; after
`webhook_max_consecutive_failures` in a row the webhook is disabled
(`is_active` false, `disabled_reason` set) and its pending events wait until
its owner activates it again. A delivered attempt resets the count.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import orjson

from annotation_api.settings import Settings
from server.delivery import next_attempt_at, post_signed
from server.exports.lifecycle import CALLBACK_DUE, callback_after_attempt
from storage.database import Database
from storage.types import utcnow
from storage.webhook_outbox import (
    ClaimedWebhookDelivery,
    claim_due_webhook_deliveries,
    record_webhook_attempt,
)

log = logging.getLogger(__name__)

USER_AGENT = "annotation-api-webhook/1"
EVENT_ID_HEADER = "X-Webhook-Event-Id"
EVENT_HEADER = "X-Webhook-Event"
CLAIM_BATCH = 16
# Extra time a claimed row stays locked beyond the request timeout (DNS, TLS, bookkeeping).
LEASE_MARGIN_SECONDS = 60.0


def event_body(delivery: ClaimedWebhookDelivery) -> bytes:
    """The JSON body: the envelope (event_id, action, sequence, created_at), then the
    event's payload fields. The same bytes at every attempt."""
    envelope = orjson.dumps(
        {
            "event_id": delivery.event_id,
            "action": delivery.action,
            "sequence": delivery.sequence,
            "created_at": delivery.created_at.isoformat().replace("+00:00", "Z"),
        }
    )
    payload = delivery.payload.encode("utf-8")
    return envelope[:-1] + b"," + payload[1:]


async def deliver_webhook(
    settings: Settings, database: Database, delivery: ClaimedWebhookDelivery
) -> None:
    """Make one attempt at a claimed delivery and record how it went."""
    headers = {
        **orjson.loads(delivery.headers_json),
        EVENT_ID_HEADER: delivery.event_id,
        EVENT_HEADER: delivery.action,
    }
    result = await post_signed(
        settings, delivery.url, event_body(delivery), user_agent=USER_AGENT, headers=headers
    )
    now = utcnow()
    retry_at = None
    if not result.delivered and result.retryable:
        retry_at = next_attempt_at(
            settings,
            attempts_made=delivery.attempts + 1,
            now=now,
            retry_after=result.retry_after,
        )
    limit = settings.webhook_max_consecutive_failures
    async with database.transaction() as conn:
        await record_webhook_attempt(
            conn,
            delivery=delivery,
            status=callback_after_attempt(delivered=result.delivered, retry_at=retry_at),
            status_code=result.status_code,
            error=None if result.delivered else (result.error or "delivery failed"),
            now=now,
            next_attempt_at=retry_at,
            disable_after=limit,
            disabled_reason=f"disabled after {limit} consecutive failed deliveries "
            f"(last: {result.error})",
        )
    if not result.delivered:
        log.warning(
            "webhook attempt failed",
            extra={
                "webhook_id": delivery.webhook_id,
                "event_id": delivery.event_id,
                "attempt": delivery.attempts + 1,
                "error": result.error,
                "will_retry": retry_at is not None,
            },
        )


async def deliver_due_webhooks(settings: Settings, database: Database) -> int:
    """Claim and deliver the webhook events that are due now; how many were tried."""
    now = utcnow()
    lease = timedelta(seconds=settings.callback_timeout_seconds + LEASE_MARGIN_SECONDS)
    async with database.transaction() as conn:
        claimed = await claim_due_webhook_deliveries(
            conn, status=CALLBACK_DUE, now=now, lease_until=now + lease, limit=CLAIM_BATCH
        )
    if claimed:
        await asyncio.gather(*(deliver_webhook(settings, database, d) for d in claimed))
    return len(claimed)
