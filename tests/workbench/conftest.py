"""The workbench tests run on SQLite only: the browser drives the same REST API
whose storage the other tests cover on both engines."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "data" / "annotation.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"
