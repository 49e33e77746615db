"""What every workflow rule shares: id parsing, results, the locked task, the outcome."""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from server.access import check_task
from server.auth import Caller
from server.projects.validation import check_result, invalid
from server.vocabulary import AssignmentStatus
from storage.workflow import LockedTask, lock_task

# Ids listed in an error's details, at most.
LISTED_IDS = 20


def parse_id(text: str) -> int | None:
    """The integer of a task_id or annotation_id ("123"); None when it cannot be one."""
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        return None
    return int(text)


def parse_task_ids(task_ids: list[str]) -> list[int]:
    """Task ids in order; INVALID_REQUEST for one that is malformed or listed twice."""
    parsed: list[int] = []
    seen: set[int] = set()
    for index, text in enumerate(task_ids):
        number = parse_id(text)
        if number is None:
            raise invalid(f"task_ids[{index}]", f"{text!r} is not a task id")
        if number in seen:
            raise invalid(f"task_ids[{index}]", f"task {text} is listed twice")
        seen.add(number)
        parsed.append(number)
    return parsed


def parse_result(text: str) -> str:
    """An annotation's Label Studio result: a JSON array (of region objects)."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise invalid("result", "result is not valid JSON") from exc
    check_result(value)
    return orjson.dumps(value).decode()


MAX_LEAD_TIME_SECONDS = 366 * 24 * 3600.0


def check_lead_time(value: float | None) -> float | None:
    """lead_time_seconds: a finite number of seconds, 0 to a year; None when not given."""
    if value is None:
        return None
    if not 0 <= value <= MAX_LEAD_TIME_SECONDS:  # also refuses NaN
        raise invalid(
            "lead_time_seconds", f"lead_time_seconds must be 0 to {MAX_LEAD_TIME_SECONDS:.0f}"
        )
    return value


@dataclass(frozen=True, slots=True)
class TaskMoved:
    task_id: int
    status: str
    project_status: str
    annotation_id: int | None = None


async def locked_task(conn: AsyncConnection, caller: Caller, task_id: str) -> LockedTask:
    """The task, its project (row locked) and the caller's assignment (an admin's: the
    task's first); TASK_NOT_FOUND unless the caller may work on it (server.access)."""
    number = parse_id(task_id)
    locked = (
        await lock_task(conn, number, user_id=caller.user_id, started=AssignmentStatus.IN_PROGRESS)
        if number is not None
        else None
    )
    check_task(
        caller,
        task_id,
        project_owner_id=locked.project.owner_id if locked else None,
        assignee_id=locked.assignment.user_id if locked and locked.assignment else None,
    )
    assert locked is not None
    return locked
