"""json: every task with all its annotations and predictions, in a shape that
Label Studio imports as it is.

Each element has the fields of the reference `ExportedTaskData` (task_id,
external_id, original_data, annotations, status, annotator, completed_at)
plus display_id and predictions, and what Label Studio's task import and its
converter read: `id` (the task id as a number), `data` (the same object as
original_data), `annotations[].result` and `predictions[]` with `result`,
`model_version` and `score`. Without `data`, Label Studio would take the
whole element as the task's data, and its converter needs `id`.
`annotator` and `completed_at` describe the latest submitted annotation.
Review and quality fields are added to each annotation (review_status,
reviewer, review_comment, corrects_annotation_id, agreement, ground_truth) and
task (agreement, ground_truth, and `consensus` when the export asked for it).

Each annotation and prediction record is built by one function below, so a
field is added to every record in one line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, BinaryIO

import orjson

from server.display_ids import display_id
from server.exports.formats.base import (
    ExportContext,
    FormatWriter,
    JsonArrayStream,
    stored_array_text,
    task_data,
)
from storage.export_records import ExportAnnotation, ExportPrediction, ExportTask


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
        data = task_data(task, self.context.task_type)
        return {
            "id": task.task_id,
            "task_id": str(task.task_id),
            "display_id": display_id(task.task_id),
            "external_id": task.external_id,
            "data": data,
            "original_data": data,
            "annotations": [annotation_record(a) for a in task.annotations],
            "predictions": [prediction_record(p) for p in task.predictions],
            "status": task.status,
            "annotator": latest.annotator if latest else None,
            "completed_at": task.completed_at,
            # quality control (additive): the task's agreement, whether it is a
            # ground-truth task, and its merged answer when consensus was asked.
            "agreement": task.agreement,
            "ground_truth": task.is_ground_truth,
            **({"consensus": consensus_record(task)} if self.context.consensus else {}),
        }


def annotation_record(annotation: ExportAnnotation) -> dict[str, Any]:
    """One annotation, as Label Studio's task import reads it (plus our annotator)."""
    parent = (
        str(annotation.parent_prediction_id)
        if annotation.parent_prediction_id is not None
        else None
    )
    corrects = (
        str(annotation.corrects_annotation_id)
        if annotation.corrects_annotation_id is not None
        else None
    )
    return {
        "id": str(annotation.annotation_id),
        "annotator": annotation.annotator,
        "created_at": annotation.created_at,
        "updated_at": annotation.updated_at,
        "result": stored_array(annotation.result_json),
        "parent_prediction_id": parent,
        "lead_time_seconds": annotation.lead_time_seconds,
        # The same two under Label Studio's names.
        "parent_prediction": annotation.parent_prediction_id,
        "lead_time": annotation.lead_time_seconds,
        # review and quality control (additive).
        "review_status": annotation.review_status,
        "reviewer": annotation.reviewer,
        "review_comment": annotation.review_comment,
        "corrects_annotation_id": corrects,
        "agreement": annotation.agreement,
        "ground_truth": annotation.is_ground_truth,
    }


def consensus_record(task: ExportTask) -> dict[str, Any] | None:
    """The task's merged answer and the annotations it was made from; None without one."""
    merged = task.consensus
    if merged is None:
        return None
    return {
        "result": stored_array(merged.result_json),
        "annotation_ids": [str(i) for i in task.consensus_of],
    }


def prediction_record(prediction: ExportPrediction) -> dict[str, Any]:
    """One prediction, as Label Studio's task import reads it (plus id, source, created_at)."""
    return {
        "id": str(prediction.prediction_id),
        "source": prediction.source,
        "model_version": prediction.model_version,
        "score": prediction.score,
        "result": stored_array(prediction.result_json),
        "created_at": prediction.created_at,
    }
