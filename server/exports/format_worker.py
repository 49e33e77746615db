"""The process that formats an export: `python -m server.exports.format_worker`.

The server reads a project's rows from the database and sends them here one
batch at a time; this process builds the records, runs the format's writer
and writes the file, so reading and formatting use two cores (see
server/exports/format_process.py, which starts and drives it).

The conversation is pickled messages, each behind its length (4 bytes, big
endian): on stdin an `OpenFile`, then one `ExportTaskRows` per batch, then
`FINISH`; on stdout one reply, `Finished`, `Refused` or `Failed`, after which
the process exits. The end of stdin before `FINISH` (the server stopped the
export or died) ends the process without a reply. An error is printed to
stderr; one that prevents the reply (e.g. the file cannot be created) ends the
process with a non-zero status, and the server fails the export. This module
imports no database or gRPC code, so the process stays small (its memory is
part of what an export costs).
"""

from __future__ import annotations

import gc
import marshal
import os
import pickle
import struct
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from annotation_api.errors import DomainError
from server.exports.answers import add_consensus
from server.exports.formats.base import ExportContext
from server.exports.formats.registry import FORMATS
from server.exports.formats.warnings import listed_warnings
from storage.export_records import (
    ExportTask,
    ExportTaskRows,
    ExportWarning,
    assemble_export_tasks,
)

_LENGTH = struct.Struct(">I")
_PICKLED, _MARSHALLED_ROWS, _PICKLED_ROWS = b"p", b"m", b"r"
FINISH = "finish"


@dataclass(frozen=True, slots=True)
class OpenFile:
    """The export to write: its format, context and file (created here)."""

    format_name: str
    context: ExportContext
    path: Path


@dataclass(frozen=True, slots=True)
class Finished:
    """The file is complete: how many tasks it holds, and the tasks it holds
    incompletely (as the export reports them: see formats/warnings.py)."""

    exported: int
    warnings: list[ExportWarning]


@dataclass(frozen=True, slots=True)
class Refused:
    """The writer raised a DomainError (a refusal, or a task it cannot write)."""

    code: str
    message: str
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Failed:
    """Anything else went wrong: the error's class name (its traceback went to stderr)."""

    error_type: str


def frame(message: object) -> bytes:
    """A message as it goes through a pipe: its length, then its pickle; a
    batch of rows of plain values (SQLite's) goes as marshal data, which
    takes about half the time of pickle on both ends."""
    if isinstance(message, ExportTaskRows):
        columns: Any = (message.tasks, message.annotations, message.predictions)
        try:
            data = _MARSHALLED_ROWS + marshal.dumps(columns)
        except ValueError:  # e.g. datetimes (PostgreSQL's timestamps)
            data = _PICKLED_ROWS + pickle.dumps(columns, protocol=pickle.HIGHEST_PROTOCOL)
    else:
        data = _PICKLED + pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(data)) + data


def unframe(data: bytes) -> object:
    """The message of a frame's body (after its length)."""
    kind, body = data[:1], data[1:]
    if kind == _MARSHALLED_ROWS:
        return ExportTaskRows(*marshal.loads(body))
    # (from the process at the other end of the pipe: ours)
    message: object = pickle.loads(body)
    return ExportTaskRows(*message) if kind == _PICKLED_ROWS else message  # type: ignore[misc]


def message_length(header: bytes) -> int:
    """The length of the message whose 4-byte header this is."""
    return int(_LENGTH.unpack(header)[0])


HEADER_BYTES = _LENGTH.size


def _read_message(source: BinaryIO) -> object | None:
    """The next message, or None at the end of the input."""
    header = source.read(HEADER_BYTES)
    if len(header) < HEADER_BYTES:
        return None
    length = message_length(header)
    data = source.read(length)
    if len(data) < length:
        return None
    return unframe(data)


def _records(rows: ExportTaskRows, context: ExportContext) -> list[ExportTask]:
    """A batch's records, with each task's merged answer when consensus was asked."""
    tasks = assemble_export_tasks(rows)
    if context.consensus:
        add_consensus(
            tasks,
            labels=context.labels,
            iou_threshold=context.iou_threshold,
            weights=context.weights,
        )
    return tasks


def write_export(source: BinaryIO) -> Finished | Refused | Failed | None:
    """Write the export the messages on `source` describe; None when they stop early."""
    opening = _read_message(source)
    if not isinstance(opening, OpenFile):
        return None
    spec = FORMATS[opening.format_name]
    with opening.path.open("wb") as out:
        writer = spec.open_writer(out, opening.context)
        try:
            while True:
                message = _read_message(source)
                if isinstance(message, ExportTaskRows):
                    writer.write_batch(_records(message, opening.context))
                elif message == FINISH:
                    writer.finish()
                    warnings = writer.warnings
                    return Finished(
                        writer.exported, listed_warnings(warnings.listed, warnings.count)
                    )
                else:
                    writer.abort()
                    return None
        except DomainError as error:
            writer.abort()
            return Refused(error.code.value, error.message, dict(error.details))
        except Exception as error:
            traceback.print_exc()
            writer.abort()
            return Failed(type(error).__name__)
        except BaseException:
            writer.abort()
            raise


def main() -> None:
    # stdout carries the reply alone: anything printed goes to stderr.
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout = sys.stderr
    # Every task makes a few dozen short-lived objects without cycles; the
    # cyclic collector would walk them again and again (reference counting
    # frees them). The process ends with the export.
    gc.disable()
    try:
        reply = write_export(sys.stdin.buffer)
    except BaseException:
        traceback.print_exc()
        sys.exit(1)
    if reply is not None:
        replies.write(frame(reply))
        replies.flush()


if __name__ == "__main__":
    # Run the module's own copy (not this `__main__` one), so that the classes
    # of the messages are the ones pickle names on both sides.
    from server.exports import format_worker

    format_worker.main()
