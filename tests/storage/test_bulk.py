"""storage.bulk.insert_many on both engines (COPY on PostgreSQL, executemany on SQLite)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select

from annotation_api.errors import DomainError, ErrorCode
from storage.bulk import insert_many
from storage.database import Database
from storage.models import Project, Task, User
from storage.types import utcnow

tasks = Task.__table__
COLUMNS = ("position", "content", "external_id", "file_path", "metadata_json")


async def make_project(database: Database) -> str:
    now = utcnow()
    async with database.transaction() as conn:
        await conn.execute(
            insert(User.__table__).values(id="user_1", username="u", role="admin", created_at=now)
        )
        await conn.execute(
            insert(Project.__table__).values(
                id="proj_1",
                name="bulk",
                description="",
                task_type="text_classification",
                status="draft",
                label_config="<View/>",
                owner_id="user_1",
                total_tasks=0,
                completed_tasks=0,
                in_progress_tasks=0,
                created_at=now,
                updated_at=now,
            )
        )
    return "proj_1"


def rows(count: int) -> list[tuple[object, ...]]:
    return [(i, f"文本 {i}", f"ext-{i}" if i % 2 else None, None, "{}") for i in range(count)]


def constants(project_id: str) -> dict[str, object]:
    return {"project_id": project_id, "status": "pending", "updated_at": utcnow()}


async def test_rows_are_written_in_input_order_across_chunks(database: Database) -> None:
    project_id = await make_project(database)
    async with database.transaction() as conn:
        written = await insert_many(
            conn,
            tasks,
            columns=COLUMNS,
            rows=rows(25),
            constants=constants(project_id),
            chunk_size=10,
        )
    assert written == 25
    async with database.read() as conn:
        stored = (
            await conn.execute(
                select(tasks.c.position, tasks.c.content, tasks.c.external_id, tasks.c.status)
                .where(tasks.c.project_id == project_id)
                .order_by(tasks.c.id)
            )
        ).all()
    assert [tuple(row) for row in stored] == [
        (i, f"文本 {i}", f"ext-{i}" if i % 2 else None, "pending") for i in range(25)
    ]


async def test_bulk_rows_roll_back_with_their_transaction(database: Database) -> None:
    project_id = await make_project(database)
    with pytest.raises(RuntimeError):
        async with database.transaction() as conn:
            await insert_many(
                conn, tasks, columns=COLUMNS, rows=rows(5), constants=constants(project_id)
            )
            raise RuntimeError("fail after the rows were written")
    async with database.read() as conn:
        count = (await conn.execute(select(func.count()).select_from(tasks))).scalar_one()
    assert count == 0


async def test_a_driver_error_becomes_a_domain_error(database: Database) -> None:
    """An unknown project id violates the foreign key: translated, not leaked."""
    with pytest.raises(DomainError) as caught:
        async with database.transaction() as conn:
            await insert_many(
                conn, tasks, columns=COLUMNS, rows=rows(3), constants=constants("proj_missing")
            )
    assert caught.value.code == ErrorCode.INTERNAL_ERROR


async def test_no_rows_write_nothing(database: Database) -> None:
    project_id = await make_project(database)
    async with database.transaction() as conn:
        assert (
            await insert_many(
                conn, tasks, columns=COLUMNS, rows=[], constants=constants(project_id)
            )
            == 0
        )
