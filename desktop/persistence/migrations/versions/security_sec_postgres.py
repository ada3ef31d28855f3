"""security: every text column people fill has a width PostgreSQL enforces (issue 14)

On PostgreSQL the free-text columns people fill (notes, reasons, statements, addresses, references)
become ``varchar(n)`` of the width the models declare; before each change the migration checks that the
rows already stored fit, and stops with the table, the column and how many rows are too long otherwise
(nothing is cut). SQLite stores text whatever the declared type, so nothing changes there (the
application checks the widths on both databases).

Revision ID: security_sec_postgres
Revises: security_sec_audit
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "security_sec_postgres"
down_revision = "security_sec_audit"
branch_labels = None
depends_on = None

#: (table, column, width): the columns that were TEXT (the widths of desktop.domain.text)
WIDTHS = (
    ("quarantine", "resolution", 4000),
    ("registered_owners", "address_raw", 500),
    ("citations", "remarks", 2000),
    ("case_notes", "text", 10_000),
    ("holds", "reason", 4000),
    ("payments", "reference", 1000),
    ("payments", "reversal_reason", 4000),
    ("refunds", "reason", 4000),
    ("refunds", "decision_note", 4000),
    ("appeals", "appellant_address", 500),
    ("appeals", "statement", 20_000),
    ("appeals", "late_override_reason", 4000),
    ("appeals", "decision_reason", 4000),
    ("hearings", "adjourned_reason", 4000),
    ("notices", "return_reason", 500),
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    too_long = []
    for table, column, width in WIDTHS:
        n = bind.execute(sa.text(f"SELECT COUNT(*) FROM {table} WHERE char_length({column}) > {width}")).scalar()
        if n:
            too_long.append(f"{table}.{column}: {n} rows longer than {width} characters")
    if too_long:
        raise RuntimeError("Some stored text is wider than its column is to become; shorten it, then upgrade "
                           "again (nothing was changed): " + "; ".join(too_long))
    for table, column, width in WIDTHS:
        op.alter_column(table, column, type_=sa.String(width), existing_type=sa.Text())


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, width in WIDTHS:
        op.alter_column(table, column, type_=sa.Text(), existing_type=sa.String(width))
