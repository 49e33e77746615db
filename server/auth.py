"""Who is calling, and whether they may (SPEC §3).

Every RPC except the public ones (reflection, health) carries
`authorization: Bearer <token>` metadata. A missing, unknown or revoked token
is INVALID_TOKEN. What the caller's role may call, and on what, is decided
by server.access (the interceptor asks it for every RPC). The resolved caller is put into
`caller_var` for the duration of the RPC; servicers read it with
`current_caller()` and hand it to the domain explicitly.

Roles and ownership (projects, exports, tasks, annotations): see server.access.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum

from annotation_api.errors import DomainError, ErrorCode
from storage.database import Database
from storage.users import find_user_by_token

AUTHORIZATION_KEY = "authorization"
BEARER = "bearer "

# Services anyone may call without a token: tools need them before they hold one.
PUBLIC_SERVICES = frozenset(
    {
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
        "grpc.reflection.v1.ServerReflection",
    }
)


class Role(StrEnum):
    SUPER_ADMIN = "super_admin"
    ADMIN = "admin"
    ANNOTATOR = "annotator"


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated user of the current RPC."""

    user_id: str
    username: str
    role: str

    @property
    def is_super_admin(self) -> bool:
        return self.role == Role.SUPER_ADMIN


caller_var: ContextVar[Caller | None] = ContextVar("caller", default=None)


def current_caller() -> Caller:
    """The caller of the RPC being handled (set by the server interceptor)."""
    caller = caller_var.get()
    if caller is None:
        # Only reachable if a method is served without the interceptor: fail closed.
        raise DomainError(ErrorCode.INVALID_TOKEN, "missing or invalid token")
    return caller


def is_public_method(method: str) -> bool:
    """True for /package.Service/Method paths that need no token."""
    service = method.lstrip("/").split("/", 1)[0]
    return service in PUBLIC_SERVICES


def bearer_token(metadata: Sequence[tuple[str, str | bytes]] | None) -> str | None:
    """The token of an `authorization: Bearer <token>` entry, or None."""
    for key, value in metadata or ():
        if key.lower() != AUTHORIZATION_KEY:
            continue
        text = value.decode("latin-1") if isinstance(value, bytes) else value
        if text[: len(BEARER)].lower() == BEARER:
            token = text[len(BEARER) :].strip()
            return token or None
        return None
    return None


class Authenticator:
    """Resolves a token into a Caller (roles are checked per RPC by server.access)."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def authenticate(self, token: str | None) -> Caller:
        """The caller holding token; INVALID_TOKEN otherwise."""
        if not token:
            raise DomainError(ErrorCode.INVALID_TOKEN, "missing or invalid token")
        async with self._database.read() as conn:
            user = await find_user_by_token(conn, token)
        if user is None:
            raise DomainError(ErrorCode.INVALID_TOKEN, "missing or invalid token")
        return Caller(user_id=user.user_id, username=user.username, role=user.role)
