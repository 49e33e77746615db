"""The one domain error, and how each edge (gRPC, HTTP) spells it.

Domain code raises `DomainError(ErrorCode.X, message, details)`; the server's
interceptor turns it into a gRPC status and the gateway turns that status into
the documented JSON body. This table is the only place the mapping lives.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import grpc


class ErrorCode(StrEnum):
    """Every error_code the API answers with."""

    INVALID_TOKEN = "INVALID_TOKEN"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    PROJECT_NOT_FOUND = "PROJECT_NOT_FOUND"
    TASK_NOT_FOUND = "TASK_NOT_FOUND"
    USER_NOT_FOUND = "USER_NOT_FOUND"
    ANNOTATION_NOT_FOUND = "ANNOTATION_NOT_FOUND"
    NO_TASK_AVAILABLE = "NO_TASK_AVAILABLE"
    EXPORT_NOT_FOUND = "EXPORT_NOT_FOUND"
    EXPORT_EXPIRED = "EXPORT_EXPIRED"
    WEBHOOK_NOT_FOUND = "WEBHOOK_NOT_FOUND"
    INVALID_REQUEST = "INVALID_REQUEST"
    INVALID_TASK_TYPE = "INVALID_TASK_TYPE"
    INVALID_IMPORT_FILE = "INVALID_IMPORT_FILE"
    INVALID_STATE = "INVALID_STATE"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    EXPORT_FAILED = "EXPORT_FAILED"
    INTERNAL_ERROR = "INTERNAL_ERROR"


# error_code -> (HTTP status, gRPC status code name). Names, not grpc.StatusCode:
# this module does not import grpc (about 20 MB of memory), so that a process
# which only raises errors (the export format process) stays small.
ERROR_STATUS: dict[ErrorCode, tuple[int, str]] = {
    ErrorCode.INVALID_TOKEN: (401, "UNAUTHENTICATED"),
    ErrorCode.PERMISSION_DENIED: (403, "PERMISSION_DENIED"),
    ErrorCode.PROJECT_NOT_FOUND: (404, "NOT_FOUND"),
    ErrorCode.TASK_NOT_FOUND: (404, "NOT_FOUND"),
    ErrorCode.USER_NOT_FOUND: (404, "NOT_FOUND"),
    ErrorCode.ANNOTATION_NOT_FOUND: (404, "NOT_FOUND"),
    ErrorCode.NO_TASK_AVAILABLE: (404, "NOT_FOUND"),
    ErrorCode.EXPORT_NOT_FOUND: (404, "NOT_FOUND"),
    ErrorCode.EXPORT_EXPIRED: (404, "NOT_FOUND"),
    ErrorCode.WEBHOOK_NOT_FOUND: (404, "NOT_FOUND"),
    ErrorCode.INVALID_REQUEST: (400, "INVALID_ARGUMENT"),
    ErrorCode.INVALID_TASK_TYPE: (400, "INVALID_ARGUMENT"),
    ErrorCode.INVALID_IMPORT_FILE: (422, "INVALID_ARGUMENT"),
    ErrorCode.INVALID_STATE: (409, "FAILED_PRECONDITION"),
    ErrorCode.IDEMPOTENCY_CONFLICT: (409, "ALREADY_EXISTS"),
    ErrorCode.PAYLOAD_TOO_LARGE: (413, "RESOURCE_EXHAUSTED"),
    ErrorCode.EXPORT_FAILED: (500, "INTERNAL"),
    ErrorCode.INTERNAL_ERROR: (500, "INTERNAL"),
}

# What a gRPC status without our detail means, for statuses raised by gRPC itself
# (e.g. a message over the size limit) rather than by domain code.
FALLBACK_CODES: dict[str, ErrorCode] = {
    "UNAUTHENTICATED": ErrorCode.INVALID_TOKEN,
    "PERMISSION_DENIED": ErrorCode.PERMISSION_DENIED,
    "INVALID_ARGUMENT": ErrorCode.INVALID_REQUEST,
    "RESOURCE_EXHAUSTED": ErrorCode.PAYLOAD_TOO_LARGE,
    "FAILED_PRECONDITION": ErrorCode.INVALID_STATE,
}


class DomainError(Exception):
    """An error the API reports to its caller with a documented error_code."""

    def __init__(
        self, code: ErrorCode, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details: dict[str, Any] = details or {}

    @property
    def http_status(self) -> int:
        return ERROR_STATUS[self.code][0]

    @property
    def grpc_status(self) -> grpc.StatusCode:
        import grpc  # here, not at the top: see ERROR_STATUS

        return grpc.StatusCode[ERROR_STATUS[self.code][1]]

    def __repr__(self) -> str:
        return f"DomainError({self.code}, {self.message!r}, {self.details!r})"
