"""The export and callback lifecycles: which state may follow which.

    export:    running ──> completed ──> expired
                  └──────> failed
    callback:  pending ──> delivered
                  ├──────> failed         (a refused target, or the last attempt)
                  └──────> pending        (a retry, due later)

The states themselves are vocabulary (`annotation_api/states.py`), so storage
can store and filter by them; the decisions live here. Storage applies a
change only while the row is still in one of the states the change may come
from (`sources`), so two processes racing on one export cannot both win.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from annotation_api.states import CallbackStatus, ExportStatus

EXPORT_TRANSITIONS: Mapping[ExportStatus, frozenset[ExportStatus]] = {
    ExportStatus.RUNNING: frozenset({ExportStatus.COMPLETED, ExportStatus.FAILED}),
    ExportStatus.COMPLETED: frozenset({ExportStatus.EXPIRED}),
    ExportStatus.FAILED: frozenset(),
    ExportStatus.EXPIRED: frozenset(),
}

CALLBACK_TRANSITIONS: Mapping[CallbackStatus, frozenset[CallbackStatus]] = {
    CallbackStatus.PENDING: frozenset(
        {CallbackStatus.PENDING, CallbackStatus.DELIVERED, CallbackStatus.FAILED}
    ),
    CallbackStatus.DELIVERED: frozenset(),
    CallbackStatus.FAILED: frozenset(),
}

# An export starts running; a queued callback starts pending.
EXPORT_INITIAL = ExportStatus.RUNNING
CALLBACK_INITIAL = CallbackStatus.PENDING
# The one state in which a callback is due for an attempt.
CALLBACK_DUE = CallbackStatus.PENDING


def sources(target: ExportStatus) -> frozenset[ExportStatus]:
    """The export states from which `target` may be reached."""
    return frozenset(s for s, targets in EXPORT_TRANSITIONS.items() if target in targets)


def has_file(status: ExportStatus) -> bool:
    """Only a completed export has a file to download (and a file_url)."""
    return status is ExportStatus.COMPLETED


def is_past_expiry(status: ExportStatus, expires_at: datetime, now: datetime) -> bool:
    """A completed export whose download period is over is due to become expired."""
    return ExportStatus.EXPIRED in EXPORT_TRANSITIONS[status] and expires_at <= now


def callback_after_attempt(*, delivered: bool, retry_at: datetime | None) -> CallbackStatus:
    """The callback's state after one attempt: delivered, pending a retry, or given up."""
    if delivered:
        return CallbackStatus.DELIVERED
    return CallbackStatus.PENDING if retry_at is not None else CallbackStatus.FAILED
