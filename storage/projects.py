"""Projects, their labels, counters and per-annotator progress."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import Table, bindparam, delete, insert, literal, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.changes import USER_KEY_PREFIX, note_after_commit, notifying, user_key
from storage.models import Label, Project, ProjectAnnotator, QualityScore, User
from storage.sqlite_cursor import DEFERRED_WRITE
from storage.types import utcnow

projects = cast(Table, Project.__table__)
labels = cast(Table, Label.__table__)
project_annotators = cast(Table, ProjectAnnotator.__table__)
users = cast(Table, User.__table__)
quality_scores = cast(Table, QualityScore.__table__)


@dataclass(frozen=True, slots=True)
class LabelRecord:
    name: str
    color: str


@dataclass(frozen=True, slots=True)
class ProjectRecord:
    project_id: str
    name: str
    description: str
    task_type: str
    status: str
    external_id: str | None
    label_config: str
    owner_id: str
    total_tasks: int
    completed_tasks: int
    in_progress_tasks: int
    created_at: datetime
    updated_at: datetime
    annotations_per_task: int = 1  # how many distinct annotators label each task (N)
    # review (server.lifecycle.review): the setting and the counters
    review_mode: str = "off"
    review_share: float | None = None
    review_pending_count: int = 0
    accepted_count: int = 0
    rejected_count: int = 0
    reviewed_count: int = 0

    @property
    def pending_tasks(self) -> int:
        return self.total_tasks - self.completed_tasks - self.in_progress_tasks


@dataclass(frozen=True, slots=True)
class AnnotatorCounts:
    user_id: str
    username: str
    assigned_count: int
    completed_count: int
    in_progress_count: int
    review_pending_count: int = 0
    accepted_count: int = 0
    rejected_count: int = 0
    # (score_sum, score_count) of the annotator's agreement and ground-truth scores
    agreement: tuple[float, int] = (0.0, 0)
    ground_truth: tuple[float, int] = (0.0, 0)


@dataclass(frozen=True, slots=True)
class ProjectScores:
    """(score_sum, score_count) of a project's agreement and ground-truth scores."""

    agreement: tuple[float, int] = (0.0, 0)
    ground_truth: tuple[float, int] = (0.0, 0)


def project_record(row: Any) -> ProjectRecord:
    return ProjectRecord(
        project_id=row.id,
        name=row.name,
        description=row.description,
        task_type=row.task_type,
        status=row.status,
        external_id=row.external_id,
        label_config=row.label_config,
        owner_id=row.owner_id,
        total_tasks=row.total_tasks,
        completed_tasks=row.completed_tasks,
        in_progress_tasks=row.in_progress_tasks,
        created_at=row.created_at,
        updated_at=row.updated_at,
        annotations_per_task=row.annotations_per_task,
        review_mode=row.review_mode,
        review_share=row.review_share,
        review_pending_count=row.review_pending_count,
        accepted_count=row.accepted_count,
        rejected_count=row.rejected_count,
        reviewed_count=row.reviewed_count,
    )


async def insert_project(
    conn: AsyncConnection,
    *,
    project_id: str,
    name: str,
    description: str,
    task_type: str,
    status: str,
    external_id: str | None,
    label_config: str,
    owner_id: str,
    project_labels: Sequence[LabelRecord],
    now: datetime,
) -> ProjectRecord:
    """Insert a project (no tasks yet: counters start at 0) and its labels."""
    record = ProjectRecord(
        project_id=project_id,
        name=name,
        description=description,
        task_type=task_type,
        status=status,
        external_id=external_id,
        label_config=label_config,
        owner_id=owner_id,
        total_tasks=0,
        completed_tasks=0,
        in_progress_tasks=0,
        created_at=now,
        updated_at=now,
    )
    values = {field: getattr(record, field) for field in record.__slots__}
    values["id"] = values.pop("project_id")
    await conn.execute(insert(projects).values(**values))
    await insert_labels(conn, project_id, project_labels)
    return record


async def update_project_details(
    conn: AsyncConnection,
    project_id: str,
    *,
    description: str,
    external_id: str | None,
    label_config: str,
) -> None:
    """Set the fields of a project known only once its whole request was read."""
    await conn.execute(
        update(projects)
        .where(projects.c.id == project_id)
        .values(description=description, external_id=external_id, label_config=label_config)
    )


