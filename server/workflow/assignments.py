"""AssignTasks and UnassignTasks (administrators).

* AssignTasks gives the listed tasks, or the next `count` unassigned tasks that
  are not completed (input order, leaving out tasks this annotator skipped
  before), to one user whose role is annotator: ready|in_progress|completed projects; the first
  assignment moves ready to in_progress.
* UnassignTasks takes back the assignments that are not completed (of one
  annotator and/or of the listed tasks): an in_progress task returns to
  pending, so progress counts it where it stands. Completed work stays
  attributed to its annotator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from annotation.v1 import workflow_service_pb2
from sqlalchemy.ext.asyncio import AsyncConnection

from annotation_api.errors import DomainError, ErrorCode
from server.access import get_visible_project, require_admin
from server.auth import Caller, Role
from server.field_limits import MAXIMUM, field_limit
from server.lifecycle.apply import Tally, apply_tally
from server.lifecycle.rules import (
    TaskAction,
    TaskState,
    check_assignable,
    invalid_state,
    move_task,
    task_status_of,
)
from server.projects.validation import invalid
from server.vocabulary import AssignmentStatus, TaskStatus
from server.workflow.common import LISTED_IDS, parse_task_ids
from storage.database import Database
from storage.projects import ProjectRecord
from storage.tasks import get_project_tasks, set_task_status
from storage.types import utcnow
from storage.users import get_user
from storage.workflow import (
    AssignmentRecord,
    delete_assignments,
    get_assignments,
    insert_assignments,
    list_open_assignments,
    next_unassigned_tasks,
    set_assignments_status,
)

MAX_ASSIGN_COUNT = field_limit(workflow_service_pb2.AssignTasksRequest, "count", MAXIMUM)


@dataclass(frozen=True, slots=True)
class Assigned:
    project_id: str
    assigned_count: int
    project_status: str


@dataclass(frozen=True, slots=True)
class Unassigned:
    project_id: str
    unassigned_count: int


async def assign_tasks(
    database: Database,
    caller: Caller,
    project_id: str,
    *,
    annotator_id: str,
    task_ids: Sequence[str],
    count: int = 0,
) -> Assigned:
    """Give unassigned tasks of the project to one user (listed, or the next `count`)."""
    require_admin(caller)
    if task_ids and count:
        raise invalid("count", "give task_ids or count, not both")
    if not task_ids and count <= 0:
        raise invalid("task_ids", "task_ids needs at least one task (or give a positive count)")
    if count > MAX_ASSIGN_COUNT:
        raise invalid("count", f"count is at most {MAX_ASSIGN_COUNT}")
    parsed = parse_task_ids(list(task_ids))
    now = utcnow()
    async with database.transaction() as conn:
        project = await get_visible_project(conn, caller, project_id, for_update=True)
        check_assignable(project.status)
        await check_annotator(conn, annotator_id)
        if count:
            parsed = await next_unassigned_tasks(
                conn,
                project_id,
                user_id=annotator_id,
                limit=count,
                done_status=TaskStatus.COMPLETED,
            )
        else:
            await check_project_tasks(conn, project_id, parsed)
            taken = await get_assignments(conn, parsed)
            if taken:
                listed = sorted(taken)[:LISTED_IDS]
                raise invalid_state(
                    f"{len(taken)} task(s) are already assigned",
                    task_ids=[str(number) for number in listed],
                    assigned_to=[taken[number].user_id for number in listed],
                )
        assigned = await insert_assignments(
            conn,
            project_id=project_id,
            user_id=annotator_id,
            task_ids=parsed,
            status=AssignmentStatus.ASSIGNED,
            now=now,
        )
        tally = Tally()
        tally.assign(annotator_id, assigned)
        status = await apply_tally(conn, project, tally, now=now)
    return Assigned(project_id, assigned, status)


async def check_annotator(conn: AsyncConnection, annotator_id: str) -> None:
    """USER_NOT_FOUND unless annotator_id is a user whose role is annotator: work is
    given (AssignTasks) or attributed (annotation import) to annotators only."""
    assignee = await get_user(conn, annotator_id) if annotator_id else None
    if assignee is None or assignee.role != Role.ANNOTATOR:
        # Any other user (an admin, of this tenant or another) answers like an
        # unknown id: a caller never learns who else exists.
        raise DomainError(
            ErrorCode.USER_NOT_FOUND, "annotator not found", {"annotator_id": annotator_id}
        )


async def check_project_tasks(
    conn: AsyncConnection, project_id: str, task_ids: Sequence[int]
) -> None:
    """TASK_NOT_FOUND, listing them, unless every task is the project's."""
    found = {task.task_id for task in await get_project_tasks(conn, project_id, task_ids)}
    missing = [str(number) for number in task_ids if number not in found]
    if missing:
        raise DomainError(
            ErrorCode.TASK_NOT_FOUND,
            f"{len(missing)} task(s) not found in the project",
            {"task_ids": missing[:LISTED_IDS], "missing_count": len(missing)},
        )


async def unassign_tasks(
    database: Database,
    caller: Caller,
    project_id: str,
    *,
    annotator_id: str | None,
    task_ids: Sequence[str],
) -> Unassigned:
    """Take back the project's assignments that are not completed (see module docstring)."""
    require_admin(caller)
    parsed = parse_task_ids(list(task_ids))
    now = utcnow()
    async with database.transaction() as conn:
        project = await get_visible_project(conn, caller, project_id, for_update=True)
        if parsed:
            await check_project_tasks(conn, project_id, parsed)
        taken = await list_open_assignments(
            conn,
            project_id,
            user_id=annotator_id,
            task_ids=parsed or None,
            done_status=AssignmentStatus.COMPLETED,
        )
        if taken:
            await release_assignments(conn, project, taken, now=now)
    return Unassigned(project_id, len(taken))


async def release_assignments(
    conn: AsyncConnection,
    project: ProjectRecord,
    taken: Sequence[AssignmentRecord],
    *,
    now: datetime,
) -> str:
    """Take back assignments that are not completed (server.lifecycle: TaskAction.RELEASE):
    a started task returns to pending, a reopened one (it has its annotation) to
    completed; returns the project's status.

    The caller holds the project's row lock. The counters move with the rows.
    """
    tally = Tally()
    removed: list[int] = []
    completed: list[int] = []
    for assignment in taken:
        before = task_status_of(assignment.status)
        move = move_task(
            TaskAction.RELEASE,
            TaskState(
                before,
                assignment.user_id,
                AssignmentStatus(assignment.status),
                assignment.annotated,
            ),
            project_status=project.status,
        )
        tally.add(move)
        if move.target.task != before:
            await set_task_status(
                conn,
                assignment.task_id,
                status=move.target.task,
                now=now,
                completed=move.target.task == TaskStatus.COMPLETED,
            )
        if move.target.assignment is None:
            removed.append(assignment.task_id)
        else:
            completed.append(assignment.task_id)
    await delete_assignments(conn, removed)
    if completed:
        await set_assignments_status(conn, completed, status=AssignmentStatus.COMPLETED, now=now)
    return await apply_tally(conn, project, tally, now=now)
