"""COCO detection files as annotations: all annotations of one image become ONE
annotation of its task.

The file is read and its images matched exactly as a COCO prediction import
reads and matches them (server.predictions.coco, server.predictions.matching):
the same shape rules, the same `file_name` matching (the exported image name
first), boxes → rectanglelabels, polygon segmentations → polygonlabels for
polygon projects, categories → label names. The regions are the results a
prediction import would write (server.predictions.rows), joined into one
result; an image with any refused annotation is not imported (a partial ground
truth would pass for a complete one), and each refusal is an error entry.

The reader yields batches of annotations, grouped by image within a batch. An
image whose annotations run on into the next batch (files list each image's
annotations together) is carried over and joined with its continuation.

An image of images[] that no annotation names is a negative: ground truth that
the image shows nothing to label. Once the annotations are read, each such
image becomes a unit whose one annotation has the empty result `[]`, so its
task is completed as a negative, as an annotator's empty submit completes it
(a COCO set of 9 images, one without objects, completes 9 tasks). It is
matched like any image (a name that fits several tasks is an error entry);
it needs no width or height.
"""

from __future__ import annotations

from collections.abc import Iterator

import orjson

from server.annotations_import.units import AnnotationRow, Unit
from server.predictions.coco import CocoImage, CocoIndex, iter_coco
from server.predictions.entries import Entry, ImportTarget, at
from server.predictions.json_stream import Source
from server.predictions.rows import plan_rows
from storage.predictions import TaskRef


def iter_coco_units(
    file: Source, index: CocoIndex, target: ImportTarget, *, batch_size: int
) -> Iterator[list[Unit]]:
    """The units of a COCO file whose images are read and matched (index), batch by
    batch; INVALID_IMPORT_FILE when it is not one."""
    held: Entry | None = None
    for entries in iter_coco(file, index, batch_size=batch_size):
        if held is not None:
            entries = _join(held, entries)
        held = entries.pop() if entries and _image_id(entries[-1]) is not None else None
        yield [_unit(entry, target) for entry in entries]
    if held is not None:
        yield [_unit(held, target)]
    negatives = [image for image in index.images.values() if not image.annotated]
    for start in range(0, len(negatives), batch_size):
        yield [_negative(image) for image in negatives[start : start + batch_size]]


NEGATIVE = AnnotationRow("[]", None)


def _negative(image: CocoImage) -> Unit:
    """The unit of an image without annotations: an empty result for its task."""
    where = f"images[{image.position}]"
    task_match = {"image_id": image.image_id, "file_name": image.file_name}
    problem = image.problem
    if not isinstance(image.file_name, str) or not image.file_name:
        problem = f"image {image.image_id!r} has no file_name"
    entry = Entry(
        task_match,
        None,
        task=image.task,
        problem=None if problem is None else at(problem, where),
        where=where,
    )
    return Unit(task_match, where, annotations=[NEGATIVE], entry=entry, problem=entry.problem)


def _image_id(entry: Entry) -> object:
    if entry.problem is not None or not isinstance(entry.task_match, dict):
        return None
    return entry.task_match.get("image_id")


def _join(held: Entry, entries: list[Entry]) -> list[Entry]:
    """entries with the held image's annotations put in front of its continuation."""
    image_id = _image_id(held)
    for entry in entries:
        if _image_id(entry) == image_id:
            entry.items[:0] = held.items
            entry.count += held.count
            entry.where = held.where
            return entries
    return [held, *entries]


def _unit(entry: Entry, target: ImportTarget) -> Unit:
    unit = Unit(entry.task_match, entry.where, entry=entry)
    if entry.problem is not None:
        unit.problem = entry.problem
        unit.unwritten = 1  # the image's one annotation
        return unit
    # Rows as a prediction import would build them; the task's size is the image's.
    placeholder = TaskRef(0, target.project_id, "{}")
    plan = plan_rows([entry], [placeholder], target=target, fallback_model_version=None)
    if plan.issues:
        first, *rest = (issue.reason for issue in plan.issues)
        unit.annotations = [first]
        unit.notes = rest
        return unit
    regions = [region for row in plan.rows for region in orjson.loads(row.result_json)]
    unit.annotations = [AnnotationRow(orjson.dumps(regions).decode(), None)]
    return unit
