"""Request ids, access logs and Prometheus metrics for every request.

A pure ASGI middleware (not BaseHTTPMiddleware) so that streamed downloads
and uploads pass through without being buffered.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from annotation_api.log import REQUEST_ID_HEADER, accept_request_id, new_request_id

log = logging.getLogger("gateway.access")

_HEADER = REQUEST_ID_HEADER.encode("latin-1")
# Counted for a request whose client went away before its answer (as nginx and grpc-gateway do).
CLIENT_CLOSED_REQUEST = 499


class GatewayMetrics:
    """The gateway's metrics, in a registry of its own (one per app)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "gateway_http_requests",
            "HTTP requests answered, by route template, method and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "gateway_http_request_duration_seconds",
            "Time to the end of the response, by route template and method",
            ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120),
            registry=self.registry,
        )


def request_id_of(scope: Scope) -> str:
    """The request's x-request-id when it is safe (annotation_api.log's rule), else a fresh one."""
    for name, value in scope.get("headers", ()):
        if name == _HEADER:
            return accept_request_id(bytes(value).decode("latin-1"))
    return new_request_id()


class RequestContextMiddleware:
    """Gives each request an id (echoed back), logs it and counts it."""

    def __init__(
        self, app: ASGIApp, metrics: GatewayMetrics, route_templates: dict[Any, str]
    ) -> None:
        self.app = app
        self.metrics = metrics
        # endpoint -> path template, filled once every route is registered.
        self.route_templates = route_templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((_HEADER, request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except ClientDisconnect:
            # Not a failure of ours: nobody is left to answer, nothing to trace.
            status = CLIENT_CLOSED_REQUEST
        finally:
            elapsed = time.perf_counter() - started
            # Templates, not raw paths, keep the metric's cardinality bounded.
            route = self.route_templates.get(scope.get("endpoint"), "unmatched")
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
            self.metrics.latency.labels(scope["method"], route).observe(elapsed)
            log.info(
                "%s %s -> %s in %.1f ms",
                scope["method"],
                scope["path"],
                status,
                elapsed * 1000,
                extra={"request_id": request_id, "route": route, "status": status},
            )