async def insert_labels(
    conn: AsyncConnection, project_id: str, project_labels: Sequence[LabelRecord]
) -> None:
    if project_labels:
        await conn.execute(
            insert(labels),
            [
                {"project_id": project_id, "position": i, "name": label.name, "color": label.color}
                for i, label in enumerate(project_labels)
            ],
        )


async def replace_labels(
    conn: AsyncConnection, project_id: str, project_labels: Sequence[LabelRecord]
) -> None:
    await conn.execute(delete(labels).where(labels.c.project_id == project_id))
    await insert_labels(conn, project_id, project_labels)


async def list_labels(conn: AsyncConnection, project_id: str) -> list[LabelRecord]:
    rows = await conn.execute(
        select(labels.c.name, labels.c.color)
        .where(labels.c.project_id == project_id)
        .order_by(labels.c.position)
    )
    return [LabelRecord(row.name, row.color) for row in rows]


async def get_project(
    conn: AsyncConnection, project_id: str, *, for_update: bool = False
) -> ProjectRecord | None:
    """One project, or None. for_update locks its row until the transaction ends
    (SELECT ... FOR UPDATE on PostgreSQL; SQLite's write transaction already
    holds the database lock), so counter and status changes serialize per project."""
    query = select(projects).where(projects.c.id == project_id)
    if for_update:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return project_record(row) if row else None


async def set_project_fields(
    conn: AsyncConnection,
    project_id: str,
    *,
    now: datetime | None = None,
    status: str | None = None,
    label_config: str | None = None,
) -> None:
    """Change a project's status and/or config and touch updated_at (its watchers are
    told after the commit)."""
    values: dict[str, Any] = {"updated_at": now or utcnow()}
    if status is not None:
        values["status"] = status
    if label_config is not None:
        values["label_config"] = label_config
    statement = (
        update(projects)
        .where(projects.c.id == project_id)
        .values(**values)
        .execution_options(**DEFERRED_WRITE)
    )
    if conn.dialect.name == "postgresql":
        await conn.execute(notifying(statement, projects.c.id))
    else:
        await conn.execute(statement)
        note_after_commit(conn, project_id)


async def add_to_task_counters(
    conn: AsyncConnection,
    project_id: str,
    *,
    now: datetime,
    total: int = 0,
    completed: int = 0,
    in_progress: int = 0,
    status: str | None = None,
    review: ReviewCounterChange | None = None,
) -> None:
    """Move the project's counters by the given amounts, atomically (x = x + n), and
    set its status when given: one statement (the review counters ride along in it),
    which also tells the project's watchers (after the commit: storage.changes)."""
    params: dict[str, Any] = {
        "b_project_id": project_id,
        "b_total": total,
        "b_completed": completed,
        "b_in_progress": in_progress,
        "b_now": now,
    }
    if review:
        params.update(
            b_review_pending=review.pending,
            b_accepted=review.accepted,
            b_rejected=review.rejected,
            b_reviewed=review.reviewed,
        )
    postgresql = conn.dialect.name == "postgresql"
    key = (status is not None, bool(review))
    statement = _ADD_TO_COUNTERS_NOTIFYING[key] if postgresql else _ADD_TO_COUNTERS[key]
    if status is not None:
        params["b_status"] = status
    await conn.execute(statement, params)
    if not postgresql:
        note_after_commit(conn, project_id)


# Built once: a statement built per call costs more CPU than SQLite spends running it.
_ADD_TO_TASK_COUNTERS = (
    update(projects)
    .where(projects.c.id == bindparam("b_project_id"))
    .values(
        total_tasks=projects.c.total_tasks + bindparam("b_total"),
        completed_tasks=projects.c.completed_tasks + bindparam("b_completed"),
        in_progress_tasks=projects.c.in_progress_tasks + bindparam("b_in_progress"),
        updated_at=bindparam("b_now"),
    )
    .execution_options(**DEFERRED_WRITE)
)
_ADD_TO_TASK_COUNTERS_SET_STATUS = _ADD_TO_TASK_COUNTERS.values(status=bindparam("b_status"))
_REVIEW_COUNTERS = {
    "review_pending_count": projects.c.review_pending_count + bindparam("b_review_pending"),
    "accepted_count": projects.c.accepted_count + bindparam("b_accepted"),
    "rejected_count": projects.c.rejected_count + bindparam("b_rejected"),
    "reviewed_count": projects.c.reviewed_count + bindparam("b_reviewed"),
}
# (sets the status, moves the review counters) -> the statement
_ADD_TO_COUNTERS = {
    (False, False): _ADD_TO_TASK_COUNTERS,
    (True, False): _ADD_TO_TASK_COUNTERS_SET_STATUS,
    (False, True): _ADD_TO_TASK_COUNTERS.values(**_REVIEW_COUNTERS),
    (True, True): _ADD_TO_TASK_COUNTERS_SET_STATUS.values(**_REVIEW_COUNTERS),
}
_ADD_TO_COUNTERS_NOTIFYING = {
    key: notifying(statement, projects.c.id) for key, statement in _ADD_TO_COUNTERS.items()
}


