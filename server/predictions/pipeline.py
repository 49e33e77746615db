"""Running a batched reader in a worker thread, one batch ahead of its consumer.

Parsing a batch is CPU work in the reader's thread; while the event loop matches
and writes one batch, the thread already parses the next. At most two batches
are alive at a time, whatever the file's size.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterator,
)
from contextlib import aclosing, asynccontextmanager
from typing import TypeVar

from annotation_api.gc_pause import cyclic_gc_paused
from server.predictions.json_stream import Source
from server.predictions.upload import spooled_file

T = TypeVar("T")


async def read_ahead(batches: Iterator[list[T]]) -> AsyncGenerator[list[T], None]:
    """The batches of a blocking iterator, each parsed in a worker thread while the
    previous one is being used. Leaving early waits for the batch under way, so that
    the reader (and the file under it) is never used by two threads."""
    pending: asyncio.Future[list[T] | None] = asyncio.ensure_future(
        asyncio.to_thread(next, batches, None)
    )
    try:
        while (batch := await pending) is not None:
            pending = asyncio.ensure_future(asyncio.to_thread(next, batches, None))
            yield batch
    finally:
        if not pending.done():
            with contextlib.suppress(BaseException):
                await asyncio.shield(pending)
        elif not pending.cancelled():
            pending.exception()  # retrieved: an error behind an earlier one is not logged


@asynccontextmanager
async def import_batches(
    chunks: AsyncIterable[bytes],
    *,
    limit: int,
    reader: Callable[[Source], Awaitable[Iterator[list[T]]]],
) -> AsyncIterator[tuple[list[T] | None, AsyncIterator[list[T]]]]:
    """An import file's batches: (the first, the rest), from the upload spooled within
    `limit` bytes (server.predictions.upload), with the cyclic garbage collector paused
    (annotation_api.gc_pause). `reader` prepares the file's blocking batch iterator (it
    may read parts of the file first); the batches are then read one ahead in a worker
    thread.

    The first batch is read on entry, before the caller opens a transaction: a file
    whose shape is wrong is refused without taking the project's lock."""
    async with spooled_file(chunks, limit=limit) as file:
        with cyclic_gc_paused():
            batches_of_file = await reader(file)
            async with aclosing(read_ahead(batches_of_file)) as batches:
                yield await anext(batches, None), batches
