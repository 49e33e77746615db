"""Realistic test data: what real models, datasets and the Label Studio front end produce.

One place for the data every area's tests share, so that no test is kinder
than a real project:

* an object-detection project whose tasks carry NO image size in `metadata`
  (as the README's init example), several boxes per image from TWO model
  versions, one image whose correct answer is a negative, colliding stems in
  one folder (`x.png`, `x.jpg`, `X.png`, `x.jpeg`), non-ASCII and spaced file
  names, a sub-pixel overrun (`[180.0, 90.0, 20.4, 10.0]` px in 200x100, as
  pycocotools-style output writes it), and the images' natural sizes;
* an NER project with `span` pre-labels and a text-classification project with
  class-only pre-labels (AAP's extension), both from two model versions, each
  with a negative;
* what Label Studio 1.4.0's front end submits for a region
  (`ls_submitted`, `ls_box_region`), so that tests submit results exactly as it
  returns them.

Items are addressed by `key`, which is also the task's external id
(`data[].id`), so a test finds its task ids with `task_ids_by_key`.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote

import orjson

# --- model versions (OLD is imported first, NEW second: NEW is the default pre-label)

DETECTOR_OLD = "det-2026.05"
DETECTOR_NEW = "det-2026.06"
NER_OLD = "ner-2026.05"
NER_NEW = "ner-2026.06"
CLASSIFIER_OLD = "cls-2026.05"
CLASSIFIER_NEW = "cls-2026.06"

IMAGE_HOST = "https://img.example"
DETECTION_LABELS = ("car", "person", "traffic light")
NER_LABELS = ("PER", "LOC", "ORG")
CLASSIFICATION_LABELS = ("positive", "negative", "neutral")

# The Label Studio names of the generated configs (server.projects.label_config).
FROM_NAME = "label"

Match = Literal["display_id", "external_id", "file_path"]


# --- object detection ---------------------------------------------------------------------


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


def _task_match(
    key: str, task_ids: Mapping[str, str], match: Match, file_path: str
) -> dict[str, str]:
    if match == "display_id":
        return {"display_id": f"T-{task_ids[key]}"}
    if match == "external_id":
        return {"external_id": key}
    return {"file_path": file_path}


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
                "task_match": _task_match(item.key, task_ids, match, item.content(host)),
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


# --- text: NER and classification --------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """A labelled span of a text: character offsets [start, end) (JavaScript's too: the
    texts hold no characters outside the Basic Multilingual Plane)."""

    label: str
    start: int
    end: int
    score: float = 1.0


@dataclass(frozen=True)
class TextItem:
    key: str
    text: str
    predictions: Mapping[str, tuple[Any, ...]]  # version -> Spans (NER) or (label, score)
    truth: tuple[Any, ...]  # Spans, or class labels; () is a negative


def _span(text: str, words: str, label: str, score: float = 1.0) -> Span:
    start = text.index(words)
    return Span(label, start, start + len(words), score)


_T1 = "Angela Merkel traf Emmanuel Macron in Paris."
_T2 = "Zoë Kravitz besuchte São Paulo im März, sagt Ärzte ohne Grenzen."
_T3 = "Das Wetter war schön."
NER_ITEMS: tuple[TextItem, ...] = (
    TextItem(
        key="ner-accept",
        text=_T1,
        predictions={
            NER_OLD: (_span(_T1, "Angela Merkel", "PER", 0.8),),
            NER_NEW: (
                _span(_T1, "Angela Merkel", "PER", 0.97),
                _span(_T1, "Emmanuel Macron", "PER", 0.95),
                _span(_T1, "Paris", "LOC", 0.9),
            ),
        },
        truth=(
            _span(_T1, "Angela Merkel", "PER"),
            _span(_T1, "Emmanuel Macron", "PER"),
            _span(_T1, "Paris", "LOC"),
        ),
    ),
    TextItem(
        key="ner-modify",
        text=_T2,
        predictions={
            NER_OLD: (_span(_T2, "São Paulo", "LOC", 0.7),),
            NER_NEW: (_span(_T2, "Zoë Kravitz", "PER", 0.9), _span(_T2, "São Paulo", "LOC", 0.85)),
        },
        truth=(
            _span(_T2, "Zoë Kravitz", "PER"),
            _span(_T2, "São Paulo", "LOC"),
            _span(_T2, "Ärzte ohne Grenzen", "ORG"),
        ),
    ),
    TextItem(
        key="ner-negative",
        text=_T3,
        predictions={NER_NEW: (_span(_T3, "Wetter", "ORG", 0.31),)},
        truth=(),
    ),
)
CLASSIFICATION_ITEMS: tuple[TextItem, ...] = (
    TextItem(
        key="cls-accept",
        text="The delivery was fast and the product works.",
        predictions={CLASSIFIER_OLD: (("positive", 0.7),), CLASSIFIER_NEW: (("positive", 0.95),)},
        truth=("positive",),
    ),
    TextItem(
        key="cls-modify",
        text="Broke after two days. Très déçu.",
        predictions={CLASSIFIER_OLD: (("positive", 0.55),), CLASSIFIER_NEW: (("neutral", 0.5),)},
        truth=("negative",),
    ),
    TextItem(
        key="cls-unpredicted",
        text="It is a phone.",
        predictions={},
        truth=("neutral",),
    ),
)


def text_init(task_type: Literal["ner", "text_classification"], **options: Any) -> dict[str, Any]:
    """The init body of the NER or the text-classification project."""
    items = NER_ITEMS if task_type == "ner" else CLASSIFICATION_ITEMS
    labels = NER_LABELS if task_type == "ner" else CLASSIFICATION_LABELS
    return {
        "name": options.get("name", f"{task_type} texts"),
        "task_type": task_type,
        "data": [{"id": item.key, "content": item.text} for item in items],
        "tags": [{"tag": label} for label in labels],
    }


# The AAP extension for text (this platform's, on top of v1.x): a `span` geometry (character
# offsets, `text` optional) and a class-only `class` geometry; the label is `class_name`.
def span_prediction(span: Span, text: str, *, model_version: str) -> dict[str, Any]:
    return {
        "geometry": {
            "type": "span",
            "start": span.start,
            "end": span.end,
            "text": text[span.start : span.end],
        },
        "class_name": span.label,
        "confidence": span.score,
        "model_version": model_version,
    }


def class_prediction(label: str, score: float, *, model_version: str) -> dict[str, Any]:
    return {
        "geometry": {"type": "class"},
        "class_name": label,
        "confidence": score,
        "model_version": model_version,
    }


def text_predictions(
    task_type: Literal["ner", "text_classification"],
    task_ids: Mapping[str, str],
    model_version: str,
    *,
    match: Match = "display_id",
) -> bytes:
    """An AAP JSON file with model_version's span (NER) or class pre-labels."""
    items = NER_ITEMS if task_type == "ner" else CLASSIFICATION_ITEMS
    tasks = []
    for item in items:
        predicted = item.predictions.get(model_version, ())
        if not predicted:
            continue
        if task_type == "ner":
            entries = [
                span_prediction(s, item.text, model_version=model_version) for s in predicted
            ]
        else:
            entries = [class_prediction(c, s, model_version=model_version) for c, s in predicted]
        tasks.append(
            {
                "task_match": _task_match(item.key, task_ids, match, item.text),
                "predictions": entries,
            }
        )
    return orjson.dumps({"schema_version": "1.0", "tasks": tasks})


