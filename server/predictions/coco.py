"""COCO detection files: images[] + annotations[] + categories[].

The images are read first and matched to tasks once, in one pass over the
project (match_images), by file_name: the exported image name exactly (a name
an export made unique ends with its task's display id, `x__T-42.jpg`: that
task, when it is in the project), else the task's path; a name that fits
several tasks is an error naming them. Then
the annotations stream: within each batch, each image that has annotations
becomes one entry and each annotation one prediction. Boxes are COCO pixels
[x, y, w, h], normalized by the image's width and height. For polygon
projects an annotation's polygon `segmentation` is used when present (one
polygon -> polygon, several -> multi_polygon); otherwise its bbox.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from server.coordinates import PIXEL_SLACK, Frame
from server.images import display_id_in_name
from server.predictions.entries import (
    Entry,
    Item,
    Rejection,
    TaskKey,
    at,
    invalid_file,
    make_item,
)
from server.predictions.geometry import (
    GeometryError,
    Polygons,
    Shape,
    fit_shape,
    is_number,
    parse_bbox,
    parse_ring,
)
from server.predictions.json_stream import (
    START_ARRAY,
    Source,
    batched,
    check_complete,
    stream_items,
    top_level_kinds,
)
from server.predictions.matching import match_keys
from server.vocabulary import GeometryKind
from storage.predictions import TaskRef

REQUIRED_LISTS = ("images", "annotations", "categories")
ITEM_WHERE = "annotations[{}]"
# Images matched per pass over the project. Measured at 100,000 images: one pass costs
# about 1.5 s of CPU and holds about 70 MB while it runs (the matching then keeps only
# each image's task); the annotations' batches used to pass over the project twice each.
IMAGE_MATCH_CHUNK = 100_000


class CocoImage:
    """An image of images[], as the whole file is read."""

    __slots__ = ("annotated", "file_name", "image_id", "position", "problem", "size", "task")

    def __init__(
        self, image_id: Any, file_name: Any, size: tuple[int, int] | None, position: int
    ) -> None:
        self.image_id = image_id
        self.file_name = file_name
        self.size = size
        self.position = position  # its index in images[]
        # whether an annotation of the file names it (set as the annotations stream)
        self.annotated = False
        # set by match_images: its task (None: not found), or why it cannot be used
        self.task: TaskRef | None = None
        self.problem: str | None = None


@dataclass(slots=True)
class CocoIndex:
    """What a COCO file says before its annotations: read once, kept for the whole file."""

    categories: dict[Any, str]  # category id -> name
    images: dict[Any, CocoImage]  # image id -> image
    use_segmentation: bool

    def task_keys(self) -> list[tuple[CocoImage, TaskKey]]:
        """The key of every image that can name a task (one with a file_name; an image
        without a size names its task too: as a negative it needs none)."""
        return [
            (
                image,
                TaskKey(
                    # a name an export made unique ends with its task's display id
                    task_id=display_id_in_name(image.file_name),
                    image_name=image.file_name,
                    file_path=image.file_name,
                    unique=True,
                ),
            )
            for image in self.images.values()
            if isinstance(image.file_name, str) and image.file_name
        ]


def read_coco_index(file: Source, *, use_segmentation: bool) -> CocoIndex:
    """The categories and images of a COCO detection file, each read in one pass of the
    C parser (the images index is what stays in memory: a few dozen bytes per image);
    INVALID_IMPORT_FILE when the file is not one. A list that yields nothing is checked
    for being one."""
    categories = _categories(stream_items(file, "categories.item"))
    if not categories:
        _check_shape(file)
    images = _images(stream_items(file, "images.item"))
    if not images:
        _check_shape(file)
    return CocoIndex(categories, images, use_segmentation)


async def match_images(conn: AsyncConnection, project_id: str, index: CocoIndex) -> None:
    """Give every image of the index its task, or the reason it cannot have one: one
    pass over the project per IMAGE_MATCH_CHUNK images (the matching's own memory
    follows the chunk, not the file)."""
    keyed = index.task_keys()
    for start in range(0, len(keyed), IMAGE_MATCH_CHUNK):
        chunk = keyed[start : start + IMAGE_MATCH_CHUNK]
        found = await match_keys(conn, project_id, [key for _, key in chunk])
        for (image, _), task in zip(chunk, found, strict=True):
            if isinstance(task, str):
                image.problem = task
            elif task is not None:
                # kept for the whole file: without the task's metadata (a COCO image gives
                # its own size), a few dozen bytes per image
                image.task = TaskRef(task.task_id, task.project_id, "")


def iter_coco(file: Source, index: CocoIndex, *, batch_size: int) -> Iterator[list[Entry]]:
    """The entries of a COCO file's annotations, batch_size annotations at a time (one
    entry per image within a batch, matched to its task already by the index's images);
    INVALID_IMPORT_FILE when the file breaks or has no list of annotations."""
    annotations = stream_items(file, "annotations.item")
    number = -1
    for number, batch in enumerate(batched(annotations, batch_size)):
        yield _batch_entries(batch, number * batch_size, index)
    if number < 0:
        _check_shape(file)


def _check_shape(file: Source) -> None:
    """Raise the whole-file error of a document whose lists are missing or not lists."""
    shape = top_level_kinds(file, REQUIRED_LISTS)
    if shape is None:
        check_complete(file)
        raise invalid_file("a COCO file is an object with images, annotations and categories")
    for name in REQUIRED_LISTS:
        if name not in shape:
            raise invalid_file(f"the file has no {name}", field=name)
        event = shape[name][0]
        if event == "null":
            raise invalid_file(f"the file has no {name}", field=name)
        if event != START_ARRAY:
            raise invalid_file(f"{name} must be a list", field=name)
    check_complete(file)


def _batch_entries(annotations: list[Any], first_index: int, coco: CocoIndex) -> list[Entry]:
    entries: list[Entry] = []
    by_image: dict[Any, Entry] = {}
    images, categories = coco.images, coco.categories
    for index, annotation in enumerate(annotations, first_index):
        where = f"annotations[{index}]"
        image_id = annotation.get("image_id") if isinstance(annotation, dict) else None
        if not isinstance(image_id, int | str) or isinstance(image_id, bool):
            problem = "an annotation must be an object with an image_id"
            entries.append(Entry(task_match=None, key=None, problem=at(problem, where), count=1))
            continue
        entry = by_image.get(image_id)
        if entry is None:
            image = images.get(image_id)
            if image is not None:
                image.annotated = True
            entry = by_image[image_id] = _image_entry(image_id, image, where)
            entries.append(entry)
        entry.count += 1
        if entry.problem is None:
            assert entry.original_size is not None
            entry.items.append(
                _item(annotation, index, categories, entry.original_size, coco.use_segmentation)
            )
    return entries


def _categories(raw: Iterable[Any]) -> dict[Any, str]:
    """category id -> name; malformed categories are left out (their annotations say so)."""
    names: dict[Any, str] = {}
    for category in raw:
        if isinstance(category, dict) and isinstance(category.get("name"), str):
            category_id = category.get("id")
            if isinstance(category_id, int | str) and category_id not in names:
                names[category_id] = category["name"]
    return names


def _images(raw: Iterable[Any]) -> dict[Any, CocoImage]:
    """image id -> image; the first image of a repeated id wins."""
    images: dict[Any, CocoImage] = {}
    for position, image in enumerate(raw):
        if not isinstance(image, dict):
            continue
        image_id = image.get("id")
        if not isinstance(image_id, int | str) or isinstance(image_id, bool) or image_id in images:
            continue
        width, height = image.get("width"), image.get("height")
        size = None
        if is_number(width) and is_number(height) and width >= 1 and height >= 1:
            size = (int(width), int(height))
        images[image_id] = CocoImage(image_id, image.get("file_name"), size, position)
    return images


def _image_entry(image_id: Any, image: CocoImage | None, where: str) -> Entry:
    if image is None:
        return Entry(
            task_match={"image_id": image_id},
            key=None,
            problem=at(f"image_id {image_id!r} is not in images", where),
        )
    task_match = {"image_id": image_id, "file_name": image.file_name}
    if not isinstance(image.file_name, str) or not image.file_name:
        return Entry(task_match, None, problem=at(f"image {image_id!r} has no file_name", where))
    if image.size is None:
        problem = f"image {image_id!r} has no width/height: its boxes cannot be normalized"
        return Entry(task_match, None, problem=at(problem, where))
    if image.problem is not None:
        return Entry(task_match, None, problem=at(image.problem, where))
    return Entry(
        task_match,
        None,
        task=image.task,
        original_size=image.size,
        where=where,
        item_where=ITEM_WHERE,
    )


def _item(
    annotation: dict[str, Any],
    index: int,
    categories: dict[Any, str],
    size: tuple[int, int],
    use_segmentation: bool,
) -> Item:
    category_id = annotation.get("category_id")
    name = categories.get(category_id) if isinstance(category_id, int | str) else None
    if name is None:
        reason = f"category_id {category_id!r} is not in categories"
        return Rejection(at(reason, ITEM_WHERE.format(index)))
    try:
        shape = _shape(annotation, size, use_segmentation)
    except GeometryError as error:
        return Rejection(at(str(error), ITEM_WHERE.format(index)))
    return make_item(
        shape,
        class_name=name,
        confidence=annotation.get("score"),
        model_version=annotation.get("model_version"),
        index=index,
        item_where=ITEM_WHERE,
    )


def _shape(annotation: dict[str, Any], size: tuple[int, int], use_segmentation: bool) -> Shape:
    """The annotation's shape, normalized by the image's size and fitted to it (the
    coordinate rule of server.coordinates: an overrun of at most 1 px is clamped)."""
    width, height = size
    frame = Frame.of(1.0, size)
    segmentation = annotation.get("segmentation")
    if use_segmentation and segmentation:
        if not isinstance(segmentation, list):
            raise GeometryError("RLE segmentation is not supported: give polygons")
        rings = tuple(
            _ring(flat, width, height, f"segmentation polygon {index}")
            for index, flat in enumerate(segmentation)
        )
        kind = GeometryKind.POLYGON if len(rings) == 1 else GeometryKind.MULTI_POLYGON
        return fit_shape(Polygons(kind, rings), frame)
    bbox = annotation.get("bbox")
    if bbox is None:
        raise GeometryError("annotation has no bbox")
    if not (type(bbox) is list and len(bbox) == 4):
        raise GeometryError("bbox must be [x, y, width, height] in pixels")
    x, y, w, h = bbox
    if not (is_number(x) and is_number(y) and is_number(w) and is_number(h)):
        raise GeometryError("bbox must be [x, y, width, height] in pixels")
    if w <= 0 or h <= 0:
        raise GeometryError(f"degenerate bbox {bbox}: width and height must be greater than 0")
    try:
        return fit_shape(parse_bbox(x / width, y / height, w / width, h / height), frame)
    except GeometryError:
        raise GeometryError(
            f"bbox {bbox} does not fit in the {width}x{height} image "
            f"(it may overrun it by at most {PIXEL_SLACK:g} px)"
        ) from None


def _ring(flat: Any, width: int, height: int, what: str) -> tuple[tuple[float, float], ...]:
    if not isinstance(flat, list) or len(flat) % 2 or not all(is_number(v) for v in flat):
        raise GeometryError(f"{what} must be a flat list [x1, y1, x2, y2, ...] of pixels")
    points = [[flat[i] / width, flat[i + 1] / height] for i in range(0, len(flat), 2)]
    return parse_ring(points, what)