class ReviewCounterChange(Protocol):
    """A change of review counters (server.lifecycle.review.ReviewCounts)."""

    @property
    def pending(self) -> int: ...
    @property
    def accepted(self) -> int: ...
    @property
    def rejected(self) -> int: ...
    @property
    def reviewed(self) -> int: ...
    def __bool__(self) -> bool: ...


def _annotator_counters_upsert(dialect_insert: Any) -> Any:
    """INSERT the annotator's counters, or move them (x = x + n) when the row exists."""
    row = dialect_insert(project_annotators).values(
        project_id=bindparam("b_project_id"),
        user_id=bindparam("b_user_id"),
        assigned_count=bindparam("b_assigned"),
        completed_count=bindparam("b_completed"),
        in_progress_count=bindparam("b_in_progress"),
        review_pending_count=bindparam("b_review_pending"),
        accepted_count=bindparam("b_accepted"),
        rejected_count=bindparam("b_rejected"),
    )
    counts = project_annotators.c
    return row.on_conflict_do_update(
        index_elements=[counts.project_id, counts.user_id],
        set_={
            "assigned_count": counts.assigned_count + row.excluded.assigned_count,
            "completed_count": counts.completed_count + row.excluded.completed_count,
            "in_progress_count": counts.in_progress_count + row.excluded.in_progress_count,
            "review_pending_count": (
                counts.review_pending_count + row.excluded.review_pending_count
            ),
            "accepted_count": counts.accepted_count + row.excluded.accepted_count,
            "rejected_count": counts.rejected_count + row.excluded.rejected_count,
        },
    ).execution_options(**DEFERRED_WRITE)


# One statement per engine (INSERT ... ON CONFLICT DO UPDATE is spelled by each dialect);
# on PostgreSQL it tells the watchers of the annotator's queue too.
_ADD_TO_ANNOTATOR_COUNTERS = {
    "sqlite": _annotator_counters_upsert(sqlite_insert),
    "postgresql": notifying(
        _annotator_counters_upsert(postgresql_insert),
        literal(USER_KEY_PREFIX) + project_annotators.c.user_id,
    ),
}


async def add_to_annotator_counters(
    conn: AsyncConnection,
    project_id: str,
    user_id: str,
    *,
    assigned: int = 0,
    completed: int = 0,
    in_progress: int = 0,
    review_pending: int = 0,
    accepted: int = 0,
    rejected: int = 0,
) -> None:
    """Move one annotator's counters in a project, creating the row on first use: one
    statement (the caller holds the project's row lock), which also tells the watchers
    of the annotator's queue (after the commit: storage.changes)."""
    if conn.dialect.name != "postgresql":
        note_after_commit(conn, user_key(user_id))
    await conn.execute(
        _ADD_TO_ANNOTATOR_COUNTERS[conn.dialect.name],
        {
            "b_project_id": project_id,
            "b_user_id": user_id,
            "b_assigned": assigned,
            "b_completed": completed,
            "b_in_progress": in_progress,
            "b_review_pending": review_pending,
            "b_accepted": accepted,
            "b_rejected": rejected,
        },
    )


def _score_sums(kind: str, whose: str, user_id: Any) -> Any:
    """The quality_scores row of a kind (bound as b_<kind>) for user_id, every label."""
    row = quality_scores.alias(f"{kind}_{whose}")
    condition = (
        (row.c.project_id == projects.c.id)
        & (row.c.kind == bindparam(f"b_{kind}"))
        & (row.c.user_id == user_id)
        & (row.c.label == "")
    )
    return row, condition


