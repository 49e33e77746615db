"""Exports of a project whose images share file names, opened as the tools open them:
globox reads the COCO and Pascal VOC files, and the YOLO zip resolves by
Ultralytics' rules from any working directory."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml
from globox import AnnotationSet

from tests.exports import readers
from tests.exports.samples import rectangle
from tests.exports.support import Item, build_project, create_export, download
from tests.helpers import TestUser

COLLIDING = [
    Item("https://cdn.example.com/cam_a/0001.jpg", [rectangle("正面", 10, 10, 20, 20)]),
    Item("https://cdn.example.com/cam_b/0001.jpg", [rectangle("负面", 50, 50, 30, 30)]),
    Item("https://cdn.example.com/cam_b/0001.jpg", [rectangle("负面", 5, 5, 10, 10)]),
]


async def exported(
    channel: grpc.aio.Channel, admin: TestUser, annotator: TestUser, tmp_path: Path, fmt: str
) -> Path:
    project_id, _ = await build_project(channel, admin, annotator, "object_detection", COLLIDING)
    created = await create_export(channel, admin, project_id, fmt)
    path = tmp_path / created.file_name
    await download(channel, admin, created.export_id, path)
    return path


async def test_globox_reads_coco_with_one_image_per_task(
    channel: grpc.aio.Channel, admin: TestUser, annotator: TestUser, tmp_path: Path
) -> None:
    path = await exported(channel, admin, annotator, tmp_path, "coco")
    annotations = AnnotationSet.from_coco(path)
    assert sorted(annotations.image_ids) == [
        "cam_a__0001.jpg",
        "cam_b__0001.jpg",
        "cam_b__0001__T-" + str(readers.read_json(path)["images"][2]["id"]) + ".jpg",
    ]
    assert annotations.nb_boxes() == 3


async def test_globox_reads_pascal_voc_documents_as_files(
    channel: grpc.aio.Channel, admin: TestUser, annotator: TestUser, tmp_path: Path
) -> None:
    path = await exported(channel, admin, annotator, tmp_path, "pascal_voc")
    folder = tmp_path / "Annotations"
    folder.mkdir()
    for element in readers.check_pascal_voc(path):
        stem = Path(element["filename"]).stem
        (folder / f"{stem}.xml").write_text(element["xml_content"], encoding="utf-8")
    annotations = AnnotationSet.from_pascal_voc(folder)
    assert len(annotations) == 3 and annotations.nb_boxes() == 3


def ultralytics_dataset_root(data: dict[str, Any], yaml_file: Path, datasets_dir: Path) -> Path:
    """The dataset root as ultralytics.data.utils.check_det_dataset finds it:
    `path` when given (relative: against the working directory if it exists there,
    else against the datasets directory), else the yaml's folder."""
    root = Path(data.get("path") or yaml_file.parent)
    if not root.exists() and not root.is_absolute():
        root = (datasets_dir / root).resolve()
    return root


def ultralytics_images(listing: Path) -> list[Path]:
    """The images of a split given as a .txt list (ultralytics.data.base
    get_img_files): lines starting with "./" are relative to the list's folder."""
    parent = str(listing.parent) + os.sep
    lines = listing.read_text(encoding="utf-8").splitlines()
    return [Path(x.replace("./", parent, 1) if x.startswith("./") else x) for x in lines]


async def test_yolo_data_yaml_resolves_against_its_own_folder_from_anywhere(
    channel: grpc.aio.Channel,
    admin: TestUser,
    annotator: TestUser,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = await exported(channel, admin, annotator, tmp_path, "yolo")
    dataset = tmp_path / "unzipped"
    with zipfile.ZipFile(path) as archive:
        archive.extractall(dataset)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    yaml_file = dataset / "data.yaml"
    data = yaml.safe_load(yaml_file.read_text(encoding="utf-8"))

    root = ultralytics_dataset_root(data, yaml_file, tmp_path / "datasets")
    assert root == dataset
    for split in ("train", "val"):
        listing = (root / data[split]).resolve()
        assert listing.is_file()
        images = ultralytics_images(listing)
        assert len(images) == 3 and len({p.name for p in images}) == 3
        for image in images:
            assert image.parent == dataset / "images" / "train"
            # Ultralytics: /images/ -> /labels/ and the suffix -> .txt
            label = Path(str(image).replace(f"{os.sep}images{os.sep}", f"{os.sep}labels{os.sep}"))
            assert label.with_suffix(".txt").is_file()
    # what "path: ." gave: the working directory, where the dataset is not
    assert ultralytics_dataset_root({"path": "."}, yaml_file, tmp_path / "datasets") != dataset
