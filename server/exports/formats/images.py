"""Helpers of the image formats (coco, yolo, pascal_voc): file names, and the
rule that coco and pascal_voc need every image's pixel size."""

from __future__ import annotations

import re
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
# scheme, authority (up to / ? #), then the path (up to ? #), as urlsplit parses
# them; URLs that urlsplit would clean up or validate first take the slow path.
_WEB_URL = re.compile(r"https?://[^/?#]*([^?#]*)")


def _url_path(location: str) -> str:
    """urlsplit(location).path, without urlsplit's cost for the plain
    http(s) URLs that make up nearly every image task."""
    if location.isprintable() and "[" not in location and "]" not in location:
        web = _WEB_URL.match(location)
        if web is not None:
            return web.group(1)
    return urlsplit(location).path


def _last_segment(path: str) -> str:
    """PurePosixPath(path).name: the last segment that is not empty or '.'."""
    for segment in reversed(path.split("/")):
        if segment and segment != ".":
            return segment
    return ""


def basename(location: str) -> str:
    """The last path segment of a URL or path, percent-decoded, safe as a file name:
    never '..', no control characters (each becomes '_'); '' if none."""
    path = _url_path(location) if "://" in location else location
    name = _last_segment(unquote(path).replace("\\", "/"))
    if name == "..":
        return ""
    if not name.isprintable():
        name = "".join(c if c.isprintable() else "_" for c in name)
    return name


def _split_suffix(name: str) -> tuple[str, str]:
    """(stem, suffix) of a file name, as PurePosixPath(name).stem/.suffix."""
    dot = name.rfind(".")
    if 0 < dot < len(name) - 1:
        return name[:dot], name[dot:]
    return name, ""


def safe_stem(task: ExportTask, location: str) -> tuple[str, str]:
    """A file stem unique in the export, and the image suffix.

    The stem is the task id, then the original name made safe for any file
    system and zip reader: unique without remembering earlier names, and still
    recognisable.
    """
    name = basename(location)
    stem, suffix = _split_suffix(name)
    suffix = suffix.lower() if suffix.lower() in IMAGE_SUFFIXES else ".jpg"
    stem = _UNSAFE.sub("_", stem).strip("._")[:MAX_STEM_CHARS]
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
