"""json: every task with all its annotations and predictions.

Each element has the fields of the reference `ExportedTaskData` (task_id,
external_id, original_data, annotations, status, annotator, completed_at)
plus display_id and predictions. `annotator` and `completed_at` describe the
latest submitted annotation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, BinaryIO

from server.exports.formats.base import (
    ExportContext,
    FormatWriter,
    JsonArrayStream,
    iso_utc,
    task_data,
)
from storage.export_tasks import ExportTask


class JsonWriter(FormatWriter):
    def __init__(self, out: BinaryIO, context: ExportContext) -> None:
        super().__init__(out, context)
        self.array = JsonArrayStream(out)
        self.array.open()

    def write_batch(self, tasks: Sequence[ExportTask]) -> None:
        for task in tasks:
            self.array.append(self.element(task))
        self.exported = self.array.count

    def finish(self) -> None:
        self.array.close()

    def element(self, task: ExportTask) -> dict[str, Any]:
        latest = task.latest_annotation
        return {
            "task_id": str(task.task_id),
            "display_id": task.display_id,
            "external_id": task.external_id,
            "original_data": task_data(task, self.context.task_type),
            "annotations": [
                {
                    "id": str(a.annotation_id),
                    "annotator": a.annotator,
                    "created_at": iso_utc(a.created_at),
                    "updated_at": iso_utc(a.updated_at),
                    "result": a.result,
                }
                for a in task.annotations
            ],
            "predictions": [
                {
                    "id": str(p.prediction_id),
                    "source": p.source,
                    "model_version": p.model_version,
                    "score": p.score,
                    "result": p.result,
                    "created_at": iso_utc(p.created_at),
                }
                for p in task.predictions
            ],
            "status": task.status,
            "annotator": latest.annotator if latest else None,
            "completed_at": iso_utc(task.completed_at),
        }
