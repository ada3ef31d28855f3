"""payments: a unique identity from the bank's own identifiers (issue 14, finding 3)

Adds ``payments.identity_key`` (unique), backfilled for existing rows by
``desktop.domain.payment_identity.stored_identity_key``, the function the importers use. Payments
that an earlier version posted twice (the same bank payment from two encodings of one file) keep
the key on the first row only; the later rows are named in the log for a supervisor to reverse.

Revision ID: security_sec_payments
Revises: casework_0002
"""
from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

from desktop.domain.payment_identity import stored_identity_key

revision = "security_sec_payments"
down_revision = "casework_0002"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    # a plain ADD COLUMN and a unique index: no table rebuild, which SQLite refuses for a table that the
    # ledger's rows reference while foreign keys are on (a populated office)
    op.add_column("payments", sa.Column("identity_key", sa.String(length=64), nullable=True))
    bind = op.get_bind()
    payments = sa.table("payments", sa.column("id", sa.BigInteger), sa.column("source", sa.String),
                        sa.column("external_id", sa.String), sa.column("amount_cents", sa.BigInteger),
                        sa.column("value_date", sa.Date), sa.column("identity_key", sa.String))
    first_of: dict[str, int] = {}
    twice: list[tuple[int, int]] = []
    updates: list[dict[str, object]] = []
    rows = bind.execute(sa.select(payments.c.id, payments.c.source, payments.c.external_id,
                                  payments.c.amount_cents, payments.c.value_date).order_by(payments.c.id))
    for pid, source, external_id, amount, value_date in rows:
        key = stored_identity_key(str(source), str(external_id), int(amount), value_date)
        if key is None:
            continue
        if key in first_of:
            twice.append((int(pid), first_of[key]))
            continue
        first_of[key] = int(pid)
        updates.append({"pid": int(pid), "key": key})
    for start in range(0, len(updates), 1000):
        bind.execute(sa.update(payments).where(payments.c.id == sa.bindparam("pid"))
                     .values(identity_key=sa.bindparam("key")), updates[start:start + 1000])
    for pid, first in twice:
        log.warning("payment %s is the same bank payment as payment %s (posted twice by an earlier version); "
                    "check its case and reverse it", pid, first)
    op.create_index("uq_payments_identity_key", "payments", ["identity_key"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_payments_identity_key", table_name="payments")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_column("identity_key")
