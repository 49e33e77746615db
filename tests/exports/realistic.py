"""Export records as real projects hold them: several boxes per image from two
model versions, images without a size in their metadata, negatives (empty
results), image names that collide by suffix and case, non-ASCII and spaced
names, sub-pixel overruns, and coordinates no tool should have stored."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson

from storage.export_records import ExportAnnotation, ExportPrediction, ExportTask
from tests.exports.samples import WHEN

# one folder whose images collide by suffix and case, plus non-ASCII and spaced names
FOLDER = "https://cdn.example.com/dup/"
COLLIDING_NAMES = ("x.png", "x.jpg", "X.png", "x.jpeg")
AWKWARD_NAMES = ("猫%20咪.png", "a%20b.jpg", "Ünïcode%20Näme.JPG")
MODEL_VERSIONS = ("detr-v1", "detr-v2")


def box(
    label: str,
    x: float,
    y: float,
    w: float,
    h: float,
    *,
    size: tuple[int, int] | None = None,
    rotation: float = 0,
    region_id: str = "r",
) -> dict[str, Any]:
    """A rectanglelabels region as Label Studio returns it (original_* only when sized)."""
    item: dict[str, Any] = {
        "id": region_id,
        "type": "rectanglelabels",
        "from_name": "label",
        "to_name": "image",
        "image_rotation": 0,
        "value": {
            "x": x,
            "y": y,
            "width": w,
            "height": h,
            "rotation": rotation,
            "rectanglelabels": [label],
        },
    }
    if size is not None:
        item["original_width"], item["original_height"] = size
    return item


def model_boxes(index: int, version: int) -> list[dict[str, Any]]:
    """A detector's answer for one image: three boxes of two classes, shifted by version."""
    shift = 2.5 * version
    return [
        box("car", 5 + shift, 10, 30, 20, region_id=f"m{version}-{index}-0"),
        box("person", 50, 40 + shift, 10, 35, region_id=f"m{version}-{index}-1"),
        box("person", 70 - shift, 45, 8, 30, region_id=f"m{version}-{index}-2"),
    ]


def make_task(
    task_id: int,
    url: str,
    *results: list[dict[str, Any]],
    metadata: dict[str, Any] | None = None,
    recorded: tuple[int, int] | None = None,
) -> ExportTask:
    """A completed task with its predictions from both model versions and one
    annotation per result (later ones newer)."""
    return ExportTask(
        task_id=task_id,
        external_id=f"ext-{task_id}",
        content=url,
        file_path=None,
        metadata_json=orjson.dumps(metadata or {}).decode(),
        status="completed" if results else "pending",
        completed_at=WHEN if results else None,
        annotations=[
            ExportAnnotation(
                task_id * 10 + n,
                "carol",
                WHEN + timedelta(minutes=n),
                WHEN + timedelta(minutes=n),
                orjson.dumps(result).decode(),
                parent_prediction_id=task_id * 10,
            )
            for n, result in enumerate(results)
        ],
        predictions=[
            ExportPrediction(
                task_id * 10 + v,
                "external_import",
                version,
                0.8,
                orjson.dumps(model_boxes(task_id, v)).decode(),
                WHEN,
            )
            for v, version in enumerate(MODEL_VERSIONS)
        ],
        image_width=recorded[0] if recorded else None,
        image_height=recorded[1] if recorded else None,
    )


def realistic_detection_tasks() -> list[ExportTask]:
    """Every task has a known size from exactly one source, none from metadata
    except task 5; task 3 is a negative, task 6 has no size at all."""
    sized = (640, 480)
    tasks = [
        # the model's whole answer accepted, sizes from the front end's regions
        make_task(1, FOLDER + "x.png", [{**b, **_sized(sized)} for b in model_boxes(1, 0)]),
        # one box moved, recorded size only
        make_task(
            2,
            FOLDER + "x.jpg",
            [box("car", 20, 10, 30, 20), *model_boxes(2, 1)[1:]],
            recorded=(1280, 720),
        ),
        # a negative: the wrong pre-label deleted, the size recorded with the submit
        make_task(3, FOLDER + "X.png", [], recorded=(800, 600)),
        # a sub-pixel overrun (pycocotools-style output): clamped to the image
        make_task(4, FOLDER + "x.jpeg", [box("car", 90.0, 90.0, 10.2, 10.0, size=(200, 100))]),
        make_task(
            5, FOLDER + AWKWARD_NAMES[0], model_boxes(5, 1), metadata={"width": 1024, "height": 768}
        ),
        # a negative whose size nobody recorded
        make_task(6, FOLDER + AWKWARD_NAMES[1], []),
        make_task(7, FOLDER + AWKWARD_NAMES[2], model_boxes(7, 0), recorded=(300, 300)),
    ]
    return tasks


def _sized(size: tuple[int, int]) -> dict[str, int]:
    return {"original_width": size[0], "original_height": size[1]}


def wide_region() -> dict[str, Any]:
    """Finite but far past the image's right edge: kept, clamped to the image."""
    return box("car", 50, 10, 1e308, 10, size=(640, 480))


def absurd_regions() -> list[dict[str, Any]]:
    """Regions an older import let through: each must be left out, never fail an export."""
    huge = box("car", 1e308, 10, 10, 10, size=(640, 480))
    far_left = box("car", -1e308, 10, 1e308, 10, size=(640, 480))
    negative = box("car", 10, 10, -5, 10, size=(640, 480))
    text = box("car", "inf", 10, 10, 10, size=(640, 480))
    rotated = box("car", 10, 10, 1.7e308, 1.7e308, size=(640, 480), rotation=45)
    polygon = {
        "type": "polygonlabels",
        "original_width": 640,
        "original_height": 480,
        "value": {"points": [[10, 10], ["nan", 10], [10, 50]], "polygonlabels": ["car"]},
    }
    return [huge, far_left, negative, text, rotated, polygon]
