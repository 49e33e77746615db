"""The workbench tests run on SQLite only: the browser drives the same REST API
whose storage the other tests cover on both engines."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from gateway.workbench import DEFAULT_ASSETS_DIR
from tests.workbench.browser import CHROMIUM, CHROMIUM_ARGS, require_browser


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "data" / "annotation.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    require_browser(DEFAULT_ASSETS_DIR)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()
