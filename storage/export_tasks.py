"""What an export reads: a project's labels and its tasks in keyset batches.

`read_export_task_rows` reads one batch, `limit` tasks in id order after a
task id, with the annotations and predictions of exactly those tasks, in the
caller's (short, read-only) transaction; `storage.export_records` turns the
rows into records. The export pipeline (`server/exports/batches.py`) reads one
batch per transaction, so an export holds a few batches in memory whatever the
size of the project. The annotations and predictions are fetched by task-id
range on the (project_id, task_id) indexes, which avoids long `IN (...)` lists.

This is the hottest read path of the service (a million tasks per export), so
it avoids per-value work that SQLAlchemy would otherwise do for every row:
the statements are built once with bind parameters (compiled once per
dialect), timestamps are selected without their column type (converted
once when the records are built), the rows are taken as the driver returns
them (plain tuples, not SQLAlchemy's `Row`: building those took most of the
read's CPU), and stored JSON stays text until a format needs it parsed (the
json format embeds it as it is).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    Table,
    and_,
    bindparam,
    exists,
    select,
    true,
    type_coerce,
)
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.export_records import ExportTaskRows
from storage.models import Annotation, Label, Prediction, Project, QualityScore, Task, User

# Tasks per batch: large enough that per-batch round trips do not matter,
# small enough that the batches in flight (one read ahead, one being
# assembled or written) stay a few MB; larger batches measured slower too.
DEFAULT_BATCH_SIZE = 1000

_projects = cast(Table, Project.__table__)
_labels = cast(Table, Label.__table__)
_tasks = cast(Table, Task.__table__)
_annotations = cast(Table, Annotation.__table__)
_predictions = cast(Table, Prediction.__table__)
_users = cast(Table, User.__table__)
_reviewers = _users.alias("reviewers")
_scores = cast(Table, QualityScore.__table__)
# the quality_scores rows of each annotator's agreement over every label.
AGREEMENT_KIND = "agreement"
EVERY_LABEL = ""


@dataclass(frozen=True, slots=True)
class ExportProject:
    """The parts of a project an export needs."""

    project_id: str
    name: str
    task_type: str
    owner_id: str
    labels: tuple[str, ...]
    # the IoU at which two regions match (consensus).
    iou_threshold: float = 0.5


async def load_export_project(conn: AsyncConnection, *, project_id: str) -> ExportProject | None:
    """The project with its label names in label order, or None."""
    row = (
        await conn.execute(
            select(
                _projects.c.id,
                _projects.c.name,
                _projects.c.task_type,
                _projects.c.owner_id,
                _projects.c.iou_threshold,
            ).where(_projects.c.id == project_id)
        )
    ).first()
    if row is None:
        return None
    names = (
        await conn.execute(
            select(_labels.c.name)
            .where(_labels.c.project_id == project_id)
            .order_by(_labels.c.position, _labels.c.id)
        )
    ).scalars()
    return ExportProject(
        project_id=row.id,
        name=row.name,
        task_type=row.task_type,
        owner_id=row.owner_id,
        labels=tuple(names),
        iou_threshold=row.iou_threshold if row.iou_threshold is not None else 0.5,
    )


async def load_annotator_agreement(conn: AsyncConnection, *, project_id: str) -> dict[str, float]:
    """Each annotator's mean agreement with the others over every label, by
    username (annotators without a measured score are absent): one row per
    annotator of the project's score sums."""
    rows = await conn.execute(
        select(_users.c.username, _scores.c.score_sum, _scores.c.score_count)
        .join(_users, _users.c.id == _scores.c.user_id)
        .where(
            _scores.c.project_id == project_id,
            _scores.c.kind == AGREEMENT_KIND,
            _scores.c.label == EVERY_LABEL,
            _scores.c.score_count > 0,
        )
    )
    return {username: total / count for username, total, count in rows}


