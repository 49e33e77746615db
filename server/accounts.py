"""Users and API tokens: creation, revocation and the bootstrap of the first super_admin.

These are operator actions (the command line, start-up); the API has no RPC for them.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from annotation_api.errors import DomainError, ErrorCode
from server.auth import Role, note_revocation
from storage.database import Database
from storage.users import (
    TokenRecord,
    UserRecord,
    count_users,
    get_user_by_username,
    insert_token,
    insert_user,
    list_tokens,
    revoke_tokens,
)

log = logging.getLogger(__name__)

TOKEN_PREFIX = "aapi_"
BOOTSTRAP_USERNAME = "superadmin"
MAX_USERNAME_LENGTH = 150


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new token: the secret is shown once and never stored."""

    secret: str
    record: TokenRecord


def generate_token() -> str:
    """A fresh opaque bearer secret (256 bits of randomness)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def _check_username(username: str) -> str:
    name = username.strip()
    if not name or len(name) > MAX_USERNAME_LENGTH:
        raise DomainError(
            ErrorCode.INVALID_REQUEST,
            f"username must be 1 to {MAX_USERNAME_LENGTH} characters",
            {"field": "username"},
        )
    return name


def _check_role(role: str) -> str:
    if role not in {r.value for r in Role}:
        raise DomainError(
            ErrorCode.INVALID_REQUEST,
            f"unknown role {role!r}",
            {"field": "role", "supported": [r.value for r in Role]},
        )
    return role


async def create_user(database: Database, *, username: str, role: str) -> UserRecord:
    """Create a user with a unique username and one of the roles (server.auth.Role)."""
    name, checked_role = _check_username(username), _check_role(role)
    async with database.transaction() as conn:
        return await insert_user(conn, username=name, role=checked_role)


async def create_token(
    database: Database, *, username: str, secret: str | None = None
) -> IssuedToken:
    """Issue a token for username (a generated secret unless one is given)."""
    secret = secret or generate_token()
    async with database.transaction() as conn:
        user = await get_user_by_username(conn, username)
        if user is None:
            raise DomainError(
                ErrorCode.USER_NOT_FOUND, f"no user {username!r}", {"username": username}
            )
        record = await insert_token(conn, user_id=user.user_id, secret=secret)
    return IssuedToken(secret=secret, record=record)


async def find_tokens(
    database: Database, *, username: str | None = None, prefix: str | None = None
) -> list[TokenRecord]:
    """Tokens of a user and/or with a prefix, revoked ones included."""
    async with database.read() as conn:
        return await list_tokens(conn, username=username, prefix=prefix)


async def revoke(
    database: Database,
    *,
    secret: str | None = None,
    prefix: str | None = None,
    username: str | None = None,
) -> list[TokenRecord]:
    """Revoke active tokens chosen by exactly one of: secret, prefix, username.

    A prefix must name exactly one active token (so a short prefix cannot
    revoke several by accident); a username revokes every token of that user.
    Returns the tokens revoked.
    """
    if sum(x is not None for x in (secret, prefix, username)) != 1:
        raise DomainError(ErrorCode.INVALID_REQUEST, "give exactly one of: token, prefix, username")
    async with database.transaction() as conn:
        found = await list_tokens(
            conn, secret=secret, prefix=prefix, username=username, active_only=True
        )
        if not found:
            raise DomainError(ErrorCode.INVALID_REQUEST, "no active token matches")
        if prefix is not None and len(found) > 1:
            raise DomainError(
                ErrorCode.INVALID_REQUEST,
                f"prefix {prefix!r} matches {len(found)} active tokens; give a longer prefix",
                {"prefixes": [token.prefix for token in found]},
            )
        await revoke_tokens(conn, [token.token_id for token in found])
    note_revocation()
    return found


@dataclass(frozen=True, slots=True)
class BootstrapResult:
    """What start-up did: nothing, adopted the configured token, or generated one."""

    user: UserRecord | None
    generated_secret: str | None


async def bootstrap_super_admin(
    database: Database, *, configured_token: str | None
) -> BootstrapResult:
    """When no user exists, create a super_admin holding configured_token (or a new token);
    when users exist, a configured token is ignored, with a warning in the log.

    Runs in one write transaction, so several servers starting together on an
    empty database create exactly one super_admin. A generated secret is
    returned so the caller can print it once.
    """
    async with database.transaction() as conn:
        if await count_users(conn) > 0:
            if configured_token:
                log.warning(
                    "ANNOTATION_API_BOOTSTRAP_TOKEN is set but ignored: users exist already, "
                    "and the bootstrap token is only adopted on a database without users "
                    "(create a token with `annotation-api tokens create` instead)"
                )
            return BootstrapResult(user=None, generated_secret=None)
        secret = configured_token or generate_token()
        try:
            user = await insert_user(conn, username=BOOTSTRAP_USERNAME, role=Role.SUPER_ADMIN)
        except DomainError:
            # Another server created it first (PostgreSQL lets both see zero users).
            return BootstrapResult(user=None, generated_secret=None)
        await insert_token(conn, user_id=user.user_id, secret=secret)
    log.info("created the first super_admin", extra={"username": user.username})
    return BootstrapResult(user=user, generated_secret=None if configured_token else secret)
