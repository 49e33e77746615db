"""`sqlite_one_hop_cursor` chooses the SQLite cursor: the one-hop cursor by default,
SQLAlchemy's stock aiosqlite cursor when false (CI runs tests/storage both ways)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from annotation_api.settings import Settings
from storage.database import Database
from storage.sqlite_cursor import OneHopConnection


@pytest.mark.parametrize("one_hop", [True, False])
async def test_the_setting_chooses_the_cursor(tmp_path: Path, one_hop: bool) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'annotation.db'}", one_hop_cursor=one_hop)
    try:
        async with database.transaction() as conn:
            adapted = (await conn.get_raw_connection()).dbapi_connection
            assert isinstance(adapted, OneHopConnection) is one_hop
            await conn.execute(text("CREATE TABLE t (v INTEGER)"))
            await conn.execute(text("INSERT INTO t VALUES (1), (2)"))
        async with database.read_one() as conn:
            assert (await conn.execute(text("SELECT sum(v) FROM t"))).scalar_one() == 3
    finally:
        await database.dispose()


def test_the_setting_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANNOTATION_API_SQLITE_ONE_HOP_CURSOR", raising=False)
    assert Settings().sqlite_one_hop_cursor is True
    monkeypatch.setenv("ANNOTATION_API_SQLITE_ONE_HOP_CURSOR", "false")
    assert Settings().sqlite_one_hop_cursor is False


async def test_the_suite_database_follows_the_setting(
    settings: Settings, database: Database
) -> None:
    if not database.is_sqlite:
        pytest.skip("a SQLite setting")
    async with database.read_one() as conn:
        adapted = (await conn.get_raw_connection()).dbapi_connection
    assert isinstance(adapted, OneHopConnection) is settings.sqlite_one_hop_cursor
