"""Both task sources of the matcher (bulk queries, one pass over the project) agree."""

from __future__ import annotations

import math

import pytest

import storage.predictions
from server.predictions.aap import parse_task_match
from server.predictions.entries import Entry, TaskKey
from server.predictions.matching import match_entries
from storage.database import Database
from tests.helpers import TestUser
from tests.predictions.support import seed_project

TASKS = [
    {"content": "https://cdn.example.com/train/a.jpg?sig=1", "external_id": "dup"},
    {"content": "https://cdn.example.com/val/a.jpg", "external_id": "dup"},
    {"content": "https://cdn.example.com/val/b.jpg", "external_id": "e2"},
    {"content": "local\\windows\\c%20d.jpg", "external_id": "e3"},
    {"content": "https://cdn.example.com/val/b.jpg", "external_id": "e4"},
]

# (task_match, index of the expected task in TASKS, or None)
CASES: list[tuple[dict[str, str], int | None]] = [
    ({"file_path": "https://cdn.example.com/val/b.jpg"}, 2),
    ({"file_path": "a.jpg"}, 0),
    ({"file_path": "val/a.jpg"}, 1),
    ({"file_path": "./val/a.jpg"}, 1),
    ({"file_path": "windows/c d.jpg"}, 3),
    ({"file_path": "train/b.jpg"}, None),
    ({"external_id": "dup"}, 0),
    ({"external_id": "e4"}, 4),
    ({"external_id": "nope"}, None),
    ({"file_path": "nope.jpg", "external_id": "e3"}, 3),
]


@pytest.mark.parametrize("scan_share", [0.0, math.inf], ids=["one-pass", "queries"])
async def test_every_rule_gives_the_same_task_from_either_source(
    database: Database,
    admin: TestUser,
    monkeypatch: pytest.MonkeyPatch,
    scan_share: float,
) -> None:
    monkeypatch.setattr(storage.predictions, "IN_CHUNK", 2)  # several chunks per lookup
    project = await seed_project(database, owner=admin, tasks=TASKS)
    other = await seed_project(database, owner=admin, tasks=TASKS[:1])
    cases = [
        *CASES,
        ({"display_id": project.display_id(4)}, 4),
        ({"display_id": other.display_id(0)}, None),
        ({"display_id": other.display_id(0), "external_id": "e2"}, 2),
    ]
    entries = []
    for task_match, _ in cases:
        key = parse_task_match(task_match)
        assert isinstance(key, TaskKey)
        entries.append(Entry(task_match, key))

    async with database.read() as conn:
        found = await match_entries(
            conn, project.project_id, entries, project_size=len(TASKS), scan_share=scan_share
        )

    got = [None if task is None else project.task_ids.index(task.task_id) for task in found]
    assert got == [index for _, index in cases]
