"""What an annotation front end reads: one task, an annotator's queue, the next task.

* GetTask: the task with its data as Label Studio receives it
  (`{"text"|"image": content, ...metadata}`), the project's label config, its
  predictions (one per model version, its whole answer: server.predictions.groups)
  with the one that pre-labels the task, and its annotations (oldest first).
  For the admins who see the project, the task's assignees and the project's
  reviewers; anyone else gets TASK_NOT_FOUND. With overlap (annotations_per_task > 1)
  an annotator sees their own assignment as `assignee` and only their own annotations
  (the others' answers would bias theirs); admins and reviewers see every annotation
  and, as `assignee`, the task's first assignment (the oldest), and every assignee in
  `assignees`. Admins and reviewers see whether the task is ground truth, which
  annotation is its known answer, and its agreement; annotators do not.
* ListAssignedTasks: the tasks assigned to the caller, by status, in input
  (task id) order, keyset-paginated, with counts by status. An admin may name
  an annotator: a super_admin for every project, an admin within one project
  they see (project_id is then required, so that neither the page nor the
  counts show another tenant's work).
* NextTask: the caller's first in_progress task, else the first pending one
  (input order), optionally within one project; nothing left is 404
  NO_TASK_AVAILABLE. NextTask only reads: the front end calls StartTask when
  the annotator begins, so looking at a task never changes progress. In a
  project with a ground_truth_rate, an annotator's turn may instead be a
  ground-truth task, served unmarked through an assignment of its own that
  moves no counter (server.quality.serving).

Every read goes through the caller's own assignment rows ((user_id, status,
task_id) indexes) and the task's primary key: no call scans a project.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, replace

import orjson

from annotation_api.errors import DomainError, ErrorCode
from server.access import (
    can_see_project,
    check_task,
    is_admin,
    permission_denied,
    project_not_found,
)
from server.auth import Caller, Role
from server.lifecycle.rules import ASSIGNMENT_OF_TASK, task_status_of
from server.predictions.groups import PredictionGroup, group_predictions, prelabel_group
from server.projects.label_config import data_key
from server.projects.validation import invalid
from server.quality.serving import next_ground_truth_detail
from server.vocabulary import AssignmentStatus, TaskStatus
from server.workflow.common import parse_id
from storage.database import Database
from storage.projects import get_project
from storage.reviews import is_reviewer
from storage.task_detail import TaskDetailRecord, load_next_task_detail, load_task_detail
from storage.workflow import QueuedTask, count_queue, list_queue_page

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class TaskView:
    """A task as the front end gets it: the stored detail, its Label Studio data, and its
    predictions grouped by model version (server.predictions.groups)."""

    detail: TaskDetailRecord
    data_json: str
    predictions: list[PredictionGroup]
    prelabel: PredictionGroup | None


@dataclass(frozen=True, slots=True)
class QueuePage:
    tasks: list[QueuedTask]
    next_page_token: str
    counts: dict[str, int]  # by task status


def label_studio_data(detail: TaskDetailRecord) -> str:
    """{"text"|"image": content, ...metadata}, as JSON text."""
    metadata = orjson.loads(detail.metadata_json) if detail.metadata_json else {}
    data = metadata if isinstance(metadata, dict) else {}
    return orjson.dumps({**data, data_key(detail.task_type): detail.content}).decode()


def unmarked(detail: TaskDetailRecord) -> TaskDetailRecord:
    """The task as an annotator sees it: their own work's status (with overlap, or on a
    ground-truth task served to them, the task's own status is the others' work too),
    ground truth unmarked (a ground-truth task is served as an ordinary one,
    server.quality.serving) and no agreement."""
    status = detail.status
    if detail.assignment_status is not None:
        status = task_status_of(detail.assignment_status)
    return replace(
        detail,
        status=status,
        is_ground_truth=False,
        agreement=None,
        annotations=[replace(a, is_ground_truth=False) for a in detail.annotations],
    )


def task_view(detail: TaskDetailRecord) -> TaskView:
    """The stored detail as the front end gets it (the caller's access checked already)."""
    groups = group_predictions(detail.predictions)
    prelabel = prelabel_group(groups, detail.prelabel_model_version)
    return TaskView(detail, label_studio_data(detail), groups, prelabel)


def _view(
    caller: Caller, task_id: str, detail: TaskDetailRecord | None, *, is_reviewer: bool = False
) -> TaskView:
    check_task(
        caller,
        task_id,
        project_owner_id=detail.project_owner_id if detail else None,
        assignee_id=detail.assignee_id if detail else None,
        is_reviewer=is_reviewer,
    )
    assert detail is not None
    if not is_admin(caller) and not is_reviewer:
        own = [a for a in detail.annotations if a.user_id == caller.user_id]
        me = [a for a in detail.assignees if a[0] == caller.user_id]
        if len(own) != len(detail.annotations) or len(me) != len(detail.assignees):
            detail = replace(detail, annotations=own, assignees=me)
        detail = unmarked(detail)
    return task_view(detail)


async def get_task(database: Database, caller: Caller, task_id: str) -> TaskView:
    """One task with everything a front end shows (see module docstring)."""
    number = parse_id(task_id)
    reviewing = False
    async with database.read() as conn:
        detail = (
            await load_task_detail(
                conn,
                number,
                viewer_id=caller.user_id,
                all_assignees=is_admin(caller) or caller.role == Role.REVIEWER,
            )
            if number is not None
            else None
        )
        if detail is not None and caller.role == Role.REVIEWER:
            reviewing = await is_reviewer(conn, detail.project_id, caller.user_id)
    return _view(caller, task_id, detail, is_reviewer=reviewing)


async def next_task(database: Database, caller: Caller, *, project_id: str | None) -> TaskView:
    """The caller's next task: in_progress first, then pending, in input order."""
    async with database.read() as conn:
        detail = await load_next_task_detail(
            conn,
            caller.user_id,
            project_id=project_id,
            statuses=(AssignmentStatus.IN_PROGRESS, AssignmentStatus.ASSIGNED),
        )
    if detail is None:
        details = {"project_id": project_id} if project_id else {}
        raise DomainError(ErrorCode.NO_TASK_AVAILABLE, "no task left to annotate", details)
    if detail.ground_truth_rate > 0 and caller.role == Role.ANNOTATOR:
        # the project mixes ground-truth tasks into its annotators' work (unmarked)
        served = await next_ground_truth_detail(database, caller, detail.project_id)
        if served is not None:
            return _view(caller, str(served.task_id), served)
    return _view(caller, str(detail.task_id), detail)


def _encode_token(after_task_id: int, key: str) -> str:
    raw = f"{after_task_id}:{key}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str, key: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        after, token_key = raw.split(":", 1)
        after_task_id = int(after)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise invalid("page_token", "page_token is not valid") from exc
    if token_key != key:
        raise invalid("page_token", "page_token belongs to another listing")
    return after_task_id


async def list_assigned_tasks(
    database: Database,
    caller: Caller,
    *,
    annotator_id: str | None,
    project_id: str | None,
    status: str | None,
    page_size: int,
    page_token: str,
) -> QueuePage:
    """One page of an annotator's tasks (see module docstring)."""
    if annotator_id and annotator_id != caller.user_id and not is_admin(caller):
        raise permission_denied(caller)
    if page_size < 0:
        raise invalid("page_size", "page_size cannot be negative")
    user_id = annotator_id or caller.user_id
    limit = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    key = f"{user_id}:{project_id or ''}:{status or ''}"
    after = _decode_token(page_token, key) if page_token else 0
    assignment_status = ASSIGNMENT_OF_TASK[TaskStatus(status)] if status else None
    async with database.read() as conn:
        if project_id and is_admin(caller):
            project = await get_project(conn, project_id)
            if project is None or not can_see_project(caller, project.owner_id):
                raise project_not_found(project_id)
        elif user_id != caller.user_id and not caller.is_super_admin:
            raise invalid("project_id", "give project_id to list another user's tasks")
        rows = await list_queue_page(
            conn,
            user_id,
            project_id=project_id,
            status=assignment_status,
            after_task_id=after,
            limit=limit + 1,
        )
        counts = await count_queue(conn, user_id, project_id=project_id)
    page, more = rows[:limit], len(rows) > limit
    return QueuePage(
        tasks=page,
        next_page_token=_encode_token(page[-1].task_id, key) if more else "",
        counts={task_status_of(s): n for s, n in counts.items()},
    )


async def queue_counts(database: Database, caller: Caller) -> dict[str, int]:
    """The caller's tasks by task status, as list_assigned_tasks counts them."""
    async with database.read_one() as conn:
        counts = await count_queue(conn, caller.user_id, project_id=None)
    return {task_status_of(s): n for s, n in counts.items()}