# --- what Label Studio 1.4.0's front end submits ------------------------------------------

# Label Studio 1.4.0 (@heartexlabs/label-studio 1.4.0, build/static/js/main.js):
# * a prediction's regions are loaded with origin "prediction"; addAnnotationFromPrediction
#   copies them into the new annotation, keeping each region's `id` when it has one (else a
#   random 10-character id) and its `score`;
# * Result.serialize writes area.serialize() first: {original_width, original_height,
#   image_rotation, value: {x, y, width, height, rotation}} for a rectangle (naturalWidth,
#   naturalHeight, the image's rotation), {value: {start, end, text}} for a text span,
#   {value: {}} for choices; then adds id, from_name, to_name, type, origin
#   ("prediction"; "prediction-changed" once the region was edited; "manual" when drawn),
#   value[<type>] = its labels, and score when it is a number;
# * image coordinates go percent -> stage pixels -> percent (x: stageWidth * x / 100, then
#   100 * px / stageWidth), so the last bits of many numbers change;
# * regions are serialized in the order they were loaded, then the ones drawn after.
STAGE_WIDTH = 837.0  # the stage width the workbench gives Label Studio at 1280 px wide


def _stage(size: tuple[int, int]) -> tuple[float, float]:
    width, height = size
    return STAGE_WIDTH, STAGE_WIDTH * height / width


def _round_trip(percent: float, stage: float) -> float:
    pixels = stage * percent / 100
    return 100 * pixels / stage


