"""ListProjects: the projects a caller sees, newest first (SPEC §4.3a "later lookups").

An admin lists the projects they own, a super_admin every project; the
filters are the caller's own external_id and the status. Keyset pagination on
(created_at, project_id) descending: the token carries the last project's
position and the filters it was issued for.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from server.access import require_admin
from server.auth import Caller
from server.projects.validation import invalid
from server.vocabulary import ProjectStatus
from storage.database import Database
from storage.projects import ProjectRecord, list_project_page

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class ProjectPage:
    projects: list[ProjectRecord]
    next_page_token: str


def _filters_key(external_id: str | None, status: str | None) -> str:
    return f"{external_id or ''}\x1f{status or ''}"


def _encode(project: ProjectRecord, key: str) -> str:
    raw = f"{project.created_at.isoformat()}\x1e{project.project_id}\x1e{key}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(token: str, key: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        created, project_id, token_key = raw.split("\x1e", 2)
        created_at = datetime.fromisoformat(created)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise invalid("page_token", "page_token is not valid") from exc
    if token_key != key or created_at.tzinfo is None:
        raise invalid("page_token", "page_token belongs to another listing")
    return created_at, project_id


async def list_projects(
    database: Database,
    caller: Caller,
    *,
    external_id: str | None,
    status: str | None,
    page_size: int,
    page_token: str,
) -> ProjectPage:
    """One page of the caller's visible projects, newest first."""
    require_admin(caller)
    if page_size < 0:
        raise invalid("page_size", "page_size cannot be negative")
    if status is not None and status not in set(ProjectStatus):
        raise invalid("status", f"unknown status {status!r}")
    limit = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    key = _filters_key(external_id, status)
    before = _decode(page_token, key) if page_token else None
    async with database.read() as conn:
        rows = await list_project_page(
            conn,
            owner_id=None if caller.is_super_admin else caller.user_id,
            external_id=external_id,
            status=status,
            before=before,
            limit=limit + 1,
        )
    page, more = rows[:limit], len(rows) > limit
    return ProjectPage(page, _encode(page[-1], key) if more else "")
