"""COCO detection import over gRPC."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from storage.database import Database
from tests.helpers import TestUser
from tests.predictions.support import (
    ImportCall,
    audit_entries,
    errors_of,
    seed_project,
    stored_predictions,
)

CATEGORIES = [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}, {"id": 3, "name": "zebra"}]


def coco(images: list[dict], annotations: list[dict], **extra: Any) -> bytes:
    return orjson.dumps(
        {"images": images, "annotations": annotations, "categories": CATEGORIES, **extra}
    )


def image(image_id: int, file_name: str, width: Any = 200, height: Any = 100) -> dict[str, Any]:
    return {"id": image_id, "file_name": file_name, "width": width, "height": height}


def box(image_id: int, bbox: list[float], category_id: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "id": 1000 + image_id,
        "image_id": image_id,
        "category_id": category_id,
        "bbox": bbox,
        **extra,
    }


async def test_boxes_are_normalized_by_the_image_size_and_matched_by_file_name(
    database: Database, admin: TestUser, import_file: ImportCall
) -> None:
    tasks = [
        {"content": "https://cdn.example.com/set/a.jpg"},
        {"content": "https://cdn.example.com/set/b.jpg?token=1"},
    ]
    project = await seed_project(database, owner=admin, tasks=tasks)
    payload = coco(
        [image(1, "https://cdn.example.com/set/a.jpg"), image(2, "b.jpg")],
        [
            box(1, [20, 10, 100, 50], score=0.8),
            box(2, [0, 0, 200, 100], category_id=2),
            box(2, [50, 25, 50, 25], category_id=2, score=0.25),
        ],
    )

    response = await import_file(
        admin, project.project_id, payload, format="coco", model_version="det-3"
    )

    assert (response.imported, response.skipped, list(response.errors)) == (3, 0, [])
    first, whole, quarter = await stored_predictions(database, project.project_id)
    assert first["task_id"] == project.task_ids[0]
    assert first["model_version"] == "det-3"
    assert first["score"] == pytest.approx(0.8)
    assert first["result"] == [
        {
            "type": "rectanglelabels",
            "from_name": "label",
            "to_name": "image",
            "original_width": 200,
            "original_height": 100,
            "value": {
                "x": 10.0,
                "y": 10.0,
                "width": 50.0,
                "height": 50.0,
                "rotation": 0,
                "rectanglelabels": ["cat"],
            },
            "score": 0.8,
        }
    ]
    assert whole["task_id"] == quarter["task_id"] == project.task_ids[1]
    assert whole["score"] is None
    assert "score" not in whole["result"][0]
    assert whole["result"][0]["value"]["width"] == 100.0
    assert quarter["result"][0]["value"]["rectanglelabels"] == ["dog"]


async def test_polygon_projects_take_the_polygon_segmentation(
    database: Database, admin: TestUser, import_file: ImportCall
) -> None:
    project = await seed_project(
        database, owner=admin, task_type="polygon", tasks=[{"content": "https://h/a.jpg"}]
    )
    one = [[20, 10, 100, 10, 60, 50]]
    two = [*one, [120, 60, 180, 60, 180, 90, 120, 90]]
    payload = coco(
        [image(1, "a.jpg")],
        [
            box(1, [20, 10, 80, 40], segmentation=one),
            box(1, [20, 10, 160, 80], segmentation=two),
            box(1, [20, 10, 80, 40]),  # no segmentation: a box, which a polygon project refuses
            box(1, [0, 0, 1, 1], segmentation={"counts": "xyz", "size": [100, 200]}),
        ],
    )

    response = await import_file(admin, project.project_id, payload, format="coco")

    assert (response.imported, response.skipped) == (2, 2)
    single, multi = await stored_predictions(database, project.project_id)
    assert single["result"][0]["value"]["points"] == [[10.0, 10.0], [50.0, 10.0], [30.0, 50.0]]
    assert [region["type"] for region in multi["result"]] == ["polygonlabels"] * 2
    reasons = [error["reason"] for error in errors_of(response)]
    assert "a bbox cannot go into a polygon project" in reasons[0]
    assert "RLE segmentation is not supported" in reasons[1]


async def test_each_bad_annotation_or_image_is_an_error_entry(
    database: Database, admin: TestUser, import_file: ImportCall
) -> None:
    tasks = [{"content": f"https://h/{name}.jpg"} for name in ("a", "b", "c", "d")]
    project = await seed_project(database, owner=admin, tasks=tasks)
    payload = coco(
        [
            image(1, "a.jpg"),
            image(2, "b.jpg", width=0),
            image(3, "c.jpg", width=None),
            image(4, "missing.jpg"),
            {"id": 5, "width": 10, "height": 10},
        ],
        [
            box(1, [0, 0, 10, 10]),  # fine
            box(1, [150, 0, 100, 10]),  # outside the image
            box(1, [0, 0, 0, 10]),  # empty
            box(1, [0, 0, 10, 10], category_id=99),  # unknown category
            box(1, [0, 0, 10, 10], category_id=3),  # not a label of the project
            box(1, [0, 0, 10, 10], score=7),  # confidence outside 0..1
            {"image_id": 1, "category_id": 1},  # no bbox
            box(1, [0, 0, "10", 10]),
            box(2, [0, 0, 10, 10]),  # image without a size
            box(3, [0, 0, 10, 10]),
            box(4, [0, 0, 10, 10]),  # no such task
            box(4, [0, 0, 10, 10]),
            box(5, [0, 0, 1, 1]),  # image without file_name
            box(6, [0, 0, 10, 10]),  # no such image
            "not an annotation",
        ],
    )

    response = await import_file(admin, project.project_id, payload, format="coco")

    assert (response.imported, response.skipped) == (1, 14)
    errors = errors_of(response)
    expected = [
        (
            {"image_id": 1, "file_name": "a.jpg"},
            "bbox [150, 0, 100, 10] does not fit in the 200x100 image "
            "(it may overrun it by at most 1 px) (annotations[1])",
        ),
        ({"image_id": 1, "file_name": "a.jpg"}, "degenerate bbox [0, 0, 0, 10]"),
        ({"image_id": 1, "file_name": "a.jpg"}, "category_id 99 is not in categories"),
        ({"image_id": 1, "file_name": "a.jpg"}, "class_name 'zebra' is not a label of the project"),
        ({"image_id": 1, "file_name": "a.jpg"}, "confidence must be a number in 0..1, got 7"),
        ({"image_id": 1, "file_name": "a.jpg"}, "annotation has no bbox (annotations[6])"),
        ({"image_id": 1, "file_name": "a.jpg"}, "bbox must be [x, y, width, height] in pixels"),
        ({"image_id": 2, "file_name": "b.jpg"}, "image 2 has no width/height"),
        ({"image_id": 3, "file_name": "c.jpg"}, "image 3 has no width/height"),
        (
            {"image_id": 4, "file_name": "missing.jpg"},
            "task not found in project (annotations[10])",
        ),
        ({"image_id": 5, "file_name": None}, "image 5 has no file_name"),
        ({"image_id": 6}, "image_id 6 is not in images"),
        (None, "an annotation must be an object with an image_id (annotations[14])"),
    ]
    assert [error["task_match"] for error in errors] == [match for match, _ in expected]
    for error, (_, reason) in zip(errors, expected, strict=True):
        assert reason in error["reason"]


async def test_images_without_annotations_are_ignored(
    database: Database, admin: TestUser, import_file: ImportCall
) -> None:
    project = await seed_project(database, owner=admin, tasks=[{"content": "https://h/a.jpg"}])
    payload = coco([image(1, "a.jpg"), image(2, "elsewhere.jpg")], [box(1, [0, 0, 5, 5])])

    response = await import_file(admin, project.project_id, payload, format="coco")

    assert (response.imported, response.skipped, list(response.errors)) == (1, 0, [])


async def test_coco_dry_run_and_audit(
    database: Database, admin: TestUser, import_file: ImportCall
) -> None:
    project = await seed_project(database, owner=admin, tasks=[{"content": "https://h/a.jpg"}])
    payload = coco([image(1, "a.jpg")], [box(1, [0, 0, 5, 5]), box(1, [0, 0, 5, 5], score=3)])

    preview = await import_file(admin, project.project_id, payload, format="coco", dry_run=True)
    assert (preview.imported, preview.skipped, preview.dry_run) == (1, 1, True)
    assert await stored_predictions(database, project.project_id) == []

    await import_file(admin, project.project_id, payload, format="coco")

    [entry] = await audit_entries(database, "predictions.import")
    assert entry["detail"]["format"] == "coco"
    assert entry["detail"]["imported"] == 1
    assert entry["detail"]["error_count"] == 1
