"""Users and their API tokens.

A token's secret is never stored: only its sha256 hex (looked up through a
unique index, then compared in constant time) and a short prefix that lets an
operator tell tokens apart.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from annotation_api.errors import DomainError, ErrorCode
from storage.ids import new_user_id
from storage.models import ApiToken, User
from storage.types import utcnow

users = cast(Table, User.__table__)
tokens = cast(Table, ApiToken.__table__)


@dataclass(frozen=True, slots=True)
class UserRecord:
    user_id: str
    username: str
    role: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TokenRecord:
    token_id: int
    user_id: str
    username: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


def hash_token(secret: str) -> str:
    """sha256 hex of a token's secret: what the database keeps."""
    return hashlib.sha256(secret.encode()).hexdigest()


def token_prefix(secret: str) -> str:
    """The visible start of a token; short tokens show less so the prefix never gives them away."""
    return secret[: min(10, len(secret) // 4)]


def _user(row: Any) -> UserRecord:
    return UserRecord(
        user_id=row.id,
        username=row.username,
        role=row.role,
        created_at=row.created_at,
    )


async def insert_user(conn: AsyncConnection, *, username: str, role: str) -> UserRecord:
    """Create a user; a taken username is INVALID_REQUEST."""
    record = UserRecord(new_user_id(), username, role, utcnow())
    try:
        async with conn.begin_nested():
            await conn.execute(
                insert(users).values(
                    id=record.user_id, username=username, role=role, created_at=record.created_at
                )
            )
    except IntegrityError as exc:
        raise DomainError(
            ErrorCode.INVALID_REQUEST,
            f"username {username!r} is taken",
            {"field": "username", "username": username},
        ) from exc
    return record


async def count_users(conn: AsyncConnection) -> int:
    return int((await conn.execute(select(func.count()).select_from(users))).scalar_one())


async def get_user(conn: AsyncConnection, user_id: str) -> UserRecord | None:
    row = (await conn.execute(select(users).where(users.c.id == user_id))).first()
    return _user(row) if row else None


async def get_user_by_username(conn: AsyncConnection, username: str) -> UserRecord | None:
    row = (await conn.execute(select(users).where(users.c.username == username))).first()
    return _user(row) if row else None


async def insert_token(conn: AsyncConnection, *, user_id: str, secret: str) -> TokenRecord:
    """Store a token for user_id by its hash; the secret itself is not kept."""
    now = utcnow()
    prefix = token_prefix(secret)
    try:
        async with conn.begin_nested():
            result = await conn.execute(
                insert(tokens).values(
                    user_id=user_id, token_hash=hash_token(secret), prefix=prefix, created_at=now
                )
            )
    except IntegrityError as exc:
        raise DomainError(ErrorCode.INVALID_REQUEST, "this token is already in use") from exc
    token_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    user = await get_user(conn, user_id)
    assert user is not None
    return TokenRecord(token_id, user_id, user.username, prefix, now, None)


async def find_user_by_token(conn: AsyncConnection, secret: str) -> UserRecord | None:
    """The owner of an active (not revoked) token, or None."""
    digest = hash_token(secret)
    row = (
        await conn.execute(
            select(users, tokens.c.token_hash)
            .join(tokens, tokens.c.user_id == users.c.id)
            .where(tokens.c.token_hash == digest, tokens.c.revoked_at.is_(None))
        )
    ).first()
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    return _user(row)


def _token_query() -> Select[Any]:
    return select(
        tokens.c.id,
        tokens.c.user_id,
        users.c.username,
        tokens.c.prefix,
        tokens.c.created_at,
        tokens.c.revoked_at,
    ).join(users, users.c.id == tokens.c.user_id)


def _token(row: Any) -> TokenRecord:
    return TokenRecord(
        token_id=row.id,
        user_id=row.user_id,
        username=row.username,
        prefix=row.prefix,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


async def list_tokens(
    conn: AsyncConnection,
    *,
    username: str | None = None,
    prefix: str | None = None,
    secret: str | None = None,
    active_only: bool = False,
) -> list[TokenRecord]:
    """Tokens matching every given filter, oldest first."""
    query = _token_query()
    if username is not None:
        query = query.where(users.c.username == username)
    if prefix is not None:
        query = query.where(tokens.c.prefix.startswith(prefix, autoescape=True))
    if secret is not None:
        query = query.where(tokens.c.token_hash == hash_token(secret))
    if active_only:
        query = query.where(tokens.c.revoked_at.is_(None))
    rows = (await conn.execute(query.order_by(tokens.c.id))).all()
    return [_token(row) for row in rows]


async def revoke_tokens(conn: AsyncConnection, token_ids: list[int]) -> int:
    """Mark tokens revoked (already revoked ones keep their first revocation time)."""
    if not token_ids:
        return 0
    result = await conn.execute(
        update(tokens)
        .where(tokens.c.id.in_(token_ids), tokens.c.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return int(result.rowcount)


async def list_users(
    conn: AsyncConnection, *, roles: Collection[str] | None, or_user_id: str | None = None
) -> list[UserRecord]:
    """The users of the given roles (every user when None), and the user or_user_id
    whatever their role, by username."""
    query = select(users)
    if roles is not None:
        visible: ColumnElement[bool] = users.c.role.in_(sorted(roles))
        if or_user_id is not None:
            visible = or_(visible, users.c.id == or_user_id)
        query = query.where(visible)
    rows = await conn.execute(query.order_by(users.c.username))
    return [_user(row) for row in rows]
