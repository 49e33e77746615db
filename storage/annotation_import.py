"""Annotation import: where the matched tasks stand, and the bulk writes that annotate them.

Every read and write works on IN-lists in chunks (IN_LIST_CHUNK) or multi-row
inserts (storage.bulk), so an import of 100,000 tasks costs a few dozen
statements per batch, never one per task.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

from sqlalchemy import Table, bindparam, func, insert, literal, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.bulk import insert_many
from storage.models import Annotation, Assignment, Task
from storage.tasks import IN_LIST_CHUNK

_tasks = cast(Table, Task.__table__)
_assignments = cast(Table, Assignment.__table__)
_annotations = cast(Table, Annotation.__table__)


@dataclass(slots=True)
class TaskState:
    """A task of the project as an import finds it."""

    task_id: int
    content: str
    status: str
    assignee_id: str | None  # None: not assigned
    assignment_status: str | None
    annotated: bool  # it has a submitted annotation


@dataclass(slots=True)
class NewAnnotation:
    """One annotation row to write."""

    task_id: int
    result_json: str
    lead_time_seconds: float | None


def _chunks(values: Sequence[Any]) -> list[Sequence[Any]]:
    return [values[i : i + IN_LIST_CHUNK] for i in range(0, len(values), IN_LIST_CHUNK)]


_annotated = (
    select(_annotations.c.id)
    .where(_annotations.c.task_id == _tasks.c.id)
    .exists()
    .label("annotated")
)
_STATES = (
    select(
        _tasks.c.id,
        _tasks.c.content,
        _tasks.c.status,
        _assignments.c.user_id,
        _assignments.c.status.label("assignment_status"),
        _annotated,
        _tasks.c.position,
    )
    .select_from(_tasks)
    .outerjoin(_assignments, _assignments.c.task_id == _tasks.c.id)
    .where(_tasks.c.project_id == bindparam("project_id"))
)
# What a task may be looked up by (file_path and id through their indexes).
_KEYS = {"id": _tasks.c.id, "file_path": _tasks.c.file_path, "content": _tasks.c.content}


async def get_task_states(
    conn: AsyncConnection,
    project_id: str,
    values: Collection[Any],
    *,
    by: Literal["id", "file_path", "content"] = "id",
) -> dict[Any, TaskState]:
    """The tasks of the project whose `by` column is one of values, by that value; of
    several tasks with one value, the first in project order. (No index holds content:
    each chunk of a content lookup reads the project's tasks once; an image task's
    content is its file_path, which has one.)"""
    column = _KEYS[by]
    query = _STATES.add_columns(column.label("key")).where(
        column.in_(bindparam("values", expanding=True))
    )
    found: dict[Any, tuple[int, int, TaskState]] = {}
    for chunk in _chunks(sorted(set(values))):
        rows = await conn.execute(query, {"project_id": project_id, "values": list(chunk)})
        for task_id, content, status, user_id, assigned, annotated, position, key in rows:
            known = found.get(key)
            if known is None or (position, task_id) < known[:2]:
                state = TaskState(task_id, content, status, user_id, assigned, bool(annotated))
                found[key] = (position, task_id, state)
    return {key: known[2] for key, known in found.items()}


async def get_task_id_range(conn: AsyncConnection, project_id: str) -> tuple[int, int] | None:
    """The smallest and largest task id of the project (None when it has no tasks)."""
    low, high = (
        await conn.execute(
            select(func.min(_tasks.c.id), func.max(_tasks.c.id)).where(
                _tasks.c.project_id == project_id
            )
        )
    ).one()
    return None if low is None else (int(low), int(high))


async def insert_annotations(
    conn: AsyncConnection,
    *,
    project_id: str,
    user_id: str,
    annotations: Sequence[NewAnnotation],
    now: datetime,
) -> int:
    """Write submitted annotations of one author, in chunks."""
    return await insert_many(
        conn,
        _annotations,
        columns=("task_id", "result_json", "lead_time_seconds"),
        rows=((a.task_id, a.result_json, a.lead_time_seconds) for a in annotations),
        constants={
            "project_id": project_id,
            "user_id": user_id,
            "parent_prediction_id": None,
            "matches_parent": None,
            "created_at": now,
            "updated_at": now,
        },
    )


async def complete_annotated_tasks(
    conn: AsyncConnection,
    project_id: str,
    *,
    annotated_at: datetime,
    user_id: str,
    task_status: str,
    assignment_status: str,
) -> None:
    """Complete the project's tasks that got an annotation created at `annotated_at` (the
    import's instant; the project's row lock keeps other writers out): a task without an
    assignment is assigned to user_id, the others' assignments are completed. One
    statement each, however many tasks the import annotated."""
    postgresql = conn.dialect.name == "postgresql"
    if postgresql:
        # This transaction wrote the rows after the tables' last statistics; with them stale
        # the planner can take the IN subqueries below for a few rows and join them by
        # nested scans, quadratic in the import (minutes at 100,000 tasks). Hash joins are
        # linear whatever the estimates; the setting ends with these three statements.
        await conn.execute(text("SET LOCAL enable_nestloop = off"))
    annotated = (
        select(_annotations.c.task_id)
        .where(
            _annotations.c.project_id == project_id,
            _annotations.c.created_at == annotated_at,
        )
        .scalar_subquery()
    )
    unassigned = select(
        _tasks.c.id,
        literal(project_id),
        literal(user_id),
        literal(assignment_status),
        literal(annotated_at, _assignments.c.created_at.type),
        literal(annotated_at, _assignments.c.updated_at.type),
    ).where(
        _tasks.c.project_id == project_id,
        _tasks.c.id.in_(annotated),
        ~select(_assignments.c.id).where(_assignments.c.task_id == _tasks.c.id).exists(),
    )
    await conn.execute(
        insert(_assignments).from_select(
            ["task_id", "project_id", "user_id", "status", "created_at", "updated_at"], unassigned
        )
    )
    await conn.execute(
        update(_assignments)
        .where(
            _assignments.c.project_id == project_id,
            _assignments.c.status != assignment_status,
            _assignments.c.task_id.in_(annotated),
        )
        .values(status=assignment_status, updated_at=annotated_at)
    )
    await conn.execute(
        update(_tasks)
        .where(
            _tasks.c.project_id == project_id,
            _tasks.c.status != task_status,
            _tasks.c.id.in_(annotated),
        )
        .values(status=task_status, updated_at=annotated_at, completed_at=annotated_at)
    )
    if postgresql:
        await conn.execute(text("SET LOCAL enable_nestloop TO DEFAULT"))
