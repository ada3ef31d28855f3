"""Case ledger arithmetic: entry kinds, sign rules, balances, money parsing and formatting.

A case's balance is never stored; it is the sum of its ledger entries, in integer cents.
Sign convention: a positive amount increases what the motorist owes (fine, penalty, a refund
paid out, the reversal of a payment, reinstated late fees); a negative amount decreases it
(payment, discount, write-off, late-fee waiver). Adjustments and reversals may go either way.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import TypeVar

from desktop.domain.errors import UserError


class EntryKind(str, Enum):
    """What a ledger entry records."""

    FINE = "fine"
    PENALTY = "penalty"
    DISCOUNT = "discount"
    PAYMENT = "payment"
    ADJUSTMENT = "adjustment"
    REFUND = "refund"
    REVERSAL = "reversal"
    WRITE_OFF = "write_off"
    LATE_FEE_WAIVER = "late_fee_waiver"
    REINSTATEMENT = "reinstatement"


# +1: the amount must be positive, -1: negative, 0: either sign (never zero).
_REQUIRED_SIGN: dict[EntryKind, int] = {
    EntryKind.FINE: 1,
    EntryKind.PENALTY: 1,
    EntryKind.REFUND: 1,
    EntryKind.REINSTATEMENT: 1,
    EntryKind.DISCOUNT: -1,
    EntryKind.PAYMENT: -1,
    EntryKind.WRITE_OFF: -1,
    EntryKind.LATE_FEE_WAIVER: -1,
    EntryKind.ADJUSTMENT: 0,
    EntryKind.REVERSAL: 0,
}

_KIND_WORDS: dict[EntryKind, str] = {
    EntryKind.FINE: "A fine",
    EntryKind.PENALTY: "A penalty",
    EntryKind.REFUND: "A refund",
    EntryKind.REINSTATEMENT: "A reinstatement of waived fees",
    EntryKind.DISCOUNT: "A discount",
    EntryKind.PAYMENT: "A payment",
    EntryKind.WRITE_OFF: "A write-off",
    EntryKind.LATE_FEE_WAIVER: "A late-fee waiver",
    EntryKind.ADJUSTMENT: "An adjustment",
    EntryKind.REVERSAL: "A reversal",
}


@dataclass(frozen=True)
class LedgerEntry:
    """One line of a case ledger. ``amount_cents`` follows the module's sign convention."""

    kind: EntryKind
    amount_cents: int
    at: datetime
    reference: str
    memo: str = ""
    payment_ref: str | None = None
    reverses: str | None = None

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError("LedgerEntry.at must be timezone-aware")
        validate_entry(self.kind, self.amount_cents)
        if self.kind is EntryKind.REVERSAL and not self.reverses:
            raise UserError("A reversal must name the entry it reverses.")


def validate_entry(kind: EntryKind, amount_cents: int) -> None:
    """Refuse an amount whose sign does not fit its kind, with a message for the clerk."""
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int):
        raise UserError("Amounts are whole cents; this one is not a whole number of cents.")
    what = _KIND_WORDS[kind]
    if amount_cents == 0:
        raise UserError(f"{what} of {format_cents(0)} would change nothing; enter a non-zero amount.")
    sign = _REQUIRED_SIGN[kind]
    if sign > 0 and amount_cents < 0:
        raise UserError(
            f"{what} increases what the motorist owes, so its amount must be positive "
            f"(got {format_cents(amount_cents)})."
        )
    if sign < 0 and amount_cents > 0:
        raise UserError(
            f"{what} reduces what the motorist owes, so it is recorded as a negative amount "
            f"(got {format_cents(amount_cents)})."
        )


def balance_cents(entries: Iterable[LedgerEntry]) -> int:
    """What the motorist owes now: the sum of all entries (negative means in credit)."""
    return sum(entry.amount_cents for entry in entries)


def totals_by_kind(entries: Iterable[LedgerEntry]) -> dict[EntryKind, int]:
    """Sum of amounts per entry kind; kinds with no entries are left out."""
    totals: dict[EntryKind, int] = {}
    for entry in entries:
        totals[entry.kind] = totals.get(entry.kind, 0) + entry.amount_cents
    return totals


def overpayment_cents(entries: Iterable[LedgerEntry]) -> int:
    """How much the agency holds beyond what is owed (> 0 only when the balance is negative)."""
    balance = balance_cents(entries)
    return -balance if balance < 0 else 0


