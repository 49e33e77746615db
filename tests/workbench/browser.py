"""What the browser tests need: Debian's Chromium, a local image host, screenshots.

Chromium is the system's (`/usr/bin/chromium`, installed with apt by
scripts/install_system_packages.sh, which `make test` and .ci/run call):
Playwright drives it and downloads nothing. Task images come from a small HTTP
server on the loopback address that serves generated PNGs, so the tests reach
no other host.
"""

from __future__ import annotations

import os
import shutil
import struct
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, Response, expect

from tests.helpers import TestUser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "workbench"
CHROMIUM = os.environ.get("WORKBENCH_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Set to 1 to skip the browser tests on a machine without a browser (never set in CI).
SKIP_BROWSER = "WORKBENCH_TEST_SKIP_BROWSER"
VIEWPORT = {"width": 1280, "height": 800}
EXPECT_MS = 15_000
expect.set_options(timeout=EXPECT_MS)


def require_browser(assets_dir: Path) -> None:
    """Fail, saying how to install them, when Chromium or the front-end files are missing;
    skip instead only where WORKBENCH_TEST_SKIP_BROWSER=1 says so (never under CI)."""
    missing = []
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        missing.append(
            f"chromium at {CHROMIUM} (scripts/install_system_packages.sh, or "
            "apt-get install chromium fonts-noto-cjk)"
        )
    if not (assets_dir / "node_modules" / "@heartexlabs" / "label-studio").is_dir():
        missing.append("the workbench front end (scripts/install_workbench.sh)")
    if missing:
        message = "browser test needs " + " and ".join(missing)
        if os.environ.get(SKIP_BROWSER) == "1" and not os.environ.get("CI"):
            pytest.skip(f"{message}; skipped as {SKIP_BROWSER}=1 asks")
        pytest.fail(f"{message}; or set {SKIP_BROWSER}=1 to skip the browser tests", pytrace=False)


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A plain-coloured RGB PNG with a darker frame (no imaging library needed)."""
    frame = tuple(c // 2 for c in rgb)
    rows = []
    for y in range(height):
        edge_row = y < 4 or y >= height - 4
        pixels = [frame if edge_row or x < 4 or x >= width - 4 else rgb for x in range(width)]
        rows.append(b"\x00" + b"".join(bytes(p) for p in pixels))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


@contextmanager
def image_host(images: dict[str, bytes]) -> Iterator[str]:
    """Serve images[name] at <base>/<name> on 127.0.0.1; yields the base URL. Names may
    hold folders, spaces and non-ASCII characters (the request's path is decoded)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = images.get(unquote(urlsplit(self.path).path).lstrip("/"))
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class Story:
    """One browser context per person, and numbered screenshots of each step
    in test-artifacts/workbench/<name>/."""

    def __init__(self, browser: Browser, base_url: str, name: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.artifacts = ARTIFACTS / name
        shutil.rmtree(self.artifacts, ignore_errors=True)
        self.artifacts.mkdir(parents=True)
        self.step = 0
        self.contexts: list[BrowserContext] = []
        # Script errors and every console error (refused content, Label Studio's own):
        # a test ends with none. Chromium also logs each 4xx answer of the API as a
        # console error; those are kept apart, as (status, method, path), for the test
        # to compare with the refusals its story expects (and the page shows).
        self.errors: list[str] = []
        self.api_refusals: list[tuple[int, str, str]] = []

    async def person(self, viewport: dict[str, int] | None = None) -> Page:
        context = await self.browser.new_context(
            viewport=viewport or VIEWPORT, accept_downloads=True
        )
        self.contexts.append(context)
        page = await context.new_page()
        page.set_default_timeout(EXPECT_MS)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", self._on_console)
        page.on("response", self._on_response)
        return page

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        url = message.location.get("url", "")
        api = url.startswith(f"{self.base_url}/api/")
        if api and message.text.startswith("Failed to load resource: the server responded"):
            return  # recorded by _on_response with its method
        self.errors.append(f"after step {self.step}: {message.text} ({url})")

    def _on_response(self, response: Response) -> None:
        path = urlsplit(response.url).path
        if response.url.startswith(self.base_url) and 400 <= response.status < 500:
            self.api_refusals.append((response.status, response.request.method, path))

    async def shot(self, page: Page, name: str, *, full_page: bool = False) -> None:
        self.step += 1
        path = self.artifacts / f"{self.step:02d}-{name}.png"
        await page.screenshot(path=path, full_page=full_page)

    async def sign_in(self, page: Page, user: TestUser) -> None:
        await page.goto(f"{self.base_url}/workbench/")
        await page.fill("#token", user.token)
        await page.click("#signin button[type=submit]")
        await expect(page.locator("#username")).to_have_text(user.username)

    async def close(self, *, failed: bool) -> None:
        """Close every context; after a failure, first a screenshot of each open page.
        Console errors, if any, are written in full to console-errors.txt."""
        if self.errors:
            (self.artifacts / "console-errors.txt").write_text("\n\n".join(self.errors))
        for number, context in enumerate(self.contexts):
            if failed:
                for page in context.pages:
                    await page.screenshot(path=self.artifacts / f"failed-{number}.png")
            await context.close()
