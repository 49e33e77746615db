"""The counters' changes of one transaction, summed from the lifecycle's moves and
handed to storage: one statement for the project (its counters and its status),
one per annotator whose counters moved. The caller holds the project's row lock.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from server.lifecycle.rules import AnnotatorCounts, TaskCounts, TaskMove, project_status_after
from server.vocabulary import ProjectStatus
from server.webhooks import events as webhook_events
from storage.projects import ProjectRecord, add_to_annotator_counters, add_to_task_counters


@dataclass(slots=True)
class Tally:
    """The sum of a transaction's moves."""

    counts: TaskCounts = field(default_factory=TaskCounts)
    annotators: defaultdict[str, AnnotatorCounts] = field(
        default_factory=lambda: defaultdict(AnnotatorCounts)
    )
    assigned: bool = False  # assignments were created

    def add(self, move: TaskMove) -> None:
        self.counts += move.counts
        self.annotators[move.user_id] += move.annotator
        self.assigned |= move.annotator.assigned > 0

    def assign(self, user_id: str, number: int) -> None:
        """`number` new assignments of one annotator (AssignTasks)."""
        self.annotators[user_id] += AnnotatorCounts(assigned=number)
        self.assigned |= number > 0

    def project_status(self, project: ProjectRecord) -> ProjectStatus:
        """The project's status once these moves are applied to its counters."""
        after = TaskCounts(project.total_tasks, project.completed_tasks, project.in_progress_tasks)
        return project_status_after(
            project.status, counts=after + self.counts, assigned=self.assigned
        )


async def apply_tally(
    conn: AsyncConnection,
    project: ProjectRecord,
    tally: Tally,
    *,
    now: datetime,
    touch: bool = True,
) -> ProjectStatus:
    """Move the project's and annotators' counters by the tally, and the project's status
    with them; returns that status. The project's row is written when its counters or
    status move, or when `touch` (its updated_at then moves, as after any change)."""
    status = tally.project_status(project)
    changed = status if status != project.status else None
    if tally.counts or changed is not None or touch:
        counts = tally.counts
        await add_to_task_counters(
            conn,
            project.project_id,
            now=now,
            total=counts.total,
            completed=counts.completed,
            in_progress=counts.in_progress,
            status=changed,
        )
    await webhook_events.project_status_changed(
        conn, project_id=project.project_id, before=project.status, after=status
    )
    for user_id in sorted(tally.annotators):
        moved = tally.annotators[user_id]
        if moved:
            await add_to_annotator_counters(
                conn,
                project.project_id,
                user_id,
                assigned=moved.assigned,
                completed=moved.completed,
                in_progress=moved.in_progress,
            )
    return status
