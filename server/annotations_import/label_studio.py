"""Label Studio's task export (JSON): a top-level array of tasks.

    [{"id": 1, "data": {"image": "https://…/1.jpg"},
      "annotations": [{"result": [...], "was_cancelled": false, "lead_time": 12.5}],
      "predictions": [{"result": [...], "model_version": "m1", "score": 0.9}]}]

The array's items are built one at a time by ijson's C backend
(server.predictions.json_stream), so memory holds one batch of tasks. Fields
this reader does not use (Label Studio writes many) are ignored. A task names
its task here by `display_id` ("T-<id>", our own json export), by `id` (our
export writes the task id there), and by its content, `data.image` or
`data.text` (server.projects.label_config.data_key).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from server.annotations_import.units import (
    AnnotationRow,
    Refused,
    Unit,
    lead_time,
    prediction_row,
    result_text,
)
from server.display_ids import parse_display_id
from server.predictions.entries import ImportTarget, at, invalid_file
from server.predictions.json_stream import (
    START_ARRAY,
    Source,
    check_complete,
    stream_items,
    top_level_event,
)
from server.projects.label_config import data_key

SHAPE = "a Label Studio export is a JSON array of tasks"


def iter_label_studio(file: Source, target: ImportTarget) -> Iterator[Unit]:
    """The units of a Label Studio export, one task at a time; INVALID_IMPORT_FILE when
    the file is not a JSON array (raised before the first unit) or breaks later."""
    event = top_level_event(file)
    if event != START_ARRAY:
        check_complete(file)  # a file that is not JSON says so first
        raise invalid_file(SHAPE)
    reader = _Reader(target)
    for index, task in enumerate(stream_items(file, "item")):
        yield reader.unit(task, f"[{index}]")


class _Reader:
    def __init__(self, target: ImportTarget) -> None:
        self.key = data_key(target.task_type)
        self.labels = frozenset(target.labels)
        self.label_list = target.labels

    def unit(self, task: Any, where: str) -> Unit:
        if not isinstance(task, dict):
            return Unit(None, where, problem=at("a task must be an object", where))
        data = task.get("data")
        content = data.get(self.key) if isinstance(data, dict) else None
        task_id = _task_id(task)
        task_match: dict[str, Any] = {}
        for name in ("id", "display_id"):
            if task.get(name) is not None:
                task_match[name] = task[name]
        if content is not None:
            task_match[f"data.{self.key}"] = content
        unit = Unit(task_match, where, task_id=task_id)
        if isinstance(content, str) and content:
            unit.content = content
        annotations, predictions = task.get("annotations"), task.get("predictions")
        for name, value in (("annotations", annotations), ("predictions", predictions)):
            if value is not None and not isinstance(value, list):
                unit.problem = at(f"{name} must be a list", where)
                return unit
        if unit.task_id is None and unit.content is None:
            unit.problem = at(
                f"the task has no id of this project and no data.{self.key} to match", where
            )
        for index, annotation in enumerate(annotations or ()):
            self.add_annotation(unit, annotation, where, index)
        for index, prediction in enumerate(predictions or ()):
            unit.predictions.append(
                prediction_row(
                    prediction,
                    f"{where}.predictions[{index}]",
                    labels=self.labels,
                    label_list=self.label_list,
                )
            )
        return unit

    def add_annotation(self, unit: Unit, annotation: Any, where: str, index: int) -> None:
        """(its place in the file, f"{where}.annotations[{index}]", is spelled out only
        for an error entry)"""
        if annotation.__class__ is not dict:
            reason = "an annotation must be an object"
            unit.annotations.append(at(reason, f"{where}.annotations[{index}]"))
            return
        if annotation.get("was_cancelled") is True:
            unit.unwritten += 1
            return
        try:
            row = AnnotationRow(
                result_text(
                    annotation.get("result"), labels=self.labels, label_list=self.label_list
                ),
                lead_time(annotation.get("lead_time")),
            )
        except Refused as refused:
            unit.annotations.append(at(str(refused), f"{where}.annotations[{index}]"))
            return
        unit.annotations.append(row)


def _task_id(task: dict[str, Any]) -> int | None:
    """The task id a Label Studio task names: its display_id, else its id."""
    named = task.get("display_id")
    if isinstance(named, str):
        found = parse_display_id(named)
        if found is not None:
            return found
    value = task.get("id")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value < 2**63 else None
    if isinstance(value, str):
        if value.isascii() and value.isdigit() and len(value) <= 18:
            return int(value)
        return parse_display_id(value)
    return None
