"""golive-setup: an administrator's password reset makes the user choose a new one at the next sign-in

Revision ID: golive_setup_0001
Revises: desk_bulk_0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "golive_setup_0001"
down_revision = "desk_bulk_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("must_change_password", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("must_change_password")
