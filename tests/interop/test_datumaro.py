"""datumaro imports the coco export and the VOC folder of docs/exports.md: one item
per image, no RepeatedItemError for images that share a file name."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import grpc
import pytest

from tests.helpers import TestUser
from tests.interop.support import export_file, write_image

pytest.importorskip("datumaro", reason="opt-in: make interop")


async def test_datumaro_imports_coco(
    channel: grpc.aio.Channel, admin: TestUser, annotator: TestUser, tmp_path: Path
) -> None:
    import datumaro as dm

    path = await export_file(channel, admin, annotator, tmp_path, "object_detection", "coco")
    root = tmp_path / "coco"
    (root / "annotations").mkdir(parents=True)
    shutil.copy(path, root / "annotations" / "instances_default.json")
    for image in json.loads(path.read_text(encoding="utf-8"))["images"]:
        write_image(root / "images" / "default" / image["file_name"])

    dataset = dm.Dataset.import_from(str(root), "coco_instances")

    assert len(dataset) == 3
    boxes = [a for item in dataset for a in item.annotations if a.type == dm.AnnotationType.bbox]
    assert len(boxes) == 3


def write_voc_folder(export: Path, root: Path) -> None:
    """The recipe of docs/exports.md, as a user runs it."""
    elements = json.loads(export.read_text(encoding="utf-8"))
    (root / "Annotations").mkdir(parents=True)
    (root / "ImageSets/Main").mkdir(parents=True)
    stems = [Path(e["filename"]).stem for e in elements]
    for stem, e in zip(stems, elements, strict=True):
        (root / "Annotations" / f"{stem}.xml").write_text(e["xml_content"], encoding="utf-8")
    (root / "ImageSets/Main/train.txt").write_text("".join(f"{s}\n" for s in stems))
    labels = dict.fromkeys(o["name"] for e in elements for o in e["objects"])
    (root / "labelmap.txt").write_text(
        "# label:color_rgb:parts:actions\nbackground:0,0,0::\n"
        + "".join(f"{n}:::\n" for n in labels),
        encoding="utf-8",
    )


async def test_datumaro_imports_the_voc_folder(
    channel: grpc.aio.Channel, admin: TestUser, annotator: TestUser, tmp_path: Path
) -> None:
    import datumaro as dm

    path = await export_file(channel, admin, annotator, tmp_path, "object_detection", "pascal_voc")
    root = tmp_path / "voc"
    write_voc_folder(path, root)

    dataset = dm.Dataset.import_from(str(root), "voc_detection")

    assert len(dataset) == 3
    boxes = [a for item in dataset for a in item.annotations if a.type == dm.AnnotationType.bbox]
    assert len(boxes) == 3
