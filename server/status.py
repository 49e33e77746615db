"""DomainError -> gRPC status with rich details (google.rpc.Status + ErrorDetail).

The status travels as the usual code and message plus the
`grpc-status-details-bin` trailer: a google.rpc.Status whose single detail is
an Any holding annotation.v1.ErrorDetail {error_code, details}. grpcio-status
builds that trailer (`rpc_status.to_status`) and reads it back
(`rpc_status.from_call`, as the gateway does).
"""

from __future__ import annotations

from typing import Any

import grpc
import orjson
from annotation.v1 import common_pb2
from google.protobuf import any_pb2
from google.protobuf.struct_pb2 import Struct
from google.rpc import status_pb2
from grpc_status import rpc_status

from annotation_api.errors import DomainError


def _as_struct(details: dict[str, Any]) -> Struct:
    struct = Struct()
    try:
        struct.update(details)
    except (TypeError, ValueError):
        # Something not JSON-shaped slipped into details: keep its text rather than fail the error.
        struct.update(orjson.loads(orjson.dumps(details, default=str)))
    return struct


def rich_status(error: DomainError) -> grpc.Status:
    """The gRPC status (code, message, details trailer) that carries error."""
    detail = common_pb2.ErrorDetail(error_code=str(error.code), details=_as_struct(error.details))
    packed = any_pb2.Any()
    packed.Pack(detail)
    status = status_pb2.Status(
        code=error.grpc_status.value[0], message=error.message, details=[packed]
    )
    return rpc_status.to_status(status)
