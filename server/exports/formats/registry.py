"""The rule for task type × export format: which formats exist, which task
types each serves, and how its file looks."""

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
from server.vocabulary import (
    CLASSIFICATION_AND_SPAN_TASK_TYPES,
    REGION_TASK_TYPES,
    ExportFormat,
    TaskType,
)


def _in_api_order(task_types: frozenset[TaskType]) -> tuple[TaskType, ...]:
    return tuple(t for t in TaskType if t in task_types)


EVERY_TASK_TYPE = tuple(TaskType)
CLASSIFICATION_AND_SPANS = _in_api_order(CLASSIFICATION_AND_SPAN_TASK_TYPES)
REGIONS = _in_api_order(REGION_TASK_TYPES)

JSON_TYPE = "application/json"
CSV_TYPE = "text/csv; charset=utf-8"
ZIP_TYPE = "application/zip"


@dataclass(frozen=True, slots=True)
class ExportFormatSpec:
    """One export format."""

    name: ExportFormat
    task_types: tuple[TaskType, ...]
    extension: str
    content_type: str
    writer: type[FormatWriter]

    def open_writer(self, out: BinaryIO, context: ExportContext) -> FormatWriter:
        return self.writer(out, context)


# In the order of the API's ExportFormat enum (ExportFormat's order).
FORMATS: dict[str, ExportFormatSpec] = {
    spec.name: spec
    for spec in (
        ExportFormatSpec(ExportFormat.JSON, EVERY_TASK_TYPE, "json", JSON_TYPE, JsonWriter),
        ExportFormatSpec(ExportFormat.CSV, EVERY_TASK_TYPE, "csv", CSV_TYPE, CsvWriter),
        ExportFormatSpec(
            ExportFormat.SHAREGPT,
            CLASSIFICATION_AND_SPANS,
            "json",
            JSON_TYPE,
            ShareGptWriter,
        ),
        ExportFormatSpec(ExportFormat.YOLO, REGIONS, "zip", ZIP_TYPE, YoloWriter),
        ExportFormatSpec(ExportFormat.COCO, REGIONS, "json", JSON_TYPE, CocoWriter),
        ExportFormatSpec(
            ExportFormat.ALPACA, CLASSIFICATION_AND_SPANS, "json", JSON_TYPE, AlpacaWriter
        ),
        ExportFormatSpec(ExportFormat.PASCAL_VOC, REGIONS, "json", JSON_TYPE, PascalVocWriter),
    )
}


def formats_for(task_type: str) -> list[str]:
    """The formats a task type can be exported in, in API order."""
    return [str(spec.name) for spec in FORMATS.values() if task_type in spec.task_types]