_SCORES = {
    (kind, whose): _score_sums(kind, whose, user)
    for kind in ("agreement", "ground_truth")
    for whose, user in (("project", ""), ("annotator", project_annotators.c.user_id))
}
_PROGRESS = (
    select(
        projects,
        project_annotators.c.user_id.label("annotator_id"),
        users.c.username.label("annotator_name"),
        project_annotators.c.assigned_count,
        project_annotators.c.completed_count,
        project_annotators.c.in_progress_count,
        project_annotators.c.review_pending_count.label("annotator_review_pending"),
        project_annotators.c.accepted_count.label("annotator_accepted"),
        project_annotators.c.rejected_count.label("annotator_rejected"),
        *(
            column.label(f"{kind}_{whose}_{column.name}")
            for (kind, whose), (row, _) in _SCORES.items()
            for column in (row.c.score_sum, row.c.score_count)
        ),
    )
    .select_from(
        functools.reduce(
            lambda joined, scores: joined.outerjoin(scores[0], scores[1]),
            _SCORES.values(),
            projects.outerjoin(
                project_annotators, project_annotators.c.project_id == projects.c.id
            ).outerjoin(users, users.c.id == project_annotators.c.user_id),
        )
    )
    .where(projects.c.id == bindparam("project_id"))
    .order_by(users.c.username)
)


def _sums(row: Any, prefix: str) -> tuple[float, int]:
    return (
        getattr(row, f"{prefix}_score_sum") or 0.0,
        getattr(row, f"{prefix}_score_count") or 0,
    )


async def load_progress(
    conn: AsyncConnection, project_id: str, *, agreement_kind: str, ground_truth_kind: str
) -> tuple[ProjectRecord, list[AnnotatorCounts], ProjectScores] | None:
    """A project, its annotators' counters (by username) and the sums of the project's
    and each annotator's agreement and ground-truth scores (quality_scores rows of the
    given kinds, every label) in one statement, or None."""
    params = {
        "project_id": project_id,
        "b_agreement": agreement_kind,
        "b_ground_truth": ground_truth_kind,
    }
    rows = (await conn.execute(_PROGRESS, params)).all()
    if not rows:
        return None
    annotators = [
        AnnotatorCounts(
            row.annotator_id,
            row.annotator_name,
            row.assigned_count,
            row.completed_count,
            row.in_progress_count,
            row.annotator_review_pending,
            row.annotator_accepted,
            row.annotator_rejected,
            _sums(row, "agreement_annotator"),
            _sums(row, "ground_truth_annotator"),
        )
        for row in rows
        if row.annotator_id is not None
    ]
    scores = ProjectScores(
        _sums(rows[0], "agreement_project"), _sums(rows[0], "ground_truth_project")
    )
    return project_record(rows[0]), annotators, scores


async def list_project_page(
    conn: AsyncConnection,
    *,
    owner_id: str | None,
    external_id: str | None,
    status: str | None,
    before: tuple[datetime, str] | None,
    limit: int,
) -> list[ProjectRecord]:
    """Up to limit projects, newest first (created_at, then id, descending), after `before`.

    owner_id None lists every owner's projects (a super_admin's view).
    """
    query = select(projects)
    if owner_id is not None:
        query = query.where(projects.c.owner_id == owner_id)
    if external_id is not None:
        query = query.where(projects.c.external_id == external_id)
    if status is not None:
        query = query.where(projects.c.status == status)
    if before is not None:
        created_at, project_id = before
        query = query.where(
            (projects.c.created_at < created_at)
            | ((projects.c.created_at == created_at) & (projects.c.id < project_id))
        )
    rows = await conn.execute(
        query.order_by(projects.c.created_at.desc(), projects.c.id.desc()).limit(limit)
    )
    return [project_record(row) for row in rows]


async def get_prelabel_model_version(conn: AsyncConnection, project_id: str) -> str | None:
    """The project's chosen pre-labelling model version (None: the default rule)."""
    result = await conn.execute(
        select(projects.c.prelabel_model_version).where(projects.c.id == project_id)
    )
    return result.scalar_one_or_none()


async def set_prelabel_model_version(
    conn: AsyncConnection, project_id: str, version: str | None, *, now: datetime
) -> None:
    """Choose the project's pre-labelling model version (None: the default rule)."""
    await conn.execute(
        update(projects)
        .where(projects.c.id == project_id)
        .values(prelabel_model_version=version, updated_at=now)
        .execution_options(**DEFERRED_WRITE)
    )
