"""Which formats exist, which task types each serves, and how its file looks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from server.exports.formats.alpaca import AlpacaWriter
from server.exports.formats.base import ExportContext, FormatWriter
from server.exports.formats.coco import CocoWriter
from server.exports.formats.csv_writer import CsvWriter
from server.exports.formats.json_writer import JsonWriter
from server.exports.formats.pascal_voc import PascalVocWriter
from server.exports.formats.sharegpt import ShareGptWriter
from server.exports.formats.yolo import YoloWriter

TASK_TYPES = ("text_classification", "image_classification", "object_detection", "ner", "polygon")
TEXT_AND_CLASSIFICATION = ("text_classification", "image_classification", "ner")
REGIONS = ("object_detection", "polygon")

JSON_TYPE = "application/json"


@dataclass(frozen=True, slots=True)
class ExportFormatSpec:
    """One export format."""

    name: str
    task_types: tuple[str, ...]
    extension: str
    content_type: str
    writer: type[FormatWriter]

    def open_writer(self, out: BinaryIO, context: ExportContext) -> FormatWriter:
        return self.writer(out, context)


# In the order of the API's ExportFormat enum.
FORMATS: dict[str, ExportFormatSpec] = {
    spec.name: spec
    for spec in (
        ExportFormatSpec("json", TASK_TYPES, "json", JSON_TYPE, JsonWriter),
        ExportFormatSpec("csv", TASK_TYPES, "csv", "text/csv; charset=utf-8", CsvWriter),
        ExportFormatSpec("sharegpt", TEXT_AND_CLASSIFICATION, "json", JSON_TYPE, ShareGptWriter),
        ExportFormatSpec("yolo", REGIONS, "zip", "application/zip", YoloWriter),
        ExportFormatSpec("coco", REGIONS, "json", JSON_TYPE, CocoWriter),
        ExportFormatSpec("alpaca", TEXT_AND_CLASSIFICATION, "json", JSON_TYPE, AlpacaWriter),
        ExportFormatSpec("pascal_voc", REGIONS, "json", JSON_TYPE, PascalVocWriter),
    )
}


def formats_for(task_type: str) -> list[str]:
    """The formats a task type can be exported in, in API order."""
    return [spec.name for spec in FORMATS.values() if task_type in spec.task_types]
