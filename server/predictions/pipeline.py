"""Running a batched reader in a worker thread, one batch ahead of its consumer.

Parsing a batch is CPU work in the reader's thread; while the event loop matches
and writes one batch, the thread already parses the next. At most two batches
are alive at a time, whatever the file's size.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Iterator
from typing import TypeVar

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
