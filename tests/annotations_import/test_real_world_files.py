"""Annotation imports of files as real tools write them (REST, each engine): coordinates
out of all proportion, sub-pixel overruns, COCO negatives, tasks without size metadata,
colliding and non-ASCII file names."""

from __future__ import annotations

from typing import Any

import httpx

from storage.database import Database
from tests.annotations_import.support import ls_annotation, ls_task, post_import, progress
from tests.helpers import TestUser
from tests.workflow.support import Rest, make_user

# One folder with colliding stems and cases, and a non-ASCII name; no size metadata.
IMAGES = [
    "https://cdn.example.com/set/x.png",
    "https://cdn.example.com/set/x.jpg",
    "https://cdn.example.com/set/X.png",
    "https://cdn.example.com/set/x.jpeg",
    "https://cdn.example.com/set/stra%C3%9Fe%201.jpg",
    "https://cdn.example.com/set/猫.jpg",
]


async def init_unsized_project(owner: Rest, images: list[str]) -> tuple[str, list[str]]:
    """An object_detection project (cat, dog) created as the README shows: no sizes."""
    created = await owner.call(
        "POST",
        "/api/external/projects/init",
        json={
            "name": "real files",
            "task_type": "object_detection",
            "data": [{"content": image} for image in images],
            "tags": [{"tag": "cat"}, {"tag": "dog"}],
        },
    )
    project_id = created["project_id"]
    tasks = await owner.call("GET", f"/api/external/projects/{project_id}/tasks")
    return project_id, [t["task_id"] for t in tasks["tasks"]]


def region(label: str = "cat", size: tuple[int, int] | None = None, **value: Any) -> dict:
    """A Label Studio rectangle (percent), with the image's size when given."""
    found: dict[str, Any] = {
        "type": "rectanglelabels",
        "from_name": "label",
        "to_name": "image",
        "value": {"rotation": 0, **value, "rectanglelabels": [label]},
    }
    if size is not None:
        found["original_width"], found["original_height"] = size
    return found


async def export(owner: Rest, project_id: str, fmt: str) -> dict[str, Any]:
    response = await owner.client.post(
        f"/api/external/projects/{project_id}/export",
        json={"format": fmt, "completed_only": True},
        headers=owner.headers,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_absurd_coordinates_are_error_entries_and_every_export_completes(
    database: Database, admin: TestUser, http_client: httpx.AsyncClient
) -> None:
    owner = Rest(http_client, admin)
    ann = await make_user(database, "ann", "annotator")
    project_id, task_ids = await init_unsized_project(owner, IMAGES)
    good = region(size=(200, 100), x=10, y=10, width=20, height=30)
    tasks = [
        ls_task(
            IMAGES[0], annotations=[ls_annotation([region(x=1e308, y=0, width=1e308, height=5)])]
        ),
        ls_task(
            IMAGES[1], annotations=[ls_annotation([good, region(x=-50, y=0, width=-10, height=5)])]
        ),
        ls_task(
            IMAGES[2], annotations=[ls_annotation([region(x=5000, y=10, width=10, height=10)])]
        ),
        # 0.4 px past the right edge of a 200 px wide image: clamped, not refused
        ls_task(
            IMAGES[3],
            annotations=[
                ls_annotation([region("dog", (200, 100), x=90, y=90, width=10.2, height=10), good])
            ],
        ),
        # a whole pixel and a half past it: refused
        ls_task(
            IMAGES[4],
            annotations=[
                ls_annotation([region(size=(200, 100), x=90, y=0, width=10.75, height=9)])
            ],
        ),
        ls_task(IMAGES[5], annotations=[ls_annotation([good])]),
    ]

    report = await post_import(owner, project_id, tasks, annotator_id=ann.user_id)

    assert (report["imported"], report["skipped"]) == (2, 4)
    reasons = {error["task_match"]["data.image"]: error["reason"] for error in report["errors"]}
    assert reasons == {
        IMAGES[0]: "result[0].value: region 0 (rectanglelabels): it overruns the image by more "
        "than 0.5 % of the image (its size is unknown) ([0].annotations[0])",
        IMAGES[1]: "result[1].value: region 1 (rectanglelabels): width and height must be "
        "greater than 0 ([1].annotations[0])",
        IMAGES[2]: "result[0].value: region 0 (rectanglelabels): it overruns the image by more "
        "than 0.5 % of the image (its size is unknown) ([2].annotations[0])",
        IMAGES[4]: "result[0].value: region 0 (rectanglelabels): it overruns the image by more "
        "than 1 px ([4].annotations[0])",
    }
    clamped = (await owner.call("GET", f"/api/v1/tasks/{task_ids[3]}"))["task"]
    [annotation] = clamped["annotations"]
    assert annotation["result"][0]["value"] == {
        "rotation": 0,
        "x": 90.0,
        "y": 90.0,
        "width": 10.0,
        "height": 10.0,
        "rectanglelabels": ["dog"],
    }
    assert annotation["result"][1] == good
    assert (await progress(owner, project_id))["completed_tasks"] == 2
    for fmt in ("json", "coco", "yolo", "pascal_voc"):
        body = await export(owner, project_id, fmt)
        assert body["total_exported"] == 2, fmt


async def test_a_subpixel_coco_box_is_clamped_and_the_image_imported(
    database: Database, admin: TestUser, http_client: httpx.AsyncClient
) -> None:
    owner = Rest(http_client, admin)
    ann = await make_user(database, "ann", "annotator")
    project_id, task_ids = await init_unsized_project(owner, IMAGES[:3])
    coco = {
        "images": [
            {"id": 1, "file_name": "x.png", "width": 200, "height": 100},
            {"id": 2, "file_name": "x.jpg", "width": 200, "height": 100},
        ],
        "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
        "annotations": [
            # pycocotools-style: 0.4 px past the right edge
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [180.0, 90.0, 20.4, 10.0]},
            {"id": 2, "image_id": 1, "category_id": 2, "bbox": [10.0, 10.0, 50.0, 40.0]},
            # 2 px past it: the image is refused
            {"id": 3, "image_id": 2, "category_id": 1, "bbox": [180.0, 0.0, 22.0, 10.0]},
        ],
    }

    report = await post_import(
        owner, project_id, coco, annotator_id=ann.user_id, params={"format": "coco"}
    )

    assert (report["imported"], report["skipped"]) == (1, 1)
    assert [e["reason"] for e in report["errors"]] == [
        "bbox [180.0, 0.0, 22.0, 10.0] does not fit in the 200x100 image "
        "(it may overrun it by at most 1 px) (annotations[2])"
    ]
    task = (await owner.call("GET", f"/api/v1/tasks/{task_ids[0]}"))["task"]
    [annotation] = task["annotations"]
    first, second = annotation["result"]
    assert first["value"]["x"] == 90.0 and first["value"]["width"] == 10.0
    assert (first["original_width"], first["original_height"]) == (200, 100)
    assert second["value"]["rectanglelabels"] == ["dog"]


