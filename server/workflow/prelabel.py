"""Whether an annotation kept its pre-label unchanged (for GetPredictionStats).

The pre-label is a model version's whole answer for the task (its group,
server.predictions.groups), so the annotation's whole result is compared with
the group's whole result. Both sides go through one function, `normalized`,
which drops what says nothing about the labelling itself, that is everything a
front end adds or rewrites (Label Studio 1.4.0 does all of these):

* region keys `id` (front ends keep or regenerate them), `score` (the model's
  confidence), `origin` (prediction / prediction-changed / manual),
  `original_width` / `original_height` (the image's natural size, written into
  every image region; stored predictions often have none), `readonly`,
  `hidden` and `parentID`;
* `image_rotation` when it is 0 and `value.rotation` when it is 0 (what a
  region without the key means);
* `value.text` of a text span (`start`/`end` say which text it is);
* the order of a label list (`rectanglelabels: ["a", "b"]`, `choices`);
* how choices are split into regions: a class pre-label is one `choices`
  region per stored row, while a front end may hand the same choices back as
  one region, so the `choices` regions of one control (from_name, to_name)
  count as one region holding all their choices.

The normalized results are then compared as multisets of regions: order does
not matter, each region must pair with one equal region of the other side, so
one moved, added or deleted region makes the answer "modified" (an empty
answer, a negative, too). Numbers are equal within an absolute
COORDINATE_TOLERANCE in the result's own units: Label Studio's coordinates are
percentages of the image (0..100) and its front end sends them back through
the stage's pixels (10.0 comes back as 10.000000000000002), so 0.01 is a
hundredth of a percent, well under a pixel of any image below 10,000 pixels;
integers (text offsets) must be equal. Everything else (type, from_name,
to_name, labels, choices, meta, extra keys) must be equal.
"""

from __future__ import annotations

import math
from typing import Any

COORDINATE_TOLERANCE = 0.01
# What a front end adds to a region, or rewrites, without the annotator changing it.
FRONT_END_KEYS = frozenset(
    {"id", "score", "origin", "original_width", "original_height", "readonly", "hidden", "parentID"}
)
# Keys whose value 0 is what their absence means.
ZERO_AS_ABSENT = frozenset({"image_rotation"})
VALUE_ZERO_AS_ABSENT = frozenset({"rotation"})
# Keys of a region's value holding an unordered list of labels (besides "<kind>labels").
LABEL_LIST_KEYS = frozenset({"choices"})


def normalized(region: Any) -> Any:
    """A region without what a front end adds (module docstring); other values as they are."""
    if not isinstance(region, dict):
        return region
    out = {
        key: value
        for key, value in region.items()
        if key not in FRONT_END_KEYS and not (key in ZERO_AS_ABSENT and value == 0)
    }
    value = out.get("value")
    if isinstance(value, dict):
        is_span = "start" in value and "end" in value
        out["value"] = {
            key: _label_list(key, item)
            for key, item in value.items()
            if not (key in VALUE_ZERO_AS_ABSENT and item == 0) and not (is_span and key == "text")
        }
    return out


def _label_list(key: str, value: Any) -> Any:
    is_labels = key in LABEL_LIST_KEYS or key.endswith("labels")
    if is_labels and isinstance(value, list) and all(isinstance(i, str) for i in value):
        return sorted(value)
    return value


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    if isinstance(left, int) and isinstance(right, int):
        return left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return math.isclose(left, right, rel_tol=0, abs_tol=COORDINATE_TOLERANCE)
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_same(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(
            _same(a, b) for a, b in zip(left, right, strict=True)
        )
    return bool(left == right)


def normalized_result(result: list[Any]) -> list[Any]:
    """A result's regions normalized, the choices of one control in one region."""
    regions: list[Any] = []
    choices: dict[tuple[Any, Any], dict[str, Any]] = {}
    for region in map(normalized, result):
        value = region.get("value") if isinstance(region, dict) else None
        if region_type(region) != "choices" or not isinstance(value, dict):
            regions.append(region)
            continue
        key = (region.get("from_name"), region.get("to_name"))
        merged = choices.get(key)
        if merged is None:
            merged = choices[key] = {**region, "value": {**value, "choices": []}}
            regions.append(merged)
        picked = value.get("choices")
        merged["value"]["choices"] = sorted(
            {*merged["value"]["choices"], *(picked if isinstance(picked, list) else [])}, key=str
        )
    return regions


def region_type(region: Any) -> Any:
    return region.get("type") if isinstance(region, dict) else None


def results_match(annotation: list[Any], prediction: list[Any]) -> bool:
    """True when the annotation's result is its pre-label's, unchanged (module docstring)."""
    remaining = normalized_result(prediction)
    regions = normalized_result(annotation)
    if len(regions) != len(remaining):
        return False
    for region in regions:
        for index, candidate in enumerate(remaining):
            if _same(region, candidate):
                del remaining[index]
                break
        else:
            return False
    return True
