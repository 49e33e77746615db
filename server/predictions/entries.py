"""What a parsed import file is made of, whatever its format.

A file becomes a list of entries, one per task it names (an AAP `tasks[]`
item, or a COCO image with annotations). Each entry carries how to find its
task and its predictions, each either a candidate or already rejected. Which
task an entry means and whether the project can hold a candidate is decided
later, by the service.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from annotation_api.errors import DomainError, ErrorCode
from server.predictions.geometry import Shape, is_number
from server.projects.validation import LABEL_TEXT_RULE, is_label_text
from storage.predictions import TaskRef

# Longest model_version the predictions table holds.
MAX_MODEL_VERSION_LENGTH = 255


@dataclass(frozen=True, slots=True)
class ImportTarget:
    """What the checks need to know about the project imported into."""

    project_id: str
    task_type: str
    task_count: int
    labels: tuple[str, ...]  # label names in project order; empty: any class_name


# Hot-path records (one per prediction) are plain slotted dataclasses: a frozen
# dataclass's __init__ costs several times more, which shows at 100,000 rows.


@dataclass(slots=True)
class TaskKey:
    """The ways an entry may name its task, tried in this order."""

    task_id: int | None = None  # from display_id "T-<task_id>"
    # an exported image name (server.images), matched exactly (COCO file_name)
    image_name: str | None = None
    file_path: str | None = None
    external_id: str | None = None
    # several tasks found by file_path: an error naming them (True) or the first (False)
    unique: bool = False


@dataclass(slots=True)
class Candidate:
    """A prediction whose own fields are valid."""

    shape: Shape
    class_name: str
    confidence: float | None
    model_version: str | None  # None: use the request's fallback
    index: int  # its place in the file, spelled out by Entry.item_where


@dataclass(slots=True)
class Rejection:
    """A prediction that cannot be imported, and why."""

    reason: str


Item = Candidate | Rejection


@dataclass(slots=True)
class Entry:
    """One task's worth of predictions from the file."""

    task_match: Any  # echoed in error entries, as found in the file
    key: TaskKey | None  # None when `problem` is set
    items: list[Item] = field(default_factory=list)
    # why the whole entry cannot be imported, found while parsing
    problem: str | None = None
    # how many predictions the entry holds (len(items) unless `problem` is set)
    count: int = 0
    # the image's size in pixels when the file says it (COCO)
    original_size: tuple[int, int] | None = None
    # where the entry starts in the file, e.g. "tasks[3]"
    where: str = ""
    # where its predictions are, given their index, e.g. "tasks[3].predictions[{}]"
    item_where: str = "{}"
    # its task when the reader matched it already (COCO images are matched once per file);
    # with key None and no problem, None means not found
    task: TaskRef | None = None
    # the tasks its file_path names when there are several (it was matched to the first),
    # in project order, and the file_path: set by matching, reported as a warning
    candidates: list[TaskRef] | None = None
    ambiguous_path: str | None = None


def invalid_file(message: str, **details: Any) -> DomainError:
    """The whole file is unusable: 422, nothing is written."""
    return DomainError(ErrorCode.INVALID_IMPORT_FILE, message, details)


def at(reason: str, where: str) -> str:
    """A reason with its location in the file, so a person can find the entry."""
    return f"{reason} ({where})"


def make_item(
    shape: Shape,
    *,
    class_name: Any,
    confidence: Any,
    model_version: Any,
    index: int,
    item_where: str,
) -> Item:
    """A candidate when the fields next to the geometry are valid, else a rejection
    (located by item_where.format(index), spelled out only when needed)."""
    if not isinstance(class_name, str) or not class_name.strip():
        if class_name is None:
            return Rejection(at("class_name is missing", item_where.format(index)))
        return Rejection(at("class_name must be a non-empty string", item_where.format(index)))
    if not is_label_text(class_name):
        return Rejection(at(f"class_name: {LABEL_TEXT_RULE}", item_where.format(index)))
    problem = confidence_problem(confidence) or model_version_problem(model_version)
    if problem is not None:
        return Rejection(at(problem, item_where.format(index)))
    return Candidate(
        shape=shape,
        class_name=class_name,
        confidence=None if confidence is None else float(confidence),
        model_version=model_version or None,
        index=index,
    )


def confidence_problem(confidence: Any, *, name: str = "confidence") -> str | None:
    """Why a prediction's confidence (None: unknown) cannot be stored, or None."""
    if confidence is not None and not (is_number(confidence) and 0.0 <= confidence <= 1.0):
        return f"{name} must be a number in 0..1, got {confidence!r}"
    return None


def model_version_problem(model_version: Any) -> str | None:
    """Why a prediction's model_version (None or "": the fallback) cannot be stored, or None."""
    if model_version is None:
        return None
    if not isinstance(model_version, str):
        return "model_version must be a string"
    if len(model_version) > MAX_MODEL_VERSION_LENGTH:
        return f"model_version is longer than {MAX_MODEL_VERSION_LENGTH} characters"
    return None
