"""Interactive API docs (Swagger UI) served from the installed package.

The service runs in closed networks, so nothing is fetched from a CDN: the
Swagger UI assets come from the `swagger-ui-bundle` wheel and the page loads
only same-origin URLs (the validator badge, which would call out, is off).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from swagger_ui_bundle import swagger_ui_path

from gateway.errors import GatewayCode, GatewayError

DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/assets"
_ASSETS = {
    "swagger-ui.css",
    "swagger-ui-bundle.js",
    "swagger-ui-standalone-preset.js",
    "favicon-32x32.png",
    "favicon-16x16.png",
}

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <title>{title}</title>
  <link rel="stylesheet" type="text/css" href="{assets}/swagger-ui.css">
  <link rel="icon" type="image/png" href="{assets}/favicon-32x32.png" sizes="32x32">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{assets}/swagger-ui-bundle.js" charset="UTF-8"></script>
  <script src="{assets}/swagger-ui-standalone-preset.js" charset="UTF-8"></script>
  <script>
    window.ui = SwaggerUIBundle({{
      url: "{openapi}",
      dom_id: "#swagger-ui",
      deepLinking: true,
      validatorUrl: null,
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      layout: "StandaloneLayout"
    }});
  </script>
</body>
</html>
"""


def install_docs(app: FastAPI, *, title: str, openapi_path: str) -> None:
    page = _PAGE.format(title=title, assets=ASSETS_PATH, openapi=openapi_path)
    root = Path(swagger_ui_path)

    async def docs_page(request: Request) -> Response:
        return HTMLResponse(page)

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in _ASSETS:
            raise GatewayError(GatewayCode.NOT_FOUND, "no such asset", {"path": request.url.path})
        return FileResponse(root / name, headers={"cache-control": "public, max-age=86400"})

    app.router.add_route(DOCS_PATH, docs_page, methods=["GET"], include_in_schema=False)
    app.router.add_route(f"{ASSETS_PATH}/{{name}}", asset, methods=["GET"], include_in_schema=False)
