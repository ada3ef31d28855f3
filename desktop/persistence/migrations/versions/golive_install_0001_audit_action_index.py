"""golive-install: index the audit trail by action, newest first, for the Activity screen and log (issue 17)

The Activity screen pages through the administrator's kinds of entry (sign-ins, payments posted, syncs,
notice runs...) newest first; without this index every page scanned the whole trail.

Revision ID: golive_install_0001
Revises: golive_setup_0001
"""
from __future__ import annotations

from alembic import op

revision = "golive_install_0001"
down_revision = "golive_setup_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_action_id", "audit_log", ["action", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_action_id", table_name="audit_log")
