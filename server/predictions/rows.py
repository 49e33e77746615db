"""From matched entries to prediction rows and error entries.

The checks that need the project (which geometries its task type holds, its
labels) and the task (its image size: the coordinate rule of
server.coordinates) happen here, after matching.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from server.coordinates import Frame
from server.display_ids import display_id
from server.images import pixel_size
from server.predictions.entries import Candidate, Entry, ImportTarget, Rejection, at
from server.predictions.geometry import GeometryError, fit_shape, to_results
from server.predictions.matching import CANDIDATES_SHOWN
from server.projects.label_config import data_key
from server.vocabulary import GEOMETRY_KINDS_BY_TASK_TYPE, GeometryKind
from storage.predictions import NewPrediction, TaskRef

NOT_FOUND = "task not found in project"
# How many labels a "not a label of the project" reason lists.
LABELS_SHOWN = 20


@dataclass(frozen=True, slots=True)
class ImportIssue:
    """One error entry of the response: which task_match, and why."""

    task_match: Any
    reason: str


@dataclass(frozen=True, slots=True)
class ImportWarning:
    """One warning entry of the response: an entry imported that deserves a look."""

    task_match: Any
    message: str
    candidates: tuple[str, ...]  # display ids of the tasks it could mean, the chosen first


@dataclass(slots=True)
class ImportPlan:
    """Everything an import would write, and what it refused."""

    rows: list[NewPrediction] = field(default_factory=list)
    # tasks whose earlier imported predictions overwrite_existing replaces
    matched_task_ids: set[int] = field(default_factory=set)
    skipped: int = 0
    issues: list[ImportIssue] = field(default_factory=list)
    warnings: list[ImportWarning] = field(default_factory=list)


def plan_rows(
    entries: Sequence[Entry],
    tasks: Sequence[TaskRef | None],
    *,
    target: ImportTarget,
    fallback_model_version: str | None,
    texts: Mapping[int, str] | None = None,
) -> ImportPlan:
    """The rows and error entries of matched entries (tasks[i] is entries[i]'s task);
    texts: the text of each matched task, for the spans of a text project."""
    plan = ImportPlan()
    to_name = data_key(target.task_type)
    kinds = GEOMETRY_KINDS_BY_TASK_TYPE.get(target.task_type, frozenset())
    labels = frozenset(target.labels)
    sizes: dict[int, tuple[int, int] | None] = {}
    frames: dict[tuple[int, int] | None, Frame] = {}
    for entry, task in zip(entries, tasks, strict=True):
        if entry.problem is not None or task is None:
            plan.skipped += entry.count
            plan.issues.append(ImportIssue(entry.task_match, entry.problem or _not_found(entry)))
            continue
        plan.matched_task_ids.add(task.task_id)
        if entry.candidates:
            plan.warnings.append(_several_tasks(entry))
        size = entry.original_size
        if size is None:
            if task.task_id not in sizes:
                sizes[task.task_id] = image_size(task.metadata_json)
            size = sizes[task.task_id]
        frame = frames.get(size)
        if frame is None:
            frame = frames[size] = Frame.of(1.0, size)
        text = texts.get(task.task_id) if texts else None
        for item in entry.items:
            if type(item) is Candidate and item.shape.kind in kinds:
                try:
                    shape = fit_shape(item.shape, frame, text=text)
                except GeometryError as error:
                    item = Rejection(at(str(error), entry.item_where.format(item.index)))
            if not (
                type(item) is Candidate
                and item.shape.kind in kinds
                and (not labels or item.class_name in labels)
            ):
                plan.skipped += 1
                reason = _refusal(item, entry, kinds, labels, target)
                plan.issues.append(ImportIssue(entry.task_match, reason))
                continue
            result = to_results(
                shape,
                label=item.class_name,
                score=item.confidence,
                original_size=size,
                to_name=to_name,
            )
            plan.rows.append(
                NewPrediction(
                    task_id=task.task_id,
                    model_version=item.model_version or fallback_model_version,
                    score=item.confidence,
                    result_json=orjson.dumps(result).decode("utf-8"),
                )
            )
    return plan


def _several_tasks(entry: Entry) -> ImportWarning:
    assert entry.candidates
    shown = tuple(display_id(task.task_id) for task in entry.candidates)
    message = (
        f"file_path {entry.ambiguous_path!r} names {len(shown)}"
        f"{' or more' if len(shown) >= CANDIDATES_SHOWN else ''} tasks of the project "
        f"({', '.join(shown)}); its predictions went to the first, {shown[0]}: give a "
        "display_id, or a path only one task has"
    )
    return ImportWarning(entry.task_match, at(message, entry.where), shown)


def _not_found(entry: Entry) -> str:
    return at(NOT_FOUND, entry.where) if entry.where else NOT_FOUND


def _refusal(
    item: Candidate | Rejection,
    entry: Entry,
    kinds: frozenset[GeometryKind],
    labels: frozenset[str],
    target: ImportTarget,
) -> str:
    """Why plan_rows refuses item."""
    if isinstance(item, Rejection):
        return item.reason
    kind = item.shape.kind
    if kind not in kinds:
        takes = ", ".join(sorted(kinds)) if kinds else "no predictions"
        return at(
            f"a {kind} cannot go into a {target.task_type} project (it takes {takes})",
            entry.item_where.format(item.index),
        )
    shown = ", ".join(target.labels[:LABELS_SHOWN])
    more = ", …" if len(target.labels) > LABELS_SHOWN else ""
    return at(
        f"class_name {item.class_name!r} is not a label of the project (labels: {shown}{more})",
        entry.item_where.format(item.index),
    )


def image_size(metadata_json: str) -> tuple[int, int] | None:
    """The image size a task's metadata gives, by server.images' rule."""
    if not metadata_json or metadata_json == "{}":
        return None
    try:
        metadata = orjson.loads(metadata_json)
    except orjson.JSONDecodeError:
        return None
    return pixel_size((), metadata) if isinstance(metadata, dict) else None
