"""Assignments and annotations: the rows the internal workflow writes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.bulk import insert_many
from storage.models import Annotation, Assignment
from storage.tasks import IN_LIST_CHUNK

assignments = cast(Table, Assignment.__table__)
annotation_rows = cast(Table, Annotation.__table__)


@dataclass(frozen=True, slots=True)
class AssignmentRecord:
    task_id: int
    user_id: str
    status: str


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
        update(assignments)
        .where(assignments.c.task_id == task_id)
        .values(status=status, updated_at=now)
    )


async def insert_annotation(
    conn: AsyncConnection,
    *,
    task_id: int,
    project_id: str,
    user_id: str,
    result_json: str,
    now: datetime,
) -> int:
    """Store an annotation; return its id."""
    result = await conn.execute(
        insert(annotation_rows)
        .values(
            task_id=task_id,
            project_id=project_id,
            user_id=user_id,
            result_json=result_json,
            created_at=now,
            updated_at=now,
        )
        .returning(annotation_rows.c.id)
    )
    return int(result.scalar_one())
