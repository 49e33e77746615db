"""Independent readers of export files: what downstream tools would check.

Nothing here imports the writers: each check follows the consuming tool's own
rules (pycocotools, Ultralytics' dataset rules, ElementTree and lxml, the csv
module).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import unicodedata
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from lxml import etree

FIXED_DECIMALS = re.compile(r"^\d\.\d{6}$")
# Ultralytics' image suffixes (ultralytics.data.utils.IMG_FORMATS).
IMG_FORMATS = {"bmp", "dng", "jpeg", "jpg", "mpo", "png", "tif", "tiff", "webp", "pfm", "heic"}


def on_any_file_system(name: str) -> str:
    """A file name as macOS and Windows compare them (case and normalization ignored)."""
    return unicodedata.normalize("NFC", name).casefold()


def assert_distinct_files(names: list[str]) -> None:
    """The names are distinct files on every file system, and so are their stems
    (YOLO label files and VOC xml files are named after the stem)."""
    folded = [on_any_file_system(name) for name in names]
    assert len(set(folded)) == len(folded), names
    assert len({PurePosixPath(name).stem for name in folded}) == len(folded), names


def read_json(path: Path) -> Any:
    return json.loads(path.read_bytes())


def check_coco(path: Path) -> dict[str, Any]:
    """Load with pycocotools and evaluate the file against itself: AP must be 1.0."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        ground_truth = COCO(str(path))
    data = read_json(path)  # COCOeval rewrites the loaded polygons as RLE: keep a copy
    category_ids = [c["id"] for c in data["categories"]]
    assert category_ids == list(range(1, len(category_ids) + 1))
    image_ids = {image["id"] for image in data["images"]}
    assert_distinct_files([image["file_name"] for image in data["images"]])
    for image in data["images"]:
        assert image["width"] > 0 and image["height"] > 0 and image["file_name"]
    for ann in data["annotations"]:
        assert ann["image_id"] in image_ids and ann["category_id"] in category_ids
        assert ann["iscrowd"] == 0 and ann["area"] > 0
        _, _, w, h = ann["bbox"]
        assert w > 0 and h > 0
        polygon = ann["segmentation"][0]
        assert len(polygon) >= 6 and len(polygon) % 2 == 0
    if data["annotations"]:
        detections = [
            {
                "image_id": a["image_id"],
                "category_id": a["category_id"],
                "bbox": a["bbox"],
                "segmentation": a["segmentation"],
                "score": 1.0,
            }
            for a in data["annotations"]
        ]
        for iou_type in ("bbox", "segm"):
            with contextlib.redirect_stdout(io.StringIO()):
                results = ground_truth.loadRes(detections)
                evaluation = COCOeval(ground_truth, results, iou_type)
                evaluation.evaluate()
                evaluation.accumulate()
                evaluation.summarize()
            assert abs(evaluation.stats[0] - 1.0) < 1e-9, (iou_type, evaluation.stats)
    return data


