"""Every failure the gateway answers, as the one documented error body.

`{"error_code", "message", "details"}` with the HTTP status of
annotation_api.errors.ERROR_STATUS. A gRPC status carries an
annotation.v1.ErrorDetail in its rich status (read with grpcio-status'
`rpc_status.from_call`) when the server raised a DomainError; statuses that
gRPC itself raised (a message over the size limit, an unreachable server) are
mapped by their code. Framework
errors (unknown route, wrong method) get the same body, and
nothing ever answers with a stack trace.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any

import grpc
import orjson
from annotation.v1 import common_pb2
from fastapi import FastAPI, Request
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from grpc_status import rpc_status
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Route

from annotation_api.errors import ERROR_STATUS, FALLBACK_CODES, ErrorCode
from gateway.scalars import CodecError

log = logging.getLogger(__name__)


class GatewayCode(StrEnum):
    """Codes of failures that happen in front of the server and never cross gRPC."""

    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    REQUEST_TIMEOUT = "REQUEST_TIMEOUT"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    GATEWAY_TIMEOUT = "GATEWAY_TIMEOUT"


GATEWAY_STATUS = {
    GatewayCode.NOT_FOUND: 404,
    GatewayCode.METHOD_NOT_ALLOWED: 405,
    GatewayCode.REQUEST_TIMEOUT: 408,
    GatewayCode.SERVICE_UNAVAILABLE: 503,
    GatewayCode.GATEWAY_TIMEOUT: 504,
}

# gRPC statuses that gRPC itself raises, with no ErrorDetail, mapped to HTTP
# when annotation_api.errors.FALLBACK_CODES has no domain code for them.
_TRANSPORT_CODES = {
    grpc.StatusCode.UNAVAILABLE: GatewayCode.SERVICE_UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED: GatewayCode.GATEWAY_TIMEOUT,
    grpc.StatusCode.NOT_FOUND: GatewayCode.NOT_FOUND,
    grpc.StatusCode.UNIMPLEMENTED: GatewayCode.NOT_FOUND,
}

_TRANSPORT_MESSAGES = {
    GatewayCode.SERVICE_UNAVAILABLE: "the annotation server is unavailable; retry later",
    GatewayCode.GATEWAY_TIMEOUT: "the annotation server did not answer in time",
}


class GatewayError(Exception):
    """A failure answered with the unified error body."""

    def __init__(
        self,
        code: ErrorCode | GatewayCode | str,
        message: str,
        details: dict[str, Any] | None = None,
        *,
        http_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = str(code)
        self.message = message
        self.details: dict[str, Any] = details or {}
        self.http_status = http_status or http_status_of(self.code)

    def response(self, headers: dict[str, str] | None = None) -> Response:
        body = {"error_code": self.code, "message": self.message, "details": self.details}
        return Response(
            orjson.dumps(body),
            status_code=self.http_status,
            media_type="application/json",
            headers=headers,
        )


def http_status_of(code: str) -> int:
    if code in ErrorCode.__members__:
        return ERROR_STATUS[ErrorCode(code)][0]
    if code in GatewayCode.__members__:
        return GATEWAY_STATUS[GatewayCode(code)]
    return 500


def payload_too_large(limit: int, what: str = "request body") -> GatewayError:
    return GatewayError(
        ErrorCode.PAYLOAD_TOO_LARGE,
        f"{what} exceeds the limit of {limit} bytes",
        {"limit_bytes": limit},
    )


def from_codec_error(exc: CodecError) -> GatewayError:
    details = exc.details
    details.setdefault("field", "body")
    return GatewayError(exc.code, exc.message, details)


def from_rpc_error(exc: grpc.aio.AioRpcError) -> GatewayError:
    """A failed call -> the body the server meant, or a transport failure's."""
    status = exc.code()
    detail = _error_detail(exc)
    if detail is not None and detail.error_code:
        details = json_format.MessageToDict(detail.details) if detail.HasField("details") else {}
        message = exc.details() or detail.error_code
        code = detail.error_code
        http_status = http_status_of(code)
        if http_status == 500 and code not in ErrorCode.__members__:
            log.warning("unknown error_code %s from the server (%s)", code, status)
        return GatewayError(code, message, details, http_status=http_status)
    if status.name in FALLBACK_CODES:
        return GatewayError(FALLBACK_CODES[status.name], exc.details() or status.name, {})
    if status in _TRANSPORT_CODES:
        gateway_code = _TRANSPORT_CODES[status]
        message = _TRANSPORT_MESSAGES.get(gateway_code) or exc.details() or status.name
        return GatewayError(gateway_code, message, {"grpc_status": status.name})
    # INTERNAL, UNKNOWN and friends: the text may hold internals, so it stays in the log.
    log.error("server call failed: %s %s", status, exc.details())
    return GatewayError(ErrorCode.INTERNAL_ERROR, "internal error", {})


def _error_detail(exc: grpc.aio.AioRpcError) -> common_pb2.ErrorDetail | None:
    try:
        status = rpc_status.from_call(exc)
    except (ValueError, DecodeError):  # a broken trailer is treated as no detail
        return None
    for any_detail in status.details if status is not None else ():
        detail = common_pb2.ErrorDetail()
        if any_detail.Unpack(detail):
            return detail
    return None


def install_error_handlers(app: FastAPI) -> None:
    """Make every error the app can raise answer with the unified body."""

    async def gateway_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, GatewayError)
        return exc.response()

    async def codec_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, CodecError)
        return from_codec_error(exc).response()

    async def rpc_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, grpc.aio.AioRpcError)
        return from_rpc_error(exc).response()

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        headers = {k: v for k, v in (exc.headers or {}).items() if k.lower() != "allow"}
        if exc.status_code == 405:
            # Starlette names the methods of the first route of the path only; a path
            # may have several (POST and DELETE on a project's assignments)
            headers["allow"] = ", ".join(_allowed_methods(request))
        return _http_exception_error(request, exc).response(headers=headers or None)

    async def unexpected_error(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return GatewayError(ErrorCode.INTERNAL_ERROR, "internal error", {}).response()

    app.add_exception_handler(GatewayError, gateway_error)
    app.add_exception_handler(CodecError, codec_error)
    app.add_exception_handler(grpc.aio.AioRpcError, rpc_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, unexpected_error)


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app answers at the request's path."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, Route) and route.methods and route.path_regex.match(request.url.path):
            methods |= route.methods
    return sorted(methods)


def _http_exception_error(request: Request, exc: HTTPException) -> GatewayError:
    where = {"method": request.method, "path": request.url.path}
    if exc.status_code == 404:
        return GatewayError(GatewayCode.NOT_FOUND, "no such route", where)
    if exc.status_code == 405:
        return GatewayError(GatewayCode.METHOD_NOT_ALLOWED, "method not allowed", where)
    if exc.status_code == 413:
        return GatewayError(ErrorCode.PAYLOAD_TOO_LARGE, str(exc.detail), {})
    if exc.status_code < 500:
        return GatewayError(
            ErrorCode.INVALID_REQUEST, str(exc.detail), where, http_status=exc.status_code
        )
    return GatewayError(ErrorCode.INTERNAL_ERROR, "internal error", {})
