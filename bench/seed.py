"""Annotated projects written straight into the database, before the measured
server starts.

Submitting a million annotations one RPC at a time would take far longer than
the export being measured, so export projects are written with the storage
layer's own bulk path (`storage.bulk.insert_many`, the path InitProject uses):
a completed object_detection project, its labels, its tasks (status
completed) and one annotation per task, with the project's counters set as
the workflow would have left them. The same code works on SQLite and
PostgreSQL. Batches of 100,000 tasks go in one transaction each.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, select

from bench.datasets import (
    EXPORT_LABELS,
    EXPORT_METADATA_JSON,
    annotation_result,
    image_url,
    second_annotation_result,
)
from storage.bulk import insert_many
from storage.database import Database
from storage.ids import new_project_id
from storage.models import Annotation, Task
from storage.projects import (
    LabelRecord,
    add_to_task_counters,
    insert_project,
    set_project_fields,
)
from storage.types import utcnow
from storage.users import insert_user

SEED_BATCH = 100_000
_tasks = cast(Table, Task.__table__)
_annotations = cast(Table, Annotation.__table__)


async def create_annotator(database: Database, username: str) -> str:
    async with database.transaction() as conn:
        return (await insert_user(conn, username=username, role="annotator")).user_id


async def seed_annotated_project(
    database: Database,
    *,
    owner_id: str,
    annotator_id: str,
    count: int,
    second_annotator_id: str | None = None,
) -> str:
    """A completed object_detection project of `count` annotated tasks; its id.
    With `second_annotator_id`, each task also has that annotator's answer (the
    same boxes shifted a little, and one more), as with overlap 2."""
    project_id = new_project_id()
    now = utcnow()
    async with database.transaction() as conn:
        await insert_project(
            conn,
            project_id=project_id,
            name=f"bench export {count}",
            description="",
            task_type="object_detection",
            status="draft",
            external_id=None,
            label_config="<View/>",
            owner_id=owner_id,
            project_labels=[LabelRecord(name, "#3366ff") for name in EXPORT_LABELS],
            now=now,
        )
    after = 0
    for first in range(0, count, SEED_BATCH):
        size = min(SEED_BATCH, count - first)
        async with database.transaction() as conn:
            await insert_many(
                conn,
                _tasks,
                columns=("position", "external_id", "content", "file_path", "metadata_json"),
                rows=(
                    (i, f"ext-{i}", image_url(i), image_url(i), EXPORT_METADATA_JSON)
                    for i in range(first, first + size)
                ),
                constants={
                    "project_id": project_id,
                    "status": "completed",
                    "updated_at": now,
                    "completed_at": now,
                },
            )
            ids = list(
                (
                    await conn.execute(
                        select(_tasks.c.id)
                        .where(_tasks.c.project_id == project_id, _tasks.c.id > after)
                        .order_by(_tasks.c.id)
                    )
                ).scalars()
            )
            await insert_many(
                conn,
                _annotations,
                columns=("task_id", "result_json"),
                rows=((task_id, annotation_result(first + i)) for i, task_id in enumerate(ids)),
                constants={
                    "project_id": project_id,
                    "user_id": annotator_id,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            if second_annotator_id is not None:
                await insert_many(
                    conn,
                    _annotations,
                    columns=("task_id", "result_json"),
                    rows=(
                        (task_id, second_annotation_result(first + i))
                        for i, task_id in enumerate(ids)
                    ),
                    constants={
                        "project_id": project_id,
                        "user_id": second_annotator_id,
                        "created_at": now,
                        "updated_at": now,
                    },
                )
            after = ids[-1]
    async with database.transaction() as conn:
        await add_to_task_counters(conn, project_id, now=now, total=count, completed=count)
        await set_project_fields(conn, project_id, now=now, status="completed")
    return project_id
