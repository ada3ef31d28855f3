"""casework: drop the citation_id indexes of ledger_entries and notices (their unique (citation_id,
dedupe_key) indexes serve every lookup by case; the daily escalation inserts a million rows into each)

Revision ID: casework_0002
Revises: payments_0001
"""
from __future__ import annotations

from alembic import op

revision = "casework_0002"
down_revision = "payments_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_ledger_entries_citation_id", table_name="ledger_entries")
    op.drop_index("ix_notices_citation_id", table_name="notices")


def downgrade() -> None:
    op.create_index("ix_notices_citation_id", "notices", ["citation_id"])
    op.create_index("ix_ledger_entries_citation_id", "ledger_entries", ["citation_id"])
