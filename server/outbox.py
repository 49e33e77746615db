"""The outbox worker: one loop drains every outbox (export callbacks, webhook events).

Each drainer claims the rows that are due with a lease, sends them and records
the outcome (server.delivery signs and sends; storage holds all state), so
deliveries survive a restart and several server processes share the work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from annotation_api.settings import Settings
from server.exports.callbacks import CLAIM_BATCH, deliver_due_callbacks
from server.webhooks.delivery import deliver_due_webhooks
from storage.database import Database

log = logging.getLogger(__name__)

Drainer = Callable[[Settings, Database], Awaitable[int]]
DRAINERS: tuple[Drainer, ...] = (deliver_due_callbacks, deliver_due_webhooks)


async def run_outbox_worker(settings: Settings, database: Database, stop: asyncio.Event) -> None:
    """Drain the outboxes until stop is set (a server worker)."""
    if not settings.callback_secret:
        log.warning("callback_secret is empty: callbacks are signed with an empty key")
    while not stop.is_set():
        busy = False
        for drain in DRAINERS:
            try:
                busy |= await drain(settings, database) >= CLAIM_BATCH
            except Exception:
                log.exception("outbox pass failed", extra={"outbox": drain.__name__})
        if busy:
            continue  # more may be due right away
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=settings.callback_poll_seconds)
