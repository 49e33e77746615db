"""The workbench: static browser pages served under /workbench/.

The pages (gateway/static/workbench) are plain files: no server-side rendering
and no rule of their own; they call the documented REST routes with the user's
bearer token. Their third-party front-end files (Label Studio's labelling front
end, Preact, htm) are not in the repository: scripts/install_workbench.sh
installs them from the npm registry, pinned by workbench/package-lock.json, into
third_party/workbench, and /workbench/vendor/ serves only the files listed in
VENDOR_FILES from there. When one is missing, /workbench/ answers 503 with a
page that says how to install them instead of a page that would fail silently.

Every response under /workbench carries a Content-Security-Policy that runs
only same-origin script files (no inline or evaluated script), allows images
from any http(s) host (tasks point at arbitrary image URLs) and forbids framing.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Mount, Route, Router
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

WORKBENCH_PATH = "/workbench"
PAGES_DIR = Path(__file__).parent / "static" / "workbench"
# A source checkout's install target; an installed package names it in settings.
DEFAULT_ASSETS_DIR = Path(__file__).resolve().parents[1] / "third_party" / "workbench"

# URL under /workbench/vendor/ -> file under <assets dir>/node_modules.
VENDOR_FILES = {
    "label-studio/main.js": "@heartexlabs/label-studio/build/static/js/main.js",
    "label-studio/main.css": "@heartexlabs/label-studio/build/static/css/main.css",
    "preact/preact.js": "preact/dist/preact.umd.js",
    "preact/hooks.js": "preact/hooks/dist/hooks.umd.js",
    "htm/htm.js": "htm/dist/htm.umd.js",
}

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        # Label Studio sets element styles at run time.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' http: https: data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    # Image hosts of tasks need not learn which page showed their images.
    (b"referrer-policy", b"no-referrer"),
    # Revalidate (ETag / Last-Modified) so that an upgrade shows at once.
    (b"cache-control", b"no-cache"),
]


class WorkbenchHeaders:
    """Adds SECURITY_HEADERS to every response under /workbench, errors included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path != WORKBENCH_PATH and not path.startswith(WORKBENCH_PATH + "/"):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in SECURITY_HEADERS}
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": kept + SECURITY_HEADERS}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class VendorFiles(StaticFiles):
    """The files of VENDOR_FILES, under their short names; anything else is not found."""

    def get_path(self, scope: Scope) -> str:
        name = super().get_path(scope).replace("\\", "/")
        # An unknown name maps to the folder itself, which StaticFiles answers with 404.
        return VENDOR_FILES.get(name, "")


def missing_vendor_files(assets_dir: Path) -> list[str]:
    """The VENDOR_FILES names whose file is not installed under assets_dir."""
    modules = assets_dir / "node_modules"
    return [name for name, path in VENDOR_FILES.items() if not (modules / path).is_file()]


def install_workbench(app: FastAPI, *, assets_dir: Path | None = None) -> None:
    """Serve the workbench under /workbench/ with its security headers."""
    assets = (assets_dir or DEFAULT_ASSETS_DIR).resolve()

    async def index(request: Request) -> Response:
        if missing_vendor_files(assets):
            return FileResponse(PAGES_DIR / "not-installed.html", status_code=503)
        return FileResponse(PAGES_DIR / "index.html")

    async def to_index(request: Request) -> Response:
        return RedirectResponse(WORKBENCH_PATH + "/", status_code=308)

    workbench = Router(
        routes=[
            Route("/", index, methods=["GET", "HEAD"]),
            Route("/index.html", to_index, methods=["GET", "HEAD"]),
            Mount("/vendor", app=VendorFiles(directory=assets / "node_modules", check_dir=False)),
            Mount("/", app=StaticFiles(directory=PAGES_DIR)),
        ]
    )
    app.router.add_route(WORKBENCH_PATH, to_index, methods=["GET", "HEAD"], include_in_schema=False)
    app.router.routes.append(Mount(WORKBENCH_PATH, app=workbench))
    app.add_middleware(WorkbenchHeaders)
