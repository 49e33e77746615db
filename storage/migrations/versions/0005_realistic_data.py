"""task image sizes, the project's pre-labelling model version, export warnings

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 19:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("image_width", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("image_height", sa.Integer(), nullable=True))
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("prelabel_model_version", sa.String(255), nullable=True))
    with op.batch_alter_table("exports") as batch:
        batch.add_column(sa.Column("warnings_json", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("exports") as batch:
        batch.drop_column("warnings_json")
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("prelabel_model_version")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("image_height")
        batch.drop_column("image_width")
