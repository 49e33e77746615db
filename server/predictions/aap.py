"""AAP JSON 1.x: the platform's own prediction format (seed 002).

    {"schema_version": "1.0",
     "tasks": [{"task_match": {"display_id": "T-101"},
                "predictions": [{"geometry": {...}, "class_name": "...",
                                 "confidence": 0.9, "model_version": "..."}]}]}

Any 1.x minor version is read; fields this reader does not know are ignored,
so newer minor versions that only add fields keep working.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from server.display_ids import FORM as DISPLAY_ID_FORM
from server.display_ids import parse_display_id
from server.predictions.entries import (
    Entry,
    Item,
    Rejection,
    TaskKey,
    at,
    invalid_file,
    make_item,
)
from server.predictions.geometry import GeometryError, parse_geometry
from server.predictions.json_stream import (
    START_ARRAY,
    START_MAP,
    Source,
    check_complete,
    first_value,
    stream_items,
    top_level_kinds,
)

SUPPORTED_MAJOR = 1
SUPPORTED_VERSIONS = "1.x"
MATCH_FIELDS = ("display_id", "file_path", "external_id")

_VERSION = re.compile(r"(\d+)(?:\.\d+)*")


def iter_aap(file: Source) -> Iterator[Entry]:
    """The entries of an AAP JSON file, one task at a time; INVALID_IMPORT_FILE when it
    is not one (raised before the first entry when the shape is wrong, and wherever
    the JSON breaks)."""
    shape = top_level_kinds(file, ("schema_version", "tasks"), stop_at="tasks")
    if shape is None:
        check_complete(file)  # a file that is not JSON says so first
        raise invalid_file("an AAP JSON file is an object with schema_version and tasks")
    if "schema_version" in shape:
        event, version = shape["schema_version"]
        if event in (START_ARRAY, START_MAP):
            version = first_value(file, "schema_version")[1]
    else:
        # tasks came first (or is missing): one pass of the C parser finds the version
        found, version = first_value(file, "schema_version")
        if not found:
            check_schema_version(None)
    check_schema_version(version)
    tasks = shape.get("tasks")
    if tasks is None:
        check_complete(file)
        raise invalid_file("the file has no tasks", field="tasks")
    if tasks[0] != START_ARRAY:
        raise invalid_file("tasks must be a list", field="tasks")
    for index, task in enumerate(stream_items(file, "tasks.item")):
        yield _entry(task, f"tasks[{index}]")


def check_schema_version(version: Any) -> None:
    """Accept 1.x; another major version, or none, is INVALID_IMPORT_FILE."""
    details = {"field": "schema_version", "supported": SUPPORTED_VERSIONS}
    if version is None:
        raise invalid_file("schema_version is missing", **details)
    text = str(version) if isinstance(version, str | int | float) else ""
    found = _VERSION.fullmatch(text.strip())
    if isinstance(version, bool) or found is None:
        raise invalid_file(f"schema_version {version!r} is not a version number", **details)
    if int(found.group(1)) != SUPPORTED_MAJOR:
        raise invalid_file(
            f"schema_version {text} is not supported: this server reads AAP JSON "
            f"{SUPPORTED_VERSIONS}",
            schema_version=text,
            **details,
        )


def _entry(task: Any, where: str) -> Entry:
    if not isinstance(task, dict):
        return Entry(task_match=None, key=None, problem=at("a task must be an object", where))
    task_match = task.get("task_match")
    predictions = task.get("predictions")
    count = len(predictions) if isinstance(predictions, list) else 0
    key_or_problem = parse_task_match(task_match)
    if isinstance(key_or_problem, str):
        return Entry(task_match, None, problem=at(key_or_problem, where), count=count)
    if not isinstance(predictions, list):
        problem = "predictions is missing" if predictions is None else "predictions must be a list"
        return Entry(task_match, None, problem=at(problem, where), count=0)
    item_where = where + ".predictions[{}]"
    items = [_item(prediction, index, item_where) for index, prediction in enumerate(predictions)]
    return Entry(
        task_match, key_or_problem, items=items, count=count, where=where, item_where=item_where
    )


def parse_task_match(task_match: Any) -> TaskKey | str:
    """The task key of a task_match object, or the reason it cannot be used."""
    if not isinstance(task_match, dict):
        what = "missing" if task_match is None else "not an object"
        return f"task_match is {what}: give one of {', '.join(MATCH_FIELDS)}"
    values: dict[str, str] = {}
    for name in MATCH_FIELDS:
        value = task_match.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or not value:
            return f"task_match.{name} must be a non-empty string"
        values[name] = value
    if not values:
        return f"task_match has none of {', '.join(MATCH_FIELDS)}"
    task_id: int | None = None
    if "display_id" in values:
        task_id = parse_display_id(values["display_id"])
        if task_id is None:
            return f"display_id {values['display_id']!r} is not of the form {DISPLAY_ID_FORM}"
    return TaskKey(
        task_id=task_id, file_path=values.get("file_path"), external_id=values.get("external_id")
    )


def _item(prediction: Any, index: int, item_where: str) -> Item:
    if not isinstance(prediction, dict):
        return Rejection(at("a prediction must be an object", item_where.format(index)))
    try:
        shape = parse_geometry(prediction.get("geometry"))
    except GeometryError as error:
        return Rejection(at(str(error), item_where.format(index)))
    return make_item(
        shape,
        class_name=prediction.get("class_name"),
        confidence=prediction.get("confidence"),
        model_version=prediction.get("model_version"),
        index=index,
        item_where=item_where,
    )
