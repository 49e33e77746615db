"""What an imported prediction marks, and its Label Studio result.

Image regions (bbox, polygon, multi_polygon) are normalized to 0..1 of the
image; Label Studio results (SPEC §6) use percent of the image (0..100). A
span marks characters of a task's text (NER), a class the whole task (text
and image classification). A geometry is read in two steps:
parse_geometry checks its form (numbers, finite, positive sizes, enough
points) where the file is read; fit_shape then applies the coordinate rule
(server.coordinates: within the image, a 1 px overrun clamped) once the
image's size is known, which for AAP JSON is after the task is matched.
A span is fitted to the task's text the same way: its offsets within the
text, its `text`, when given, equal to the characters it spans. Both raise
GeometryError with a reason meant for the person who produced the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, TypeGuard

from server.coordinates import CoordinateError, Frame, is_finite_number
from server.vocabulary import GeometryKind

BBOX = GeometryKind.BBOX
POLYGON = GeometryKind.POLYGON
MULTI_POLYGON = GeometryKind.MULTI_POLYGON
SPAN = GeometryKind.SPAN
CLASS = GeometryKind.CLASS
SUPPORTED_KINDS = tuple(GeometryKind)

# Percent coordinates are rounded to this many decimals, which removes float
# noise such as 10.000000000000002 and stays far below a pixel.
PERCENT_DECIMALS = 8

FROM_NAME = "label"
TO_NAME = "image"
TEXT_NAME = "text"

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


@dataclass(slots=True)
class Span:
    """Characters start..end (end excluded) of the task's text; `text` those characters
    (None until fitted, when the file does not give it)."""

    kind: ClassVar[GeometryKind] = SPAN
    start: int
    end: int
    text: str | None


@dataclass(slots=True)
class TaskClass:
    """The class of the whole task: no geometry, only the prediction's class_name."""

    kind: ClassVar[GeometryKind] = CLASS


Shape = BBox | Polygons | Span | TaskClass


NUMBER_TYPES = frozenset({int, float})  # not bool: a number in Python, not in JSON


def is_number(value: Any) -> TypeGuard[int | float]:
    """A JSON number (bool is an int in Python but not a number in JSON)."""
    return type(value) in NUMBER_TYPES


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
    if kind == SPAN:
        return parse_span(geometry.get("start"), geometry.get("end"), geometry.get("text"))
    if kind == CLASS:
        return TaskClass()
    if kind is None:
        raise GeometryError(f"geometry has no type (supported: {', '.join(SUPPORTED_KINDS)})")
    return _unsupported(kind)


def _unsupported(kind: Any) -> Shape:
    shown = repr(kind) if isinstance(kind, str) else repr(str(kind))
    raise GeometryError(
        f"unsupported geometry kind: {shown} (supported: {', '.join(SUPPORTED_KINDS)})"
    )


def parse_bbox(x: Any, y: Any, w: Any, h: Any) -> BBox:
    """A box as given (fit_shape checks it against the image); GeometryError when
    its numbers are not finite or it has no width or height."""
    if not (
        is_finite_number(x) and is_finite_number(y) and is_finite_number(w) and is_finite_number(h)
    ):
        raise GeometryError("bbox needs numbers x, y, w and h (normalized to 0..1)")
    if w <= 0 or h <= 0:
        raise GeometryError(f"degenerate bbox: w and h must be greater than 0 (w={w}, h={h})")
    return BBox(float(x), float(y), float(w), float(h))


def parse_span(start: Any, end: Any, text: Any) -> Span:
    """A span as given (fit_shape checks it against the task's text)."""
    if type(start) is not int or type(end) is not int:
        raise GeometryError("span needs integer character offsets start and end")
    if not 0 <= start < end:
        raise GeometryError(f"empty span: 0 <= start < end is needed (start={start}, end={end})")
    if text is not None and not isinstance(text, str):
        raise GeometryError("span text must be a string")
    return Span(start, end, text)


