"""Which task each unit of an annotation import means, and where that task stands.

Label Studio units (in this order; the first that finds a task wins):

1. the task id the unit names (`display_id` "T-<id>", else `id`: our own json
   export writes both), within the project, when the unit's content
   (data.image / data.text) is absent or equal to that task's content. A Label
   Studio task id of another instance that happens to be one of this
   project's task ids does not match a task with other content;
2. the content: a task of the project with exactly that content (image
   projects: its file_path, by index); the first in project order, like a
   prediction import's `file_path`.

COCO units are matched by server.predictions.matching, exactly as a COCO
prediction import matches its images. Lookups are done in bulk, on the
connection given (never a query per unit).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from server.annotations_import.units import Unit
from server.predictions.entries import ImportTarget
from server.predictions.matching import match_entries
from server.vocabulary import IMAGE_TASK_TYPES, AssignmentStatus
from storage.annotation_import import TaskState, get_task_states


async def match_units(
    conn: AsyncConnection,
    target: ImportTarget,
    units: Sequence[Unit],
    *,
    id_range: tuple[int, int] | None,
    annotator_id: str,
) -> list[TaskState | None]:
    """The task of each unit (None: not found in the project, or a problem set on the
    unit by matching), in unit order, as annotator_id finds it (their assignment).
    id_range: the project's smallest and largest task id (a task id outside it is no
    task of the project, and is not looked up)."""
    if any(unit.entry is not None for unit in units):
        return await _match_coco(conn, target, units, annotator_id)
    project_id = target.project_id
    low, high = id_range or (0, -1)
    states = await get_task_states(
        conn,
        project_id,
        {
            unit.task_id
            for unit in units
            if unit.task_id is not None and low <= unit.task_id <= high and unit.problem is None
        },
        user_id=annotator_id,
        done=AssignmentStatus.COMPLETED,
    )
    matched: list[TaskState | None] = [None] * len(units)
    by_content: dict[int, str] = {}
    for index, unit in enumerate(units):
        if unit.problem is not None:
            continue
        state = states.get(unit.task_id) if unit.task_id is not None else None
        if state is not None and (unit.content is None or unit.content == state.content):
            matched[index] = state
        elif unit.content is not None:
            by_content[index] = unit.content
    if by_content:
        found = await get_task_states(
            conn,
            project_id,
            set(by_content.values()),
            by="file_path" if target.task_type in IMAGE_TASK_TYPES else "content",
            user_id=annotator_id,
            done=AssignmentStatus.COMPLETED,
        )
        for index, content in by_content.items():
            matched[index] = found.get(content)
    return matched


async def _match_coco(
    conn: AsyncConnection, target: ImportTarget, units: Sequence[Unit], annotator_id: str
) -> list[TaskState | None]:
    entries = [unit.entry for unit in units if unit.entry is not None]
    assert len(entries) == len(units)
    tasks = await match_entries(conn, target.project_id, entries, project_size=target.task_count)
    states = await get_task_states(
        conn,
        target.project_id,
        {task.task_id for task in tasks if task is not None},
        user_id=annotator_id,
        done=AssignmentStatus.COMPLETED,
    )
    matched: list[TaskState | None] = []
    for unit, entry, task in zip(units, entries, tasks, strict=True):
        if entry.problem is not None and unit.problem is None:
            unit.problem = entry.problem  # a file_name that names several tasks
        matched.append(states.get(task.task_id) if task is not None else None)
    return matched
