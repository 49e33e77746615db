"""Tasks: bulk creation, keyset pages, single-task reads and status changes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.bulk import BulkInsert
from storage.models import Task
from storage.sqlite_cursor import DEFERRED_WRITE

tasks = cast(Table, Task.__table__)

# How many ids go into one IN (...) list: well under every engine's parameter limit.
IN_LIST_CHUNK = 5_000


@dataclass(frozen=True, slots=True)
class TaskRecord:
    task_id: int
    project_id: str
    external_id: str | None
    file_path: str | None
    status: str
    updated_at: datetime


def task_record(row: Any) -> TaskRecord:
    return TaskRecord(
        task_id=row.id,
        project_id=row.project_id,
        external_id=row.external_id,
        file_path=row.file_path,
        status=row.status,
        updated_at=row.updated_at,
    )


TASK_COLUMNS = (
    tasks.c.id,
    tasks.c.project_id,
    tasks.c.external_id,
    tasks.c.file_path,
    tasks.c.status,
    tasks.c.updated_at,
)


TASK_INSERT_COLUMNS = ("position", "content", "external_id", "file_path", "metadata_json")


class TaskInserts:
    """A project's new tasks, written batch by batch in input order (positions 0, 1, …
    across batches). Each batch is written while the caller prepares the next (see
    `storage.bulk.BulkInsert`, whose context-manager rules apply).

    Ids come from the table's sequence in insertion order, so within a project
    id order is input order.
    """

    def __init__(
        self, conn: AsyncConnection, *, project_id: str, status: str, now: datetime
    ) -> None:
        self._bulk = BulkInsert(
            conn,
            tasks,
            columns=TASK_INSERT_COLUMNS,
            constants={
                "project_id": project_id,
                "status": status,
                "updated_at": now,
                "completed_at": None,
            },
        )

    @property
    def count(self) -> int:
        """How many tasks were added (written, once `finish()` returned)."""
        return self._bulk.count

    async def __aenter__(self) -> TaskInserts:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self._bulk.__aexit__(*exc_info)

    async def add(
        self,
        *,
        contents: Sequence[str],
        external_ids: Sequence[str | None],
        file_paths: Sequence[str | None],
        metadata_json: Sequence[str],
    ) -> None:
        """Start writing the next batch (the batch before it is written first)."""
        start = self._bulk.count
        rows: Iterable[tuple[Any, ...]] = zip(
            range(start, start + len(contents)),
            contents,
            external_ids,
            file_paths,
            metadata_json,
            strict=True,
        )
        await self._bulk.add(rows)

    async def finish(self) -> int:
        """Wait for the last batch; how many tasks were written."""
        return await self._bulk.finish()


async def first_positions(
    conn: AsyncConnection, project_id: str, external_ids: Sequence[str]
) -> dict[str, int]:
    """The first position of each of these ids among the project's tasks (ids no task
    has are left out)."""
    found: dict[str, int] = {}
    unique = list(dict.fromkeys(external_ids))
    for start in range(0, len(unique), IN_LIST_CHUNK):
        rows = await conn.execute(
            select(tasks.c.external_id, func.min(tasks.c.position))
            .where(
                tasks.c.project_id == project_id,
                tasks.c.external_id.in_(unique[start : start + IN_LIST_CHUNK]),
            )
            .group_by(tasks.c.external_id)
        )
        found.update({external_id: position for external_id, position in rows})
    return found


async def first_repeated_external_id(
    conn: AsyncConnection, project_id: str
) -> tuple[int, str, int] | None:
    """The project's first task, by position, whose external_id an earlier task has:
    (its position, the id, the earlier task's position); None when the ids are unique,
    which costs one scan of the (project_id, external_id) index."""
    repeated = (
        select(tasks.c.external_id)
        .where(tasks.c.project_id == project_id, tasks.c.external_id.is_not(None))
        .group_by(tasks.c.external_id)
        .having(func.count() > 1)
    )
    if (await conn.execute(repeated.limit(1))).first() is None:
        return None
    rows = await conn.execute(
        select(tasks.c.external_id, tasks.c.position)
        .where(tasks.c.project_id == project_id, tasks.c.external_id.in_(repeated))
        .order_by(tasks.c.position)
    )
    first: dict[str, int] = {}
    for external_id, position in rows:
        if external_id in first:
            return position, external_id, first[external_id]
        first[external_id] = position
    return None


async def list_task_page(
    conn: AsyncConnection,
    project_id: str,
    *,
    after_task_id: int,
    limit: int,
    status: str | None = None,
) -> list[TaskRecord]:
    """Up to limit tasks of the project with id > after_task_id, in id order.

    Keyset pagination over the (project_id, id) / (project_id, status, id)
    indexes: every page costs the same, however deep.
    """
    query = select(*TASK_COLUMNS).where(
        tasks.c.project_id == project_id, tasks.c.id > after_task_id
    )
    if status is not None:
        query = query.where(tasks.c.status == status)
    rows = await conn.execute(query.order_by(tasks.c.id).limit(limit))
    return [task_record(row) for row in rows]


async def get_task(
    conn: AsyncConnection, task_id: int, *, for_update: bool = False
) -> TaskRecord | None:
    query = select(*TASK_COLUMNS).where(tasks.c.id == task_id)
    if for_update:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return task_record(row) if row else None


async def get_project_tasks(
    conn: AsyncConnection, project_id: str, task_ids: Sequence[int]
) -> list[TaskRecord]:
    """The tasks of project_id among task_ids (missing or foreign ids are left out)."""
    found: list[TaskRecord] = []
    for start in range(0, len(task_ids), IN_LIST_CHUNK):
        chunk = task_ids[start : start + IN_LIST_CHUNK]
        rows = await conn.execute(
            select(*TASK_COLUMNS).where(tasks.c.project_id == project_id, tasks.c.id.in_(chunk))
        )
        found.extend(task_record(row) for row in rows)
    return found


async def set_task_status(
    conn: AsyncConnection,
    task_id: int,
    *,
    status: str,
    now: datetime,
    completed: bool,
    answers: int = 0,
    image_size: tuple[int, int] | None = None,
) -> None:
    """Change a task's status; completed_at is set when completed, cleared otherwise.
    answers moves annotation_count (the answers that stand) in the same statement, and
    image_size (width, height) records the image's natural size in it too (the last
    recorded size is kept)."""
    params = {
        "b_task_id": task_id,
        "b_status": status,
        "b_now": now,
        "b_completed_at": now if completed else None,
        "b_answers": answers,
    }
    if image_size is None:
        await conn.execute(_SET_TASK_STATUS, params)
        return
    width, height = image_size
    await conn.execute(
        _SET_TASK_STATUS_AND_SIZE, {**params, "b_image_width": width, "b_image_height": height}
    )


# Built once: a statement built per call costs more CPU than SQLite spends running it.
_SET_TASK_STATUS = (
    update(tasks)
    .where(tasks.c.id == bindparam("b_task_id"))
    .values(
        status=bindparam("b_status"),
        updated_at=bindparam("b_now"),
        completed_at=bindparam("b_completed_at"),
        annotation_count=tasks.c.annotation_count + bindparam("b_answers"),
    )
    .execution_options(**DEFERRED_WRITE)
)
_SET_TASK_STATUS_AND_SIZE = _SET_TASK_STATUS.values(
    image_width=bindparam("b_image_width"), image_height=bindparam("b_image_height")
)
