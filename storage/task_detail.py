"""One task with everything an annotation front end shows: project, assignee,
predictions and annotations. One statement when the task has neither; a few
indexed lookups, whatever the project's size."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    ScalarSelect,
    Select,
    Table,
    bindparam,
    case,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import Annotation, Assignment, Prediction, Project, Task, User

_tasks = cast(Table, Task.__table__)
_projects = cast(Table, Project.__table__)
_assignments = cast(Table, Assignment.__table__)
_predictions = cast(Table, Prediction.__table__)
_annotations = cast(Table, Annotation.__table__)
_users = cast(Table, User.__table__)
_reviewers = _users.alias("reviewers")


@dataclass(frozen=True, slots=True)
class DetailPrediction:
    prediction_id: int
    source: str
    model_version: str | None
    score: float | None
    result_json: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DetailAnnotation:
    annotation_id: int
    user_id: str
    username: str
    result_json: str
    parent_prediction_id: int | None
    lead_time_seconds: float | None
    created_at: datetime
    updated_at: datetime
    review_status: str | None = None
    reviewer_id: str | None = None
    reviewer_name: str | None = None
    review_comment: str | None = None
    reviewed_at: datetime | None = None
    corrects_annotation_id: int | None = None
    is_ground_truth: bool = False  # the task's known answer (ground truth)


@dataclass(frozen=True, slots=True)
class TaskDetailRecord:
    task_id: int
    project_id: str
    project_owner_id: str
    task_type: str
    label_config: str
    prelabel_model_version: str | None  # the project's chosen pre-labelling version
    external_id: str | None
    content: str
    metadata_json: str
    status: str
    assignee_id: str | None
    assignee_name: str | None
    predictions: list[DetailPrediction]
    annotations: list[DetailAnnotation]
    # (user_id, username) of every assignment, oldest first (ground-truth ones aside)
    assignees: list[tuple[str, str]] = field(default_factory=list)
    is_ground_truth: bool = False
    agreement: float | None = None  # between the task's answers (server.quality)
    ground_truth_rate: float = 0.0  # the project's (server.quality.serving)
    # the status of the assignee's assignment (the viewer's own, else the task's first)
    assignment_status: str | None = None


async def get_task_owner_and_assignee(
    conn: AsyncConnection, task_id: int
) -> tuple[str, str | None] | None:
    """(project owner, assignee) of a task, or None when the task does not exist."""
    row = (
        await conn.execute(
            select(_projects.c.owner_id, _assignments.c.user_id)
            .select_from(_tasks)
            .join(_projects, _projects.c.id == _tasks.c.project_id)
            .outerjoin(_assignments, _assignments.c.task_id == _tasks.c.id)
            .where(_tasks.c.id == task_id)
        )
    ).first()
    return (row.owner_id, row.user_id) if row else None


def _detail_query(task_id: ColumnElement[Any]) -> Select[Any]:
    has_predictions = select(_predictions.c.id).where(_predictions.c.task_id == _tasks.c.id)
    has_annotations = select(_annotations.c.id).where(_annotations.c.task_id == _tasks.c.id)
    return (
        select(
            _tasks.c.id,
            _tasks.c.project_id,
            _projects.c.owner_id,
            _projects.c.task_type,
            _projects.c.label_config,
            _projects.c.prelabel_model_version,
            _projects.c.annotations_per_task,
            _projects.c.ground_truth_rate,
            _tasks.c.external_id,
            _tasks.c.content,
            _tasks.c.metadata_json,
            _tasks.c.status,
            _tasks.c.is_ground_truth,
            _tasks.c.agreement,
            _assignments.c.user_id.label("assignee_id"),
            _users.c.username.label("assignee_name"),
            _assignments.c.status.label("assignment_status"),
            has_predictions.exists().label("has_predictions"),
            has_annotations.exists().label("has_annotations"),
        )
        .select_from(_tasks)
        .join(_projects, _projects.c.id == _tasks.c.project_id)
        .outerjoin(_assignments, _assignments.c.task_id == _tasks.c.id)
        .outerjoin(_users, _users.c.id == _assignments.c.user_id)
        .where(_tasks.c.id == task_id)
        # the assignee shown: the viewer's own assignment, else the task's first
        .order_by(
            case((_assignments.c.user_id == bindparam("viewer_id"), 0), else_=1),
            _assignments.c.id,
        )
        .limit(1)
    )


def _first_queued(status: str, user_id: Any, project_id: Any) -> ScalarSelect[Any]:
    query = select(_assignments.c.task_id).where(
        _assignments.c.user_id == user_id, _assignments.c.status == status
    )
    if project_id is not None:
        query = query.where(_assignments.c.project_id == project_id)
    return query.order_by(_assignments.c.task_id).limit(1).scalar_subquery()


_BY_ID = _detail_query(bindparam("task_id"))
_PREDICTIONS = (
    select(
        _predictions.c.id,
        _predictions.c.source,
        _predictions.c.model_version,
        _predictions.c.score,
        _predictions.c.result_json,
        _predictions.c.created_at,
    )
    .where(
        _predictions.c.project_id == bindparam("project_id"),
        _predictions.c.task_id == bindparam("task_id"),
    )
    .order_by(_predictions.c.id)
)
_ASSIGNEES = (
    select(_assignments.c.user_id, _users.c.username)
    .join(_users, _users.c.id == _assignments.c.user_id)
    .where(
        _assignments.c.task_id == bindparam("task_id"),
        _assignments.c.is_ground_truth.is_(False),
    )
    .order_by(_assignments.c.id)
)
_ANNOTATIONS = (
    select(
        _annotations.c.id,
        _annotations.c.user_id,
        _users.c.username,
        _annotations.c.result_json,
        _annotations.c.parent_prediction_id,
        _annotations.c.lead_time_seconds,
        _annotations.c.created_at,
        _annotations.c.updated_at,
        _annotations.c.review_status,
        _annotations.c.reviewer_id,
        _reviewers.c.username.label("reviewer_name"),
        _annotations.c.review_comment,
        _annotations.c.reviewed_at,
        _annotations.c.corrects_annotation_id,
        _annotations.c.is_ground_truth,
    )
    .join(_users, _users.c.id == _annotations.c.user_id)
    .outerjoin(_reviewers, _reviewers.c.id == _annotations.c.reviewer_id)
    .where(_annotations.c.task_id == bindparam("task_id"))
    .order_by(_annotations.c.id)
)


def _next_query(statuses: tuple[str, ...], *, in_project: bool) -> Select[Any]:
    """The detail of a user's first task in the first of statuses that has one (COALESCE
    stops at the first subquery with a row: one index seek per status at most)."""
    user_id: BindParameter[str] = bindparam("user_id")
    project_id: BindParameter[str] | None = bindparam("project_id") if in_project else None
    return _detail_query(
        func.coalesce(*(_first_queued(status, user_id, project_id) for status in statuses))
    )


async def load_task_detail(
    conn: AsyncConnection, task_id: int, *, viewer_id: str, all_assignees: bool = False
) -> TaskDetailRecord | None:
    """One task with its project, assignee (viewer_id's assignment, else the first),
    predictions and annotations, or None; all_assignees reads every assignee (one more
    statement when the project has more than one annotator per task), else only the
    assignee is listed."""
    row = (await conn.execute(_BY_ID, {"task_id": task_id, "viewer_id": viewer_id})).first()
    return await _complete(conn, row, all_assignees=all_assignees)


async def load_next_task_detail(
    conn: AsyncConnection, user_id: str, *, project_id: str | None, statuses: tuple[str, ...]
) -> TaskDetailRecord | None:
    """The detail of the first task (input order) assigned to user_id in the first of
    statuses that has one, optionally within one project; None when there is none."""
    query = _next_queries.get((statuses, project_id is not None))
    if query is None:
        query = _next_query(statuses, in_project=project_id is not None)
        _next_queries[(statuses, project_id is not None)] = query
    params = {"user_id": user_id, "viewer_id": user_id}
    if project_id is not None:
        params["project_id"] = project_id
    row = (await conn.execute(query, params)).first()
    return await _complete(conn, row)


_next_queries: dict[tuple[tuple[str, ...], bool], Select[Any]] = {}


async def _complete(
    conn: AsyncConnection, row: Any, *, all_assignees: bool = False
) -> TaskDetailRecord | None:
    """The detail of a task row, its predictions and annotations read only when it has any."""
    if row is None:
        return None
    predictions: Any = ()
    if row.has_predictions:
        predictions = await conn.execute(
            _PREDICTIONS, {"project_id": row.project_id, "task_id": row.id}
        )
    annotations: Any = ()
    if row.has_annotations:
        annotations = await conn.execute(_ANNOTATIONS, {"task_id": row.id})
    # With one annotator per task the assignee is all of them: no read for it.
    assignees: Any = [(row.assignee_id, row.assignee_name)] if row.assignee_id else []
    if all_assignees and row.annotations_per_task > 1:
        assignees = await conn.execute(_ASSIGNEES, {"task_id": row.id})
    return TaskDetailRecord(
        task_id=row.id,
        project_id=row.project_id,
        project_owner_id=row.owner_id,
        task_type=row.task_type,
        label_config=row.label_config,
        prelabel_model_version=row.prelabel_model_version,
        external_id=row.external_id,
        content=row.content,
        metadata_json=row.metadata_json,
        status=row.status,
        assignee_id=row.assignee_id,
        assignee_name=row.assignee_name,
        predictions=[DetailPrediction(*p) for p in predictions],
        annotations=[DetailAnnotation(*a) for a in annotations],
        assignees=[(user_id, username) for user_id, username in assignees],
        is_ground_truth=bool(row.is_ground_truth),
        agreement=row.agreement,
        ground_truth_rate=row.ground_truth_rate,
        assignment_status=row.assignment_status,
    )
