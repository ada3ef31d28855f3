"""mail-law: a registered owner's USPS delivery point (issue 15)

The 2-digit delivery point code the registry file gives with the ZIP+4 (the ZIP+4 itself is kept in
``zip`` as "12345-6789"); with both, the Intelligent Mail barcode's routing code has its 11 digits.

Revision ID: mail_law_0001
Revises: security_sec_postgres
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "mail_law_0001"
down_revision = "security_sec_postgres"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("registered_owners", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivery_point", sa.String(length=2), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("registered_owners", schema=None) as batch_op:
        batch_op.drop_column("delivery_point")
