"""storage.bulk on both engines (COPY on PostgreSQL; on SQLite one json_each statement per
chunk, executemany for small chunks and for values JSON does not carry exactly)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select

from annotation_api.errors import DomainError, ErrorCode
from storage.bulk import JSON_MIN_ROWS, BulkInsert, insert_many
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


# Text JSON must escape or that SQLite's JSON functions must unescape exactly.
AWKWARD_TEXTS = [
    'quote " backslash \\ slash /',
    "tab\tnew\nline\r",
    "\u0001\u001f\u007f",
    "😀 é 中",
    "",
]


def awkward_rows(count: int) -> list[tuple[object, ...]]:
    return [
        (
            i,
            f"{AWKWARD_TEXTS[i % len(AWKWARD_TEXTS)]} {i}",
            None if i % 3 else f"ext-{i}",
            None,
            '{"k": "v\\"q"}',
        )
        for i in range(count)
    ]


async def stored_rows(database: Database, project_id: str) -> list[tuple[object, ...]]:
    async with database.read() as conn:
        stored = await conn.execute(
            select(
                tasks.c.position,
                tasks.c.content,
                tasks.c.external_id,
                tasks.c.file_path,
                tasks.c.metadata_json,
            )
            .where(tasks.c.project_id == project_id)
            .order_by(tasks.c.id)
        )
        return [tuple(row) for row in stored]


async def test_large_chunks_store_every_value_exactly_in_order(database: Database) -> None:
    """Chunks large enough for the JSON statement on SQLite: texts JSON escapes, NULLs,
    integers, and the order of rows across chunks come back as given."""
    project_id = await make_project(database)
    written = awkward_rows(3 * JSON_MIN_ROWS + 5)
    async with database.transaction() as conn:
        count = await insert_many(
            conn,
            tasks,
            columns=COLUMNS,
            rows=written,
            constants=constants(project_id),
            chunk_size=JSON_MIN_ROWS * 2,
        )
    assert count == len(written)
    assert await stored_rows(database, project_id) == written


async def test_a_chunk_json_cannot_carry_is_stored_all_the_same(
    database: Database, db_engine: str
) -> None:
    """U+0000 ends a string in SQLite's JSON functions: such a chunk goes through
    executemany and keeps the character (PostgreSQL refuses it in text at all)."""
    if db_engine != "sqlite":
        pytest.skip("PostgreSQL cannot store U+0000 in text")
    project_id = await make_project(database)
    written = awkward_rows(JSON_MIN_ROWS)
    written[7] = (7, "before\x00after", None, None, "{}")
    async with database.transaction() as conn:
        await insert_many(
            conn, tasks, columns=COLUMNS, rows=written, constants=constants(project_id)
        )
    assert await stored_rows(database, project_id) == written


async def test_batches_added_one_after_another_are_all_written(database: Database) -> None:
    """Each add() returns while its chunk is still being written; finish() waits for it."""
    project_id = await make_project(database)
    written = awkward_rows(5 * JSON_MIN_ROWS)
    async with database.transaction() as conn:
        async with BulkInsert(
            conn, tasks, columns=COLUMNS, constants=constants(project_id), chunk_size=JSON_MIN_ROWS
        ) as bulk:
            for start in range(0, len(written), 2 * JSON_MIN_ROWS):
                await bulk.add(written[start : start + 2 * JSON_MIN_ROWS])
        assert bulk.count == len(written)
    assert await stored_rows(database, project_id) == written


async def test_an_error_in_the_block_waits_for_the_chunk_in_flight(database: Database) -> None:
    """The block's own error is the one raised; nothing of the transaction remains."""
    project_id = await make_project(database)
    with pytest.raises(RuntimeError, match="while writing"):
        async with (
            database.transaction() as conn,
            BulkInsert(conn, tasks, columns=COLUMNS, constants=constants(project_id)) as bulk,
        ):
            await bulk.add(awkward_rows(2 * JSON_MIN_ROWS))
            raise RuntimeError("an error while writing")
    assert await stored_rows(database, project_id) == []


async def test_a_driver_error_of_a_large_chunk_becomes_a_domain_error(database: Database) -> None:
    with pytest.raises(DomainError) as caught:
        async with database.transaction() as conn:
            await insert_many(
                conn,
                tasks,
                columns=COLUMNS,
                rows=awkward_rows(2 * JSON_MIN_ROWS),
                constants=constants("proj_missing"),
            )
    assert caught.value.code == ErrorCode.INTERNAL_ERROR


async def test_a_column_null_in_a_whole_chunk_is_stored_as_null(database: Database) -> None:
    """Chunks whose ids are all NULL and chunks with ids, one after another."""
    project_id = await make_project(database)
    written = [
        (i, f"text {i}", f"ext-{i}" if i >= JSON_MIN_ROWS else None, None, "{}")
        for i in range(2 * JSON_MIN_ROWS)
    ]
    async with database.transaction() as conn:
        await insert_many(
            conn,
            tasks,
            columns=COLUMNS,
            rows=written,
            constants=constants(project_id),
            chunk_size=JSON_MIN_ROWS,
        )
    assert await stored_rows(database, project_id) == written
