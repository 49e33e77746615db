"""ConfigureProject `quality`: a project's quality-control settings, in any status.

* Every field is optional; an absent one is unchanged. The limits are the proto's
  (`QualitySettings` options, read through server.field_limits): review_share and
  iou_threshold are above 0 and at most 1, ground_truth_rate 0 to 1,
  annotations_per_task 1 to 10. A number outside, or not a number (NaN), is
  INVALID_REQUEST naming the field (`quality.<field>`).
* review_mode sample needs a review_share (given now or stored before).
* annotations_per_task (N) may change while work is under way. Raising it: the
  completed tasks with fewer answers than the new N are in_progress again (they
  wait for more annotators; the project is no longer completed). Lowering it
  below the annotators a task already holds is refused (INVALID_STATE listing
  the tasks, `details.task_ids`): take assignments back first (UnassignTasks), so
  that no task ends with more answers than N. Lowering it to the answers a task
  has completes that task. Each status change moves the counters through the
  lifecycle (server.lifecycle), as a submit would.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from datetime import datetime

from annotation.v1 import common_pb2
from sqlalchemy.ext.asyncio import AsyncConnection

from server.field_limits import MAXIMUM, MINIMUM, field_limit
from server.lifecycle.apply import Tally, apply_tally
from server.lifecycle.rules import invalid_state, task_status_for
from server.projects.validation import invalid
from server.vocabulary import AssignmentStatus, ReviewMode, TaskStatus
from server.workflow.common import LISTED_IDS
from storage.projects import ProjectRecord
from storage.quality_settings import (
    QualitySettingsRecord,
    get_quality_settings,
    list_answered_tasks,
    list_tasks_over,
    set_quality_settings,
    set_tasks_status,
)

_SETTINGS = common_pb2.QualitySettings
# (field, smallest, largest, whether the smallest is excluded)
_RANGES = {
    name: (field_limit(_SETTINGS, name, MINIMUM), field_limit(_SETTINGS, name, MAXIMUM), above)
    for name, above in (
        ("review_share", True),
        ("annotations_per_task", False),
        ("ground_truth_rate", False),
        ("iou_threshold", True),
    )
}


@dataclass(frozen=True, slots=True)
class QualityChange:
    """The settings a ConfigureProject call gives (None: unchanged)."""

    review_mode: str | None = None
    review_share: float | None = None
    annotations_per_task: int | None = None
    ground_truth_rate: float | None = None
    iou_threshold: float | None = None

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) is not None for f in fields(self))


def check_quality(change: QualityChange) -> QualityChange:
    """INVALID_REQUEST naming the first field out of its range (module docstring)."""
    if change.review_mode is not None and change.review_mode not in set(ReviewMode):
        raise invalid(
            "quality.review_mode",
            f"review_mode {change.review_mode!r} is not one of {', '.join(ReviewMode)}",
        )
    for name, (low, high, above) in _RANGES.items():
        value = getattr(change, name)
        if value is None:
            continue
        too_low = value <= low if above else value < low
        if math.isnan(value) or too_low or value > high:
            bound = f"above {low}" if above else f"at least {low}"
            raise invalid(f"quality.{name}", f"{name} must be {bound} and at most {high}")
    return change


async def apply_quality(
    conn: AsyncConnection, project: ProjectRecord, change: QualityChange, *, now: datetime
) -> tuple[QualitySettingsRecord, str]:
    """Store the changed settings (the caller holds the project's row lock); returns the
    settings in force and the project's status."""
    current = await get_quality_settings(conn, project.project_id)
    given = {f.name: getattr(change, f.name) for f in fields(change)}
    settings = replace(current, **{k: v for k, v in given.items() if v is not None})
    if settings.review_mode == ReviewMode.SAMPLE and settings.review_share is None:
        raise invalid("quality.review_share", "review_mode sample needs a review_share")
    status = project.status
    if settings.annotations_per_task != current.annotations_per_task:
        status = await _settle_tasks(conn, project, settings.annotations_per_task, now=now)
    await set_quality_settings(conn, project.project_id, settings, now=now)
    return settings, status


async def _settle_tasks(
    conn: AsyncConnection, project: ProjectRecord, per_task: int, *, now: datetime
) -> str:
    """annotations_per_task becomes per_task: refuse when a task holds more annotators;
    move the tasks whose answers now (no longer) complete them."""
    over = await list_tasks_over(conn, project.project_id, annotators=per_task, limit=LISTED_IDS)
    if over:
        raise invalid_state(
            f"{len(over)} task(s) have more than {per_task} annotator(s); take assignments"
            " back (UnassignTasks) before lowering annotations_per_task",
            task_ids=[str(task_id) for task_id, _ in over],
            annotators=[count for _, count in over],
        )
    tally = Tally()
    moved: dict[TaskStatus, list[int]] = {}
    for task in await list_answered_tasks(
        conn, project.project_id, started=AssignmentStatus.IN_PROGRESS
    ):
        after = task_status_for(answers=task.answers, per_task=per_task, started=task.started)
        if after != task.status:
            tally.settle(TaskStatus(task.status), after)
            moved.setdefault(after, []).append(task.task_id)
    for status, task_ids in moved.items():
        await set_tasks_status(
            conn, task_ids, status=status, completed=status == TaskStatus.COMPLETED, now=now
        )
    return await apply_tally(conn, project, tally, now=now, touch=False)
