"""Reading Label Studio results (SPEC §6) for the export formats.

Coordinates in results are percent of the image (0-100). Rectangles may carry
a `rotation` in degrees around their top-left corner, as Label Studio draws
them; formats that hold axis-aligned boxes use the box around the rotated
corners. A region with several labels counts under its first label.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from server.images import metadata_pixel_size, recorded_pixel_size, result_pixel_size
from storage.export_records import ExportTask

LABEL_KEYS = ("choices", "labels", "rectanglelabels", "polygonlabels", "taxonomy")


@dataclass(slots=True)  # not frozen: a frozen dataclass is slower to build, and there are many
class Region:
    """A labelled shape: `points` in percent of the image, clockwise as drawn."""

    label: str
    kind: str  # "rectangle" or "polygon"
    points: tuple[tuple[float, float], ...]
    # an unrotated rectangle's (left, top, right, bottom) in percent, else None:
    # the same numbers as its corners, for formats that need only those.
    box: tuple[float, float, float, float] | None = None

    def bounds(self) -> tuple[float, float, float, float]:
        """(x_min, y_min, x_max, y_max) in percent."""
        if self.box is not None:
            return self.box
        xs = [p[0] for p in self.points]
        ys = [p[1] for p in self.points]
        return min(xs), min(ys), max(xs), max(ys)


@dataclass(frozen=True, slots=True)
class Span:
    """A labelled character span of a text (NER)."""

    text: str
    label: str
    start: int
    end: int


def _value(item: Any) -> dict[str, Any]:
    if isinstance(item, dict):
        value = item.get("value")
        if isinstance(value, dict):
            return value
    return {}


def _names(value: dict[str, Any], key: str) -> list[str]:
    names = value.get(key)
    if isinstance(names, list):
        return [str(n) for n in names if isinstance(n, str | int | float)]
    return []


def chosen_labels(result: Sequence[Any]) -> list[str]:
    """Every label name the result uses, once each, in order of appearance."""
    seen: dict[str, None] = {}
    for item in result:
        value = _value(item)
        if not value:
            continue
        for key in LABEL_KEYS:
            names = value.get(key)
            if isinstance(names, list):
                for name in names:
                    if isinstance(name, (str, int, float)):  # a tuple: faster than a union
                        seen.setdefault(str(name), None)
    return list(seen)


def spans(result: Sequence[Any]) -> list[Span]:
    """The NER spans of a result, in the order they were drawn."""
    found: list[Span] = []
    for item in result:
        value = _value(item)
        names = _names(value, "labels")
        start, end = value.get("start"), value.get("end")
        if not names or not isinstance(start, int) or not isinstance(end, int):
            continue
        text = value.get("text")
        found.append(
            Span(text=text if isinstance(text, str) else "", label=names[0], start=start, end=end)
        )
    return found


def _number(value: Any) -> float | None:
    kind = type(value)
    if kind is float:  # the usual case first: this runs for every coordinate
        return value if math.isfinite(value) else None
    if kind is int:
        return float(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _first_name(value: dict[str, Any], key: str) -> str | None:
    """_names(value, key)[0], or None when there is none (the usual case first)."""
    names = value.get(key)
    if type(names) is list and names:
        if type(names[0]) is str:
            return names[0]
        for name in names:
            if isinstance(name, str | int | float):
                return str(name)
    return None


def regions(result: Sequence[Any], *, aspect: float = 1.0) -> list[Region]:
    """The rectangles and polygons of a result (see read_regions)."""
    return read_regions(result, aspect=aspect)[0]


def read_regions(result: Sequence[Any], *, aspect: float = 1.0) -> tuple[list[Region], int]:
    """The rectangles and polygons of a result, and how many of its regions
    were left out.

    A rectangle or polygon is left out when it cannot be drawn: no label, a
    coordinate that is not a finite number (or whose rotated corners are not),
    a width or height not above 0, fewer than 3 points, or no part inside the
    image (0..100 %). Every format clamps what it keeps to the image, so the
    numbers that reach a format are finite and overlap the image.

    `aspect` is the image's width / height: rotating a rectangle is only
    correct in pixel space, so percent offsets are scaled by it.
    """
    found: list[Region] = []
    left_out = 0
    for item in result:
        if not isinstance(item, dict):
            continue
        kind = item.get("type")
        if kind != "rectanglelabels" and kind != "polygonlabels":
            continue
        value = item.get("value")
        label = _first_name(value, kind) if isinstance(value, dict) else None
        region: Region | None = None
        if label is not None:
            assert isinstance(value, dict)
            if kind == "rectanglelabels":
                region = _rectangle(label, value, aspect)
            else:
                points = _polygon_points(value.get("points"))
                if len(points) >= 3:
                    region = Region(label, "polygon", points)
        if region is not None and _inside(region):
            found.append(region)
        else:
            left_out += 1
    return found, left_out


def _inside(region: Region) -> bool:
    """Whether the region's numbers are finite and it covers part of the image."""
    if region.box is None:
        for x, y in region.points:
            if not (math.isfinite(x) and math.isfinite(y)):
                return False
    left, top, right, bottom = region.bounds()
    # (a box's left and top are finite; its right and bottom may have overflowed)
    return 0.0 < right < math.inf and left < 100.0 and 0.0 < bottom < math.inf and top < 100.0


