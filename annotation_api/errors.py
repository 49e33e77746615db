"""The one domain error, and how each edge (gRPC, HTTP) spells it.

Domain code raises `DomainError(ErrorCode.X, message, details)`; the server's
interceptor turns it into a gRPC status and the gateway turns that status into
the documented JSON body. This table is the only place the mapping lives.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

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
    INVALID_REQUEST = "INVALID_REQUEST"
    INVALID_TASK_TYPE = "INVALID_TASK_TYPE"
    INVALID_IMPORT_FILE = "INVALID_IMPORT_FILE"
    INVALID_STATE = "INVALID_STATE"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    EXPORT_FAILED = "EXPORT_FAILED"
    INTERNAL_ERROR = "INTERNAL_ERROR"


# error_code -> (HTTP status, gRPC status code)
ERROR_STATUS: dict[ErrorCode, tuple[int, grpc.StatusCode]] = {
    ErrorCode.INVALID_TOKEN: (401, grpc.StatusCode.UNAUTHENTICATED),
    ErrorCode.PERMISSION_DENIED: (403, grpc.StatusCode.PERMISSION_DENIED),
    ErrorCode.PROJECT_NOT_FOUND: (404, grpc.StatusCode.NOT_FOUND),
    ErrorCode.TASK_NOT_FOUND: (404, grpc.StatusCode.NOT_FOUND),
    ErrorCode.USER_NOT_FOUND: (404, grpc.StatusCode.NOT_FOUND),
    ErrorCode.ANNOTATION_NOT_FOUND: (404, grpc.StatusCode.NOT_FOUND),
    ErrorCode.NO_TASK_AVAILABLE: (404, grpc.StatusCode.NOT_FOUND),
    ErrorCode.EXPORT_NOT_FOUND: (404, grpc.StatusCode.NOT_FOUND),
    ErrorCode.EXPORT_EXPIRED: (404, grpc.StatusCode.NOT_FOUND),
    ErrorCode.INVALID_REQUEST: (400, grpc.StatusCode.INVALID_ARGUMENT),
    ErrorCode.INVALID_TASK_TYPE: (400, grpc.StatusCode.INVALID_ARGUMENT),
    ErrorCode.INVALID_IMPORT_FILE: (422, grpc.StatusCode.INVALID_ARGUMENT),
    ErrorCode.INVALID_STATE: (409, grpc.StatusCode.FAILED_PRECONDITION),
    ErrorCode.PAYLOAD_TOO_LARGE: (413, grpc.StatusCode.RESOURCE_EXHAUSTED),
    ErrorCode.EXPORT_FAILED: (500, grpc.StatusCode.INTERNAL),
    ErrorCode.INTERNAL_ERROR: (500, grpc.StatusCode.INTERNAL),
}

# What a gRPC status without our detail means, for statuses raised by gRPC itself
# (e.g. a message over the size limit) rather than by domain code.
FALLBACK_CODES: dict[grpc.StatusCode, ErrorCode] = {
    grpc.StatusCode.UNAUTHENTICATED: ErrorCode.INVALID_TOKEN,
    grpc.StatusCode.PERMISSION_DENIED: ErrorCode.PERMISSION_DENIED,
    grpc.StatusCode.INVALID_ARGUMENT: ErrorCode.INVALID_REQUEST,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ErrorCode.PAYLOAD_TOO_LARGE,
    grpc.StatusCode.FAILED_PRECONDITION: ErrorCode.INVALID_STATE,
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
        return ERROR_STATUS[self.code][1]

    def __repr__(self) -> str:
        return f"DomainError({self.code}, {self.message!r}, {self.details!r})"
