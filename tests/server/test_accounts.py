"""Users, tokens and the bootstrap of the first super_admin (server.accounts over storage)."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from sqlalchemy import select

from annotation_api.errors import DomainError, ErrorCode
from server.accounts import bootstrap_super_admin, create_token, create_user, revoke
from storage.database import Database
from storage.models import ApiToken, User
from storage.users import find_user_by_token


async def test_tokens_are_stored_as_hashes(database: Database) -> None:
    await create_user(database, username="alice", role="admin")
    issued = await create_token(database, username="alice")
    async with database.read() as conn:
        row = (await conn.execute(select(ApiToken))).one()
        assert (await find_user_by_token(conn, issued.secret)).username == "alice"  # type: ignore[union-attr]
    assert row.token_hash == hashlib.sha256(issued.secret.encode()).hexdigest()
    assert issued.secret not in (row.token_hash, row.prefix)
    assert issued.secret.startswith(row.prefix) and len(row.prefix) == 10


async def test_a_short_token_shows_a_short_prefix(database: Database) -> None:
    await create_user(database, username="alice", role="admin")
    issued = await create_token(database, username="alice", secret="abcdefgh")
    assert issued.record.prefix == "ab"


async def test_revoke_needs_exactly_one_selector_and_an_unambiguous_prefix(
    database: Database,
) -> None:
    await create_user(database, username="alice", role="admin")
    await create_token(database, username="alice", secret="same-start-1111111111111111")
    await create_token(database, username="alice", secret="same-start-2222222222222222")
    with pytest.raises(DomainError) as caught:
        await revoke(database, prefix="same-s")
    assert caught.value.code == ErrorCode.INVALID_REQUEST
    with pytest.raises(DomainError):
        await revoke(database)
    with pytest.raises(DomainError):
        await revoke(database, prefix="x", username="alice")


async def test_user_validation(database: Database) -> None:
    for username, role in [("", "admin"), ("x" * 151, "admin"), ("ok", "owner")]:
        with pytest.raises(DomainError) as caught:
            await create_user(database, username=username, role=role)
        assert caught.value.code == ErrorCode.INVALID_REQUEST


async def test_bootstrap_adopts_the_configured_token_once(database: Database) -> None:
    result = await bootstrap_super_admin(database, configured_token="configured-token-123456")
    assert result.user is not None and result.user.role == "super_admin"
    assert result.generated_secret is None
    again = await bootstrap_super_admin(database, configured_token="another-token-12345678")
    assert again.user is None
    async with database.read() as conn:
        owner = await find_user_by_token(conn, "configured-token-123456")
        assert owner is not None and owner.role == "super_admin"
        assert await find_user_by_token(conn, "another-token-12345678") is None


async def test_bootstrap_generates_a_token_when_none_is_configured(database: Database) -> None:
    result = await bootstrap_super_admin(database, configured_token=None)
    assert result.generated_secret is not None
    async with database.read() as conn:
        owner = await find_user_by_token(conn, result.generated_secret)
    assert owner is not None and owner.role == "super_admin"


async def test_bootstrap_does_nothing_when_users_exist(database: Database) -> None:
    await create_user(database, username="alice", role="admin")
    result = await bootstrap_super_admin(database, configured_token="configured-token-123456")
    assert result.user is None and result.generated_secret is None


async def test_concurrent_bootstraps_create_one_super_admin(database: Database) -> None:
    results = await asyncio.gather(
        *(bootstrap_super_admin(database, configured_token=None) for _ in range(4))
    )
    assert sum(r.user is not None for r in results) == 1
    async with database.read() as conn:
        assert len((await conn.execute(select(User))).all()) == 1
