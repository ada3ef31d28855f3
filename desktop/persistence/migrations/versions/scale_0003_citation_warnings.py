"""scale: the review checks' warnings in a narrow table of their own (issue 19: the user's sync on PostgreSQL)

Every sync writes the review checks' warnings of each citation it brought, right after storing it. As two
columns of ``citations`` (``review_warnings``, ``warning_count``) that write was, on PostgreSQL, a new
version of the whole row (about 900 bytes) entered in each of the table's fifteen indexes: 2.6 s of the
server's 7.5 s in a 30,000-citation sync. In ``citation_warnings`` it is a small row in one index, and a
citation without warnings has no row at all.

The warnings move over as they are (only the citations that have any), then the two columns go. Dropping a
column is ``ALTER TABLE … DROP COLUMN`` on both databases (SQLite since 3.35.0, 2021-03-12,
https://www.sqlite.org/lang_altertable.html#alter_table_drop_column); an older SQLite library rebuilds the
table (Alembic's batch mode).

Revision ID: scale_0003
Revises: scale_0002
"""
from __future__ import annotations

import sqlite3

import sqlalchemy as sa
from alembic import op

revision = "scale_0003"
down_revision = "scale_0002"
branch_labels = None
depends_on = None

_COLUMNS = ("review_warnings", "warning_count")


def _native_drop() -> bool:
    return op.get_bind().dialect.name != "sqlite" or sqlite3.sqlite_version_info >= (3, 35, 0)


def upgrade() -> None:
    big = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "citation_warnings",
        sa.Column("citation_id", big, autoincrement=False, nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["citation_id"], ["citations.id"],
                                name=op.f("fk_citation_warnings_citation_id_citations")),
        sa.PrimaryKeyConstraint("citation_id", name=op.f("pk_citation_warnings")),
    )
    op.execute("INSERT INTO citation_warnings (citation_id, warnings, count) "
               "SELECT id, review_warnings, warning_count FROM citations "
               "WHERE warning_count > 0 AND review_warnings IS NOT NULL")
    if _native_drop():
        for column in _COLUMNS:
            op.execute(f"ALTER TABLE citations DROP COLUMN {column}")
    else:
        with op.batch_alter_table("citations") as batch:
            for column in _COLUMNS:
                batch.drop_column(column)


def downgrade() -> None:
    # (ADD COLUMN is native on both: no table rebuild)
    op.add_column("citations", sa.Column("review_warnings", sa.JSON(), nullable=True))
    op.add_column("citations", sa.Column("warning_count", sa.Integer(), nullable=False, server_default="0"))
    op.execute("UPDATE citations SET review_warnings = (SELECT w.warnings FROM citation_warnings w "
               "WHERE w.citation_id = citations.id), warning_count = COALESCE((SELECT w.count FROM "
               "citation_warnings w WHERE w.citation_id = citations.id), 0)")
    op.execute("UPDATE citations SET review_warnings = '[]' WHERE review_warnings IS NULL")
    op.drop_table("citation_warnings")
