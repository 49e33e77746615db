"""Small helpers shared by tests (import them: `from tests.helpers import ...`)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
from annotation.v1 import common_pb2
from google.protobuf import json_format
from grpc_status import rpc_status

Metadata = tuple[tuple[str, str], ...]
T = TypeVar("T")

# How long a test waits for something that should happen: a bound on a hang, not on speed.
# Generous, so that a busy machine makes a test slower, never red.
WAIT_SECONDS = 60.0


def bearer(token: str, *, request_id: str | None = None) -> Metadata:
    """gRPC call metadata carrying `authorization: Bearer <token>` (and a request id)."""
    entries = [("authorization", f"Bearer {token}")]
    if request_id is not None:
        entries.append(("x-request-id", request_id))
    return tuple(entries)


@dataclass(frozen=True)
class TestUser:
    """A user created for a test, with one active token."""

    __test__ = False  # not a test class, despite the name

    user_id: str
    username: str
    role: str
    token: str

    @property
    def metadata(self) -> Metadata:
        """Call metadata authenticating as this user."""
        return bearer(self.token)


@dataclass(frozen=True)
class RpcErrorInfo:
    """What a failed RPC told the client: status code, message and our ErrorDetail."""

    code: grpc.StatusCode
    message: str
    error_code: str | None
    details: dict[str, Any]


def rpc_error(exc: grpc.aio.AioRpcError) -> RpcErrorInfo:
    """Decode the google.rpc.Status / annotation.v1.ErrorDetail of a failed call."""
    error_code: str | None = None
    details: dict[str, Any] = {}
    # from_call also checks that the rich status repeats the call's code and message.
    status = rpc_status.from_call(exc)
    for packed in status.details if status is not None else ():
        detail = common_pb2.ErrorDetail()
        if packed.Unpack(detail):
            error_code = detail.error_code
            details = json_format.MessageToDict(detail.details)
    return RpcErrorInfo(exc.code(), exc.details() or "", error_code, details)


async def wait_until(
    check: Callable[[], Awaitable[T]] | Callable[[], T],
    *,
    what: str,
    timeout: float = WAIT_SECONDS,
) -> T:
    """Poll `check` (a function or a coroutine function) until it returns something true;
    return that. Fails, naming `what`, when it has not within `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    pause = 0.005
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value  # type: ignore[return-value]
        if loop.time() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {what}")
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.1)
