"""The rows behind agreement and ground truth: a task's answers, the score sums
(quality_scores), the coincidence matrix (agreement_coincidences) and the
ground-truth marks.

Every read here is by primary key or by a project's sum rows (one per kind,
annotator and label): none reads a project's tasks. The sums move atomically
(x = x + n, created on first use), under the project's row lock the writers hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import (
    AgreementCoincidence,
    Annotation,
    Project,
    QualityScore,
    Task,
    User,
)
from storage.tasks import IN_LIST_CHUNK

_annotations = cast(Table, Annotation.__table__)
_tasks = cast(Table, Task.__table__)
_projects = cast(Table, Project.__table__)
_scores = cast(Table, QualityScore.__table__)
_coincidences = cast(Table, AgreementCoincidence.__table__)
_users = cast(Table, User.__table__)


@dataclass(frozen=True, slots=True)
class AnswerRow:
    """One annotation of a task, as scoring reads it."""

    annotation_id: int
    task_id: int
    user_id: str
    username: str
    result_json: str
    is_ground_truth: bool
    is_correction: bool
    review_status: str | None
    agreement: float | None
    ground_truth_score: float | None


@dataclass(frozen=True, slots=True)
class ScoredTask:
    """A task with what scoring needs of it and its project, and its answers (oldest first)."""

    task_id: int
    project_id: str
    owner_id: str
    task_type: str
    iou_threshold: float
    is_ground_truth: bool
    agreement: float | None
    answers: list[AnswerRow]


@dataclass(frozen=True, slots=True)
class ScoreRow:
    kind: str
    user_id: str
    username: str
    label: str
    score_sum: float
    score_count: int
    matched: int
    answered: int
    expected: int


_TASK_ANSWERS = (
    select(
        _tasks.c.id.label("task_id"),
        _tasks.c.project_id,
        _tasks.c.is_ground_truth.label("task_is_ground_truth"),
        _tasks.c.agreement.label("task_agreement"),
        _projects.c.owner_id,
        _projects.c.task_type,
        _projects.c.iou_threshold,
        _annotations.c.id.label("annotation_id"),
        _annotations.c.user_id,
        _users.c.username,
        _annotations.c.result_json,
        _annotations.c.is_ground_truth,
        _annotations.c.corrects_annotation_id,
        _annotations.c.review_status,
        _annotations.c.agreement,
        _annotations.c.ground_truth_score,
    )
    .select_from(_tasks)
    .join(_projects, _projects.c.id == _tasks.c.project_id)
    .outerjoin(_annotations, _annotations.c.task_id == _tasks.c.id)
    .outerjoin(_users, _users.c.id == _annotations.c.user_id)
)


async def load_scored_tasks(conn: AsyncConnection, task_ids: Sequence[int]) -> list[ScoredTask]:
    """The given tasks (those that exist) with their answers, in chunks."""
    found: dict[int, ScoredTask] = {}
    for start in range(0, len(task_ids), IN_LIST_CHUNK):
        chunk = task_ids[start : start + IN_LIST_CHUNK]
        rows = await conn.execute(
            _TASK_ANSWERS.where(_tasks.c.id.in_(chunk)).order_by(_tasks.c.id, _annotations.c.id)
        )
        for row in rows:
            task = found.get(row.task_id)
            if task is None:
                task = found[row.task_id] = ScoredTask(
                    row.task_id,
                    row.project_id,
                    row.owner_id,
                    row.task_type,
                    row.iou_threshold,
                    bool(row.task_is_ground_truth),
                    row.task_agreement,
                    [],
                )
            if row.annotation_id is not None:
                task.answers.append(
                    AnswerRow(
                        row.annotation_id,
                        row.task_id,
                        row.user_id,
                        row.username or "",
                        row.result_json,
                        bool(row.is_ground_truth),
                        row.corrects_annotation_id is not None,
                        row.review_status,
                        row.agreement,
                        row.ground_truth_score,
                    )
                )
    return [found[task_id] for task_id in task_ids if task_id in found]


def _scores_upsert(dialect_insert: Any) -> Any:
    row = dialect_insert(_scores).values(
        project_id=bindparam("b_project_id"),
        kind=bindparam("b_kind"),
        user_id=bindparam("b_user_id"),
        label=bindparam("b_label"),
        score_sum=bindparam("b_score_sum"),
        score_count=bindparam("b_score_count"),
        matched=bindparam("b_matched"),
        answered=bindparam("b_answered"),
        expected=bindparam("b_expected"),
    )
    c = _scores.c
    return row.on_conflict_do_update(
        index_elements=[c.project_id, c.kind, c.user_id, c.label],
        set_={
            name: getattr(c, name) + getattr(row.excluded, name)
            for name in ("score_sum", "score_count", "matched", "answered", "expected")
        },
    )


def _coincidences_upsert(dialect_insert: Any) -> Any:
    row = dialect_insert(_coincidences).values(
        project_id=bindparam("b_project_id"),
        value_a=bindparam("b_value_a"),
        value_b=bindparam("b_value_b"),
        weight=bindparam("b_weight"),
    )
    c = _coincidences.c
    return row.on_conflict_do_update(
        index_elements=[c.project_id, c.value_a, c.value_b],
        set_={"weight": c.weight + row.excluded.weight},
    )


_ADD_SCORES = {
    "sqlite": _scores_upsert(sqlite_insert),
    "postgresql": _scores_upsert(postgresql_insert),
}
_ADD_COINCIDENCES = {
    "sqlite": _coincidences_upsert(sqlite_insert),
    "postgresql": _coincidences_upsert(postgresql_insert),
}


async def add_scores(
    conn: AsyncConnection,
    project_id: str,
    moves: Sequence[tuple[str, str, str, float, int, int, int, int]],
) -> None:
    """Move sum rows by (kind, user_id, label, score_sum, score_count, matched, answered,
    expected), in a stable order (rows are locked in one order by every writer)."""
    if not moves:
        return
    await conn.execute(
        _ADD_SCORES[conn.dialect.name],
        [
            {
                "b_project_id": project_id,
                "b_kind": kind,
                "b_user_id": user_id,
                "b_label": label,
                "b_score_sum": score_sum,
                "b_score_count": score_count,
                "b_matched": matched,
                "b_answered": answered,
                "b_expected": expected,
            }
            for kind, user_id, label, score_sum, score_count, matched, answered, expected in sorted(
                moves
            )
        ],
    )


async def add_coincidences(
    conn: AsyncConnection, project_id: str, moves: Sequence[tuple[str, str, float]]
) -> None:
    """Move coincidence cells by (value_a, value_b, weight)."""
    if not moves:
        return
    await conn.execute(
        _ADD_COINCIDENCES[conn.dialect.name],
        [
            {"b_project_id": project_id, "b_value_a": a, "b_value_b": b, "b_weight": weight}
            for a, b, weight in sorted(moves)
        ],
    )


_SET_ANNOTATION_SCORES = (
    update(_annotations)
    .where(_annotations.c.id == bindparam("b_id"))
    .values(agreement=bindparam("b_agreement"), ground_truth_score=bindparam("b_gt"))
)
_SET_TASK_AGREEMENT = (
    update(_tasks).where(_tasks.c.id == bindparam("b_id")).values(agreement=bindparam("b_value"))
)


async def set_annotation_scores(
    conn: AsyncConnection, scores: Sequence[tuple[int, float | None, float | None]]
) -> None:
    """(annotation_id, agreement, ground_truth_score) of each given annotation."""
    if scores:
        await conn.execute(
            _SET_ANNOTATION_SCORES,
            [{"b_id": i, "b_agreement": a, "b_gt": g} for i, a, g in scores],
        )


async def set_task_agreements(
    conn: AsyncConnection, values: Sequence[tuple[int, float | None]]
) -> None:
    if values:
        await conn.execute(_SET_TASK_AGREEMENT, [{"b_id": i, "b_value": v} for i, v in values])


async def set_ground_truth_marks(
    conn: AsyncConnection,
    *,
    task_ids: Sequence[int],
    annotation_ids: Sequence[int],
    marked: bool,
) -> None:
    """Mark (or unmark) tasks as ground truth and the annotations that are their known
    answers; unmarking clears every known answer of the tasks."""
    for start in range(0, len(task_ids), IN_LIST_CHUNK):
        chunk = task_ids[start : start + IN_LIST_CHUNK]
        await conn.execute(
            update(_tasks).where(_tasks.c.id.in_(chunk)).values(is_ground_truth=marked)
        )
        if not marked:
            await conn.execute(
                update(_annotations)
                .where(_annotations.c.task_id.in_(chunk), _annotations.c.is_ground_truth)
                .values(is_ground_truth=False)
            )
    for start in range(0, len(annotation_ids), IN_LIST_CHUNK):
        chunk = annotation_ids[start : start + IN_LIST_CHUNK]
        await conn.execute(
            update(_annotations).where(_annotations.c.id.in_(chunk)).values(is_ground_truth=True)
        )


async def add_ground_truth_tasks(
    conn: AsyncConnection, project_id: str, number: int, *, now: datetime
) -> int:
    """Move projects.ground_truth_tasks by number; returns the count afterwards."""
    result = await conn.execute(
        update(_projects)
        .where(_projects.c.id == project_id)
        .values(ground_truth_tasks=_projects.c.ground_truth_tasks + number, updated_at=now)
        .returning(_projects.c.ground_truth_tasks)
    )
    return int(result.scalar_one())


@dataclass(frozen=True, slots=True)
class QualityHeader:
    """A project's fields the quality reads show."""

    project_id: str
    owner_id: str
    task_type: str
    iou_threshold: float
    ground_truth_tasks: int


