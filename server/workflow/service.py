"""The project lifecycle (SPEC §4.3), driven by internal services.

    draft -> configuring -> ready -> in_progress -> completed
                                          ^--------------' (new work reopens)

* ConfigureProject: draft|configuring -> configuring, or ready when asked
  (a ready project needs at least one label).
* AssignTasks: ready|in_progress|completed, to a user whose role is annotator; the first
  assignment moves ready to in_progress.
* StartTask: an assigned pending task -> in_progress; a completed task is
  reopened (-> in_progress), and so is a completed project.
* SubmitAnnotation: an in_progress task -> completed, with the annotation
  attributed to the task's annotator; the last completion completes the project.

Every change locks the project row first, so the status and the counters of
projects and project_annotators move together in the transaction that
changes the task (progress never counts tasks). A transition that is not
allowed is INVALID_STATE, naming the current status.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from annotation_api.errors import DomainError, ErrorCode
from server.auth import Caller, Role
from server.projects.access import can_see, get_visible_project
from server.projects.label_config import build_label_config, check_label_config
from server.projects.validation import TagSpec, check_labels, check_result_labels, invalid
from server.vocabulary import AssignmentStatus, ProjectStatus, TaskStatus
from storage.database import Database
from storage.projects import (
    LabelRecord,
    ProjectRecord,
    add_to_annotator_counters,
    add_to_task_counters,
    get_project,
    list_labels,
    replace_labels,
    set_project_fields,
)
from storage.tasks import TaskRecord, get_project_tasks, get_task, set_task_status
from storage.types import utcnow
from storage.users import get_user
from storage.workflow import (
    AssignmentRecord,
    get_assignments,
    insert_annotation,
    insert_assignments,
    set_assignment_status,
)

CONFIGURABLE = frozenset({ProjectStatus.DRAFT, ProjectStatus.CONFIGURING})
ASSIGNABLE = frozenset({ProjectStatus.READY, ProjectStatus.IN_PROGRESS, ProjectStatus.COMPLETED})
WORKING = frozenset({ProjectStatus.IN_PROGRESS, ProjectStatus.COMPLETED})
MAX_LABEL_CONFIG_LENGTH = 1_000_000
# Ids listed in an error's details, at most.
LISTED_IDS = 20


def invalid_state(message: str, **details: object) -> DomainError:
    return DomainError(ErrorCode.INVALID_STATE, message, dict(details))


@dataclass(frozen=True, slots=True)
class Configured:
    project_id: str
    status: str
    labels: list[LabelRecord]
    config: str


@dataclass(frozen=True, slots=True)
class Assigned:
    project_id: str
    assigned_count: int
    project_status: str


@dataclass(frozen=True, slots=True)
class TaskMoved:
    task_id: int
    status: str
    project_status: str
    annotation_id: int | None = None


async def configure_project(
    database: Database,
    caller: Caller,
    project_id: str,
    *,
    labels: Sequence[TagSpec],
    label_config: str | None,
    ready: bool,
) -> Configured:
    """Replace labels (regenerating the config) and/or the config; move to configuring|ready."""
    new_labels = check_labels(labels, field="labels") if labels else None
    if label_config is not None:
        if len(label_config) > MAX_LABEL_CONFIG_LENGTH:
            raise invalid("label_config", "label_config is too long")
        check_label_config(label_config)
    now = utcnow()
    async with database.transaction() as conn:
        project = await get_visible_project(conn, caller, project_id, for_update=True)
        if project.status not in CONFIGURABLE:
            raise invalid_state(
                f"project is {project.status}; only a draft or configuring project can be "
                "configured",
                project_status=project.status,
            )
        if new_labels is not None:
            await replace_labels(
                conn, project_id, [LabelRecord(name, color) for name, color in new_labels]
            )
        current = await list_labels(conn, project_id)
        if ready and not current:
            raise invalid_state(
                "project has no labels yet; give labels before marking it ready",
                project_status=project.status,
            )
        if label_config is not None:
            config = label_config
        elif new_labels is not None:
            config = build_label_config(project.task_type, new_labels)
        else:
            config = project.label_config
        status = ProjectStatus.READY if ready else ProjectStatus.CONFIGURING
        await set_project_fields(conn, project_id, now=now, status=status, label_config=config)
    return Configured(project_id=project_id, status=status, labels=current, config=config)


def parse_task_id(text: str) -> int | None:
    """The integer id of a task_id ("123"); None when it cannot be one."""
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        return None
    return int(text)


def task_not_found(task_id: str) -> DomainError:
    return DomainError(ErrorCode.TASK_NOT_FOUND, "task not found", {"task_id": task_id})


async def assign_tasks(
    database: Database,
    caller: Caller,
    project_id: str,
    *,
    annotator_id: str,
    task_ids: Sequence[str],
) -> Assigned:
    """Give unassigned tasks of the project to one user."""
    if not task_ids:
        raise invalid("task_ids", "task_ids needs at least one task")
    parsed: list[int] = []
    seen: set[int] = set()
    for index, text in enumerate(task_ids):
        number = parse_task_id(text)
        if number is None:
            raise invalid(f"task_ids[{index}]", f"{text!r} is not a task id")
        if number in seen:
            raise invalid(f"task_ids[{index}]", f"task {text} is listed twice")
        seen.add(number)
        parsed.append(number)
    now = utcnow()
    async with database.transaction() as conn:
        project = await get_visible_project(conn, caller, project_id, for_update=True)
        if project.status not in ASSIGNABLE:
            raise invalid_state(
                f"project is {project.status}; tasks can be assigned once it is ready",
                project_status=project.status,
            )
        assignee = await get_user(conn, annotator_id)
        if assignee is None or assignee.role != Role.ANNOTATOR:
            # Any other user (an admin, of this tenant or another) answers like an
            # unknown id: assigning never tells a caller who else exists.
            raise DomainError(
                ErrorCode.USER_NOT_FOUND, "annotator not found", {"annotator_id": annotator_id}
            )
        found = {task.task_id for task in await get_project_tasks(conn, project_id, parsed)}
        missing = [str(number) for number in parsed if number not in found]
        if missing:
            raise DomainError(
                ErrorCode.TASK_NOT_FOUND,
                f"{len(missing)} task(s) not found in the project",
                {"task_ids": missing[:LISTED_IDS], "missing_count": len(missing)},
            )
        taken = await get_assignments(conn, parsed)
        if taken:
            listed = sorted(taken)[:LISTED_IDS]
            raise invalid_state(
                f"{len(taken)} task(s) are already assigned",
                task_ids=[str(number) for number in listed],
                assigned_to=[taken[number].user_id for number in listed],
            )
        count = await insert_assignments(
            conn,
            project_id=project_id,
            user_id=annotator_id,
            task_ids=parsed,
            status=AssignmentStatus.ASSIGNED,
            now=now,
        )
        await add_to_annotator_counters(conn, project_id, annotator_id, assigned=count)
        status = ProjectStatus.IN_PROGRESS if project.status == ProjectStatus.READY else None
        await set_project_fields(conn, project_id, now=now, status=status)
    return Assigned(project_id, count, status or project.status)


async def _locked_task(
    conn: AsyncConnection, caller: Caller, task_id: str
) -> tuple[ProjectRecord, TaskRecord, AssignmentRecord | None]:
    """The task, its project (row locked) and its assignment; TASK_NOT_FOUND when not visible."""
    number = parse_task_id(task_id)
    task = await get_task(conn, number) if number is not None else None
    if task is None or number is None:
        raise task_not_found(task_id)
    project = await get_project(conn, task.project_id, for_update=True)
    if project is None or not can_see(caller, project):
        raise task_not_found(task_id)
    task = await get_task(conn, number, for_update=True)
    assert task is not None  # the project row lock keeps it from going away
    assignment = (await get_assignments(conn, [number])).get(number)
    return project, task, assignment


async def start_task(database: Database, caller: Caller, task_id: str) -> TaskMoved:
    """pending -> in_progress, or reopen a completed task (and a completed project)."""
    now = utcnow()
    async with database.transaction() as conn:
        project, task, assignment = await _locked_task(conn, caller, task_id)
        if task.status == TaskStatus.IN_PROGRESS:
            raise invalid_state("task is in_progress already", task_status=task.status)
        if assignment is None:
            raise invalid_state(
                f"task is {task.status} and not assigned; assign it first",
                task_status=task.status,
            )
        if project.status not in WORKING:
            raise invalid_state(f"project is {project.status}", project_status=project.status)
        reopening = task.status == TaskStatus.COMPLETED
        completed_delta = -1 if reopening else 0
        await set_task_status(
            conn, task.task_id, status=TaskStatus.IN_PROGRESS, now=now, completed=False
        )
        await set_assignment_status(
            conn, task.task_id, status=AssignmentStatus.IN_PROGRESS, now=now
        )
        await add_to_task_counters(
            conn, project.project_id, now=now, in_progress=1, completed=completed_delta
        )
        await add_to_annotator_counters(
            conn, project.project_id, assignment.user_id, in_progress=1, completed=completed_delta
        )
        project_status = ProjectStatus(project.status)
        if project_status == ProjectStatus.COMPLETED:
            project_status = ProjectStatus.IN_PROGRESS
            await set_project_fields(conn, project.project_id, now=now, status=project_status)
    return TaskMoved(task.task_id, TaskStatus.IN_PROGRESS, project_status)


def parse_result(text: str) -> str:
    """The annotation's Label Studio result: a JSON array (of region objects)."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise invalid("result", "result is not valid JSON") from exc
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise invalid("result", "result must be a JSON array of objects")
    check_result_labels(value)
    return orjson.dumps(value).decode()


