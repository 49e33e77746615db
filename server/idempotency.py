"""Idempotency keys: a retry gets the first response and creates nothing (SPEC §4.3b).

RPCs marked `option (annotation.v1.idempotency_key) = true` (InitProject,
CreateExport, ImportPredictions, ImportAnnotations) honour an `idempotency-key` metadata entry
(REST: the `Idempotency-Key` header, forwarded by the gateway):

* The key (1–255 printable ASCII characters) is the caller's own: keys of
  different users never meet. It is kept KEY_TTL after its first use.
* The request's fingerprint is the sha256 of the RPC's full name and its
  request message(s) serialised deterministically.
* The first request claims the key in the database (a unique (user_id, key),
  so servers sharing one PostgreSQL agree), runs, and stores its response.
  A retry with the same fingerprint gets that stored response; a request with
  another fingerprint, or one arriving while the first still runs, is 409
  IDEMPOTENCY_CONFLICT.
* A request that fails releases its key, so the retry runs again. The RPC runs
  to its end even when its client goes away (the point of a key is that a
  retry finds the answer the client never received), so a stored response
  never goes missing short of the server process dying mid-request; a key
  left claimed that way answers IDEMPOTENCY_CONFLICT until it expires.
* Claiming the key and starting the work are one step that the client's
  cancel (its deadline passing, or its going away) cannot split: both run in
  one task the RPC only waits for. When the claim ran in the RPC's own task, a
  cancel arriving as the claim committed left the key `running` with no work
  behind it, and every retry got 409 for 24 hours.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from enum import StrEnum
from functools import cache
from typing import Any

from annotation.v1 import options_pb2
from google.protobuf import descriptor_pool
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from annotation_api.errors import DomainError, ErrorCode
from server.auth import Caller
from storage.database import Database
from storage.idempotency import NewKey, claim_key, complete_key, release_key
from storage.types import utcnow

KEY_HEADER = "idempotency-key"
KEY_TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255


class KeyStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"


def idempotent_method(path: str) -> MethodDescriptor | None:
    """The descriptor of a /package.Service/Method path when it honours keys."""
    return _idempotent_method(path)


@cache
def _idempotent_method(path: str) -> MethodDescriptor | None:
    name = path.lstrip("/").replace("/", ".")
    try:
        method = descriptor_pool.Default().FindMethodByName(name)
    except KeyError:
        return None
    if not method.GetOptions().Extensions[options_pb2.idempotency_key]:
        return None
    return method


def check_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not (key.isascii() and key.isprintable()):
        raise DomainError(
            ErrorCode.INVALID_REQUEST,
            f"the idempotency key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters",
            {"field": KEY_HEADER},
        )
    return key


class Idempotency:
    """Runs a keyed request at most once per caller and key (see module docstring)."""

    def __init__(self, database: Database, *, max_stream_bytes: int) -> None:
        self._database = database
        # a keyed request stream is read in full before it runs: never more than this
        self._max_stream_bytes = max_stream_bytes
        self._running: set[asyncio.Future[Message]] = set()

    async def run(
        self,
        *,
        caller: Caller,
        method: MethodDescriptor,
        key: str,
        request: Any,
        streamed: bool,
        behavior: Callable[[Any], Awaitable[Message]],
    ) -> Message:
        """The response of behavior(request), or of the first request under this key."""
        # A request stream is read before the key is judged: a stream refused before
        # its first read ends badly for a client still writing to it.
        messages = await self._read_all(request) if streamed else [request]
        check_key(key)
        digest = hashlib.sha256(method.full_name.encode())
        for message in messages:
            data = message.SerializeToString(deterministic=True)
            digest.update(len(data).to_bytes(8, "big"))
            digest.update(data)
        now = utcnow()
        new = NewKey(
            user_id=caller.user_id,
            key=key,
            request_hash=digest.hexdigest(),
            method=method.full_name,
            status=KeyStatus.RUNNING,
            created_at=now,
            expires_at=now + KEY_TTL,
        )
        replay: Any = _replay(messages) if streamed else request
        # Shielded: a client that goes away must not stop the request between the key's
        # claim and the work's start, nor between the work's commit and the stored
        # response (contextvars, the caller's included, are copied into the task).
        task = asyncio.ensure_future(
            self._claim_and_run(new, GetMessageClass(method.output_type), behavior, replay)
        )
        # The loop holds tasks weakly: once its client has gone, nothing else would keep
        # this one alive until it ends (and its key would stay "running").
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        # retrieved so that asyncio does not warn when its client has gone (the RPC, if
        # still there, reports the failure itself)
        task.add_done_callback(lambda done: done.cancelled() or done.exception())
        return await asyncio.shield(task)

    async def _read_all(self, stream: AsyncIterator[Message]) -> list[Message]:
        """Every message of a request stream; PAYLOAD_TOO_LARGE past the limit, at once."""
        messages: list[Message] = []
        total = 0
        async for message in stream:
            total += message.ByteSize()
            if total > self._max_stream_bytes:
                raise DomainError(
                    ErrorCode.PAYLOAD_TOO_LARGE,
                    f"the request is larger than the upload limit of {self._max_stream_bytes} "
                    "bytes",
                    {"limit_bytes": self._max_stream_bytes},
                )
            messages.append(message)
        return messages

    async def _claim_and_run(
        self,
        new: NewKey,
        response_class: type[Message],
        behavior: Callable[[Any], Awaitable[Message]],
        request: Any,
    ) -> Message:
        """The stored response of the key, or the work's own once this call claimed it."""
        async with self._database.transaction() as conn:
            stored = await claim_key(conn, new)
        if stored is not None:
            if stored.request_hash != new.request_hash:
                raise _conflict(new.key, "was used for a different request")
            if stored.status != KeyStatus.COMPLETED or stored.response is None:
                raise _conflict(new.key, "belongs to a request that is still running")
            return response_class.FromString(stored.response)
        try:
            response = await behavior(request)
        except BaseException:
            async with self._database.transaction() as conn:
                await release_key(conn, user_id=new.user_id, key=new.key)
            raise
        async with self._database.transaction() as conn:
            await complete_key(
                conn,
                user_id=new.user_id,
                key=new.key,
                status=KeyStatus.COMPLETED,
                response=response.SerializeToString(),
            )
        return response


async def _replay(messages: list[Message]) -> AsyncIterator[Message]:
    for message in messages:
        yield message


def _conflict(key: str, reason: str) -> DomainError:
    return DomainError(
        ErrorCode.IDEMPOTENCY_CONFLICT,
        f"idempotency key {key!r} {reason}",
        {"field": KEY_HEADER, "idempotency_key": key},
    )
