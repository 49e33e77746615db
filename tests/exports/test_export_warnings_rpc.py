"""A realistic project exported through the services, on both engines: no image
size in any metadata, negatives submitted as `[]`, a size recorded for one of
them, a coordinate no tool should have stored, colliding and non-ASCII names.
Every detection export completes and names what it could not write, in
CreateExport, GetExport and over REST."""

from __future__ import annotations

from pathlib import Path

import grpc
import httpx
import orjson
from sqlalchemy import update

from storage.database import Database
from storage.models import Annotation, Task
from tests.exports import readers
from tests.exports.realistic import FOLDER, box, model_boxes
from tests.exports.support import Item, build_project, create_export, download, get_export
from tests.helpers import TestUser

SIZED = {"original_width": 640, "original_height": 480}
ITEMS = [
    Item(FOLDER + "x.png", [{**b, **SIZED} for b in model_boxes(1, 0)]),  # sized by its regions
    Item(FOLDER + "x.jpg", []),  # a negative whose size is recorded (below)
    Item(FOLDER + "X.png", []),  # a negative whose size nobody knows
    Item(FOLDER + "猫%20咪.jpeg", [{**b, **SIZED} for b in model_boxes(4, 1)]),  # + an absurd box
    Item(FOLDER + "a%20b.jpg", [box("car", 10, 10, 20, 20)]),  # regions without a size
]
LABELS_IN_RESULTS = ("car", "person")


async def realistic_project(
    channel: grpc.aio.Channel, database: Database, admin: TestUser, annotator: TestUser
) -> list[str]:
    project_id, task_ids = await build_project(channel, admin, annotator, "object_detection", ITEMS)
    absurd = [*ITEMS[3].result, box("car", 1e308, 10, 10, 10, size=(640, 480))]  # type: ignore[misc]
    async with database.transaction() as conn:
        await conn.execute(
            update(Task)
            .where(Task.id == int(task_ids[1]))
            .values(image_width=800, image_height=600)
        )
        await conn.execute(
            update(Annotation)
            .where(Annotation.task_id == int(task_ids[3]))
            .values(result_json=orjson.dumps(absurd).decode())
        )
    return [project_id, *task_ids]


async def test_detection_exports_complete_and_name_what_they_left_out(
    channel: grpc.aio.Channel,
    database: Database,
    admin: TestUser,
    annotator: TestUser,
    http_client: httpx.AsyncClient,
    tmp_path: Path,
) -> None:
    project_id, *task_ids = await realistic_project(channel, database, admin, annotator)
    unknown = {task_ids[2], task_ids[4]}  # no size from any source
    for fmt in ("coco", "pascal_voc", "yolo"):
        created = await create_export(channel, admin, project_id, fmt)
        path = tmp_path / created.file_name
        await download(channel, admin, created.export_id, path)
        warnings = {(w.task_id, w.display_id): w.message for w in created.warnings}
        if fmt == "yolo":  # normalized: every task written, only the absurd box left out
            assert created.total_exported == 5
            assert list(warnings) == [(task_ids[3], f"T-{task_ids[3]}")]
            found = readers.check_yolo(path)
            assert sum(not lines for lines in found["labels"].values()) == 2
            assert len({image.casefold() for image in found["labels"]}) == 5
        else:
            assert created.total_exported == 3
            assert set(warnings) == {(t, f"T-{t}") for t in [*sorted(unknown), task_ids[3]]}
            assert warnings[(task_ids[2], f"T-{task_ids[2]}")].startswith(
                "left out of the file: the image's size is unknown"
            )
            assert warnings[(task_ids[3], f"T-{task_ids[3]}")].startswith("1 region left out")
        if fmt == "coco":
            data = readers.check_coco(path)  # pycocotools opens it with the negative present
            images = {str(i["id"]): i for i in data["images"]}
            assert (images[task_ids[1]]["width"], images[task_ids[1]]["height"]) == (800, 600)
            assert not [a for a in data["annotations"] if str(a["image_id"]) == task_ids[1]]
            assert len(data["annotations"]) == 6
        if fmt == "pascal_voc":
            elements = readers.check_pascal_voc(path)
            assert [len(e["objects"]) for e in elements] == [3, 0, 3]

        shown = await get_export(channel, admin, created.export_id)
        assert list(shown.warnings) == list(created.warnings)
        rest = await http_client.get(
            f"/api/external/exports/{created.export_id}",
            headers={"Authorization": f"Bearer {admin.token}"},
        )
        assert rest.status_code == 200
        assert rest.json()["warnings"] == [
            {"task_id": w.task_id, "display_id": w.display_id, "message": w.message}
            for w in created.warnings
        ]


async def test_an_export_without_warnings_reports_an_empty_list(
    channel: grpc.aio.Channel,
    admin: TestUser,
    annotator: TestUser,
    http_client: httpx.AsyncClient,
) -> None:
    project_id, _ = await build_project(channel, admin, annotator, "object_detection")
    response = await http_client.post(
        f"/api/external/projects/{project_id}/export",
        json={"format": "coco"},
        headers={"Authorization": f"Bearer {admin.token}"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["warnings"] == []
