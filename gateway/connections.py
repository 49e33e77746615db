"""Connection hygiene: how long a client may take, and how many may be served at once.

uvicorn closes an idle keep-alive connection (`timeout_keep_alive`) but has
no deadline for a request's headers or body, and its concurrency cap answers
in plain text. So:

* `GuardedHttpProtocol` (uvicorn's httptools protocol) closes a connection
  whose request line and headers are not complete within
  `http_header_timeout_seconds` of the connection opening or of the request
  starting, and answers a request over `http_max_concurrency` open connections
  or requests in progress, or over `http_max_concurrency_per_client` open
  connections from its client's address, with the documented 503 body (so one
  address cannot take every place);
* when the gateway closes a connection whose request body has not been read
  to its end (after an early refusal), it closes "lingering", like nginx:
  it sends the answer and its end (FIN), then discards, unparsed, what the
  client is still sending for at most LINGER_SECONDS / LINGER_BYTES before it
  closes the socket. A plain close with unread data would reset the
  connection, and the client could lose the answer;
* `BodyGuardMiddleware` answers 408 when the client takes longer than
  `http_body_timeout_seconds` to send the next piece of a body the gateway is
  waiting for (time the gateway itself spends elsewhere is not counted), or
  longer than `http_body_timeout_seconds` in all to send the part of the body
  read before the caller's access is checked (gateway.bodies: the first
  ACCESS_FREE_BODY_BYTES). A client without a token cannot hold a connection
  by sending a byte now and then: each byte would restart a per-piece wait. And
  closes the connection after any answer given before the body was read to
  its end (a refusal, a 408): otherwise the server would go on reading, and
  discarding, the rest of a body nobody wants.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any, ClassVar

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from annotation_api.settings import Settings
from gateway.bodies import ACCESS_FREE_BODY_BYTES
from gateway.errors import GatewayCode, GatewayError

log = logging.getLogger("gateway.connections")

LINGER_SECONDS = 2.0
LINGER_BYTES = 1024 * 1024


def protocol_for(settings: Settings) -> type[HttpToolsProtocol]:
    """uvicorn's HTTP protocol with the header deadline and the concurrency cap of settings."""

    class ConfiguredProtocol(GuardedHttpProtocol):
        header_timeout_seconds = settings.http_header_timeout_seconds
        max_concurrency = settings.http_max_concurrency
        max_per_client = settings.http_max_concurrency_per_client
        open_by_client: ClassVar[Counter[str]] = Counter()  # this gateway's connections, by address

    return ConfiguredProtocol


