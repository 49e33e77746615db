"""ListUsers: who can be assigned (administrators only).

Users are not tenant data, but administrators are tenants: an admin sees the
annotators and reviewers (whose ids AssignTasks and AddProjectReviewers need;
they are shared by every tenant)
and themselves, never another tenant's admin nor the super_admin. The
super_admin sees every user.
"""

from __future__ import annotations

from server.access import require_admin
from server.auth import Caller, Role
from server.projects.validation import invalid
from storage.database import Database
from storage.users import UserRecord
from storage.users import list_users as stored_users

# The roles an admin sees besides themselves.
ADMIN_VISIBLE_ROLES = frozenset({Role.ANNOTATOR, Role.REVIEWER})


async def list_users(database: Database, caller: Caller, *, role: str | None) -> list[UserRecord]:
    """The users the caller may see (of one role when given), by username."""
    require_admin(caller)
    if role is not None and role not in set(Role):
        raise invalid("role", f"unknown role {role!r}")
    async with database.read() as conn:
        if caller.is_super_admin:
            return await stored_users(conn, roles=None if role is None else {role})
        roles = ADMIN_VISIBLE_ROLES if role is None else ADMIN_VISIBLE_ROLES & {role}
        itself = caller.user_id if role is None or role == caller.role else None
        return await stored_users(conn, roles=roles, or_user_id=itself)
