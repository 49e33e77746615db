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

from sqlalchemy import ColumnElement, Select, String, Table, bindparam, select, type_coerce
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.export_records import ExportTaskRows
from storage.models import Annotation, Label, Prediction, Project, Task, User

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


@dataclass(frozen=True, slots=True)
class ExportProject:
    """The parts of a project an export needs."""

    project_id: str
    name: str
    task_type: str
    owner_id: str
    labels: tuple[str, ...]


async def load_export_project(conn: AsyncConnection, *, project_id: str) -> ExportProject | None:
    """The project with its label names in label order, or None."""
    row = (
        await conn.execute(
            select(
                _projects.c.id, _projects.c.name, _projects.c.task_type, _projects.c.owner_id
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
    )


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


def _task_query(*, by_status: bool) -> Select[Any]:
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
        )
        .where(_tasks.c.project_id == bindparam("project_id"), _tasks.c.id > bindparam("after"))
        .order_by(_tasks.c.id)
        .limit(bindparam("limit"))
    )
    return query.where(_tasks.c.status == bindparam("status")) if by_status else query


_TASKS = _task_query(by_status=False)
_TASKS_IN_STATUS = _task_query(by_status=True)
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
    )
    .join(_users, _users.c.id == _annotations.c.user_id)
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
) -> ExportTaskRows:
    """Up to `limit` tasks after `after_id` in id order (only those in
    `task_status` unless it is None), with their annotations (and predictions
    when `with_predictions`)."""
    params: dict[str, object] = {"project_id": project_id, "after": after_id, "limit": limit}
    query = _TASKS
    if task_status is not None:
        query = _TASKS_IN_STATUS
        params["status"] = task_status
    rows = _driver_rows(await conn.execute(query, params))
    if not rows:
        return ExportTaskRows(rows, [], [])
    span = {"project_id": project_id, "first": rows[0][0], "last": rows[-1][0]}
    annotations = _driver_rows(await conn.execute(_ANNOTATIONS, span))
    predictions = _driver_rows(await conn.execute(_PREDICTIONS, span)) if with_predictions else []
    return ExportTaskRows(rows, annotations, predictions)