def overpayment_needs_confirmation(overpaid_cents: int, owed_cents: int, limit_cents: int,
                                   limit_percent: int) -> bool:
    """Whether money taken beyond what is owed is large enough that the clerk must confirm it first
    ($200 on a $94 balance, or 2000 typed for 20.00): more than ``limit_cents``, or more than
    ``limit_percent`` % of what is owed. Exactly at a limit needs no confirmation; nothing over, never."""
    if overpaid_cents <= 0:
        return False
    return overpaid_cents > max(limit_cents, 0) or overpaid_cents * 100 > max(owed_cents, 0) * max(limit_percent, 0)


CaseId = TypeVar("CaseId", bound=Hashable)


def apply_payment_across(
    cases: Sequence[tuple[CaseId, int]], amount_cents: int
) -> tuple[list[tuple[CaseId, int]], int]:
    """Spread one payment over several cases of the same owner.

    ``cases`` are ``(case_id, balance_cents)`` pairs, oldest first; each is paid off in that order
    until the money runs out. Cases with nothing owed are skipped. Returns the allocations (only
    cases that receive money, each as a positive number of cents) and the unapplied remainder,
    which is an overpayment for the refund queue. The allocations plus the remainder always equal
    ``amount_cents`` and no case receives more than its balance.
    """
    if amount_cents <= 0:
        raise UserError(f"A payment to apply must be positive (got {format_cents(amount_cents)}).")
    remaining = amount_cents
    applied: list[tuple[CaseId, int]] = []
    for case_id, balance in cases:
        if remaining == 0:
            break
        if balance <= 0:
            continue
        share = min(balance, remaining)
        applied.append((case_id, share))
        remaining -= share
    return applied, remaining


_CURRENCY_SYMBOLS: dict[str, str] = {"USD": "$", "GBP": "£"}
#: the ISO 4217 currencies the documents can print (a profile in any other is refused)
PRINTABLE_CURRENCIES = frozenset(_CURRENCY_SYMBOLS)


def currency_symbol(currency: str) -> str:
    """``"GBP"`` -> ``"£"``: the sign printed before an amount in ``currency`` (one of ``PRINTABLE_CURRENCIES``)."""
    try:
        return _CURRENCY_SYMBOLS[currency]
    except KeyError:
        raise ValueError(f"unsupported currency {currency!r}") from None


def format_cents(cents: int, currency: str = "USD") -> str:
    """``123456`` -> ``"$1,234.56"``; negative amounts get a leading minus (``"-$5.00"``). A currency without a
    sign here (a bank statement's CAD account, say) is written with its ISO code: ``"CAD 1,234.56"``."""
    if currency not in _CURRENCY_SYMBOLS and len(currency) == 3 and currency.isalpha() and currency.isupper():
        symbol = f"{currency} "
    else:
        symbol = currency_symbol(currency)
    sign = "-" if cents < 0 else ""
    units, hundredths = divmod(abs(cents), 100)
    return f"{sign}{symbol}{units:,}.{hundredths:02d}"


_MONEY_RE = re.compile(
    r"""^(?P<sign>-)?\s*[$£]?\s*
        (?P<units>\d{1,3}(?:,\d{3})+|\d{1,12})?
        (?:\.(?P<fraction>\d{1,2}))?$""",
    re.VERBOSE,
)


def parse_money(text: str) -> int:
    """Read an amount typed by a clerk or found in a file into cents, without ever using floats.

    Accepts ``"$75.00 "``, ``"75"``, ``"1,234.5"``, ``"£12.30"``, ``"-$5"``, ``".50"``. Refuses
    anything else (letters, three decimals, wrong thousands grouping) with a UserError.
    """
    cleaned = text.strip()
    match = _MONEY_RE.match(cleaned)
    if not cleaned or match is None or (match["units"] is None and match["fraction"] is None):
        raise UserError(
            f"{text.strip()!r} is not an amount of money. Type it like 75, 75.00 or $1,234.50."
        )
    units = int(match["units"].replace(",", "")) if match["units"] else 0
    fraction = (match["fraction"] or "").ljust(2, "0")
    cents = units * 100 + (int(fraction) if fraction else 0)
    return -cents if match["sign"] else cents
