"""The server's answer to a client stream, even when the gateway was still writing.

A server may refuse a stream at any message (the first one names a project that
does not exist, a file is too deep at its tenth chunk) while the gateway is
still sending the rest. grpc.aio then fails the write in flight and replaces
the call's status, already set from the server's answer, with its own INTERNAL
"Internal error from Core": about one refused upload in a hundred was answered
500 instead of its 400.

`StreamAnswer` watches the call from its start: the first status set on it is
the one a done callback sees, before a failed write can replace it. When the
call ends with gRPC's own internal error and the server had answered
otherwise, the server's answer is what the caller gets.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

import grpc

T = TypeVar("T")

# The details grpc.aio gives the status it sets when a write fails.
_CORE_INTERNAL_DETAILS = "Internal error from Core"


class StreamAnswer:
    """The outcome of a client-streaming call (see module docstring)."""

    def __init__(self, call: Any) -> None:
        self._call = call
        self._first: grpc.aio.AioRpcError | None = None
        call.add_done_callback(self._on_done)

    async def result(self) -> Any:
        """The response; the server's error when the call failed."""
        try:
            return await self._call
        except grpc.aio.AioRpcError as raised:
            first = self._first
            if (
                first is not None
                and raised.code() == grpc.StatusCode.INTERNAL
                and raised.details() == _CORE_INTERNAL_DETAILS
                and first.details() != _CORE_INTERNAL_DETAILS
            ):
                raise first from None
            raise

    def _on_done(self, call: Any) -> None:
        # Called as the status is set: it can be read now, without waiting.
        code = _settled(call.code())
        if code is None or code == grpc.StatusCode.OK:
            return
        self._first = grpc.aio.AioRpcError(
            code,
            grpc.aio.Metadata(),
            _settled(call.trailing_metadata()) or grpc.aio.Metadata(),
            details=_settled(call.details()),
            debug_error_string=_settled(call.debug_error_string()),
        )


def _settled(coroutine: Coroutine[Any, Any, T]) -> T | None:
    """The value of a coroutine that returns without waiting (a finished call's status),
    else None."""
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    coroutine.close()
    return None
