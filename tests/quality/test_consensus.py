"""The consensus merge (server/quality/consensus.py): values, thresholds and ties."""

from __future__ import annotations

from typing import Any

import pytest

from server.quality.consensus import WeightedAnswer, merge_answers
from tests.exports.samples import choice, polygon, rectangle, span

LABELS = ("car", "person", "狗")


def merged(*results: list[dict[str, Any]], weights: tuple[float, ...] = (), t: float = 0.5):
    answers = [WeightedAnswer(r, weights[i] if weights else 1.0) for i, r in enumerate(results)]
    return merge_answers(answers, labels=LABELS, iou_threshold=t)


def boxes(result: list[dict[str, Any]]) -> list[tuple[str, tuple[float, ...]]]:
    return [
        (
            r["value"]["rectanglelabels"][0],
            tuple(round(r["value"][k], 6) for k in ("x", "y", "width", "height")),
        )
        for r in result
        if r["type"] == "rectanglelabels"
    ]


def test_boxes_kept_by_majority_and_averaged() -> None:
    a = [rectangle("car", 10, 10, 20, 20), rectangle("person", 60, 60, 10, 30)]
    b = [rectangle("car", 12, 10, 20, 20), rectangle("person", 61, 60, 10, 30)]
    c = [rectangle("car", 11, 13, 20, 20), rectangle("狗", 80, 5, 5, 5)]  # a stray box
    result = merged(a, b, c)
    assert boxes(result) == [
        ("car", (11.0, 11.0, 20.0, 20.0)),
        ("person", (60.5, 60.0, 10.0, 30.0)),  # 2 of 3 answers: kept
    ]  # the 狗 box: 1 of 3, not more than half
    assert all(r["original_width"] == 640 and r["to_name"] == "image" for r in result)
    assert [r["id"] for r in result] == ["consensus-0", "consensus-1"]


def test_two_answers_need_both() -> None:
    a = [rectangle("car", 10, 10, 20, 20), rectangle("car", 70, 70, 10, 10)]
    b = [rectangle("car", 10, 10, 20, 20)]
    assert boxes(merged(a, b)) == [("car", (10.0, 10.0, 20.0, 20.0))]


def test_weights_are_annotator_agreement() -> None:
    a = [rectangle("car", 10, 10, 20, 20)]
    b = [rectangle("car", 14, 10, 20, 20)]
    assert boxes(merged(a, b, weights=(1.0, 3.0))) == [("car", (13.0, 10.0, 20.0, 20.0))]
    # every weight 0: equal weights, not a division by zero
    assert boxes(merged(a, b, weights=(0.0, 0.0))) == [("car", (12.0, 10.0, 20.0, 20.0))]


def test_iou_threshold_and_labels_separate_clusters() -> None:
    a = [rectangle("car", 0, 0, 10, 10)]
    b = [rectangle("car", 5, 0, 10, 10)]  # IoU 1/3
    assert merged(a, b) == []
    assert boxes(merged(a, b, t=0.3)) == [("car", (2.5, 0.0, 10.0, 10.0))]
    c = [rectangle("person", 0, 0, 10, 10)]  # same place, other label
    assert merged(a, c) == []


def test_matching_is_one_to_one() -> None:
    # b draws the car twice: only one of its boxes joins a's cluster, so the
    # duplicate is a cluster of one answer out of two and is left out.
    a = [rectangle("car", 10, 10, 20, 20)]
    b = [rectangle("car", 10, 10, 20, 20), rectangle("car", 11, 10, 20, 20)]
    assert boxes(merged(a, b)) == [("car", (10.0, 10.0, 20.0, 20.0))]


def test_a_negative_answer_votes_against_every_box() -> None:
    a = [rectangle("car", 10, 10, 20, 20)]
    b = [rectangle("car", 10, 10, 20, 20)]
    assert boxes(merged(a, b, [])) == [("car", (10.0, 10.0, 20.0, 20.0))]  # 2 of 3
    assert merged(a, [], []) == []
    assert merged([], []) == []


def test_polygons_take_the_most_central_member() -> None:
    square = [[10, 10], [30, 10], [30, 30], [10, 30]]
    shifted = [[12, 10], [32, 10], [32, 30], [12, 30]]
    far = [[16, 10], [36, 10], [36, 30], [16, 30]]
    result = merged([polygon("car", square)], [polygon("car", shifted)], [polygon("car", far)])
    assert len(result) == 1 and result[0]["value"]["points"] == shifted
    # two members: equal mean IoU, the earliest answer wins
    result = merged([polygon("car", shifted)], [polygon("car", square)])
    assert result[0]["value"]["points"] == shifted
    # a polygon with no area is left out
    assert merged([polygon("car", [[1, 1], [2, 2], [3, 3]])] * 2) == []


def test_choices_by_plurality_ties_by_label_order() -> None:
    assert merged([choice("person")], [choice("car")], [choice("person")])[0]["value"] == {
        "choices": ["person"]
    }
    # 1 against 1: the label first in the project's labels wins, whatever the order
    assert merged([choice("person")], [choice("car")])[0]["value"] == {"choices": ["car"]}
    assert merged([choice("car")], [choice("person")])[0]["value"] == {"choices": ["car"]}
    # labels not in the project: after them, the earliest answer's first
    assert merged([choice("zebra")], [choice("ant")])[0]["value"] == {"choices": ["zebra"]}
    # "nothing" wins only with strictly more votes
    assert merged([choice("car")], [], [])[0:1] == []
    assert merged([choice("car")], [])[0]["value"] == {"choices": ["car"]}


def test_spans_by_majority() -> None:
    a = [span("person", 0, 2, "张三"), span("狗", 3, 5, "北京")]
    b = [span("person", 0, 2, "张三"), span("狗", 3, 6, "北京工")]
    c = [span("person", 0, 2, "张三"), span("car", 3, 5, "北京")]
    result = merged(a, b, c)
    assert [(r["value"]["start"], r["value"]["end"], r["value"]["labels"]) for r in result] == [
        (0, 2, ["person"])
    ]
    result = merged(a, a, c)
    assert [(r["value"]["start"], r["value"]["labels"][0]) for r in result] == [
        (0, "person"),
        (3, "狗"),
    ]
    assert result[1]["value"]["text"] == "北京"


@pytest.mark.parametrize("rotation", [0.0, 30.0])
def test_rotated_boxes_average_their_rotation(rotation: float) -> None:
    a = rectangle("car", 10, 10, 20, 20)
    b = rectangle("car", 10, 10, 20, 20)
    a["value"]["rotation"] = rotation
    b["value"]["rotation"] = rotation + 2
    result = merged([a], [b])
    assert result[0]["value"]["rotation"] == pytest.approx(rotation + 1)


def test_regions_that_cannot_be_compared_are_left_out() -> None:
    broken = rectangle("car", 10, 10, 0, 20)
    unlabelled = rectangle("car", 10, 10, 20, 20)
    unlabelled["value"]["rectanglelabels"] = []
    infinite = rectangle("car", float("inf"), 10, 20, 20)
    assert merged([broken, unlabelled, infinite], [broken, unlabelled, infinite]) == []