def _untyped(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """A timestamp column as the driver returns it (no per-row type processing):
    text on SQLite, a naive datetime on PostgreSQL; see `storage.export_records`."""
    return type_coerce(column, String()).label(column.key)


def _driver_rows(result: CursorResult[Any]) -> list[tuple[Any, ...]]:
    """The result's rows as the driver returns them, as tuples.

    The statements select no column with a result type to process (see
    `_untyped`), so SQLAlchemy's `Row` would add nothing but its cost.
    """
    try:
        rows = list(result.cursor.fetchall())
    finally:
        result.close()
    if rows and type(rows[0]) is not tuple:  # asyncpg's Record
        return [tuple(row) for row in rows]
    return rows


def _task_query(*, by_status: bool, by_review: bool, ground_truth_only: bool) -> Select[Any]:
    query = (
        select(
            _tasks.c.id,
            _tasks.c.external_id,
            _tasks.c.content,
            _tasks.c.file_path,
            _tasks.c.metadata_json,
            _tasks.c.status,
            _untyped(_tasks.c.completed_at),
            _tasks.c.image_width,
            _tasks.c.image_height,
            _tasks.c.is_ground_truth,
            _tasks.c.agreement,
        )
        .where(_tasks.c.project_id == bindparam("project_id"), _tasks.c.id > bindparam("after"))
        .order_by(_tasks.c.id)
        .limit(bindparam("limit"))
    )
    if by_status:
        query = query.where(_tasks.c.status == bindparam("status"))
    if ground_truth_only:  # (project_id, is_ground_truth, id) index
        query = query.where(_tasks.c.is_ground_truth == true())
    if by_review:  # one probe of the task's annotations (task_id index) per task
        query = query.where(
            exists().where(
                and_(
                    _annotations.c.task_id == _tasks.c.id,
                    _annotations.c.review_status == bindparam("review_status"),
                )
            )
        )
    return query


# Built once per combination of filters: (by status, by review status, ground truth only).
_TASK_QUERIES = {
    (by_status, by_review, ground_truth): _task_query(
        by_status=by_status, by_review=by_review, ground_truth_only=ground_truth
    )
    for by_status in (False, True)
    for by_review in (False, True)
    for ground_truth in (False, True)
}
_ANNOTATIONS = (
    select(
        _annotations.c.task_id,
        _annotations.c.id,
        _users.c.username,
        _untyped(_annotations.c.created_at),
        _untyped(_annotations.c.updated_at),
        _annotations.c.result_json,
        _annotations.c.parent_prediction_id,
        _annotations.c.lead_time_seconds,
        _annotations.c.review_status,
        _reviewers.c.username,
        _annotations.c.review_comment,
        _annotations.c.corrects_annotation_id,
        _annotations.c.is_ground_truth,
        _annotations.c.agreement,
    )
    .join(_users, _users.c.id == _annotations.c.user_id)
    .outerjoin(_reviewers, _reviewers.c.id == _annotations.c.reviewer_id)
    .where(
        _annotations.c.project_id == bindparam("project_id"),
        _annotations.c.task_id >= bindparam("first"),
        _annotations.c.task_id <= bindparam("last"),
    )
    .order_by(_annotations.c.task_id, _annotations.c.id)
)
_PREDICTIONS = (
    select(
        _predictions.c.task_id,
        _predictions.c.id,
        _predictions.c.source,
        _predictions.c.model_version,
        _predictions.c.score,
        _predictions.c.result_json,
        _untyped(_predictions.c.created_at),
    )
    .where(
        _predictions.c.project_id == bindparam("project_id"),
        _predictions.c.task_id >= bindparam("first"),
        _predictions.c.task_id <= bindparam("last"),
    )
    .order_by(_predictions.c.task_id, _predictions.c.id)
)


async def read_export_task_rows(
    conn: AsyncConnection,
    *,
    project_id: str,
    after_id: int,
    limit: int,
    task_status: str | None,
    with_predictions: bool,
    review_status: str | None = None,
    ground_truth_only: bool = False,
) -> ExportTaskRows:
    """Up to `limit` tasks after `after_id` in id order (only those in
    `task_status` unless it is None, with an annotation in `review_status`
    unless it is None, only ground-truth tasks when `ground_truth_only`), with
    their annotations (and predictions when `with_predictions`)."""
    params: dict[str, object] = {"project_id": project_id, "after": after_id, "limit": limit}
    query = _TASK_QUERIES[(task_status is not None, review_status is not None, ground_truth_only)]
    if task_status is not None:
        params["status"] = task_status
    if review_status is not None:
        params["review_status"] = review_status
    rows = _driver_rows(await conn.execute(query, params))
    if not rows:
        return ExportTaskRows(rows, [], [])
    span = {"project_id": project_id, "first": rows[0][0], "last": rows[-1][0]}
    annotations = _driver_rows(await conn.execute(_ANNOTATIONS, span))
    predictions = _driver_rows(await conn.execute(_PREDICTIONS, span)) if with_predictions else []
    return ExportTaskRows(rows, annotations, predictions)
