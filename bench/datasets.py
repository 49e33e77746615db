"""The rows every figure uses, built once per size so that the server and the
raw engine see exactly the same data.

* Init: text_classification tasks `(external_id, content, metadata)`, as a
  REST body (JSON bytes, serialized before the clock starts) and as a gRPC
  request message (serialized by the stub during the call).
* Export: object_detection tasks with an image URL and one annotation of two
  rectangles that carry the image's pixel size (coco needs it).
* Prediction import: an AAP JSON file matched by display_id and a COCO file
  matched by the image file names.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from annotation.v1 import common_pb2, project_service_pb2

INIT_LABELS = ("正面", "负面", "中性")
INIT_METADATA = {"batch": "001", "source": "bench"}
EXPORT_LABELS = ("cat", "dog", "bird")
IMPORT_LABELS = ("car", "person")
IMAGE_WIDTH, IMAGE_HEIGHT = 1280, 720


@dataclass(frozen=True, slots=True)
class InitRows:
    """`count` text tasks, column-wise."""

    external_ids: list[str]
    contents: list[str]
    metadata_json: str

    @property
    def count(self) -> int:
        return len(self.contents)


def init_rows(count: int) -> InitRows:
    return InitRows(
        external_ids=[f"ext_{i}" for i in range(count)],
        contents=[f"这是第{i}条评论,内容还不错,物流也很快" for i in range(count)],
        metadata_json=orjson.dumps(INIT_METADATA).decode(),
    )


def rest_init_body(name: str, rows: InitRows) -> bytes:
    return orjson.dumps(
        {
            "name": name,
            "description": "bench",
            "task_type": "text_classification",
            "data": [
                {"id": ext, "content": content, "metadata": INIT_METADATA}
                for ext, content in zip(rows.external_ids, rows.contents, strict=True)
            ],
            "tags": [{"tag": tag} for tag in INIT_LABELS],
        }
    )


def grpc_init_request(name: str, rows: InitRows) -> project_service_pb2.InitProjectRequest:
    task_input = project_service_pb2.TaskInput
    metadata = rows.metadata_json
    return project_service_pb2.InitProjectRequest(
        name=name,
        description="bench",
        task_type=common_pb2.TASK_TYPE_TEXT_CLASSIFICATION,
        data=[
            task_input(id=ext, content=content, metadata=metadata)
            for ext, content in zip(rows.external_ids, rows.contents, strict=True)
        ],
        tags=[common_pb2.TagInput(tag=tag) for tag in INIT_LABELS],
    )


def image_url(index: int) -> str:
    return f"https://img.example.com/dataset/img_{index:07d}.jpg"


def rectangle(x: float, y: float, label: str) -> dict[str, Any]:
    return {
        "type": "rectanglelabels",
        "from_name": "label",
        "to_name": "image",
        "original_width": IMAGE_WIDTH,
        "original_height": IMAGE_HEIGHT,
        "value": {
            "x": x,
            "y": y,
            "width": 30,
            "height": 40,
            "rotation": 0,
            "rectanglelabels": [label],
        },
    }


def annotation_result(index: int) -> str:
    """The result JSON of task `index`: two rectangles of two labels."""
    return orjson.dumps(
        [
            rectangle(10 + index % 50, 20, EXPORT_LABELS[index % 3]),
            rectangle(5, 5, EXPORT_LABELS[(index + 1) % 3]),
        ]
    ).decode()


def second_annotation_result(index: int) -> str:
    """A second annotator's result of task `index` (overlap): the same two
    rectangles moved by 1 % (IoU about 0.9), and a third that only they drew."""
    return orjson.dumps(
        [
            rectangle(11 + index % 50, 21, EXPORT_LABELS[index % 3]),
            rectangle(6, 5, EXPORT_LABELS[(index + 1) % 3]),
            rectangle(70, 70, EXPORT_LABELS[(index + 2) % 3]),
        ]
    ).decode()


EXPORT_METADATA_JSON = '{"batch":"b1"}'


def _bench_prediction(i: int) -> dict[str, Any]:
    """The one bbox prediction of the i-th task of a bench prediction file."""
    return {
        "geometry": {"type": "bbox", "x": (i % 50) / 100, "y": 0.25, "w": 0.2, "h": 0.3},
        "class_name": IMPORT_LABELS[i % 2],
        "confidence": 0.5 + (i % 50) / 100,
        "model_version": "yolov8-bench",
    }


def write_aap(path: Path, task_ids: list[int]) -> None:
    """One bbox prediction per task, matched by display_id (T-<id>)."""
    tasks = [
        {"task_match": {"display_id": f"T-{task_id}"}, "predictions": [_bench_prediction(i)]}
        for i, task_id in enumerate(task_ids)
    ]
    path.write_bytes(orjson.dumps({"schema_version": "1.0", "tasks": tasks}))


def write_aap_by_external_id(path: Path, count: int) -> None:
    """One bbox prediction per task of import_init_request(count), matched by external_id;
    written in slices, so that a file of 1,000,000 predictions is never held whole."""
    slice_size = 10_000
    with path.open("wb") as file:
        file.write(b'{"schema_version":"1.0","tasks":[')
        for start in range(0, count, slice_size):
            tasks = [
                {"task_match": {"external_id": f"img-{i}"}, "predictions": [_bench_prediction(i)]}
                for i in range(start, min(count, start + slice_size))
            ]
            if start:
                file.write(b",")
            file.write(orjson.dumps(tasks)[1:-1])
        file.write(b"]}")


def write_coco(path: Path, count: int) -> None:
    """One bbox per image; file_name is the last segment of the task's image URL."""
    images = [
        {"id": i, "file_name": image_url(i).rsplit("/", 1)[1], "width": 640, "height": 480}
        for i in range(count)
    ]
    annotations = [
        {
            "id": i,
            "image_id": i,
            "category_id": 1 + i % 2,
            "bbox": [float(i % 300), 40.0, 120.0, 90.5],
            "area": 120.0 * 90.5,
            "iscrowd": 0,
            "score": 0.9,
        }
        for i in range(count)
    ]
    categories = [{"id": i + 1, "name": name} for i, name in enumerate(IMPORT_LABELS)]
    path.write_bytes(
        orjson.dumps({"images": images, "annotations": annotations, "categories": categories})
    )


