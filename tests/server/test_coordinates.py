"""The coordinate rule (server/coordinates.py) as pure functions, for every region kind."""

from __future__ import annotations

from typing import Any

import pytest

from annotation_api.errors import DomainError
from server.coordinates import CoordinateError, Frame, fit_result


def region(kind: str, size: tuple[int, int] | None = (200, 100), **value: Any) -> dict:
    found: dict[str, Any] = {"type": kind, "from_name": "label", "to_name": "image", "value": value}
    if size is not None:
        found["original_width"], found["original_height"] = size
    return found


def test_a_pixel_frame_clamps_one_pixel_and_refuses_more() -> None:
    frame = Frame.of(200.0, (200, 100))  # pixels of a 200x100 image: slack 2 units of 200
    assert frame.box(180.0, 90.0, 20.4, 10.0) == (180.0, 90.0, 20.0, 10.0)
    with pytest.raises(CoordinateError, match="more than 1 px"):
        frame.box(180.0, 90.0, 23.0, 10.0)
    with pytest.raises(CoordinateError, match="no area inside"):
        Frame.of(1.0, (200, 100)).box(1.0, 0.5, 0.004, 0.1)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), 1e308])
def test_non_finite_and_absurd_values_are_refused(bad: float) -> None:
    frame = Frame.of(1.0, None)
    with pytest.raises(CoordinateError):
        frame.box(bad, 0.0, bad, 0.5)
    with pytest.raises(CoordinateError):
        frame.point(0.5, bad)


def test_every_image_region_kind_is_fitted_in_place() -> None:
    result = [
        region("polygonlabels", points=[[10, 10], [100.3, 10], [50, 99.6]], polygonlabels=["a"]),
        region("keypointlabels", x=-0.4, y=50, width=1, keypointlabels=["a"]),
        region("ellipselabels", None, x=100.2, y=50, radiusX=3, radiusY=4, ellipselabels=["a"]),
        region("choices", None, choices=["cat"]),
        {"type": "labels", "value": {"start": 0, "end": 10_000, "labels": ["PER"]}},
    ]
    fit_result(result)
    assert result[0]["value"]["points"] == [[10, 10], [100.0, 10], [50, 99.6]]
    assert (result[1]["value"]["x"], result[1]["value"]["y"]) == (0.0, 50)
    assert result[2]["value"]["x"] == 100.0


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (region("polygonlabels", points=[[10, 10], [102, 10], [50, 90]]), "point 1: it lies"),
        (region("polygonlabels", points=[[10, 10], ["a", 10], [50, 90]]), "point 1 is not"),
        (region("keypointlabels", x=50, y=-2), "lies outside the image by more than 1 px"),
        (region("ellipselabels", x=50, y=50, radiusX=0, radiusY=4), "radiusX must be greater"),
        (region("rectanglelabels", x=50, y=50, width=10, height=10, rotation=float("nan")), "rot"),
        (region("rectanglelabels", x=95, y=10, width=20, height=10, rotation=270), "rotated box"),
        (region("rectangle", None, x=1e308, y=0, width=1e308, height=5), "0.5 % of the image"),
    ],
)
def test_a_region_outside_the_image_is_invalid_naming_it(bad: dict, message: str) -> None:
    with pytest.raises(DomainError) as raised:
        fit_result([region("choices", choices=["cat"]), bad])
    assert raised.value.details["field"] == "result[1].value"
    assert raised.value.message.startswith(f"region 1 ({bad['type']}): ")
    assert message in raised.value.message
