"""What a webhook may be: its URL, its events and its extra headers.

The URL follows the callback rule (server.exports.targets): absolute http(s),
https only in production, no user information; the address it resolves to is
vetted at every delivery (SSRF). Extra headers may not replace what the
delivery itself sets or what the HTTP connection owns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from annotation_api.settings import Settings
from server.exports.targets import validate_callback_url
from server.request_rules import invalid
from server.webhooks.events import WebhookEvent

MAX_HEADERS = 20
MAX_HEADER_NAME_LENGTH = 100
MAX_HEADER_VALUE_LENGTH = 2000
# RFC 9110 token characters.
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# Hop-by-hop headers (RFC 9110 §7.6.1), and those the connection or the delivery sets.
FORBIDDEN_HEADERS = frozenset(
    name.lower()
    for name in (
        "Connection",
        "Keep-Alive",
        "Proxy-Authenticate",
        "Proxy-Authorization",
        "Proxy-Connection",
        "TE",
        "Trailer",
        "Transfer-Encoding",
        "Upgrade",
        "Host",
        "Content-Length",
        "Content-Type",
        "Content-Encoding",
        "Expect",
        "User-Agent",
        "X-Signature-256",
        "X-Webhook-Event-Id",
        "X-Webhook-Event",
    )
)


def check_url(settings: Settings, url: str) -> str:
    """The webhook's URL, or INVALID_REQUEST (field "url")."""
    checked = validate_callback_url(url, field="url", require_https=settings.https_targets_only)
    if checked is None:
        raise invalid("url", "url is required")
    return checked


def check_events(events: Iterable[str]) -> list[str]:
    """The event names, each known; an empty list means every event."""
    names = list(dict.fromkeys(e.strip() for e in events))
    known = {str(e) for e in WebhookEvent}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise invalid(
            "events", f"unknown event {unknown[0]!r}", supported=sorted(known), unknown=unknown
        )
    return names


def check_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Extra request headers: at most MAX_HEADERS token names, none forbidden, values
    of printable ASCII only (no CR or LF: a header cannot smuggle another)."""
    if len(headers) > MAX_HEADERS:
        raise invalid("headers", f"at most {MAX_HEADERS} headers", max_headers=MAX_HEADERS)
    seen: set[str] = set()
    for name, value in headers.items():
        if not _HEADER_NAME.fullmatch(name) or len(name) > MAX_HEADER_NAME_LENGTH:
            raise invalid("headers", f"header name {name!r} is not a valid HTTP header name")
        lowered = name.lower()
        if lowered in FORBIDDEN_HEADERS:
            raise invalid(
                "headers",
                f"header {name!r} is set by the delivery and cannot be given",
                forbidden=sorted(FORBIDDEN_HEADERS),
            )
        if lowered in seen:
            raise invalid("headers", f"header {name!r} is given twice")
        seen.add(lowered)
        if len(value) > MAX_HEADER_VALUE_LENGTH or not all(
            0x20 <= ord(c) < 0x7F or c == "\t" for c in value
        ):
            raise invalid(
                "headers",
                f"header {name!r} has a value that is too long or is not printable ASCII",
            )
    return dict(headers)
