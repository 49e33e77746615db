"""Assignments: who holds which task, read and written for the lifecycle's moves.

A task holds up to annotations_per_task assignments, one per annotator (unique
(task_id, user_id)); every write names the assignment by (task_id, user_id).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, and_, bindparam, delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.bulk import insert_many
from storage.models import Annotation, Assignment, Task, TaskSkip
from storage.sqlite_cursor import DEFERRED_WRITE
from storage.tasks import IN_LIST_CHUNK

assignments = cast(Table, Assignment.__table__)
annotation_rows = cast(Table, Annotation.__table__)
skips = cast(Table, TaskSkip.__table__)
tasks = cast(Table, Task.__table__)


@dataclass(frozen=True, slots=True)
class AssignmentRecord:
    task_id: int
    user_id: str
    status: str
    annotated: bool = False  # its annotator has an annotation of the task
    ground_truth: bool = False  # it serves a ground-truth task (moves no counter)


@dataclass(frozen=True, slots=True)
class AssignedTask:
    """A task with its assignments, as assigning and taking back see it."""

    task_id: int
    status: str
    answers: int  # tasks.annotation_count
    assignments: tuple[AssignmentRecord, ...]


async def get_assigned_tasks(
    conn: AsyncConnection, task_ids: Sequence[int]
) -> dict[int, AssignedTask]:
    """The given tasks with their assignments (oldest first), by task id; each assignment
    says whether its annotator has an annotation of the task."""
    annotated = (
        select(annotation_rows.c.id)
        .where(
            annotation_rows.c.task_id == assignments.c.task_id,
            annotation_rows.c.user_id == assignments.c.user_id,
        )
        .exists()
        .label("annotated")
    )
    found: dict[int, AssignedTask] = {}
    for start in range(0, len(task_ids), IN_LIST_CHUNK):
        chunk = task_ids[start : start + IN_LIST_CHUNK]
        rows = await conn.execute(
            select(
                tasks.c.id,
                tasks.c.status,
                tasks.c.annotation_count,
                assignments.c.user_id,
                assignments.c.status.label("assignment_status"),
                assignments.c.is_ground_truth,
                annotated,
            )
            .select_from(tasks)
            .outerjoin(assignments, assignments.c.task_id == tasks.c.id)
            .where(tasks.c.id.in_(chunk))
            .order_by(tasks.c.id, assignments.c.id)
        )
        for row in rows:
            task = found.get(row.id) or AssignedTask(row.id, row.status, row.annotation_count, ())
            if row.user_id is not None:
                record = AssignmentRecord(
                    row.id,
                    row.user_id,
                    row.assignment_status,
                    bool(row.annotated),
                    bool(row.is_ground_truth),
                )
                task = AssignedTask(
                    task.task_id, task.status, task.answers, (*task.assignments, record)
                )
            found[row.id] = task
    return found


async def get_annotator_assignment(
    conn: AsyncConnection, task_id: int, user_id: str
) -> AssignmentRecord | None:
    """user_id's assignment of the task, or None."""
    row = (
        await conn.execute(
            select(assignments.c.status, assignments.c.is_ground_truth).where(
                assignments.c.task_id == task_id, assignments.c.user_id == user_id
            )
        )
    ).first()
    if row is None:
        return None
    return AssignmentRecord(task_id, user_id, row.status, ground_truth=bool(row.is_ground_truth))


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
    conn: AsyncConnection, task_id: int, user_id: str, *, status: str, now: datetime
) -> None:
    """The status of user_id's assignment of the task."""
    await conn.execute(
        _SET_ASSIGNMENT_STATUS,
        {"b_task_id": task_id, "b_user_id": user_id, "b_status": status, "b_now": now},
    )


def _by_user(pairs: Sequence[tuple[int, str]]) -> dict[str, list[int]]:
    """(task_id, user_id) pairs as task ids by user."""
    grouped: dict[str, list[int]] = {}
    for task_id, user_id in pairs:
        grouped.setdefault(user_id, []).append(task_id)
    return grouped


async def set_assignments_status(
    conn: AsyncConnection, pairs: Sequence[tuple[int, str]], *, status: str, now: datetime
) -> None:
    """The status of the given (task_id, user_id) assignments, in chunks."""
    for user_id, task_ids in _by_user(pairs).items():
        for start in range(0, len(task_ids), IN_LIST_CHUNK):
            chunk = task_ids[start : start + IN_LIST_CHUNK]
            await conn.execute(
                update(assignments)
                .where(assignments.c.user_id == user_id, assignments.c.task_id.in_(chunk))
                .values(status=status, updated_at=now)
            )


_SET_ASSIGNMENT_STATUS = (
    update(assignments)
    .where(
        assignments.c.task_id == bindparam("b_task_id"),
        assignments.c.user_id == bindparam("b_user_id"),
    )
    .values(status=bindparam("b_status"), updated_at=bindparam("b_now"))
    .execution_options(**DEFERRED_WRITE)
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
    each with whether its annotator has an annotation of the task."""
    annotated = (
        select(annotation_rows.c.id)
        .where(
            annotation_rows.c.task_id == assignments.c.task_id,
            annotation_rows.c.user_id == assignments.c.user_id,
        )
        .exists()
        .label("annotated")
    )
    query = select(
        assignments.c.task_id,
        assignments.c.user_id,
        assignments.c.status,
        annotated,
        assignments.c.is_ground_truth,
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
        rows = await conn.execute(chunk_query.order_by(assignments.c.task_id, assignments.c.id))
        found.extend(
            AssignmentRecord(
                r.task_id, r.user_id, r.status, bool(r.annotated), bool(r.is_ground_truth)
            )
            for r in rows
        )
    return found


async def delete_assignments(conn: AsyncConnection, pairs: Sequence[tuple[int, str]]) -> None:
    """Remove the given (task_id, user_id) assignments, in chunks."""
    for user_id, task_ids in _by_user(pairs).items():
        for start in range(0, len(task_ids), IN_LIST_CHUNK):
            chunk = task_ids[start : start + IN_LIST_CHUNK]
            await conn.execute(
                delete(assignments).where(
                    assignments.c.user_id == user_id, assignments.c.task_id.in_(chunk)
                )
            )


async def next_unassigned_tasks(
    conn: AsyncConnection,
    project_id: str,
    *,
    user_id: str,
    limit: int,
    done_status: str,
    per_task: int = 1,
) -> list[int]:
    """Up to limit tasks not in done_status with fewer than per_task assignments (not
    ground-truth ones), in input order, that user_id neither holds nor ever skipped."""
    if per_task == 1:
        has_room = ~exists().where(assignments.c.task_id == tasks.c.id)
    else:
        taken = (
            select(func.count())
            .select_from(assignments)
            .where(assignments.c.task_id == tasks.c.id, assignments.c.is_ground_truth.is_(False))
            .scalar_subquery()
        )
        held = exists().where(assignments.c.task_id == tasks.c.id, assignments.c.user_id == user_id)
        has_room = and_(taken < per_task, ~held)
    skipped = exists().where(skips.c.task_id == tasks.c.id, skips.c.user_id == user_id)
    rows = await conn.execute(
        select(tasks.c.id)
        .where(
            tasks.c.project_id == project_id,
            tasks.c.status != done_status,
            has_room,
            ~skipped,
        )
        .order_by(tasks.c.id)
        .limit(limit)
    )
    return [row.id for row in rows]
