"""Predictions: the lookups an import matches its tasks with, and its writes.

Every lookup is done in bulk (IN-lists in chunks, or one streamed scan of the
project) so that an import of 100,000 entries costs a few dozen queries, not
100,000. Rows are inserted in chunks of INSERT_CHUNK through executemany.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import AuditLog, Label, Prediction, Project, Task

_projects = Project.__table__
_labels = Label.__table__
_tasks = Task.__table__
_predictions = Prediction.__table__
_audit = AuditLog.__table__

SOURCE_EXTERNAL_IMPORT = "external_import"
SOURCE_ML_BACKEND = "ml_backend"

# Bound parameters per IN-list: far below SQLite's 32,766 and asyncpg's 32,767.
IN_CHUNK = 5_000
INSERT_CHUNK = 10_000
SCAN_BATCH = 10_000


@dataclass(frozen=True, slots=True)
class PredictionTarget:
    """What an import needs to know about its project."""

    project_id: str
    owner_id: str
    task_type: str
    labels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TaskRef:
    """A task an import entry may point at."""

    task_id: int
    project_id: str
    metadata_json: str


@dataclass(frozen=True, slots=True)
class NewPrediction:
    """One prediction row to write."""

    task_id: int
    model_version: str | None
    score: float | None
    result_json: str


def _chunks(values: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


async def get_prediction_target(conn: AsyncConnection, project_id: str) -> PredictionTarget | None:
    """The project with its label names in order, or None."""
    row = (
        await conn.execute(
            select(_projects.c.id, _projects.c.owner_id, _projects.c.task_type).where(
                _projects.c.id == project_id
            )
        )
    ).first()
    if row is None:
        return None
    labels = await conn.execute(
        select(_labels.c.name)
        .where(_labels.c.project_id == project_id)
        .order_by(_labels.c.position, _labels.c.id)
    )
    return PredictionTarget(
        project_id=row.id,
        owner_id=row.owner_id,
        task_type=row.task_type,
        labels=tuple(labels.scalars()),
    )


def _task_ref_columns() -> Any:
    return select(_tasks.c.id, _tasks.c.project_id, _tasks.c.metadata_json)


async def find_tasks_by_ids(conn: AsyncConnection, task_ids: Collection[int]) -> dict[int, TaskRef]:
    """Tasks of any project by id (display_id is global)."""
    found: dict[int, TaskRef] = {}
    for chunk in _chunks(sorted(set(task_ids)), IN_CHUNK):
        rows = await conn.execute(_task_ref_columns().where(_tasks.c.id.in_(chunk)))
        for row in rows:
            found[row.id] = TaskRef(row.id, row.project_id, row.metadata_json)
    return found


async def find_tasks_by_file_paths(
    conn: AsyncConnection, project_id: str, file_paths: Collection[str]
) -> dict[str, TaskRef]:
    """Tasks of the project whose file_path is exactly one of file_paths; the first in
    project order wins when several share one."""
    return await _find_first_by(conn, project_id, _tasks.c.file_path, file_paths)


async def find_tasks_by_external_ids(
    conn: AsyncConnection, project_id: str, external_ids: Collection[str]
) -> dict[str, TaskRef]:
    """Tasks of the project by external_id; the first in project order wins."""
    return await _find_first_by(conn, project_id, _tasks.c.external_id, external_ids)


async def _find_first_by(
    conn: AsyncConnection, project_id: str, column: Any, values: Collection[str]
) -> dict[str, TaskRef]:
    found: dict[str, tuple[int, int, TaskRef]] = {}
    for chunk in _chunks(sorted(set(values)), IN_CHUNK):
        rows = await conn.execute(
            select(
                column.label("value"), _tasks.c.position, *_task_ref_columns().selected_columns
            ).where(_tasks.c.project_id == project_id, column.in_(chunk))
        )
        for row in rows:
            order = (row.position, row.id)
            known = found.get(row.value)
            if known is None or order < known[:2]:
                found[row.value] = (*order, TaskRef(row.id, row.project_id, row.metadata_json))
    return {value: known[2] for value, known in found.items()}


async def iter_task_file_paths(
    conn: AsyncConnection, project_id: str
) -> AsyncIterator[tuple[int, str]]:
    """(task id, file_path) of every task of the project that has one, in project order.

    Streamed in batches, so that memory does not grow with the project.
    """
    result = await conn.stream(
        select(_tasks.c.id, _tasks.c.file_path)
        .where(_tasks.c.project_id == project_id, _tasks.c.file_path.is_not(None))
        .order_by(_tasks.c.position, _tasks.c.id)
        .execution_options(yield_per=SCAN_BATCH)
    )
    async for partition in result.partitions():
        for row in partition:
            yield row.id, row.file_path


async def delete_imported_predictions(conn: AsyncConnection, task_ids: Collection[int]) -> int:
    """Delete the external_import predictions of these tasks (other sources stay)."""
    deleted = 0
    for chunk in _chunks(sorted(set(task_ids)), IN_CHUNK):
        result = await conn.execute(
            delete(_predictions).where(
                _predictions.c.source == SOURCE_EXTERNAL_IMPORT, _predictions.c.task_id.in_(chunk)
            )
        )
        deleted += int(result.rowcount)
    return deleted


async def insert_predictions(
    conn: AsyncConnection,
    *,
    project_id: str,
    source: str,
    predictions: Sequence[NewPrediction],
    created_at: datetime,
    ml_backend_id: int | None = None,
) -> int:
    """Write prediction rows in chunks; the one write path of every prediction source."""
    statement = insert(_predictions)
    for chunk in _chunks(predictions, INSERT_CHUNK):
        await conn.execute(
            statement,
            [
                {
                    "task_id": prediction.task_id,
                    "project_id": project_id,
                    "source": source,
                    "model_version": prediction.model_version,
                    "score": prediction.score,
                    "result_json": prediction.result_json,
                    "ml_backend_id": ml_backend_id,
                    "created_at": created_at,
                }
                for prediction in chunk
            ],
        )
    return len(predictions)


async def insert_audit_entry(
    conn: AsyncConnection,
    *,
    actor_id: str,
    action: str,
    project_id: str,
    detail: dict[str, Any],
    created_at: datetime,
) -> None:
    await conn.execute(
        insert(_audit).values(
            actor_id=actor_id,
            action=action,
            project_id=project_id,
            detail_json=orjson.dumps(detail).decode("utf-8"),
            created_at=created_at,
        )
    )
