"""quality control: review, overlap, agreement and ground truth

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 21:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import BigIntPK, UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ZERO = sa.text("0")


def _count(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), nullable=False, server_default=ZERO)


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.add_column(
            sa.Column("review_mode", sa.String(10), nullable=False, server_default="off")
        )
        batch.add_column(sa.Column("review_share", sa.Float(), nullable=True))
        batch.add_column(
            sa.Column(
                "annotations_per_task", sa.Integer(), nullable=False, server_default=sa.text("1")
            )
        )
        batch.add_column(
            sa.Column("ground_truth_rate", sa.Float(), nullable=False, server_default=ZERO)
        )
        batch.add_column(
            sa.Column("iou_threshold", sa.Float(), nullable=False, server_default=sa.text("0.5"))
        )
        for name in (
            "review_pending_count",
            "accepted_count",
            "rejected_count",
            "reviewed_count",
            "ground_truth_tasks",
        ):
            batch.add_column(_count(name))
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(
            sa.Column("is_ground_truth", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("agreement", sa.Float(), nullable=True))
        batch.add_column(_count("annotation_count"))
        batch.create_index(
            "ix_tasks_project_id_is_ground_truth_id", ["project_id", "is_ground_truth", "id"]
        )
    with op.batch_alter_table("assignments") as batch:
        batch.drop_constraint("uq_assignments_task_id", type_="unique")
        batch.create_unique_constraint("uq_assignments_task_id_user_id", ["task_id", "user_id"])
        batch.add_column(
            sa.Column("is_ground_truth", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("project_annotators") as batch:
        for name in ("review_pending_count", "accepted_count", "rejected_count"):
            batch.add_column(_count(name))
    with op.batch_alter_table("annotations") as batch:
        batch.add_column(sa.Column("review_status", sa.String(10), nullable=True))
        batch.add_column(sa.Column("reviewer_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("review_comment", sa.Text(), nullable=True))
        batch.add_column(sa.Column("reviewed_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("corrects_annotation_id", sa.BigInteger(), nullable=True))
        batch.add_column(
            sa.Column("is_ground_truth", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("agreement", sa.Float(), nullable=True))
        batch.add_column(sa.Column("ground_truth_score", sa.Float(), nullable=True))
        batch.create_foreign_key(
            "fk_annotations_reviewer_id_users", "users", ["reviewer_id"], ["id"]
        )
        batch.create_index(
            "ix_annotations_project_id_review_status_id", ["project_id", "review_status", "id"]
        )
    with op.batch_alter_table("exports") as batch:
        for name in ("accepted_only", "ground_truth_only", "consensus"):
            batch.add_column(
                sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.false())
            )
    op.create_table(
        "project_reviewers",
        sa.Column("project_id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_project_reviewers_project_id_projects",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_project_reviewers_user_id_users"
        ),
        sa.PrimaryKeyConstraint("project_id", "user_id", name="pk_project_reviewers"),
    )
    op.create_index("ix_project_reviewers_user_id", "project_reviewers", ["user_id"])
    op.create_table(
        "reviews",
        sa.Column("id", BigIntPK, autoincrement=True, nullable=False),
        sa.Column("annotation_id", BigIntPK, nullable=False),
        sa.Column("task_id", sa.BigInteger(), nullable=False),
        sa.Column("project_id", sa.String(32), nullable=False),
        sa.Column("reviewer_id", sa.String(32), nullable=False),
        sa.Column("verdict", sa.String(10), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("correction_annotation_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["annotation_id"],
            ["annotations.id"],
            name="fk_reviews_annotation_id_annotations",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_reviews_project_id_projects",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["reviewer_id"], ["users.id"], name="fk_reviews_reviewer_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_reviews"),
    )
    op.create_index("ix_reviews_annotation_id", "reviews", ["annotation_id"])
    op.create_index("ix_reviews_project_id_created_at", "reviews", ["project_id", "created_at"])
    op.create_table(
        "quality_scores",
        sa.Column("project_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("label", sa.String(255), nullable=False),
        sa.Column("score_sum", sa.Float(), nullable=False, server_default=ZERO),
        _count("score_count"),
        _count("matched"),
        _count("answered"),
        _count("expected"),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_quality_scores_project_id_projects",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "kind", "user_id", "label", name="pk_quality_scores"),
    )
    op.create_table(
        "agreement_coincidences",
        sa.Column("project_id", sa.String(32), nullable=False),
        sa.Column("value_a", sa.String(255), nullable=False),
        sa.Column("value_b", sa.String(255), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False, server_default=ZERO),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_agreement_coincidences_project_id_projects",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "project_id", "value_a", "value_b", name="pk_agreement_coincidences"
        ),
    )


def downgrade() -> None:
    op.drop_table("agreement_coincidences")
    op.drop_table("quality_scores")
    op.drop_index("ix_reviews_project_id_created_at", table_name="reviews")
    op.drop_index("ix_reviews_annotation_id", table_name="reviews")
    op.drop_table("reviews")
    op.drop_index("ix_project_reviewers_user_id", table_name="project_reviewers")
    op.drop_table("project_reviewers")
    with op.batch_alter_table("exports") as batch:
        for name in ("consensus", "ground_truth_only", "accepted_only"):
            batch.drop_column(name)
    with op.batch_alter_table("annotations") as batch:
        batch.drop_index("ix_annotations_project_id_review_status_id")
        batch.drop_constraint("fk_annotations_reviewer_id_users", type_="foreignkey")
        for name in (
            "ground_truth_score",
            "agreement",
            "is_ground_truth",
            "corrects_annotation_id",
            "reviewed_at",
            "review_comment",
            "reviewer_id",
            "review_status",
        ):
            batch.drop_column(name)
    with op.batch_alter_table("project_annotators") as batch:
        for name in ("rejected_count", "accepted_count", "review_pending_count"):
            batch.drop_column(name)
    with op.batch_alter_table("assignments") as batch:
        batch.drop_column("is_ground_truth")
        batch.drop_constraint("uq_assignments_task_id_user_id", type_="unique")
        batch.create_unique_constraint("uq_assignments_task_id", ["task_id"])
    with op.batch_alter_table("tasks") as batch:
        batch.drop_index("ix_tasks_project_id_is_ground_truth_id")
        for name in ("annotation_count", "agreement", "is_ground_truth"):
            batch.drop_column(name)
    with op.batch_alter_table("projects") as batch:
        for name in (
            "ground_truth_tasks",
            "reviewed_count",
            "rejected_count",
            "accepted_count",
            "review_pending_count",
            "iou_threshold",
            "ground_truth_rate",
            "annotations_per_task",
            "review_share",
            "review_mode",
        ):
            batch.drop_column(name)
