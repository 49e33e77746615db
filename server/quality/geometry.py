"""Region geometry for comparing answers: shapes of Label Studio regions and their IoU.

Coordinates stay as Label Studio stores them, in percent of the image. The
IoU of two axis-aligned boxes does not change when both axes are scaled, so
percent and pixels give the same IoU for them (the usual case, computed by
hand: no shapely object is built). Rotated rectangles and polygons go
through shapely; a rotation is applied in percent space, which differs from
the pixel-space rotation of a non-square image by a little (documented in
docs/quality.md).
"""

from __future__ import annotations

import math
from typing import Any

import shapely
from shapely import affinity
from shapely.geometry.base import BaseGeometry

# (x, y, width, height) in percent: Label Studio's rectangle.
Box = tuple[float, float, float, float]


def finite_number(value: Any) -> float | None:
    """A finite int or float as a float; anything else (bool, text, inf) None."""
    if type(value) in (int, float) and math.isfinite(value):
        return float(value)
    return None


def box_of(value: dict[str, Any]) -> Box | None:
    """The (x, y, width, height) of a rectangle's value, None when it cannot be drawn."""
    x, y = finite_number(value.get("x")), finite_number(value.get("y"))
    w, h = finite_number(value.get("width")), finite_number(value.get("height"))
    if x is None or y is None or w is None or h is None or w <= 0 or h <= 0:
        return None
    return x, y, w, h


def box_iou(a: Box, b: Box) -> float:
    """IoU of two axis-aligned boxes."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    width = min(ax + aw, bx + bw) - max(ax, bx)
    height = min(ay + ah, by + bh) - max(ay, by)
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    return inter / (aw * ah + bw * bh - inter)


def rectangle_shape(box: Box, rotation: float) -> BaseGeometry:
    """A rectangle turned by `rotation` degrees about its top-left corner (as Label Studio)."""
    x, y, w, h = box
    shape = shapely.box(x, y, x + w, y + h)
    return affinity.rotate(shape, rotation, origin=(x, y)) if rotation else shape


def rotated_box_iou(a: Box, a_rotation: float, b: Box, b_rotation: float) -> float:
    """IoU of two rectangles, either of them rotated."""
    if not a_rotation and not b_rotation:
        return box_iou(a, b)
    return shape_iou(rectangle_shape(a, a_rotation), rectangle_shape(b, b_rotation))


def polygon_shape(value: dict[str, Any]) -> BaseGeometry | None:
    """The polygon of a value's `points` (made valid), None when it has no area."""
    points = value.get("points")
    if not isinstance(points, list) or len(points) < 3:
        return None
    ring: list[tuple[float, float]] = []
    for point in points:
        if not isinstance(point, list | tuple) or len(point) != 2:
            return None
        px, py = finite_number(point[0]), finite_number(point[1])
        if px is None or py is None:
            return None
        ring.append((px, py))
    shape = shapely.make_valid(shapely.Polygon(ring))
    return shape if shape.area > 0 else None


def shape_iou(a: BaseGeometry, b: BaseGeometry) -> float:
    """IoU of two shapes with an area."""
    inter = a.intersection(b).area
    if inter <= 0:
        return 0.0
    union = a.area + b.area - inter
    return inter / union if union > 0 else 0.0
