"""Interactive API docs (Swagger UI) served from the installed package.

The service runs in closed networks, so nothing is fetched from a CDN: the
Swagger UI assets come from the `swagger-ui-bundle` wheel and the page loads
only same-origin URLs (the validator badge, which would call out, is off).

The page and its assets carry a Content-Security-Policy: same-origin files
only, plus the page's one inline script, allowed by its hash; no framing
(`frame-ancestors 'none'`, `X-Frame-Options: DENY`), so another site cannot
overlay the page a user pastes a token into.
"""

from __future__ import annotations

import base64
import hashlib
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

_SCRIPT = """
    window.ui = SwaggerUIBundle({{
      url: "{openapi}",
      dom_id: "#swagger-ui",
      deepLinking: true,
      validatorUrl: null,
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      layout: "StandaloneLayout"
    }});
  """

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
  <script>{script}</script>
</body>
</html>
"""


def security_headers(script: str) -> dict[str, str]:
    """The headers of the docs page and its assets; `script` is the page's inline script."""
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    policy = "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'sha256-{digest}'",
            # Swagger UI sets element styles at run time.
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )
    return {
        "content-security-policy": policy,
        "x-frame-options": "DENY",
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
    }


def install_docs(app: FastAPI, *, title: str, openapi_path: str) -> None:
    script = _SCRIPT.format(openapi=openapi_path)
    page = _PAGE.format(title=title, assets=ASSETS_PATH, script=script)
    headers = security_headers(script)
    root = Path(swagger_ui_path)

    async def docs_page(request: Request) -> Response:
        return HTMLResponse(page, headers=headers)

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in _ASSETS:
            raise GatewayError(GatewayCode.NOT_FOUND, "no such asset", {"path": request.url.path})
        return FileResponse(
            root / name, headers={**headers, "cache-control": "public, max-age=86400"}
        )

    app.router.add_route(DOCS_PATH, docs_page, methods=["GET"], include_in_schema=False)
    app.router.add_route(f"{ASSETS_PATH}/{{name}}", asset, methods=["GET"], include_in_schema=False)
