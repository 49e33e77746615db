"""Migrations are guarded: one head, and the migrated schema equals the models.

Upgrading an empty database and then autogenerating must yield nothing on
either engine; otherwise a model change is missing its migration (or a
migration does something the models do not describe).
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import insert, inspect, select
from sqlalchemy.engine import Connection

from storage.database import create_engine
from storage.migrate import alembic_config, upgrade_to_head_async
from storage.models import Base


@pytest.fixture
def empty_database_url(db_engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A database with no schema at all, on the engine under test."""
    if db_engine == "postgresql":
        return str(request.getfixturevalue("empty_postgres_database_url"))
    return f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"


def schema_differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def test_exactly_one_head() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1, script.get_heads()


async def test_upgraded_empty_database_matches_models(empty_database_url: str) -> None:
    await upgrade_to_head_async(empty_database_url)
    engine = create_engine(empty_database_url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(schema_differences) == []
            tables = await conn.run_sync(table_names)
    finally:
        await engine.dispose()
    assert set(Base.metadata.tables) <= tables


async def test_upgrade_twice_is_a_no_op(empty_database_url: str) -> None:
    await upgrade_to_head_async(empty_database_url)
    await upgrade_to_head_async(empty_database_url)
    engine = create_engine(empty_database_url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(schema_differences) == []
    finally:
        await engine.dispose()


@pytest.mark.slow
async def test_concurrent_upgrades_of_an_empty_database_all_succeed(
    empty_database_url: str,
) -> None:
    """Servers starting together on a fresh database each migrate it at start.

    Separate processes, as in production (Alembic's context is process-global).
    """
    code = "import sys; from storage.migrate import upgrade_to_head; upgrade_to_head(sys.argv[1])"
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", code, empty_database_url, stderr=asyncio.subprocess.PIPE
        )
        for _ in range(3)
    ]
    outcomes = [await asyncio.wait_for(p.communicate(), timeout=90) for p in processes]
    failures = [
        err.decode()[-2000:]
        for p, (_, err) in zip(processes, outcomes, strict=True)
        if p.returncode
    ]
    assert failures == []
    engine = create_engine(empty_database_url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(schema_differences) == []
    finally:
        await engine.dispose()


async def test_tasks_answered_before_overlap_count_their_answers(
    empty_database_url: str,
) -> None:
    """0007 recounts tasks.annotation_count (0 since 0006) from the completed assignments,
    ground-truth ones aside: a task completed before overlap counts its one answer."""
    await asyncio.to_thread(command.upgrade, alembic_config(empty_database_url), "0006")
    now = datetime.now(UTC)
    t = Base.metadata.tables
    engine = create_engine(empty_database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(t["users"]),
                [
                    {"id": user, "username": user, "role": "annotator", "created_at": now}
                    for user in ("ann", "bob")
                ],
            )
            await conn.execute(
                insert(t["projects"]).values(
                    id="p",
                    name="before overlap",
                    task_type="text_classification",
                    status="in_progress",
                    label_config="<View/>",
                    owner_id="ann",
                    created_at=now,
                    updated_at=now,
                )
            )
            await conn.execute(
                insert(t["tasks"]),
                [
                    {
                        "id": number,
                        "project_id": "p",
                        "position": number,
                        "content": f"t{number}",
                        "status": status,
                        "updated_at": now,
                    }
                    for number, status in ((1, "completed"), (2, "in_progress"), (3, "pending"))
                ],
            )
            await conn.execute(
                insert(t["assignments"]),
                [
                    {
                        "task_id": task_id,
                        "project_id": "p",
                        "user_id": user,
                        "status": status,
                        "is_ground_truth": ground_truth,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for task_id, user, status, ground_truth in (
                        (1, "ann", "completed", False),
                        (2, "ann", "in_progress", False),
                        (2, "bob", "completed", True),
                    )
                ],
            )
        await upgrade_to_head_async(empty_database_url)
        async with engine.connect() as conn:
            counted = dict(
                (await conn.execute(select(t["tasks"].c.id, t["tasks"].c.annotation_count))).all()
            )
    finally:
        await engine.dispose()
    assert counted == {1: 1, 2: 0, 3: 0}
