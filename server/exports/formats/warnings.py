"""The tasks an export writes incompletely, named in its result.

An export never fails for one task: a task a format cannot write whole (an
image whose size is unknown where the format needs pixels, a region that
cannot be drawn) is written as well as the format allows, and named here with
what is missing. The list is bounded: the first MAX_LISTED tasks are kept,
and the rest are counted (the summary entry of `listed_warnings`).
"""

from __future__ import annotations

from server.display_ids import display_id
from storage.export_records import ExportTask, ExportWarning

# How many tasks an export's warnings name; the others are counted.
MAX_LISTED = 100

SIZE_UNKNOWN_LEFT_OUT = (
    "left out of the file: the image's size is unknown (give the task metadata width and "
    "height, or open the task in the workbench, which records the size with each submit)"
)
SIZE_UNKNOWN_ROTATION = (
    "the image's size is unknown: its rotated rectangles were turned as if it were square, "
    "so their boxes are approximate"
)


def regions_left_out(count: int) -> str:
    """The warning for regions a format could not write."""
    regions = "region" if count == 1 else "regions"
    return (
        f"{count} {regions} left out: no label, a coordinate that is not a finite number, "
        "a width or height not above 0, fewer than 3 points, or nothing inside the image"
    )


class ExportWarnings:
    """The warnings of one export, one per task, the first MAX_LISTED kept."""

    __slots__ = ("count", "listed")

    def __init__(self) -> None:
        self.listed: list[ExportWarning] = []
        self.count = 0

    def add(self, task: ExportTask, *messages: str) -> None:
        """Name a task with what is missing (several messages: one warning)."""
        self.count += 1
        if len(self.listed) < MAX_LISTED:
            self.listed.append(
                ExportWarning(str(task.task_id), display_id(task.task_id), "; ".join(messages))
            )


def listed_warnings(listed: list[ExportWarning], count: int) -> list[ExportWarning]:
    """The warnings as an export reports them: those kept, then, when some were
    not kept, one entry without a task that counts them."""
    if count <= len(listed):
        return listed
    more = count - len(listed)
    return [
        *listed,
        ExportWarning(
            "",
            "",
            f"{more} more {'task was' if more == 1 else 'tasks were'} written incompletely "
            f"(the first {len(listed)} are listed)",
        ),
    ]
