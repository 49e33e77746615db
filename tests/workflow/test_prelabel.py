"""The "accepted unchanged" rule of prediction stats (server.workflow.prelabel)."""

from __future__ import annotations

import copy

from server.workflow.prelabel import COORDINATE_TOLERANCE, results_match

BOX = {
    "id": "p1",
    "type": "rectanglelabels",
    "from_name": "label",
    "to_name": "image",
    "original_width": 640,
    "original_height": 480,
    "score": 0.93,
    "origin": "prediction",
    "value": {"x": 10.0, "y": 20.0, "width": 30.0, "height": 40.0, "rotation": 0,
              "rectanglelabels": ["cat"]},
}  # fmt: skip
SPAN = {"type": "labels", "value": {"start": 3, "end": 8, "text": "Paris", "labels": ["LOC"]}}


def changed(region: dict, **value: object) -> dict:
    copy_ = copy.deepcopy(region)
    copy_["value"].update(value)
    return copy_


def test_ids_scores_and_origin_do_not_count() -> None:
    mine = copy.deepcopy(BOX)
    mine.update(id="x9", origin="manual")
    del mine["score"]
    assert results_match([mine], [BOX])


def test_coordinates_within_the_tolerance_are_equal() -> None:
    assert results_match([changed(BOX, x=10.0 + COORDINATE_TOLERANCE / 2)], [BOX])
    assert not results_match([changed(BOX, x=10.0 + COORDINATE_TOLERANCE * 2)], [BOX])


def test_labels_and_offsets_must_be_equal() -> None:
    assert not results_match([changed(BOX, rectanglelabels=["dog"])], [BOX])
    assert not results_match([changed(SPAN, end=9)], [SPAN])
    assert results_match([copy.deepcopy(SPAN)], [SPAN])


def test_region_order_does_not_count_but_every_region_does() -> None:
    other = changed(BOX, x=50.0)
    assert results_match([other, BOX], [BOX, other])
    assert not results_match([BOX], [BOX, other])
    assert not results_match([BOX, BOX], [BOX, other])
    assert results_match([], [])


def test_an_unrotated_image_region_from_label_studio_is_unchanged() -> None:
    """Label Studio's front end adds image_rotation 0 to the regions it submits."""
    mine = copy.deepcopy(BOX)
    mine["image_rotation"] = 0
    assert results_match([mine], [BOX])
    mine["image_rotation"] = 90
    assert not results_match([mine], [BOX])
