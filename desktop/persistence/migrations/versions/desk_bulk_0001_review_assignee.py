"""desk-bulk: a citation in review can be assigned to one clerk's queue (issue 16, bulk work)

Revision ID: desk_bulk_0001
Revises: security_sec_postgres
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "desk_bulk_0001"
down_revision = "security_sec_postgres"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("citations") as batch:
        batch.add_column(sa.Column("review_assignee_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_citations_review_assignee_id_users", "users", ["review_assignee_id"], ["id"])
    op.create_index(op.f("ix_citations_review_assignee_id"), "citations", ["review_assignee_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_citations_review_assignee_id"), table_name="citations")
    with op.batch_alter_table("citations") as batch:
        batch.drop_constraint("fk_citations_review_assignee_id_users", type_="foreignkey")
        batch.drop_column("review_assignee_id")
