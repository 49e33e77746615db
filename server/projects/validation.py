"""The rules of a project init request (SPEC §4.1) and of label lists.

Every rule answers INVALID_REQUEST (or INVALID_TASK_TYPE) with `details.field`
naming the offending field, e.g. "data[3].content", so a caller can find it
in a 200,000-item request. The per-item loop is the hot path of an init and
is kept free of per-item allocations it does not need.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import cast

import orjson
from annotation.v1 import project_service_pb2

from annotation_api.errors import DomainError, ErrorCode
from server.coordinates import fit_result
from server.field_limits import MAX_LENGTH, field_limit
from server.projects.colors import assign_colors
from server.vocabulary import IMAGE_TASK_TYPES, SUPPORTED_TASK_TYPES

MAX_NAME_LENGTH = field_limit(project_service_pb2.InitProjectRequest, "name", MAX_LENGTH)
MAX_ID_LENGTH = 255
MAX_LABEL_LENGTH = 255
COLOR = re.compile(r"#[0-9A-Fa-f]{6}\Z")
_HTTP_URL = re.compile(r"https?://[^\s/?#]+\S*\Z", re.IGNORECASE)
_URL_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_WINDOWS_DRIVE = re.compile(r"[A-Za-z]:[\\/]")


def invalid(field: str, message: str, **details: object) -> DomainError:
    return DomainError(ErrorCode.INVALID_REQUEST, message, {"field": field, **details})


@dataclass(frozen=True, slots=True)
class TagSpec:
    """A label as asked for: a name and maybe a colour."""

    tag: str
    color: str | None


def check_task_type(task_type: str) -> str:
    if task_type not in SUPPORTED_TASK_TYPES:
        message = (
            "task_type is required" if not task_type else f"unsupported task_type {task_type!r}"
        )
        raise DomainError(
            ErrorCode.INVALID_TASK_TYPE,
            message,
            {"field": "task_type", "value": task_type, "supported": SUPPORTED_TASK_TYPES},
        )
    return task_type


def check_name(name: str) -> str:
    trimmed = name.strip()
    if not trimmed:
        raise invalid("name", "name is required")
    if len(trimmed) > MAX_NAME_LENGTH:
        raise invalid(
            "name", f"name is longer than {MAX_NAME_LENGTH} characters", max_length=MAX_NAME_LENGTH
        )
    return trimmed


LABEL_TEXT_RULE = "a label is single-line printable text (no control characters or line breaks)"


def is_label_text(text: str) -> bool:
    """The one rule for a label value wherever it enters (tags, configured labels,
    labels inside results and imported predictions): printable, hence on one line.
    Labels become lines of yolo's classes.txt, XML names and CSV cells."""
    return text.isprintable()


# Keys of a Label Studio region's value that hold labels (besides "<kind>labels").
_LABEL_KEYS = frozenset({"choices", "taxonomy"})


def check_result(
    value: object, *, field: str = "result", labels: Collection[str] = frozenset()
) -> None:
    """An annotation's Label Studio result (SubmitAnnotation, UpdateAnnotation, annotation
    import): a JSON array of region objects; every label it names (value.choices,
    value.labels, value.<kind>labels, value.taxonomy) obeys is_label_text and, when
    `labels` (the project's) are given, is one of them; the coordinates of its regions
    obey server.coordinates, which clamps a region within its slack IN PLACE (the caller
    stores the result it passed). An import checks 100,000 results: kept to two cheap
    passes."""
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise invalid(field, f"{field} must be a JSON array of objects")
    for index, item in enumerate(value):
        region = item.get("value")
        if region.__class__ is not dict:
            continue
        for key, names in region.items():
            if key not in _LABEL_KEYS and not key.endswith("labels"):
                continue
            for name in _strings(names):
                if name in labels:
                    continue  # the project's labels are label text
                if not is_label_text(name):
                    raise invalid(f"{field}[{index}].value.{key}", LABEL_TEXT_RULE)
                if labels:
                    raise invalid(
                        f"{field}[{index}].value.{key}",
                        f"{name!r} is not a label of the project",
                        label=name,
                    )
    fit_result(value, field=field)


def _strings(value: object) -> list[str]:
    """The strings of a label list (taxonomy nests lists of paths)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def check_labels(tags: Sequence[TagSpec], *, field: str = "tags") -> list[tuple[str, str]]:
    """Names non-empty, unique and printable; colours #RRGGBB or generated."""
    seen: dict[str, int] = {}
    names: list[str] = []
    for index, spec in enumerate(tags):
        name = spec.tag.strip()
        where = f"{field}[{index}].tag"
        if not name:
            raise invalid(where, "a tag needs a non-empty name")
        if len(name) > MAX_LABEL_LENGTH:
            raise invalid(where, f"a tag is at most {MAX_LABEL_LENGTH} characters")
        if not is_label_text(name):
            raise invalid(where, LABEL_TEXT_RULE)
        if name in seen:
            raise invalid(where, f"duplicate tag {name!r}", tag=name, first_index=seen[name])
        seen[name] = index
        if spec.color is not None and not COLOR.match(spec.color):
            raise invalid(
                f"{field}[{index}].color",
                f"color {spec.color!r} is not #RRGGBB",
                pattern="^#[0-9A-Fa-f]{6}$",
            )
        names.append(name)
    colors = assign_colors([spec.color for spec in tags])
    return list(zip(names, colors, strict=True))


