"""desk-bulk: a citation in review can be assigned to one clerk's queue (issue 16, bulk work); the change
log through which SQLite workstations see each other's changes (issue 16, changes seen everywhere)

Revision ID: desk_bulk_0001
Revises: mail_law_0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "desk_bulk_0001"
down_revision = "mail_law_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("citations") as batch:
        batch.add_column(sa.Column("review_assignee_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_citations_review_assignee_id_users", "users", ["review_assignee_id"], ["id"])
    op.create_index(op.f("ix_citations_review_assignee_id"), "citations", ["review_assignee_id"])
    op.create_table(
        "change_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("origin", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.String(length=8000), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_log")),
    )


def downgrade() -> None:
    op.drop_table("change_log")
    op.drop_index(op.f("ix_citations_review_assignee_id"), table_name="citations")
    with op.batch_alter_table("citations") as batch:
        batch.drop_constraint("fk_citations_review_assignee_id_users", type_="foreignkey")
        batch.drop_column("review_assignee_id")
