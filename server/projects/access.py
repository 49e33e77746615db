"""Which projects a caller may see (SPEC §3).

A project is visible to its owner and to every super_admin. To anyone else
it does not exist: PROJECT_NOT_FOUND, exactly as for an unknown id, so one
tenant can never learn about another's projects.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from annotation_api.errors import DomainError, ErrorCode
from server.auth import Caller
from storage.projects import ProjectRecord, get_project


def can_see(caller: Caller, project: ProjectRecord) -> bool:
    return caller.is_super_admin or project.owner_id == caller.user_id


def project_not_found(project_id: str) -> DomainError:
    return DomainError(ErrorCode.PROJECT_NOT_FOUND, "project not found", {"project_id": project_id})


async def get_visible_project(
    conn: AsyncConnection, caller: Caller, project_id: str, *, for_update: bool = False
) -> ProjectRecord:
    """The project if caller may see it; PROJECT_NOT_FOUND otherwise.

    for_update locks the project's row for the rest of the transaction (use it
    in write transactions that change the project's status or counters).
    """
    project = await get_project(conn, project_id, for_update=for_update) if project_id else None
    if project is None or not can_see(caller, project):
        raise project_not_found(project_id)
    return project
