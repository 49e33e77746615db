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
from storage.models import Annotation, Assignment, Project, Task
from storage.tasks import IN_LIST_CHUNK

_tasks = cast(Table, Task.__table__)
_assignments = cast(Table, Assignment.__table__)
_annotations = cast(Table, Annotation.__table__)
_projects = cast(Table, Project.__table__)


@dataclass(slots=True)
class TaskState:
    """A task of the project as an import finds it."""

    task_id: int
    content: str
    status: str
    assignee_id: str | None  # None: not assigned to the import's annotator
    assignment_status: str | None  # the import's annotator's assignment
    annotated: bool  # the import's annotator has an annotation of it
    answers: int = 0  # tasks.annotation_count
    taken: int = 0  # the other annotators' assignments (not ground-truth ones)
    per_task: int = 1  # the project's annotations_per_task
    # The first other assignment that is open and has no annotation of its annotator:
    # the one an import completes when the others hold every place of the task.
    holder_id: str | None = None
    holder_status: str | None = None

    @property
    def full(self) -> bool:
        """The task has no room for the import's annotator: others hold its places."""
        return self.assignee_id is None and self.taken >= self.per_task


@dataclass(slots=True)
class NewAnnotation:
    """One annotation row to write."""

    task_id: int
    result_json: str
    lead_time_seconds: float | None


def _chunks(values: Sequence[Any]) -> list[Sequence[Any]]:
    return [values[i : i + IN_LIST_CHUNK] for i in range(0, len(values), IN_LIST_CHUNK)]


_others = _assignments.alias("others")
_annotated = (
    select(_annotations.c.id)
    .where(_annotations.c.task_id == _tasks.c.id, _annotations.c.user_id == bindparam("user_id"))
    .exists()
    .label("annotated")
)
_not_mine = (_others.c.task_id == _tasks.c.id) & (_others.c.user_id != bindparam("user_id"))
_taken = (
    select(func.count())
    .select_from(_others)
    .where(_not_mine, _others.c.is_ground_truth.is_(False))
    .scalar_subquery()
    .label("taken")
)
_holder = (
    select(_others.c.id)
    .where(
        _not_mine,
        _others.c.is_ground_truth.is_(False),
        _others.c.status != bindparam("done"),
        ~select(_annotations.c.id)
        .where(_annotations.c.task_id == _tasks.c.id, _annotations.c.user_id == _others.c.user_id)
        .exists(),
    )
    .order_by(_others.c.id)
    .limit(1)
    .scalar_subquery()
)
_holders = _assignments.alias("holders")
# Each task as the import's annotator (user_id) finds it: their assignment, the others'.
_STATES = (
    select(
        _tasks.c.id,
        _tasks.c.content,
        _tasks.c.status,
        _assignments.c.user_id,
        _assignments.c.status.label("assignment_status"),
        _annotated,
        _tasks.c.position,
        _tasks.c.annotation_count,
        _taken,
        _projects.c.annotations_per_task,
        _holders.c.user_id.label("holder_id"),
        _holders.c.status.label("holder_status"),
    )
    .select_from(_tasks)
    .join(_projects, _projects.c.id == _tasks.c.project_id)
    .outerjoin(_holders, _holders.c.id == _holder)
    .outerjoin(
        _assignments,
        (_assignments.c.task_id == _tasks.c.id) & (_assignments.c.user_id == bindparam("user_id")),
    )
    .where(_tasks.c.project_id == bindparam("project_id"))
)
# What a task may be looked up by (file_path and id through their indexes).
_KEYS = {"id": _tasks.c.id, "file_path": _tasks.c.file_path, "content": _tasks.c.content}


async def get_task_states(
    conn: AsyncConnection,
    project_id: str,
    values: Collection[Any],
    *,
    user_id: str,
    done: str,
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
        params = {
            "project_id": project_id,
            "values": list(chunk),
            "user_id": user_id,
            "done": done,
        }
        for row in await conn.execute(query, params):
            known = found.get(row.key)
            if known is None or (row.position, row.id) < known[:2]:
                state = TaskState(
                    row.id,
                    row.content,
                    row.status,
                    row.user_id,
                    row.assignment_status,
                    bool(row.annotated),
                    answers=row.annotation_count,
                    taken=row.taken,
                    per_task=row.annotations_per_task,
                    holder_id=row.holder_id,
                    holder_status=row.holder_status,
                )
                found[row.key] = (row.position, row.id, state)
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
    waiting: Sequence[int] = (),
    waiting_status: str = "",
    holders: Sequence[tuple[int, str]] = (),
) -> None:
    """Give user_id's answer to the project's tasks that got an annotation created at
    `annotated_at` (the import's instant; the project's row lock keeps other writers
    out): user_id's assignment of each is created or completed (of a task whose places
    others hold: the holder's, listed in `holders` as (task_id, user_id)), its answers
    count one more, and it takes task_status, but the `waiting` tasks (still waiting for other
    annotators' answers) take waiting_status. One statement each, however many tasks
    the import annotated (and one per chunk of waiting tasks)."""
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
        ~select(_assignments.c.id)
        .where(_assignments.c.task_id == _tasks.c.id, _assignments.c.user_id == user_id)
        .exists(),
    )
    if holders:
        unassigned = unassigned.where(_tasks.c.id.not_in([task_id for task_id, _ in holders]))
    await conn.execute(
        insert(_assignments).from_select(
            ["task_id", "project_id", "user_id", "status", "created_at", "updated_at"], unassigned
        )
    )
    await conn.execute(
        update(_assignments)
        .where(
            _assignments.c.project_id == project_id,
            _assignments.c.user_id == user_id,
            _assignments.c.status != assignment_status,
            _assignments.c.task_id.in_(annotated),
        )
        .values(status=assignment_status, updated_at=annotated_at)
    )
    await conn.execute(
        update(_tasks)
        .where(_tasks.c.project_id == project_id, _tasks.c.id.in_(annotated))
        .values(
            status=task_status,
            updated_at=annotated_at,
            completed_at=annotated_at,
            annotation_count=_tasks.c.annotation_count + 1,
        )
    )
    by_holder: dict[str, list[int]] = {}
    for task_id, holder in holders:
        by_holder.setdefault(holder, []).append(task_id)
    for holder, task_ids in by_holder.items():
        for chunk in _chunks(task_ids):
            await conn.execute(
                update(_assignments)
                .where(_assignments.c.user_id == holder, _assignments.c.task_id.in_(chunk))
                .values(status=assignment_status, updated_at=annotated_at)
            )
    for chunk in _chunks(waiting):
        await conn.execute(
            update(_tasks)
            .where(_tasks.c.id.in_(chunk))
            .values(status=waiting_status, completed_at=None)
        )
    if postgresql:
        await conn.execute(text("SET LOCAL enable_nestloop TO DEFAULT"))
