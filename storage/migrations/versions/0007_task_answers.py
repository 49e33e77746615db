"""tasks.annotation_count of the tasks answered before overlap: their completed assignments

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 22:20:00.000000

A task's status follows its standing answers (tasks.annotation_count, the task's
completed assignments that are not ground-truth ones) and the project's
annotations_per_task. 0006 added the column at 0, so a task completed before it
would count no answer: its reopen would take the count below zero, and a change of
annotations_per_task would find it unanswered. The count is recounted from the rows.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    tasks = sa.table("tasks", sa.column("id"), sa.column("annotation_count"))
    assignments = sa.table(
        "assignments",
        sa.column("task_id"),
        sa.column("status"),
        sa.column("is_ground_truth"),
    )
    answers = (
        sa.select(sa.func.count())
        .select_from(assignments)
        .where(
            assignments.c.task_id == tasks.c.id,
            assignments.c.status == "completed",
            assignments.c.is_ground_truth == sa.false(),
        )
        .scalar_subquery()
    )
    op.execute(sa.update(tasks).values(annotation_count=answers))


def downgrade() -> None:
    # the column is 0006's; its values stay right for the rows
    pass
