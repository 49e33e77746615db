"""pre-labelling loop: annotation parents and lead times, skips, queue indexes

Revision ID: 0002_prelabel_loop
Revises: 0001
Create Date: 2026-11-27 16:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0002_prelabel_loop"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("annotations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parent_prediction_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("lead_time_seconds", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("matches_parent", sa.Boolean(), nullable=True))
        batch_op.create_index(
            "ix_annotations_parent_prediction_id", ["parent_prediction_id"], unique=False
        )
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_assignments_user_id_status_task_id",
            ["user_id", "status", "task_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_assignments_user_id_project_id_status_task_id",
            ["user_id", "project_id", "status", "task_id"],
            unique=False,
        )
    with op.batch_alter_table("predictions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_predictions_project_id_model_version_task_id",
            ["project_id", "model_version", "task_id"],
            unique=False,
        )
    op.create_table(
        "task_skips",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("task_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_task_skips_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_task_skips_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_task_skips_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_skips")),
    )
    with op.batch_alter_table("task_skips", schema=None) as batch_op:
        batch_op.create_index("ix_task_skips_task_id_user_id", ["task_id", "user_id"], unique=False)
    op.create_table(
        "prediction_model_stats",
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("version_key", sa.String(length=256), nullable=False),
        sa.Column("model_version", sa.String(length=255), nullable=True),
        sa.Column("predictions", sa.Integer(), nullable=False),
        sa.Column("tasks_covered", sa.Integer(), nullable=False),
        sa.Column("from_prediction", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("without_use", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_prediction_model_stats_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "project_id", "version_key", name=op.f("pk_prediction_model_stats")
        ),
    )
    op.create_table(
        "prediction_lead_times",
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("version_key", sa.String(length=256), nullable=False),
        sa.Column("with_prelabel", sa.Boolean(), nullable=False),
        sa.Column("tenths", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_prediction_lead_times_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "project_id",
            "version_key",
            "with_prelabel",
            "tenths",
            name=op.f("pk_prediction_lead_times"),
        ),
    )


def downgrade() -> None:
    op.drop_table("prediction_lead_times")
    op.drop_table("prediction_model_stats")
    with op.batch_alter_table("task_skips", schema=None) as batch_op:
        batch_op.drop_index("ix_task_skips_task_id_user_id")
    op.drop_table("task_skips")
    with op.batch_alter_table("predictions", schema=None) as batch_op:
        batch_op.drop_index("ix_predictions_project_id_model_version_task_id")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_assignments_user_id_project_id_status_task_id")
        batch_op.drop_index("ix_assignments_user_id_status_task_id")
    with op.batch_alter_table("annotations", schema=None) as batch_op:
        batch_op.drop_index("ix_annotations_parent_prediction_id")
        batch_op.drop_column("matches_parent")
        batch_op.drop_column("lead_time_seconds")
        batch_op.drop_column("parent_prediction_id")
