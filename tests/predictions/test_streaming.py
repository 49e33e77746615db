"""The import reads its file in batches: what a batch boundary must not change.

BATCH_SIZE is lowered to 2 entries so that a handful of tasks spans several
batches; faults found in a later batch still leave nothing written.
"""

from __future__ import annotations

from typing import Any

import grpc
import orjson
import pytest

from server.predictions import coco, matching, service
from storage.database import Database
from tests.helpers import TestUser, rpc_error
from tests.predictions.support import (
    ImportCall,
    aap,
    audit_entries,
    errors_of,
    image_tasks,
    prediction,
    seed_project,
    stored_predictions,
)


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "BATCH_SIZE", 2)


def by_external_id(index: int, count: int = 1) -> dict:
    return {"task_match": {"external_id": f"ext-{index}"}, "predictions": [prediction()] * count}


async def test_entries_across_batches_all_import_with_their_locations(
    database: Database, admin: TestUser, import_file: ImportCall
) -> None:
    project = await seed_project(database, owner=admin, tasks=image_tasks(5))
    entries = [by_external_id(i) for i in range(5)]
    entries.insert(3, {"task_match": {"external_id": "missing"}, "predictions": [prediction()]})
    response = await import_file(admin, project.project_id, aap(*entries))
    assert (response.imported, response.skipped) == (5, 1)
    assert [e["reason"] for e in errors_of(response)] == ["task not found in project (tasks[3])"]
    assert len(await stored_predictions(database, project.project_id)) == 5


async def test_overwrite_keeps_what_earlier_batches_of_the_same_file_wrote(
    database: Database, admin: TestUser, import_file: ImportCall
) -> None:
    project = await seed_project(database, owner=admin, tasks=image_tasks(2))
    await import_file(admin, project.project_id, aap(by_external_id(0)), model_version="old")
    # ext-0 is named in the first batch and again in the third
    payload = aap(by_external_id(0), by_external_id(1), by_external_id(1), by_external_id(0))
    response = await import_file(
        admin, project.project_id, payload, model_version="new", overwrite_existing=True
    )
    assert response.imported == 4
    rows = await stored_predictions(database, project.project_id)
    assert sorted(row["model_version"] for row in rows) == ["new"] * 4
    assert (await audit_entries(database, "predictions.import"))[-1]["detail"]["replaced"] == 1


@pytest.mark.parametrize(
    ("tail", "error_code"),
    [
        (b"]", "INVALID_IMPORT_FILE"),  # the JSON breaks after the last task
        (b"," + b'{"a":' * 70 + b"1" + b"}" * 70 + b"]}", "INVALID_REQUEST"),  # too deep
    ],
)
async def test_a_fault_in_a_later_batch_writes_nothing(
    database: Database, admin: TestUser, import_file: ImportCall, tail: bytes, error_code: str
) -> None:
    project = await seed_project(database, owner=admin, tasks=image_tasks(6))
    good = aap(*(by_external_id(i) for i in range(6)))
    payload = good.removesuffix(b"]}") + tail
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await import_file(admin, project.project_id, payload)
    assert rpc_error(caught.value).error_code == error_code
    assert await stored_predictions(database, project.project_id) == []
    assert await audit_entries(database, "predictions.import") == []


async def test_tasks_before_schema_version_are_read(
    database: Database, admin: TestUser, import_file: ImportCall
) -> None:
    project = await seed_project(database, owner=admin, tasks=image_tasks(3))
    tasks = [by_external_id(i) for i in range(3)]
    payload = orjson.dumps({"tasks": tasks, "extra": {"x": [1]}, "schema_version": "1.2"})
    response = await import_file(admin, project.project_id, payload)
    assert response.imported == 3

    wrong = orjson.dumps({"tasks": tasks, "schema_version": "2.0"})
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await import_file(admin, project.project_id, wrong)
    assert rpc_error(caught.value).details["schema_version"] == "2.0"
    assert len(await stored_predictions(database, project.project_id)) == 3


