"""The locked task, annotations and skips: the rows the workflow writes, and an annotator's
queue (assignments themselves: storage.assignments).

An annotator's queue is read through the (user_id, status, task_id) and
(user_id, project_id, status, task_id) indexes of assignments: NextTask and
ListAssignedTasks touch the caller's own rows only, never a project's tasks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Table,
    bindparam,
    case,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.assignments import AssignmentRecord
from storage.models import Annotation, Assignment, Prediction, Project, Task, TaskSkip
from storage.projects import ProjectRecord, project_record
from storage.sqlite_cursor import LAST_STATEMENT
from storage.tasks import TASK_COLUMNS, TaskRecord

assignments = cast(Table, Assignment.__table__)
annotation_rows = cast(Table, Annotation.__table__)
skips = cast(Table, TaskSkip.__table__)
tasks = cast(Table, Task.__table__)
projects = cast(Table, Project.__table__)
predictions = cast(Table, Prediction.__table__)


@dataclass(frozen=True, slots=True)
class AnnotationRecord:
    annotation_id: int
    task_id: int
    project_id: str
    user_id: str
    parent_prediction_id: int | None
    lead_time_seconds: float | None
    matches_parent: bool | None
    created_at: datetime
    updated_at: datetime
    review_status: str | None = None  # server.lifecycle.review (None: not under review)
    corrects_annotation_id: int | None = None  # set on a reviewer's correction


@dataclass(frozen=True, slots=True)
class QueuedTask:
    """One row of an annotator's queue."""

    task_id: int
    project_id: str
    project_name: str
    external_id: str | None
    status: str  # the assignment's status
    updated_at: datetime
    # the review of the annotator's latest answer to the task, if any
    review_status: str | None = None
    review_comment: str | None = None


@dataclass(frozen=True, slots=True)
class LockedTask:
    """A task about to change, its project (row locked) and the mover's assignment: the
    caller's, else (an admin acting on the task) its first."""

    project: ProjectRecord
    task: TaskRecord
    assignment: AssignmentRecord | None
    has_predictions: bool
    # The assignee's latest annotation of the task (a reopened task keeps it), if any.
    assignee_annotation_id: int | None = None
    answers: int = 0  # tasks.annotation_count
    others_started: bool = False  # another assignment (not ground-truth) is in_progress


_others = assignments.alias("others")
_has_predictions = (
    select(predictions.c.id)
    .where(predictions.c.task_id == tasks.c.id)
    .exists()
    .label("has_predictions")
)
_assignee_annotation = (
    select(func.max(annotation_rows.c.id))
    .where(
        annotation_rows.c.task_id == tasks.c.id,
        annotation_rows.c.user_id == assignments.c.user_id,
    )
    .scalar_subquery()
    .label("assignee_annotation_id")
)
_others_started = (
    select(_others.c.id)
    .where(
        _others.c.task_id == tasks.c.id,
        _others.c.user_id != assignments.c.user_id,
        _others.c.status == bindparam("started"),
        _others.c.is_ground_truth.is_(False),
    )
    .exists()
    .label("others_started")
)
_TASK_AND_ASSIGNMENT = (
    *(column.label(f"task_{column.name}") for column in TASK_COLUMNS),
    tasks.c.annotation_count.label("task_answers"),
    assignments.c.user_id.label("assignee_id"),
    assignments.c.status.label("assignment_status"),
    assignments.c.is_ground_truth.label("assignment_ground_truth"),
    _has_predictions,
    _assignee_annotation,
    _others_started,
)
# The mover's assignment: the caller's, else the task's first (an admin acting on it).
_MOVER_FIRST = (
    case((assignments.c.user_id == bindparam("user_id"), 0), else_=1),
    assignments.c.id,
)
# SQLite: the write transaction holds the database, so one read sees and keeps it all.
_LOCK_TASK_SQLITE = (
    select(projects, *_TASK_AND_ASSIGNMENT)
    .select_from(tasks)
    .join(projects, projects.c.id == tasks.c.project_id)
    .outerjoin(assignments, assignments.c.task_id == tasks.c.id)
    .where(tasks.c.id == bindparam("task_id"))
    .order_by(*_MOVER_FIRST)
    .limit(1)
)
# PostgreSQL: the project's row lock first (every change of a task, its assignments and
# the counters takes it first), then the task and its assignment as they are under it.
_LOCK_PROJECT_OF_TASK = (
    select(projects)
    .where(
        projects.c.id
        == select(tasks.c.project_id).where(tasks.c.id == bindparam("task_id")).scalar_subquery()
    )
    .with_for_update()
)
_TASK_UNDER_LOCK = (
    select(*_TASK_AND_ASSIGNMENT)
    .select_from(tasks)
    .outerjoin(assignments, assignments.c.task_id == tasks.c.id)
    .where(tasks.c.id == bindparam("task_id"))
    .order_by(*_MOVER_FIRST)
    .limit(1)
    .with_for_update(of=tasks)
)


