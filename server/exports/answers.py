"""Which answer of a task the one-answer formats write (docs/exports.md, "Which answer").

`answer(task)` is the task's merged answer when the export asked for
consensus (`add_consensus` put it on the task), else the best-ranked of its
annotations, the latest first among equals:

1. the known answer of a ground-truth task;
2. a reviewer's accepted correction;
3. an accepted annotation;
4. an annotation not (or not yet) reviewed: pending, or review off;
5. a rejected annotation (being redone; written only when nothing else exists).

"Latest" is the latest submitted or updated (updated_at, then the higher id),
so a project without review keeps its rule (the latest annotation), and with
overlap and no review the latest submitted answer is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import orjson

from server.vocabulary import ReviewStatus
from storage.export_records import ExportAnnotation, ExportTask

# the annotator a merged answer is written under (csv's annotator column).
CONSENSUS_ANNOTATOR = "consensus"


def _rank(annotation: ExportAnnotation) -> int:
    if annotation.is_ground_truth:
        return 4
    status = annotation.review_status
    if status == ReviewStatus.ACCEPTED:
        return 3 if annotation.corrects_annotation_id is not None else 2
    if status == ReviewStatus.REJECTED:
        return 0
    return 1


def _key(annotation: ExportAnnotation) -> tuple[int, datetime, int]:
    return (_rank(annotation), annotation.updated_at, annotation.annotation_id)


def answer(task: ExportTask) -> ExportAnnotation | None:
    """The one answer a one-answer format writes for `task` (see above)."""
    if task.consensus is not None:
        return task.consensus
    annotations = task.annotations
    if len(annotations) < 2:  # the usual case: no comparison to make
        return annotations[0] if annotations else None
    return max(annotations, key=_key)


def consensus_inputs(task: ExportTask) -> list[ExportAnnotation]:
    """The answers a task's consensus merges, earliest first: its annotators'
    answers, each replaced by a reviewer's correction of it when there is one;
    rejected answers (being redone) and known answers are left out."""
    corrections = {
        a.corrects_annotation_id: a
        for a in task.annotations
        if a.corrects_annotation_id is not None
    }
    return [
        corrections.get(a.annotation_id, a)
        for a in task.annotations
        if a.corrects_annotation_id is None
        and not a.is_ground_truth
        and a.review_status != ReviewStatus.REJECTED
    ]


def add_consensus(
    tasks: Sequence[ExportTask],
    *,
    labels: Sequence[str],
    iou_threshold: float,
    weights: Mapping[str, float],
) -> None:
    """Put each task's merged answer on it (`task.consensus`, `task.consensus_of`).

    A ground-truth task's consensus is its known answer; one answer is its own
    consensus, as it is; a task without answers to merge has none (the ranking
    of `answer` applies). `weights` are the annotators' agreement scores by
    username (1 for an annotator without one); a correction weighs as the
    answer it corrects.
    """
    for task in tasks:
        annotations = task.annotations
        if len(annotations) == 1:  # the usual case (no overlap): no lists to build
            only = annotations[0]
            if only.is_ground_truth:  # a known answer counts only on a ground-truth task
                mergeable = task.is_ground_truth
            else:
                mergeable = (
                    only.corrects_annotation_id is None
                    and only.review_status != ReviewStatus.REJECTED
                )
            if mergeable:
                task.consensus, task.consensus_of = only, (only.annotation_id,)
            continue
        known = [a for a in annotations if a.is_ground_truth]
        if task.is_ground_truth and known:
            chosen = max(known, key=_key)
            task.consensus, task.consensus_of = chosen, (chosen.annotation_id,)
            continue
        inputs = consensus_inputs(task)
        if not inputs:
            continue
        task.consensus_of = tuple(a.annotation_id for a in inputs)
        if len(inputs) == 1:
            task.consensus = inputs[0]
            continue
        task.consensus = _merged(task, inputs, labels, iou_threshold, weights)


def _merged(
    task: ExportTask,
    inputs: Sequence[ExportAnnotation],
    labels: Sequence[str],
    iou_threshold: float,
    weights: Mapping[str, float],
) -> ExportAnnotation:
    """The merged answer of two or more inputs."""
    # Imported here: shapely and numpy cost the format process ~20 MB and
    # their import time, and only an export that merges needs them.
    from server.quality.consensus import WeightedAnswer, merge_answers

    authors = _authors(task)
    merged = merge_answers(
        [
            WeightedAnswer(a.result, weights.get(authors.get(a.annotation_id, ""), 1.0))
            for a in inputs
        ],
        labels=labels,
        iou_threshold=iou_threshold,
    )
    latest = max(inputs, key=lambda a: (a.updated_at, a.annotation_id))
    return ExportAnnotation(
        annotation_id=0,
        annotator=CONSENSUS_ANNOTATOR,
        created_at=latest.updated_at,
        updated_at=latest.updated_at,
        result_json=orjson.dumps(merged).decode(),
    )


def _authors(task: ExportTask) -> dict[int, str]:
    """Each answer's annotator by annotation id; a correction counts as its original's."""
    by_id = {a.annotation_id: a.annotator for a in task.annotations}
    return {
        a.annotation_id: by_id.get(a.corrects_annotation_id, a.annotator)
        if a.corrects_annotation_id is not None
        else a.annotator
        for a in task.annotations
    }
