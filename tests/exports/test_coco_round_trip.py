"""COCO out and back in: an exported file imported as predictions lands every
prediction on its own task, even when images share a file name."""

from __future__ import annotations

from pathlib import Path

import grpc
import orjson
from annotation.v1 import common_pb2, prediction_service_pb2, prediction_service_pb2_grpc

from storage.database import Database
from tests.exports import readers
from tests.exports.samples import rectangle
from tests.exports.support import Item, build_project, create_export, download
from tests.helpers import TestUser
from tests.predictions.support import stored_predictions

# the same file name in two camera folders, and a third image elsewhere
COLLIDING = [
    Item("https://cdn.example.com/data/cam_a/0001.jpg", [rectangle("正面", 10, 10, 20, 20)]),
    Item("https://cdn.example.com/data/cam_b/0001.jpg", [rectangle("负面", 50, 50, 30, 30)]),
    Item("https://cdn.example.com/data/0002.jpg?sig=x", [rectangle("正面", 0, 0, 50, 50)]),
]


async def import_coco(
    channel: grpc.aio.Channel, user: TestUser, project_id: str, payload: bytes
) -> prediction_service_pb2.ImportPredictionsResponse:
    Request = prediction_service_pb2.ImportPredictionsRequest

    async def requests():  # type: ignore[no-untyped-def]
        yield Request(project_id=project_id, format=common_pb2.IMPORT_FORMAT_COCO)
        yield Request(chunk=payload)

    stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    return await stub.ImportPredictions(requests(), metadata=user.metadata)


async def test_exported_coco_imports_onto_the_same_images_of_another_project(
    channel: grpc.aio.Channel,
    database: Database,
    admin: TestUser,
    annotator: TestUser,
    tmp_path: Path,
) -> None:
    source_id, _ = await build_project(channel, admin, annotator, "object_detection", COLLIDING)
    created = await create_export(channel, admin, source_id, "coco")
    path = tmp_path / "coco.json"
    await download(channel, admin, created.export_id, path)
    exported = readers.check_coco(path)
    names = [image["file_name"] for image in exported["images"]]
    assert names == ["data__cam_a__0001.jpg", "data__cam_b__0001.jpg", "data__0002.jpg"]

    target_id, target_tasks = await build_project(
        channel, admin, annotator, "object_detection", [Item(i.content, None) for i in COLLIDING]
    )
    response = await import_coco(channel, admin, target_id, path.read_bytes())

    assert (response.imported, response.skipped, list(response.errors)) == (3, 0, [])
    landed = {
        (
            str(p["task_id"]),
            p["result"][0]["value"]["rectanglelabels"][0],
            p["result"][0]["value"]["x"],
        )
        for p in await stored_predictions(database, target_id)
    }
    assert landed == {
        (target_tasks[0], "正面", 10.0),
        (target_tasks[1], "负面", 50.0),
        (target_tasks[2], "正面", 0.0),
    }


async def test_a_file_name_that_fits_several_tasks_is_an_error_naming_them(
    channel: grpc.aio.Channel,
    database: Database,
    admin: TestUser,
    annotator: TestUser,
) -> None:
    target_id, tasks = await build_project(
        channel, admin, annotator, "object_detection", [Item(i.content, None) for i in COLLIDING]
    )
    payload = orjson.dumps(
        {
            "images": [{"id": 1, "file_name": "0001.jpg", "width": 640, "height": 480}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 9, 9]}],
            "categories": [{"id": 1, "name": "正面"}],
        }
    )
    response = await import_coco(channel, admin, target_id, payload)

    assert (response.imported, response.skipped) == (0, 1)
    [error] = response.errors
    assert f"T-{tasks[0]}" in error.reason and f"T-{tasks[1]}" in error.reason
    assert "names 2 tasks" in error.reason
    assert await stored_predictions(database, target_id) == []


async def test_names_made_unique_by_display_id_import_onto_their_own_tasks(
    channel: grpc.aio.Channel,
    database: Database,
    admin: TestUser,
    annotator: TestUser,
    tmp_path: Path,
) -> None:
    folder = "https://cdn.example.com/dup/"
    names = ["x.png", "x.jpg", "X.png", "x.jpeg"]
    items = [
        Item(folder + name, [rectangle("正面", 10 * i, 10, 5, 5)]) for i, name in enumerate(names)
    ]
    project_id, tasks = await build_project(channel, admin, annotator, "object_detection", items)
    created = await create_export(channel, admin, project_id, "coco")
    path = tmp_path / "coco.json"
    await download(channel, admin, created.export_id, path)
    file_names = [image["file_name"] for image in readers.check_coco(path)["images"]]
    assert file_names == [
        "dup__x.png",
        f"dup__x__T-{tasks[1]}.jpg",
        f"dup__X__T-{tasks[2]}.png",
        f"dup__x__T-{tasks[3]}.jpeg",
    ]

    response = await import_coco(channel, admin, project_id, path.read_bytes())

    assert (response.imported, response.skipped, list(response.errors)) == (4, 0, [])
    landed = {
        (str(p["task_id"]), p["result"][0]["value"]["x"])
        for p in await stored_predictions(database, project_id)
    }
    assert landed == {(task, 10.0 * i) for i, task in enumerate(tasks)}
