"""General-ledger postings: the chart of accounts and the double entry behind each case-ledger line.

The case ledger says what each motorist owes; the general ledger says where the agency's money
is. Every case-ledger entry becomes one debit and one credit of the same amount, so a day's
journal always balances. Money comes in through a *cash account* chosen by where it arrived
(counter drawer, bank, ACH, card processor). A payment nobody could match first sits in
*unapplied receipts* (2100) and moves to the receivable only when a clerk matches it.

Accounts (codes are the agency's to renumber; the names say what each holds):

====  ==========================================  =========================================
1010  Counter cash and cheques                    payments taken at the counter
1020  Bank deposits                               BAI2 bank statement and lockbox credits
1025  ACH collections                             NACHA debits the agency originated
1030  Card processor clearing                     card payments until the processor settles
1200  Citations receivable                        what motorists owe (sum of all case ledgers)
2100  Unapplied receipts                          money received but not yet matched to a case
2200  Refunds payable                             approved refunds of overpayments, until paid
4100  Fine revenue                                fines
4200  Late fee revenue                            penalties
4250  Late fees waived                            payment-plan waivers (contra revenue) and their reinstatement
4300  Fine discounts                              early-payment discounts (contra revenue)
4400  Ledger adjustments                          clerk adjustments and reversals of non-payment entries
5100  Write-offs                                  uncollectable balances written off
====  ==========================================  =========================================
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop.domain.ledger import EntryKind

ACCOUNTS: dict[str, str] = {
    "1010": "Counter cash and cheques",
    "1020": "Bank deposits",
    "1025": "ACH collections",
    "1030": "Card processor clearing",
    "1200": "Citations receivable",
    "2100": "Unapplied receipts",
    "2200": "Refunds payable",
    "4100": "Fine revenue",
    "4200": "Late fee revenue",
    "4250": "Late fees waived",
    "4300": "Fine discounts",
    "4400": "Ledger adjustments",
    "5100": "Write-offs",
}

RECEIVABLE = "1200"
UNAPPLIED = "2100"
REFUNDS_PAYABLE = "2200"

#: Where money from each payment source lands.
CASH_ACCOUNT_BY_SOURCE: dict[str, str] = {
    "counter": "1010",
    "bank": "1020",
    "lockbox": "1020",
    "ach": "1025",
    "processor": "1030",
}


def cash_account(source: str) -> str:
    """The cash account for a payment source; unknown sources go to the bank account."""
    return CASH_ACCOUNT_BY_SOURCE.get(source, "1020")


@dataclass(frozen=True)
class JournalLine:
    """One side of a posting: ``debit_cents`` or ``credit_cents`` is set (the other is zero)."""

    account: str
    debit_cents: int
    credit_cents: int
    memo: str


def _pair(debit: str, credit: str, cents: int, memo: str) -> list[JournalLine]:
    return [JournalLine(debit, cents, 0, memo), JournalLine(credit, 0, cents, memo)]


_INCREASE_ACCOUNT: dict[EntryKind, str] = {
    EntryKind.FINE: "4100",
    EntryKind.PENALTY: "4200",
    EntryKind.REINSTATEMENT: "4250",
}
_DECREASE_ACCOUNT: dict[EntryKind, str] = {
    EntryKind.LATE_FEE_WAIVER: "4250",
    EntryKind.DISCOUNT: "4300",
    EntryKind.WRITE_OFF: "5100",
}
_MEMO: dict[EntryKind, str] = {
    EntryKind.FINE: "Fines",
    EntryKind.PENALTY: "Late fees",
    EntryKind.REINSTATEMENT: "Waived late fees reinstated",
    EntryKind.LATE_FEE_WAIVER: "Late fees waived",
    EntryKind.DISCOUNT: "Discounts",
    EntryKind.WRITE_OFF: "Write-offs",
    EntryKind.ADJUSTMENT: "Adjustments",
    EntryKind.REFUND: "Refunds approved",
}


def entry_postings(kind: EntryKind, amount_cents: int, *, payment_source: str | None = None,
                   via_unapplied: bool = False) -> list[JournalLine]:
    """The debit and credit behind one case-ledger entry (amount in the case ledger's sign).

    ``payment_source`` is set for payments and for reversals of payments; ``via_unapplied`` says the
    payment first sat in unapplied receipts (matched by hand later), so applying it clears 2100
    instead of debiting cash a second time.
    """
    cents = abs(amount_cents)
    if kind is EntryKind.PAYMENT:
        source = payment_source or "bank"
        debit = UNAPPLIED if via_unapplied else cash_account(source)
        return _pair(debit, RECEIVABLE, cents, f"Payments applied ({source})")
    if kind is EntryKind.REVERSAL and payment_source is not None:
        # Money that left again (returned cheque, ACH return): the receivable comes back.
        if amount_cents > 0:
            return _pair(RECEIVABLE, cash_account(payment_source), cents, f"Payments reversed ({payment_source})")
        return _pair(cash_account(payment_source), RECEIVABLE, cents, f"Payment reversals undone ({payment_source})")
    if kind is EntryKind.REFUND:
        return _pair(RECEIVABLE, REFUNDS_PAYABLE, cents, _MEMO[kind])
    if kind in _INCREASE_ACCOUNT:
        return _pair(RECEIVABLE, _INCREASE_ACCOUNT[kind], cents, _MEMO[kind])
    if kind in _DECREASE_ACCOUNT:
        return _pair(_DECREASE_ACCOUNT[kind], RECEIVABLE, cents, _MEMO[kind])
    # Adjustments and reversals of other entries may go either way.
    memo = _MEMO.get(kind, "Reversals of ledger entries")
    if amount_cents > 0:
        return _pair(RECEIVABLE, "4400", cents, memo)
    return _pair("4400", RECEIVABLE, cents, memo)


def unapplied_receipt(amount_cents: int, source: str) -> list[JournalLine]:
    """Money received that no case was found for: it waits in unapplied receipts."""
    return _pair(cash_account(source), UNAPPLIED, abs(amount_cents), f"Unmatched receipts ({source})")


def unapplied_returned(amount_cents: int, source: str) -> list[JournalLine]:
    """An unmatched payment that was reversed (returned) before anyone matched it."""
    return _pair(UNAPPLIED, cash_account(source), abs(amount_cents), f"Unmatched receipts returned ({source})")


def is_balanced(lines: list[JournalLine]) -> bool:
    """Debits equal credits."""
    return sum(line.debit_cents for line in lines) == sum(line.credit_cents for line in lines)
