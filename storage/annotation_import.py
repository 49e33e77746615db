"""Annotation import: where the matched tasks stand, and the bulk writes that annotate them.

Every read and write works on IN-lists in chunks (IN_LIST_CHUNK) or multi-row
inserts (storage.bulk), so an import of 100,000 tasks costs a few dozen
statements per batch, never one per task.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, func, select, update
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
    metadata_json: str
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


def _chunks(values: Sequence[int]) -> list[Sequence[int]]:
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
        _tasks.c.metadata_json,
        _tasks.c.status,
        _assignments.c.user_id,
        _assignments.c.status.label("assignment_status"),
        _annotated,
    )
    .select_from(_tasks)
    .outerjoin(_assignments, _assignments.c.task_id == _tasks.c.id)
    .where(_tasks.c.project_id == bindparam("project_id"))
)


async def get_task_states(
    conn: AsyncConnection, project_id: str, task_ids: Collection[int]
) -> dict[int, TaskState]:
    """The tasks of the project among task_ids (others are left out), by id."""
    found: dict[int, TaskState] = {}
    for chunk in _chunks(sorted(set(task_ids))):
        rows = await conn.execute(_STATES.where(_tasks.c.id.in_(chunk)), {"project_id": project_id})
        for row in rows:
            task_id, content, metadata_json, status, assignee, assignment_status, annotated = row
            found[task_id] = TaskState(
                task_id,
                content,
                metadata_json,
                status,
                assignee,
                assignment_status,
                bool(annotated),
            )
    return found


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


async def complete_tasks(
    conn: AsyncConnection, task_ids: Sequence[int], *, status: str, now: datetime
) -> None:
    """Set the tasks' status (the completed one) and completed_at, in chunks."""
    for chunk in _chunks(task_ids):
        await conn.execute(
            update(_tasks)
            .where(_tasks.c.id.in_(chunk))
            .values(status=status, updated_at=now, completed_at=now)
        )


async def set_assignments_status(
    conn: AsyncConnection, task_ids: Sequence[int], *, status: str, now: datetime
) -> None:
    """Set the status of the tasks' assignments, in chunks."""
    for chunk in _chunks(task_ids):
        await conn.execute(
            update(_assignments)
            .where(_assignments.c.task_id.in_(chunk))
            .values(status=status, updated_at=now)
        )
