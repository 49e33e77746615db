"""The rows behind serving ground-truth tasks (server.quality.serving): an
annotator's served counts, the next ground-truth task for them, its assignment.

Every read is of the annotator's own rows or through the (project_id,
is_ground_truth, id) index of tasks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, exists, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import Annotation, Assignment, Project, ProjectAnnotator, Task

_annotations = cast(Table, Annotation.__table__)
_tasks = cast(Table, Task.__table__)
_projects = cast(Table, Project.__table__)
_assignments = cast(Table, Assignment.__table__)
_annotators = cast(Table, ProjectAnnotator.__table__)


@dataclass(frozen=True, slots=True)
class ServedCounts:
    """What deciding to serve a ground-truth task needs of one annotator in a project."""

    rate: float  # projects.ground_truth_rate
    answered: int  # project_annotators.completed_count
    served: int  # their ground-truth assignments
    open_served: int  # ... not completed yet


async def load_served_counts(
    conn: AsyncConnection, project_id: str, user_id: str, *, done_status: str
) -> ServedCounts | None:
    """The project's rate, the annotator's completed count and their ground-truth
    assignments (their own rows only), or None for an unknown project."""
    mine = (
        _assignments.c.user_id == user_id,
        _assignments.c.project_id == project_id,
        _assignments.c.is_ground_truth,
    )
    served = select(func.count()).where(*mine).scalar_subquery()
    open_served = (
        select(func.count()).where(*mine, _assignments.c.status != done_status).scalar_subquery()
    )
    answered = (
        select(_annotators.c.completed_count)
        .where(_annotators.c.project_id == project_id, _annotators.c.user_id == user_id)
        .scalar_subquery()
    )
    row = (
        await conn.execute(
            select(
                _projects.c.ground_truth_rate,
                func.coalesce(answered, 0).label("answered"),
                served.label("served"),
                open_served.label("open_served"),
            ).where(_projects.c.id == project_id)
        )
    ).first()
    if row is None:
        return None
    return ServedCounts(row.ground_truth_rate, row.answered, row.served, row.open_served)


async def next_ground_truth_task(
    conn: AsyncConnection, project_id: str, user_id: str
) -> int | None:
    """The project's first ground-truth task (id order, through the (project_id,
    is_ground_truth, id) index) that user_id has neither an assignment of nor answered."""
    assigned = exists().where(
        _assignments.c.task_id == _tasks.c.id, _assignments.c.user_id == user_id
    )
    answered = exists().where(
        _annotations.c.task_id == _tasks.c.id, _annotations.c.user_id == user_id
    )
    result = await conn.execute(
        select(_tasks.c.id)
        .where(_tasks.c.project_id == project_id, _tasks.c.is_ground_truth, ~assigned, ~answered)
        .order_by(_tasks.c.id)
        .limit(1)
    )
    return result.scalar_one_or_none()


async def insert_ground_truth_assignment(
    conn: AsyncConnection,
    *,
    project_id: str,
    task_id: int,
    user_id: str,
    status: str,
    now: datetime,
) -> None:
    await conn.execute(
        insert(_assignments).values(
            task_id=task_id,
            project_id=project_id,
            user_id=user_id,
            status=status,
            is_ground_truth=True,
            created_at=now,
            updated_at=now,
        )
    )
