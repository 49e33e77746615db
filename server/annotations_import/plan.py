"""From matched units to rows, task changes and error entries.

A task takes imported annotations only when it has none: a task with a
submitted annotation is an error entry ("task already annotated"), and so is
a second unit of the file for a task an earlier unit named. A matched task
that gets at least one annotation is completed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from server.annotations_import.units import AnnotationRow, PredictionRow, Unit
from server.predictions.entries import at
from server.predictions.rows import NOT_FOUND, ImportIssue
from server.vocabulary import AssignmentStatus
from storage.annotation_import import NewAnnotation, TaskState
from storage.predictions import NewPrediction

ALREADY_ANNOTATED = "task already annotated"
NAMED_TWICE = "task already named by an earlier entry of the file"


class SeenTasks:
    """The tasks the file has named so far: one bit per task id of the project's
    id range, so memory stays small (125 KB per million ids) at any file size."""

    def __init__(self, id_range: tuple[int, int] | None) -> None:
        self._low = id_range[0] if id_range else 0
        size = id_range[1] - id_range[0] + 1 if id_range else 0
        self._bits = bytearray((size + 7) // 8)

    def add(self, task_id: int) -> bool:
        """Mark task_id as named; False when it already was."""
        offset = task_id - self._low
        byte, bit = offset >> 3, 1 << (offset & 7)
        if self._bits[byte] & bit:
            return False
        self._bits[byte] |= bit
        return True


@dataclass(slots=True)
class BatchPlan:
    """Everything one batch would write, and what it refused."""

    annotations: list[NewAnnotation] = field(default_factory=list)
    predictions: list[NewPrediction] = field(default_factory=list)
    completed: list[TaskState] = field(default_factory=list)  # tasks that get an annotation
    skipped: int = 0
    issues: list[ImportIssue] = field(default_factory=list)


def plan_units(
    units: Sequence[Unit],
    tasks: Sequence[TaskState | None],
    *,
    seen: SeenTasks,
    fallback_model_version: str | None,
) -> BatchPlan:
    """The rows and error entries of matched units (tasks[i] is units[i]'s task)."""
    plan = BatchPlan()
    issues = plan.issues
    for unit, task in zip(units, tasks, strict=True):
        problem = unit.problem
        if problem is None:
            if task is None:
                problem = at(NOT_FOUND, unit.where)
            elif not seen.add(task.task_id):
                problem = at(NAMED_TWICE, unit.where)
            elif (
                task.annotated
                or task.assignment_status == AssignmentStatus.COMPLETED
                or (task.full and task.holder_id is None)
            ):
                # the annotator answered it (or holds a completed place), or every place
                # of it has its answer
                problem = at(ALREADY_ANNOTATED, unit.where)
        if problem is not None or task is None:
            plan.skipped += unit.count
            issues.append(ImportIssue(unit.task_match, problem or NOT_FOUND))
            continue
        plan.skipped += unit.unwritten
        if unit.notes:
            issues.extend(ImportIssue(unit.task_match, note) for note in unit.notes)
        annotated = False
        for annotation in unit.annotations:
            if type(annotation) is AnnotationRow:
                plan.annotations.append(
                    NewAnnotation(
                        task.task_id, annotation.result_json, annotation.lead_time_seconds
                    )
                )
                annotated = True
            else:
                plan.skipped += 1
                issues.append(ImportIssue(unit.task_match, str(annotation)))
        if annotated:
            plan.completed.append(task)
        for prediction in unit.predictions:
            if type(prediction) is PredictionRow:
                plan.predictions.append(
                    NewPrediction(
                        task.task_id,
                        prediction.model_version or fallback_model_version,
                        prediction.score,
                        prediction.result_json,
                    )
                )
            else:
                plan.skipped += 1
                issues.append(ImportIssue(unit.task_match, str(prediction)))
    return plan
