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

import time
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
    REVIEWER = "reviewer"


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


# Methods that authorize by themselves: CheckAccess decides about the method it names.
SELF_AUTHORIZING_METHODS = frozenset({"/annotation.v1.AccessService/CheckAccess"})


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


# How many tokens an Authenticator remembers at most (it forgets them all when full).
MAX_CACHED_TOKENS = 10_000


class _Revocations:
    """Counts the revocations made by this process: each one empties every cache here."""

    count = 0


def note_revocation() -> None:
    """A token was revoked by this process: no cache here answers for any token any more."""
    _Revocations.count += 1


class Authenticator:
    """Resolves a token into a Caller (roles are checked per RPC by server.access).

    With cache_seconds > 0 (setting `auth_cache_seconds`, at most 1 s) a resolved
    token is remembered that long, so a client's stream of calls costs one token
    lookup per cache_seconds instead of one per call. A revocation therefore takes
    effect at once in the process that makes it and within cache_seconds in every
    other server sharing the database. Unknown and revoked tokens are never remembered.
    """

    def __init__(self, database: Database, *, cache_seconds: float = 0.0) -> None:
        self._database = database
        self._cache_seconds = cache_seconds
        # token -> (valid until (monotonic), revocation count when looked up, caller)
        self._cache: dict[str, tuple[float, int, Caller]] = {}

    async def authenticate(self, token: str | None) -> Caller:
        """The caller holding token; INVALID_TOKEN otherwise."""
        if not token:
            raise DomainError(ErrorCode.INVALID_TOKEN, "missing or invalid token")
        now = time.monotonic()
        cached = self._cache.get(token)
        if cached is not None and cached[0] > now and cached[1] == _Revocations.count:
            return cached[2]
        revocations = _Revocations.count
        async with self._database.read_one() as conn:
            user = await find_user_by_token(conn, token)
        if user is None:
            self._cache.pop(token, None)
            raise DomainError(ErrorCode.INVALID_TOKEN, "missing or invalid token")
        caller = Caller(user_id=user.user_id, username=user.username, role=user.role)
        if self._cache_seconds > 0:
            if len(self._cache) >= MAX_CACHED_TOKENS:
                self._cache.clear()
            self._cache[token] = (now + self._cache_seconds, revocations, caller)
        return caller
