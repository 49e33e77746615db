"""Normalized geometries of imported predictions and their Label Studio results.

Imported geometries are normalized to 0..1 of the image; Label Studio results
(SPEC §6) use percent of the image (0..100). Validation raises GeometryError
with a reason meant for the person who produced the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, TypeGuard

from server.vocabulary import GeometryKind

BBOX = GeometryKind.BBOX
POLYGON = GeometryKind.POLYGON
MULTI_POLYGON = GeometryKind.MULTI_POLYGON
SUPPORTED_KINDS = tuple(GeometryKind)

# Coordinates a hair outside 0..1 (float rounding, pixel boxes touching the
# border) are clamped instead of rejected.
TOLERANCE = 1e-6
# Percent coordinates are rounded to this many decimals, which removes float
# noise such as 10.000000000000002 and stays far below a pixel.
PERCENT_DECIMALS = 8

FROM_NAME = "label"
TO_NAME = "image"

Point = tuple[float, float]


class GeometryError(ValueError):
    """A geometry that cannot be imported; str(error) is the reason."""


@dataclass(slots=True)
class BBox:
    """An axis-aligned box: top-left corner, width and height, all in 0..1."""

    kind: ClassVar[GeometryKind] = BBOX
    x: float
    y: float
    w: float
    h: float


@dataclass(slots=True)
class Polygons:
    """One polygon (kind polygon) or several (kind multi_polygon), points in 0..1."""

    kind: GeometryKind
    polygons: tuple[tuple[Point, ...], ...]


Shape = BBox | Polygons


NUMBER_TYPES = frozenset({int, float})  # not bool: a number in Python, not in JSON


def is_number(value: Any) -> TypeGuard[int | float]:
    """A JSON number (bool is an int in Python but not a number in JSON)."""
    return type(value) in NUMBER_TYPES


def _unit(value: float) -> float | None:
    """value clamped into 0..1 when within TOLERANCE of it, else None."""
    if 0.0 <= value <= 1.0:
        return float(value)
    if -TOLERANCE <= value < 0.0:
        return 0.0
    if 1.0 < value <= 1.0 + TOLERANCE:
        return 1.0
    return None


def parse_geometry(geometry: Any) -> Shape:
    """The shape described by an AAP geometry object, or GeometryError."""
    if not isinstance(geometry, dict):
        if geometry is None:
            raise GeometryError("geometry is missing")
        raise GeometryError("geometry must be an object with a type")
    kind = geometry.get("type")
    if kind == BBOX:
        return parse_bbox(
            geometry.get("x"), geometry.get("y"), geometry.get("w"), geometry.get("h")
        )
    if kind == POLYGON:
        return Polygons(POLYGON, (parse_ring(geometry.get("points"), "polygon"),))
    if kind == MULTI_POLYGON:
        return parse_multi_polygon(geometry.get("polygons"))
    if kind is None:
        raise GeometryError(f"geometry has no type (supported: {', '.join(SUPPORTED_KINDS)})")
    return _unsupported(kind)


def _unsupported(kind: Any) -> Shape:
    shown = repr(kind) if isinstance(kind, str) else repr(str(kind))
    raise GeometryError(
        f"unsupported geometry kind: {shown} (supported: {', '.join(SUPPORTED_KINDS)})"
    )


def parse_bbox(x: Any, y: Any, w: Any, h: Any) -> BBox:
    """A normalized box; out-of-range and empty boxes are GeometryError."""
    numbers = NUMBER_TYPES
    if (
        type(x) in numbers
        and type(y) in numbers
        and type(w) in numbers
        and type(h) in numbers
        and x >= 0
        and y >= 0
        and w > 0
        and h > 0
        and x + w <= 1
        and y + h <= 1
    ):
        return BBox(float(x), float(y), float(w), float(h))  # the common case, checked cheaply
    return _parse_bbox_carefully(x, y, w, h)


def _parse_bbox_carefully(x: Any, y: Any, w: Any, h: Any) -> BBox:
    if not (is_number(x) and is_number(y) and is_number(w) and is_number(h)):
        raise GeometryError("bbox needs numbers x, y, w and h (normalized to 0..1)")
    if w <= 0 or h <= 0:
        raise GeometryError(f"degenerate bbox: w and h must be greater than 0 (w={w}, h={h})")
    cx, cy = _unit(x), _unit(y)
    right, bottom = _unit(x + w), _unit(y + h)
    if cx is None or cy is None or right is None or bottom is None:
        raise GeometryError(
            f"bbox out of range (x={x}, y={y}, w={w}, h={h}): coordinates are normalized "
            "to 0..1 and x+w, y+h may not exceed 1"
        )
    if right <= cx or bottom <= cy:
        raise GeometryError(f"degenerate bbox: it has no area inside the image (w={w}, h={h})")
    return BBox(cx, cy, right - cx, bottom - cy)


def parse_ring(points: Any, what: str) -> tuple[Point, ...]:
    """A polygon's points: at least three [x, y] pairs in 0..1 enclosing an area."""
    if not isinstance(points, list) or len(points) < 3:
        raise GeometryError(f"{what} needs points: a list of at least 3 [x, y] pairs")
    ring: list[Point] = []
    for index, point in enumerate(points):
        if not (
            isinstance(point, list | tuple)
            and len(point) == 2
            and is_number(point[0])
            and is_number(point[1])
        ):
            raise GeometryError(f"{what} point {index} is not an [x, y] pair of numbers")
        px, py = _unit(point[0]), _unit(point[1])
        if px is None or py is None:
            raise GeometryError(
                f"{what} point {index} out of range ({point[0]}, {point[1]}): "
                "coordinates are normalized to 0..1"
            )
        ring.append((px, py))
    if abs(_doubled_area(ring)) < 1e-12:
        raise GeometryError(f"degenerate {what}: its points enclose no area")
    return tuple(ring)