class GuardedHttpProtocol(HttpToolsProtocol):
    header_timeout_seconds = 10.0
    max_concurrency = 1000
    max_per_client = 100
    open_by_client: ClassVar[Counter[str]] = Counter()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._lingering_bytes: int | None = None
        self._address: str | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        lingering: Any = _LingeringTransport(transport, self)  # a Transport by delegation
        super().connection_made(lingering)
        if self.client is not None:
            self._address = str(self.client[0])
            self.open_by_client[self._address] += 1
            if self.open_by_client[self._address] > self.max_per_client:
                # refused before its request: a connection waiting for its headers would
                # otherwise count against every client's cap until the header deadline
                log.warning(
                    "over the cap of %d connections from %s: answering 503",
                    self.max_per_client,
                    self._address,
                )
                transport.write(_OVER_CAPACITY_RESPONSE)
                transport.close()
                return
        self._arm_header_timer()

    def data_received(self, data: bytes) -> None:
        if self._lingering_bytes is None:
            super().data_received(data)
            return
        self._lingering_bytes += len(data)
        if self._lingering_bytes > LINGER_BYTES:
            self.transport.close()

    def body_unread(self) -> bool:
        """True while a request body is still arriving that nobody will read."""
        cycle = self.cycle
        return cycle is not None and cycle.more_body and not cycle.disconnected

    def start_lingering(self, transport: asyncio.Transport) -> None:
        self._lingering_bytes = 0
        self._cancel_header_timer()
        if transport.can_write_eof():
            transport.write_eof()
        transport.resume_reading()
        self.loop.call_later(LINGER_SECONDS, transport.close)

    @property
    def lingering(self) -> bool:
        return self._lingering_bytes is not None

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        if self._address is not None:
            left = self.open_by_client[self._address] - 1
            if left > 0:
                self.open_by_client[self._address] = left
            else:
                del self.open_by_client[self._address]
            self._address = None
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_header_timer()

    def on_headers_complete(self) -> None:
        self._cancel_header_timer()
        if len(self.connections) > self.max_concurrency or len(self.tasks) >= self.max_concurrency:
            log.warning("over the concurrency cap of %d: answering 503", self.max_concurrency)
            self._answer_over_capacity()
            return
        super().on_headers_complete()

    def _answer_over_capacity(self) -> None:
        app, self.app = self.app, _over_capacity
        try:
            super().on_headers_complete()
        finally:
            self.app = app

    def _arm_header_timer(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(
                self.header_timeout_seconds, self._on_header_timeout
            )

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _on_header_timeout(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            log.info("closing a connection whose request headers did not arrive in time")
            self.transport.close()


class _LingeringTransport:
    """The connection's transport, whose close() lingers while a body is unread."""

    def __init__(self, transport: asyncio.Transport, protocol: GuardedHttpProtocol) -> None:
        self._transport = transport
        self._protocol = protocol

    def close(self) -> None:
        protocol = self._protocol
        if protocol.lingering or self._transport.is_closing() or not protocol.body_unread():
            self._transport.close()
        else:
            protocol.start_lingering(self._transport)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


_OVER_CAPACITY = GatewayError(
    GatewayCode.SERVICE_UNAVAILABLE,
    "the gateway is serving as many requests as it may; retry later",
    {},
)
_OVER_CAPACITY_HEADERS = {"connection": "close", "retry-after": "1"}


def _raw_response(error: GatewayError, headers: dict[str, str]) -> bytes:
    """The error's whole HTTP/1.1 response, for a connection refused before its request."""
    response = error.response(headers=headers)
    head = [f"HTTP/1.1 {response.status_code} Service Unavailable".encode()]
    head += [name + b": " + value for name, value in response.raw_headers]
    return b"\r\n".join(head) + b"\r\n\r\n" + bytes(response.body)


_OVER_CAPACITY_RESPONSE = _raw_response(_OVER_CAPACITY, _OVER_CAPACITY_HEADERS)


async def _over_capacity(scope: Scope, receive: Receive, send: Send) -> None:
    await _OVER_CAPACITY.response(headers=_OVER_CAPACITY_HEADERS)(scope, receive, send)


class BodyGuardMiddleware:
    """Bounds the wait for each piece of a request body; closes after an early answer.

    It also reports a client that went away before its answer was complete
    (a download cut short, which Starlette ends silently) as ClientDisconnect,
    so that the request is logged and counted as such (499), not as served.
    """

    def __init__(self, app: ASGIApp, *, timeout_seconds: float) -> None:
        self.app = app
        self.timeout_seconds = timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body_done = not _has_body(scope)
        client_gone = False
        answered = False
        loop = asyncio.get_running_loop()
        received = 0
        # the part read before the access check must arrive within the timeout in all
        prefix_deadline: float | None = None

        async def receive_in_time() -> Message:
            nonlocal body_done, client_gone, received, prefix_deadline
            if body_done:
                # Later receives wait for a disconnect, which may take as long as the response.
                message = await receive()
            else:
                wait = self.timeout_seconds
                if received < ACCESS_FREE_BODY_BYTES:
                    if prefix_deadline is None:
                        prefix_deadline = loop.time() + self.timeout_seconds
                    wait = max(min(wait, prefix_deadline - loop.time()), 0.0)
                try:
                    message = await asyncio.wait_for(receive(), wait)
                except TimeoutError:
                    raise GatewayError(
                        GatewayCode.REQUEST_TIMEOUT,
                        f"the request body did not arrive within {self.timeout_seconds} s",
                        {"timeout_seconds": self.timeout_seconds},
                    ) from None
                received += len(message.get("body", b""))
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            client_gone = client_gone or message["type"] == "http.disconnect"
            return message

        async def send_closing_early(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.start" and not body_done:
                headers = [*message.get("headers", []), (b"connection", b"close")]
                message = {**message, "headers": headers}
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                answered = True
            await send(message)

        await self.app(scope, receive_in_time, send_closing_early)
        if client_gone and not answered:
            raise ClientDisconnect()


def _has_body(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"transfer-encoding":
            return True
        if name == b"content-length":
            return bytes(value).strip() not in (b"0", b"")
    return False
