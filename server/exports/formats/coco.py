"""coco: a COCO detection/segmentation dataset.

`images` (id = task id, file_name = the image's exported name (server.images),
width, height, coco_url = its source), `annotations` (ids 1..M, bbox [x, y, w, h]
in pixels, area = the area of the segmentation, iscrowd 0, segmentation as one
pixel polygon, a rectangle as its 4 corners) and `categories` (ids 1..N in
label order). Images stream to the file while annotations go to a scratch file
that is appended at the end, so one pass over the tasks suffices and memory
stays flat. A task whose image size is unknown is left out of the file (a
COCO image needs its width and height, and its boxes are in pixels) and named
in the export's warnings, as is a task with regions that could not be written.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from typing import BinaryIO

import orjson

from server.display_ids import display_id
from server.exports.answers import answer
from server.exports.formats.base import (
    ExportContext,
    FormatWriter,
    JsonLines,
    iso_utc,
)
from server.exports.formats.results import (
    LabelIndex,
    Region,
    pixel_size,
    polygon_area,
    read_regions,
)
from server.exports.formats.warnings import SIZE_UNKNOWN_LEFT_OUT, regions_left_out
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


def _outlined(
    region: Region, width: int, height: int
) -> tuple[list[float], float, list[float]] | None:
    """A rotated rectangle's or a polygon's bbox, area and segmentation in
    pixels; None when it covers nothing."""
    points = pixel_points(region, width, height)
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x_min, y_min = min(xs), min(ys)
    box_w, box_h = max(xs) - x_min, max(ys) - y_min
    if box_w <= 0 or box_h <= 0:
        return None
    # the area of the exported segmentation: a rotated rectangle's own, not its box's.
    area = polygon_area(points)
    if area <= 0:
        return None
    bbox = [x_min, y_min, round(box_w, DECIMALS), round(box_h, DECIMALS)]
    return bbox, area, [coord for point in points for coord in point]


class CocoWriter(FormatWriter):
    def __init__(self, out: BinaryIO, context: ExportContext) -> None:
        super().__init__(out, context)
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
        # The hottest loop of the coco export (a million images, a few regions
        # each): names are looked up once, and an unrotated rectangle (nearly
        # every region) is converted inline rather than through Region points.
        dumps = orjson.dumps
        images = JsonLines(first=self.exported == 0)
        annotations = JsonLines(first=self.annotation_count == 0)
        add_image, add_annotation = images.add, annotations.add
        file_name, class_index, warn = self.names.file_name, self.classes.index, self.warnings.add
        count = self.annotation_count
        for task in tasks:
            task_id = task.task_id
            url = task.file_path or task.content  # image_url(task)
            # named even when left out, so every format names each image alike
            name = file_name(task_id, url)
            size = pixel_size(task)
            if size is None:
                warn(task, SIZE_UNKNOWN_LEFT_OUT)
                continue
            latest = answer(task)
            result = latest.result if latest is not None else []
            width, height = size
            add_image(
                dumps(
                    {
                        "id": task_id,
                        "file_name": name,
                        "width": width,
                        "height": height,
                        "coco_url": url,
                        "display_id": display_id(task_id),
                        "external_id": task.external_id,
                    }
                )
            )
            found, left_out = read_regions(result, aspect=width / height)
            for region in found:
                box = region.box
                if box is None:
                    outlined = _outlined(region, width, height)
                    if outlined is None:
                        left_out += 1
                        continue
                    bbox, area, outline = outlined
                else:
                    # an unrotated rectangle: its pixel corners are these four
                    # numbers, each _pixel(percent, size) written out.
                    value = box[0] * width / 100
                    left = round(width if value > width else (0.0 if value < 0.0 else value), 2)
                    value = box[1] * height / 100
                    top = round(height if value > height else (0.0 if value < 0.0 else value), 2)
                    value = box[2] * width / 100
                    right = round(width if value > width else (0.0 if value < 0.0 else value), 2)
                    value = box[3] * height / 100
                    bottom = round(height if value > height else (0.0 if value < 0.0 else value), 2)
                    box_w, box_h = right - left, bottom - top
                    area = box_w * box_h
                    if box_w <= 0 or box_h <= 0 or area <= 0:
                        left_out += 1  # less than the 0.01 px the file keeps
                        continue
                    bbox = [left, top, round(box_w, DECIMALS), round(box_h, DECIMALS)]
                    outline = [left, top, right, top, right, bottom, left, bottom]
                count += 1
                add_annotation(
                    dumps(
                        {
                            "id": count,
                            "image_id": task_id,
                            "category_id": class_index(region.label) + 1,
                            "bbox": bbox,
                            "area": round(area, DECIMALS),
                            "iscrowd": 0,
                            "segmentation": [outline],
                        }
                    )
                )
            if left_out:
                warn(task, regions_left_out(left_out))
        self.annotation_count = count
        # one write per batch and section: the files see large writes only.
        self.out.write(images.data)
        self.exported += images.count
        self.annotations.write(annotations.data)

    def finish(self) -> None:
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