async def test_coco_annotations_across_batches_keep_their_counts(
    database: Database, admin: TestUser, import_file: ImportCall
) -> None:
    project = await seed_project(database, owner=admin, tasks=image_tasks(2))
    payload = orjson.dumps(
        {
            "annotations": [
                {"image_id": i % 3, "category_id": 1, "bbox": [1, 2, 3, 4]} for i in range(5)
            ],
            "categories": [{"id": 1, "name": "cat"}],
            "images": [
                {"id": i, "file_name": f"img_{i}.jpg", "width": 640, "height": 480}
                for i in range(3)
            ],
        }
    )
    response = await import_file(admin, project.project_id, payload, format="coco")
    # image 2 has no task: its one annotation is skipped, the other four import
    assert (response.imported, response.skipped) == (4, 1)
    assert len(await stored_predictions(database, project.project_id)) == 4


async def test_coco_file_names_match_exported_names_in_every_batch(
    database: Database, admin: TestUser, import_file: ImportCall
) -> None:
    urls = [f"https://cdn.example.com/data/{cam}/0001.jpg" for cam in ("cam_a", "cam_b")]
    project = await seed_project(database, owner=admin, tasks=[{"content": u} for u in urls])
    names = ["data__cam_a__0001.jpg", "0001.jpg", "data__cam_b__0001.jpg"]
    payload = orjson.dumps(
        {
            # batches of two annotations, of images [0, 1], [2, 0], [1]; image 1 fits both tasks
            "annotations": [
                {"image_id": i % 3, "category_id": 1, "bbox": [1, 2, 3, 4]} for i in range(5)
            ],
            "categories": [{"id": 1, "name": "cat"}],
            "images": [
                {"id": i, "file_name": name, "width": 640, "height": 480}
                for i, name in enumerate(names)
            ],
        }
    )
    response = await import_file(admin, project.project_id, payload, format="coco")
    assert (response.imported, response.skipped) == (3, 2)
    reasons = [e["reason"] for e in errors_of(response)]
    assert len(reasons) == 2
    for reason in reasons:
        assert reason.startswith("file_name '0001.jpg' names 2 tasks of the project")
        assert project.display_id(0) in reason and project.display_id(1) in reason
    rows = await stored_predictions(database, project.project_id)
    assert sorted(row["task_id"] for row in rows) == sorted(project.task_ids + project.task_ids[:1])


@pytest.mark.parametrize(("chunk", "passes"), [(100_000, 1), (2, 2)])
async def test_coco_images_are_matched_in_one_pass_over_the_project_per_chunk(
    database: Database,
    admin: TestUser,
    import_file: ImportCall,
    monkeypatch: pytest.MonkeyPatch,
    chunk: int,
    passes: int,
) -> None:
    monkeypatch.setattr(coco, "IMAGE_MATCH_CHUNK", chunk)
    scans: list[str] = []
    scan_project = matching.iter_project_tasks

    def counted(conn: Any, project_id: str, **options: Any) -> Any:
        scans.append(project_id)
        return scan_project(conn, project_id, **options)

    monkeypatch.setattr(matching, "iter_project_tasks", counted)
    project = await seed_project(database, owner=admin, tasks=image_tasks(3))
    payload = orjson.dumps(
        {
            # three batches of two annotations; every image in two of them
            "annotations": [
                {"image_id": i % 3, "category_id": 1, "bbox": [1, 2, 3, 4]} for i in range(6)
            ],
            "categories": [{"id": 1, "name": "cat"}],
            "images": [
                {"id": i, "file_name": f"img_{i}.jpg", "width": 640, "height": 480}
                for i in range(3)
            ],
        }
    )
    response = await import_file(admin, project.project_id, payload, format="coco")
    assert (response.imported, response.skipped) == (6, 0)
    assert len(scans) == passes
    rows = await stored_predictions(database, project.project_id)
    assert sorted(row["task_id"] for row in rows) == sorted(project.task_ids * 2)