async def submit_annotation(
    database: Database, caller: Caller, task_id: str, *, result: str
) -> TaskMoved:
    """Store the annotation of an in_progress task and complete it (and maybe the project)."""
    result_json = parse_result(result)
    now = utcnow()
    async with database.transaction() as conn:
        project, task, assignment = await _locked_task(conn, caller, task_id)
        if task.status != TaskStatus.IN_PROGRESS or assignment is None:
            raise invalid_state(
                f"task is {task.status}; only an in_progress task takes an annotation",
                task_status=task.status,
            )
        annotation_id = await insert_annotation(
            conn,
            task_id=task.task_id,
            project_id=project.project_id,
            user_id=assignment.user_id,
            result_json=result_json,
            now=now,
        )
        await set_task_status(
            conn, task.task_id, status=TaskStatus.COMPLETED, now=now, completed=True
        )
        await set_assignment_status(conn, task.task_id, status=AssignmentStatus.COMPLETED, now=now)
        await add_to_task_counters(conn, project.project_id, now=now, in_progress=-1, completed=1)
        await add_to_annotator_counters(
            conn, project.project_id, assignment.user_id, in_progress=-1, completed=1
        )
        project_status = ProjectStatus(project.status)
        if project.completed_tasks + 1 == project.total_tasks:
            project_status = ProjectStatus.COMPLETED
            await set_project_fields(conn, project.project_id, now=now, status=project_status)
    return TaskMoved(task.task_id, TaskStatus.COMPLETED, project_status, annotation_id)
