"""What every part of the realistic data shares: model versions, labels, task matching."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping, Sequence
from typing import Any, Literal

# Model versions: OLD is imported first, NEW second (NEW is the default pre-label).

DETECTOR_OLD = "det-2026.05"
DETECTOR_NEW = "det-2026.06"
NER_OLD = "ner-2026.05"
NER_NEW = "ner-2026.06"
CLASSIFIER_OLD = "cls-2026.05"
CLASSIFIER_NEW = "cls-2026.06"

IMAGE_HOST = "https://img.example"
DETECTION_LABELS = ("car", "person", "traffic light")
NER_LABELS = ("PER", "LOC", "ORG")
CLASSIFICATION_LABELS = ("positive", "negative", "neutral")

# The Label Studio names of the generated configs (server.projects.label_config).
FROM_NAME = "label"

Match = Literal["display_id", "external_id", "file_path"]


def task_match(
    key: str, task_ids: Mapping[str, str], match: Match, file_path: str
) -> dict[str, str]:
    """An AAP task_match naming item `key` by display id, external id or file path."""
    if match == "display_id":
        return {"display_id": f"T-{task_ids[key]}"}
    if match == "external_id":
        return {"external_id": key}
    return {"file_path": file_path}


def task_ids_by_key(tasks: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """{key: task_id} from a task list (REST ListTasks' `tasks`, whose external_id is the key)."""
    return {t["external_id"]: t["task_id"] for t in tasks}


def png_bytes(width: int, height: int, rgb: tuple[int, int, int] = (90, 120, 150)) -> bytes:
    """A valid PNG of one colour (for tests that serve the images; browsers and PIL read
    images by content, so it serves for .jpg names too)."""
    row = b"\x00" + bytes(rgb) * width
    raw = zlib.compress(row * height, 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")