def _locked(project: ProjectRecord, row: Any) -> LockedTask:
    task = TaskRecord(
        task_id=row.task_id,
        project_id=row.task_project_id,
        external_id=row.task_external_id,
        file_path=row.task_file_path,
        status=row.task_status,
        updated_at=row.task_updated_at,
    )
    assignment = (
        AssignmentRecord(
            task.task_id,
            row.assignee_id,
            row.assignment_status,
            row.assignee_annotation_id is not None,
            bool(row.assignment_ground_truth),
        )
        if row.assignee_id is not None
        else None
    )
    return LockedTask(
        project,
        task,
        assignment,
        bool(row.has_predictions),
        row.assignee_annotation_id,
        int(row.task_answers),
        bool(row.others_started),
    )


async def lock_task(
    conn: AsyncConnection, task_id: int, *, user_id: str, started: str
) -> LockedTask | None:
    """The task with its project's row locked (in a write transaction), or None; the
    assignment read is user_id's, else the task's first. started: the status of a
    started assignment.

    One statement on SQLite, two on PostgreSQL (lock, then read under the lock).
    """
    params = {"task_id": task_id, "user_id": user_id, "started": started}
    if conn.dialect.name == "sqlite":
        row = (await conn.execute(_LOCK_TASK_SQLITE, params)).first()
        return _locked(project_record(row), row) if row is not None else None
    project_row = (await conn.execute(_LOCK_PROJECT_OF_TASK, {"task_id": task_id})).first()
    if project_row is None:
        return None
    row = (await conn.execute(_TASK_UNDER_LOCK, params)).first()
    # the project's row lock keeps the task from going away
    assert row is not None
    return _locked(project_record(project_row), row)


async def insert_annotation(
    conn: AsyncConnection,
    *,
    task_id: int,
    project_id: str,
    user_id: str,
    result_json: str,
    parent_prediction_id: int | None,
    lead_time_seconds: float | None,
    matches_parent: bool | None,
    now: datetime,
    review_status: str | None = None,
    agreement: float | None = None,
    ground_truth_score: float | None = None,
    last_statement: bool = False,
) -> int:
    """Store an annotation; return its id. last_statement: the transaction runs nothing
    after it (on SQLite its COMMIT then travels with it, storage.sqlite_cursor)."""
    result = await conn.execute(
        _INSERT_ANNOTATION,
        {
            "task_id": task_id,
            "project_id": project_id,
            "user_id": user_id,
            "result_json": result_json,
            "parent_prediction_id": parent_prediction_id,
            "lead_time_seconds": lead_time_seconds,
            "matches_parent": matches_parent,
            "review_status": review_status,
            "agreement": agreement,
            "ground_truth_score": ground_truth_score,
            "created_at": now,
            "updated_at": now,
        },
        execution_options=LAST_STATEMENT if last_statement else None,
    )
    return int(result.scalar_one())


_INSERT_ANNOTATION = insert(annotation_rows).returning(annotation_rows.c.id)


ANNOTATION_COLUMNS = (
    annotation_rows.c.id,
    annotation_rows.c.task_id,
    annotation_rows.c.project_id,
    annotation_rows.c.user_id,
    annotation_rows.c.parent_prediction_id,
    annotation_rows.c.lead_time_seconds,
    annotation_rows.c.matches_parent,
    annotation_rows.c.created_at,
    annotation_rows.c.updated_at,
    annotation_rows.c.review_status,
    annotation_rows.c.corrects_annotation_id,
)


