"""Small helpers shared by tests (import them: `from tests.helpers import ...`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc
from annotation.v1 import common_pb2
from google.protobuf import json_format
from grpc_status import rpc_status

Metadata = tuple[tuple[str, str], ...]


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
