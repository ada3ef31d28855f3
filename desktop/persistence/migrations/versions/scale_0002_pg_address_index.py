"""scale: on PostgreSQL, no plain index on the violation's address (issue 19: each row version in one index fewer)

The address search reads a prefix: on SQLite as a range of ``ix_citations_address``; on PostgreSQL, under a
linguistic collation, only through the byte-ordered ``ix_citation_address_c`` (migration pgscale_0001), which
``queries.prefix`` writes its condition for. Nothing else looks citations up by address, so on PostgreSQL the
plain index was read by no query, yet every new citation and every new version of one (a payment closing a
case, the review checks' warnings, the daily run moving half a million cases at go-live) was entered in it.
SQLite keeps it (it updates a row in place and enters it only in the indexes of the columns that changed).

Revision ID: scale_0002
Revises: scale_0001
"""
from __future__ import annotations

from alembic import op

revision = "scale_0002"
down_revision = "scale_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_citations_address")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX IF NOT EXISTS ix_citations_address ON citations (address)")
