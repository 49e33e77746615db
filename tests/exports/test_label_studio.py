"""The json export and the label configs, read by Label Studio's own SDK:
every config validates, every exported result validates against its config,
and the converter turns our json into COCO, YOLO and VOC with the same boxes
as our own exports."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import xml.etree.ElementTree as ET
from pathlib import Path

import grpc
import orjson
import pytest
from annotation.v1 import common_pb2, prediction_service_pb2, prediction_service_pb2_grpc
from label_studio_sdk.converter import Converter
from label_studio_sdk.label_interface import LabelInterface
from sqlalchemy import select

from server.projects.label_config import build_label_config
from server.vocabulary import TaskType
from storage.database import Database
from storage.models import Project
from tests.exports import readers
from tests.exports.support import build_project, create_export, download
from tests.helpers import TestUser

HOSTILE_LABELS = [("猫", "#ff0000"), ('a "quoted"\nlabel', "#00ff00"), ("<&>", "#0000ff")]
REGION_TYPES = ["object_detection", "polygon"]


@pytest.mark.parametrize("task_type", list(TaskType))
@pytest.mark.parametrize("labels", [[], [("cat", "#112233")], HOSTILE_LABELS])
def test_every_generated_config_validates_in_label_studio(
    task_type: TaskType, labels: list[tuple[str, str]]
) -> None:
    LabelInterface(build_label_config(task_type, labels)).validate()


async def label_config(database: Database, project_id: str) -> str:
    table = Project.__table__
    async with database.read() as conn:
        return str(
            (
                await conn.execute(select(table.c.label_config).where(table.c.id == project_id))
            ).scalar_one()
        )


async def import_predictions(
    channel: grpc.aio.Channel, user: TestUser, project_id: str, task_type: str, task_ids: list[str]
) -> None:
    """One AAP prediction with a score and a model version on each task."""
    geometry = (
        {"type": "bbox", "x": 0.1, "y": 0.2, "w": 0.3, "h": 0.4}
        if task_type == "object_detection"
        else {"type": "polygon", "points": [[0.1, 0.1], [0.5, 0.1], [0.3, 0.6]]}
    )
    prediction = {
        "geometry": geometry,
        "class_name": "正面",
        "confidence": 0.75,
        "model_version": "det-1",
    }
    document = {
        "schema_version": "1.0",
        "tasks": [
            {"task_match": {"display_id": f"T-{task_id}"}, "predictions": [prediction]}
            for task_id in task_ids
        ],
    }
    Request = prediction_service_pb2.ImportPredictionsRequest

    async def requests():  # type: ignore[no-untyped-def]
        yield Request(project_id=project_id, format=common_pb2.IMPORT_FORMAT_AAP_JSON)
        yield Request(chunk=orjson.dumps(document))

    stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    await stub.ImportPredictions(requests(), metadata=user.metadata)


@pytest.mark.parametrize("task_type", list(TaskType))
async def test_every_exported_result_validates_against_the_project_config(
    channel: grpc.aio.Channel,
    database: Database,
    admin: TestUser,
    annotator: TestUser,
    tmp_path: Path,
    task_type: str,
) -> None:
    project_id, task_ids = await build_project(channel, admin, annotator, task_type)
    if task_type in REGION_TYPES:
        await import_predictions(channel, admin, project_id, task_type, task_ids)
    config = await label_config(database, project_id)
    interface = LabelInterface(config)
    interface.validate()
    created = await create_export(channel, admin, project_id, "json")
    path = tmp_path / "tasks.json"
    await download(channel, admin, created.export_id, path)

    results = 0
    for element in readers.read_json(path):
        assert element["id"] == int(element["task_id"])
        assert element["data"] == element["original_data"]
        for record in element["annotations"] + element["predictions"]:
            assert (
                interface.validate_prediction({"result": record["result"]}, return_errors=True)
                == []
            )
            results += 1
        for record in element["predictions"]:
            assert record["model_version"] == "det-1" and record["score"] == 0.75
    predictions = 2 if task_type in REGION_TYPES else 0
    assert results == 2 + predictions


def convert(config: str, json_path: Path, out: Path, target: str) -> Path:
    converter = Converter(config=config, project_dir=None, download_resources=False)
    # the converter logs (and prints) every image it cannot download: quiet it.
    logging.getLogger("label_studio_sdk").setLevel(logging.ERROR)
    with contextlib.redirect_stdout(io.StringIO()):
        converter.convert(str(json_path), str(out), target, is_dir=False)
    return out


@pytest.mark.parametrize("task_type", REGION_TYPES)
async def test_label_studio_converter_reads_our_json_like_our_own_exports(
    channel: grpc.aio.Channel,
    database: Database,
    admin: TestUser,
    annotator: TestUser,
    tmp_path: Path,
    task_type: str,
) -> None:
    project_id, _ = await build_project(channel, admin, annotator, task_type)
    config = await label_config(database, project_id)
    ours: dict[str, Path] = {}
    for fmt in ("json", "coco", "yolo", "pascal_voc"):
        created = await create_export(channel, admin, project_id, fmt)
        ours[fmt] = tmp_path / created.file_name
        await download(channel, admin, created.export_id, ours[fmt])

    our_coco = readers.check_coco(ours["coco"])
    their_coco = json.loads(
        (convert(config, ours["json"], tmp_path / "ls-coco", "COCO") / "result.json").read_text()
    )
    assert len(their_coco["annotations"]) == len(our_coco["annotations"]) >= 2
    names = {c["id"]: c["name"] for c in their_coco["categories"]}
    our_names = {c["id"]: c["name"] for c in our_coco["categories"]}
    for theirs, mine in zip(their_coco["annotations"], our_coco["annotations"], strict=True):
        assert names[theirs["category_id"]] == our_names[mine["category_id"]]
        assert theirs["bbox"] == pytest.approx(mine["bbox"], abs=0.01)

    yolo_dir = convert(config, ours["json"], tmp_path / "ls-yolo", "YOLO")
    their_lines = sorted(
        line for f in (yolo_dir / "labels").glob("*.txt") for line in f.read_text().splitlines()
    )
    our_lines = sorted(
        line for lines in readers.check_yolo(ours["yolo"])["labels"].values() for line in lines
    )
    assert len(their_lines) == len(our_lines) >= 2

    if task_type == "polygon":
        return  # Label Studio's VOC converter writes rectangles only
    voc_dir = convert(config, ours["json"], tmp_path / "ls-voc", "VOC")
    their_objects = [
        obj.findtext("name")
        for f in sorted((voc_dir / "Annotations").glob("*.xml"))
        for obj in ET.parse(f).getroot().iter("object")
    ]
    our_objects = [
        o["name"] for e in readers.check_pascal_voc(ours["pascal_voc"]) for o in e["objects"]
    ]
    assert sorted(their_objects) == sorted(our_objects)
