"""What an annotation import file is made of, whatever its format, and the
checks of one annotation or prediction against the project.

A file becomes units, one per task it names (a Label Studio task, a COCO
image with annotations). A unit carries how to find its task and what it
would write there: annotations and predictions, each either ready to be
written (its JSON text) or refused with a reason. Which task a unit means is
decided later (server.annotations_import.matching).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from annotation_api.errors import DomainError
from server.predictions.entries import Entry, at, confidence_problem, model_version_problem
from server.predictions.rows import LABELS_SHOWN
from server.projects.validation import check_result
from server.workflow.common import MAX_LEAD_TIME_SECONDS, check_lead_time

NUL_ESCAPE = "\\u0000"


@dataclass(slots=True)
class AnnotationRow:
    """An annotation ready to be written, but for its task."""

    result_json: str
    lead_time_seconds: float | None


@dataclass(slots=True)
class PredictionRow:
    """A prediction ready to be written, but for its task (model_version None: fallback)."""

    model_version: str | None
    score: float | None
    result_json: str


@dataclass(slots=True)
class Unit:
    """One task's worth of annotations and predictions from the file."""

    task_match: Any  # echoed in error entries
    where: str  # where the unit starts in the file, e.g. "[3]"
    annotations: list[AnnotationRow | str] = field(default_factory=list)  # str: refused, why
    predictions: list[PredictionRow | str] = field(default_factory=list)
    # annotations not imported that have no error entry of their own (Label Studio's
    # was_cancelled; a refused COCO image)
    unwritten: int = 0
    # error entries that skip nothing of their own (a refused COCO image's other reasons)
    notes: list[str] = field(default_factory=list)
    # why no part of the unit can be imported, found while reading
    problem: str | None = None
    # how the unit names its task: a task id (Label Studio `id` / `display_id`) and/or
    # its content (data.image / data.text), or a COCO entry (server.predictions.matching)
    task_id: int | None = None
    content: str | None = None
    entry: Entry | None = None

    @property
    def count(self) -> int:
        """Annotations and predictions the unit holds (what a refused unit skips)."""
        return len(self.annotations) + len(self.predictions) + self.unwritten


class Refused(Exception):
    """An annotation or prediction that cannot be imported; the message says why."""


def result_text(result: Any, *, labels: frozenset[str], label_list: tuple[str, ...]) -> str:
    """A Label Studio result as it is stored, checked as SubmitAnnotation checks one
    (server.projects.validation.check_result) and with every label among the
    project's labels when it has some, with no U+0000 in any string
    (server.request_rules); Refused otherwise."""
    try:
        check_result(result, labels=labels)
    except DomainError as error:
        reason = error.message
        if "label" in error.details:
            shown = ", ".join(label_list[:LABELS_SHOWN])
            more = ", …" if len(label_list) > LABELS_SHOWN else ""
            reason = f"{reason} (labels: {shown}{more})"
        where = error.details.get("field", "result")
        raise Refused(f"{where}: {reason}" if where != "result" else reason) from None
    text = orjson.dumps(result).decode()
    if NUL_ESCAPE in text:
        raise Refused("result cannot contain the character U+0000")
    return text


def lead_time(value: Any) -> float | None:
    """An annotation's lead time in seconds (None: unknown), checked like SubmitAnnotation's."""
    if value is None:
        return None
    if value.__class__ is float and 0.0 <= value <= MAX_LEAD_TIME_SECONDS:
        return float(value)  # the common case, without the general checks below
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Refused(f"lead_time must be a number of seconds, got {value!r}")
    try:
        return check_lead_time(float(value))
    except DomainError as error:
        raise Refused(error.message.replace("lead_time_seconds", "lead_time")) from None


def prediction_row(
    prediction: Any, where: str, *, labels: frozenset[str], label_list: tuple[str, ...]
) -> PredictionRow | str:
    """A Label Studio prediction ({result, model_version, score}) as a row, or why not."""
    if not isinstance(prediction, dict):
        return at("a prediction must be an object", where)
    score = prediction.get("score")
    version = prediction.get("model_version")
    problem = confidence_problem(score, name="score") or model_version_problem(version)
    if problem is not None:
        return at(problem, where)
    try:
        text = result_text(prediction.get("result"), labels=labels, label_list=label_list)
    except Refused as refused:
        return at(str(refused), where)
    if version is not None and "\x00" in version:
        return at("model_version cannot contain the character U+0000", where)
    return PredictionRow(version or None, None if score is None else float(score), text)
