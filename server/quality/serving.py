"""Ground-truth tasks mixed into an annotator's work, unmarked.

`serve_ground_truth` runs in the transaction that hands an annotator their next
task (NextTask), under the project's row lock. When the lifecycle's rule
(server.lifecycle.ground_truth.serves_ground_truth) says the next task is a
ground-truth one, it creates an assignment with is_ground_truth = true for the
project's first ground-truth task the annotator has neither been handed nor
answered, and returns that task; else None. The assignment moves no counter.
The annotator sees an ordinary task (TaskDetail.ground_truth is false for
them, and the known answer, another user's annotation, is not shown to them);
their answer is scored against the known one (server.quality.scoring).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from server.auth import Caller
from server.lifecycle.ground_truth import serves_ground_truth
from server.vocabulary import AssignmentStatus
from storage.database import Database
from storage.projects import get_project
from storage.quality_serving import (
    insert_ground_truth_assignment,
    load_served_counts,
    next_ground_truth_task,
)
from storage.task_detail import TaskDetailRecord, load_task_detail
from storage.types import utcnow


async def serve_ground_truth(
    conn: AsyncConnection, *, project_id: str, user_id: str, now: datetime
) -> int | None:
    """The ground-truth task handed to user_id now, with its assignment, or None."""
    counts = await load_served_counts(
        conn, project_id, user_id, done_status=AssignmentStatus.COMPLETED
    )
    if counts is None or not serves_ground_truth(
        rate=counts.rate,
        answered=counts.answered,
        served=counts.served,
        open_served=counts.open_served,
    ):
        return None
    task_id = await next_ground_truth_task(conn, project_id, user_id)
    if task_id is None:
        return None
    await insert_ground_truth_assignment(
        conn,
        project_id=project_id,
        task_id=task_id,
        user_id=user_id,
        status=AssignmentStatus.ASSIGNED,
        now=now,
    )
    return task_id


async def next_ground_truth_detail(
    database: Database, caller: Caller, project_id: str
) -> TaskDetailRecord | None:
    """NextTask's ground-truth turn: the task served to the caller now (in its own
    transaction, under the project's row lock), as the caller sees it: their own
    assignment, none of the others' annotations (the known answer among them); or None."""
    async with database.transaction() as conn:
        await get_project(conn, project_id, for_update=True)
        task_id = await serve_ground_truth(
            conn, project_id=project_id, user_id=caller.user_id, now=utcnow()
        )
        detail = (
            await load_task_detail(conn, task_id, viewer_id=caller.user_id)
            if task_id is not None
            else None
        )
    if detail is None:
        return None
    return replace(
        detail,
        assignee_id=caller.user_id,
        assignee_name=caller.username,
        annotations=[a for a in detail.annotations if a.user_id == caller.user_id],
    )
