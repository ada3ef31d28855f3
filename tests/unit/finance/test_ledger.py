"""Ledger arithmetic: sign rules, balances, money parsing/formatting, spreading a payment over cases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop.domain.errors import UserError
from desktop.domain.ledger import (
    EntryKind,
    LedgerEntry,
    apply_payment_across,
    balance_cents,
    format_cents,
    overpayment_cents,
    parse_money,
    totals_by_kind,
    validate_entry,
)

AT = datetime(2024, 3, 5, 14, 30, tzinfo=UTC)


def entry(kind: EntryKind, cents: int, reverses: str | None = None) -> LedgerEntry:
    return LedgerEntry(kind, cents, AT, reference=f"{kind.value}-{cents}", reverses=reverses)


def test_balance_of_a_typical_case() -> None:
    entries = [
        entry(EntryKind.FINE, 7500),
        entry(EntryKind.PENALTY, 2500),
        entry(EntryKind.PAYMENT, -5000),
        entry(EntryKind.LATE_FEE_WAIVER, -2500),
    ]
    assert balance_cents(entries) == 2500
    assert overpayment_cents(entries) == 0
    assert totals_by_kind(entries) == {
        EntryKind.FINE: 7500, EntryKind.PENALTY: 2500, EntryKind.PAYMENT: -5000, EntryKind.LATE_FEE_WAIVER: -2500,
    }


def test_duplicate_payment_shows_as_overpayment_and_refund_clears_it() -> None:
    entries = [entry(EntryKind.FINE, 7500), entry(EntryKind.PAYMENT, -7500), entry(EntryKind.PAYMENT, -7500)]
    assert balance_cents(entries) == -7500
    assert overpayment_cents(entries) == 7500
    entries.append(entry(EntryKind.REFUND, 7500))
    assert balance_cents(entries) == 0 and overpayment_cents(entries) == 0


def test_reversal_of_a_payment_restores_the_debt() -> None:
    entries = [entry(EntryKind.FINE, 7500), entry(EntryKind.PAYMENT, -7500),
               entry(EntryKind.REVERSAL, 7500, reverses="payment--7500")]
    assert balance_cents(entries) == 7500


@pytest.mark.parametrize(
    ("kind", "cents", "message"),
    [
        (EntryKind.PAYMENT, 5000, "negative"),
        (EntryKind.FINE, -7500, "positive"),
        (EntryKind.PENALTY, -1, "positive"),
        (EntryKind.WRITE_OFF, 100, "negative"),
        (EntryKind.DISCOUNT, 100, "negative"),
        (EntryKind.LATE_FEE_WAIVER, 100, "negative"),
        (EntryKind.REFUND, -100, "positive"),
        (EntryKind.ADJUSTMENT, 0, "non-zero"),
    ],
)
def test_wrong_sign_is_refused_with_a_clerk_message(kind: EntryKind, cents: int, message: str) -> None:
    with pytest.raises(UserError, match=message):
        validate_entry(kind, cents)


def test_adjustments_go_either_way_and_reversal_needs_a_target() -> None:
    validate_entry(EntryKind.ADJUSTMENT, -500)
    validate_entry(EntryKind.ADJUSTMENT, 500)
    with pytest.raises(UserError, match="name the entry"):
        entry(EntryKind.REVERSAL, 500)


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError):
        LedgerEntry(EntryKind.FINE, 100, datetime(2024, 1, 1), reference="x")


@pytest.mark.parametrize(
    ("text", "cents"),
    [("$75.00 ", 7500), ("75", 7500), ("1,234.5", 123450), ("£12.30", 1230), ("-$5", -500), (".50", 50),
     ("0.07", 7), ("1,000,000.00", 100000000)],
)
def test_parse_money_accepts(text: str, cents: int) -> None:
    assert parse_money(text) == cents


@pytest.mark.parametrize("text", ["", "abc", "12.345", "1,23", "$", "7 5", "1e3", "NaN", "75.00$", "--5", "$-5"])
def test_parse_money_rejects_garbage(text: str) -> None:
    with pytest.raises(UserError, match="not an amount"):
        parse_money(text)


def test_format_cents() -> None:
    assert format_cents(123456) == "$1,234.56"
    assert format_cents(5, "GBP") == "£0.05"
    assert format_cents(-7500) == "-$75.00"
    assert format_cents(2500, "CAD") == "CAD 25.00"  # a bank statement's other currency: its ISO code
    assert format_cents(-2500, "CAD") == "-CAD 25.00"
    for garbage in ("cad", "EURO", "", "$"):
        with pytest.raises(ValueError, match="unsupported currency"):
            format_cents(1, garbage)


@given(st.integers(min_value=-10**13, max_value=10**13))
def test_format_then_parse_round_trips(cents: int) -> None:
    assert parse_money(format_cents(cents)) == cents
    assert parse_money(format_cents(cents, "GBP")) == cents


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=99))
def test_parse_plain_decimal(units: int, hundredths: int) -> None:
    assert parse_money(f"{units}.{hundredths:02d}") == units * 100 + hundredths


def test_apply_payment_across_oldest_first() -> None:
    applied, remainder = apply_payment_across([("old", 5000), ("paid", 0), ("new", 7500)], 10000)
    assert applied == [("old", 5000), ("new", 5000)]
    assert remainder == 0
    applied, remainder = apply_payment_across([("a", 1000)], 2500)
    assert applied == [("a", 1000)] and remainder == 1500
    with pytest.raises(UserError):
        apply_payment_across([("a", 1000)], 0)


@given(
    st.lists(st.tuples(st.text(min_size=1, max_size=5), st.integers(min_value=-5000, max_value=10**7)), max_size=20),
    st.integers(min_value=1, max_value=10**8),
)
def test_apply_payment_across_preserves_the_sum_and_never_over_applies(
    cases: list[tuple[str, int]], amount: int
) -> None:
    applied, remainder = apply_payment_across(cases, amount)
    assert sum(share for _, share in applied) + remainder == amount
    assert remainder >= 0
    assert all(share > 0 for _, share in applied)
    positive = [(case_id, balance) for case_id, balance in cases if balance > 0]
    for (case_id, share), (expected_id, balance) in zip(applied, positive, strict=False):
        assert case_id == expected_id and share <= balance
    if remainder > 0:
        assert sum(share for _, share in applied) == sum(balance for _, balance in positive)
