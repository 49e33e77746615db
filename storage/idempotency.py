"""Idempotency keys: claimed by one request (the unique (user_id, key) decides),
then completed with the response, or released when the request failed.

Every function joins the caller's transaction (`Database.transaction()`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import IdempotencyKey

_keys = cast(Table, IdempotencyKey.__table__)


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """A key as stored: whose, for which request, and how far the request got."""

    key_id: int
    request_hash: str
    method: str
    status: str
    response: bytes | None


@dataclass(frozen=True, slots=True)
class NewKey:
    """A key a request asks to claim."""

    user_id: str
    key: str
    request_hash: str
    method: str
    status: str
    created_at: datetime
    expires_at: datetime


async def claim_key(conn: AsyncConnection, new: NewKey) -> KeyRecord | None:
    """Insert the key unless the user holds it already: None when this call claimed
    it, else the key as stored. Expired keys are removed first, so they can be reused.

    A concurrent claim of the same key waits for this transaction (PostgreSQL's
    unique index; SQLite's write lock) and then finds the stored key.
    """
    await conn.execute(delete(_keys).where(_keys.c.expires_at <= new.created_at))
    values = {
        "user_id": new.user_id,
        "key": new.key,
        "request_hash": new.request_hash,
        "method": new.method,
        "status": new.status,
        "response": None,
        "created_at": new.created_at,
        "expires_at": new.expires_at,
    }
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(_keys).values(values).on_conflict_do_nothing()
    if (await conn.execute(statement)).rowcount == 1:
        return None
    row = (
        await conn.execute(
            select(_keys).where(_keys.c.user_id == new.user_id, _keys.c.key == new.key)
        )
    ).one()
    return KeyRecord(row.id, row.request_hash, row.method, row.status, row.response)


async def complete_key(
    conn: AsyncConnection, *, user_id: str, key: str, status: str, response: bytes
) -> None:
    """Keep the response of the request that claimed the key."""
    await conn.execute(
        update(_keys)
        .where(_keys.c.user_id == user_id, _keys.c.key == key)
        .values(status=status, response=response)
    )


async def release_key(conn: AsyncConnection, *, user_id: str, key: str) -> None:
    """Forget a key whose request failed, so that a retry runs again."""
    await conn.execute(delete(_keys).where(_keys.c.user_id == user_id, _keys.c.key == key))
