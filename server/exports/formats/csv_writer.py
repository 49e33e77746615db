"""csv: one row per task, for spreadsheets.

UTF-8 with a byte order mark so that Excel reads Chinese text correctly, CRLF
line ends (RFC 4180). Any cell that starts with `=`, `+`, `-`, `@`, a tab, CR
or LF gets a leading apostrophe so that a spreadsheet shows it as text instead
of evaluating it (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import BinaryIO

from server.display_ids import display_id
from server.exports.answers import answer
from server.exports.formats.base import (
    ExportContext,
    FormatWriter,
    iso_utc,
    stored_array_text,
)
from server.exports.formats.results import chosen_labels
from storage.export_records import ExportTask

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
        self._write_rows([COLUMNS])

    def write_batch(self, tasks: Sequence[ExportTask]) -> None:
        rows = []
        for task in tasks:
            latest = answer(task)
            if latest is None:
                annotator = labels = result = ""
            else:
                annotator = neutralize(latest.annotator)
                labels = neutralize(LABEL_SEPARATOR.join(chosen_labels(latest.result)))
                result = stored_array_text(latest.result_json)
            # Only the cells that come from users can start like a formula: ids,
            # statuses, ISO dates and JSON arrays cannot.
            rows.append(
                (
                    str(task.task_id),
                    display_id(task.task_id),
                    neutralize(task.external_id or ""),
                    neutralize(task.content),
                    task.status,
                    annotator,
                    iso_utc(task.completed_at) or "",
                    labels,
                    result,
                )
            )
        self._write_rows(rows)
        self.exported += len(tasks)

    def finish(self) -> None:
        pass

    def _write_rows(self, rows: Iterable[Sequence[str]]) -> None:
        """Format rows as csv in memory and write them in one go."""
        text = io.StringIO(newline="")
        csv.writer(text, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n").writerows(rows)
        self.out.write(text.getvalue().encode("utf-8"))
