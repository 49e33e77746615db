"""coco: a COCO detection/segmentation dataset.

`images` (id = task id, file_name = the image's exported name (server.images),
width, height, coco_url = its source), `annotations` (ids 1..M, bbox [x, y, w, h]
in pixels, area = the area of the segmentation, iscrowd 0, segmentation as one
pixel polygon, a rectangle as its 4 corners) and `categories` (ids 1..N in
label order). Images stream to the file while annotations go to a scratch file
that is appended at the end, so one pass over the tasks suffices and memory
stays flat.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from typing import Any, BinaryIO

import orjson

from server.display_ids import display_id
from server.exports.formats.base import (
    ExportContext,
    FormatWriter,
    JsonLines,
    image_url,
    iso_utc,
)
from server.exports.formats.images import PixelSizeCheck
from server.exports.formats.results import LabelIndex, Region, pixel_size, polygon_area, regions
from server.images import ImageNames
from storage.export_records import ExportTask

DECIMALS = 2


def _pixel(percent: float, size: int) -> float:
    """A percent coordinate in pixels, clamped to 0..size: round(min(max(v, 0.0), size), 2)."""
    value = percent * size / 100
    return round(size if value > size else (0.0 if value < 0.0 else value), DECIMALS)


def pixel_points(region: Region, width: int, height: int) -> list[tuple[float, float]]:
    """The region's points in pixels, clamped to the image."""
    return [(_pixel(x, width), _pixel(y, height)) for x, y in region.points]


class CocoWriter(FormatWriter):
    def __init__(self, out: BinaryIO, context: ExportContext) -> None:
        super().__init__(out, context)
        self.sizes = PixelSizeCheck("coco")
        self.names = ImageNames()
        self.classes = LabelIndex(context.labels)
        self.annotations_path = context.scratch_dir / "coco_annotations.jsonl"
        self.annotations = self.annotations_path.open("wb")
        self.annotation_count = 0
        info = {
            "description": context.project_name,
            "project_id": context.project_id,
            "date_created": iso_utc(context.created_at),
            "version": "1.0",
        }
        out.write(b'{"info":' + orjson.dumps(info) + b',"licenses":[],"images":[')

    def write_batch(self, tasks: Sequence[ExportTask]) -> None:
        images = JsonLines(first=self.exported == 0)
        annotations = JsonLines(first=self.annotation_count == 0)
        for task in tasks:
            size = pixel_size(task)
            if size is None:
                self.sizes.note_missing(task)
                continue
            if self.sizes.missing:
                continue  # the export will be refused: do not bother writing
            width, height = size
            images.add(orjson.dumps(self._image(task, width, height)))
            latest = task.latest_annotation
            for region in regions(latest.result if latest else [], aspect=width / height):
                annotation = self._annotation(task.task_id, region, width, height)
                if annotation is not None:
                    annotations.add(orjson.dumps(annotation))
        # one write per batch and section: the files see large writes only.
        self.out.write(images.data)
        self.exported += images.count
        self.annotations.write(annotations.data)

    def _image(self, task: ExportTask, width: int, height: int) -> dict[str, Any]:
        url = image_url(task)
        return {
            "id": task.task_id,
            "file_name": self.names.file_name(task.task_id, url),
            "width": width,
            "height": height,
            "coco_url": url,
            "display_id": display_id(task.task_id),
            "external_id": task.external_id,
        }

    def _annotation(
        self, image_id: int, region: Region, width: int, height: int
    ) -> dict[str, Any] | None:
        box = region.box
        if box is not None:
            # an unrotated rectangle: its pixel corners are these four numbers.
            left, top = _pixel(box[0], width), _pixel(box[1], height)
            right, bottom = _pixel(box[2], width), _pixel(box[3], height)
            x_min, y_min, box_w, box_h = left, top, right - left, bottom - top
            outline = [left, top, right, top, right, bottom, left, bottom]
        else:
            points = pixel_points(region, width, height)
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            x_min, y_min = min(xs), min(ys)
            box_w, box_h = max(xs) - x_min, max(ys) - y_min
            outline = [coord for point in points for coord in point]
        if box_w <= 0 or box_h <= 0:
            return None
        # the area of the exported segmentation: a rotated rectangle's own, not its box's.
        area = box_w * box_h if box is not None else polygon_area(points)
        if area <= 0:
            return None
        self.annotation_count += 1
        return {
            "id": self.annotation_count,
            "image_id": image_id,
            "category_id": self.classes.index(region.label) + 1,
            "bbox": [x_min, y_min, round(box_w, DECIMALS), round(box_h, DECIMALS)],
            "area": round(area, DECIMALS),
            "iscrowd": 0,
            "segmentation": [outline],
        }

    def finish(self) -> None:
        self.sizes.refuse_if_any()
        self.annotations.close()
        self.out.write(b'\n],"annotations":[')
        with self.annotations_path.open("rb") as scratch:
            shutil.copyfileobj(scratch, self.out, 1024 * 1024)
        categories = [
            {"id": number, "name": name, "supercategory": ""}
            for number, name in enumerate(self.classes.names, start=1)
        ]
        self.out.write(b'\n],"categories":' + orjson.dumps(categories) + b"}\n")
        self.annotations_path.unlink(missing_ok=True)

    def abort(self) -> None:
        self.annotations.close()
