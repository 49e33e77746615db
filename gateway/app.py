"""The REST gateway application: `create_app(settings)`.

Routes come from the `google.api.http` annotations (gateway.routes), the
OpenAPI document from the same descriptors (gateway.openapi). The gateway
holds no business rules and never touches the database: it only translates
between REST/JSON and the gRPC server at `settings.resolved_grpc_target`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from annotation_api.settings import Settings
from gateway.backend import Backend
from gateway.connections import BodyGuardMiddleware
from gateway.docs import install_docs
from gateway.errors import GatewayCode, GatewayError, install_error_handlers
from gateway.middleware import GatewayMetrics, RequestContextMiddleware
from gateway.openapi import build_openapi
from gateway.routes import register_routes
from gateway.workbench import install_workbench

TITLE = "Annotation platform external API"
OPENAPI_PATH = "/openapi.json"


def create_app(settings: Settings) -> FastAPI:
    """Build the gateway; its gRPC channel opens on start-up and closes on shutdown."""
    backend = Backend(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await backend.connect()
        try:
            yield
        finally:
            await backend.close()

    # FastAPI's own OpenAPI and docs are off: ours are generated from the
    # descriptors, and FastAPI's docs page would load Swagger UI from a CDN.
    app = FastAPI(title=TITLE, lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)
    app.state.backend = backend
    metrics = GatewayMetrics()
    route_templates: dict[Any, str] = {}
    # Inside the request context, so that what it reports is logged and counted.
    app.add_middleware(BodyGuardMiddleware, timeout_seconds=settings.http_body_timeout_seconds)
    app.add_middleware(RequestContextMiddleware, metrics=metrics, route_templates=route_templates)
    install_error_handlers(app)

    routes = register_routes(app, backend, settings)
    openapi_document = orjson.dumps(build_openapi(routes, title=TITLE))

    async def openapi(request: Request) -> Response:
        return Response(openapi_document, media_type="application/json")

    async def healthz(request: Request) -> Response:
        if not await backend.is_serving():
            raise GatewayError(
                GatewayCode.SERVICE_UNAVAILABLE,
                "the annotation server is not serving",
                {"grpc_target": backend.target},
            )
        return Response(orjson.dumps({"status": "ok"}), media_type="application/json")

    async def prometheus_metrics(request: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.router.add_route(OPENAPI_PATH, openapi, methods=["GET"], include_in_schema=False)
    app.router.add_route("/healthz", healthz, methods=["GET"], include_in_schema=False)
    app.router.add_route("/metrics", prometheus_metrics, methods=["GET"], include_in_schema=False)
    install_docs(app, title=TITLE, openapi_path=OPENAPI_PATH)
    install_workbench(app, assets_dir=settings.workbench_assets_dir)
    route_templates.update(
        (route.endpoint, route.path) for route in app.router.routes if isinstance(route, Route)
    )
    return app
