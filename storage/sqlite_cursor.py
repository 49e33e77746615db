"""SQLite statements in one hop to the connection's thread instead of four.

aiosqlite runs each sqlite3 call in the connection's own thread; every call is
a round trip through a queue and back to the event loop (about 60 µs of CPU on
the event loop's side). SQLAlchemy's aiosqlite adapter makes four of them per
statement: create the cursor, execute, fetch the rows, close the cursor. The
cursor below does the four in one call on that thread, then serves the rows
it brought back, so a statement costs one round trip. A transaction's BEGIN
rides along with its first statement (`defer_begin`), so it costs no trip of
its own (and no `before_cursor_execute` event: statement counts leave it out),
and a read of one statement without a transaction (`Database.read_one`) ends
without a trip at all. A write whose outcome the caller does not read (a
statement built with `DEFERRED_WRITE`: an UPDATE of counters or statuses, no
RETURNING, no rowcount used) does not travel on its own either: it waits on the
connection and runs, in order, first in the next trip (the transaction's next
statement, or its COMMIT), so a transaction that reads once and writes four rows
costs two trips instead of six. Its failure surfaces there, inside the same
transaction, which then rolls back as for any failed statement. A statement
run with `LAST_STATEMENT` takes the transaction's COMMIT along in its trip;
nothing may follow it in that transaction (a statement that tries fails). Everything else
(the connection, transactions, server-side cursors for streamed results, error
translation) is SQLAlchemy's own. One more repair of the adapter: aiosqlite's stop()
asks the connection's thread to stop once however often it is called
(`StopOnceConnection`), so a connection terminated while it closes still closes.

Measured on the project's machine (2 shared cores, load about 3), one indexed
SELECT through `AsyncConnection.execute`: 285 µs of CPU with the stock cursor;
the raw aiosqlite call underneath costs 66 µs and sqlite3 itself 4 µs
(docs/server.md, "Cost of a call").
"""

from __future__ import annotations

import asyncio
import collections
import sqlite3
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_ss_cursor,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

Outcome = tuple[Any, list[Any], int, int | None, bool]
Deferred = list[tuple[str, Any]]
# Attributes of the aiosqlite connection: the BEGIN its next statement runs first, the
# deferred writes that run before that statement, and whether a transaction was open
# after its last statement (unknown: assume it was).
PENDING_BEGIN = "_annotation_api_pending_begin"
PENDING_WRITES = "_annotation_api_pending_writes"
IN_TRANSACTION = "_annotation_api_in_transaction"
# Set when a LAST_STATEMENT trip committed: the transaction has ended already.
ENDED = "_annotation_api_ended"
# Execution option of a statement that may wait for the next trip (see module docstring);
# set it on the statement: `.execution_options(**DEFERRED_WRITE)`. Other engines ignore it.
DEFERRED_OPTION = "sqlite_deferred_write"
DEFERRED_WRITE = {DEFERRED_OPTION: True}
# Execution option of a transaction's last statement (module docstring); give it per call:
# `conn.execute(statement, params, execution_options=LAST_STATEMENT)`.
LAST_OPTION = "sqlite_last_statement"
# Attribute of the aiosqlite connection: the future of its one request to stop its thread.
STOPPING = "_annotation_api_stopping"
LAST_STATEMENT = {LAST_OPTION: True}


def _run_pending(connection: sqlite3.Connection, begin: str | None, deferred: Deferred) -> None:
    """On the connection's thread: what waited for this trip, in order."""
    if begin is not None:
        connection.execute(begin)
    for operation, parameters in deferred:
        connection.execute(operation, parameters)


def _run(
    connection: sqlite3.Connection,
    begin: str | None,
    deferred: Deferred,
    operation: str,
    parameters: Any,
    many: bool,
    commit: bool,
) -> Outcome:
    """On the connection's thread: begin (when the transaction's first statement), the
    deferred writes, then execute, fetch everything, close, and COMMIT when asked (a
    failed COMMIT rolls back here); what the cursor saw."""
    _run_pending(connection, begin, deferred)
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        outcome = description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()
    if commit:
        try:
            connection.commit()
        except BaseException:
            if connection.in_transaction:
                connection.rollback()
            raise
    return (*outcome, connection.in_transaction)


def _run_and_commit(connection: sqlite3.Connection, begin: str | None, deferred: Deferred) -> None:
    """On the connection's thread: the deferred writes, then COMMIT; on a failure the
    transaction is rolled back here, so none stays open."""
    try:
        _run_pending(connection, begin, deferred)
        connection.commit()
    except BaseException:
        if connection.in_transaction:
            connection.rollback()
        raise


async def _nothing() -> None:
    return None