def write_label_studio(path: Path, count: int) -> None:
    """A Label Studio task export of the tasks of import_init_request(count): one submitted
    annotation with one rectangle per task, matched by data.image; written in slices."""
    slice_size = 10_000
    with path.open("wb") as file:
        file.write(b"[")
        for start in range(0, count, slice_size):
            tasks = [
                {
                    "id": 1_000_000_000 + i,  # Label Studio's own ids: not ours
                    "data": {"image": image_url(i)},
                    "annotations": [
                        {
                            "id": i + 1,
                            "completed_by": 1,
                            "result": [rectangle(i % 50, 25, IMPORT_LABELS[i % 2])],
                            "was_cancelled": False,
                            "ground_truth": False,
                            "lead_time": 4.5,
                        }
                    ],
                    "predictions": [],
                }
                for i in range(start, min(count, start + slice_size))
            ]
            if start:
                file.write(b",")
            file.write(orjson.dumps(tasks)[1:-1])
        file.write(b"]")


def import_init_request(name: str, count: int) -> project_service_pb2.InitProjectRequest:
    """An object_detection project whose tasks the prediction files point at."""
    return project_service_pb2.InitProjectRequest(
        name=name,
        task_type=common_pb2.TASK_TYPE_OBJECT_DETECTION,
        data=[
            project_service_pb2.TaskInput(id=f"img-{i}", content=image_url(i), metadata="{}")
            for i in range(count)
        ],
        tags=[common_pb2.TagInput(tag=tag) for tag in IMPORT_LABELS],
    )
