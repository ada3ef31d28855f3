"""scale: leaner indexes on citations and notices (issue 19: the first daily run at a million)

On PostgreSQL every new row, and every new version of a row whose indexed columns change (the daily run's
move of half a million cases to their first notice, a payment closing a case, the review checks' warnings),
is entered in every index of its table. ``citations`` had 19. Four of them did nothing for that cost:

* ``ix_citations_status`` and ``ix_citations_zone_code``: the composite indexes that start with those
  columns (``ix_citation_status_*``, ``ix_citation_zone_issued_status``) serve every look-up by them;
* ``ix_citations_vin`` and ``ix_citations_review_assignee_id``: a VIN is rarely written on a ticket and a
  citation is assigned to a reviewer only while it waits for review, so they hold only the rows that have one.

``notices``: a notice is queued without a batch and a mailing date; ``ix_notices_batch_id`` and
``ix_notices_mailed_at`` hold only the notices that have them. A query for ``column = x`` or a range of it
implies the value is there, so both databases still read those rows through the partial indexes.

Revision ID: scale_0001
Revises: payments_0002
"""
from __future__ import annotations

from alembic import op

revision = "scale_0001"
down_revision = "payments_0002"
branch_labels = None
depends_on = None

PARTIAL = (("ix_citations_vin", "citations", "vin"),
           ("ix_citations_review_assignee_id", "citations", "review_assignee_id"),
           ("ix_notices_batch_id", "notices", "batch_id"),
           ("ix_notices_mailed_at", "notices", "mailed_at"))


def upgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_citations_status")
    op.execute("DROP INDEX IF EXISTS ix_citations_zone_code")
    for name, table, column in PARTIAL:
        op.execute(f"DROP INDEX IF EXISTS {name}")
        op.execute(f"CREATE INDEX {name} ON {table} ({column}) WHERE {column} IS NOT NULL")


def downgrade() -> None:
    for name, table, column in PARTIAL:
        op.execute(f"DROP INDEX IF EXISTS {name}")
        op.execute(f"CREATE INDEX {name} ON {table} ({column})")
    op.execute("CREATE INDEX IF NOT EXISTS ix_citations_zone_code ON citations (zone_code)")
    op.execute("CREATE INDEX IF NOT EXISTS ix_citations_status ON citations (status)")