def _take_pending(connection: Any) -> tuple[str | None, Deferred]:
    """The connection's waiting BEGIN and deferred writes, now handed to a trip."""
    begin = getattr(connection, PENDING_BEGIN, None)
    deferred: Deferred = getattr(connection, PENDING_WRITES, None) or []
    if begin is not None:
        setattr(connection, PENDING_BEGIN, None)
    if deferred:
        setattr(connection, PENDING_WRITES, None)
    return begin, deferred


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose statement runs in one call on the connection's thread."""

    __slots__ = ("_arraysize", "_deferred", "_description", "_last", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: Any) -> None:  # no cursor is opened here
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1
        # set by apply_options for this cursor's statement
        self._deferred = False
        self._last = False

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _async_soft_close(self) -> None:
        return  # nothing is open on the connection's thread

    def close(self) -> None:
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        if getattr(self._connection, ENDED, False):
            raise RuntimeError("a statement after the transaction's LAST_STATEMENT")
        if self._deferred:
            self._deferred = False
            pending = getattr(self._connection, PENDING_WRITES, None)
            if pending is None:
                pending = []
                setattr(self._connection, PENDING_WRITES, pending)
            pending.append((operation, parameters))
            # SQLAlchemy's AsyncConnection.execute insists on one await per statement;
            # this one returns at once, without a trip through the event loop
            return await_(_nothing())
        try:
            return await_(self._run(operation, parameters, many=False))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        if getattr(self._connection, ENDED, False):
            raise RuntimeError("a statement after the transaction's LAST_STATEMENT")
        try:
            return await_(self._run(operation, seq_of_parameters, many=True))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _run(self, operation: Any, parameters: Any, *, many: bool) -> None:
        commit, self._last = self._last, False
        async with self._adapt_connection._execute_mutex:
            begin, deferred = _take_pending(self._connection)
            outcome: Outcome = await self._connection._execute(
                _run, self._connection._conn, begin, deferred, operation, parameters, many, commit
            )
        if commit:
            setattr(self._connection, ENDED, True)
        self._description, rows, self._rowcount, self._lastrowid, in_transaction = outcome
        setattr(self._connection, IN_TRANSACTION, in_transaction)
        self._rows = collections.deque(rows)


class DeferredBeginStreamCursor(AsyncAdapt_aiosqlite_ss_cursor):
    """SQLAlchemy's server-side (streaming) cursor, running a deferred BEGIN first."""

    __slots__ = ()

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        begin, deferred = _take_pending(self._connection)
        if begin is not None or deferred:
            await self._connection._execute(_run_pending, self._connection._conn, begin, deferred)
        setattr(self._connection, IN_TRANSACTION, True)
        return await super()._execute_async(operation, parameters)


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    """SQLAlchemy's aiosqlite connection with OneHopCursor for buffered results, and
    a deferred BEGIN: it travels with the transaction's first statement, and a
    transaction that ran none ends without a trip to the thread."""

    __slots__ = ()
    _cursor_cls = OneHopCursor
    _ss_cursor_cls = DeferredBeginStreamCursor

    def commit(self) -> None:
        if getattr(self._connection, ENDED, False):
            setattr(self._connection, ENDED, False)  # committed with its last statement
            return
        if getattr(self._connection, PENDING_WRITES, None):
            begin, deferred = _take_pending(self._connection)
            setattr(self._connection, IN_TRANSACTION, True)
            try:
                await_(
                    self._connection._execute(
                        _run_and_commit, self._connection._conn, begin, deferred
                    )
                )
            except Exception as error:
                self._handle_exception(error)
            return
        if self._transaction_open():
            super().commit()

    def rollback(self) -> None:
        setattr(self._connection, PENDING_WRITES, None)
        if getattr(self._connection, ENDED, False):
            setattr(self._connection, ENDED, False)
            return
        if self._transaction_open():
            super().rollback()

    def _transaction_open(self) -> bool:
        """Whether ending the transaction needs SQLite: not when its BEGIN never ran, nor
        when its statements ran without one (the state is then forgotten)."""
        pending = getattr(self._connection, PENDING_BEGIN, None)
        in_transaction = getattr(self._connection, IN_TRANSACTION, True)
        setattr(self._connection, PENDING_BEGIN, None)
        setattr(self._connection, IN_TRANSACTION, True)
        return pending is None and in_transaction


def defer_begin(dbapi_connection: Any, statement: str) -> bool:
    """Let `statement` (BEGIN ...) run with the transaction's first statement; False
    when the connection cannot (the caller then runs it now)."""
    if not isinstance(dbapi_connection, OneHopConnection):
        return False
    setattr(dbapi_connection._connection, PENDING_BEGIN, statement)
    return True


def apply_options(cursor: Any, execution_options: Any) -> None:
    """Let the statement about to run on cursor wait for the next trip (DEFERRED_WRITE),
    or take the COMMIT along (LAST_STATEMENT); engine event `before_cursor_execute`."""
    if isinstance(cursor, OneHopCursor):
        cursor._deferred = bool(execution_options.get(DEFERRED_OPTION))
        cursor._last = bool(execution_options.get(LAST_OPTION))


class StopOnceConnection(aiosqlite.Connection):
    """aiosqlite's connection, whose thread is asked to stop once, however often stop() is
    called.

    SQLAlchemy ends a connection whose task was cancelled mid-statement by a close() in a
    shielded task and, when cancelled again meanwhile, by stop() at once (its "terminate").
    aiosqlite's close() (0.22.1) then asks the thread to stop a second time and waits for
    the answer, which the thread, gone at the first request, never gives: that task never
    ends, and neither does the event loop's shutdown, which waits for every task. Here a
    later stop() returns the first one's future, which the thread answers as it ends.
    """

    def stop(self) -> asyncio.Future[Any] | None:
        if STOPPING not in self.__dict__:
            self.__dict__[STOPPING] = super().stop()
        stopping: asyncio.Future[Any] | None = self.__dict__[STOPPING]
        return stopping


def use_one_hop_cursor(dbapi_connection: Any) -> None:
    """Switch a freshly opened aiosqlite connection (pool "connect" event) to OneHopCursor
    (and its aiosqlite connection to StopOnceConnection)."""
    if type(dbapi_connection) is AsyncAdapt_aiosqlite_connection:
        dbapi_connection.__class__ = OneHopConnection
    if type(dbapi_connection._connection) is aiosqlite.Connection:
        dbapi_connection._connection.__class__ = StopOnceConnection
