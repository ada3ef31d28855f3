"""patrol statistics: covering indexes for a period's checks, shifts and citations per zone (issue 18)

The compliance map counts a period's rows per zone and hour; with these indexes both databases read the
index alone (no table row), which keeps a 90-day map of the 1,000,000-citation office under a second.

Revision ID: patrol_stats_0001
Revises: plates_ocr_0001
"""
from __future__ import annotations

from alembic import op

revision = "patrol_stats_0001"
down_revision = "plates_ocr_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_patrol_check_checked_zone", "patrol_checks", ["checked_at", "zone_code"])
    op.create_index("ix_patrol_shift_started_zone", "patrol_shifts", ["started_at", "zone_code", "ended_at"])
    op.create_index("ix_citation_issued_zone_status", "citations", ["issued_at", "zone_code", "status"])


def downgrade() -> None:
    op.drop_index("ix_citation_issued_zone_status", table_name="citations")
    op.drop_index("ix_patrol_shift_started_zone", table_name="patrol_shifts")
    op.drop_index("ix_patrol_check_checked_zone", table_name="patrol_checks")
