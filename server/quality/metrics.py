"""How alike two answers are: the pure scores behind agreement and ground truth.

An answer is a task's Label Studio result (a list of regions). It is read by
task type into what is compared (`parse_answer`):

* classification (text, image): the set of choices of its `choices` regions;
* object detection and polygons: its `rectanglelabels` / `polygonlabels`
  regions, each a (label, shape) with the shape in the result's percent
  coordinates (IoU is a ratio of areas, which a scaling of the axes keeps);
* NER: its `labels` regions, each a (start, end, label) span.

`compare(left, right)` scores a pair (docs/quality.md "## Agreement" has the
formulas):

* choices: exact match of the two sets (1 or 0); per label, 1 when both
  answers hold it, 0 when one does;
* regions: one-to-one matching of same-label regions whose IoU >= the
  threshold, maximising the summed IoU (scipy's linear_sum_assignment);
  score F1 = 2 * matched / (|left| + |right|), and the same per label;
* spans: F1 of exact matches (same start, end and label, each span used once),
  and `overlap` the F1 of the one-to-one matching of same-label spans that
  share at least one character.

Empty against empty is 1.0 (two negatives agree); empty against non-empty is 0.
`matched`, `answered` (the left answer's items) and `expected` (the right's)
give precision and recall when the right answer is a known one.

`alpha` is Krippendorff's alpha (nominal) from a coincidence matrix, and
`coincidences` is one task's contribution to it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from scipy.optimize import linear_sum_assignment

from server.quality.geometry import box_of, finite_number, polygon_shape, rectangle_shape
from server.vocabulary import TaskType

# The value of a classification answer in Krippendorff's alpha: its choices, sorted, joined.
CHOICE_SEPARATOR = "|"
REGION_KEYS = {"rectanglelabels": "rectanglelabels", "polygonlabels": "polygonlabels"}


@dataclass(frozen=True, slots=True)
class Region:
    """A labelled shape (percent coordinates)."""

    label: str
    shape: Any  # shapely geometry


@dataclass(frozen=True, slots=True)
class SpanItem:
    """A labelled span of a text: characters start..end (end excluded)."""

    start: int
    end: int
    label: str


@dataclass(frozen=True, slots=True)
class Answer:
    """What is compared of one answer: choices, regions or spans (by task type)."""

    choices: frozenset[str] = frozenset()
    regions: tuple[Region, ...] = ()
    spans: tuple[SpanItem, ...] = ()

    @property
    def value(self) -> str:
        """The answer as one nominal value (Krippendorff's alpha): its sorted choices."""
        return CHOICE_SEPARATOR.join(sorted(self.choices))


@dataclass(frozen=True, slots=True)
class LabelCount:
    """One label's part of a pair's score."""

    score: float
    matched: int
    answered: int
    expected: int


@dataclass(frozen=True, slots=True)
class PairScore:
    """How alike two answers are (left is the one scored, right the reference)."""

    score: float
    matched: int
    answered: int
    expected: int
    labels: Mapping[str, LabelCount] = field(default_factory=dict)
    # NER only: F1 of the one-to-one matching of overlapping same-label spans.
    overlap: float | None = None


def _labels(value: Any, key: str) -> list[str]:
    found = value.get(key) if isinstance(value, dict) else None
    return [label for label in found if isinstance(label, str)] if isinstance(found, list) else []


def _box(value: dict[str, Any]) -> Any:
    box = box_of(value)
    if box is None:
        return None
    return rectangle_shape(box, finite_number(value.get("rotation")) or 0.0)


def parse_answer(task_type: str, result: Any) -> Answer:
    """The comparable part of a Label Studio result (regions that say nothing are dropped)."""
    regions = result if isinstance(result, list) else []
    if task_type in (TaskType.TEXT_CLASSIFICATION, TaskType.IMAGE_CLASSIFICATION):
        choices = {
            choice
            for region in regions
            if isinstance(region, dict) and region.get("type") == "choices"
            for choice in _labels(region.get("value"), "choices")
        }
        return Answer(choices=frozenset(choices))
    if task_type == TaskType.NER:
        spans: list[SpanItem] = []
        for region in regions:
            value = region.get("value") if isinstance(region, dict) else None
            if not isinstance(value, dict):
                continue
            start, end = value.get("start"), value.get("end")
            if type(start) is not int or type(end) is not int or end <= start:
                continue
            spans.extend(SpanItem(start, end, label) for label in _labels(value, "labels"))
        return Answer(spans=tuple(spans))
    shapes: list[Region] = []
    for region in regions:
        kind = region.get("type") if isinstance(region, dict) else None
        value = region.get("value") if isinstance(region, dict) else None
        if kind not in REGION_KEYS or not isinstance(value, dict):
            continue
        shape = _box(value) if kind == "rectanglelabels" else polygon_shape(value)
        if shape is not None:
            shapes.extend(Region(label, shape) for label in _labels(value, REGION_KEYS[kind]))
    return Answer(regions=tuple(shapes))


def f1(matched: int, answered: int, expected: int) -> float:
    """2 * matched / (answered + expected); 1.0 when both are empty."""
    total = answered + expected
    return 2.0 * matched / total if total else 1.0


def iou_matrix(left: Sequence[Region], right: Sequence[Region]) -> np.ndarray[Any, Any]:
    """IoU of every left region with every right one (0 across labels)."""
    if not left or not right:
        return np.zeros((len(left), len(right)))
    a = np.array([region.shape for region in left], dtype=object)[:, None]
    b = np.array([region.shape for region in right], dtype=object)[None, :]
    inter = shapely.area(shapely.intersection(a, b))
    union = shapely.area(a) + shapely.area(b) - inter
    iou = np.divide(inter, union, out=np.zeros_like(inter, dtype=float), where=union > 0)
    same = np.array([[lr.label == rr.label for rr in right] for lr in left], dtype=bool)
    return np.where(same, iou, 0.0)


def match_one_to_one(weights: np.ndarray[Any, Any], threshold: float) -> list[tuple[int, int]]:
    """The pairs (i, j) of the one-to-one assignment maximising the summed weight of the
    pairs whose weight is >= threshold (a pair under it, or of weight 0, never matches)."""
    if weights.size == 0:
        return []
    weights = np.where(weights >= threshold, weights, 0.0)
    rows, cols = linear_sum_assignment(weights, maximize=True)
    return [
        (int(i), int(j))
        for i, j in zip(rows, cols, strict=True)
        if weights[i, j] >= threshold and weights[i, j] > 0
    ]


def _label_counts(
    left_labels: Iterable[str], right_labels: Iterable[str], matched_labels: Iterable[str]
) -> dict[str, LabelCount]:
    answered, expected, matched = (
        Counter(left_labels),
        Counter(right_labels),
        Counter(matched_labels),
    )
    return {
        label: LabelCount(
            f1(matched[label], answered[label], expected[label]),
            matched[label],
            answered[label],
            expected[label],
        )
        for label in sorted(answered.keys() | expected.keys())
    }


def _pair(left_labels: list[str], right_labels: list[str], matched_labels: list[str]) -> PairScore:
    answered, expected, matched = len(left_labels), len(right_labels), len(matched_labels)
    return PairScore(
        f1(matched, answered, expected),
        matched,
        answered,
        expected,
        _label_counts(left_labels, right_labels, matched_labels),
    )


def compare_choices(left: Answer, right: Answer) -> PairScore:
    both = left.choices & right.choices
    labels = {
        label: LabelCount(
            1.0 if label in both else 0.0, int(label in both), *_sides(label, left, right)
        )
        for label in sorted(left.choices | right.choices)
    }
    score = 1.0 if left.choices == right.choices else 0.0
    return PairScore(score, len(both), len(left.choices), len(right.choices), labels)


def _sides(label: str, left: Answer, right: Answer) -> tuple[int, int]:
    return int(label in left.choices), int(label in right.choices)


def compare_regions(left: Answer, right: Answer, *, iou_threshold: float) -> PairScore:
    pairs = match_one_to_one(iou_matrix(left.regions, right.regions), iou_threshold)
    return _pair(
        [r.label for r in left.regions],
        [r.label for r in right.regions],
        [left.regions[i].label for i, _ in pairs],
    )


def _overlap_matrix(left: Sequence[SpanItem], right: Sequence[SpanItem]) -> np.ndarray[Any, Any]:
    """Shared characters / spanned characters of every same-label pair (0 otherwise)."""
    weights = np.zeros((len(left), len(right)))
    for i, a in enumerate(left):
        for j, b in enumerate(right):
            shared = min(a.end, b.end) - max(a.start, b.start)
            if a.label == b.label and shared > 0:
                weights[i, j] = shared / (max(a.end, b.end) - min(a.start, b.start))
    return weights


def compare_spans(left: Answer, right: Answer) -> PairScore:
    exact = Counter(left.spans) & Counter(right.spans)
    matched = [span.label for span in exact.elements()]
    pair = _pair([s.label for s in left.spans], [s.label for s in right.spans], matched)
    overlapping = match_one_to_one(_overlap_matrix(left.spans, right.spans), 1e-12)
    overlap = f1(len(overlapping), len(left.spans), len(right.spans))
    return PairScore(pair.score, pair.matched, pair.answered, pair.expected, pair.labels, overlap)


def compare(task_type: str, left: Answer, right: Answer, *, iou_threshold: float) -> PairScore:
    """How alike left is to right (module docstring)."""
    if task_type in (TaskType.TEXT_CLASSIFICATION, TaskType.IMAGE_CLASSIFICATION):
        return compare_choices(left, right)
    if task_type == TaskType.NER:
        return compare_spans(left, right)
    return compare_regions(left, right, iou_threshold=iou_threshold)


def coincidences(values: Sequence[str]) -> dict[tuple[str, str], float]:
    """One unit's (task's) contribution to the coincidence matrix: every ordered pair of
    its values from different answers weighs 1 / (m - 1), m its number of values; a unit
    with fewer than two values adds nothing."""
    m = len(values)
    if m < 2:
        return {}
    found: dict[tuple[str, str], float] = {}
    for i, a in enumerate(values):
        for j, b in enumerate(values):
            if i != j:
                found[(a, b)] = found.get((a, b), 0.0) + 1.0 / (m - 1)
    return found


def alpha(matrix: Mapping[tuple[str, str], float]) -> float | None:
    """Krippendorff's alpha (nominal) of a coincidence matrix: 1 - D_o / D_e with
    D_o = sum_{c != k} o_ck / n and D_e = sum_{c != k} n_c n_k / (n (n - 1)); None when
    there is nothing to measure (no pairable values, or a single value used: D_e = 0)."""
    totals: dict[str, float] = {}
    for (a, _), weight in matrix.items():
        totals[a] = totals.get(a, 0.0) + weight
    n = sum(totals.values())
    if n <= 1:
        return None
    observed = sum(w for (a, b), w in matrix.items() if a != b)
    expected = (n * n - sum(c * c for c in totals.values())) / (n - 1)
    if expected <= 1e-12:
        return None
    return 1.0 - observed / expected
