"""Each writer on hand-made tasks, read back by the independent readers."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from storage.export_records import ExportTask
from tests.exports import readers
from tests.exports.samples import choice, polygon, rectangle, span, task, write_export


def export(
    tmp_path: Path,
    fmt: str,
    task_type: str,
    tasks: Sequence[ExportTask],
    labels: Sequence[str] = ("cat", "dog"),
) -> tuple[Path, int]:
    path, writer = write_export(tmp_path, fmt, task_type, tasks, labels)
    return path, writer.exported


def detection_tasks() -> list[ExportTask]:
    return [
        task(
            1,
            "https://img.example.com/a/cat.jpg",
            [rectangle("cat", 0, 0, 100, 100)],  # older annotation: ignored
            [rectangle("cat", 10, 20, 30, 40), rectangle("dog", 50, 50, 25, 25)],
        ),
        task(2, "https://img.example.com/b/cat.jpg", [rectangle("dog", 0, 0, 50, 50)]),
        task(3, "https://img.example.com/empty.png", [], metadata={"width": 100, "height": 50}),
    ]


def polygon_tasks() -> list[ExportTask]:
    return [
        task(
            7,
            "https://img.example.com/p.jpg",
            [
                polygon("cat", [[10, 10], [50, 10], [50, 60], [10, 60]]),
                polygon("dog", [[60, 60], [90, 70], [70, 90]]),
            ],
        ),
    ]


def test_coco_detection_reads_back_with_exact_pixels(tmp_path: Path) -> None:
    path, exported = export(tmp_path, "coco", "object_detection", detection_tasks())
    data = readers.check_coco(path)
    assert exported == 3 and len(data["images"]) == 3
    assert [c["name"] for c in data["categories"]] == ["cat", "dog"]
    first = data["annotations"][0]
    assert first["bbox"] == [64.0, 96.0, 192.0, 192.0] and first["area"] == 36864.0
    assert first["segmentation"] == [[64.0, 96.0, 256.0, 96.0, 256.0, 288.0, 64.0, 288.0]]
    assert [a["id"] for a in data["annotations"]] == [1, 2, 3]
    # cat.jpg in two folders: two names, each from its URL path
    assert [i["file_name"] for i in data["images"]] == ["a__cat.jpg", "b__cat.jpg", "empty.png"]
    assert data["images"][0]["coco_url"] == "https://img.example.com/a/cat.jpg"
    assert data["images"][2]["width"] == 100


def test_coco_polygon_area_is_the_polygon_area(tmp_path: Path) -> None:
    path, _ = export(tmp_path, "coco", "polygon", polygon_tasks())
    data = readers.check_coco(path)
    square = data["annotations"][0]
    assert square["area"] == pytest.approx(256 * 240)
    assert len(square["segmentation"][0]) == 8


def test_yolo_boxes_and_unique_stems(tmp_path: Path) -> None:
    path, exported = export(tmp_path, "yolo", "object_detection", detection_tasks())
    found = readers.check_yolo(path)
    assert exported == 3 and found["classes"] == ["cat", "dog"]
    labels = found["labels"]
    assert labels["images/train/a__cat.jpg"] == [
        "0 0.250000 0.400000 0.300000 0.400000",
        "1 0.625000 0.625000 0.250000 0.250000",
    ]
    assert labels["images/train/b__cat.jpg"] == ["1 0.250000 0.250000 0.500000 0.500000"]
    assert labels["images/train/empty.png"] == []
    manifest = {e["image"]: e["url"] for e in found["manifest"]}
    assert manifest["images/train/b__cat.jpg"] == "https://img.example.com/b/cat.jpg"


def test_yolo_polygons(tmp_path: Path) -> None:
    path, _ = export(tmp_path, "yolo", "polygon", polygon_tasks())
    lines = readers.check_yolo(path)["labels"]["images/train/p.jpg"]
    assert lines[0] == "0 " + " ".join(
        [
            "0.100000",
            "0.100000",
            "0.500000",
            "0.100000",
            "0.500000",
            "0.600000",
            "0.100000",
            "0.600000",
        ]
    )
    assert len(lines[1].split()) == 7


def test_yolo_entry_names_are_safe_for_hostile_urls(tmp_path: Path) -> None:
    hostile = [
        task(1, "https://x.example/../../etc/passwd", [rectangle("cat", 1, 1, 5, 5)]),
        task(2, "https://x.example/a%2F..%2F..%2Fevil.jpg", [rectangle("cat", 1, 1, 5, 5)]),
        task(3, "C:\\images\\win.PNG", [rectangle("cat", 1, 1, 5, 5)]),
        task(4, "https://x.example/", [rectangle("cat", 1, 1, 5, 5)]),
        task(5, "https://x.example/猫 咪.jpeg?x=1", [rectangle("cat", 1, 1, 5, 5)]),
    ]
    path, _ = export(tmp_path, "yolo", "object_detection", hostile)
    found = readers.check_yolo(path)
    assert len(found["labels"]) == 5
    with zipfile.ZipFile(path) as archive:
        assert all(".." not in n for n in archive.namelist())
    assert sorted(found["labels"]) == [
        "images/train/C__images__win.png",
        "images/train/T-4.jpg",
        "images/train/a__evil.jpg",
        "images/train/etc__passwd.jpg",
        "images/train/猫_咪.jpeg",
    ]


def test_pascal_voc_one_based_inclusive(tmp_path: Path) -> None:
    path, exported = export(tmp_path, "pascal_voc", "object_detection", detection_tasks())
    elements = readers.check_pascal_voc(path)
    assert exported == 3
    assert elements[0]["objects"][0] == {
        "name": "cat",
        "bndbox": {"xmin": 65, "ymin": 97, "xmax": 256, "ymax": 288},
    }
    assert elements[1]["objects"][0]["bndbox"] == {"xmin": 1, "ymin": 1, "xmax": 320, "ymax": 240}
    assert [e["filename"] for e in elements] == ["a__cat.jpg", "b__cat.jpg", "empty.png"]
    assert elements[0]["image"] == "https://img.example.com/a/cat.jpg"


def test_pascal_voc_polygon_is_its_bounding_box_and_xml_is_clean(tmp_path: Path) -> None:
    tasks = polygon_tasks()
    tasks[0].annotations[0].result[0]["value"]["polygonlabels"] = ["c\x01a\x0bt\ufffe"]
    path, _ = export(tmp_path, "pascal_voc", "polygon", tasks, labels=("cat",))
    elements = readers.check_pascal_voc(path)
    assert elements[0]["objects"][0] == {
        "name": "cat",
        "bndbox": {"xmin": 65, "ymin": 49, "xmax": 320, "ymax": 288},
    }


def test_pascal_voc_boxes_hold_every_touched_pixel(tmp_path: Path) -> None:
    # 320.5 .. 360.5 px on a 1000 px wide image: pixels 321..361, 1-based (floor + 1, ceil)
    tasks = [
        task(
            1,
            "https://img.example.com/half.jpg",
            [rectangle("cat", 32.05, 10.05, 4.0, 4.0, size=(1000, 1000))],
        )
    ]
    path, _ = export(tmp_path, "pascal_voc", "object_detection", tasks)
    [element] = readers.check_pascal_voc(path)
    assert element["objects"][0]["bndbox"] == {"xmin": 321, "ymin": 101, "xmax": 361, "ymax": 141}
    assert element["xml_content"].startswith('<?xml version="1.0"?>')


def test_coco_area_of_a_rotated_rectangle_is_its_polygon_area(tmp_path: Path) -> None:
    rotated = rectangle("cat", 30, 30, 20, 20, size=(1000, 1000))
    rotated["value"]["rotation"] = 45
    path, _ = export(
        tmp_path, "coco", "object_detection", [task(1, "https://img.example.com/r.jpg", [rotated])]
    )
    [annotation] = readers.check_coco(path)["annotations"]
    # a 200 x 200 px square turned by 45 degrees: 40,000 px, its box 80,000
    assert annotation["area"] == pytest.approx(40000, abs=1)
    assert annotation["bbox"][2] * annotation["bbox"][3] == pytest.approx(80000, abs=2)


def test_csv_bom_columns_and_formula_injection(tmp_path: Path) -> None:
    tasks = [
        task(1, '=HYPERLINK("http://evil")', [choice("+正面")], external_id="-1"),
        task(2, "普通文本\n第二行", [choice("负面")], external_id="@x"),
        task(3, "\tTAB", external_id=None),
    ]
    path, exported = export(tmp_path, "csv", "text_classification", tasks)
    rows = readers.read_csv(path)
    assert exported == 3 and len(rows) == 3
    assert list(rows[0]) == [
        "task_id",
        "display_id",
        "external_id",
        "content",
        "status",
        "annotator",
        "completed_at",
        "labels",
        "result",
    ]
    assert rows[0]["content"] == '\'=HYPERLINK("http://evil")'
    assert rows[0]["external_id"] == "'-1" and rows[0]["labels"] == "'+正面"
    assert rows[1]["content"] == "普通文本\n第二行" and rows[1]["external_id"] == "'@x"
    assert rows[2]["content"] == "'\tTAB" and rows[2]["annotator"] == ""
    assert json.loads(rows[1]["result"])[0]["value"]["choices"] == ["负面"]
    assert rows[0]["display_id"] == "T-1" and rows[0]["completed_at"] == "2026-02-03T10:30:00Z"


def test_json_keeps_every_annotation_and_prediction(tmp_path: Path) -> None:
    tasks = detection_tasks()
    tasks[0].predictions.append(tasks[1].annotations[0])  # type: ignore[arg-type]
    tasks[0].predictions.pop()
    tasks = [task(1, "好评", [choice("正面")], [choice("负面")], predictions=[[choice("正面")]])]
    path, exported = export(tmp_path, "json", "text_classification", tasks)
    (element,) = readers.read_json(path)
    assert exported == 1
    assert element["original_data"] == {"text": "好评"}
    assert [a["result"][0]["value"]["choices"] for a in element["annotations"]] == [
        ["正面"],
        ["负面"],
    ]
    assert element["predictions"][0]["model_version"] == "m1"
    assert element["annotator"] == "carol" and element["display_id"] == "T-1"


def test_llm_formats_use_latest_answer_and_skip_unanswered(tmp_path: Path) -> None:
    tasks = [
        task(1, "好评", [choice("负面")], [choice("正面")]),
        task(2, "没有标注"),
    ]
    path, exported = export(
        tmp_path, "sharegpt", "text_classification", tasks, labels=("正面", "负面")
    )
    (element,) = readers.check_sharegpt(path)
    assert exported == 1
    assert "正面、负面" in element["conversations"][0]["value"]
    assert element["conversations"][0]["value"].endswith("好评")
    assert element["conversations"][1]["value"] == "正面"
    path, _ = export(tmp_path, "alpaca", "text_classification", tasks, labels=("正面", "负面"))
    assert readers.check_alpaca(path) == [
        {
            "instruction": element["conversations"][0]["value"].removesuffix("\n\n好评"),
            "input": "好评",
            "output": "正面",
        }
    ]


def test_llm_formats_ner_and_image_classification(tmp_path: Path) -> None:
    ner = [task(1, "张三在北京", [span("PER", 0, 2, "张三"), span("LOC", 3, 5, "北京")])]
    path, _ = export(tmp_path, "alpaca", "ner", ner, labels=("PER", "LOC"))
    (element,) = readers.check_alpaca(path)
    assert json.loads(element["output"]) == [
        {"text": "张三", "label": "PER", "start": 0, "end": 2},
        {"text": "北京", "label": "LOC", "start": 3, "end": 5},
    ]
    images = [
        task(1, "https://img.example.com/a/cat.jpg", [choice("cat", "image")]),
        task(2, "https://img.example.com/b/cat.jpg", [choice("dog", "image")]),
    ]
    path, _ = export(tmp_path, "alpaca", "image_classification", images)
    element = readers.check_alpaca(path)[0]
    assert element["images"] == ["a__cat.jpg"] and element["input"] == ""
    assert element["image_urls"] == ["https://img.example.com/a/cat.jpg"]
    path, _ = export(tmp_path, "sharegpt", "image_classification", images)
    element, second = readers.check_sharegpt(path)
    assert element["images"] == ["a__cat.jpg"] and second["images"] == ["b__cat.jpg"]
    assert element["image_urls"] == ["https://img.example.com/a/cat.jpg"]
    assert element["conversations"][1]["value"] == "cat"