def parse_multi_polygon(polygons: Any) -> Polygons:
    if not isinstance(polygons, list) or not polygons:
        raise GeometryError("multi_polygon needs polygons: a non-empty list of point lists")
    rings = tuple(
        parse_ring(points, f"multi_polygon polygon {index}")
        for index, points in enumerate(polygons)
    )
    return Polygons(MULTI_POLYGON, rings)


def _doubled_area(ring: list[Point]) -> float:
    """Twice the signed area (shoelace formula)."""
    total = 0.0
    previous_x, previous_y = ring[-1]
    for x, y in ring:
        total += previous_x * y - x * previous_y
        previous_x, previous_y = x, y
    return total


def _percent(value: float) -> float:
    return round(value * 100.0, PERCENT_DECIMALS)


def to_results(
    shape: Shape,
    *,
    label: str,
    score: float | None,
    original_size: tuple[int, int] | None,
) -> list[dict[str, Any]]:
    """The Label Studio result array of one prediction (SPEC §6).

    A multi_polygon becomes one polygonlabels region per polygon in the same
    array, so that it stays one prediction row.
    """
    if isinstance(shape, BBox):
        value: dict[str, Any] = {
            "x": round(shape.x * 100.0, PERCENT_DECIMALS),
            "y": round(shape.y * 100.0, PERCENT_DECIMALS),
            "width": round(shape.w * 100.0, PERCENT_DECIMALS),
            "height": round(shape.h * 100.0, PERCENT_DECIMALS),
            "rotation": 0,
            "rectanglelabels": [label],
        }
        return [_region("rectanglelabels", value, score, original_size)]
    return [
        _region(
            "polygonlabels",
            {"points": [[_percent(x), _percent(y)] for x, y in ring], "polygonlabels": [label]},
            score,
            original_size,
        )
        for ring in shape.polygons
    ]


def _region(
    kind: str,
    value: dict[str, Any],
    score: float | None,
    original_size: tuple[int, int] | None,
) -> dict[str, Any]:
    region: dict[str, Any] = {"type": kind, "from_name": FROM_NAME, "to_name": TO_NAME}
    if original_size is not None:
        region["original_width"], region["original_height"] = original_size
    region["value"] = value
    if score is not None:
        region["score"] = score
    return region