def is_image_location(content: str) -> bool:
    """An http(s) URL, or a path (no other URL scheme; no control characters)."""
    if _HTTP_URL.match(content):
        return True
    if not content.isprintable() or content.isspace():
        return False
    return not _URL_SCHEME.match(content) or bool(_WINDOWS_DRIVE.match(content))


def _metadata_object(text: str, index: int) -> str:
    """The stored JSON text of an item's metadata ("" or null: {})."""
    if not text or text == "null":
        return "{}"
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise invalid(f"data[{index}].metadata", "metadata is not valid JSON") from exc
    if value is None:
        return "{}"
    if not isinstance(value, dict):
        raise invalid(f"data[{index}].metadata", "metadata must be a JSON object")
    return text


def duplicate_id(index: int, item_id: str, first_index: int) -> DomainError:
    return invalid(
        f"data[{index}].id", f"duplicate id {item_id!r}", id=item_id, first_index=first_index
    )


class ItemChecker:
    """The per-item rules of an init, applied batch by batch in input order.

    The first item that breaks a rule raises, its rules taken in order (content,
    then id, then metadata), so an unary request and the same items streamed in
    batches of any size get the same error, naming the item's index in the
    whole request. Ids are unique per request: the checker compares a batch's
    ids with each other, and with `earlier` (the first index of each id of the
    batch that an earlier batch gave) when the caller knows them; the caller
    asks the database about the earlier batches, which keeps the memory of a
    request of any size to a batch (server/projects/init.py).

    A batch is first checked as a whole, with C-speed passes over its columns
    (`_batch_passes`); only a batch that fails one of them is walked item by
    item, to find the first error.
    """

    def __init__(self, task_type: str) -> None:
        self.task_type = task_type
        self._image = task_type in IMAGE_TASK_TYPES
        self.count = 0

    def check(
        self,
        contents: Sequence[str],
        item_ids: Sequence[str | None],
        metadata: Sequence[str],
        *,
        earlier: Mapping[str, int] | None = None,
    ) -> list[str]:
        """Check the next batch of items; return the metadata JSON texts to store."""
        if earlier is None:
            passed = self._batch_passes(contents, item_ids, metadata)
            if passed is not None:
                self.count += len(contents)
                return passed
        start = self.count
        found: list[tuple[int, int, DomainError]] = []
        image = self._image
        for index, content in enumerate(contents, start):
            if not content or content.isspace():
                found.append(
                    (
                        index,
                        0,
                        invalid(f"data[{index}].content", "content must be a non-empty string"),
                    )
                )
                break
            if image and not is_image_location(content):
                message = "content of an image task must be an http(s) URL or a path"
                found.append((index, 0, invalid(f"data[{index}].content", message)))
                break
        seen = dict(earlier or {})
        for index, item_id in enumerate(item_ids, start):
            if item_id is None:
                continue
            if not item_id or len(item_id) > MAX_ID_LENGTH:
                message = f"id must be 1 to {MAX_ID_LENGTH} characters"
                found.append((index, 1, invalid(f"data[{index}].id", message)))
                break
            first = seen.setdefault(item_id, index)
            if first != index:
                found.append((index, 1, duplicate_id(index, item_id, first)))
                break
        metadata_json: list[str] = []
        append = metadata_json.append
        index = start
        try:
            for index, text in enumerate(metadata, start):
                append(_metadata_object(text, index))
        except DomainError as error:
            found.append((index, 2, error))
        if found:
            raise min(found, key=lambda item: (item[0], item[1]))[2]
        self.count += len(contents)
        return metadata_json

    def _batch_passes(
        self, contents: Sequence[str], item_ids: Sequence[str | None], metadata: Sequence[str]
    ) -> list[str] | None:
        """The metadata JSON texts to store when every item of the batch passes; None
        when some item may not (`check` then finds which)."""
        if not all(contents) or any(map(str.isspace, contents)):
            return None
        if self._image and not all(map(is_image_location, contents)):
            return None
        ids = dict.fromkeys(item_ids)
        ids.pop(None, None)
        if ids:
            lengths = list(map(len, cast(dict[str, None], ids)))
            if (
                len(ids) != len(item_ids) - item_ids.count(None)  # repeated in the batch
                or min(lengths) < 1
                or max(lengths) > MAX_ID_LENGTH
            ):
                return None
        loads = orjson.loads
        try:
            values = [loads(text) if text else None for text in metadata]
        except orjson.JSONDecodeError:
            return None
        kinds = set(map(type, values))
        if not kinds <= {dict, type(None)}:
            return None
        if type(None) not in kinds:
            return list(metadata)
        return [
            "{}" if value is None else text for text, value in zip(metadata, values, strict=True)
        ]


def file_paths_of(task_type: str, contents: Sequence[str]) -> Sequence[str | None]:
    """An image task's content is its file's location; other tasks have no file."""
    return contents if task_type in IMAGE_TASK_TYPES else [None] * len(contents)


def check_external_id(external_id: str | None) -> None:
    if external_id is not None and len(external_id) > MAX_ID_LENGTH:
        raise invalid("external_id", f"external_id is longer than {MAX_ID_LENGTH} characters")