def _rectangle(label: str, value: dict[str, Any], aspect: float) -> Region | None:
    x, y = _number(value.get("x")), _number(value.get("y"))
    width, height = _number(value.get("width")), _number(value.get("height"))
    if x is None or y is None or width is None or height is None or width <= 0 or height <= 0:
        return None
    rotation = _number(value.get("rotation")) or 0.0
    if rotation % 360 == 0:
        left, top, right, bottom = x + 0.0, y + 0.0, x + width, y + height
        corners = ((left, top), (right, top), (right, bottom), (left, bottom))
        return Region(label, "rectangle", corners, (left, top, right, bottom))
    # rotate in pixel-proportional space (x scaled by aspect), then back to percent.
    offsets = ((0.0, 0.0), (width, 0.0), (width, height), (0.0, height))
    cos, sin = math.cos(math.radians(rotation)), math.sin(math.radians(rotation))
    rotated = []
    for dx, dy in offsets:
        px, py = dx * aspect, dy
        rx, ry = px * cos - py * sin, px * sin + py * cos
        rotated.append((x + rx / aspect, y + ry))
    return Region(label, "rectangle", tuple(rotated))


def _polygon_points(raw: Any) -> tuple[tuple[float, float], ...]:
    """The points of a polygon; () when one of them is not a pair of finite numbers."""
    if not isinstance(raw, list):
        return ()
    points: list[tuple[float, float]] = []
    for point in raw:
        if not isinstance(point, list | tuple) or len(point) < 2:
            return ()
        px, py = _number(point[0]), _number(point[1])
        if px is None or py is None:
            return ()
        points.append((px, py))
    return tuple(points)


def pixel_size(task: ExportTask) -> tuple[int, int] | None:
    """The image's (width, height) in pixels by server.images' rule: the
    metadata, the recorded size, then the regions of the task's annotations
    (the latest first)."""
    size = metadata_pixel_size(task.metadata) or recorded_pixel_size(
        task.image_width, task.image_height
    )
    if size is not None:
        return size
    annotations = task.annotations
    latest = task.latest_annotation
    if latest is None:
        return None
    size = result_pixel_size(latest.result)
    if size is None and len(annotations) > 1:
        for annotation in sorted(
            annotations, key=lambda a: (a.updated_at, a.annotation_id), reverse=True
        ):
            size = result_pixel_size(annotation.result)
            if size is not None:
                break
    return size


def polygon_area(points: Iterable[tuple[float, float]]) -> float:
    """Shoelace area of a simple polygon (any unit)."""
    pts = list(points)
    total = 0.0
    for (x1, y1), (x2, y2) in zip(pts, pts[1:] + pts[:1], strict=True):
        total += x1 * y2 - x2 * y1
    return abs(total) / 2.0


class LabelIndex:
    """Class ids in label order; names found only in results follow, in order
    of first appearance, so that no region is dropped."""

    def __init__(self, labels: Sequence[str]) -> None:
        self._ids: dict[str, int] = {}
        for name in labels:
            self._ids.setdefault(name, len(self._ids))

    def index(self, name: str) -> int:
        return self._ids.setdefault(name, len(self._ids))

    @property
    def names(self) -> list[str]:
        return list(self._ids)
