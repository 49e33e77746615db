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
* anything else -> INTERNAL / INTERNAL_ERROR, logged with its stack trace
  server-side, never sent to the client.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, NoReturn

import grpc
from grpc import aio

from annotation_api.errors import DomainError, ErrorCode
from annotation_api.log import REQUEST_ID_HEADER, accept_request_id, request_id_var
from server.access import check_method
from server.auth import Authenticator, bearer_token, caller_var, is_public_method
from server.status import trailing_metadata

log = logging.getLogger("server.rpc")

Metadata = tuple[tuple[str, Any], ...]


def _metadata_value(metadata: Metadata | None, key: str) -> str | None:
    for name, value in metadata or ():
        if name == key:
            return value if isinstance(value, str) else value.decode("latin-1")
    return None


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

    def __init__(self, authenticator: Authenticator) -> None:
        self._authenticator = authenticator

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        call_details: Any = handler_call_details
        if handler is None or is_public_method(call_details.method):
            # Health and reflection: no token, no domain errors, served as they come.
            return handler
        return self._wrap(handler, call_details.method, call_details.invocation_metadata)

    async def _enter(self, call: _Call) -> None:
        """Start of the RPC: its request id, then its caller (INVALID_TOKEN/PERMISSION_DENIED)."""
        request_id_var.set(accept_request_id(_metadata_value(call.metadata, REQUEST_ID_HEADER)))
        caller = await self._authenticator.authenticate(bearer_token(call.metadata))
        check_method(caller, call.method)
        caller_var.set(caller)

    def _succeed(self, call: _Call, context: aio.ServicerContext[Any, Any]) -> None:
        request_id = request_id_var.get() or ""
        context.set_trailing_metadata(((REQUEST_ID_HEADER, request_id),))
        log.info(
            "rpc ok", extra={"method": call.method, "code": "OK", "duration_ms": call.elapsed_ms()}
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
        await context.abort(
            error.grpc_status,
            error.message,
            trailing_metadata=trailing_metadata(error, (REQUEST_ID_HEADER, request_id)),
        )
        raise AssertionError("context.abort returned")  # abort always raises

    def _wrap(
        self, handler: grpc.RpcMethodHandler, method: str, metadata: Metadata | None
    ) -> grpc.RpcMethodHandler:
        h: Any = handler
        if h.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._wrap_unary_response(h.unary_unary, method, metadata),
                request_deserializer=h.request_deserializer,
                response_serializer=h.response_serializer,
            )
        if h.stream_unary is not None:
            return grpc.stream_unary_rpc_method_handler(
                self._wrap_unary_response(h.stream_unary, method, metadata),
                request_deserializer=h.request_deserializer,
                response_serializer=h.response_serializer,
            )
        if h.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._wrap_stream_response(h.unary_stream, method, metadata),
                request_deserializer=h.request_deserializer,
                response_serializer=h.response_serializer,
            )
        return grpc.stream_stream_rpc_method_handler(
            self._wrap_stream_response(h.stream_stream, method, metadata),
            request_deserializer=h.request_deserializer,
            response_serializer=h.response_serializer,
        )

    def _wrap_unary_response(
        self, behavior: Callable[..., Any], method: str, metadata: Metadata | None
    ) -> Callable[..., Any]:
        """Wrap a handler that returns one response (unary-unary and stream-unary)."""

        async def run(request: Any, context: aio.ServicerContext[Any, Any]) -> Any:
            call = _Call(method, metadata)
            try:
                await self._enter(call)
                response = await behavior(request, context)
            except Exception as exc:
                await self._fail(call, context, exc)
            self._succeed(call, context)
            return response

        return run

    def _wrap_stream_response(
        self, behavior: Callable[..., Any], method: str, metadata: Metadata | None
    ) -> Callable[..., Any]:
        """Wrap a handler that streams responses, as a generator or with context.write."""
        if inspect.isasyncgenfunction(behavior):

            async def run_generator(
                request: Any, context: aio.ServicerContext[Any, Any]
            ) -> AsyncIterator[Any]:
                call = _Call(method, metadata)
                try:
                    await self._enter(call)
                    async for response in behavior(request, context):
                        yield response
                except Exception as exc:
                    await self._fail(call, context, exc)
                self._succeed(call, context)

            return run_generator

        async def run_writer(request: Any, context: aio.ServicerContext[Any, Any]) -> None:
            call = _Call(method, metadata)
            try:
                await self._enter(call)
                await behavior(request, context)
            except Exception as exc:
                await self._fail(call, context, exc)
            self._succeed(call, context)

        return run_writer
