"""The object-detection project: images without sizes in metadata, boxes from two
model versions, a negative, colliding stems, unusual names, a sub-pixel overrun."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import orjson

from tests.realistic.common import (
    DETECTION_LABELS,
    DETECTOR_NEW,
    DETECTOR_OLD,
    IMAGE_HOST,
    Match,
    task_match,
)


@dataclass(frozen=True)
class Box:
    """A box in pixels of the natural image: top-left corner, width, height (COCO's bbox)."""

    label: str
    x: float
    y: float
    w: float
    h: float
    score: float = 1.0

    def percent(self, size: tuple[int, int]) -> dict[str, float]:
        """Label Studio's value coordinates (percent of the image)."""
        width, height = size
        return {
            "x": self.x * 100 / width,
            "y": self.y * 100 / height,
            "width": self.w * 100 / width,
            "height": self.h * 100 / height,
        }

    def moved(self, dx: float, dy: float) -> Box:
        return Box(self.label, self.x + dx, self.y + dy, self.w, self.h, self.score)


@dataclass(frozen=True)
class ImageItem:
    """One image task: its content, natural size and what each model and the truth say."""

    key: str  # the task's external id
    # URL path below the image host, as the task's content holds it: spaces are
    # percent-encoded (a URL holds none), non-ASCII letters are raw in one name and
    # percent-encoded UTF-8 in another, as users' URLs come
    path: str
    size: tuple[int, int]  # natural (width, height); deliberately NOT in metadata
    predictions: Mapping[str, tuple[Box, ...]]  # model version -> boxes (absent: none)
    truth: tuple[Box, ...]  # the correct answer; () is a negative
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def content(self, host: str = IMAGE_HOST) -> str:
        return f"{host}{self.path}"

    @property
    def file_name(self) -> str:
        """The image's file name, percent-decoded (e.g. "crème brûlée café.jpg")."""
        return unquote(self.path.rsplit("/", 1)[1])


_CAR_ACCEPT = (
    Box("car", 98, 198, 124, 84, 0.93),
    Box("person", 400, 150, 60, 180, 0.88),
    Box("traffic light", 300, 20, 20, 50, 0.55),
)
_MOVE_NEW = (Box("car", 20, 30, 60, 40, 0.9), Box("person", 120, 10, 30, 80, 0.8))
# (180.0 + 20.4) / 200 = 100.2 % of the width: a sub-pixel overrun, clamped on import
OVERRUN_BOX = Box("car", 180.0, 90.0, 20.4, 10.0, 0.66)

DETECTION_ITEMS: tuple[ImageItem, ...] = (
    # accepted untouched with the NEW version's three boxes
    ImageItem(
        key="accept",
        path="/street/x.jpg",
        size=(640, 480),
        predictions={
            DETECTOR_OLD: (Box("car", 100, 200, 120, 80, 0.71),),
            DETECTOR_NEW: _CAR_ACCEPT,
        },
        truth=_CAR_ACCEPT,
        metadata={"camera": "cam-3"},
    ),
    # one of the NEW version's boxes is moved by the annotator
    ImageItem(
        key="move",
        path="/street/x.png",
        size=(200, 100),
        predictions={DETECTOR_OLD: (Box("person", 121, 11, 29, 78, 0.6),), DETECTOR_NEW: _MOVE_NEW},
        truth=(_MOVE_NEW[0].moved(10, 2), _MOVE_NEW[1]),
    ),
    # both models see something; the correct answer is "nothing here"
    ImageItem(
        key="negative",
        path="/street/X.png",
        size=(320, 240),
        predictions={
            DETECTOR_OLD: (Box("car", 10, 10, 50, 30, 0.41),),
            DETECTOR_NEW: (Box("person", 200, 100, 40, 100, 0.35), Box("car", 5, 5, 40, 20, 0.3)),
        },
        truth=(),
    ),
    # the NEW version's car overruns the right edge by 0.4 px
    ImageItem(
        key="overrun",
        path="/street/x.jpeg",
        size=(200, 100),
        predictions={
            DETECTOR_OLD: (Box("person", 10, 10, 20, 50, 0.7),),
            DETECTOR_NEW: (OVERRUN_BOX, Box("person", 10, 10, 20, 50, 0.9)),
        },
        truth=(Box("car", 180, 90, 20, 10), Box("person", 10, 10, 20, 50)),
    ),
    ImageItem(
        key="accents",
        path="/street/cr%C3%A8me%20br%C3%BBl%C3%A9e%20caf%C3%A9.jpg",  # crème brûlée café.jpg
        size=(800, 600),
        predictions={
            DETECTOR_OLD: (Box("person", 300, 100, 100, 400, 0.8),),
            DETECTOR_NEW: (Box("person", 302, 98, 100, 404, 0.92),),
        },
        truth=(Box("person", 302, 98, 100, 404),),
    ),
    # only the NEW version knows this image
    ImageItem(
        key="cjk",
        path="/東京/駅%20前%201.png",  # raw non-ASCII, encoded spaces
        size=(1280, 720),
        predictions={
            DETECTOR_NEW: (
                Box("car", 100, 400, 300, 200, 0.97),
                Box("car", 700, 380, 280, 210, 0.95),
            )
        },
        truth=(Box("car", 100, 400, 300, 200), Box("car", 700, 380, 280, 210)),
    ),
    # no model predicted anything
    ImageItem(
        key="unpredicted",
        path="/street/night%20shot.jpg",
        size=(640, 360),
        predictions={},
        truth=(Box("car", 50, 100, 200, 120),),
    ),
)
DETECTION = {item.key: item for item in DETECTION_ITEMS}
# The items whose file names collide once folders, suffixes or case are dropped.
COLLIDING_KEYS = ("accept", "move", "negative", "overrun")


def natural_sizes(host: str = IMAGE_HOST) -> dict[str, tuple[int, int]]:
    """{task content: (width, height)} of every image, for tests that serve or record sizes."""
    return {item.content(host): item.size for item in DETECTION_ITEMS}


def detection_init(
    *, name: str = "street scenes", external_id: str | None = "center-7", host: str = IMAGE_HOST
) -> dict[str, Any]:
    """The body of `POST /api/external/projects/init` (InitProject's JSON form):
    tasks without width/height in metadata, as the README's example creates them."""
    body: dict[str, Any] = {
        "name": name,
        "task_type": "object_detection",
        "data": [
            {"id": item.key, "content": item.content(host), "metadata": dict(item.metadata)}
            for item in DETECTION_ITEMS
        ],
        "tags": [{"tag": label} for label in DETECTION_LABELS],
    }
    if external_id is not None:
        body["external_id"] = external_id
    return body


def bbox_prediction(box: Box, size: tuple[int, int], *, model_version: str) -> dict[str, Any]:
    """An AAP (seed 002) bbox prediction: geometry normalized to 0..1, as a detector's
    exporter writes it (x + w may pass 1 by float rounding or a sub-pixel overrun)."""
    width, height = size
    return {
        "geometry": {
            "type": "bbox",
            "x": box.x / width,
            "y": box.y / height,
            "w": box.w / width,
            "h": box.h / height,
        },
        "class_name": box.label,
        "confidence": box.score,
        "model_version": model_version,
    }


def detection_predictions(
    task_ids: Mapping[str, str],
    model_version: str,
    *,
    match: Match = "display_id",
    host: str = IMAGE_HOST,
    with_overrun: bool = True,
) -> bytes:
    """An AAP JSON file with every box model_version predicted, one task entry per image.
    task_ids: {key: task_id} (see task_ids_by_key; items without one are left out when
    matching by display id). with_overrun=False leaves out the
    sub-pixel overrun box, for tests about something else."""
    tasks = []
    for item in DETECTION_ITEMS:
        if match == "display_id" and item.key not in task_ids:
            continue  # a project made of some of the items
        boxes = [
            b for b in item.predictions.get(model_version, ()) if with_overrun or b != OVERRUN_BOX
        ]
        if not boxes:
            continue
        tasks.append(
            {
                "task_match": task_match(item.key, task_ids, match, item.content(host)),
                "predictions": [
                    bbox_prediction(b, item.size, model_version=model_version) for b in boxes
                ],
            }
        )
    return orjson.dumps({"schema_version": "1.0", "tasks": tasks})


def prediction_count(model_version: str, *, with_overrun: bool = True) -> int:
    """How many prediction rows a detection_predictions file of model_version holds."""
    return sum(
        1
        for item in DETECTION_ITEMS
        for box in item.predictions.get(model_version, ())
        if with_overrun or box != OVERRUN_BOX
    )


def coco_ground_truth(
    *, host: str = IMAGE_HOST, file_name: Callable[[ImageItem], str] | None = None
) -> dict[str, Any]:
    """The true answers as a COCO detection file (pycocotools' layout): every image with its
    natural size, the negative without annotations, the overrun written as a detector's
    pixel output would be ([180.0, 90.0, 20.4, 10.0] in 200x100). file_name defaults to
    the task's content (its file_path)."""
    name_of = file_name or (lambda item: item.content(host))
    categories = [{"id": n + 1, "name": label} for n, label in enumerate(DETECTION_LABELS)]
    category = {c["name"]: c["id"] for c in categories}
    images, annotations = [], []
    for number, item in enumerate(DETECTION_ITEMS, start=1):
        width, height = item.size
        images.append({"id": number, "file_name": name_of(item), "width": width, "height": height})
        boxes = [OVERRUN_BOX if b == Box("car", 180, 90, 20, 10) else b for b in item.truth]
        for box in boxes:
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": number,
                    "category_id": category[box.label],
                    "bbox": [box.x, box.y, box.w, box.h],
                    "area": box.w * box.h,
                    "iscrowd": 0,
                }
            )
    return {"images": images, "annotations": annotations, "categories": categories}
