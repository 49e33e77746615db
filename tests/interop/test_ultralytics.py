"""Ultralytics' own dataset check reads the unzipped yolo export from any directory."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import grpc
import pytest

from tests.helpers import TestUser
from tests.interop.support import export_file, write_image

pytest.importorskip("ultralytics", reason="opt-in: make interop")


async def test_check_det_dataset_and_yolo_dataset_read_the_export(
    channel: grpc.aio.Channel,
    admin: TestUser,
    annotator: TestUser,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ultralytics.data.dataset import YOLODataset
    from ultralytics.data.utils import check_det_dataset

    path = await export_file(channel, admin, annotator, tmp_path, "object_detection", "yolo")
    dataset = tmp_path / "dataset"
    with zipfile.ZipFile(path) as archive:
        archive.extractall(dataset)
    for entry in json.loads((dataset / "manifest.json").read_text(encoding="utf-8")):
        write_image(dataset / entry["image"])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    data = check_det_dataset(str(dataset / "data.yaml"), autodownload=False)

    assert Path(data["path"]) == dataset
    assert Path(data["train"]) == dataset / "train.txt"
    yolo = YOLODataset(img_path=data["train"], data=data, task="detect", augment=False)
    assert len(yolo.labels) == 3
    assert sorted(len(label["cls"]) for label in yolo.labels) == [1, 1, 1]

    # the layout it replaced: `path: .` resolves against the working directory
    old = dataset / "old.yaml"
    old.write_text("path: .\n" + (dataset / "data.yaml").read_text(encoding="utf-8"))
    with pytest.raises(FileNotFoundError):
        check_det_dataset(str(old), autodownload=False)
