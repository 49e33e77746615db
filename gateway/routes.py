"""REST handlers for the annotated RPCs: one generic handler per route kind.

A request message is assembled from the JSON body (per the rule's `body`), the
query string (only when the body is not "*", as in grpc-gateway) and the path
parameters, which win over both. The handlers hold no business rules: every
check beyond "is this JSON the right shape" happens in the server.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote

import grpc
from fastapi import FastAPI
from google.protobuf.message import Message
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from annotation_api.errors import ErrorCode
from annotation_api.gc_pause import cyclic_gc_paused
from annotation_api.memory import release_free_memory
from annotation_api.settings import Settings
from gateway.backend import (
    STREAM_TIMEOUT_SECONDS,
    UNARY_TIMEOUT_SECONDS,
    Backend,
    call_metadata,
)
from gateway.bodies import ACCESS_FREE_BODY_BYTES, AccessGate, read_body
from gateway.codec import MessageCodec, message_codec, parse_json, trust_plain_items
from gateway.descriptors import (
    RouteKind,
    RpcRoute,
    body_required,
    discover_routes,
    leading_fields,
    message_type_of,
)
from gateway.errors import GatewayError
from gateway.event_stream import HEADERS as EVENT_HEADERS
from gateway.event_stream import LAST_EVENT_ID_FIELD, EventStream
from gateway.event_stream import MEDIA_TYPE as EVENT_MEDIA_TYPE
from gateway.scalars import CodecError
from gateway.stream_answers import StreamAnswer
from gateway.streamed_body import IrregularBody, StreamedBody
from gateway.uploads import FILE_FIELD, read_upload

# Bodies above this size are converted in a worker thread so that the event
# loop keeps serving other requests (health checks, progress) meanwhile.
OFFLOAD_BODY_BYTES = 1024 * 1024
# The JSON text of one batch of a streamed body's items (about 10,000 small items).
STREAMED_CHUNK_BYTES = 1024 * 1024
# Items per message when a streamed body had to be parsed whole.
PARSED_BATCH_ITEMS = 10_000


class RouteHandler:
    """Serves one route; the kind-specific part is in the subclasses."""

    def __init__(self, route: RpcRoute, backend: Backend, settings: Settings) -> None:
        self.route = route
        self.backend = backend
        self.settings = settings
        self.request_codec: MessageCodec = message_codec(route.request_type)
        self.response_codec: MessageCodec = message_codec(route.response_type)
        self.body_required = body_required(route)

    async def handle(self, request: Request) -> Response:
        gate = AccessGate(self.backend, self.route.grpc_path, self.metadata(request))
        try:
            return await self.serve(request, gate)
        except (CodecError, GatewayError) as exc:
            # The gateway's own verdict on what was sent: a caller the server
            # would refuse hears that first (401/403 before 400/413).
            if isinstance(exc, CodecError) or exc.http_status < 500:
                await gate.check()
            raise

    async def serve(self, request: Request, gate: AccessGate) -> Response:
        raise NotImplementedError

    def metadata(self, request: Request) -> list[tuple[str, str]]:
        return call_metadata(
            request.headers.get("authorization"), request.state.request_id, headers=request.headers
        )

    def text_kwargs(self, request: Request, *, with_query: bool) -> dict[str, Any]:
        """Fields from the query string (when asked) and the path parameters."""
        codec = self.request_codec
        kwargs: dict[str, Any] = {}
        if with_query:
            for name in dict.fromkeys(request.query_params.keys()):
                if name not in self.route.path_params and codec.text_parser(name):
                    kwargs[name] = codec.parse_text(name, request.query_params.getlist(name))
        for name in self.route.path_params:
            kwargs[name] = codec.parse_text(name, [request.path_params[name]])
        return kwargs


class UnaryHandler(RouteHandler):
    """JSON in, JSON out."""

    async def serve(self, request: Request, gate: AccessGate) -> Response:
        route = self.route
        text_kwargs = self.text_kwargs(request, with_query=route.body != "*")
        if route.body:
            raw = await read_body(request, limit=self.settings.max_message_bytes, gate=gate)
            if len(raw) > OFFLOAD_BODY_BYTES:
                message = await asyncio.to_thread(self.build_from_body, raw, text_kwargs)
            else:
                message = self.build_from_body(raw, text_kwargs)
        else:
            message = self.request_codec.build(text_kwargs)
        call = self.backend.callable_for(route)
        reply = await call(message, metadata=self.metadata(request), timeout=UNARY_TIMEOUT_SECONDS)
        return Response(self.response_codec.to_json(reply), media_type="application/json")

    def build_from_body(self, raw: bytes | bytearray, text_kwargs: dict[str, Any]) -> Message:
        codec = self.request_codec
        if self.body_required and not raw.strip():
            raise GatewayError(
                ErrorCode.INVALID_REQUEST, "the request body is required", {"field": "body"}
            )
        with cyclic_gc_paused():
            body = parse_json(raw) if raw.strip() else {}
            if self.route.body == "*":
                kwargs = codec.decode_kwargs(body)
            else:
                kwargs = codec.decode_kwargs({self.route.body: body})
            kwargs.update(text_kwargs)
            message = codec.build(kwargs)
            # Dropped before the collector resumes: alive at that moment, the
            # millions of parsed objects would all be walked by its first pass.
            del body, kwargs
        return message


class DownloadHandler(RouteHandler):
    """A server stream of file chunks -> a file download.

    The first message is awaited before answering, so that a refused
    download (unknown export, no access) still gets its JSON error body.
    """

    async def serve(self, request: Request, gate: AccessGate) -> Response:
        message = self.request_codec.build(self.text_kwargs(request, with_query=True))
        call = self.backend.callable_for(self.route)(
            message, metadata=self.metadata(request), timeout=STREAM_TIMEOUT_SECONDS
        )
        first = await call.read()
        if first is grpc.aio.EOF:
            call.cancel()
            raise GatewayError(ErrorCode.INTERNAL_ERROR, "the server sent no file", {})
        headers = {"content-disposition": content_disposition(first.file_name or "download")}
        if "file_size" in first.DESCRIPTOR.fields_by_name:
            headers["content-length"] = str(first.file_size)
        return StreamingResponse(
            _file_chunks(call, first),
            media_type=first.content_type or "application/octet-stream",
            headers=headers,
        )


async def _file_chunks(call: Any, first: Message) -> AsyncIterator[bytes]:
    try:
        if first.chunk:  # type: ignore[attr-defined]
            yield first.chunk  # type: ignore[attr-defined]
        while (part := await call.read()) is not grpc.aio.EOF:
            if part.chunk:
                yield part.chunk
    finally:
        # The client went away or the stream broke: stop the server's work too.
        # (After the headers, an error can only cut the body short, which the
        # client sees as a Content-Length mismatch.)
        call.cancel()


class EventStreamHandler(RouteHandler):
    """A server stream -> Server-Sent Events (gateway/event_stream.py).

    The first message is awaited before answering, so that a refused stream
    (unknown project, no access) gets its JSON error body and HTTP status. The
    `Last-Event-ID` header, when the request has a `last_event_id` field, fills
    it (over the query string's)."""

    def __init__(self, route: RpcRoute, backend: Backend, settings: Settings) -> None:
        super().__init__(route, backend, settings)
        self.resumes = LAST_EVENT_ID_FIELD in route.request_type.fields_by_name

    async def serve(self, request: Request, gate: AccessGate) -> Response:
        kwargs = self.text_kwargs(request, with_query=True)
        last_event_id = request.headers.get("last-event-id")
        if self.resumes and last_event_id:
            kwargs[LAST_EVENT_ID_FIELD] = self.request_codec.parse_text(
                LAST_EVENT_ID_FIELD, [last_event_id]
            )
        message = self.request_codec.build(kwargs)
        call = self.backend.callable_for(self.route)(message, metadata=self.metadata(request))
        try:
            first = await call.read()
        except BaseException:
            call.cancel()
            raise
        stream = EventStream(
            call,
            self.response_codec,
            heartbeat_seconds=self.settings.http_event_heartbeat_seconds,
            closing=self.backend.streams_closing,
        )
        if first is grpc.aio.EOF:
            call.cancel()
            return Response(b"", media_type=EVENT_MEDIA_TYPE, headers=EVENT_HEADERS)
        return StreamingResponse(
            stream.events(first), media_type=EVENT_MEDIA_TYPE, headers=EVENT_HEADERS
        )


class UploadHandler(RouteHandler):
    """A multipart form -> a client stream: the fields, then the file in chunks.

    The first message carries the form fields only, so that no message is
    larger than a chunk plus framing, at any configured message limit.
    """

    async def serve(self, request: Request, gate: AccessGate) -> Response:
        codec = self.request_codec
        # A file upload is large by nature: the server decides before any of it is read.
        await gate.check()
        upload = await read_upload(request, max_file_bytes=self.settings.max_upload_bytes)
        try:
            kwargs: dict[str, Any] = {}
            for name, values in upload.fields.items():
                if name != FILE_FIELD and name != "chunk" and codec.text_parser(name):
                    kwargs[name] = codec.parse_text(name, values)
            kwargs.update(self.text_kwargs(request, with_query=True))
            kwargs.pop("chunk", None)
            first = codec.build(kwargs)
            chunk_bytes = self.settings.transfer_chunk_bytes

            async def messages() -> AsyncIterator[Message]:
                yield first
                async for chunk in upload.chunks(chunk_bytes):
                    yield codec.build({"chunk": chunk})

            call = self.backend.callable_for(self.route)
            answer = StreamAnswer(
                call(messages(), metadata=self.metadata(request), timeout=STREAM_TIMEOUT_SECONDS)
            )
            reply = await answer.result()
        finally:
            upload.close()
        return Response(self.response_codec.to_json(reply), media_type="application/json")


class StreamedBodyHandler(UnaryHandler):
    """A JSON body whose one large array is streamed to the RPC's `<Method>Stream`.

    The body is split around the array (gateway/streamed_body.py): the first
    message carries the fields before it, each message a batch of its items,
    converted as they are parsed, and the last the fields after it. Only a
    batch is ever alive as Python objects, and the server stores batches while
    the gateway parses the next. A body that does not split plainly, or that
    gives a required field (`leading_fields`) only after the array, is parsed
    whole and sent the same way.

    The answer is the one UnaryHandler gives for the same body: the gateway's
    own errors (malformed JSON, a wrong JSON type) come before the server's,
    so when the server refuses the stream early the rest of the body is still
    read for them; a refusal by the gateway mid-stream cancels the call, and the
    server's one transaction writes nothing.
    """

    def __init__(self, route: RpcRoute, backend: Backend, settings: Settings) -> None:
        super().__init__(route, backend, settings)
        assert route.stream_method is not None
        self.stream_codec = message_codec(route.stream_method.input_type)
        self.decode_list = self.stream_codec.field_decoder(route.streamed_field)
        item_type = message_type_of(
            self.stream_codec.descriptor.fields_by_name[route.streamed_field]
        )
        self.plain_items = message_codec(item_type).plain_text_fields()
        self.chunk_bytes = STREAMED_CHUNK_BYTES
        self.leading = leading_fields(route)

    async def serve(self, request: Request, gate: AccessGate) -> Response:
        raw = await read_body(request, limit=self.settings.max_message_bytes, gate=gate)
        text_kwargs = self.text_kwargs(request, with_query=False)
        metadata = self.metadata(request)
        if len(raw) <= ACCESS_FREE_BODY_BYTES:
            # A body read before the server was asked about its caller goes whole to the
            # unary RPC: a stream that the server refuses before its first read (a bad
            # token, say) ends as INTERNAL on the side still writing, not as the refusal.
            message = self.build_from_body(raw, text_kwargs)
            call = self.backend.callable_for(self.route)
            reply = await call(message, metadata=metadata, timeout=UNARY_TIMEOUT_SECONDS)
            return Response(self.response_codec.to_json(reply), media_type="application/json")
        try:
            parts = StreamedBody(raw, self.route.streamed_field, chunk_bytes=self.chunk_bytes)
            if any(parts.head.get(name) is None for name in self.leading):
                raise IrregularBody  # a required field comes later, or not at all
            reply = await self.stream(
                parts, text_kwargs, metadata, offload=len(raw) > OFFLOAD_BODY_BYTES
            )
        except IrregularBody:
            reply = await self.stream_parsed(raw, text_kwargs, metadata)
        finally:
            if len(raw) > OFFLOAD_BODY_BYTES:
                del raw
                release_free_memory()
        return Response(self.response_codec.to_json(reply), media_type="application/json")

    async def stream(
        self,
        parts: StreamedBody,
        text_kwargs: dict[str, Any],
        metadata: list[tuple[str, str]],
        *,
        offload: bool,
    ) -> Message:
        codec = self.stream_codec
        pending = {**codec.decode_kwargs(parts.head), **text_kwargs}
        chunks = parts.chunks()
        call = self.backend.stream_callable_for(self.route)(
            metadata=metadata, timeout=STREAM_TIMEOUT_SECONDS
        )
        answer = StreamAnswer(call)
        try:
            count = 0
            refused = False
            while True:
                fields = {} if refused else pending
                if offload:
                    message, size = await asyncio.to_thread(
                        self.next_message, chunks, count, fields
                    )
                else:
                    message, size = self.next_message(chunks, count, fields)
                if message is None:
                    break
                count += size
                if refused:
                    continue  # only looking for an error of the gateway's own
                pending = {}
                try:
                    await call.write(message)
                except (grpc.aio.AioRpcError, asyncio.InvalidStateError):
                    refused = True  # the server has answered: its error, unless ours comes first
                del message
            pending.update(codec.decode_kwargs(parts.tail))
            if not refused:
                if pending or count == 0:
                    await call.write(codec.build(pending))
                await call.done_writing()
            reply = await answer.result()
        except BaseException:
            call.cancel()
            raise
        return self.unary_reply(reply)

    async def stream_parsed(
        self, raw: bytes | bytearray, text_kwargs: dict[str, Any], metadata: list[tuple[str, str]]
    ) -> Message:
        """The body parsed whole (the usual errors), then sent in batches all the same."""
        field = self.route.streamed_field
        kwargs = await asyncio.to_thread(self.decode_whole, raw)
        kwargs.update(text_kwargs)
        items = kwargs.pop(field, [])
        codec = self.stream_codec

        async def messages() -> AsyncIterator[Message]:
            yield codec.build({**kwargs, field: items[:PARSED_BATCH_ITEMS]})
            for start in range(PARSED_BATCH_ITEMS, len(items), PARSED_BATCH_ITEMS):
                yield codec.build({field: items[start : start + PARSED_BATCH_ITEMS]})

        call = self.backend.stream_callable_for(self.route)
        answer = StreamAnswer(call(messages(), metadata=metadata, timeout=STREAM_TIMEOUT_SECONDS))
        return self.unary_reply(await answer.result())

    def decode_whole(self, raw: bytes | bytearray) -> dict[str, Any]:
        with cyclic_gc_paused():
            return self.stream_codec.decode_kwargs(parse_json(raw) if raw.strip() else {})

    def next_message(
        self, chunks: Iterator[list[Any]], offset: int, fields: dict[str, Any]
    ) -> tuple[Message | None, int]:
        """The message of the body's next chunk of items (and `fields`), and how many
        items it holds; (None, 0) after the last chunk."""
        items = next(chunks, None)
        if items is None:
            return None, 0
        field = self.route.streamed_field
        if self.plain_items is not None:
            try:
                trusted = trust_plain_items(items, self.plain_items)
                return self.stream_codec.build({**fields, field: trusted}), len(items)
            except (TypeError, ValueError, AttributeError):
                pass  # decoded again below, the careful way
        decoded = self.decode_items(items, offset)
        return self.stream_codec.build({**fields, field: decoded}), len(items)

    def decode_items(self, items: list[Any], offset: int) -> list[Any]:
        """A chunk's items as constructor arguments; errors name the item's index in the body."""
        try:
            return self.decode_list(items)  # type: ignore[no-any-return]
        except CodecError as exc:
            if exc.path and isinstance(exc.path[0], int):
                exc.path[0] += offset
            exc.path.appendleft(self.route.streamed_field)
            raise

    def unary_reply(self, reply: Message) -> Message:
        """The stream's response as the route's own response message (the same fields)."""
        return self.response_codec.message_class.FromString(reply.SerializeToString())


_HANDLERS: dict[RouteKind, type[RouteHandler]] = {
    RouteKind.UNARY: UnaryHandler,
    RouteKind.DOWNLOAD: DownloadHandler,
    RouteKind.UPLOAD: UploadHandler,
    RouteKind.STREAMED_BODY: StreamedBodyHandler,
    RouteKind.EVENT_STREAM: EventStreamHandler,
}


def register_routes(app: FastAPI, backend: Backend, settings: Settings) -> list[RpcRoute]:
    """Add a route for every annotated RPC; returns them (for the OpenAPI document)."""
    routes = discover_routes()
    for route in routes:
        handler = _HANDLERS[route.kind](route, backend, settings)
        app.router.add_route(
            route.path, handler.handle, methods=[route.http_method], name=route.operation_id
        )
    return routes


def content_disposition(file_name: str) -> str:
    """`attachment` with the name as RFC 6266 asks: a quoted ASCII fallback,
    plus `filename*` (RFC 5987, UTF-8) when the name is not plain ASCII."""
    ascii_name = "".join(c if 0x20 <= ord(c) < 0x7F and c not in '"\\/' else "_" for c in file_name)
    header = f'attachment; filename="{ascii_name}"'
    if ascii_name != file_name:
        header += f"; filename*=UTF-8''{quote(file_name, safe='')}"
    return header
