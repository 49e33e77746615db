"""The pure scores (server.quality.metrics, server.quality.contribution) against values
computed by hand, and Krippendorff's alpha against the `krippendorff` package and the
worked example of Krippendorff's "Computing Krippendorff's Alpha-Reliability"."""

from __future__ import annotations

import math
import random
from typing import Any

import krippendorff
import numpy as np
import orjson
import pytest

from server.quality.contribution import StoredAnswer, task_contribution
from server.quality.metrics import alpha, coincidences, compare, parse_answer

DETECTION, POLYGON, NER, CHOICES = "object_detection", "polygon", "ner", "text_classification"


def box(x: float, y: float, w: float, h: float, label: str = "car", **extra: Any) -> Any:
    value = {"x": x, "y": y, "width": w, "height": h, "rotation": 0, "rectanglelabels": [label]}
    return {"type": "rectanglelabels", "value": value, **extra}


def polygon(points: list[list[float]], label: str = "lake") -> Any:
    return {"type": "polygonlabels", "value": {"points": points, "polygonlabels": [label]}}


def span(start: int, end: int, label: str) -> Any:
    return {"type": "labels", "value": {"start": start, "end": end, "labels": [label]}}


def choice(*names: str) -> Any:
    return {"type": "choices", "value": {"choices": list(names)}}


def score(task_type: str, left: list[Any], right: list[Any], threshold: float = 0.5) -> Any:
    return compare(
        task_type,
        parse_answer(task_type, left),
        parse_answer(task_type, right),
        iou_threshold=threshold,
    )


def test_boxes_match_one_to_one_at_the_threshold_and_score_f1() -> None:
    # a shifted by half its width: IoU = 50 / 150 = 1/3
    shifted = score(DETECTION, [box(0, 0, 10, 10)], [box(5, 0, 10, 10)])
    assert (shifted.score, shifted.matched) == (0.0, 0)
    assert score(DETECTION, [box(0, 0, 10, 10)], [box(5, 0, 10, 10)], 0.3).score == 1.0
    # two annotators, two model versions' worth of boxes: left has 3 (2 cars, 1 person),
    # right has 2 cars, one of them over both of left's cars: one-to-one, so 2 matched
    left = [box(0, 0, 10, 10), box(1, 0, 10, 10), box(50, 50, 5, 5, "person")]
    right = [box(0.5, 0, 10, 10), box(80, 80, 10, 10)]
    pair = score(DETECTION, left, right)
    assert (pair.matched, pair.answered, pair.expected) == (1, 3, 2)
    assert pair.score == pytest.approx(2 * 1 / 5)
    assert pair.labels["car"].score == pytest.approx(2 * 1 / 4)
    assert pair.labels["person"].score == 0.0
    # the same box under another label never matches
    assert score(DETECTION, [box(0, 0, 10, 10, "car")], [box(0, 0, 10, 10, "bus")]).score == 0.0


def test_the_matching_maximises_the_summed_iou_not_the_first_pair() -> None:
    # greedy by IoU would pair a1-b1 (0.74) and leave a2-b2 (0.33) under the threshold;
    # the assignment pairs a1-b2 (0.67) and a2-b1 (0.74)
    a1, a2 = box(0, 0, 10, 10), box(3, 0, 10, 10)
    b1, b2 = box(1.5, 0, 10, 10), box(-2, 0, 10, 10)
    pair = score(DETECTION, [a1, a2], [b1, b2])
    assert pair.matched == 2


def test_negatives_and_unreadable_regions() -> None:
    assert score(DETECTION, [], []).score == 1.0
    assert score(DETECTION, [], [box(0, 0, 1, 1)]).score == 0.0
    # a box without a size, a polygon of two points and a region of another tool are dropped
    junk = [box(0, 0, 0, 5), polygon([[0, 0], [1, 1]]), {"type": "brushlabels", "value": {}}]
    assert parse_answer(DETECTION, junk).regions == ()
    assert score(CHOICES, [], []).score == 1.0
    assert score(NER, [], [span(0, 1, "PER")]).score == 0.0


def test_polygons_use_their_area() -> None:
    square = polygon([[0, 0], [10, 0], [10, 10], [0, 10]])
    triangle = polygon([[0, 0], [10, 0], [10, 10]])  # half the square: IoU 0.5
    assert score(POLYGON, [square], [triangle]).score == 1.0
    assert score(POLYGON, [square], [triangle], 0.51).score == 0.0


def test_rotated_box_is_turned_about_its_top_left_corner() -> None:
    turned = box(0, 0, 10, 10)
    turned["value"]["rotation"] = 90
    # turned by 90 degrees it covers x -10..0: no overlap with the unturned box
    assert score(DETECTION, [turned], [box(0, 0, 10, 10)], 0.01).score == 0.0
    assert score(DETECTION, [turned], [box(-10, 0, 10, 10)]).score == 1.0


