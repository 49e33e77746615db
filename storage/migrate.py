"""Bring a database's schema up to date (Alembic, configured in code)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Servers starting together each migrate the same SQLite file. Each upgrade is one
# BEGIN IMMEDIATE transaction, yet on a loaded machine one of three concurrent upgrades
# was seen to replay a step another had just committed ("duplicate column") and roll
# back whole; another attempt then finds the schema current and does nothing.
SQLITE_UPGRADE_ATTEMPTS = 3


def alembic_config(url: str) -> Config:
    """An Alembic config for url, with no alembic.ini needed."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_to_head(url: str) -> None:
    """Apply every migration not yet applied (blocking; call from a thread or at start)."""
    sqlite = make_url(url).get_backend_name() == "sqlite"
    attempts = SQLITE_UPGRADE_ATTEMPTS if sqlite else 1
    for attempt in range(1, attempts + 1):
        try:
            command.upgrade(alembic_config(url), "head")
            return
        except OperationalError:
            if attempt == attempts:
                raise


async def upgrade_to_head_async(url: str) -> None:
    """upgrade_to_head without blocking the running event loop."""
    await asyncio.to_thread(upgrade_to_head, url)


async def has_schema(url: str) -> bool:
    """Whether the database at url has been migrated. A SQLite file that does not
    exist is not created (opening it would), it simply has no schema."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        if path in ("", ":memory:") or not Path(path).is_file():
            return False
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda sync: inspect(sync).has_table("alembic_version"))
    finally:
        await engine.dispose()