def annotation_record(row: Any) -> AnnotationRecord:
    """An annotation read with ANNOTATION_COLUMNS."""
    return AnnotationRecord(
        annotation_id=row.id,
        task_id=row.task_id,
        project_id=row.project_id,
        user_id=row.user_id,
        parent_prediction_id=row.parent_prediction_id,
        lead_time_seconds=row.lead_time_seconds,
        matches_parent=row.matches_parent,
        created_at=row.created_at,
        updated_at=row.updated_at,
        review_status=row.review_status,
        corrects_annotation_id=row.corrects_annotation_id,
    )


async def get_annotation(conn: AsyncConnection, annotation_id: int) -> AnnotationRecord | None:
    row = (
        await conn.execute(select(*ANNOTATION_COLUMNS).where(annotation_rows.c.id == annotation_id))
    ).first()
    return None if row is None else annotation_record(row)


# update_annotation's review_status when the review status stays as it is
KEEP = "keep"


async def update_annotation(
    conn: AsyncConnection,
    annotation_id: int,
    *,
    result_json: str,
    lead_time_seconds: float | None,
    matches_parent: bool | None,
    now: datetime,
    parent_prediction_id: int | None = None,
    replace_parent: bool = False,
    review_status: str | None = KEEP,
) -> None:
    """Replace an annotation's result; lead_time_seconds None keeps the recorded one, the
    parent prediction is kept unless replace_parent, and the review status unless
    review_status is given (a resubmit: pending, or None out of review)."""
    values: dict[str, object] = {
        "result_json": result_json,
        "matches_parent": matches_parent,
        "updated_at": now,
    }
    if replace_parent:
        values["parent_prediction_id"] = parent_prediction_id
    if lead_time_seconds is not None:
        values["lead_time_seconds"] = lead_time_seconds
    if review_status != KEEP:
        values["review_status"] = review_status
    await conn.execute(
        update(annotation_rows).where(annotation_rows.c.id == annotation_id).values(**values)
    )


async def insert_skip(
    conn: AsyncConnection,
    *,
    task_id: int,
    project_id: str,
    user_id: str,
    reason: str,
    now: datetime,
) -> None:
    await conn.execute(
        insert(skips).values(
            task_id=task_id, project_id=project_id, user_id=user_id, reason=reason, created_at=now
        )
    )


async def list_queue_page(
    conn: AsyncConnection,
    user_id: str,
    *,
    project_id: str | None,
    status: str | None,
    after_task_id: int,
    limit: int,
) -> list[QueuedTask]:
    """Up to limit tasks assigned to user_id with task id > after_task_id, in id order."""
    query = (
        select(
            assignments.c.task_id,
            assignments.c.project_id,
            projects.c.name,
            tasks.c.external_id,
            assignments.c.status,
            tasks.c.updated_at,
            annotation_rows.c.review_status,
            annotation_rows.c.review_comment,
        )
        .join(tasks, tasks.c.id == assignments.c.task_id)
        .join(projects, projects.c.id == assignments.c.project_id)
        .outerjoin(
            annotation_rows,
            (annotation_rows.c.task_id == assignments.c.task_id)
            & (annotation_rows.c.user_id == assignments.c.user_id),
        )
        .where(assignments.c.user_id == user_id, assignments.c.task_id > after_task_id)
    )
    if project_id is not None:
        query = query.where(assignments.c.project_id == project_id)
    if status is not None:
        query = query.where(assignments.c.status == status)
    rows = await conn.execute(query.order_by(assignments.c.task_id).limit(limit))
    return [
        QueuedTask(
            r.task_id,
            r.project_id,
            r.name,
            r.external_id,
            r.status,
            r.updated_at,
            r.review_status,
            r.review_comment,
        )
        for r in rows
    ]


async def count_queue(
    conn: AsyncConnection, user_id: str, *, project_id: str | None
) -> dict[str, int]:
    """The user's assignments by status (an index-only count of their own rows)."""
    query = select(assignments.c.status, func.count()).where(assignments.c.user_id == user_id)
    if project_id is not None:
        query = query.where(assignments.c.project_id == project_id)
    rows = await conn.execute(query.group_by(assignments.c.status))
    return {row[0]: int(row[1]) for row in rows}
