"""What an export reads: a project's labels and its tasks in keyset batches.

`read_export_task_rows` reads one batch, `limit` tasks in id order after a
task id, with the annotations and predictions of exactly those tasks, in the
caller's (short, read-only) transaction; `assemble_export_tasks` turns the
rows into records. The export pipeline (`server/exports/batches.py`) reads one
batch per transaction, so an export holds a few batches in memory whatever the
size of the project. The annotations and predictions are fetched by task-id
range on the (project_id, task_id) indexes, which avoids long `IN (...)` lists.

This is the hottest read path of the service (a million tasks per export), so
it avoids per-value work that SQLAlchemy would otherwise do for every row:
the statements are built once with bind parameters (compiled once per
dialect), timestamps are selected without their column type and converted
once here, and stored JSON stays text until a format needs it parsed (the
json format embeds it as it is).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import orjson
from sqlalchemy import ColumnElement, Select, String, Table, bindparam, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncConnection

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


def _parse_list(text: str | None) -> list[Any]:
    value = orjson.loads(text) if text else []
    return value if isinstance(value, list) else []


@dataclass(slots=True)
class ExportAnnotation:
    """One submitted annotation of a task."""

    annotation_id: int
    annotator: str
    created_at: datetime
    updated_at: datetime
    # the Label Studio result as stored: a JSON array, as text.
    result_json: str
    # the prediction the result started from, and the annotator's working time.
    parent_prediction_id: int | None = None
    lead_time_seconds: float | None = None
    _result: list[Any] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def result(self) -> list[Any]:
        """The parsed result (parsed once, on first use)."""
        if self._result is None:
            self._result = _parse_list(self.result_json)
        return self._result


@dataclass(slots=True)
class ExportPrediction:
    """One model prediction of a task."""

    prediction_id: int
    source: str
    model_version: str | None
    score: float | None
    # the Label Studio result as stored: a JSON array, as text.
    result_json: str
    created_at: datetime

    @property
    def result(self) -> list[Any]:
        return _parse_list(self.result_json)


@dataclass(frozen=True, slots=True)
class ExportProject:
    """The parts of a project an export needs."""

    project_id: str
    name: str
    task_type: str
    owner_id: str
    labels: tuple[str, ...]


@dataclass(slots=True)
class ExportTask:
    """A task with everything any export format writes about it."""

    task_id: int
    external_id: str | None
    content: str
    file_path: str | None
    # the task's metadata as stored: a JSON object, as text.
    metadata_json: str
    status: str
    completed_at: datetime | None
    annotations: list[ExportAnnotation] = field(default_factory=list)
    predictions: list[ExportPrediction] = field(default_factory=list)
    _metadata: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def metadata(self) -> dict[str, Any]:
        """The parsed metadata (parsed once, on first use: most formats never need it)."""
        if self._metadata is None:
            self._metadata = _json_object(self.metadata_json)
        return self._metadata

    @property
    def latest_annotation(self) -> ExportAnnotation | None:
        """The latest submitted or updated annotation (by updated_at, then id)."""
        if not self.annotations:
            return None
        return max(self.annotations, key=lambda a: (a.updated_at, a.annotation_id))


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
    text on SQLite, a naive datetime on PostgreSQL; see `_utc`."""
    return type_coerce(column, String()).label(column.key)


_from_iso = datetime.fromisoformat


def _utc(value: str | datetime | None) -> datetime | None:
    """An aware UTC datetime from a raw UTCDateTime value (stored as naive UTC).

    Parsing text with its offset appended is several times faster than
    parsing it and then replacing the zone (this runs ~3 times per task).
    """
    if value is None:
        return None
    if type(value) is str:
        return _from_iso(value + "+00:00")
    return cast(datetime, value).replace(tzinfo=UTC)


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


@dataclass(frozen=True, slots=True)
class ExportTaskRows:
    """The raw rows of one batch: tasks, their annotations and predictions
    (tuples in the statements' column order)."""

    tasks: Sequence[Any]
    annotations: Sequence[Any]
    predictions: Sequence[Any]

    @property
    def last_task_id(self) -> int | None:
        return self.tasks[-1][0] if self.tasks else None


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
    rows = (await conn.execute(query, params)).all()
    if not rows:
        return ExportTaskRows(rows, [], [])
    span = {"project_id": project_id, "first": rows[0][0], "last": rows[-1][0]}
    annotations = (await conn.execute(_ANNOTATIONS, span)).all()
    predictions = (await conn.execute(_PREDICTIONS, span)).all() if with_predictions else []
    return ExportTaskRows(rows, annotations, predictions)


def assemble_export_tasks(rows: ExportTaskRows) -> list[ExportTask]:
    """Build a batch's records from its raw rows (CPU only: run it in a worker thread)."""
    return _assemble(rows.tasks, rows.annotations, rows.predictions)


def _assemble(
    rows: Sequence[Any], annotations: Sequence[Any], predictions: Sequence[Any]
) -> list[ExportTask]:
    """Build the batch's records from raw rows (tuples in the statements' column order)."""
    batch = [
        ExportTask(
            task_id,
            external_id,
            content,
            file_path,
            metadata_json,
            status,
            _utc(completed_at),
            [],
            [],
        )
        for task_id, external_id, content, file_path, metadata_json, status, completed_at in rows
    ]
    by_id = {task.task_id: task for task in batch}
    for (
        task_id,
        annotation_id,
        username,
        created_at,
        updated_at,
        result_json,
        parent_prediction_id,
        lead_time_seconds,
    ) in annotations:
        task = by_id.get(task_id)
        if task is not None:  # a task of the range not in the status asked for
            task.annotations.append(
                ExportAnnotation(
                    annotation_id,
                    username,
                    _utc(created_at),  # type: ignore[arg-type]
                    _utc(updated_at),  # type: ignore[arg-type]
                    result_json,
                    parent_prediction_id,
                    lead_time_seconds,
                )
            )
    for (
        task_id,
        prediction_id,
        source,
        model_version,
        score,
        result_json,
        created_at,
    ) in predictions:
        task = by_id.get(task_id)
        if task is not None:
            task.predictions.append(
                ExportPrediction(
                    prediction_id,
                    source,
                    model_version,
                    score,
                    result_json,
                    _utc(created_at),  # type: ignore[arg-type]
                )
            )
    return batch


def _json_object(text: str | None) -> dict[str, Any]:
    if not text or text == "{}":
        return {}
    value = orjson.loads(text)
    return value if isinstance(value, dict) else {}
