"""Display ids: a task's human-facing id, "T-<task_id>".

Task ids are global, so a display id names one task of one project. This is
the only place that builds or reads one.
"""

from __future__ import annotations

import re

PREFIX = "T-"
# how the form is spelled in error messages
FORM = "T-<number>"
_DISPLAY_ID = re.compile(r"T-(\d{1,18})")


def display_id(task_id: int) -> str:
    """The display id of a task."""
    return f"{PREFIX}{task_id}"


def parse_display_id(text: str) -> int | None:
    """The task id a display id names (surrounding blanks ignored), or None if it is not one."""
    found = _DISPLAY_ID.fullmatch(text.strip())
    return int(found.group(1)) if found is not None else None
