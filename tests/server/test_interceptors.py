"""The server interceptor on all four RPC kinds, over a real grpc.aio server.

A small byte-level service (identity serializers) exercises what the
annotation services cannot all show yet: errors raised before, between and
after streamed messages, in generator and context.write styles.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from grpc import aio

from annotation_api.errors import DomainError, ErrorCode
from server.auth import Authenticator, current_caller
from server.interceptors import ServerInterceptor
from storage.database import Database
from tests.helpers import TestUser, bearer, rpc_error

SERVICE = "test.Probe"


def _fail_on(request: bytes) -> None:
    if request == b"domain":
        raise DomainError(ErrorCode.PROJECT_NOT_FOUND, "project not found", {"project_id": "p1"})
    if request == b"crash":
        raise RuntimeError("secret internals /etc/passwd")


async def unary_unary(request: bytes, context: Any) -> bytes:
    _fail_on(request)
    return current_caller().username.encode()


async def unary_stream_generator(request: bytes, context: Any) -> AsyncIterator[bytes]:
    yield b"first"
    yield current_caller().username.encode()
    _fail_on(request)


async def unary_stream_writer(request: bytes, context: Any) -> None:
    await context.write(b"first")
    _fail_on(request)
    await context.write(b"second")


async def stream_unary(requests: AsyncIterator[bytes], context: Any) -> bytes:
    received = [item async for item in requests]
    for item in received:
        _fail_on(item)
    return b"+".join(received)


async def stream_stream(requests: AsyncIterator[bytes], context: Any) -> AsyncIterator[bytes]:
    async for item in requests:
        _fail_on(item)
        yield item.upper()


def _handler() -> grpc.GenericRpcHandler:
    return grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "UnaryUnary": grpc.unary_unary_rpc_method_handler(unary_unary),
            "UnaryStreamGenerator": grpc.unary_stream_rpc_method_handler(unary_stream_generator),
            "UnaryStreamWriter": grpc.unary_stream_rpc_method_handler(unary_stream_writer),
            "StreamUnary": grpc.stream_unary_rpc_method_handler(stream_unary),
            "StreamStream": grpc.stream_stream_rpc_method_handler(stream_stream),
        },
    )


@pytest.fixture
async def probe(database: Database) -> AsyncIterator[aio.Channel]:
    server = aio.server(interceptors=[ServerInterceptor(Authenticator(database))])
    server.add_generic_rpc_handlers((_handler(),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield channel
    finally:
        await server.stop(0)


def method(channel: aio.Channel, kind: str, name: str) -> Any:
    factory = getattr(channel, kind)
    return factory(f"/{SERVICE}/{name}")


async def test_unary_unary_sees_the_caller(probe: aio.Channel, admin: TestUser) -> None:
    call = method(probe, "unary_unary", "UnaryUnary")
    assert await call(b"ok", metadata=admin.metadata) == b"alice"


async def test_domain_error_carries_error_code_and_details(
    probe: aio.Channel, admin: TestUser
) -> None:
    call = method(probe, "unary_unary", "UnaryUnary")
    with pytest.raises(aio.AioRpcError) as caught:
        await call(b"domain", metadata=admin.metadata)
    error = rpc_error(caught.value)
    assert error.code == grpc.StatusCode.NOT_FOUND
    assert error.error_code == "PROJECT_NOT_FOUND"
    assert error.message == "project not found"
    assert error.details == {"project_id": "p1"}


async def test_unexpected_exception_is_internal_without_internals(
    probe: aio.Channel, admin: TestUser
) -> None:
    call = method(probe, "unary_unary", "UnaryUnary")
    with pytest.raises(aio.AioRpcError) as caught:
        await call(
            b"crash",
            metadata=admin.metadata,
        )
    error = rpc_error(caught.value)
    assert error.code == grpc.StatusCode.INTERNAL
    assert error.error_code == "INTERNAL_ERROR"
    assert "passwd" not in error.message and "Traceback" not in error.message
    assert set(error.details) == {"request_id"}


async def test_request_id_is_taken_from_metadata_and_returned(
    probe: aio.Channel, admin: TestUser
) -> None:
    call = method(probe, "unary_unary", "UnaryUnary")(
        b"crash", metadata=bearer(admin.token, request_id="req-42")
    )
    with pytest.raises(aio.AioRpcError) as caught:
        await call
    assert rpc_error(caught.value).details == {"request_id": "req-42"}
    assert ("x-request-id", "req-42") in tuple(caught.value.trailing_metadata())

    ok = method(probe, "unary_unary", "UnaryUnary")(b"ok", metadata=admin.metadata)
    await ok
    request_ids = [v for k, v in await ok.trailing_metadata() if k == "x-request-id"]
    assert len(request_ids) == 1 and len(request_ids[0]) == 32


@pytest.mark.parametrize("name", ["UnaryStreamGenerator", "UnaryStreamWriter"])
async def test_server_streaming_error_after_messages(
    probe: aio.Channel, admin: TestUser, name: str
) -> None:
    call = method(probe, "unary_stream", name)(b"domain", metadata=admin.metadata)
    received = []
    with pytest.raises(aio.AioRpcError) as caught:
        async for item in call:
            received.append(item)
    assert received[0] == b"first"
    assert rpc_error(caught.value).error_code == "PROJECT_NOT_FOUND"


async def test_server_streaming_success(probe: aio.Channel, admin: TestUser) -> None:
    call = method(probe, "unary_stream", "UnaryStreamGenerator")(b"ok", metadata=admin.metadata)
    assert [item async for item in call] == [b"first", b"alice"]


async def test_server_streaming_needs_a_token(probe: aio.Channel) -> None:
    call = method(probe, "unary_stream", "UnaryStreamGenerator")(b"ok")
    with pytest.raises(aio.AioRpcError) as caught:
        _ = [item async for item in call]
    assert rpc_error(caught.value).error_code == "INVALID_TOKEN"


async def test_client_streaming_errors_and_success(probe: aio.Channel, admin: TestUser) -> None:
    call = method(probe, "stream_unary", "StreamUnary")
    assert await call(iter([b"a", b"b"]), metadata=admin.metadata) == b"a+b"
    with pytest.raises(aio.AioRpcError) as caught:
        await call(iter([b"a", b"crash"]), metadata=admin.metadata)
    assert rpc_error(caught.value).error_code == "INTERNAL_ERROR"
    with pytest.raises(aio.AioRpcError) as caught:
        await call(iter([b"a"]), metadata=(("authorization", "Bearer nope"),))
    assert rpc_error(caught.value).error_code == "INVALID_TOKEN"


async def test_bidirectional_streaming(probe: aio.Channel, admin: TestUser) -> None:
    call = method(probe, "stream_stream", "StreamStream")
    assert [x async for x in call(iter([b"a", b"b"]), metadata=admin.metadata)] == [b"A", b"B"]
    received = []
    with pytest.raises(aio.AioRpcError) as caught:
        async for item in call(iter([b"a", b"domain"]), metadata=admin.metadata):
            received.append(item)
    assert received == [b"A"]
    assert rpc_error(caught.value).error_code == "PROJECT_NOT_FOUND"
