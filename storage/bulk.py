"""Fast multi-row INSERT that stays engine-neutral, overlapped with the caller's work.

`conn.execute(table.insert(), [dict, ...])` spends most of its time in
per-row, per-column Python (parameter dicts, type processors): about 0.45 s
per 100,000 task rows on top of the database's own work. Here SQLAlchemy
still compiles the statement for the connection's dialect (so the SQL and the
paramstyle are right for SQLite and PostgreSQL alike), but values that are the
same for every row (project id, status, timestamps) go through their type's
bind processor once, and the rows go to the driver as plain tuples in chunks:

* On PostgreSQL (asyncpg) through COPY, which writes 100,000 task rows in
  about half the time of executemany.
* On SQLite as one statement per chunk, `INSERT … SELECT … FROM json_each(?)`
  over the chunk's rows serialized by orjson. sqlite3 lets other threads run
  only while SQLite itself works (`sqlite3_step`), and executemany steps once
  per row, taking the GIL back between rows: with the event loop busy (the
  gateway parsing the next part of a large body, the server checking the next
  batch) every row of the database's thread waited for the GIL, and the
  insert ran at a fraction of its speed. One statement per chunk is one step
  without the GIL, so SQLite writes on one core while Python works on the
  other; it also costs less CPU than executemany's per-row binding. Chunks
  that JSON cannot carry exactly (bytes, floats, U+0000, values orjson does
  not know) and small chunks go through executemany.

`BulkInsert` starts writing a chunk and hands control back, so that the
caller prepares the next chunk (or the next batch of a stream) while the
database writes: at most one chunk is in flight, and its error surfaces on the
next call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from functools import partial
from itertools import islice
from operator import itemgetter
from types import TracebackType
from typing import Any

import orjson
from sqlalchemy import LargeBinary, Numeric, PickleType, Table, insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

CHUNK_SIZE = 10_000
# Smaller chunks gain nothing from the JSON statement: executemany is as quick.
JSON_MIN_ROWS = 64
# A chunk's JSON text is split until it is at most this large (SQLite's own
# limit on a value is 1,000,000,000 bytes by default).
JSON_MAX_BYTES = 64 * 1024 * 1024
# Values JSON does not carry back exactly into these column types.
_NOT_JSON_TYPES = (Numeric, LargeBinary, PickleType)
# orjson would write these as JSON text that the driver would store differently.
_JSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_NUL = b"\\u0000"

Write = Callable[[list[Any]], Awaitable[None]]


def _scalar_default(table: Table, name: str) -> Any:
    default = table.c[name].default
    if default is None or not default.is_scalar:
        raise ValueError(f"insert_many: no value and no scalar default for {table.name}.{name}")
    return default.arg  # type: ignore[attr-defined]


class BulkInsert:
    """Rows (tuples ordered like `columns`) plus constants, written chunk by chunk.

    `await add(rows)` returns once the last of its chunks is being written (the
    chunks before it are written); `finish()` waits for that one and returns
    how many rows were written. Used as an async context manager, an error in
    the block first waits for the chunk in flight (its own error is then
    dropped: the transaction rolls back anyway). The connection must not run
    anything else until `finish()`.

    Columns that are neither given nor constant get their Python-side default.
    Values of `columns` are passed as they are: give them in the form the
    driver takes (str, int, None); only constants go through type processing.
    """

    def __init__(
        self,
        conn: AsyncConnection,
        table: Table,
        *,
        columns: Sequence[str],
        constants: Mapping[str, Any] | None = None,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        self._conn = conn
        self._table = table
        self._chunk_size = chunk_size
        constants = dict(constants or {})
        dialect = conn.dialect
        compiled = (
            insert(table)
            .inline()
            .compile(dialect=dialect, column_keys=[*columns, *constants], for_executemany=True)
        )
        names: list[str] = list(compiled.positiontup or compiled.params)
        const_names = [name for name in names if name not in columns]
        processed: list[Any] = []
        for name in const_names:
            value = constants[name] if name in constants else _scalar_default(table, name)
            processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
            processed.append(processor(value) if processor else value)
        # Full row = (*row, *processed); pick every bound name's position from it.
        source = {name: i for i, name in enumerate(columns)}
        source.update({name: len(columns) + i for i, name in enumerate(const_names)})
        self._pick = itemgetter(*(source[name] for name in names))
        self._tail = tuple(processed)
        self._names = names
        self._positional = bool(compiled.positional)
        self._sql = str(compiled)
        self._use_copy = (
            dialect.name == "postgresql" and dialect.driver == "asyncpg" and self._positional
        )
        self._copy: Write | None = None
        self._json_sql: dict[frozenset[int], str] | None = (
            {}
            if dialect.name == "sqlite"
            and self._positional
            and not any(isinstance(table.c[name].type, _NOT_JSON_TYPES) for name in columns)
            else None
        )
        self._json_columns = tuple(columns)
        self._writing: asyncio.Future[None] | None = None
        self.count = 0

    async def __aenter__(self) -> BulkInsert:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is None:
            await self.finish()
        elif self._writing is not None:
            writing, self._writing = self._writing, None
            await asyncio.wait([writing])
            if not writing.cancelled():
                writing.exception()  # retrieved: the block's own error is the one raised

    async def add(self, rows: Iterable[Sequence[Any]]) -> None:
        """Start writing rows: chunk by chunk, each shaped while the one before is written."""
        iterator = iter(rows)
        chunk_size = self._chunk_size
        while chunk := list(islice(iterator, chunk_size)):
            prepared = self._prepare(chunk)
            await self._wait()
            self._writing = asyncio.ensure_future(prepared())
            # One turn of the loop hands the statement to the driver before the
            # caller's next piece of work takes the thread.
            await asyncio.sleep(0)
            self.count += len(chunk)

    async def finish(self) -> int:
        """Wait for the chunk in flight; how many rows were written."""
        await self._wait()
        return self.count

    async def _wait(self) -> None:
        if self._writing is not None:
            writing, self._writing = self._writing, None
            await writing

    def _prepare(self, chunk: list[Sequence[Any]]) -> Callable[[], Awaitable[None]]:
        """The write of one chunk, its rows shaped (and serialized) now."""
        if self._json_sql is not None and len(chunk) >= JSON_MIN_ROWS:
            texts = _json_texts(chunk)
            if texts is not None:
                return partial(self._write_json, self._json_statement(chunk), texts)
        return partial(self._write_rows, [self._shape(row) for row in chunk])

    def _json_statement(self, chunk: list[Sequence[Any]]) -> str:
        """The JSON statement for the chunk: a column that is NULL in every row of it is
        written as NULL (each value SQLite reads out of a row's JSON costs it ~0.3 µs;
        e.g. the file path of text tasks, the ids of items given without one)."""
        assert self._json_sql is not None
        nulls = frozenset(
            index
            for index, value in enumerate(chunk[0])
            if value is None and list(map(itemgetter(index), chunk)).count(None) == len(chunk)
        )
        sql = self._json_sql.get(nulls)
        if sql is None:
            sql = self._json_sql[nulls] = _json_insert_sql(
                self._conn, self._table, self._names, self._json_columns, self._tail, nulls
            )
        return sql

    def _shape(self, row: Sequence[Any]) -> Any:
        picked = self._pick((*row, *self._tail))
        if len(self._names) == 1:
            picked = (picked,)
        return picked if self._positional else dict(zip(self._names, picked, strict=True))

    async def _write_json(self, sql: str, texts: list[bytes]) -> None:
        for text in texts:
            await self._conn.exec_driver_sql(sql, (*self._tail, text))

    async def _write_rows(self, shaped: list[Any]) -> None:
        if self._use_copy:
            self._copy = self._copy or await _copy_writer(self._conn, self._table, self._names)
            await self._copy(shaped)
        else:
            await self._conn.exec_driver_sql(self._sql, shaped)


async def insert_many(
    conn: AsyncConnection,
    table: Table,
    *,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    constants: Mapping[str, Any] | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> int:
    """Insert rows (tuples ordered like columns) plus constants into table; return the count.

    See `BulkInsert` for what the values may be.
    """
    bulk = BulkInsert(conn, table, columns=columns, constants=constants, chunk_size=chunk_size)
    async with bulk:
        await bulk.add(rows)
    return bulk.count


def _json_insert_sql(
    conn: AsyncConnection,
    table: Table,
    names: Sequence[str],
    columns: Sequence[str],
    constants: Sequence[Any],
    nulls: frozenset[int],
) -> str:
    """`INSERT INTO t (…) SELECT <row values and constants> FROM json_each(?)`: the
    constants are bound first, in column order, then the rows' JSON text (a blob, read
    as UTF-8 text); the columns at the indexes `nulls` are NULL."""
    quote = conn.dialect.identifier_preparer.quote
    position = {name: i for i, name in enumerate(columns)}
    targets = ", ".join(quote(table.c[name].name) for name in names)
    values = ", ".join(
        ("NULL" if position[name] in nulls else f"j.value ->> {position[name]}")
        if name in position
        else "?"
        for name in names
    )
    assert values.count("?") == len(constants)
    table_name = conn.dialect.identifier_preparer.format_table(table)
    return (
        f"INSERT INTO {table_name} ({targets}) SELECT {values} FROM json_each(CAST(? AS TEXT)) AS j"
    )


def _json_texts(chunk: list[Sequence[Any]]) -> list[bytes] | None:
    """The chunk's rows as JSON arrays of at most JSON_MAX_BYTES each, or None when JSON
    would not give back some value exactly (the chunk then goes through executemany)."""
    try:
        text = orjson.dumps(chunk, option=_JSON_OPTIONS)
    except TypeError:
        return None
    if _NUL in text:
        return None  # SQLite's JSON functions end a string at U+0000
    if len(text) <= JSON_MAX_BYTES:
        return [text]
    if len(chunk) == 1:
        return None
    half = len(chunk) // 2
    first, second = _json_texts(chunk[:half]), _json_texts(chunk[half:])
    return None if first is None or second is None else first + second


async def _copy_writer(conn: AsyncConnection, table: Table, names: Sequence[str]) -> Write:
    """PostgreSQL's COPY through asyncpg: the rows in one stream, no statement per row.

    Rows keep their order, so serial ids still follow input order. The driver
    call bypasses SQLAlchemy, so two things it would do are done here: the
    transaction is begun first (SQLAlchemy's asyncpg adapter begins lazily, and
    COPY must not run outside it), and driver errors are wrapped as DBAPIError
    for Database's one translation point.
    """
    await conn.exec_driver_sql("SELECT 1")  # begins the adapter's transaction
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    columns = [table.c[name].name for name in names]

    async def write(chunk: list[Any]) -> None:
        try:
            await driver.copy_records_to_table(  # type: ignore[union-attr]
                table.name, records=chunk, columns=columns, schema_name=table.schema
            )
        except Exception as exc:
            raise DBAPIError(f"COPY {table.name}", None, exc) from exc

    return write