async def test_coco_images_without_annotations_complete_their_tasks_as_negatives(
    database: Database, admin: TestUser, http_client: httpx.AsyncClient
) -> None:
    owner = Rest(http_client, admin)
    ann = await make_user(database, "ann", "annotator")
    folder = [
        *IMAGES,
        "https://cdn.example.com/set/empty road.jpg".replace(" ", "%20"),
        "https://cdn.example.com/set/Ünïcode.png",
        "https://cdn.example.com/other/x.png",  # a second x.png, in another folder
    ]
    project_id, task_ids = await init_unsized_project(owner, folder)
    names = ["set/x.png", "x.jpg", "X.png", "x.jpeg", "straße 1.jpg", "猫.jpg", "empty road.jpg"]
    names += ["Ünïcode.png", "other/x.png"]
    images = [
        {"id": 10 + i, "file_name": name, "width": 640, "height": 480}
        for i, name in enumerate(names)
    ]
    del images[6]["width"], images[6]["height"]  # a negative needs no size
    annotations = [
        {"id": n, "image_id": 10 + i, "category_id": 1 + n % 2, "bbox": [10.0 * n, 20, 64, 48]}
        for n, i in enumerate(i for i in range(9) if i != 6 for _ in range(2))
    ]
    coco = {
        "images": images,
        "annotations": annotations,
        "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
    }

    report = await post_import(
        owner, project_id, coco, annotator_id=ann.user_id, params={"format": "coco"}
    )

    assert (report["imported"], report["skipped"], report["errors"]) == (9, 0, [])
    shown = await progress(owner, project_id)
    assert (shown["total_tasks"], shown["completed_tasks"]) == (9, 9)
    negative = (await owner.call("GET", f"/api/v1/tasks/{task_ids[6]}"))["task"]
    assert negative["status"] == "completed"
    [annotation] = negative["annotations"]
    assert annotation["result"] == []
    for index in (0, 2, 8):
        task = (await owner.call("GET", f"/api/v1/tasks/{task_ids[index]}"))["task"]
        [annotation] = task["annotations"]
        assert len(annotation["result"]) == 2
    # the same file again: every task is annotated already, the negative too
    again = await post_import(
        owner, project_id, coco, annotator_id=ann.user_id, params={"format": "coco"}
    )
    assert (again["imported"], again["skipped"], len(again["errors"])) == (0, 9, 9)
