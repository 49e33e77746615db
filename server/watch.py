"""Watching a state (a project's progress, an annotator's queue): at once, then after changes.

* Same access as the state's own read: every state sent is read by the read function
  given (`get_progress` with the caller's rights, so a caller who cannot see the
  project gets PROJECT_NOT_FOUND; the caller's own queue counts).
* The watcher subscribes before the first read, so a change committed after that
  read is never missed (storage.changes tells watchers after the commit only).
* Coalesced: at most one state per COALESCE_SECONDS; a change inside the window
  is read and sent at its end, so the last state is always sent. A state equal
  to the one sent last (a change that moved nothing GetProgress shows) is not sent.
* One read per change, not per stream: the streams of one key and one user (so
  with the same access) share a read that started after the change was told
  (`ChangeHub.version`); a thousand watchers of a project cost one read of its
  progress per change.
* A slow reader holds one flag, not a queue: while it has not taken a state the
  generator waits in its `yield`, and the changes meanwhile set the same flag,
  so what it gets next is the latest state.
* The token is checked again every half of `recheck_seconds` by one task per
  server, once per distinct token (not per stream): a revoked token's streams end
  (INVALID_TOKEN) within that time. Between changes a stream costs nothing: its
  watcher sleeps until a change, a revocation or the server stopping wakes it.
* `Watch.close()` (the server is stopping) ends every open stream at once,
  cleanly, after the state it is sending.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar, cast

from annotation_api.errors import DomainError, ErrorCode
from annotation_api.settings import Settings
from server.auth import Authenticator, Caller
from storage.changes import Watcher
from storage.database import Database

COALESCE_SECONDS = 0.25
# How long an opening stream waits for the change listener (PostgreSQL) to be up.
LISTENER_READY_SECONDS = 10.0

# A stream's token is checked at least this often (auth_cache_seconds may be 0).
MIN_RECHECK_SECONDS = 0.2

T = TypeVar("T")


class Watch:
    """The open watch streams of one service, and the one task that checks their
    tokens again: one lookup per distinct token every half of recheck_seconds,
    however many streams hold it (a watcher itself only wakes for a change)."""

    def __init__(self, database: Database, *, recheck_seconds: float) -> None:
        self._database = database
        self.recheck_seconds = recheck_seconds
        self._tokens = Authenticator(database)
        # token -> (its caller's user id, the watchers opened with it)
        self._by_token: dict[str, tuple[str, set[Watcher]]] = {}
        self._revoked: set[Watcher] = set()
        self._rechecking: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()
        # (key, user id) -> (the hub's version of key when the read started, the read)
        self._reads: dict[tuple[str, str], tuple[int, asyncio.Future[object]]] = {}
        self._readers: Counter[tuple[str, str]] = Counter()

    @property
    def open_streams(self) -> int:
        return sum(len(watchers) for _, watchers in self._by_token.values())

    def close(self) -> None:
        """End every open stream (and refuse new ones): the server is stopping."""
        self._closing.set()
        for _, watchers in self._by_token.values():
            for watcher in watchers:
                watcher.close()

    @classmethod
    def for_server(cls, settings: Settings, database: Database) -> Watch:
        """A revoked token's streams end within the auth cache time, as its calls do."""
        return cls(database, recheck_seconds=max(settings.auth_cache_seconds, MIN_RECHECK_SECONDS))

    async def states(
        self, caller: Caller, token: str, key: str, read: Callable[[], Awaitable[T]]
    ) -> AsyncIterator[T]:
        """`read()` now, then after each change of `key` (a project id, or
        storage.changes.user_key of a user): see module docstring."""
        database = self._database
        loop = asyncio.get_running_loop()
        shared = (key, caller.user_id)
        with (
            database.changes.subscribe(key) as watcher,
            self._holding(token, caller, watcher),
            self._sharing(shared),
        ):
            if not await database.changes.ready(LISTENER_READY_SECONDS):
                raise DomainError(ErrorCode.INTERNAL_ERROR, "the server cannot hear changes now")
            last = await self._read_shared(shared, read)
            yield last
            sent_at = loop.time()
            while True:
                await watcher.wait()
                if watcher.closed:
                    break
                if not watcher.changed:
                    continue
                window_left = sent_at + COALESCE_SECONDS - loop.time()
                if window_left > 0 and await self._closing_within(window_left):
                    break
                if watcher.closed:  # revoked meanwhile
                    break
                # Taken before the read: a change committed during it marks again.
                watcher.take_change()
                state = await self._read_shared(shared, read)
                if state == last:
                    continue
                last = state
                yield state
                sent_at = loop.time()
            if watcher in self._revoked:
                raise DomainError(ErrorCode.INVALID_TOKEN, "missing or invalid token")

    async def _read_shared(self, shared: tuple[str, str], read: Callable[[], Awaitable[T]]) -> T:
        """read()'s result, or that of a read of the same key and user that started
        after every change told so far (so it sees them all)."""
        version = self._database.changes.version(shared[0])
        found = self._reads.get(shared)
        failed = (
            found is not None
            and found[1].done()
            and (found[1].cancelled() or found[1].exception() is not None)
        )
        if found is None or found[0] < version or failed:
            future: asyncio.Future[object] = asyncio.ensure_future(read())
            found = self._reads[shared] = (version, future)
        # shielded: one reader going away does not cancel the read for the others
        return cast(T, await asyncio.shield(found[1]))

    @contextmanager
    def _sharing(self, shared: tuple[str, str]) -> Iterator[None]:
        """The shared read of (key, user) is kept while a stream of theirs is open."""
        self._readers[shared] += 1
        try:
            yield
        finally:
            self._readers[shared] -= 1
            if self._readers[shared] <= 0:
                del self._readers[shared]
                self._reads.pop(shared, None)

    @contextmanager
    def _holding(self, token: str, caller: Caller, watcher: Watcher) -> Iterator[None]:
        """The watcher is known under its token (and ended if the token is revoked)."""
        if self._closing.is_set():
            watcher.close()
        _, watchers = self._by_token.setdefault(token, (caller.user_id, set()))
        watchers.add(watcher)
        if self._rechecking is None or self._rechecking.done():
            self._rechecking = asyncio.create_task(self._recheck_tokens())
        try:
            yield
        finally:
            watchers.discard(watcher)
            self._revoked.discard(watcher)
            if not watchers and self._by_token.get(token, (None, watchers))[1] is watchers:
                del self._by_token[token]
            if not self._by_token and self._rechecking is not None:
                self._rechecking.cancel()  # no stream left to check for
                self._rechecking = None

    async def _recheck_tokens(self) -> None:
        """While streams are open: every half of recheck_seconds, look up each token
        again; the streams of one that no longer resolves to its user end."""
        while self._by_token and not self._closing.is_set():
            if await self._closing_within(self.recheck_seconds / 2):
                return
            for token, (user_id, watchers) in list(self._by_token.items()):
                try:
                    still = (await self._tokens.authenticate(token)).user_id == user_id
                except DomainError:
                    still = False
                if not still:
                    for watcher in watchers:
                        self._revoked.add(watcher)
                        watcher.close()

    async def _closing_within(self, seconds: float) -> bool:
        """Wait `seconds` (a coalescing window, or the time between token checks);
        True when the server began stopping meanwhile."""
        try:
            await asyncio.wait_for(self._closing.wait(), seconds)
        except TimeoutError:
            return False
        return True
