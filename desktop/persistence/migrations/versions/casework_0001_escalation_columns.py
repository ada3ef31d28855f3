"""casework: escalation dates on citations, search indexes, shipped jurisdiction profiles as data

Revision ID: casework_0001
Revises: 43c1b0d3591c
"""
from __future__ import annotations

import json
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

from desktop.resources import resource

revision = "casework_0001"
down_revision = "43c1b0d3591c"
branch_labels = None
depends_on = None



def upgrade() -> None:
    with op.batch_alter_table("citations") as batch:
        batch.add_column(sa.Column("next_stage_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("held_days", sa.Integer(), server_default="0", nullable=False))
    op.create_index("ix_citation_status_stage_on", "citations", ["status", "next_stage_on", "stage"])
    op.create_index("ix_citation_status_action", "citations", ["status", "next_action"])
    op.create_index(op.f("ix_citations_address"), "citations", ["address"])
    op.create_index(op.f("ix_registered_owners_address_line1"), "registered_owners", ["address_line1"])

    # The shipped profiles become version 1 of each stored profile (a case uses the version in
    # force on its issue date; administrators add versions from the Administration screen).
    table = sa.table(
        "jurisdiction_profiles",
        sa.column("code", sa.String), sa.column("version", sa.Integer), sa.column("effective_from", sa.Date),
        sa.column("definition", sa.JSON), sa.column("created_at", sa.DateTime(timezone=True)),
    )
    conn = op.get_bind()
    have = {row[0] for row in conn.execute(sa.text("SELECT DISTINCT code FROM jurisdiction_profiles"))}
    now = datetime.now(UTC)
    if conn.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    rows = []
    for path in sorted(resource("profiles").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        data = data["versions"][-1] if isinstance(data, dict) and "versions" in data else data
        if data.get("code") in have:
            continue
        rows.append({"code": data["code"], "version": 1, "effective_from": date.fromisoformat(data["effective_from"]),
                     "definition": data, "created_at": now})
    if rows:
        op.bulk_insert(table, rows)


def downgrade() -> None:
    op.drop_index(op.f("ix_registered_owners_address_line1"), table_name="registered_owners")
    op.drop_index(op.f("ix_citations_address"), table_name="citations")
    op.drop_index("ix_citation_status_action", table_name="citations")
    op.drop_index("ix_citation_status_stage_on", table_name="citations")
    with op.batch_alter_table("citations") as batch:
        batch.drop_column("held_days")
        batch.drop_column("next_stage_on")
