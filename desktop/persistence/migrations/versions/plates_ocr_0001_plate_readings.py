"""plates: the plate read from each evidence photo (issue 20)

Revision ID: plates_ocr_0001
Revises: golive_install_0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import desktop.persistence.types

revision = "plates_ocr_0001"
down_revision = "golive_install_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plate_readings",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("photo_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("citation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("plate", sa.String(length=16), nullable=True),
        sa.Column("plate_key", sa.String(length=16), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("box", sa.JSON(), nullable=True),
        sa.Column("engine", sa.String(length=120), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("read_at", desktop.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("milliseconds", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["citation_id"], ["citations.id"],
                                name=op.f("fk_plate_readings_citation_id_citations")),
        sa.ForeignKeyConstraint(["photo_id"], ["evidence_photos.id"],
                                name=op.f("fk_plate_readings_photo_id_evidence_photos")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plate_readings")),
        sa.UniqueConstraint("photo_id", name=op.f("uq_plate_readings_photo_id")),
    )
    with op.batch_alter_table("plate_readings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plate_readings_citation_id"), ["citation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_plate_readings_plate"), ["plate"], unique=False)
        batch_op.create_index(batch_op.f("ix_plate_readings_plate_key"), ["plate_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("plate_readings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plate_readings_plate_key"))
        batch_op.drop_index(batch_op.f("ix_plate_readings_plate"))
        batch_op.drop_index(batch_op.f("ix_plate_readings_citation_id"))
    op.drop_table("plate_readings")
