"""What Label Studio 1.4.0's front end submits: a reproduction, and a real capture."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from tests.realistic.common import FROM_NAME
from tests.realistic.detection import Box

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