def parse_ring(points: Any, what: str) -> tuple[Point, ...]:
    """A polygon's points as given: at least three [x, y] pairs of finite numbers."""
    if not isinstance(points, list) or len(points) < 3:
        raise GeometryError(f"{what} needs points: a list of at least 3 [x, y] pairs")
    ring: list[Point] = []
    for index, point in enumerate(points):
        if not (
            isinstance(point, list | tuple)
            and len(point) == 2
            and is_finite_number(point[0])
            and is_finite_number(point[1])
        ):
            raise GeometryError(f"{what} point {index} is not an [x, y] pair of numbers")
        ring.append((float(point[0]), float(point[1])))
    return tuple(ring)


def fit_shape(shape: Shape, frame: Frame, *, text: str | None = None) -> Shape:
    """The shape within its task: a region within the image `frame` (scale 1) by the
    coordinate rule (server.coordinates), clamped when it overruns by at most the slack;
    a span within the task's `text`. GeometryError when it does not fit."""
    if isinstance(shape, TaskClass):
        return shape
    if isinstance(shape, Span):
        return _fit_span(shape, text)
    if isinstance(shape, BBox):
        try:
            x, y, w, h = frame.box(shape.x, shape.y, shape.w, shape.h)
        except CoordinateError as error:
            raise GeometryError(
                f"bbox out of range (x={shape.x:g}, y={shape.y:g}, w={shape.w:g}, h={shape.h:g}):"
                f" {error}; coordinates are normalized to 0..1"
            ) from None
        if x == shape.x and y == shape.y and w == shape.w and h == shape.h:
            return shape
        return BBox(x, y, w, h)
    what = "polygon" if shape.kind == POLYGON else "multi_polygon polygon {}"
    rings = tuple(
        _fit_ring(ring, frame, what.format(index)) for index, ring in enumerate(shape.polygons)
    )
    return Polygons(shape.kind, rings)


def _fit_span(span: Span, text: str | None) -> Span:
    if text is None:
        raise GeometryError("a span needs the task's text: its task has none")
    if span.end > len(text):
        raise GeometryError(
            f"span out of range (start={span.start}, end={span.end}): the task's text has "
            f"{len(text)} characters"
        )
    spanned = text[span.start : span.end]
    if span.text is not None and span.text != spanned:
        raise GeometryError(
            f"span text {span.text!r} is not the text at {span.start}..{span.end} "
            f"({spanned!r}): offsets count characters (code points) of the task's text"
        )
    return Span(span.start, span.end, spanned)


def _fit_ring(ring: tuple[Point, ...], frame: Frame, what: str) -> tuple[Point, ...]:
    fitted: list[Point] = []
    for index, (x, y) in enumerate(ring):
        try:
            fitted.append(frame.point(x, y))
        except CoordinateError as error:
            raise GeometryError(
                f"{what} point {index} out of range ({x:g}, {y:g}): {error}; "
                "coordinates are normalized to 0..1"
            ) from None
    if abs(_doubled_area(fitted)) < 1e-12:
        raise GeometryError(f"degenerate {what}: its points enclose no area")
    return tuple(fitted)


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
    to_name: str = TO_NAME,
) -> list[dict[str, Any]]:
    """The Label Studio result array of one prediction (SPEC §6); `to_name` names the
    label config's object tag (server.projects.label_config: "image" or "text").

    A multi_polygon becomes one polygonlabels region per polygon in the same
    array, so that it stays one prediction row. A span becomes a `labels` region, a
    class a `choices` region, as Label Studio's front end writes them.
    """
    if isinstance(shape, Span):
        span = {"start": shape.start, "end": shape.end, "text": shape.text, "labels": [label]}
        return [_region("labels", span, score, None, TEXT_NAME)]
    if isinstance(shape, TaskClass):
        return [_region("choices", {"choices": [label]}, score, None, to_name)]
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
    to_name: str = TO_NAME,
) -> dict[str, Any]:
    region: dict[str, Any] = {"type": kind, "from_name": FROM_NAME, "to_name": to_name}
    if original_size is not None:
        region["original_width"], region["original_height"] = original_size
    region["value"] = value
    if score is not None:
        region["score"] = score
    return region
