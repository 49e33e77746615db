"""Every format x task type, through the real services, read back independently."""

from __future__ import annotations

import json
import re
from pathlib import Path

import grpc
import pytest
from annotation.v1 import common_pb2, export_service_pb2

from tests.exports import readers
from tests.exports.support import Item, build_project, create_export, download, export_stub
from tests.helpers import TestUser, rpc_error

SUPPORTED = {
    "json": ["text_classification", "image_classification", "object_detection", "ner", "polygon"],
    "csv": ["text_classification", "image_classification", "object_detection", "ner", "polygon"],
    "sharegpt": ["text_classification", "image_classification", "ner"],
    "alpaca": ["text_classification", "image_classification", "ner"],
    "coco": ["object_detection", "polygon"],
    "yolo": ["object_detection", "polygon"],
    "pascal_voc": ["object_detection", "polygon"],
}
CASES = [(fmt, task_type) for fmt, types in SUPPORTED.items() for task_type in types]
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "yolo": "application/zip"}


@pytest.mark.parametrize(("fmt", "task_type"), CASES)
async def test_export_reads_back(
    channel: grpc.aio.Channel,
    admin: TestUser,
    annotator: TestUser,
    tmp_path: Path,
    fmt: str,
    task_type: str,
) -> None:
    project_id, task_ids = await build_project(channel, admin, annotator, task_type)
    created = await create_export(channel, admin, project_id, fmt)

    assert created.total_exported == 2  # completed_only by default: the pending task is left out
    extension = "zip" if fmt == "yolo" else ("csv" if fmt == "csv" else "json")
    assert re.fullmatch(rf"export_{project_id}_{fmt}_\d{{8}}\.{extension}", created.file_name)
    assert created.file_url == f"/api/exports/{created.export_id}/download"
    assert created.export_id.startswith("exp_")
    path = tmp_path / created.file_name
    first = await download(channel, admin, created.export_id, path)
    assert first.file_name == created.file_name
    assert first.file_size == created.file_size == path.stat().st_size
    assert first.content_type == CONTENT_TYPES.get(fmt, "application/json")
    check_contents(fmt, task_type, path, task_ids)


def check_contents(fmt: str, task_type: str, path: Path, task_ids: list[str]) -> None:
    if fmt == "json":
        elements = readers.read_json(path)
        assert [e["task_id"] for e in elements] == task_ids[:2]
        assert all(e["annotator"] == "carol" and len(e["annotations"]) == 1 for e in elements)
        assert elements[0]["display_id"] == f"T-{task_ids[0]}"
    elif fmt == "csv":
        rows = readers.read_csv(path)
        assert [r["task_id"] for r in rows] == task_ids[:2]
        if task_type == "text_classification":
            assert rows[1]["content"].startswith("'=")  # formula neutralized
            assert rows[0]["labels"] == "正面"
    elif fmt == "sharegpt":
        elements = readers.check_sharegpt(path)
        assert len(elements) == 2
    elif fmt == "alpaca":
        elements = readers.check_alpaca(path)
        if task_type == "ner":
            assert json.loads(elements[0]["output"])[1] == {
                "text": "北京",
                "label": "LOC",
                "start": 3,
                "end": 5,
            }
        elif task_type == "image_classification":
            assert elements[0]["images"] == ["a__cat.jpg"]
            assert elements[0]["image_urls"] == ["https://img.example.com/a/cat.jpg"]
        else:
            assert [e["output"] for e in elements] == ["正面", "负面"]
    elif fmt == "coco":
        data = readers.check_coco(path)
        assert [i["id"] for i in data["images"]] == [int(t) for t in task_ids[:2]]
        assert [c["name"] for c in data["categories"]][:2] == ["正面", "负面"]
    elif fmt == "yolo":
        found = readers.check_yolo(path)
        assert len(found["labels"]) == 2 and found["classes"][:2] == ["正面", "负面"]
    elif fmt == "pascal_voc":
        elements = readers.check_pascal_voc(path)
        assert len(elements) == 2 and elements[0]["filename"] == "a__cat.jpg"


async def test_completed_only_false_exports_every_task(
    channel: grpc.aio.Channel, admin: TestUser, annotator: TestUser, tmp_path: Path
) -> None:
    project_id, _ = await build_project(channel, admin, annotator, "object_detection")
    created = await create_export(channel, admin, project_id, "coco", completed_only=False)
    assert created.total_exported == 3
    path = tmp_path / "all.json"
    await download(channel, admin, created.export_id, path)
    data = readers.check_coco(path)
    assert data["images"][2]["width"] == 320  # from the task metadata


@pytest.mark.parametrize(
    ("task_type", "fmt"),
    [("text_classification", "coco"), ("object_detection", "sharegpt"), ("ner", "yolo")],
)
async def test_format_not_available_for_task_type(
    channel: grpc.aio.Channel, admin: TestUser, annotator: TestUser, task_type: str, fmt: str
) -> None:
    project_id, _ = await build_project(channel, admin, annotator, task_type)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await create_export(channel, admin, project_id, fmt)
    error = rpc_error(caught.value)
    assert error.code is grpc.StatusCode.INVALID_ARGUMENT
    assert error.error_code == "INVALID_REQUEST"
    assert sorted(error.details["supported"]) == sorted(
        f for f, types in SUPPORTED.items() if task_type in types
    )


async def test_list_export_formats(channel: grpc.aio.Channel, admin: TestUser) -> None:
    listed = await export_stub(channel).ListExportFormats(
        export_service_pb2.ListExportFormatsRequest(), metadata=admin.metadata
    )
    found = {
        common_pb2.ExportFormat.Name(f.format).removeprefix("EXPORT_FORMAT_").lower(): [
            common_pb2.TaskType.Name(t).removeprefix("TASK_TYPE_").lower() for t in f.task_types
        ]
        for f in listed.formats
    }
    assert {k: sorted(v) for k, v in found.items()} == {k: sorted(v) for k, v in SUPPORTED.items()}


async def test_unknown_format_number(
    channel: grpc.aio.Channel, admin: TestUser, annotator: TestUser
) -> None:
    project_id, _ = await build_project(channel, admin, annotator, "ner")
    request = export_service_pb2.CreateExportRequest(project_id=project_id, format=99)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await export_stub(channel).CreateExport(request, metadata=admin.metadata)
    error = rpc_error(caught.value)
    assert error.error_code == "INVALID_REQUEST" and "json" in error.details["supported"]


async def test_coco_file_names_hold_no_path_tricks_or_control_characters(
    channel: grpc.aio.Channel, admin: TestUser, annotator: TestUser, tmp_path: Path
) -> None:
    size = {"width": 64, "height": 48}
    items = [
        Item("https://img.example.com/a/%2E%2E", None, size),
        Item("https://img.example.com/nul%00name.png", None, size),
        Item("https://img.example.com/line%0Abreak.png", None, size),
    ]
    project_id, _ = await build_project(channel, admin, annotator, "object_detection", items)
    created = await create_export(channel, admin, project_id, "coco", completed_only=False)
    path = tmp_path / "coco.json"
    await download(channel, admin, created.export_id, path)
    names = [image["file_name"] for image in readers.check_coco(path)["images"]]
    assert names == ["a.jpg", "nul_name.png", "line_break.png"]
    assert all(".." not in name and name.isprintable() for name in names)