async def load_quality_header(conn: AsyncConnection, project_id: str) -> QualityHeader | None:
    row = (
        await conn.execute(
            select(
                _projects.c.id,
                _projects.c.owner_id,
                _projects.c.task_type,
                _projects.c.iou_threshold,
                _projects.c.ground_truth_tasks,
            ).where(_projects.c.id == project_id)
        )
    ).first()
    if row is None:
        return None
    return QualityHeader(
        row.id, row.owner_id, row.task_type, row.iou_threshold, row.ground_truth_tasks
    )


async def load_scores(
    conn: AsyncConnection, project_id: str, kinds: Sequence[str]
) -> list[ScoreRow]:
    """A project's sum rows of the given kinds, with each annotator's username: one row
    per kind, annotator and label, whatever the number of tasks."""
    rows = await conn.execute(
        select(_scores, func.coalesce(_users.c.username, "").label("username"))
        .select_from(_scores)
        .outerjoin(_users, _users.c.id == _scores.c.user_id)
        .where(
            _scores.c.project_id == project_id,
            _scores.c.kind.in_(kinds),
            _scores.c.score_count != 0,  # a row whose scores all went away
        )
        .order_by(_scores.c.kind, _users.c.username, _scores.c.user_id, _scores.c.label)
    )
    return [
        ScoreRow(
            r.kind,
            r.user_id,
            r.username,
            r.label,
            r.score_sum,
            r.score_count,
            r.matched,
            r.answered,
            r.expected,
        )
        for r in rows
    ]


async def load_coincidences(conn: AsyncConnection, project_id: str) -> dict[tuple[str, str], float]:
    rows = await conn.execute(
        select(_coincidences.c.value_a, _coincidences.c.value_b, _coincidences.c.weight).where(
            _coincidences.c.project_id == project_id
        )
    )
    return {(r.value_a, r.value_b): r.weight for r in rows}
