"""DomainError -> gRPC status with rich details (google.rpc.Status + ErrorDetail).

The status travels as the usual code and message plus the
`grpc-status-details-bin` trailer: a google.rpc.Status whose single detail is
an Any holding annotation.v1.ErrorDetail {error_code, details}. That is what
grpc-status (`rpc_status.from_call`) and the gateway decode.
"""

from __future__ import annotations

from typing import Any

import orjson
from annotation.v1 import common_pb2
from google.protobuf import any_pb2
from google.protobuf.struct_pb2 import Struct
from google.rpc import status_pb2

from annotation_api.errors import DomainError

STATUS_DETAILS_KEY = "grpc-status-details-bin"


def _as_struct(details: dict[str, Any]) -> Struct:
    struct = Struct()
    try:
        struct.update(details)
    except (TypeError, ValueError):
        # Something not JSON-shaped slipped into details: keep its text rather than fail the error.
        struct.update(orjson.loads(orjson.dumps(details, default=str)))
    return struct


def status_details(error: DomainError) -> bytes:
    """The serialized google.rpc.Status that carries error's code and details."""
    detail = common_pb2.ErrorDetail(error_code=str(error.code), details=_as_struct(error.details))
    packed = any_pb2.Any()
    packed.Pack(detail)
    status = status_pb2.Status(
        code=error.grpc_status.value[0], message=error.message, details=[packed]
    )
    serialized: bytes = status.SerializeToString()
    return serialized


def trailing_metadata(error: DomainError, *extra: tuple[str, str]) -> tuple[tuple[str, Any], ...]:
    """Trailing metadata for aborting an RPC with error (plus any extra entries)."""
    return ((STATUS_DETAILS_KEY, status_details(error)), *extra)
