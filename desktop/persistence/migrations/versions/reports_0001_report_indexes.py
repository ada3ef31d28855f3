"""reports: the indexes the management reports read their periods through (issue 18)

- citations (issued_at, officer, zone, code, profile, status, fine, approved_at): the citations and review
  reports count a period's citations from the index alone, never touching the table rows;
- ledger_entries (citation_id, effective_date, amount_cents): the receivables ageing adds up each case's ledger
  from the index alone;
- notices (mailed_at), appeals (filed_at), payment_plans (created_at): a period of each is found without a scan.

Revision ID: reports_0001
Revises: patrol_plan_0001
"""
from __future__ import annotations

from alembic import op

revision = "reports_0001"
down_revision = "patrol_plan_0001"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_citations_report", "citations", ["issued_at", "officer_badge", "zone_code", "violation_code", "profile_code",
                                          "status", "fine_cents", "approved_at"]),
    ("ix_ledger_owed", "ledger_entries", ["citation_id", "effective_date", "amount_cents"]),
    ("ix_notices_mailed_at", "notices", ["mailed_at"]),
    ("ix_appeals_filed_at", "appeals", ["filed_at"]),
    ("ix_payment_plans_created_at", "payment_plans", ["created_at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
