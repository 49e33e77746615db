"""Engine creation and the one place that owns transactions.

`Database.transaction()` yields an `AsyncConnection` inside a transaction:
commit on success, rollback on any error, and driver errors translated into
`DomainError` so nothing above storage sees SQLAlchemy or driver exceptions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from annotation_api.errors import DomainError, ErrorCode
from storage.changes import ChangeHub, take_noted
from storage.sqlite_cursor import apply_options, defer_begin, use_one_hop_cursor

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
# sqlite_begin execution option of Database.read_one: no BEGIN at all.
NO_BEGIN = "none"
# SQLite connections kept open (each has its own aiosqlite thread): more than the calls
# in flight, so a busy server never opens and closes connections per call.
SQLITE_POOL_SIZE = 16


class Database:
    """An async engine plus transaction helpers. One per process."""

    def __init__(self, url: str, *, echo: bool = False, one_hop_cursor: bool = True) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        # SQLite statements travel in one hop (storage/sqlite_cursor.py).
        self.one_hop_cursor = self.is_sqlite and one_hop_cursor
        self.engine: AsyncEngine = create_engine(url, echo=echo, one_hop_cursor=one_hop_cursor)
        # The same engine and pool with the transaction kind preset (a per-connection
        # execution_options call is one more greenlet round trip per transaction).
        self._write_engine = self.engine
        self._read_one_engine = self.engine
        if self.is_sqlite:
            self._write_engine = self.engine.execution_options(sqlite_begin="IMMEDIATE")
            self._read_one_engine = self.engine.execution_options(sqlite_begin=NO_BEGIN)
        self._writers: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        # Who watches which project (storage/changes.py).
        self.changes = ChangeHub(self.url)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A read-write transaction. On SQLite it takes the write lock up front
        (BEGIN IMMEDIATE), so that two writers wait for each other instead of
        failing with "database is locked" when one upgrades a read lock; and the
        writers of this process queue on an asyncio lock before that (first come,
        first served, holding no connection), so BEGIN IMMEDIATE only ever waits
        for another process: SQLite's busy handler would sleep 1–100 ms per retry."""
        if not self.is_sqlite:
            async with self._translated_errors(), self.engine.connect() as conn, conn.begin():
                yield conn
            return
        async with (
            self._sqlite_writers(),
            self._translated_errors(),
            self._write_engine.connect() as conn,
        ):
            try:
                async with conn.begin():
                    yield conn
            except BaseException:
                # (a commit cancelled midway closes the connection, and with it what was
                # noted on it: nothing is left to take then)
                with contextlib.suppress(SQLAlchemyError):
                    take_noted(conn)
                raise
            # After the commit: a watcher woken now reads the committed state.
            self.changes.publish(take_noted(conn))

    def _sqlite_writers(self) -> asyncio.Lock:
        """The lock this process's SQLite write transactions take in turn (one per event loop)."""
        loop = asyncio.get_running_loop()
        if self._writers is None or self._writers[0] is not loop:
            self._writers = (loop, asyncio.Lock())
        return self._writers[1]

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only transaction (a consistent snapshot on both engines)."""
        async with self._translated_errors(), self.engine.connect() as conn, conn.begin():
            yield conn

    @asynccontextmanager
    async def read_one(self) -> AsyncIterator[AsyncConnection]:
        """A connection for exactly one read statement, which is consistent by itself: on
        SQLite it runs without BEGIN and COMMIT (one trip to the driver's thread instead
        of two), and SQLAlchemy's own transaction is left to begin by itself and to end
        when the connection closes. Anything more needs read()."""
        if self.is_sqlite:
            async with self._translated_errors(), self._read_one_engine.connect() as conn:
                yield conn
            return
        async with self._translated_errors(), self.engine.connect() as conn, conn.begin():
            yield conn

    @asynccontextmanager
    async def _translated_errors(self) -> AsyncIterator[None]:
        try:
            yield
        except DomainError:
            raise
        except (SQLAlchemyError, DBAPIError) as exc:
            log.exception("database error")
            raise DomainError(ErrorCode.INTERNAL_ERROR, "database error") from exc

    async def dispose(self) -> None:
        await self.engine.dispose()


def create_engine(url: str, *, echo: bool = False, one_hop_cursor: bool = True) -> AsyncEngine:
    """Create the async engine; SQLite gets WAL, foreign keys and a busy timeout, and
    the one-hop cursor (`storage/sqlite_cursor.py`) unless `one_hop_cursor` is False:
    then SQLAlchemy's stock aiosqlite cursor runs every statement, BEGIN and deferred
    write in its own trip (same results, more CPU per call; the way out when a new
    SQLAlchemy or aiosqlite release changes the private classes the cursor builds on)."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        # Every transaction ends through Connection (commit, or rollback on close), so the
        # pool's own rollback on return would be one more trip to aiosqlite's thread.
        kwargs["pool_reset_on_return"] = None
        kwargs["pool_size"] = SQLITE_POOL_SIZE
    else:
        kwargs["pool_pre_ping"] = True
        kwargs["pool_size"] = 10
        kwargs["max_overflow"] = 10
    engine = create_async_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        _configure_sqlite(engine, one_hop_cursor=one_hop_cursor)
    return engine


def _configure_sqlite(engine: AsyncEngine, *, one_hop_cursor: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        if one_hop_cursor:
            use_one_hop_cursor(dbapi_connection)
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's implicit
        # transactions would otherwise defer the write lock).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _on_execute(
        _conn: Any, cursor: Any, _statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        if context is not None:
            apply_options(cursor, context.execution_options)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        options = conn.get_execution_options()
        mode = options.get("sqlite_begin", "DEFERRED")
        if mode == NO_BEGIN:
            return
        # sqlite_begin_now: the lock at once (migrations: alembic commits after each
        # revision, and the next one must hold the lock before it works out its DDL)
        if options.get("sqlite_begin_now") or not defer_begin(
            conn.connection.dbapi_connection, f"BEGIN {mode}"
        ):
            conn.exec_driver_sql(f"BEGIN {mode}")
