"""Assignments, annotations and skips: the rows the workflow writes, and an annotator's queue.

An annotator's queue is read through the (user_id, status, task_id) and
(user_id, project_id, status, task_id) indexes of assignments: NextTask and
ListAssignedTasks touch the caller's own rows only, never a project's tasks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.bulk import insert_many
from storage.models import Annotation, Assignment, Prediction, Project, Task, TaskSkip
from storage.projects import ProjectRecord, project_record
from storage.sqlite_cursor import DEFERRED_WRITE, LAST_STATEMENT
from storage.tasks import IN_LIST_CHUNK, TASK_COLUMNS, TaskRecord

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


@dataclass(frozen=True, slots=True)
class QueuedTask:
    """One row of an annotator's queue."""

    task_id: int
    project_id: str
    project_name: str
    external_id: str | None
    status: str  # the assignment's status
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class AssignmentRecord:
    task_id: int
    user_id: str
    status: str
    annotated: bool = False  # the task has an annotation (read by list_open_assignments)


@dataclass(frozen=True, slots=True)
class LockedTask:
    """A task about to change, its project (row locked) and its assignment."""

    project: ProjectRecord
    task: TaskRecord
    assignment: AssignmentRecord | None
    has_predictions: bool
    # The assignee's latest annotation of the task (a reopened task keeps it), if any.
    assignee_annotation_id: int | None = None


_has_predictions = (
    select(predictions.c.id)
    .where(predictions.c.task_id == tasks.c.id)
    .exists()
    .label("has_predictions")
)
_annotated = (
    select(annotation_rows.c.id)
    .where(annotation_rows.c.task_id == tasks.c.id)
    .exists()
    .label("annotated")
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
_TASK_AND_ASSIGNMENT = (
    *(column.label(f"task_{column.name}") for column in TASK_COLUMNS),
    assignments.c.user_id.label("assignee_id"),
    assignments.c.status.label("assignment_status"),
    _has_predictions,
    _annotated,
    _assignee_annotation,
)
# SQLite: the write transaction holds the database, so one read sees and keeps it all.
_LOCK_TASK_SQLITE = (
    select(projects, *_TASK_AND_ASSIGNMENT)
    .select_from(tasks)
    .join(projects, projects.c.id == tasks.c.project_id)
    .outerjoin(assignments, assignments.c.task_id == tasks.c.id)
    .where(tasks.c.id == bindparam("task_id"))
)
# PostgreSQL: the project's row lock first (every change of a task, its assignment and
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
        AssignmentRecord(task.task_id, row.assignee_id, row.assignment_status, bool(row.annotated))
        if row.assignee_id is not None
        else None
    )
    return LockedTask(
        project, task, assignment, bool(row.has_predictions), row.assignee_annotation_id
    )


async def lock_task(conn: AsyncConnection, task_id: int) -> LockedTask | None:
    """The task with its project's row locked (in a write transaction), or None.

    One statement on SQLite, two on PostgreSQL (lock, then read under the lock).
    """
    params = {"task_id": task_id}
    if conn.dialect.name == "sqlite":
        row = (await conn.execute(_LOCK_TASK_SQLITE, params)).first()
        return _locked(project_record(row), row) if row is not None else None
    project_row = (await conn.execute(_LOCK_PROJECT_OF_TASK, params)).first()
    if project_row is None:
        return None
    row = (await conn.execute(_TASK_UNDER_LOCK, params)).first()
    # the project's row lock keeps the task from going away
    assert row is not None
    return _locked(project_record(project_row), row)


async def get_assignments(
    conn: AsyncConnection, task_ids: Sequence[int]
) -> dict[int, AssignmentRecord]:
    """The assignments of the given tasks, by task id (unassigned tasks are absent)."""
    found: dict[int, AssignmentRecord] = {}
    for start in range(0, len(task_ids), IN_LIST_CHUNK):
        chunk = task_ids[start : start + IN_LIST_CHUNK]
        rows = await conn.execute(
            select(assignments.c.task_id, assignments.c.user_id, assignments.c.status).where(
                assignments.c.task_id.in_(chunk)
            )
        )
        for row in rows:
            found[row.task_id] = AssignmentRecord(row.task_id, row.user_id, row.status)
    return found


async def insert_assignments(
    conn: AsyncConnection,
    *,
    project_id: str,
    user_id: str,
    task_ids: Sequence[int],
    status: str,
    now: datetime,
) -> int:
    return await insert_many(
        conn,
        assignments,
        columns=("task_id",),
        rows=((task_id,) for task_id in task_ids),
        constants={
            "project_id": project_id,
            "user_id": user_id,
            "status": status,
            "created_at": now,
            "updated_at": now,
        },
    )


async def set_assignment_status(
    conn: AsyncConnection, task_id: int, *, status: str, now: datetime
) -> None:
    await conn.execute(
        _SET_ASSIGNMENT_STATUS, {"b_task_id": task_id, "b_status": status, "b_now": now}
    )


