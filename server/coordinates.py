"""The one rule for the coordinates of a region on an image, wherever a region
enters: the prediction imports (AAP JSON, COCO), the annotation imports (Label
Studio JSON, COCO) and SubmitAnnotation / UpdateAnnotation.

* Every coordinate is a finite number.
* A box's width and height are greater than 0.
* A region may overrun the image by at most PIXEL_SLACK (1 px) on any side;
  such an overrun is clamped to the image's border (detectors and
  pycocotools write boxes like [180.0, 90.0, 20.4, 10.0] in a 200x100 image).
  A larger overrun is refused: an import makes it an error entry, a workflow
  call an INVALID_REQUEST naming the region. A box that keeps no area inside
  the image after the clamp is refused too.

Units. Label Studio results are in percent of the image (0..100), imported
geometries in fractions of it (0..1), COCO boxes in pixels. One pixel in
percent or fractions needs the image's size in pixels: a region's
`original_width` / `original_height`, a task's size, a COCO image's size.
When no size is known, the slack is UNKNOWN_SIZE_SLACK of the image's side
(0.5 %: one pixel of an image 200 pixels wide), so a sub-pixel overrun of any
image of 200 pixels or more is clamped.

A rotated Label Studio rectangle (`rotation` not a multiple of 360) is checked
by its four corners, turned around its top-left corner as Label Studio turns
it, and kept as it is when they are within the slack (a rotated box cannot be
clamped without changing its shape).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeGuard

from annotation_api.errors import DomainError, ErrorCode
from server.images import result_pixel_size

# How far, in pixels, a region may overrun the image and be clamped.
PIXEL_SLACK = 1.0
# The slack as a share of the image's side when its size in pixels is unknown.
UNKNOWN_SIZE_SLACK = 0.005
# Clamped percent coordinates are rounded to this many decimals (no float noise).
PERCENT_DECIMALS = 8

_NUMBERS = (int, float)


class CoordinateError(ValueError):
    """A region that breaks the rule; str(error) is the reason."""


def is_finite_number(value: Any) -> TypeGuard[int | float]:
    """A JSON number (not a bool) that is finite."""
    kind = type(value)
    if kind is int:
        return True
    return kind is float and math.isfinite(value)


@dataclass(frozen=True, slots=True)
class Frame:
    """An image in some unit: its side is `scale` (1 for fractions, 100 for percent),
    and a coordinate may lie up to `slack_x` / `slack_y` beyond its border."""

    scale: float
    slack_x: float
    slack_y: float
    # width / height in pixels (1 when unknown): rotations are done in pixel space
    aspect: float = 1.0
    known_size: bool = False

    @classmethod
    def of(cls, scale: float, size: tuple[float, float] | None) -> Frame:
        """The frame of an image of `size` (width, height) pixels, None: unknown."""
        if size is None or not (size[0] >= 1 and size[1] >= 1):
            slack = scale * UNKNOWN_SIZE_SLACK
            return cls(scale, slack, slack)
        width, height = size
        return cls(
            scale,
            scale * PIXEL_SLACK / width,
            scale * PIXEL_SLACK / height,
            aspect=width / height,
            known_size=True,
        )

    @property
    def allowance(self) -> str:
        """How far a region may overrun the image, for an error's reason."""
        if self.known_size:
            return f"{PIXEL_SLACK:g} px"
        return f"{UNKNOWN_SIZE_SLACK * 100:g} % of the image (its size is unknown)"

    def clamp(self, value: float, *, vertical: bool) -> float | None:
        """value within the image, clamped when within the slack; None when further out."""
        if 0.0 <= value <= self.scale:
            return float(value)
        slack = self.slack_y if vertical else self.slack_x
        if -slack <= value < 0.0:
            return 0.0
        if self.scale < value <= self.scale + slack:
            return self.scale
        return None  # beyond the slack, or NaN

    def box(self, x: float, y: float, width: float, height: float) -> tuple[float, ...]:
        """(x, y, width, height) clamped into the image; CoordinateError when a side
        overruns it by more than the slack or no area is left."""
        if not (width > 0 and height > 0):
            raise CoordinateError("width and height must be greater than 0")
        if x >= 0 and y >= 0 and x + width <= self.scale and y + height <= self.scale:
            return (x, y, width, height)  # the usual case, inside already
        left, right = self.clamp(x, vertical=False), self.clamp(x + width, vertical=False)
        top, bottom = self.clamp(y, vertical=True), self.clamp(y + height, vertical=True)
        if left is None or right is None or top is None or bottom is None:
            raise CoordinateError(f"it overruns the image by more than {self.allowance}")
        if right <= left or bottom <= top:
            raise CoordinateError("it has no area inside the image")
        return (left, top, right - left, bottom - top)

    def point(self, x: float, y: float) -> tuple[float, float]:
        """A point clamped into the image; CoordinateError when further out than the slack."""
        px, py = self.clamp(x, vertical=False), self.clamp(y, vertical=True)
        if px is None or py is None:
            raise CoordinateError(f"it lies outside the image by more than {self.allowance}")
        return (px, py)

    def rotated_box(self, x: float, y: float, width: float, height: float, rotation: float) -> None:
        """Check a box turned by `rotation` degrees around (x, y): each corner within
        the slack (CoordinateError otherwise)."""
        if not (width > 0 and height > 0):
            raise CoordinateError("width and height must be greater than 0")
        cos, sin = math.cos(math.radians(rotation)), math.sin(math.radians(rotation))
        aspect = self.aspect
        for dx, dy in ((0.0, 0.0), (width, 0.0), (width, height), (0.0, height)):
            px = dx * aspect
            corner_x = x + (px * cos - dy * sin) / aspect
            corner_y = y + (px * sin + dy * cos)
            if self.clamp(corner_x, vertical=False) is None or (
                self.clamp(corner_y, vertical=True) is None
            ):
                raise CoordinateError(
                    f"a corner of the rotated box overruns the image by more than {self.allowance}"
                )


