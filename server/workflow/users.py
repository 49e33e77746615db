"""ListUsers: who can be assigned (administrators only)."""

from __future__ import annotations

from server.access import require_admin
from server.auth import Caller, Role
from server.projects.validation import invalid
from storage.database import Database
from storage.users import UserRecord
from storage.users import list_users as stored_users


async def list_users(database: Database, caller: Caller, *, role: str | None) -> list[UserRecord]:
    """Every user (of one role when given), by username. Users are not tenant data:
    an admin needs the annotators' ids to assign work."""
    require_admin(caller)
    if role is not None and role not in set(Role):
        raise invalid("role", f"unknown role {role!r}")
    async with database.read() as conn:
        return await stored_users(conn, role=role)
