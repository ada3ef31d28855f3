"""patrol: plans of the day, their beats and every saved version (issue 18)

Revision ID: patrol_plan_0001
Revises: plates_ocr_0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import desktop.persistence.types

revision = "patrol_plan_0001"
down_revision = "plates_ocr_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "patrol_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("constraints", sa.JSON(), nullable=False),
        sa.Column("roster", sa.JSON(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("saved_at", desktop.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("saved_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_plans")),
        sa.UniqueConstraint("day", name=op.f("uq_patrol_plans_day")),
    )
    op.create_table(
        "patrol_plan_beats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("officer_badge", sa.String(length=32), nullable=False),
        sa.Column("officer_name", sa.String(length=200), nullable=False),
        sa.Column("shift_start", sa.String(length=5), nullable=True),
        sa.Column("shift_minutes", sa.Integer(), nullable=False),
        sa.Column("stops", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["patrol_plans.id"], ondelete="CASCADE",
                                name=op.f("fk_patrol_plan_beats_plan_id_patrol_plans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_plan_beats")),
    )
    op.create_table(
        "patrol_plan_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("saved_at", desktop.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("saved_by", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["patrol_plans.id"], ondelete="CASCADE",
                                name=op.f("fk_patrol_plan_versions_plan_id_patrol_plans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_plan_versions")),
        sa.UniqueConstraint("plan_id", "version", name=op.f("uq_patrol_plan_versions_plan_id")),
    )
    with op.batch_alter_table("patrol_plan_beats", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_patrol_plan_beats_plan_id"), ["plan_id"], unique=False)
    with op.batch_alter_table("patrol_plan_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_patrol_plan_versions_plan_id"), ["plan_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("patrol_plan_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patrol_plan_versions_plan_id"))
    with op.batch_alter_table("patrol_plan_beats", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patrol_plan_beats_plan_id"))
    op.drop_table("patrol_plan_versions")
    op.drop_table("patrol_plan_beats")
    op.drop_table("patrol_plans")
