"""Watching a project's progress (WatchProgress): its state at once, then after changes.

* Same access as GetProgress: every state sent is read by `get_progress`, with the
  caller's rights, so a caller who cannot see the project gets PROJECT_NOT_FOUND.
* The watcher subscribes before the first read, so a change committed after that
  read is never missed (storage.changes tells watchers after the commit only).
* Coalesced: at most one state per COALESCE_SECONDS; a change inside the window
  is read and sent at its end, so the last state is always sent. A state equal
  to the one sent last (a change that moved nothing GetProgress shows) is not sent.
* A slow reader holds one flag, not a queue: while it has not taken a state the
  generator waits in its `yield`, and the changes meanwhile set the same flag,
  so what it gets next is the latest state.
* The token is checked again every `recheck_seconds`: a revoked token's stream
  ends (INVALID_TOKEN) within that time.
* `Watch.close()` (the server is stopping) ends every open stream at once,
  cleanly, after the state it is sending.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

from annotation_api.errors import DomainError, ErrorCode
from server.auth import Caller
from server.projects.service import Progress, get_progress
from storage.changes import Watcher
from storage.database import Database

COALESCE_SECONDS = 0.25
# How long an opening stream waits for the change listener (PostgreSQL) to be up.
LISTENER_READY_SECONDS = 10.0

CheckCaller = Callable[[], Awaitable[None]]


class Watch:
    """The open progress streams of one server."""

    def __init__(self, database: Database, *, recheck_seconds: float) -> None:
        self._database = database
        self.recheck_seconds = recheck_seconds
        self._open: set[Watcher] = set()
        self._closing = asyncio.Event()

    @property
    def open_streams(self) -> int:
        return len(self._open)

    def close(self) -> None:
        """End every open stream (and refuse new ones): the server is stopping."""
        self._closing.set()
        for watcher in self._open:
            watcher.close()

    async def progress(
        self, caller: Caller, project_id: str, *, check_caller: CheckCaller
    ) -> AsyncIterator[Progress]:
        """The project's progress now, then after each change (see module docstring)."""
        database = self._database
        loop = asyncio.get_running_loop()
        with database.changes.subscribe(project_id) as watcher:
            self._open.add(watcher)
            try:
                if not await database.changes.ready(LISTENER_READY_SECONDS):
                    raise DomainError(
                        ErrorCode.INTERNAL_ERROR, "the server cannot hear changes now"
                    )
                last = await get_progress(database, caller, project_id)
                yield last
                sent_at = checked_at = loop.time()
                while not (watcher.closed or self._closing.is_set()):
                    await watcher.wait(self.recheck_seconds / 2)
                    if loop.time() - checked_at >= self.recheck_seconds / 2:
                        await check_caller()
                        checked_at = loop.time()
                    if watcher.closed or not watcher.changed:
                        continue
                    window_left = sent_at + COALESCE_SECONDS - loop.time()
                    if window_left > 0 and await self._closing_within(window_left):
                        break
                    # Taken before the read: a change committed during it marks again.
                    watcher.take_change()
                    state = await get_progress(database, caller, project_id)
                    if state == last:
                        continue
                    last = state
                    yield state
                    sent_at = loop.time()
            finally:
                self._open.discard(watcher)

    async def _closing_within(self, seconds: float) -> bool:
        """Wait out the coalescing window (changes meanwhile only set the flag
        again); True when the server began stopping meanwhile."""
        try:
            await asyncio.wait_for(self._closing.wait(), seconds)
        except TimeoutError:
            return False
        return True
