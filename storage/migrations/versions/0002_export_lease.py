"""export lease: the process writing a running export and until when it holds it

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 16:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("exports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_owner", sa.String(length=100), nullable=True))
        batch_op.add_column(
            sa.Column("lease_expires_at", storage.types.UTCDateTime(), nullable=True)
        )
        batch_op.create_index(
            "ix_exports_status_lease_expires_at", ["status", "lease_expires_at"], unique=False
        )
    # Exports left running before leases existed have no owner that could still
    # renew them: their lease counts as run out, so the sweeper fails them.
    op.execute("UPDATE exports SET lease_expires_at = created_at WHERE status = 'running'")


def downgrade() -> None:
    with op.batch_alter_table("exports", schema=None) as batch_op:
        batch_op.drop_index("ix_exports_status_lease_expires_at")
        batch_op.drop_column("lease_expires_at")
        batch_op.drop_column("lease_owner")
