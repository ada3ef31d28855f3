"""What a case owes: its balance (the sum of its ledger) and the charges and money behind it.

The one place the services ask the ledger for a balance: the counter, payment posting, plans, refunds,
appeals and the case list all read it here (the set-based escalation and the exports, which total
the ledger of a million cases in one statement, write the same sum in their SQL).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desktop.domain.ledger import EntryKind
from desktop.persistence.models import LedgerEntry


def balance_of(session: Session, citation_id: int) -> int:
    """The balance of one case: the sum of its ledger (negative: a credit to refund)."""
    return int(session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0))
                              .where(LedgerEntry.citation_id == citation_id)) or 0)


#: cases whose balances one statement reads (a payment file's thousands in several)
BALANCE_CHUNK = 500


def balances(session: Session, ids: Sequence[int]) -> dict[int, int]:
    """The balance of each case: the sum of its ledger."""
    found: dict[int, int] = {}
    for start in range(0, len(ids), BALANCE_CHUNK):
        rows = session.execute(
            select(LedgerEntry.citation_id, func.sum(LedgerEntry.amount_cents))
            .where(LedgerEntry.citation_id.in_(ids[start:start + BALANCE_CHUNK]))
            .group_by(LedgerEntry.citation_id)
        ).all()
        found.update({int(cid): int(total or 0) for cid, total in rows})
    return {i: found.get(i, 0) for i in ids}


def ledger_money(session: Session, citation_id: int) -> tuple[int, int]:
    """(charges, paid): what the case charges and what the motorist has paid us and not had back.

    The balance is ``charges - paid``. Payments, returned payments (reversals of payments) and refunds
    count as money; everything else (fine, penalties, discounts, adjustments, waivers) as charges.
    """
    entries = list(session.scalars(select(LedgerEntry).where(LedgerEntry.citation_id == citation_id)))
    payment_entries = {e.id for e in entries if e.kind == EntryKind.PAYMENT.value}
    charges = paid = 0
    for e in entries:
        money = e.kind in (EntryKind.PAYMENT.value, EntryKind.REFUND.value) or (
            e.kind == EntryKind.REVERSAL.value and (e.payment_id is not None or e.reverses_id in payment_entries))
        if money:
            paid -= int(e.amount_cents)
        else:
            charges += int(e.amount_cents)
    return charges, paid
