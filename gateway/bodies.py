"""Reading a request body only once the caller may send it.

A caller without a valid token, or without the role the RPC needs, must not
make the gateway read, parse or store more than a small prefix of a body.
The gateway does not judge tokens itself: an `AccessGate` asks the server
(AccessService.CheckAccess, the same decision the server makes when the RPC is
called) at the first of these moments:

* before reading past the first ACCESS_FREE_BODY_BYTES of a body (or when the
  declared Content-Length is larger);
* before answering an error of its own about the request (malformed JSON, a
  body over the limit, a bad multipart form), so that such a caller gets 401
  or 403, never 400 or 413.

Small well-formed requests skip the question: the RPC itself is refused with
the same answer, and nothing beyond the small body has been read.
"""

from __future__ import annotations

from starlette.requests import Request

from gateway.backend import Backend
from gateway.errors import payload_too_large

# What anyone may make the gateway read before the server has said yes.
ACCESS_FREE_BODY_BYTES = 64 * 1024


class AccessGate:
    """Asks the server, at most once per request, whether the caller may call the RPC."""

    def __init__(self, backend: Backend, grpc_path: str, metadata: list[tuple[str, str]]) -> None:
        self._backend = backend
        self._grpc_path = grpc_path
        self._metadata = metadata
        self.passed = False

    async def check(self) -> None:
        """Return when the caller may call the RPC; raise the server's refusal otherwise."""
        if not self.passed:
            await self._backend.check_access(self._grpc_path, self._metadata)
            self.passed = True


def declared_length(request: Request) -> int | None:
    declared = request.headers.get("content-length")
    return int(declared) if declared and declared.isdigit() else None


async def read_body(request: Request, *, limit: int, gate: AccessGate) -> bytearray:
    """The whole body, refused with 413 as soon as it is known to exceed `limit`, in the
    buffer it was read into: the one copy of a large body in memory (joining its pieces
    at the end would hold two for a moment)."""
    declared = declared_length(request)
    if declared is not None and declared > ACCESS_FREE_BODY_BYTES:
        await gate.check()
    if declared is not None and declared > limit:
        raise payload_too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        if len(body) + len(chunk) > ACCESS_FREE_BODY_BYTES:
            await gate.check()
        if len(body) + len(chunk) > limit:
            raise payload_too_large(limit)
        body += chunk
    return body
