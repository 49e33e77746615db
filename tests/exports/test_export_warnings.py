"""Negatives, the best image size known, and exports that never fail on one
task: each detection format on realistic records, read back by the readers."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from server.exports.formats.warnings import MAX_LISTED, listed_warnings
from storage.export_records import ExportWarning
from tests.exports import readers
from tests.exports.realistic import (
    FOLDER,
    absurd_regions,
    box,
    make_task,
    realistic_detection_tasks,
    wide_region,
)
from tests.exports.samples import write_export

LABELS = ("car", "person")


def test_coco_lists_negatives_and_leaves_out_only_the_task_without_a_size(
    tmp_path: Path,
) -> None:
    path, writer = write_export(
        tmp_path, "coco", "object_detection", realistic_detection_tasks(), LABELS
    )
    data = readers.check_coco(path)  # pycocotools, with the negative present
    images = {image["id"]: image for image in data["images"]}
    assert sorted(images) == [1, 2, 3, 4, 5, 7]
    # the negative: listed, with its recorded size, and no annotations
    assert (images[3]["width"], images[3]["height"]) == (800, 600)
    assert not [a for a in data["annotations"] if a["image_id"] == 3]
    # each size from its one source: regions, recorded, metadata
    assert (images[1]["width"], images[2]["width"], images[5]["width"]) == (640, 1280, 1024)
    per_image = {i: sum(a["image_id"] == i for a in data["annotations"]) for i in images}
    assert per_image == {1: 3, 2: 3, 3: 0, 4: 1, 5: 3, 7: 3}
    # the sub-pixel overrun is clamped to the 200 x 100 image
    [overrun] = [a for a in data["annotations"] if a["image_id"] == 4]
    assert overrun["bbox"] == [180.0, 90.0, 20.0, 10.0]
    assert writer.exported == 6
    [warning] = writer.warnings.listed
    assert (warning.task_id, warning.display_id) == ("6", "T-6")
    assert warning.message.startswith("left out of the file: the image's size is unknown")


def test_yolo_writes_every_task_and_an_empty_label_file_for_a_negative(tmp_path: Path) -> None:
    path, writer = write_export(
        tmp_path, "yolo", "object_detection", realistic_detection_tasks(), LABELS
    )
    found = readers.check_yolo(path)
    assert writer.exported == 7 and len(found["labels"]) == 7
    empty = [image for image, lines in found["labels"].items() if not lines]
    assert len(empty) == 2  # both negatives, with or without a size
    assert writer.warnings.count == 0


def test_pascal_voc_writes_a_negative_as_a_document_without_objects(tmp_path: Path) -> None:
    path, writer = write_export(
        tmp_path, "pascal_voc", "object_detection", realistic_detection_tasks(), LABELS
    )
    elements = readers.check_pascal_voc(path)
    assert writer.exported == 6 and len(elements) == 6
    [negative] = [e for e in elements if e["image"] == FOLDER + "X.png"]
    root = etree.fromstring(negative["xml_content"])
    assert root.findall("object") == [] and negative["objects"] == []
    assert (root.findtext("size/width"), root.findtext("size/height")) == ("800", "600")
    assert [w.display_id for w in writer.warnings.listed] == ["T-6"]


def test_the_best_size_known_is_metadata_then_recorded_then_any_region(tmp_path: Path) -> None:
    region = [box("car", 10, 10, 10, 10, size=(640, 480))]
    unsized = [box("car", 10, 10, 10, 10)]
    tasks = [
        make_task(
            1, FOLDER + "1.jpg", region, metadata={"width": 320, "height": 240}, recorded=(1, 1)
        ),
        make_task(2, FOLDER + "2.jpg", region, recorded=(1000, 500)),
        make_task(3, FOLDER + "3.jpg", region),
        # the latest annotation has no size, an older one has
        make_task(4, FOLDER + "4.jpg", region, unsized),
        make_task(5, FOLDER + "5.jpg", [], metadata={"original_width": 50, "original_height": 40}),
    ]
    path, writer = write_export(tmp_path, "coco", "object_detection", tasks, LABELS)
    sizes = [(i["width"], i["height"]) for i in readers.check_coco(path)["images"]]
    assert sizes == [(320, 240), (1000, 500), (640, 480), (640, 480), (50, 40)]
    assert writer.warnings.count == 0


@pytest.mark.parametrize(
    ("fmt", "task_type"),
    [
        ("coco", "object_detection"),
        ("yolo", "object_detection"),
        ("pascal_voc", "object_detection"),
        ("coco", "polygon"),
        ("yolo", "polygon"),
        ("pascal_voc", "polygon"),
    ],
)
def test_absurd_coordinates_are_left_out_and_named(
    tmp_path: Path, fmt: str, task_type: str
) -> None:
    good = box("car", 10, 10, 20, 20, size=(640, 480))
    tasks = [
        make_task(1, FOLDER + "bad.jpg", [good, *absurd_regions(), wide_region()]),
        make_task(2, FOLDER + "fine.jpg", [good]),
    ]
    path, writer = write_export(tmp_path, fmt, task_type, tasks, LABELS)
    assert writer.exported == 2
    [warning] = writer.warnings.listed
    assert warning.display_id == "T-1" and warning.task_id == "1"
    assert warning.message.startswith(f"{len(absurd_regions())} regions left out")
    if fmt == "coco":
        data = readers.check_coco(path)
        boxes = [a["bbox"] for a in data["annotations"] if a["image_id"] == 1]
        assert boxes == [[64.0, 48.0, 128.0, 96.0], [320.0, 48.0, 320.0, 48.0]]
    elif fmt == "yolo":
        labels = readers.check_yolo(path)["labels"]
        assert [len(lines) for lines in labels.values()] == [2, 1]
    else:
        elements = readers.check_pascal_voc(path)
        assert elements[0]["objects"][1]["bndbox"] == {
            "xmin": 321,
            "ymin": 49,
            "xmax": 640,
            "ymax": 96,
        }


def test_yolo_names_a_rotated_box_turned_without_the_image_size(tmp_path: Path) -> None:
    rotated = box("car", 30, 30, 20, 10, rotation=30)
    path, writer = write_export(
        tmp_path, "yolo", "object_detection", [make_task(1, FOLDER + "r.jpg", [rotated])], LABELS
    )
    assert len(readers.check_yolo(path)["labels"]["images/train/dup__r.jpg"]) == 1
    [warning] = writer.warnings.listed
    assert "rotated rectangles" in warning.message and warning.display_id == "T-1"


@pytest.mark.parametrize("fmt", ["coco", "pascal_voc"])
def test_warnings_name_the_first_tasks_and_count_the_rest(tmp_path: Path, fmt: str) -> None:
    tasks = [make_task(i, f"{FOLDER}{i}.jpg", []) for i in range(1, 151)]
    tasks.append(make_task(151, FOLDER + "sized.jpg", [], recorded=(10, 10)))
    path, writer = write_export(tmp_path, fmt, "object_detection", tasks, LABELS)
    assert writer.exported == 1 and writer.warnings.count == 150
    reported = listed_warnings(writer.warnings.listed, writer.warnings.count)
    assert len(reported) == MAX_LISTED + 1
    assert [w.display_id for w in reported[:3]] == ["T-1", "T-2", "T-3"]
    assert reported[-1] == ExportWarning(
        "", "", "50 more tasks were written incompletely (the first 100 are listed)"
    )
    if fmt == "coco":
        assert [i["id"] for i in readers.check_coco(path)["images"]] == [151]
    else:
        assert [e["image"] for e in readers.check_pascal_voc(path)] == [FOLDER + "sized.jpg"]
