"""The counters' changes of one transaction, summed from the lifecycle's moves and
handed to storage: one statement for the project (its counters, its review
counters and its status), one per annotator whose counters moved (task and review
counters together). The caller holds the project's row lock. Every writer passes
here, so this is where the project's watchers are told of the change
(storage.changes: after the commit, on every server): the project's statement tells
them itself; moves of annotators' counters alone are told apart.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from server.lifecycle.review import ReviewCounts, ReviewMove
from server.lifecycle.rules import (
    AnnotatorCounts,
    TaskCounts,
    TaskMove,
    new_assignments,
    project_status_after,
    task_counts,
)
from server.vocabulary import ProjectStatus, TaskStatus
from server.webhooks import events as webhook_events
from storage.assignments import set_assignment_status
from storage.changes import note_project_change
from storage.projects import ProjectRecord, add_to_annotator_counters, add_to_task_counters
from storage.tasks import set_task_status


@dataclass(slots=True)
class Tally:
    """The sum of a transaction's moves."""

    counts: TaskCounts = field(default_factory=TaskCounts)
    annotators: defaultdict[str, AnnotatorCounts] = field(
        default_factory=lambda: defaultdict(AnnotatorCounts)
    )
    assigned: bool = False  # assignments were created
    review: ReviewCounts = field(default_factory=ReviewCounts)
    reviews: defaultdict[str, ReviewCounts] = field(
        default_factory=lambda: defaultdict(ReviewCounts)
    )

    def add_review(self, author_id: str, move: ReviewMove) -> None:
        """A move of the review status of an answer by author_id."""
        self.review += move.counts
        self.reviews[author_id] += move.counts

    def add(self, move: TaskMove) -> None:
        self.counts += move.counts
        self.annotators[move.user_id] += move.annotator
        self.assigned |= move.annotator.assigned > 0

    def assign(self, user_id: str, number: int, *, ground_truth: bool = False) -> None:
        """`number` new assignments of one annotator (AssignTasks; a ground-truth task's
        assignment moves no counter, server.lifecycle.rules.new_assignments)."""
        self.annotators[user_id] += new_assignments(number, ground_truth=ground_truth)
        self.assigned |= number > 0

    def settle(self, before: TaskStatus, after: TaskStatus) -> None:
        """A task's status moved without an assignment's move (annotations_per_task
        changed: server.workflow.configure)."""
        self.counts += task_counts(before, after)

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
    told = False  # the project's statement tells its watchers
    annotators_moved = False
    if tally.counts or tally.review or changed is not None or touch:
        told = True
        counts = tally.counts
        await add_to_task_counters(
            conn,
            project.project_id,
            now=now,
            total=counts.total,
            completed=counts.completed,
            in_progress=counts.in_progress,
            status=changed,
            review=tally.review,
        )
    await webhook_events.project_status_changed(
        conn, project_id=project.project_id, before=project.status, after=status
    )
    for user_id in sorted(tally.annotators.keys() | tally.reviews.keys()):
        moved = tally.annotators.get(user_id, AnnotatorCounts())
        reviewed = tally.reviews.get(user_id, ReviewCounts())
        if moved or reviewed:
            annotators_moved = True
            await add_to_annotator_counters(
                conn,
                project.project_id,
                user_id,
                assigned=moved.assigned,
                completed=moved.completed,
                in_progress=moved.in_progress,
                review_pending=reviewed.pending,
                accepted=reviewed.accepted,
                rejected=reviewed.rejected,
            )
    if annotators_moved and not told:
        await note_project_change(conn, project.project_id)
    return status


async def write_task_move(
    conn: AsyncConnection,
    task_id: int,
    move: TaskMove,
    *,
    now: datetime,
    image_size: tuple[int, int] | None = None,
) -> None:
    """Store a task move's statuses: the task's (and its standing answers) and the
    mover's assignment's (a move that removes the assignment deletes it elsewhere)."""
    await set_task_status(
        conn,
        task_id,
        status=move.target.task,
        now=now,
        completed=move.target.task == TaskStatus.COMPLETED,
        answers=move.answers,
        image_size=image_size,
    )
    if move.target.assignment is not None:
        await set_assignment_status(
            conn, task_id, move.user_id, status=move.target.assignment, now=now
        )
