"""pascal_voc: a JSON list of {image, filename, xml_content, objects}.

`xml_content` is a Pascal VOC annotation built with ElementTree: `size` with
depth 3, 1-based inclusive integer pixel coordinates clamped to the image,
and every character XML 1.0 does not allow removed. Polygons are written as
their bounding boxes (VOC has no polygons). The XML declaration names no
encoding: the document is a JSON string, already decoded, and lxml refuses
to parse a str that declares one.

Integer rule: the box holds every pixel the region touches. A region from
x = a to x = b pixels (0-based, continuous) gives xmin = floor(a) + 1 and
xmax = ceil(b), both 1-based pixel indices; likewise for y. Readers that
subtract 1 from xmin/ymin (detectron2, datumaro) get back [floor(a), ceil(b)],
which contains [a, b]. Coordinates are first rounded to PIXEL_DECIMALS so that
float noise (10.000000001) does not add a pixel.

A task whose image size is unknown is left out (a VOC annotation needs its
size and pixel boxes) and named in the export's warnings, as is a task with
regions that could not be written.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any, BinaryIO

from server.exports.answers import answer
from server.exports.formats.base import ExportContext, FormatWriter, JsonArrayStream, image_url
from server.exports.formats.results import Region, pixel_size, read_regions
from server.exports.formats.warnings import SIZE_UNKNOWN_LEFT_OUT, regions_left_out
from server.images import ImageNames
from storage.export_records import ExportTask

_NOT_XML_10 = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
XML_DECLARATION = '<?xml version="1.0"?>\n'
PIXEL_DECIMALS = 6


def xml_text(value: str) -> str:
    """value without the characters an XML 1.0 document cannot hold."""
    return _NOT_XML_10.sub("", value)


def _pixels(percent: float, size: int) -> float:
    """A percent coordinate in pixels, within the image (clamping first keeps a
    huge coordinate of a region that overlaps the image finite)."""
    inside = 100.0 if percent > 100.0 else (0.0 if percent < 0.0 else percent)
    return round(inside * size / 100, PIXEL_DECIMALS)


def voc_box(region: Region, width: int, height: int) -> dict[str, int]:
    """The region's bounding box as 1-based inclusive pixel indices."""
    x_min, y_min, x_max, y_max = region.bounds()
    left = min(max(math.floor(_pixels(x_min, width)) + 1, 1), width)
    top = min(max(math.floor(_pixels(y_min, height)) + 1, 1), height)
    right = min(max(math.ceil(_pixels(x_max, width)), left), width)
    bottom = min(max(math.ceil(_pixels(y_max, height)), top), height)
    return {"xmin": left, "ymin": top, "xmax": right, "ymax": bottom}


def _child(parent: ET.Element, tag: str, text: str | int) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = xml_text(str(text))
    return element


def voc_xml(
    *, folder: str, filename: str, url: str, width: int, height: int, objects: list[dict[str, Any]]
) -> str:
    root = ET.Element("annotation")
    _child(root, "folder", folder)
    _child(root, "filename", filename)
    _child(root, "path", url)
    source = ET.SubElement(root, "source")
    _child(source, "database", "Unknown")
    size = ET.SubElement(root, "size")
    _child(size, "width", width)
    _child(size, "height", height)
    _child(size, "depth", 3)
    _child(root, "segmented", 0)
    for obj in objects:
        node = ET.SubElement(root, "object")
        _child(node, "name", obj["name"])
        _child(node, "pose", "Unspecified")
        _child(node, "truncated", 0)
        _child(node, "difficult", 0)
        box = ET.SubElement(node, "bndbox")
        for key in ("xmin", "ymin", "xmax", "ymax"):
            _child(box, key, obj["bndbox"][key])
    ET.indent(root)
    return XML_DECLARATION + ET.tostring(root, encoding="unicode")


class PascalVocWriter(FormatWriter):
    def __init__(self, out: BinaryIO, context: ExportContext) -> None:
        super().__init__(out, context)
        self.names = ImageNames()
        self.array = JsonArrayStream(out)
        self.array.open()

    def write_batch(self, tasks: Sequence[ExportTask]) -> None:
        for task in tasks:
            url = image_url(task)
            # named even when left out, so every format names each image alike
            filename = xml_text(self.names.file_name(task.task_id, url))
            size = pixel_size(task)
            if size is None:
                self.warnings.add(task, SIZE_UNKNOWN_LEFT_OUT)
            else:
                self.array.append(self._element(task, url, filename, *size))
        self.exported = self.array.count

    def _element(
        self, task: ExportTask, url: str, filename: str, width: int, height: int
    ) -> dict[str, Any]:
        latest = answer(task)
        found, left_out = read_regions(latest.result if latest else [], aspect=width / height)
        if left_out:
            self.warnings.add(task, regions_left_out(left_out))
        objects = [
            {"name": xml_text(region.label), "bndbox": voc_box(region, width, height)}
            for region in found
        ]
        xml = voc_xml(
            folder="images",
            filename=filename,
            url=url,
            width=width,
            height=height,
            objects=objects,
        )
        return {"image": url, "filename": filename, "xml_content": xml, "objects": objects}

    def finish(self) -> None:
        self.array.close()