def test_spans_exact_and_overlapping() -> None:
    left = [span(0, 5, "PER"), span(10, 20, "ORG"), span(30, 35, "LOC")]
    right = [span(0, 5, "PER"), span(12, 25, "ORG"), span(30, 35, "PER")]
    pair = score(NER, left, right)
    assert pair.matched == 1 and pair.score == pytest.approx(2 / 6)
    assert pair.overlap == pytest.approx(2 * 2 / 6)  # PER exact + ORG overlapping
    assert pair.labels["ORG"].score == 0.0 and pair.labels["PER"].score == pytest.approx(2 / 3)
    # one-to-one: two left spans over one right span count once
    assert score(NER, [span(0, 5, "X"), span(3, 8, "X")], [span(0, 8, "X")]).overlap == (
        pytest.approx(2 / 3)
    )


def test_choices_exact_match_and_per_label() -> None:
    pair = score(CHOICES, [choice("cat", "dog")], [choice("dog")])
    assert pair.score == 0.0
    assert (pair.labels["dog"].score, pair.labels["cat"].score) == (1.0, 0.0)
    assert score(CHOICES, [choice("b", "a")], [choice("a"), choice("b")]).score == 1.0


def test_task_contribution_means_over_pairs_and_answers() -> None:
    results = [[choice("a")], [choice("a")], [choice("b")]]
    answers = [StoredAnswer(i, f"u{i}", orjson.dumps(r).decode()) for i, r in enumerate(results)]
    found = task_contribution(CHOICES, iou_threshold=0.5, is_ground_truth=False, answers=answers)
    # pairs: (0,1)=1, (0,2)=0, (1,2)=0
    assert found.task_agreement == pytest.approx(1 / 3)
    assert found.agreement == {0: 0.5, 1: 0.5, 2: 0.0}
    assert found.sums[("agreement", "", "")].score_count == 1
    assert found.sums[("agreement", "u2", "b")].score_sum == 0.0
    assert found.coincidences[("a", "a")] == pytest.approx(1.0)  # 2 ordered pairs / (3 - 1)
    # a correction and a lone answer add nothing
    alone = task_contribution(
        CHOICES,
        iou_threshold=0.5,
        is_ground_truth=False,
        answers=[answers[0], StoredAnswer(9, "r", answers[2].result_json, is_correction=True)],
    )
    assert (alone.task_agreement, dict(alone.sums), alone.coincidences) == (None, {}, {})


def test_ground_truth_task_scores_against_the_known_answer_only() -> None:
    known = StoredAnswer(1, "admin", orjson.dumps([box(0, 0, 10, 10)]).decode(), True)
    good = StoredAnswer(2, "ann", orjson.dumps([box(0, 0, 10, 10), box(50, 50, 5, 5)]).decode())
    found = task_contribution(
        DETECTION, iou_threshold=0.5, is_ground_truth=True, answers=[known, good]
    )
    assert found.task_agreement is None and found.ground_truth_score[2] == pytest.approx(2 / 3)
    row = found.sums[("ground_truth", "ann", "")]
    assert (row.matched, row.answered, row.expected) == (1, 2, 1)  # precision 1/2, recall 1


KRIPPENDORFF_EXAMPLE = [  # "Computing Krippendorff's Alpha-Reliability" (2011), section C
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def _matrix(units: list[list[str]]) -> dict[tuple[str, str], float]:
    matrix: dict[tuple[str, str], float] = {}
    for unit in units:
        for cell, weight in coincidences(unit).items():
            matrix[cell] = matrix.get(cell, 0.0) + weight
    return matrix


def test_alpha_of_krippendorffs_worked_example() -> None:
    units = [[str(c[u]) for c in KRIPPENDORFF_EXAMPLE if c[u] is not None] for u in range(12)]
    assert alpha(_matrix(units)) == pytest.approx(0.743, abs=5e-4)


def test_alpha_equals_the_krippendorff_package_on_random_data() -> None:
    rng = random.Random(20)
    for _ in range(30):
        coders, units = rng.randint(2, 5), rng.randint(3, 40)
        values = rng.sample(["a", "b", "c", "d", ""], rng.randint(2, 4))
        data = [
            [rng.choice(values) if rng.random() < 0.8 else None for _ in range(units)]
            for _ in range(coders)
        ]
        codes = {v: i for i, v in enumerate(values)}
        array = np.array(
            [[math.nan if v is None else codes[v] for v in row] for row in data], dtype=float
        )
        columns = [[row[u] for row in data if row[u] is not None] for u in range(units)]
        ours = alpha(_matrix([c for c in columns if c is not None]))  # type: ignore[misc]
        try:
            theirs = krippendorff.alpha(reliability_data=array, level_of_measurement="nominal")
        except ValueError:  # one value only: nothing to measure
            assert ours is None
            continue
        if ours is None:
            assert math.isnan(theirs) or theirs == pytest.approx(1.0)
        else:
            assert ours == pytest.approx(theirs, abs=1e-9)


def test_alpha_without_variation_is_none() -> None:
    assert alpha(_matrix([["a", "a"], ["a", "a"]])) is None
    assert alpha({}) is None
