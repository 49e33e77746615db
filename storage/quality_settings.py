"""A project's quality-control settings, and what a change of annotations_per_task reads
and writes: the tasks holding more annotators than the new number, the tasks that have
answers (their status may follow the new number), and their new statuses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import Assignment, Project, Task
from storage.tasks import IN_LIST_CHUNK

_projects = cast(Table, Project.__table__)
_tasks = cast(Table, Task.__table__)
_assignments = cast(Table, Assignment.__table__)


@dataclass(frozen=True, slots=True)
class QualitySettingsRecord:
    """The stored settings (projects columns of the same names)."""

    review_mode: str
    review_share: float | None
    annotations_per_task: int
    ground_truth_rate: float
    iou_threshold: float


_COLUMNS = (
    _projects.c.review_mode,
    _projects.c.review_share,
    _projects.c.annotations_per_task,
    _projects.c.ground_truth_rate,
    _projects.c.iou_threshold,
)


async def get_quality_settings(conn: AsyncConnection, project_id: str) -> QualitySettingsRecord:
    """The project's settings (the project exists: the caller has read it)."""
    row = (await conn.execute(select(*_COLUMNS).where(_projects.c.id == project_id))).one()
    return QualitySettingsRecord(*row)


async def set_quality_settings(
    conn: AsyncConnection, project_id: str, settings: QualitySettingsRecord, *, now: datetime
) -> None:
    await conn.execute(
        update(_projects)
        .where(_projects.c.id == project_id)
        .values(
            review_mode=settings.review_mode,
            review_share=settings.review_share,
            annotations_per_task=settings.annotations_per_task,
            ground_truth_rate=settings.ground_truth_rate,
            iou_threshold=settings.iou_threshold,
            updated_at=now,
        )
    )


async def list_tasks_over(
    conn: AsyncConnection, project_id: str, *, annotators: int, limit: int
) -> list[tuple[int, int]]:
    """Up to limit (task_id, assignments) of the project's tasks with more than
    `annotators` assignments (ground-truth ones aside), in id order."""
    counted = func.count()
    rows = await conn.execute(
        select(_assignments.c.task_id, counted)
        .where(
            _assignments.c.project_id == project_id,
            _assignments.c.is_ground_truth.is_(False),
        )
        .group_by(_assignments.c.task_id)
        .having(counted > annotators)
        .order_by(_assignments.c.task_id)
        .limit(limit)
    )
    return [(int(task_id), int(count)) for task_id, count in rows]


@dataclass(frozen=True, slots=True)
class AnsweredTask:
    task_id: int
    status: str
    answers: int  # tasks.annotation_count
    started: bool  # one of its assignments (not ground-truth) is started


async def list_answered_tasks(
    conn: AsyncConnection, project_id: str, *, started: str
) -> list[AnsweredTask]:
    """The project's tasks with at least one standing answer (the only ones whose status
    annotations_per_task decides); started: the status of a started assignment."""
    is_started = (
        select(_assignments.c.id)
        .where(
            _assignments.c.task_id == _tasks.c.id,
            _assignments.c.status == started,
            _assignments.c.is_ground_truth.is_(False),
        )
        .exists()
    )
    rows = await conn.execute(
        select(_tasks.c.id, _tasks.c.status, _tasks.c.annotation_count, is_started)
        .where(_tasks.c.project_id == project_id, _tasks.c.annotation_count > 0)
        .order_by(_tasks.c.id)
    )
    return [AnsweredTask(int(r[0]), r[1], int(r[2]), bool(r[3])) for r in rows]


async def set_tasks_status(
    conn: AsyncConnection, task_ids: Sequence[int], *, status: str, completed: bool, now: datetime
) -> None:
    """The status of the given tasks (completed_at set when completed, else cleared)."""
    for start in range(0, len(task_ids), IN_LIST_CHUNK):
        await conn.execute(
            update(_tasks)
            .where(_tasks.c.id.in_(task_ids[start : start + IN_LIST_CHUNK]))
            .values(status=status, updated_at=now, completed_at=now if completed else None)
        )
