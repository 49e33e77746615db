"""Geometry validation and Label Studio results, as pure functions."""

from __future__ import annotations

import pytest

from server.coordinates import Frame
from server.predictions.geometry import (
    BBox,
    GeometryError,
    Polygons,
    fit_shape,
    parse_geometry,
    to_results,
)

UNKNOWN_SIZE = Frame.of(1.0, None)


def test_a_box_touching_the_border_within_float_noise_is_clamped() -> None:
    parsed = parse_geometry({"type": "bbox", "x": 0.7, "y": 0.0, "w": 0.3000000001, "h": 1})
    shape = fit_shape(parsed, UNKNOWN_SIZE)
    assert isinstance(shape, BBox)
    assert shape.x + shape.w == pytest.approx(1.0)
    assert shape.x + shape.w <= 1.0


def test_percent_coordinates_carry_no_float_noise() -> None:
    [region] = to_results(BBox(0.1, 0.2, 0.3, 0.7), label="cat", score=None, original_size=(10, 20))
    assert region["value"]["x"] == 10.0  # not 10.000000000000002
    assert region["value"]["height"] == 70.0
    assert (region["original_width"], region["original_height"]) == (10, 20)


def test_a_multi_polygon_names_the_bad_polygon() -> None:
    good = [[0, 0], [1, 0], [1, 1]]
    with pytest.raises(GeometryError, match="multi_polygon polygon 1 point 0 is not an"):
        parse_geometry({"type": "multi_polygon", "polygons": [good, [["a", 0], [1, 0], [1, 1]]]})


def test_a_multi_polygon_is_one_region_per_polygon() -> None:
    shape = parse_geometry(
        {"type": "multi_polygon", "polygons": [[[0, 0], [1, 0], [1, 1]], [[0, 0], [0, 1], [1, 1]]]}
    )
    assert isinstance(shape, Polygons)
    regions = to_results(shape, label="road", score=0.3, original_size=None)
    assert [r["value"]["polygonlabels"] for r in regions] == [["road"], ["road"]]
    assert all(r["score"] == 0.3 and "original_width" not in r for r in regions)


@pytest.mark.parametrize(
    "geometry",
    [
        {"type": "bbox", "x": True, "y": 0, "w": 0.5, "h": 0.5},  # a bool is not a number
        {"type": "bbox", "x": 0, "y": 0, "w": -0.1, "h": 0.5},
        {"type": "polygon", "points": "0,0 1,0 1,1"},
        {"type": "polygon", "points": [[0, 0], [1, 0], [1, 1, 1]]},
        {"type": 3},
        [],
    ],
)
def test_malformed_geometries_are_refused(geometry: object) -> None:
    with pytest.raises(GeometryError):
        parse_geometry(geometry)
