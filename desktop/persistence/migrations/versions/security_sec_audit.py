"""security: seal the audit head and the facts that matter with the office's audit key

`audit_head` gains `key_id` and `mac` (an HMAC of the head under a key kept outside the database);
citations, ledger entries, payments and users gain `row_mac`. Existing rows stay NULL until the first
checkpoint (the first `verify-audit` or daily run) seals them as they are then.

Revision ID: security_sec_audit
Revises: security_sec_auth
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "security_sec_audit"
down_revision = "security_sec_auth"
branch_labels = None
depends_on = None

_SEALED = ("citations", "ledger_entries", "payments", "users")


def upgrade() -> None:
    with op.batch_alter_table("audit_head") as batch:
        batch.add_column(sa.Column("key_id", sa.String(16), nullable=True))
        batch.add_column(sa.Column("mac", sa.String(64), nullable=True))
    for table in _SEALED:
        # a nullable column without default: an ALTER TABLE ADD COLUMN on both databases, no table copy
        op.add_column(table, sa.Column("row_mac", sa.String(64), nullable=True))


def downgrade() -> None:
    for table in _SEALED:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("row_mac")
    with op.batch_alter_table("audit_head") as batch:
        batch.drop_column("mac")
        batch.drop_column("key_id")