def check_yolo(path: Path) -> dict[str, Any]:
    """Check a YOLO zip against Ultralytics' dataset rules; return what it holds."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        for name in names:
            assert not name.startswith("/") and "\\" not in name and ":" not in name, name
            assert ".." not in PurePosixPath(name).parts, name
        assert len(names) == len(set(names))
        data = yaml.safe_load(archive.read("data.yaml"))
        for key in ("train", "val", "nc", "names"):
            assert key in data, key
        # without `path`, Ultralytics takes the yaml's own folder as the dataset root
        assert "path" not in data
        classes = data["names"]
        if isinstance(classes, dict):
            assert sorted(classes) == list(range(len(classes)))
            classes = [classes[i] for i in range(len(classes))]
        assert data["nc"] == len(classes)
        assert archive.read("classes.txt").decode("utf-8").splitlines() == classes
        images = archive.read(data["train"]).decode("utf-8").splitlines()
        stems = set()
        labels: dict[str, list[str]] = {}
        for image in images:
            assert image.startswith("./images/"), image
            image_path = PurePosixPath(image[2:])
            assert image_path.suffix[1:].lower() in IMG_FORMATS
            # Ultralytics: /images/ -> /labels/, suffix -> .txt
            label_path = str(image_path.with_suffix(".txt")).replace("images/", "labels/", 1)
            assert label_path in names, label_path
            assert image_path.stem not in stems
            stems.add(image_path.stem)
            lines = archive.read(label_path).decode("utf-8").splitlines()
            for line in lines:
                _check_label_line(line, len(classes))
            labels[str(image_path)] = lines
        manifest = json.loads(archive.read("manifest.json"))
        assert sorted(entry["image"] for entry in manifest) == sorted(labels)
        assert_distinct_files([PurePosixPath(image).name for image in labels])
    return {"data": data, "classes": classes, "labels": labels, "manifest": manifest}


def _check_label_line(line: str, class_count: int) -> None:
    values = line.split(" ")
    class_id = int(values[0])
    assert 0 <= class_id < class_count, line
    coords = values[1:]
    assert len(coords) == 4 or (len(values) % 2 == 1 and len(values) >= 7), line
    for value in coords:
        assert FIXED_DECIMALS.match(value), line
        assert 0.0 <= float(value) <= 1.0, line


def check_pascal_voc(path: Path) -> list[dict[str, Any]]:
    """Parse every xml_content with ElementTree and compare it with `objects`."""
    elements = read_json(path)
    assert_distinct_files([element["filename"] for element in elements])
    for element in elements:
        assert set(element) >= {"image", "filename", "xml_content", "objects"}
        # the document as given (a str), by both parsers
        lxml_root = etree.fromstring(element["xml_content"])
        root = ET.fromstring(element["xml_content"])
        assert lxml_root.findtext("filename") == root.findtext("filename")
        assert root.tag == "annotation"
        assert root.findtext("filename") == element["filename"]
        width = int(root.findtext("size/width") or 0)
        height = int(root.findtext("size/height") or 0)
        assert width > 0 and height > 0 and root.findtext("size/depth") == "3"
        objects = root.findall("object")
        assert len(objects) == len(element["objects"])
        for node, obj in zip(objects, element["objects"], strict=True):
            assert node.findtext("name") == obj["name"]
            box = {k: int(node.findtext(f"bndbox/{k}") or -1) for k in obj["bndbox"]}
            assert box == obj["bndbox"]
            assert 1 <= box["xmin"] <= box["xmax"] <= width
            assert 1 <= box["ymin"] <= box["ymax"] <= height
    return elements


def read_csv(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "csv must start with a UTF-8 BOM"
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def check_sharegpt(path: Path) -> list[dict[str, Any]]:
    """LLaMA-Factory sharegpt: human/gpt alternate, starting with human, even count."""
    elements = read_json(path)
    for element in elements:
        turns = element["conversations"]
        assert len(turns) % 2 == 0 and turns
        for index, turn in enumerate(turns):
            assert turn["from"] == ("human" if index % 2 == 0 else "gpt")
            assert isinstance(turn["value"], str) and turn["value"]
        if "images" in element:
            placeholders = sum(t["value"].count("<image>") for t in turns)
            assert placeholders == len(element["images"])
            _check_media(element)
    return elements


def _check_media(element: dict[str, Any]) -> None:
    """Images are file names under LLaMA-Factory's media_dir, each with its URL."""
    assert len(element["image_urls"]) == len(element["images"])
    for name, url in zip(element["images"], element["image_urls"], strict=True):
        assert "/" not in name and "://" not in name and name not in (".", "..")
        assert PurePosixPath(name).suffix[1:] in IMG_FORMATS
        assert url.startswith(("http://", "https://"))


def check_alpaca(path: Path) -> list[dict[str, Any]]:
    elements = read_json(path)
    for element in elements:
        text = {"instruction", "input", "output"}
        assert set(element) in (text, text | {"images", "image_urls"})
        assert all(isinstance(element[key], str) for key in text)
        assert element["instruction"] and element["output"]
        if "images" in element:
            assert element["instruction"].count("<image>") == len(element["images"])
            _check_media(element)
    return elements