def _ls_image_value(value: Mapping[str, Any], size: tuple[int, int]) -> dict[str, Any]:
    stage_w, stage_h = _stage(size)
    if "points" in value:
        return {
            "points": [
                [_round_trip(x, stage_w), _round_trip(y, stage_h)] for x, y in value["points"]
            ]
        }
    return {
        "x": _round_trip(value["x"], stage_w),
        "y": _round_trip(value["y"], stage_h),
        "width": _round_trip(value["width"], stage_w),
        "height": _round_trip(value["height"], stage_h),
        "rotation": value.get("rotation", 0),
    }


def ls_region(
    region: Mapping[str, Any],
    *,
    size: tuple[int, int] | None = None,
    region_id: str,
    origin: str = "prediction",
) -> dict[str, Any]:
    """One region as Label Studio 1.4.0's serializeAnnotation returns it after loading
    `region` from a prediction (or a stored annotation): key order, added keys and the
    coordinates' round trip as its front end writes them. size: the image's natural size
    (image regions)."""
    kind = region["type"]
    value = dict(region["value"])
    labels = value.pop(kind, None)
    out: dict[str, Any] = {}
    if kind in ("rectanglelabels", "polygonlabels"):
        assert size is not None, "image regions need the natural size"
        out.update(original_width=size[0], original_height=size[1], image_rotation=0)
        value = _ls_image_value(value, size)
    out["value"] = value
    out.update(
        id=region.get("id", region_id),
        from_name=region.get("from_name", FROM_NAME),
        to_name=region["to_name"],
        type=kind,
        origin=origin,
    )
    if labels is not None:
        out["value"][kind] = labels
    if isinstance(region.get("score"), int | float):
        out["score"] = region["score"]
    return out


def ls_submitted(
    result: Sequence[Mapping[str, Any]], *, size: tuple[int, int] | None = None
) -> list[dict[str, Any]]:
    """A whole result as Label Studio 1.4.0 submits it when the annotator accepts a
    prediction as shown (size: the image's natural size, for image regions)."""
    return [
        ls_region(region, size=size, region_id=f"Rg{number:02d}xQ7_a{number}")
        for number, region in enumerate(result)
    ]


def ls_box_region(
    box: Box,
    size: tuple[int, int],
    *,
    region_id: str,
    origin: str = "manual",
    score: float | None = None,
) -> dict[str, Any]:
    """A box as Label Studio 1.4.0 submits it once the annotator drew it (origin manual)
    or moved a predicted one to it (origin prediction-changed, the score kept)."""
    region: dict[str, Any] = {
        "original_width": size[0],
        "original_height": size[1],
        "image_rotation": 0,
        "value": {**_ls_image_value(box.percent(size), size), "rectanglelabels": [box.label]},
        "id": region_id,
        "from_name": FROM_NAME,
        "to_name": "image",
        "type": "rectanglelabels",
        "origin": origin,
    }
    if score is not None:
        region["score"] = score
    return region


# A real capture of the above (tests/workbench/test_label_studio_shape.py writes the same
# thing live): {"accept"|"move": {"shown": GetTask's result, "submitted": what Label Studio
# 1.4.0 sent}, "sizes": {...}}.
CAPTURE_PATH = Path(__file__).with_name("label_studio_1_4_0_capture.json")


def label_studio_capture() -> dict[str, Any]:
    return dict(orjson.loads(CAPTURE_PATH.read_bytes()))


def check_label_studio_shape(
    real: Sequence[Mapping[str, Any]], reproduced: Sequence[Mapping[str, Any]], *, tolerance: float
) -> None:
    """Assert that real regions have the reproduction's keys, key order and values (numbers
    within tolerance); region ids are random, so only their presence is checked."""
    assert len(real) == len(reproduced)
    for got, made in zip(real, reproduced, strict=True):
        assert list(got) == list(made), (got, made)
        assert list(got["value"]) == list(made["value"])
        for key, value in made["value"].items():
            if isinstance(value, float):
                assert abs(got["value"][key] - value) <= tolerance, key
            else:
                assert got["value"][key] == value, key
        for key, value in made.items():
            if key not in ("id", "value"):
                assert got[key] == value, key
        assert isinstance(got["id"], str) and got["id"]


# --- helpers for tests --------------------------------------------------------------------


def task_ids_by_key(tasks: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """{key: task_id} from a task list (REST ListTasks' `tasks`, whose external_id is the key)."""
    return {t["external_id"]: t["task_id"] for t in tasks}


def png_bytes(width: int, height: int, rgb: tuple[int, int, int] = (90, 120, 150)) -> bytes:
    """A valid PNG of one colour (for tests that serve the images; browsers and PIL read
    images by content, so it serves for .jpg names too)."""
    row = b"\x00" + bytes(rgb) * width
    raw = zlib.compress(row * height, 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")