async def set_assignments_status(
    conn: AsyncConnection, task_ids: Sequence[int], *, status: str, now: datetime
) -> None:
    """The status of the given tasks' assignments, in chunks."""
    for start in range(0, len(task_ids), IN_LIST_CHUNK):
        chunk = task_ids[start : start + IN_LIST_CHUNK]
        await conn.execute(
            update(assignments)
            .where(assignments.c.task_id.in_(chunk))
            .values(status=status, updated_at=now)
        )


_SET_ASSIGNMENT_STATUS = (
    update(assignments)
    .where(assignments.c.task_id == bindparam("b_task_id"))
    .values(status=bindparam("b_status"), updated_at=bindparam("b_now"))
    .execution_options(**DEFERRED_WRITE)
)


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
            "agreement": agreement,
            "ground_truth_score": ground_truth_score,
            "created_at": now,
            "updated_at": now,
        },
        execution_options=LAST_STATEMENT if last_statement else None,
    )
    return int(result.scalar_one())


_INSERT_ANNOTATION = insert(annotation_rows).returning(annotation_rows.c.id)


async def get_annotation(conn: AsyncConnection, annotation_id: int) -> AnnotationRecord | None:
    row = (
        await conn.execute(
            select(
                annotation_rows.c.id,
                annotation_rows.c.task_id,
                annotation_rows.c.project_id,
                annotation_rows.c.user_id,
                annotation_rows.c.parent_prediction_id,
                annotation_rows.c.lead_time_seconds,
                annotation_rows.c.matches_parent,
                annotation_rows.c.created_at,
                annotation_rows.c.updated_at,
            ).where(annotation_rows.c.id == annotation_id)
        )
    ).first()
    if row is None:
        return None
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
    )


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
) -> None:
    """Replace an annotation's result; lead_time_seconds None keeps the recorded one, and
    the parent prediction is kept unless replace_parent."""
    values: dict[str, object] = {
        "result_json": result_json,
        "matches_parent": matches_parent,
        "updated_at": now,
    }
    if replace_parent:
        values["parent_prediction_id"] = parent_prediction_id
    if lead_time_seconds is not None:
        values["lead_time_seconds"] = lead_time_seconds
    await conn.execute(
        update(annotation_rows).where(annotation_rows.c.id == annotation_id).values(**values)
    )


async def list_open_assignments(
    conn: AsyncConnection,
    project_id: str,
    *,
    user_id: str | None,
    task_ids: Sequence[int] | None,
    done_status: str,
) -> list[AssignmentRecord]:
    """The project's assignments not in done_status, optionally of one user or tasks,
    each with whether its task has an annotation."""
    annotated = (
        select(annotation_rows.c.id)
        .where(annotation_rows.c.task_id == assignments.c.task_id)
        .exists()
        .label("annotated")
    )
    query = select(
        assignments.c.task_id, assignments.c.user_id, assignments.c.status, annotated
    ).where(assignments.c.project_id == project_id, assignments.c.status != done_status)
    if user_id is not None:
        query = query.where(assignments.c.user_id == user_id)
    found: list[AssignmentRecord] = []
    chunks = (
        [None]
        if task_ids is None
        else [
            task_ids[start : start + IN_LIST_CHUNK]
            for start in range(0, len(task_ids), IN_LIST_CHUNK)
        ]
    )
    for chunk in chunks:
        chunk_query = query if chunk is None else query.where(assignments.c.task_id.in_(chunk))
        rows = await conn.execute(chunk_query.order_by(assignments.c.task_id))
        found.extend(
            AssignmentRecord(r.task_id, r.user_id, r.status, bool(r.annotated)) for r in rows
        )
    return found


async def delete_assignments(conn: AsyncConnection, task_ids: Sequence[int]) -> None:
    for start in range(0, len(task_ids), IN_LIST_CHUNK):
        chunk = task_ids[start : start + IN_LIST_CHUNK]
        await conn.execute(delete(assignments).where(assignments.c.task_id.in_(chunk)))


async def next_unassigned_tasks(
    conn: AsyncConnection, project_id: str, *, user_id: str, limit: int, done_status: str
) -> list[int]:
    """Up to limit unassigned tasks not in done_status, in input order, that user_id never
    skipped."""
    assigned = exists().where(assignments.c.task_id == tasks.c.id)
    skipped = exists().where(skips.c.task_id == tasks.c.id, skips.c.user_id == user_id)
    rows = await conn.execute(
        select(tasks.c.id)
        .where(
            tasks.c.project_id == project_id,
            tasks.c.status != done_status,
            ~assigned,
            ~skipped,
        )
        .order_by(tasks.c.id)
        .limit(limit)
    )
    return [row.id for row in rows]


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
        )
        .join(tasks, tasks.c.id == assignments.c.task_id)
        .join(projects, projects.c.id == assignments.c.project_id)
        .where(assignments.c.user_id == user_id, assignments.c.task_id > after_task_id)
    )
    if project_id is not None:
        query = query.where(assignments.c.project_id == project_id)
    if status is not None:
        query = query.where(assignments.c.status == status)
    rows = await conn.execute(query.order_by(assignments.c.task_id).limit(limit))
    return [
        QueuedTask(r.task_id, r.project_id, r.name, r.external_id, r.status, r.updated_at)
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
