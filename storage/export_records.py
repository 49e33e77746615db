"""The records an export is written from, and how they are built from raw rows.

`storage.export_tasks` reads a batch's rows (tuples in its statements' column
order, values as the driver returns them); `assemble_export_tasks` turns them
into records. This module imports neither SQLAlchemy nor the models, so the
process that formats an export (server/exports/worker.py) stays small.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import orjson


def _parse_list(text: str | None) -> list[Any]:
    value = orjson.loads(text) if text else []
    return value if isinstance(value, list) else []


@dataclass(slots=True)
class ExportAnnotation:
    """One submitted annotation of a task."""

    annotation_id: int
    annotator: str
    created_at: datetime
    updated_at: datetime
    # the Label Studio result as stored: a JSON array, as text.
    result_json: str
    # the prediction the result started from, and the annotator's working time.
    parent_prediction_id: int | None = None
    lead_time_seconds: float | None = None
    # review: None (not under review) | pending | accepted | rejected, by whom, why.
    review_status: str | None = None
    reviewer: str | None = None
    review_comment: str | None = None
    # a reviewer's correction names the annotation it corrected.
    corrects_annotation_id: int | None = None
    # the known answer of a ground-truth task.
    is_ground_truth: bool = False
    # mean agreement with the task's other answers (None: not measured).
    agreement: float | None = None
    _result: list[Any] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def result(self) -> list[Any]:
        """The parsed result (parsed once, on first use)."""
        if self._result is None:
            self._result = _parse_list(self.result_json)
        return self._result


@dataclass(slots=True)
class ExportPrediction:
    """One model prediction of a task."""

    prediction_id: int
    source: str
    model_version: str | None
    score: float | None
    # the Label Studio result as stored: a JSON array, as text.
    result_json: str
    created_at: datetime

    @property
    def result(self) -> list[Any]:
        return _parse_list(self.result_json)


@dataclass(slots=True)
class ExportTask:
    """A task with everything any export format writes about it."""

    task_id: int
    external_id: str | None
    content: str
    file_path: str | None
    # the task's metadata as stored: a JSON object, as text.
    metadata_json: str
    status: str
    completed_at: datetime | None
    annotations: list[ExportAnnotation] = field(default_factory=list)
    predictions: list[ExportPrediction] = field(default_factory=list)
    # the image's natural size as a front end recorded it (None: not recorded).
    image_width: int | None = None
    image_height: int | None = None
    # a ground-truth task, and the mean agreement of its answers (None: fewer than two).
    is_ground_truth: bool = False
    agreement: float | None = None
    # the merged answer, when the export asked for consensus (server/exports/answers.py).
    consensus: ExportAnnotation | None = None
    # the annotations the merged answer was made from.
    consensus_of: tuple[int, ...] = ()
    _metadata: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def metadata(self) -> dict[str, Any]:
        """The parsed metadata (parsed once, on first use: most formats never need it)."""
        if self._metadata is None:
            self._metadata = _json_object(self.metadata_json)
        return self._metadata

    @property
    def latest_annotation(self) -> ExportAnnotation | None:
        """The latest submitted or updated annotation (by updated_at, then id)."""
        annotations = self.annotations
        if len(annotations) < 2:  # the usual case: no comparison to make
            return annotations[0] if annotations else None
        return max(annotations, key=lambda a: (a.updated_at, a.annotation_id))


@dataclass(frozen=True, slots=True)
class ExportWarning:
    """A task an export wrote incompletely, and what is missing."""

    task_id: str
    display_id: str
    message: str


@dataclass(frozen=True, slots=True)
class ExportTaskRows:
    """The raw rows of one batch: tasks, their annotations and predictions
    (tuples in the statements' column order)."""

    tasks: Sequence[Any]
    annotations: Sequence[Any]
    predictions: Sequence[Any]

    @property
    def last_task_id(self) -> int | None:
        return self.tasks[-1][0] if self.tasks else None


_from_iso = datetime.fromisoformat


def _utc(value: str | datetime | None) -> datetime | None:
    """An aware UTC datetime from a raw UTCDateTime value (stored as naive UTC).

    Parsing text with its offset appended is several times faster than
    parsing it and then replacing the zone (this runs ~3 times per task).
    """
    if value is None:
        return None
    if type(value) is str:
        return _from_iso(value + "+00:00")
    return cast(datetime, value).replace(tzinfo=UTC)


def assemble_export_tasks(rows: ExportTaskRows) -> list[ExportTask]:
    """Build a batch's records from its raw rows (CPU only: run it in a worker thread)."""
    return _assemble(rows.tasks, rows.annotations, rows.predictions)


def _assemble(
    rows: Sequence[Any], annotations: Sequence[Any], predictions: Sequence[Any]
) -> list[ExportTask]:
    """Build the batch's records from raw rows (tuples in the statements' column order)."""
    batch = [
        ExportTask(
            task_id,
            external_id,
            content,
            file_path,
            metadata_json,
            status,
            _utc(completed_at),
            [],
            [],
            image_width,
            image_height,
            bool(is_ground_truth),
            agreement,
        )
        for (
            task_id,
            external_id,
            content,
            file_path,
            metadata_json,
            status,
            completed_at,
            image_width,
            image_height,
            is_ground_truth,
            agreement,
        ) in rows
    ]
    by_id = {task.task_id: task for task in batch}
    for (
        task_id,
        annotation_id,
        username,
        created_at,
        updated_at,
        result_json,
        parent_prediction_id,
        lead_time_seconds,
        review_status,
        reviewer,
        review_comment,
        corrects_annotation_id,
        is_ground_truth,
        agreement,
    ) in annotations:
        task = by_id.get(task_id)
        if task is not None:  # a task of the range not in the status asked for
            created = _utc(created_at)
            # an annotation never updated: one time, parsed once
            updated = created if updated_at == created_at else _utc(updated_at)
            task.annotations.append(
                ExportAnnotation(
                    annotation_id,
                    username,
                    created,  # type: ignore[arg-type]
                    updated,  # type: ignore[arg-type]
                    result_json,
                    parent_prediction_id,
                    lead_time_seconds,
                    review_status,
                    reviewer,
                    review_comment,
                    corrects_annotation_id,
                    bool(is_ground_truth),
                    agreement,
                )
            )
    for (
        task_id,
        prediction_id,
        source,
        model_version,
        score,
        result_json,
        created_at,
    ) in predictions:
        task = by_id.get(task_id)
        if task is not None:
            task.predictions.append(
                ExportPrediction(
                    prediction_id,
                    source,
                    model_version,
                    score,
                    result_json,
                    _utc(created_at),  # type: ignore[arg-type]
                )
            )
    return batch


def _json_object(text: str | None) -> dict[str, Any]:
    if not text or text == "{}":
        return {}
    value = orjson.loads(text)
    return value if isinstance(value, dict) else {}
