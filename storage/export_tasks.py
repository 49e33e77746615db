"""What an export reads: a project's labels and its tasks in keyset batches.

Each batch is read in its own short transaction, `batch_size` tasks at a time
in id order, with the annotations and predictions of exactly those tasks, so
an export holds one batch in memory whatever the size of the project. The
annotations and predictions are fetched by task-id range on the
(project_id, task_id) indexes, which avoids long `IN (...)` lists.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import orjson
from sqlalchemy import Table, select

from storage.database import Database
from storage.models import Annotation, Label, Prediction, Project, Task, User

DEFAULT_BATCH_SIZE = 2000

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


@dataclass(frozen=True, slots=True)
class ExportAnnotation:
    """One submitted annotation of a task."""

    annotation_id: int
    annotator: str
    created_at: datetime
    updated_at: datetime
    result: list[Any]


@dataclass(frozen=True, slots=True)
class ExportPrediction:
    """One model prediction of a task."""

    prediction_id: int
    source: str
    model_version: str | None
    score: float | None
    result: list[Any]
    created_at: datetime


@dataclass(slots=True)
class ExportTask:
    """A task with everything any export format writes about it."""

    task_id: int
    external_id: str | None
    content: str
    file_path: str | None
    metadata: dict[str, Any]
    status: str
    completed_at: datetime | None
    annotations: list[ExportAnnotation] = field(default_factory=list)
    predictions: list[ExportPrediction] = field(default_factory=list)

    @property
    def display_id(self) -> str:
        return f"T-{self.task_id}"

    @property
    def latest_annotation(self) -> ExportAnnotation | None:
        """The latest submitted annotation (annotations are kept in id order)."""
        return self.annotations[-1] if self.annotations else None


async def load_export_project(db: Database, project_id: str) -> ExportProject | None:
    """The project with its label names in label order, or None."""
    async with db.read() as conn:
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


async def iter_export_task_batches(
    db: Database,
    project_id: str,
    *,
    completed_only: bool,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> AsyncIterator[list[ExportTask]]:
    """Yield the project's tasks in id order, `batch_size` at a time."""
    after_id = 0
    while True:
        async with db.read() as conn:
            query = (
                select(
                    _tasks.c.id,
                    _tasks.c.external_id,
                    _tasks.c.content,
                    _tasks.c.file_path,
                    _tasks.c.metadata_json,
                    _tasks.c.status,
                    _tasks.c.completed_at,
                )
                .where(_tasks.c.project_id == project_id, _tasks.c.id > after_id)
                .order_by(_tasks.c.id)
                .limit(batch_size)
            )
            if completed_only:
                query = query.where(_tasks.c.status == "completed")
            rows = (await conn.execute(query)).all()
            if not rows:
                return
            batch = [
                ExportTask(
                    task_id=row.id,
                    external_id=row.external_id,
                    content=row.content,
                    file_path=row.file_path,
                    metadata=_json_object(row.metadata_json),
                    status=row.status,
                    completed_at=row.completed_at,
                )
                for row in rows
            ]
            await _attach_children(conn, project_id, batch)
        yield batch
        after_id = batch[-1].task_id
        if len(rows) < batch_size:
            return


async def _attach_children(conn: Any, project_id: str, batch: list[ExportTask]) -> None:
    by_id = {task.task_id: task for task in batch}
    first, last = batch[0].task_id, batch[-1].task_id
    annotations = await conn.execute(
        select(
            _annotations.c.id,
            _annotations.c.task_id,
            _annotations.c.result_json,
            _annotations.c.created_at,
            _annotations.c.updated_at,
            _users.c.username,
        )
        .join(_users, _users.c.id == _annotations.c.user_id)
        .where(
            _annotations.c.project_id == project_id,
            _annotations.c.task_id >= first,
            _annotations.c.task_id <= last,
        )
        .order_by(_annotations.c.task_id, _annotations.c.id)
    )
    for row in annotations:
        task = by_id.get(row.task_id)
        if task is not None:
            task.annotations.append(
                ExportAnnotation(
                    annotation_id=row.id,
                    annotator=row.username,
                    created_at=row.created_at,
                    updated_at=row.updated_at,
                    result=_json_list(row.result_json),
                )
            )
    predictions = await conn.execute(
        select(
            _predictions.c.id,
            _predictions.c.task_id,
            _predictions.c.source,
            _predictions.c.model_version,
            _predictions.c.score,
            _predictions.c.result_json,
            _predictions.c.created_at,
        )
        .where(
            _predictions.c.project_id == project_id,
            _predictions.c.task_id >= first,
            _predictions.c.task_id <= last,
        )
        .order_by(_predictions.c.task_id, _predictions.c.id)
    )
    for row in predictions:
        task = by_id.get(row.task_id)
        if task is not None:
            task.predictions.append(
                ExportPrediction(
                    prediction_id=row.id,
                    source=row.source,
                    model_version=row.model_version,
                    score=row.score,
                    result=_json_list(row.result_json),
                    created_at=row.created_at,
                )
            )


def _json_object(text: str | None) -> dict[str, Any]:
    value = orjson.loads(text) if text else {}
    return value if isinstance(value, dict) else {}


def _json_list(text: str | None) -> list[Any]:
    value = orjson.loads(text) if text else []
    return value if isinstance(value, list) else []
