"""AssignTasks and UnassignTasks (administrators).

* AssignTasks gives the listed tasks, or the next `count` tasks that have room,
  to one user whose role is annotator: ready|in_progress|completed projects;
  the first assignment moves ready to in_progress. A task has room for
  `annotations_per_task` (N) distinct annotators (ground-truth assignments
  aside). Listed tasks: a task this annotator holds already, or one with N
  annotators, is INVALID_STATE naming them (nothing is assigned). By count:
  the next tasks in input order that are not completed, have fewer than N
  assignments, are not this annotator's already and were never skipped by them.
  A new assignment moves no task status: the task is pending until one is started.
* UnassignTasks takes back the assignments that are not completed (of one
  annotator and/or of the listed tasks): each moves by the lifecycle (a task
  nobody works on any more returns to pending, so progress counts it where it
  stands). Completed work stays attributed to its annotator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
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
    free_places,
    invalid_state,
    move_task,
)
from server.projects.validation import invalid
from server.vocabulary import AssignmentStatus, TaskStatus
from server.workflow.common import LISTED_IDS, parse_task_ids
from storage.assignments import (
    AssignmentRecord,
    delete_assignments,
    get_assigned_tasks,
    insert_assignments,
    list_open_assignments,
    next_unassigned_tasks,
    set_assignments_status,
)
from storage.database import Database
from storage.projects import ProjectRecord
from storage.tasks import get_project_tasks, set_task_status
from storage.types import utcnow
from storage.users import get_user

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
        per_task = project.annotations_per_task
        if count:
            parsed = await next_unassigned_tasks(
                conn,
                project_id,
                user_id=annotator_id,
                limit=count,
                done_status=TaskStatus.COMPLETED,
                per_task=per_task,
            )
        else:
            await check_project_tasks(conn, project_id, parsed)
            await check_room(conn, parsed, annotator_id=annotator_id, per_task=per_task)
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


async def check_room(
    conn: AsyncConnection, task_ids: Sequence[int], *, annotator_id: str, per_task: int
) -> None:
    """INVALID_STATE, listing them, unless every task has room for one more annotator
    (server.lifecycle.rules.free_places) that is not annotator_id."""
    found = await get_assigned_tasks(conn, task_ids)
    held = [n for n in task_ids if any(a.user_id == annotator_id for a in found[n].assignments)]
    if held:
        listed = held[:LISTED_IDS]
        raise invalid_state(
            f"{len(held)} task(s) are assigned to this annotator already",
            task_ids=[str(number) for number in listed],
            annotator_id=annotator_id,
        )
    full = [
        number
        for number in task_ids
        if not free_places(per_task, sum(not a.ground_truth for a in found[number].assignments))
    ]
    if full:
        listed = full[:LISTED_IDS]
        raise invalid_state(
            f"{len(full)} task(s) are already assigned to {per_task} annotator(s)"
            " (annotations_per_task)",
            task_ids=[str(number) for number in listed],
            assigned_to=[
                [a.user_id for a in found[number].assignments if not a.ground_truth]
                for number in listed
            ],
            annotations_per_task=per_task,
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
    each is removed, a reopened one (its annotator has an annotation) is completed again,
    and its task's status follows; returns the project's status.

    The caller holds the project's row lock. The counters move with the rows.
    """
    tally = Tally()
    removed: list[tuple[int, str]] = []
    completed: list[tuple[int, str]] = []
    tasks = await get_assigned_tasks(conn, sorted({a.task_id for a in taken}))
    # each task's assignments as the moves leave them, one move after the other
    current = {number: {a.user_id: a for a in task.assignments} for number, task in tasks.items()}
    status = {number: TaskStatus(task.status) for number, task in tasks.items()}
    answers = {number: task.answers for number, task in tasks.items()}
    for assignment in taken:
        number = assignment.task_id
        others_started = any(
            a.status == AssignmentStatus.IN_PROGRESS and not a.ground_truth
            for user_id, a in current[number].items()
            if user_id != assignment.user_id
        )
        move = move_task(
            TaskAction.RELEASE,
            TaskState(
                status[number],
                assignment.user_id,
                AssignmentStatus(assignment.status),
                assignment.annotated,
                answers=answers[number],
                per_task=project.annotations_per_task,
                others_started=others_started,
                ground_truth=assignment.ground_truth,
            ),
            project_status=project.status,
        )
        tally.add(move)
        status[number] = move.target.task
        answers[number] += move.answers
        if move.target.assignment is None:
            removed.append((number, assignment.user_id))
            del current[number][assignment.user_id]
        else:
            completed.append((number, assignment.user_id))
            current[number][assignment.user_id] = replace(assignment, status=move.target.assignment)
    for number, task in tasks.items():
        if (status[number], answers[number]) != (task.status, task.answers):
            await set_task_status(
                conn,
                number,
                status=status[number],
                now=now,
                completed=status[number] == TaskStatus.COMPLETED,
                answers=answers[number] - task.answers,
            )
    await delete_assignments(conn, removed)
    if completed:
        await set_assignments_status(conn, completed, status=AssignmentStatus.COMPLETED, now=now)
    return await apply_tally(conn, project, tally, now=now)
