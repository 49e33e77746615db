"""Alembic environment: runs migrations over the async engine of the configured URL."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from storage.database import create_engine
from storage.models import Base

config = context.config
target_metadata = Base.metadata

# Any constant 64-bit key, the same in every process (pg_advisory_xact_lock).
MIGRATION_LOCK_KEY = 7_245_316_590_112_873


def run_with(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Servers starting together on one database each migrate it: the first
        # takes this lock and migrates, the others wait, then find nothing to do.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        async with engine.connect() as connection:
            # SQLite's equivalent of the lock above: take the write lock up front, so
            # a concurrent migration waits instead of failing with "database is locked".
            await connection.execution_options(sqlite_begin="IMMEDIATE", sqlite_begin_now=True)
            await connection.run_sync(run_with)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    existing = config.attributes.get("connection")
    if existing is not None:
        run_with(existing)
    else:
        asyncio.run(run_online())
