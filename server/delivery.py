"""Signed POSTs to callback and webhook receivers, and when to try again.

One signer, one retry policy and one target rule for both outboxes (export
callbacks: server.exports.callbacks; webhook events: server.webhooks.delivery).
A body is signed with HMAC-SHA256 under `callback_secret` (X-Signature-256);
the target's host is resolved and vetted (server.exports.targets) and the
request goes to the vetted address itself, with no redirects and no proxy.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx

from annotation_api.settings import Settings
from server.exports.targets import TargetRefused, resolve_target
from storage.types import utcnow

SIGNATURE_HEADER = "X-Signature-256"
RETRYABLE_STATUSES = frozenset({408, 429})
MAX_RETRY_AFTER_SECONDS = 3600.0


def sign(body: bytes, secret: str) -> str:
    """The X-Signature-256 value: sha256=<hex HMAC-SHA256 of the exact body>."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """How one delivery attempt went (status_code: the receiver's answer, if any)."""

    delivered: bool
    retryable: bool
    error: str | None = None
    retry_after: float | None = None
    status_code: int | None = None


async def post_signed(
    settings: Settings,
    url: str,
    body: bytes,
    *,
    user_agent: str,
    headers: Mapping[str, str],
) -> AttemptResult:
    """POST body, signed, to url once, connected to the vetted address of its host.

    `headers` are added to the request; they cannot replace the ones set here
    (the service refuses such names when they are registered).
    """
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
    request_headers = {
        **headers,
        "Host": target.netloc.decode("ascii"),
        "Content-Type": "application/json",
        "User-Agent": user_agent,
        SIGNATURE_HEADER: sign(body, settings.callback_secret),
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
                    headers=request_headers,
                    extensions={"sni_hostname": target.host},
                )
                break
            except httpx.ConnectError as exc:
                if index == len(addresses) - 1:
                    return AttemptResult(False, True, f"ConnectError: {exc}")
            except httpx.HTTPError as exc:
                return AttemptResult(False, True, f"{type(exc).__name__}: {exc}")
    code = response.status_code
    if 200 <= code < 300:
        return AttemptResult(True, False, status_code=code)
    return AttemptResult(
        False,
        code in RETRYABLE_STATUSES or code >= 500,
        f"receiver answered HTTP {code}",
        _retry_after(response.headers.get("retry-after")),
        code,
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
