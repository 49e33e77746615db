"""csv: one row per task, for spreadsheets.

UTF-8 with a byte order mark so that Excel reads Chinese text correctly, CRLF
line ends (RFC 4180). Any cell that starts with `=`, `+`, `-`, `@`, a tab, CR
or LF gets a leading apostrophe so that a spreadsheet shows it as text instead
of evaluating it (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import BinaryIO

import orjson

from server.exports.formats.base import ExportContext, FormatWriter, iso_utc
from server.exports.formats.results import chosen_labels
from storage.export_tasks import ExportTask

COLUMNS = (
    "task_id",
    "display_id",
    "external_id",
    "content",
    "status",
    "annotator",
    "completed_at",
    "labels",
    "result",
)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")
LABEL_SEPARATOR = "; "


def neutralize(cell: str) -> str:
    """Make a cell that a spreadsheet would evaluate read as plain text."""
    return "'" + cell if cell.startswith(FORMULA_PREFIXES) else cell


class CsvWriter(FormatWriter):
    def __init__(self, out: BinaryIO, context: ExportContext) -> None:
        super().__init__(out, context)
        out.write(b"\xef\xbb\xbf")
        self.text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        self.rows = csv.writer(self.text, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
        self.rows.writerow(COLUMNS)

    def write_batch(self, tasks: Sequence[ExportTask]) -> None:
        for task in tasks:
            latest = task.latest_annotation
            result = latest.result if latest else None
            cells = (
                str(task.task_id),
                task.display_id,
                task.external_id or "",
                task.content,
                task.status,
                latest.annotator if latest else "",
                iso_utc(task.completed_at) or "",
                LABEL_SEPARATOR.join(chosen_labels(result or [])),
                orjson.dumps(result).decode("utf-8") if result is not None else "",
            )
            self.rows.writerow([neutralize(cell) for cell in cells])
        self.exported += len(tasks)

    def finish(self) -> None:
        self.text.flush()
        # the caller owns `out`: leave it open when the wrapper goes away.
        self.text.detach()
