"""json: every task with all its annotations and predictions.

Each element has the fields of the reference `ExportedTaskData` (task_id,
external_id, original_data, annotations, status, annotator, completed_at)
plus display_id and predictions. `annotator` and `completed_at` describe the
latest submitted annotation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, BinaryIO

import orjson

from server.exports.formats.base import (
    ExportContext,
    FormatWriter,
    JsonArrayStream,
    stored_array_text,
    task_data,
)
from storage.export_tasks import ExportTask


def stored_array(text: str) -> orjson.Fragment:
    """A stored result, embedded in the output as it is (see stored_array_text)."""
    return orjson.Fragment(stored_array_text(text))


class JsonWriter(FormatWriter):
    uses_predictions = True

    def __init__(self, out: BinaryIO, context: ExportContext) -> None:
        super().__init__(out, context)
        # aware UTC datetimes serialize as ISO 8601 with a Z, like iso_utc().
        self.array = JsonArrayStream(out, option=orjson.OPT_UTC_Z)
        self.array.open()

    def write_batch(self, tasks: Sequence[ExportTask]) -> None:
        self.array.extend(self.element(task) for task in tasks)
        self.exported = self.array.count

    def finish(self) -> None:
        self.array.close()

    def element(self, task: ExportTask) -> dict[str, Any]:
        latest = task.latest_annotation
        return {
            "task_id": str(task.task_id),
            "display_id": f"T-{task.task_id}",
            "external_id": task.external_id,
            "original_data": task_data(task, self.context.task_type),
            "annotations": [
                {
                    "id": str(a.annotation_id),
                    "annotator": a.annotator,
                    "created_at": a.created_at,
                    "updated_at": a.updated_at,
                    "result": stored_array(a.result_json),
                    "parent_prediction_id": (
                        str(a.parent_prediction_id) if a.parent_prediction_id is not None else None
                    ),
                    "lead_time_seconds": a.lead_time_seconds,
                }
                for a in task.annotations
            ],
            "predictions": [
                {
                    "id": str(p.prediction_id),
                    "source": p.source,
                    "model_version": p.model_version,
                    "score": p.score,
                    "result": stored_array(p.result_json),
                    "created_at": p.created_at,
                }
                for p in task.predictions
            ],
            "status": task.status,
            "annotator": latest.annotator if latest else None,
            "completed_at": task.completed_at,
        }
