"""The currency the office takes its money in (the setting ``agency.currency``): every amount the payment side
writes (the payment screens, the services' messages, receipts, the daily close, ``main.py payments``) is in it.

An office takes money in one currency: a payment file in another is refused whole (``imports``). The case
screens write a case's money in the currency of its profile; an office with cases of several profiles still
takes, and writes payments in, its own currency (nothing is converted).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from desktop.services.core import settings
from desktop.services.core.context import AppContext


def office_currency(session: Session) -> str:
    """The office's currency as an upper-case ISO 4217 code (the setting as typed: " gbp" is GBP)."""
    return str(settings.get(session, "agency.currency")).strip().upper()


def read_office_currency(app: AppContext) -> str:
    """The office's currency read on its own: for an amount refused before its use case has opened a unit of
    work (an amount received that is not positive), or shown beside rows another workflow read (the cases the
    unmatched queue's search finds)."""
    with app.db.reading() as s:
        return office_currency(s)
