"""pgscale: byte-ordered (COLLATE "C") indexes for the owner-name and address prefix searches on PostgreSQL

A database created under a linguistic collation (en_US.UTF-8, an ICU locale: what most installers pick)
cannot use a plain b-tree index for ``LIKE 'GARCIA%'``: PostgreSQL reads the whole table instead
(https://www.postgresql.org/docs/15/indexes-opclass.html). The searches now compare ``column COLLATE "C"``
(``desktop.services.cases.queries``), which these expression indexes serve under any database collation;
the owner-name index also carries the owner's id, the order the matches are listed in. SQLite compares
text byte by byte already (BINARY): nothing to do there.

Revision ID: pgscale_0001
Revises: reports_0001
"""
from __future__ import annotations

from alembic import op

revision = "pgscale_0001"
down_revision = "reports_0001"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_owner_name_key_c", "registered_owners", '(name_key COLLATE "C"), id'),
    ("ix_owner_address_line1_c", "registered_owners", '(address_line1 COLLATE "C")'),
    ("ix_citation_address_c", "citations", '(address COLLATE "C")'),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, table, columns in INDEXES:
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, _table, _columns in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
