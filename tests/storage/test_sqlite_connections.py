"""A SQLite connection that SQLAlchemy terminates while it closes still closes.

A task cancelled mid-statement gets its connection terminated: closed gracefully
in a shielded task and, at a second cancel (a server stopping), stopped at once.
The close must still end: asyncio.run, and pytest's loop, wait for every task.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from storage.database import Database
from storage.sqlite_cursor import OneHopConnection
from tests.helpers import WAIT_SECONDS, wait_until


async def test_a_connection_stopped_while_it_closes_still_closes(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'annotation.db'}")
    try:
        async with database.engine.connect() as conn:
            adapted = (await conn.get_raw_connection()).dbapi_connection
            assert isinstance(adapted, OneHopConnection)
            driver = adapted._connection  # aiosqlite's, with its own thread
            busy, release = threading.Event(), threading.Event()

            def hold() -> None:  # a statement still running on the connection's thread
                busy.set()
                release.wait(WAIT_SECONDS)

            holding = asyncio.ensure_future(driver._execute(hold))
            await asyncio.to_thread(busy.wait, WAIT_SECONDS)
            closing = asyncio.ensure_future(adapted._terminate_graceful_close())
            await wait_until(lambda: driver._tx.qsize() == 1, what="the close queued")
            adapted._terminate_force_close()  # the second cancel: stop the thread at once
            release.set()
            await holding
            await asyncio.wait_for(closing, WAIT_SECONDS)
            assert not driver._running
            await asyncio.to_thread(driver._thread.join, WAIT_SECONDS)
            assert not driver._thread.is_alive()
    finally:
        await database.dispose()
