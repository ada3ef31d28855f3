"""payments: why a payment is unmatched, when and why it was reversed, what an import did

Revision ID: payments_0001
Revises: 43c1b0d3591c
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import desktop.persistence.types

revision = "payments_0001"
down_revision = "casework_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("match_note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("reversed_at", desktop.persistence.types.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("reversal_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("payment_imports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("summary", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payment_imports", schema=None) as batch_op:
        batch_op.drop_column("summary")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_column("reversal_reason")
        batch_op.drop_column("reversed_at")
        batch_op.drop_column("match_note")
