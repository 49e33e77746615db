"""A server stream as Server-Sent Events (the EVENT_STREAM route kind's framing).

Each message of the stream is one event: `id:` its `event_id` field (when the
response message has one), `data:` its JSON (the same JSON as any response).
While no message comes, a comment line (`: keep-alive`) is sent every
`http_event_heartbeat_seconds`, so that proxies and load balancers keep the
connection open. An error before the first message is answered by the route
handler as the usual JSON error body with its HTTP status; an error after it
(the headers are sent by then) is one last event, `event: error`, whose data is
that same JSON error body, and the stream ends.

The stream ends, cleanly, when the server's stream ends, when the client goes
away (the gRPC call is cancelled), or when the gateway stops (`closing`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc
import orjson
from google.protobuf.message import Message

from gateway.codec import MessageCodec
from gateway.errors import from_rpc_error

EVENT_ID_FIELD = "event_id"
LAST_EVENT_ID_FIELD = "last_event_id"
MEDIA_TYPE = "text/event-stream"
HEADERS = {
    "cache-control": "no-cache",
    # nginx buffers responses unless told not to: events would arrive in bursts.
    "x-accel-buffering": "no",
}
HEARTBEAT = b": keep-alive\n\n"


def event_frame(data: bytes, *, event_id: int | None = None, event: str | None = None) -> bytes:
    """One event: optional `event:` and `id:` lines, the data, and the blank line."""
    lines = []
    if event is not None:
        lines.append(b"event: " + event.encode())
    if event_id is not None:
        lines.append(b"id: " + str(event_id).encode())
    # JSON has no raw line breaks; any other text is split, one data line per line.
    lines.extend(b"data: " + line for line in data.splitlines() or [b""])
    return b"\n".join(lines) + b"\n\n"


def error_frame(exc: grpc.aio.AioRpcError) -> bytes:
    error = from_rpc_error(exc)
    body = {"error_code": error.code, "message": error.message, "details": error.details}
    return event_frame(orjson.dumps(body), event="error")


class EventStream:
    """The events of one gRPC server-streaming call whose first message has come."""

    def __init__(
        self,
        call: Any,
        codec: MessageCodec,
        *,
        heartbeat_seconds: float,
        closing: asyncio.Event,
    ) -> None:
        self._call = call
        self._codec = codec
        self._with_id = EVENT_ID_FIELD in codec.descriptor.fields_by_name
        self._heartbeat_seconds = heartbeat_seconds
        self._closing = closing

    def frame(self, message: Message) -> bytes:
        event_id = getattr(message, EVENT_ID_FIELD) if self._with_id else None
        return event_frame(self._codec.to_json(message), event_id=event_id)

    async def events(self, first: Message) -> AsyncIterator[bytes]:
        call = self._call
        closing = asyncio.ensure_future(self._closing.wait())
        read: asyncio.Future[Any] | None = None
        try:
            yield self.frame(first)
            while True:
                read = asyncio.ensure_future(call.read())
                while not read.done():
                    await asyncio.wait(
                        {read, closing},
                        timeout=self._heartbeat_seconds,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                    if closing.done():
                        read.cancel()
                        return
                    if not read.done():
                        yield HEARTBEAT
                try:
                    message = read.result()
                except grpc.aio.AioRpcError as exc:
                    if exc.code() != grpc.StatusCode.CANCELLED:
                        yield error_frame(exc)
                    return
                if message is grpc.aio.EOF:
                    return
                yield self.frame(message)
        finally:
            closing.cancel()
            if read is not None and not read.done():
                read.cancel()
            # The client went away, the gateway is stopping, or the stream ended:
            # the server's side of the stream ends too.
            call.cancel()
