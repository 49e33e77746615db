"""AddProjectReviewers, RemoveProjectReviewers, ListProjectReviewers (admins).

A project's reviewers are users with the reviewer role; naming any other user
(or an unknown id) is USER_NOT_FOUND, so an admin learns nothing about other
tenants' admins. Adding a reviewer twice, or removing one who is not, is no change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from annotation_api.errors import DomainError, ErrorCode
from server.access import get_visible_project, require_admin
from server.auth import Caller, Role
from server.workflow.common import LISTED_IDS
from storage.database import Database
from storage.reviews import add_reviewers, list_reviewers, remove_reviewers
from storage.types import utcnow
from storage.users import get_user


@dataclass(frozen=True, slots=True)
class Reviewers:
    project_id: str
    reviewers: list[tuple[str, str]]  # (user_id, username), by username


async def add_project_reviewers(
    database: Database, caller: Caller, project_id: str, user_ids: Sequence[str]
) -> Reviewers:
    require_admin(caller)
    async with database.transaction() as conn:
        await get_visible_project(conn, caller, project_id, for_update=True)
        wanted = list(dict.fromkeys(user_ids))
        missing: list[str] = []
        for user_id in wanted:
            user = await get_user(conn, user_id)
            if user is None or user.role != Role.REVIEWER:
                missing.append(user_id)
        if missing:
            raise DomainError(
                ErrorCode.USER_NOT_FOUND,
                "no reviewer with this id",
                {"user_ids": missing[:LISTED_IDS], "role": Role.REVIEWER.value},
            )
        await add_reviewers(conn, project_id, wanted, now=utcnow())
        return Reviewers(project_id, await list_reviewers(conn, project_id))


async def remove_project_reviewers(
    database: Database, caller: Caller, project_id: str, user_ids: Sequence[str]
) -> Reviewers:
    require_admin(caller)
    async with database.transaction() as conn:
        await get_visible_project(conn, caller, project_id, for_update=True)
        await remove_reviewers(conn, project_id, list(dict.fromkeys(user_ids)))
        return Reviewers(project_id, await list_reviewers(conn, project_id))


async def list_project_reviewers(database: Database, caller: Caller, project_id: str) -> Reviewers:
    require_admin(caller)
    async with database.read() as conn:
        await get_visible_project(conn, caller, project_id)
        return Reviewers(project_id, await list_reviewers(conn, project_id))
