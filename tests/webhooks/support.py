"""Helpers of the webhook tests: the receiver's view of events, and the checks every
received request must pass."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import orjson

from tests.exports.receiver import Received, Receiver

HOOK_PATH = "/hooks/annotation"
# Fast outbox settings: polled often, retried almost at once.
FAST = {
    "callback_poll_seconds": 0.02,
    "callback_backoff_seconds": 0.01,
    "callback_allow_private": True,
}


def hook_url(receiver: Receiver) -> str:
    return f"http://127.0.0.1:{receiver.port}{HOOK_PATH}"


def check_signed(request: Received, secret: str) -> dict[str, Any]:
    """The event of a request, once its signature, headers and envelope are checked."""
    digest = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-signature-256"] == f"sha256={digest}"
    assert request.method == "POST" and request.path == HOOK_PATH
    assert request.headers["content-type"] == "application/json"
    event: dict[str, Any] = orjson.loads(request.body)
    assert request.headers["x-webhook-event-id"] == event["event_id"]
    assert request.headers["x-webhook-event"] == event["action"]
    assert {"event_id", "action", "sequence", "created_at", "project"} <= set(event)
    return event


def unique_events(receiver: Receiver, secret: str) -> list[dict[str, Any]]:
    """The events as a receiver keeps them: checked, repeats (same event_id) dropped."""
    seen: dict[str, dict[str, Any]] = {}
    for request in list(receiver.requests):
        event = check_signed(request, secret)
        if event["event_id"] in seen:
            assert seen[event["event_id"]] == event  # a repeat is the same event
            continue
        seen[event["event_id"]] = event
    return list(seen.values())
