"""The workbench's static serving: pages, vendored files, security headers, missing assets."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from annotation_api.settings import Settings
from gateway.serve import start_gateway
from gateway.workbench import DEFAULT_ASSETS_DIR, PAGES_DIR, VENDOR_FILES


@asynccontextmanager
async def workbench_client(tmp_path: Path, assets_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A gateway on a free port; no gRPC server is needed for static files."""
    settings = Settings(
        data_dir=tmp_path / "data",
        http_port=0,
        host="127.0.0.1",
        grpc_target="127.0.0.1:9",
        workbench_assets_dir=assets_dir,
    )
    running = await start_gateway(settings)
    try:
        async with httpx.AsyncClient(base_url=running.url, timeout=30) as client:
            yield client
    finally:
        await running.stop()


def fake_assets(root: Path) -> Path:
    """An assets folder holding every vendored file (small stand-ins)."""
    for name, path in VENDOR_FILES.items():
        target = root / "node_modules" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f"/* {name} */\n")
    return root


def assert_secured(response: httpx.Response) -> None:
    csp = response.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"  # no inline or evaluated script
    assert directives["frame-ancestors"] == "'none'"
    assert "http:" in directives["img-src"].split() and "https:" in directives["img-src"].split()
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_pages_are_served_with_security_headers(tmp_path: Path) -> None:
    async with workbench_client(tmp_path, fake_assets(tmp_path / "assets")) as client:
        index = await client.get("/workbench/")
        assert index.status_code == 200
        assert index.headers["content-type"].startswith("text/html")
        assert_secured(index)
        for path in ("/workbench/js/main.js", "/workbench/workbench.css"):
            page_file = await client.get(path)
            assert page_file.status_code == 200, path
            assert_secured(page_file)
        assert (
            (await client.get("/workbench/js/main.js"))
            .headers["content-type"]
            .startswith(("text/javascript", "application/javascript"))
        )
        redirect = await client.get("/workbench")
        assert redirect.status_code == 308
        assert redirect.headers["location"] == "/workbench/"
        missing = await client.get("/workbench/no-such-page.js")
        assert missing.status_code == 404
        assert_secured(missing)
        # The API's own routes keep their headers: the policy is the workbench's.
        assert "content-security-policy" not in (await client.get("/openapi.json")).headers


async def test_vendor_serves_only_the_listed_files(tmp_path: Path) -> None:
    assets = fake_assets(tmp_path / "assets")
    (assets / "node_modules" / "secret.txt").write_text("not for the browser")
    async with workbench_client(tmp_path, assets) as client:
        for name in VENDOR_FILES:
            response = await client.get(f"/workbench/vendor/{name}")
            assert response.status_code == 200, name
            assert response.text == f"/* {name} */\n"
            assert_secured(response)
        for path in ("secret.txt", "../node_modules/secret.txt", "preact/package.json", ""):
            response = await client.get(f"/workbench/vendor/{path}")
            assert response.status_code == 404, path
            assert "not for the browser" not in response.text


async def test_missing_assets_page_says_how_to_install(tmp_path: Path) -> None:
    async with workbench_client(tmp_path, tmp_path / "nothing-installed") as client:
        response = await client.get("/workbench/")
        assert response.status_code == 503
        assert "scripts/install_workbench.sh" in response.text
        assert "make serve" in response.text
        assert_secured(response)
        stylesheet = await client.get("/workbench/workbench.css")
        assert stylesheet.status_code == 200


def test_pages_hold_no_inline_script_and_no_remote_url() -> None:
    """The policy forbids inline script: every page loads only same-origin files."""
    for page in PAGES_DIR.rglob("*"):
        if page.suffix not in {".html", ".js", ".css"}:
            continue
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"https?://", text), page
        if page.suffix == ".html":
            for script in re.findall(r"<script\b[^>]*>(.*?)</script>", text, flags=re.S):
                assert script.strip() == "", page
            assert " on" not in " ".join(re.findall(r"<[^>]+>", text)).lower(), page
        if page.suffix == ".js":
            assert "innerHTML" not in text and "dangerouslySetInnerHTML" not in text, page


def test_installed_assets_hold_every_vendored_file() -> None:
    """scripts/install_workbench.sh installs every VENDOR_FILES file, from Label Studio 1.4.0."""
    modules = DEFAULT_ASSETS_DIR / "node_modules"
    assert modules.is_dir(), "the workbench front end is missing: run scripts/install_workbench.sh"
    for path in VENDOR_FILES.values():
        assert (modules / path).is_file(), path
    assert (modules / "@heartexlabs/label-studio/package.json").read_text().count('"1.4.0"') == 1