# Label Studio region types, by the shape of their value.
BOX_TYPES = frozenset({"rectanglelabels", "rectangle"})
POLYGON_TYPES = frozenset({"polygonlabels", "polygon"})
POINT_TYPES = frozenset({"keypointlabels", "keypoint"})
ELLIPSE_TYPES = frozenset({"ellipselabels", "ellipse"})
_GEOMETRY_TYPES = BOX_TYPES | POLYGON_TYPES | POINT_TYPES | ELLIPSE_TYPES


def _invalid(field: str, message: str) -> DomainError:
    return DomainError(ErrorCode.INVALID_REQUEST, message, {"field": field})


def fit_result(result: Sequence[Any], *, field: str = "result") -> None:
    """Check the regions of a Label Studio result (a list of region objects) by the
    rule, clamping in place the ones that overrun the image by at most the slack;
    INVALID_REQUEST naming the region (`details.field` "result[2].value") otherwise.
    Regions of other types (choices, labels, text, …) have no coordinates."""
    for index, region in enumerate(result):
        if region.__class__ is not dict or region.get("type") not in _GEOMETRY_TYPES:
            continue
        value = region.get("value")
        if value.__class__ is not dict:
            continue
        where = f"{field}[{index}].value"
        try:
            _fit_region(region["type"], value, region)
        except CoordinateError as error:
            raise _invalid(where, f"region {index} ({region['type']}): {error}") from None


def _number(value: dict[str, Any], key: str) -> float:
    number = value.get(key)
    if not is_finite_number(number):
        raise CoordinateError(f"{key} must be a finite number, got {number!r}")
    return float(number)


@lru_cache(maxsize=256)
def _percent_frame(size: tuple[int, int] | None) -> Frame:
    """The frame of a Label Studio region (percent) of an image of `size` (an import
    checks 100,000 regions of a few sizes)."""
    return Frame.of(100.0, size)


def _fit_region(kind: str, value: dict[str, Any], region: dict[str, Any]) -> None:
    if kind in BOX_TYPES:
        x, y = _number(value, "x"), _number(value, "y")
        width, height = _number(value, "width"), _number(value, "height")
        rotation = value.get("rotation", 0)
        if rotation is not None and not is_finite_number(rotation):
            raise CoordinateError(f"rotation must be a finite number, got {rotation!r}")
        if (
            not rotation
            and width > 0
            and height > 0
            and 0 <= x <= 100.0 - width
            and 0 <= y <= 100.0 - height
        ):
            return  # the usual box: inside the image, whatever its size
        frame = _percent_frame(result_pixel_size((region,)))
        if rotation and rotation % 360:
            frame.rotated_box(x, y, width, height, rotation)
            return
        fitted = frame.box(x, y, width, height)
        if fitted != (x, y, width, height):
            for key, number in zip(("x", "y", "width", "height"), fitted, strict=True):
                value[key] = round(number, PERCENT_DECIMALS)
        return
    frame = _percent_frame(result_pixel_size((region,)))
    if kind in POLYGON_TYPES:
        points = value.get("points")
        if not isinstance(points, list):
            raise CoordinateError("points must be a list of [x, y] pairs")
        for number, point in enumerate(points):
            if not (
                isinstance(point, list)
                and len(point) == 2
                and is_finite_number(point[0])
                and is_finite_number(point[1])
            ):
                raise CoordinateError(f"point {number} is not an [x, y] pair of finite numbers")
            try:
                fitted_point = frame.point(point[0], point[1])
            except CoordinateError as error:
                raise CoordinateError(f"point {number}: {error}") from None
            if fitted_point != (point[0], point[1]):
                point[:] = [round(c, PERCENT_DECIMALS) for c in fitted_point]
    else:  # a key point, or an ellipse's centre
        x, y = _number(value, "x"), _number(value, "y")
        if kind in ELLIPSE_TYPES:
            for key in ("radiusX", "radiusY"):
                if not _number(value, key) > 0:
                    raise CoordinateError(f"{key} must be greater than 0")
        fitted_point = frame.point(x, y)
        if fitted_point != (x, y):
            value["x"], value["y"] = fitted_point
