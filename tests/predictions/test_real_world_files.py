"""Prediction imports of files as real models write them (gRPC, each engine): several
boxes per image from two model versions, tasks without size metadata, sub-pixel
overruns, colliding and non-ASCII file names."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from storage.database import Database
from tests.helpers import TestUser
from tests.predictions.support import (
    ImportCall,
    aap,
    bbox,
    errors_of,
    prediction,
    seed_project,
    stored_predictions,
)

FOLDER = "https://cdn.example.com/set/"
# colliding stems and cases, non-ASCII names; only the first two carry their size
TASKS = [
    {"content": FOLDER + "x.png", "metadata": {"width": 200, "height": 100}},
    {"content": FOLDER + "x.jpg", "metadata": {"width": 200, "height": 100}},
    {"content": FOLDER + "X.png"},
    {"content": FOLDER + "x.jpeg"},
    {"content": FOLDER + "stra%C3%9Fe%201.jpg"},
    {"content": FOLDER + "猫.jpg"},
]


def boxes(result: list[dict[str, Any]]) -> list[tuple[float, float, float, float]]:
    return [
        (r["value"]["x"], r["value"]["y"], r["value"]["width"], r["value"]["height"])
        for r in result
    ]


async def test_subpixel_overruns_are_clamped_and_larger_ones_refused_in_aap(
    database: Database, admin: TestUser, import_file: ImportCall
) -> None:
    project = await seed_project(database, owner=admin, tasks=TASKS)
    sized, unsized = project.display_id(0), project.display_id(2)
    payload = aap(
        {
            "task_match": {"display_id": sized},
            "predictions": [
                # 0.4 px past the right edge of the 200 px wide image
                prediction(bbox(0.9, 0.5, 0.102, 0.2), model_version="det-1", confidence=0.9),
                prediction(bbox(0.1, 0.1, 0.2, 0.2), model_version="det-1", class_name="dog"),
                # 2 px past it: refused
                prediction(bbox(0.9, 0.5, 0.11, 0.2), model_version="det-2"),
                prediction(bbox(0.12, 0.1, 0.2, 0.2), model_version="det-2"),
            ],
        },
        {
            "task_match": {"display_id": unsized},
            "predictions": [
                # no size known: 0.4 % past the edge is within the 0.5 % allowance
                prediction(bbox(-0.004, 0.0, 0.5, 0.5), model_version="det-1"),
                prediction(bbox(0.5, 0.5, 0.51, 0.5), model_version="det-2"),  # 1 %: refused
                prediction(
                    {"type": "polygon", "points": [[0.1, 0.1], [1.003, 0.1], [0.5, 0.9]]},
                    model_version="det-2",
                ),
            ],
        },
    )

    response = await import_file(admin, project.project_id, payload)

    assert (response.imported, response.skipped) == (4, 3)
    errors = errors_of(response)
    assert [e["reason"] for e in errors] == [
        "bbox out of range (x=0.9, y=0.5, w=0.11, h=0.2): it overruns the image by more than "
        "1 px; coordinates are normalized to 0..1 (tasks[0].predictions[2])",
        "bbox out of range (x=0.5, y=0.5, w=0.51, h=0.5): it overruns the image by more than "
        "0.5 % of the image (its size is unknown); coordinates are normalized to 0..1 "
        "(tasks[1].predictions[1])",
        "a polygon cannot go into a object_detection project (it takes bbox) "
        "(tasks[1].predictions[2])",
    ]
    rows = await stored_predictions(database, project.project_id)
    assert [(row["task_id"], row["model_version"]) for row in rows] == [
        (project.task_ids[0], "det-1"),
        (project.task_ids[0], "det-1"),
        (project.task_ids[0], "det-2"),
        (project.task_ids[2], "det-1"),
    ]
    assert boxes(rows[0]["result"]) == [(90.0, 50.0, 10.0, 20.0)]
    assert (rows[0]["result"][0]["original_width"], rows[0]["result"][0]["score"]) == (200, 0.9)
    assert boxes(rows[3]["result"]) == [(0.0, 0.0, pytest.approx(49.6), 50.0)]
    assert "original_width" not in rows[3]["result"][0]


async def test_a_pycocotools_box_overrunning_by_a_fraction_of_a_pixel_is_clamped(
    database: Database, admin: TestUser, import_file: ImportCall
) -> None:
    project = await seed_project(database, owner=admin, tasks=TASKS)
    coco = {
        "images": [
            {"id": 1, "file_name": "x.png", "width": 200, "height": 100},
            {"id": 2, "file_name": "X.png", "width": 200, "height": 100},
            {"id": 3, "file_name": "猫.jpg", "width": 200, "height": 100},
        ],
        "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
        "annotations": [
            {"image_id": 1, "category_id": 1, "bbox": [180.0, 90.0, 20.4, 10.0], "score": 0.7},
            {"image_id": 1, "category_id": 2, "bbox": [0.0, 0.0, 50.0, 50.0], "score": 0.6},
            {"image_id": 2, "category_id": 1, "bbox": [-0.8, 10.0, 40.0, 40.0], "score": 0.5},
            {"image_id": 3, "category_id": 1, "bbox": [180.0, 90.0, 22.0, 10.0], "score": 0.4},
        ],
    }

    response = await import_file(
        admin, project.project_id, orjson.dumps(coco), format="coco", model_version="det-1"
    )

    assert (response.imported, response.skipped) == (3, 1)
    assert [e["reason"] for e in errors_of(response)] == [
        "bbox [180.0, 90.0, 22.0, 10.0] does not fit in the 200x100 image "
        "(it may overrun it by at most 1 px) (annotations[3])"
    ]
    rows = await stored_predictions(database, project.project_id)
    assert [row["task_id"] for row in rows] == [project.task_ids[i] for i in (0, 0, 2)]
    assert boxes(rows[0]["result"]) == [(90.0, 90.0, 10.0, 10.0)]
    assert boxes(rows[2]["result"]) == [(0.0, 10.0, 19.6, 40.0)]


SHARED = [
    {"content": "https://cdn.example.com/cam_a/0001.jpg"},
    {"content": "https://cdn.example.com/cam_b/0001.jpg"},
    {"content": "https://cdn.example.com/cam_b/0002.jpg"},
    {"content": "https://cdn.example.com/cam_b/0002.jpg"},  # the same image twice
    {"content": "https://cdn.example.com/cam_c/0003.jpg"},
]


async def test_a_file_path_naming_several_tasks_imports_to_the_first_and_warns(
    database: Database,
    admin: TestUser,
    import_file: ImportCall,
    http_client: httpx.AsyncClient,
) -> None:
    project = await seed_project(database, owner=admin, tasks=SHARED)
    shown = [project.display_id(i) for i in range(5)]
    payload = aap(
        {"task_match": {"file_path": "0001.jpg"}, "predictions": [prediction()]},
        {
            "task_match": {"file_path": "https://cdn.example.com/cam_b/0002.jpg"},
            "predictions": [prediction(), prediction(bbox(0.5, 0.5, 0.1, 0.1))],
        },
        {"task_match": {"file_path": "cam_a/0001.jpg"}, "predictions": [prediction()]},
        {"task_match": {"file_path": "0003.jpg"}, "predictions": [prediction()]},
    )

    response = await import_file(admin, project.project_id, payload, dry_run=True)

    assert (response.imported, response.skipped, list(response.errors)) == (5, 0, [])
    warnings = [
        (orjson.loads(w.task_match), w.message, list(w.candidates)) for w in response.warnings
    ]
    assert warnings == [
        (
            {"file_path": "0001.jpg"},
            f"file_path '0001.jpg' names 2 tasks of the project ({shown[0]}, {shown[1]}); its "
            f"predictions went to the first, {shown[0]}: give a display_id, or a path only "
            "one task has (tasks[0])",
            shown[:2],
        ),
        (
            {"file_path": "https://cdn.example.com/cam_b/0002.jpg"},
            f"file_path 'https://cdn.example.com/cam_b/0002.jpg' names 2 tasks of the project "
            f"({shown[2]}, {shown[3]}); its predictions went to the first, {shown[2]}: give a "
            "display_id, or a path only one task has (tasks[1])",
            shown[2:4],
        ),
    ]

    over_rest = await http_client.post(
        f"/api/v1/projects/{project.project_id}/predictions/import",
        files={"file": ("p.json", payload, "application/json")},
        headers={"Authorization": f"Bearer {admin.token}"},
    )
    assert over_rest.status_code == 200, over_rest.text
    body = over_rest.json()
    assert body["imported"] == 5
    assert [(w["task_match"], w["candidates"]) for w in body["warnings"]] == [
        ({"file_path": "0001.jpg"}, shown[:2]),
        ({"file_path": "https://cdn.example.com/cam_b/0002.jpg"}, shown[2:4]),
    ]
    rows = await stored_predictions(database, project.project_id)
    assert [row["task_id"] for row in rows] == [project.task_ids[i] for i in (0, 2, 2, 0, 4)]
