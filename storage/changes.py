"""Which projects changed: told to the watchers of every server, after the commit.

A writer calls `note_project_change(conn, project_id)` inside its transaction,
or runs an UPDATE of the project's row made `notifying` (storage.projects does,
for the counters and status: then telling costs no statement of its own).
Nothing is told before the transaction commits, so a watcher woken by a change
always reads a state that includes it:

* on PostgreSQL it is a `pg_notify` on CHANNEL, which PostgreSQL delivers when
  (and only if) the transaction commits, to every listening connection: each
  server holds one (`ChangeHub.listen`), and so a change made through any
  server reaches the watchers of every server. Notifications of one
  transaction with the same payload are delivered once;
The keys are project ids, and `user_key(user_id)` for a user's queue (their
counters in some project moved).

* on SQLite (one server process) the key is kept on the connection and
  `Database.transaction()` hands it to the hub after its commit (`take_noted`),
  and drops it on a rollback.

A `Watcher` is one flag and one event, never a queue: changes that come faster
than a watcher reads set the same flag again, so a slow watcher costs no more
memory than a fast one, and what it reads next is the latest state.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from sqlalchemy import ColumnElement, func, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection

log = logging.getLogger(__name__)

CHANNEL = "annotation_project_changes"
# A user's key (their queue changed), beside project ids (a project changed).
USER_KEY_PREFIX = "user:"
# The key of the changed project ids kept on a SQLite connection until its commit.
_NOTED = "noted_project_changes"
_NOTIFY = text("SELECT pg_notify(:channel, :project_id)")
# Pause before the listener connects again after losing its connection.
RECONNECT_SECONDS = 1.0


class Watcher:
    """One watcher of one key: a dirty flag and the event that wakes it."""

    __slots__ = ("_wake", "changed", "closed", "key")

    def __init__(self, key: str) -> None:
        self.key = key
        self.changed = False  # a change came since the watcher last took it
        self.closed = False  # the stream must end (the server is stopping)
        self._wake = asyncio.Event()

    def mark_changed(self) -> None:
        self.changed = True
        self._wake.set()

    def close(self) -> None:
        self.closed = True
        self._wake.set()

    def take_change(self) -> bool:
        """Whether a change came since the last call (the flag is cleared)."""
        changed, self.changed = self.changed, False
        return changed

    async def wait(self) -> None:
        """Until a change or close() comes (at once if one came already)."""
        if not (self.changed or self.closed):
            await self._wake.wait()
        self._wake.clear()


async def note_project_change(conn: AsyncConnection, project_id: str) -> None:
    """Tell the project's watchers, once this transaction commits, that it changed."""
    if conn.dialect.name == "postgresql":
        await conn.execute(_NOTIFY, {"channel": CHANNEL, "project_id": project_id})
    else:
        note_after_commit(conn, project_id)


def user_key(user_id: str) -> str:
    """The key a user's queue is watched under."""
    return USER_KEY_PREFIX + user_id


def notifying(statement: Any, key: ColumnElement[str]) -> Any:
    """PostgreSQL: a write (UPDATE, or INSERT .. ON CONFLICT) that notifies the watchers
    of `key` (a column expression of the written row) too, in the same statement
    (RETURNING pg_notify(...)), so telling costs no extra round trip."""
    return statement.returning(func.pg_notify(CHANNEL, key))


def note_after_commit(conn: AsyncConnection, key: str) -> None:
    """SQLite: keep the key on the connection for `Database.transaction()`."""
    conn.info.setdefault(_NOTED, set()).add(key)


def take_noted(conn: AsyncConnection) -> set[str]:
    """The keys noted on the connection (and forgets them): the connection is
    pooled, so they are taken after every transaction, committed or not."""
    noted: set[str] = conn.info.pop(_NOTED, set())
    return noted


class ChangeHub:
    """This process's watchers, by key (a project id, or user_key of a user), and
    (PostgreSQL) its LISTEN connection."""

    def __init__(self, url: URL) -> None:
        self._url = url
        self._listening = url.get_backend_name() == "postgresql"
        self._watchers: dict[str, set[Watcher]] = {}
        # key -> how many changes were told of it (while it has watchers)
        self._versions: dict[str, int] = {}
        self._ready = asyncio.Event()
        if not self._listening:
            self._ready.set()

    @property
    def watcher_count(self) -> int:
        return sum(len(watchers) for watchers in self._watchers.values())

    @contextmanager
    def subscribe(self, key: str) -> Iterator[Watcher]:
        watcher = Watcher(key)
        self._watchers.setdefault(key, set()).add(watcher)
        try:
            yield watcher
        finally:
            watchers = self._watchers.get(key)
            if watchers is not None:
                watchers.discard(watcher)
                if not watchers:
                    del self._watchers[key]
                    self._versions.pop(key, None)

    def version(self, key: str) -> int:
        """How many changes of key were told so far: a read that starts once this
        number is reached sees every one of them (they were told after their commit)."""
        return self._versions.get(key, 0)

    async def ready(self, timeout: float) -> bool:
        """Whether changes are heard (on PostgreSQL: the LISTEN connection is up)."""
        if self._ready.is_set():
            return True
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def publish(self, keys: Iterable[str]) -> None:
        """Mark the watchers of these keys changed."""
        for key in keys:
            watchers = self._watchers.get(key)
            if watchers:
                self._versions[key] = self._versions.get(key, 0) + 1
                for watcher in watchers:
                    watcher.mark_changed()

    def _mark_all(self) -> None:
        self.publish(list(self._watchers))

    async def listen(self, stop: asyncio.Event) -> None:
        """PostgreSQL: LISTEN until stop is set, connecting again when the connection is
        lost (and then marking every watcher changed: a notification may have been
        missed meanwhile). Returns at once on SQLite."""
        if not self._listening:
            return
        import asyncpg

        dsn = self._url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not stop.is_set():
            try:
                await self._listen_once(asyncpg, dsn, stop)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("change listener: %s", exc)
            finally:
                self._ready.clear()
            if not stop.is_set():
                with suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), RECONNECT_SECONDS)

    async def _listen_once(self, asyncpg: Any, dsn: str, stop: asyncio.Event) -> None:
        """One LISTEN connection, until stop is set or the connection is lost."""
        lost = asyncio.Event()
        conn = await asyncpg.connect(dsn)
        try:
            conn.add_termination_listener(lambda _conn: lost.set())
            await conn.add_listener(
                CHANNEL, lambda _conn, _pid, _channel, payload: self.publish((payload,))
            )
            self._ready.set()
            self._mark_all()  # anything committed before LISTEN began
            waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(lost.wait())]
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiting in waits:
                    waiting.cancel()
        finally:
            if not conn.is_closed():
                await conn.close()
