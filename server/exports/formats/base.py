"""What every export format shares: the context, the writer contract, and a
streaming JSON array.

A writer is pushed one batch of tasks at a time and writes to a binary file as
it goes; it keeps nothing per task beyond the current batch (formats that need
several sections spill them to scratch files). The service runs the writer in
a worker process (server/exports/format_worker.py), so that formatting never
blocks the event loop and uses a core of its own.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from annotation_api.errors import DomainError, ErrorCode
from server.exports.formats.warnings import ExportWarnings
from server.vocabulary import IMAGE_TASK_TYPES
from storage.export_records import ExportTask


@dataclass(frozen=True, slots=True)
class ExportContext:
    """What a writer knows about the export besides the tasks."""

    project_id: str
    project_name: str
    task_type: str
    # the project's label names, in label order: class ids and categories follow it.
    labels: tuple[str, ...]
    # a private directory for scratch files, removed by the caller afterwards.
    scratch_dir: Path
    created_at: datetime
    # consensus asked: the one-answer formats write each task's merged answer
    # (server/exports/answers.py), made at the project's IoU threshold with
    # each annotator's agreement score (by username) as weight.
    consensus: bool = False
    iou_threshold: float = 0.5
    weights: Mapping[str, float] = field(default_factory=dict)


class FormatWriter(ABC):
    """Writes one export file from batches of tasks."""

    # whether the format writes predictions (else they are not even read).
    uses_predictions = False

    def __init__(self, out: BinaryIO, context: ExportContext) -> None:
        self.out = out
        self.context = context
        # tasks written to the file: the export's total_exported.
        self.exported = 0
        # tasks written incompletely (or left out), named in the export's result.
        self.warnings = ExportWarnings()

    @abstractmethod
    def write_batch(self, tasks: Sequence[ExportTask]) -> None:
        """Write one batch of tasks (in task id order)."""

    @abstractmethod
    def finish(self) -> None:
        """Write whatever closes the file."""

    def abort(self) -> None:  # noqa: B027 - optional hook, nothing to do by default
        """Release scratch files after a failure or a refusal."""


class JsonLines:
    """Serialised array elements gathered for one write: ",\n" between them,
    "\n" before the first element of the array.

    Appending each element to one buffer as soon as it is serialised (rather
    than keeping a list of small bytes objects to join) lets the allocator
    reuse the same memory for every element: in measurements on 100,000 tasks
    this made serialisation several times faster.
    """

    __slots__ = ("_separator", "count", "data")

    def __init__(self, *, first: bool) -> None:
        self.data = bytearray()
        self.count = 0
        self._separator = b"\n" if first else b",\n"

    def add(self, element: bytes) -> None:
        self.data += self._separator
        self.data += element
        self._separator = b",\n"
        self.count += 1


class JsonArrayStream:
    """Writes a JSON array one element per line, a batch of elements per write."""

    def __init__(self, out: BinaryIO, *, option: int = 0) -> None:
        self.out = out
        self.option = option
        self.count = 0

    def open(self) -> None:
        self.out.write(b"[")

    def append(self, value: Any) -> None:
        self.extend((value,))

    def extend(self, values: Iterable[Any]) -> None:
        dumps, option = orjson.dumps, self.option
        buffer = JsonLines(first=self.count == 0)
        for value in values:
            try:
                buffer.add(dumps(value, option=option))
            except TypeError as error:
                raise unwritable_element(value, error) from error
        if buffer.count:
            self.out.write(buffer.data)
            self.count += buffer.count

    def close(self) -> None:
        self.out.write(b"\n]\n" if self.count else b"]\n")


def unwritable_element(value: Any, error: Exception) -> DomainError:
    """EXPORT_FAILED naming the task whose element could not be serialised."""
    task = value.get("display_id") or value.get("task_id") if isinstance(value, dict) else None
    where = f"task {task}" if task else "an element"
    return DomainError(
        ErrorCode.EXPORT_FAILED, f"{where} could not be written: {error}", {"task": task}
    )


def stored_array_text(text: str) -> str:
    """A stored Label Studio result as JSON text, without parsing it again.

    Storage holds results as orjson wrote them, which is exactly what parsing
    and dumping them again would give; text that is not an array reads as
    an empty result (as `ExportAnnotation.result` does).
    """
    return text if text.startswith("[") else "[]"


def iso_utc(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, as everywhere else in the API."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def task_data(task: ExportTask, task_type: str) -> dict[str, Any]:
    """The Label Studio data of a task: its metadata plus text or image."""
    key = "image" if task_type in IMAGE_TASK_TYPES else "text"
    return {**task.metadata, key: task.content}


def image_url(task: ExportTask) -> str:
    """Where a task's image is: its file_path, else its content."""
    return task.file_path or task.content
