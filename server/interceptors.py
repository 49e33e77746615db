"""The one server interceptor: request id, authentication, error translation, access log.

Why it wraps the method handler instead of acting in `intercept_service`:
a grpc.aio `ServerInterceptor.intercept_service` only sees the call details
and returns a handler; it has no `ServicerContext`, so it cannot abort with a
status carrying rich details (anything it raises becomes UNKNOWN), and it
never sees the exceptions a handler raises later, in particular those raised
while a server-streaming generator is being iterated or while a
client-streaming handler consumes its request iterator. So the interceptor
returns a copy of the handler whose behaviour is wrapped, one wrapper per RPC
kind (unary-unary, unary-stream, stream-unary, stream-stream), preserving
whether the original is an async generator (grpc.aio iterates generators and
awaits coroutines). The wrapper runs inside the RPC's own task, so the
contextvars it sets (caller, request id) are what the servicer sees, and every
exception, whenever it happens, passes through one place:

* DomainError -> its gRPC code, message, and `grpc-status-details-bin`;
* an abort the servicer did itself (grpc.aio.AbortError) and cancellation pass through;
  a cancelled call (its deadline passed, or its client cancelled or went away)
  leaves one log line naming the method and which of the two it was;
* anything else -> INTERNAL / INTERNAL_ERROR, logged with its stack trace
  server-side, never sent to the client.

After authentication every request message (each message of a request stream,
as the handler reads it) passes the rules of `server.request_rules`, and a
call of an RPC that honours idempotency keys runs through `server.idempotency`.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, NoReturn

import grpc
from grpc import aio

from annotation_api.errors import DomainError, ErrorCode
from annotation_api.log import REQUEST_ID_HEADER, accept_request_id, request_id_var
from server.access import authorize
from server.auth import (
    SELF_AUTHORIZING_METHODS,
    Authenticator,
    bearer_token,
    caller_var,
    current_caller,
    is_public_method,
)
from server.idempotency import KEY_HEADER, Idempotency, idempotent_method
from server.request_rules import check_request
from server.status import rich_status

log = logging.getLogger("server.rpc")

Metadata = tuple[tuple[str, Any], ...]


def _metadata_value(metadata: Metadata | None, key: str) -> str | None:
    for name, value in metadata or ():
        if name == key:
            return value if isinstance(value, str) else value.decode("latin-1")
    return None


def _checked(request: Any, *, streamed: bool) -> Any:
    """The request after the rules every request obeys (server.request_rules); a
    request stream is checked message by message as the handler reads it."""
    if not streamed:
        check_request(request)
        return request

    async def checked_stream() -> AsyncIterator[Any]:
        async for message in request:
            check_request(message)
            yield message

    return checked_stream()


class _Call:
    """What the wrapper knows about one RPC while it runs."""

    def __init__(self, method: str, metadata: Metadata | None) -> None:
        self.method = method
        self.metadata = metadata
        self.started = time.perf_counter()

    def elapsed_ms(self) -> float:
        return round((time.perf_counter() - self.started) * 1000, 2)


class ServerInterceptor(aio.ServerInterceptor):
    """Authenticates every non-public RPC and translates every error (see module docstring)."""

    def __init__(
        self, authenticator: Authenticator, idempotency: Idempotency | None = None
    ) -> None:
        self._authenticator = authenticator
        self._idempotency = idempotency
        # method -> (its handler, the wrapped copy): wrapped once, not per call
        self._wrapped: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        method: str = handler_call_details.method
        cached = self._wrapped.get(method)
        if cached is not None and cached[0] is handler:
            return cached[1]
        if handler is None or is_public_method(method):
            # Health and reflection: no token, no domain errors, served as they come.
            return handler
        wrapped = self._wrap(handler, method)
        self._wrapped[method] = (handler, wrapped)
        return wrapped

    async def _enter(self, call: _Call) -> None:
        """Start of the RPC: its request id, then its caller (INVALID_TOKEN/PERMISSION_DENIED)."""
        request_id_var.set(accept_request_id(_metadata_value(call.metadata, REQUEST_ID_HEADER)))
        if call.method in SELF_AUTHORIZING_METHODS:
            return
        caller = await authorize(self._authenticator, bearer_token(call.metadata), call.method)
        caller_var.set(caller)

    async def _respond(
        self,
        call: _Call,
        request: Any,
        context: aio.ServicerContext[Any, Any],
        behavior: Callable[..., Any],
        streamed: bool,
    ) -> Any:
        """behavior's response; through the idempotency keys when the RPC honours them
        and the call carries one (server.idempotency)."""
        key = _metadata_value(call.metadata, KEY_HEADER)
        method = idempotent_method(call.method) if key is not None else None
        if self._idempotency is None or key is None or method is None:
            return await behavior(request, context)
        return await self._idempotency.run(
            caller=current_caller(),
            method=method,
            key=key,
            request=request,
            streamed=streamed,
            behavior=lambda replay: behavior(replay, context),
        )

    def _succeed(self, call: _Call, context: aio.ServicerContext[Any, Any]) -> None:
        request_id = request_id_var.get() or ""
        context.set_trailing_metadata(((REQUEST_ID_HEADER, request_id),))
        log.info(
            "rpc ok", extra={"method": call.method, "code": "OK", "duration_ms": call.elapsed_ms()}
        )

    def _cancelled(self, call: _Call, context: aio.ServicerContext[Any, Any]) -> None:
        """Log a call cancelled under the handler (grpc.aio cancels its task)."""
        remaining = context.time_remaining()
        deadline_passed = remaining is not None and remaining <= 0
        reason = "its deadline passed" if deadline_passed else "the client cancelled or went away"
        log.info(
            "rpc cancelled: %s (%s)",
            call.method,
            reason,
            extra={
                "method": call.method,
                "code": "DEADLINE_EXCEEDED" if deadline_passed else "CANCELLED",
                "duration_ms": call.elapsed_ms(),
            },
        )

    async def _fail(
        self, call: _Call, context: aio.ServicerContext[Any, Any], exc: Exception
    ) -> NoReturn:
        """Abort the RPC with the status exc stands for."""
        if isinstance(exc, aio.AbortError):
            raise exc
        request_id = request_id_var.get() or ""
        if isinstance(exc, DomainError):
            error = exc
            level = logging.ERROR if error.http_status >= 500 else logging.INFO
            log.log(
                level,
                "rpc failed",
                extra={
                    "method": call.method,
                    "code": error.grpc_status.name,
                    "error_code": str(error.code),
                    "duration_ms": call.elapsed_ms(),
                },
            )
        else:
            log.exception(
                "rpc crashed", extra={"method": call.method, "duration_ms": call.elapsed_ms()}
            )
            error = DomainError(
                ErrorCode.INTERNAL_ERROR, "internal error", {"request_id": request_id}
            )
        status = rich_status(error)
        await context.abort(
            status.code,
            status.details,
            trailing_metadata=(*status.trailing_metadata, (REQUEST_ID_HEADER, request_id)),
        )
        raise AssertionError("context.abort returned")  # abort always raises

    def _wrap(self, handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
        h: Any = handler
        if h.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._wrap_unary_response(h.unary_unary, method),
                request_deserializer=h.request_deserializer,
                response_serializer=h.response_serializer,
            )
        if h.stream_unary is not None:
            return grpc.stream_unary_rpc_method_handler(
                self._wrap_unary_response(h.stream_unary, method, streamed=True),
                request_deserializer=h.request_deserializer,
                response_serializer=h.response_serializer,
            )
        if h.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._wrap_stream_response(h.unary_stream, method),
                request_deserializer=h.request_deserializer,
                response_serializer=h.response_serializer,
            )
        return grpc.stream_stream_rpc_method_handler(
            self._wrap_stream_response(h.stream_stream, method, streamed=True),
            request_deserializer=h.request_deserializer,
            response_serializer=h.response_serializer,
        )

    def _wrap_unary_response(
        self,
        behavior: Callable[..., Any],
        method: str,
        *,
        streamed: bool = False,
    ) -> Callable[..., Any]:
        """Wrap a handler that returns one response (unary-unary and stream-unary)."""

        async def run(request: Any, context: aio.ServicerContext[Any, Any]) -> Any:
            call = _Call(method, context.invocation_metadata())
            try:
                await self._enter(call)
                request = _checked(request, streamed=streamed)
                response = await self._respond(call, request, context, behavior, streamed)
            except asyncio.CancelledError:
                self._cancelled(call, context)
                raise
            except Exception as exc:
                await self._fail(call, context, exc)
            self._succeed(call, context)
            return response

        return run

    def _wrap_stream_response(
        self,
        behavior: Callable[..., Any],
        method: str,
        *,
        streamed: bool = False,
    ) -> Callable[..., Any]:
        """Wrap a handler that streams responses, as a generator or with context.write."""
        if inspect.isasyncgenfunction(behavior):

            async def run_generator(
                request: Any, context: aio.ServicerContext[Any, Any]
            ) -> AsyncIterator[Any]:
                call = _Call(method, context.invocation_metadata())
                try:
                    await self._enter(call)
                    request = _checked(request, streamed=streamed)
                    async for response in behavior(request, context):
                        yield response
                except asyncio.CancelledError:
                    self._cancelled(call, context)
                    raise
                except Exception as exc:
                    await self._fail(call, context, exc)
                self._succeed(call, context)

            return run_generator

        async def run_writer(request: Any, context: aio.ServicerContext[Any, Any]) -> None:
            call = _Call(method, context.invocation_metadata())
            try:
                await self._enter(call)
                request = _checked(request, streamed=streamed)
                await behavior(request, context)
            except asyncio.CancelledError:
                self._cancelled(call, context)
                raise
            except Exception as exc:
                await self._fail(call, context, exc)
            self._succeed(call, context)

        return run_writer
