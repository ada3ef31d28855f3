"""security: API tokens for unattended commands; sign-in lockouts that expire

Revision ID: security_sec_auth
Revises: security_sec_payments
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import desktop.persistence.types

revision = "security_sec_auth"
down_revision = "security_sec_payments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("locked_until", desktop.persistence.types.UTCDateTime(timezone=True),
                                   nullable=True))
    # An account locked before this revision was disabled for good; it stays disabled (an administrator
    # re-enables it), only new lockouts expire.
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", desktop.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("expires_at", desktop.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", desktop.persistence.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", desktop.persistence.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_api_tokens_user_id"), table_name="api_tokens")
    op.drop_table("api_tokens")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("locked_until")
