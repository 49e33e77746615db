"""Helpers of the image formats (coco, yolo, pascal_voc): file names, and the
rule that coco and pascal_voc need every image's pixel size."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from annotation_api.errors import DomainError, ErrorCode
from storage.export_tasks import ExportTask

# How many tasks without a pixel size a refusal names.
MAX_NAMED_TASKS = 20
# Ultralytics' image suffixes; anything else is assumed to be a JPEG.
IMAGE_SUFFIXES = frozenset(
    {".bmp", ".dng", ".jpeg", ".jpg", ".mpo", ".png", ".tif", ".tiff", ".webp", ".pfm", ".heic"}
)
_UNSAFE = re.compile(r"[^\w.-]+")
MAX_STEM_CHARS = 80


def basename(location: str) -> str:
    """The last path segment of a URL or path, percent-decoded ('' if none)."""
    path = urlsplit(location).path if "://" in location else location
    return PurePosixPath(unquote(path).replace("\\", "/")).name


def safe_stem(task: ExportTask, location: str) -> tuple[str, str]:
    """A file stem unique in the export, and the image suffix.

    The stem is the task id, then the original name made safe for any file
    system and zip reader: unique without remembering earlier names, and still
    recognisable.
    """
    name = PurePosixPath(basename(location))
    suffix = name.suffix.lower() if name.suffix.lower() in IMAGE_SUFFIXES else ".jpg"
    stem = _UNSAFE.sub("_", name.stem if name.suffix else name.name).strip("._")
    stem = stem[:MAX_STEM_CHARS]
    return (f"{task.task_id}_{stem}" if stem else str(task.task_id)), suffix


class PixelSizeCheck:
    """Collects tasks without a pixel size and refuses the export for them."""

    def __init__(self, format_name: str) -> None:
        self.format_name = format_name
        self.missing: list[ExportTask] = []

    def note_missing(self, task: ExportTask) -> None:
        """Remember a task without a size; refuse once enough are known."""
        self.missing.append(task)
        if len(self.missing) >= MAX_NAMED_TASKS:
            self.refuse_if_any()

    def refuse_if_any(self) -> None:
        if not self.missing:
            return
        raise DomainError(
            ErrorCode.INVALID_REQUEST,
            f"{self.format_name} needs each image's width and height: give the annotations "
            "original_width/original_height or the tasks metadata width/height",
            {
                "format": self.format_name,
                "tasks_without_size": [
                    {
                        "task_id": str(t.task_id),
                        "display_id": t.display_id,
                        "external_id": t.external_id,
                    }
                    for t in self.missing[:MAX_NAMED_TASKS]
                ],
            },
        )
