"""Callback targets: which URLs are accepted, and which addresses may be reached.

A callback or webhook URL is checked twice. When it is given, only its shape
(http or https, with a host; https only in production; no user information).
When it is delivered, the host is resolved and every address that is loopback,
private, link-local, reserved, multicast or otherwise not globally routable is
refused unless the operator allows private targets; the delivery then connects
to the vetted address itself, so a DNS answer that changes between the check
and the connection (DNS rebinding) cannot redirect it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from annotation_api.errors import DomainError, ErrorCode

MAX_URL_LENGTH = 2048
ALLOWED_SCHEMES = ("http", "https")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(Exception):
    """The callback target may not be contacted; retrying will not help."""


def validate_callback_url(
    url: str | None, *, field: str = "callback_url", require_https: bool = False
) -> str | None:
    """The callback (or webhook) URL of a request, or None; INVALID_REQUEST when malformed.

    require_https (production) refuses http: the signed body and any custom
    headers would otherwise cross the network in clear text.
    """
    if url is None or url.strip() == "":
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError on a malformed port
    except ValueError:
        parts, port = None, None
    schemes = ("https",) if require_https else ALLOWED_SCHEMES
    if (
        parts is None
        or parts.scheme.lower() not in schemes
        or not parts.hostname
        or len(url) > MAX_URL_LENGTH
        or any(c.isspace() for c in url)
        or port == 0
    ):
        raise DomainError(
            ErrorCode.INVALID_REQUEST,
            f"{field} must be an absolute {' or '.join(schemes)} URL",
            {"field": field, "supported": list(schemes)},
        )
    if parts.username is not None or parts.password is not None:
        # It would be sent as Basic auth and echoed by GetExport: credentials do not
        # belong in a URL that is stored and shown; the payload is signed instead.
        raise DomainError(
            ErrorCode.INVALID_REQUEST,
            f"{field} must not contain user information (user:password@)",
            {"field": field},
        )
    return url


def is_forbidden_address(address: IPAddress) -> bool:
    """True for addresses a callback must not reach by default."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None and is_forbidden_address(embedded):
            return True
        if address.teredo is not None:
            return True
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
        or not address.is_global
    )


async def resolve_target(host: str, port: int, *, allow_private: bool) -> list[IPAddress]:
    """The addresses of host that may be connected to, in resolver order;
    TargetRefused when there is none.

    Raises OSError when the name does not resolve (a network error, retried).
    """
    try:
        literal: IPAddress | None = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        candidates = [literal]
    else:
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        candidates = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    allowed = [a for a in candidates if allow_private or not is_forbidden_address(a)]
    if allowed:
        return list(dict.fromkeys(allowed))
    raise TargetRefused(
        f"callback target {host} resolves only to addresses that are not allowed "
        f"({', '.join(sorted({str(a) for a in candidates}))})"
    )
