"""Writes built with DEFERRED_WRITE (storage.sqlite_cursor): on SQLite they wait for the
transaction's next trip to the connection's thread; on both engines a transaction
behaves exactly as if each had run at once."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from annotation_api.errors import DomainError, ErrorCode
from storage.database import Database
from storage.models import Project
from storage.projects import add_to_task_counters, get_project, set_project_fields
from storage.sqlite_cursor import DEFERRED_WRITE, LAST_STATEMENT
from storage.types import utcnow
from tests.storage.test_bulk import make_project

projects = Project.__table__


async def test_a_read_sees_the_writes_deferred_before_it(database: Database) -> None:
    project_id = await make_project(database)
    async with database.transaction() as conn:
        await add_to_task_counters(conn, project_id, now=utcnow(), total=3, in_progress=1)
        await set_project_fields(conn, project_id, status="ready")
        seen = await get_project(conn, project_id)
        assert seen is not None
        assert (seen.total_tasks, seen.in_progress_tasks, seen.status) == (3, 1, "ready")
    async with database.read() as conn:
        stored = await get_project(conn, project_id)
    assert stored is not None
    assert (stored.total_tasks, stored.in_progress_tasks, stored.status) == (3, 1, "ready")


async def test_a_failing_deferred_write_rolls_its_whole_transaction_back(
    database: Database,
) -> None:
    project_id = await make_project(database)
    with pytest.raises(DomainError) as caught:
        async with database.transaction() as conn:
            await add_to_task_counters(conn, project_id, now=utcnow(), total=5)
            # breaks the foreign key to users: fails at COMMIT (SQLite), or at once
            await conn.execute(
                update(projects)
                .where(projects.c.id == project_id)
                .values(owner_id="no-such-user")
                .execution_options(**DEFERRED_WRITE)
            )
    assert caught.value.code == ErrorCode.INTERNAL_ERROR
    async with database.read() as conn:
        stored = await get_project(conn, project_id)
    assert stored is not None
    assert (stored.total_tasks, stored.owner_id) == (0, "user_1")
    # the connections are usable afterwards: the next transaction writes
    async with database.transaction() as conn:
        await add_to_task_counters(conn, project_id, now=utcnow(), total=2)
    async with database.read() as conn:
        stored = await get_project(conn, project_id)
    assert stored is not None and stored.total_tasks == 2


async def test_a_transaction_of_deferred_writes_alone_commits_them(database: Database) -> None:
    project_id = await make_project(database)
    for _ in range(3):
        async with database.transaction() as conn:
            await add_to_task_counters(conn, project_id, now=utcnow(), completed=1)
    async with database.read() as conn:
        stored = await get_project(conn, project_id)
    assert stored is not None and stored.completed_tasks == 3


async def test_the_last_statement_commits_its_transaction(database: Database) -> None:
    project_id = await make_project(database)
    async with database.transaction() as conn:
        await add_to_task_counters(conn, project_id, now=utcnow(), total=4)
        row = (
            await conn.execute(
                select(projects.c.total_tasks).where(projects.c.id == project_id),
                execution_options=LAST_STATEMENT,
            )
        ).one()
    assert row.total_tasks == 4
    async with database.read() as conn:
        stored = await get_project(conn, project_id)
    assert stored is not None and stored.total_tasks == 4
    if not database.one_hop_cursor:
        return  # the option only changes how the one-hop cursor's COMMIT travels
    with pytest.raises(RuntimeError, match="LAST_STATEMENT"):
        async with database.transaction() as conn:
            await conn.execute(select(1), execution_options=LAST_STATEMENT)
            await add_to_task_counters(conn, project_id, now=utcnow(), total=1)
    async with database.read() as conn:
        stored = await get_project(conn, project_id)
    assert stored is not None and stored.total_tasks == 4
