"""Label Studio results and export records for writer-level tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from server.exports.formats.base import ExportContext, FormatWriter
from server.exports.formats.registry import FORMATS
from storage.export_records import ExportAnnotation, ExportPrediction, ExportTask

WHEN = datetime(2026, 2, 3, 10, 30, tzinfo=UTC)


def rectangle(label: str, x: float, y: float, w: float, h: float, *, size=(640, 480)) -> dict:
    return {
        "type": "rectanglelabels",
        "from_name": "label",
        "to_name": "image",
        "original_width": size[0],
        "original_height": size[1],
        "value": {
            "x": x,
            "y": y,
            "width": w,
            "height": h,
            "rotation": 0,
            "rectanglelabels": [label],
        },
    }


def polygon(label: str, points: list[list[float]], *, size=(640, 480)) -> dict:
    return {
        "type": "polygonlabels",
        "from_name": "label",
        "to_name": "image",
        "original_width": size[0],
        "original_height": size[1],
        "value": {"points": points, "polygonlabels": [label]},
    }


def choice(label: str, to_name: str = "text") -> dict:
    return {
        "type": "choices",
        "from_name": "label",
        "to_name": to_name,
        "value": {"choices": [label]},
    }


def span(label: str, start: int, end: int, text: str) -> dict:
    return {
        "type": "labels",
        "from_name": "label",
        "to_name": "text",
        "value": {"start": start, "end": end, "text": text, "labels": [label]},
    }


def task(
    task_id: int,
    content: str,
    *results: list[dict[str, Any]],
    metadata: dict[str, Any] | None = None,
    external_id: str | None = None,
    predictions: list[list[dict[str, Any]]] = (),  # type: ignore[assignment]
) -> ExportTask:
    """A task with one annotation per result list (later ones are newer)."""
    return ExportTask(
        task_id=task_id,
        external_id=external_id,
        content=content,
        file_path=content if content.startswith("http") else None,
        metadata_json=orjson.dumps(metadata or {}).decode(),
        status="completed" if results else "pending",
        completed_at=WHEN if results else None,
        annotations=[
            ExportAnnotation(index + 1, "carol", WHEN, WHEN, orjson.dumps(result).decode())
            for index, result in enumerate(results)
        ],
        predictions=[
            ExportPrediction(
                index + 1, "external_import", "m1", 0.9, orjson.dumps(result).decode(), WHEN
            )
            for index, result in enumerate(predictions)
        ],
    )


def write_export(
    tmp_path: Path,
    fmt: str,
    task_type: str,
    tasks: Sequence[ExportTask],
    labels: Sequence[str] = ("cat", "dog"),
) -> tuple[Path, FormatWriter]:
    """Write tasks in two batches (as storage yields them) with the format's
    writer; the file and the writer (its count and warnings)."""
    scratch = tmp_path / f"scratch-{fmt}"
    scratch.mkdir(exist_ok=True)
    context = ExportContext("proj_0123456789ab", "P", task_type, tuple(labels), scratch, WHEN)
    path = tmp_path / f"out-{fmt}.{FORMATS[fmt].extension}"
    with path.open("wb") as out:
        writer = FORMATS[fmt].open_writer(out, context)
        writer.write_batch(tasks[: len(tasks) // 2])
        writer.write_batch(tasks[len(tasks) // 2 :])
        writer.finish()
    assert list(scratch.iterdir()) == []
    return path, writer
