"""Counter payments: cash, cheque and card; partial; across several cases of one owner; overpayment;
receipts; the drawer; and every figure the screens show equals the ledger to the cent."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from desktop.domain.errors import ConcurrencyConflict, PermissionDenied, UserError
from desktop.persistence.models import AuditEntry, Citation, LedgerEntry, Payment
from desktop.services.core.context import AppContext
from desktop.services.payments import daily_close, refunds
from desktop.services.payments import posting as payments
from tests.integration.payments.conftest import ledger_balance


def _status(app: AppContext, cid: int) -> str:
    with app.db.reading() as s:
        return s.scalar(select(Citation.status).where(Citation.id == cid))


def test_cash_in_full_closes_the_case_and_gives_a_receipt(app, people, make_case) -> None:
    cid = make_case("HH0001-000101", fine_cents=6300)
    result = payments.post_counter_payment(app, people["clerk"], [cid], 6300, "cash", payer_name="Maria Garcia",
                                           tendered_cents=10000)
    assert result.change_cents == 3700
    assert result.receipt_number.startswith("R261124-")
    assert ledger_balance(app, cid) == 0
    assert _status(app, cid) == "paid"
    data = payments.receipt_data(app, people["clerk"], result.payment_id, tendered_cents=10000)
    assert data["receipt_number"] == result.receipt_number
    assert data["payer_name"] == "Maria Garcia" and data["cashier"] == "Clerk" and data["method"] == "Cash"
    assert data["allocations"] == ({"citation_number": "HH0001-000101", "plate": "7ABC123", "applied_cents": 6300,
                                    "balance_after_cents": 0},)
    text = payments.receipt_text(data)
    assert "HH0001-000101" in text and "$63.00" in text and "$37.00" in text and "2026-11-24 10:00" in text
    with app.db.reading() as s:
        entry = s.scalar(select(LedgerEntry).where(LedgerEntry.payment_id == result.payment_id))
        assert entry.kind == "payment" and entry.amount_cents == -6300


def test_partial_payment_leaves_the_case_open(app, people, make_case) -> None:
    cid = make_case(fine_cents=9300)
    payments.post_counter_payment(app, people["clerk"], [cid], 4000, "cash")
    assert ledger_balance(app, cid) == 5300
    assert _status(app, cid) == "open"
    (row,) = payments.counter_lookup(app, people["clerk"], "7ABC123")
    assert row.balance_cents == 5300 == ledger_balance(app, cid)


def test_one_payment_across_an_owners_cases_oldest_first(app, people, make_case) -> None:
    newest = make_case("N-00002", days_ago=1, fine_cents=6800)
    oldest = make_case("N-00001", days_ago=30, fine_cents=6300)
    middle = make_case("N-00003", days_ago=10, fine_cents=9300)
    rows = payments.counter_lookup(app, people["clerk"], "7abc 123")
    assert [r.citation_number for r in rows] == ["N-00001", "N-00003", "N-00002"]
    assert all(r.primary for r in rows)
    result = payments.post_counter_payment(app, people["clerk"], [r.id for r in rows], 16000, "cheque",
                                           cheque_number="1042")
    assert [(a.citation_number, a.applied_cents) for a in result.allocations] == [("N-00001", 6300),
                                                                                 ("N-00003", 9300),
                                                                                 ("N-00002", 400)]
    assert (ledger_balance(app, oldest), ledger_balance(app, middle), ledger_balance(app, newest)) == (0, 0, 6400)
    assert _status(app, oldest) == _status(app, middle) == "paid" and _status(app, newest) == "open"
    with app.db.reading() as s:
        payment = s.get(Payment, result.payment_id)
        assert payment.cheque_number == "1042" and payment.method == "check" and payment.card_last4 is None


def test_citation_lookup_offers_the_owners_other_cases_unticked(app, people, make_case) -> None:
    make_case("A-00001", days_ago=20)
    make_case("A-00002", days_ago=5)
    make_case("B-00009", plate="8XYZ999")
    rows = payments.counter_lookup(app, people["clerk"], "a-00002")
    assert [(r.citation_number, r.primary) for r in rows] == [("A-00001", False), ("A-00002", True)]


def test_cases_of_different_owners_are_refused(app, people, make_case) -> None:
    a = make_case(plate="7ABC123")
    b = make_case(plate="8XYZ999")
    with pytest.raises(UserError, match="different registered owners"):
        payments.post_counter_payment(app, people["clerk"], [a, b], 12600, "cash")
    assert ledger_balance(app, a) == ledger_balance(app, b) == 6300


def test_overpayment_lands_in_the_refund_queue(app, people, make_case) -> None:
    cid = make_case(fine_cents=6300)
    result = payments.post_counter_payment(app, people["clerk"], [cid], 8300, "cash", confirmed_overpaid_cents=2000)
    assert result.overpaid_cents == 2000
    assert ledger_balance(app, cid) == -2000
    (row,) = refunds.refund_queue(app, people["clerk"])
    assert (row.citation_id, row.credit_cents) == (cid, 2000)
    assert refunds.unnoticed_overpayments(app, people["clerk"]) == []


@pytest.mark.parametrize("reference,last4", [
    ("4111 1111 1111 1111", "1111"),
    ("AUTH 4111-1111-1111-1111", "1111"),
    ("A1B2C3", "41111111111111111"),
])
def test_a_full_card_number_is_refused_and_nothing_is_stored(app, people, make_case, reference, last4) -> None:
    cid = make_case()
    with pytest.raises(UserError, match="full card number") as caught:
        payments.post_counter_payment(app, people["clerk"], [cid], 6300, "card", card_reference=reference,
                                      card_last4=last4)
    assert "4111 1111" not in str(caught.value)
    with app.db.reading() as s:
        assert s.scalar(select(Payment.id)) is None
        texts = [str(a.after) + str(a.reason) for a in s.scalars(select(AuditEntry))]
        assert not any("41111111" in t.replace(" ", "").replace("-", "") for t in texts)


def test_card_payment_keeps_reference_and_last_four_only(app, people, make_case) -> None:
    cid = make_case()
    result = payments.post_counter_payment(app, people["clerk"], [cid], 6300, "card", card_reference="AUTH 02211A",
                                           card_last4="4242")
    with app.db.reading() as s:
        p = s.get(Payment, result.payment_id)
        assert (p.method, p.card_last4, p.reference) == ("card", "4242", "AUTH 02211A")
    data = payments.receipt_data(app, people["clerk"], result.payment_id)
    assert data["method_detail"] == "card ending 4242, ref AUTH 02211A"
    with pytest.raises(UserError, match="last four digits"):
        payments.post_counter_payment(app, people["clerk"], [cid], 100, "card", card_reference="X", card_last4="42")


def test_cheque_needs_its_number(app, people, make_case) -> None:
    cid = make_case()
    with pytest.raises(UserError, match="cheque number"):
        payments.post_counter_payment(app, people["clerk"], [cid], 6300, "cheque")


def test_same_request_twice_posts_once(app, people, make_case) -> None:
    cid = make_case(fine_cents=6300)
    first = payments.post_counter_payment(app, people["clerk"], [cid], 3000, "cash", request_id="screen-1-42")
    again = payments.post_counter_payment(app, people["clerk"], [cid], 3000, "cash", request_id="screen-1-42")
    assert again.already_posted and again.payment_id == first.payment_id
    assert ledger_balance(app, cid) == 3300


def test_stale_screen_is_told_to_check_the_amount(app, people, make_case) -> None:
    cid = make_case(fine_cents=6300)
    (seen,) = payments.counter_lookup(app, people["clerk"], "7ABC123")
    payments.post_counter_payment(app, people["clerk2"], [cid], 6300, "cash")
    with pytest.raises(ConcurrencyConflict, match=r"balance is now \$0.00"):
        payments.post_counter_payment(app, people["clerk"], [cid], seen.balance_cents, "cash",
                                      expected_versions={cid: seen.version})
    assert ledger_balance(app, cid) == 0


def test_roles_and_states(app, people, make_case) -> None:
    cid = make_case()
    with pytest.raises(PermissionDenied):
        payments.post_counter_payment(app, people["hearing"], [cid], 6300, "cash")
    review = make_case(status="pending_review", plate="5REV001")
    with pytest.raises(UserError, match="pending review"):
        payments.post_counter_payment(app, people["clerk"], [review], 6300, "cash")
    with pytest.raises(UserError, match="positive|amount received"):
        payments.post_counter_payment(app, people["clerk"], [cid], 0, "cash")


def test_drawer_counts_payments_by_method_and_closes_with_the_difference(app, people, make_case, clock) -> None:
    clerk = people["clerk"]
    a, b, c = make_case(plate="1AAA111"), make_case(plate="2BBB222"), make_case(plate="3CCC333")
    daily_close.open_drawer(app, clerk, 20000)
    payments.post_counter_payment(app, clerk, [a], 6300, "cash")
    payments.post_counter_payment(app, clerk, [b], 6300, "cheque", cheque_number="77")
    payments.post_counter_payment(app, clerk, [c], 6300, "card", card_reference="T1", card_last4="0005")
    drawer = daily_close.my_drawer(app, clerk)
    assert (drawer.cash_cents, drawer.cheques_cents, drawer.card_cents) == (6300, 6300, 6300)
    assert drawer.expected_cash_cents == 26300
    closed = daily_close.close_drawer(app, clerk, 26000, 6300, note="short 3 dollars")
    assert closed.difference_cents == -300 and closed.is_closed
    assert closed.deposit_cents == 26000 - 20000 + 6300
    d = make_case(plate="4DDD444")
    with pytest.raises(UserError, match="already closed"):
        payments.post_counter_payment(app, clerk, [d], 100, "cash")
    daily_close.reopen_drawer(app, people["supervisor"], closed.id, "one more payment")
    assert not daily_close.my_drawer(app, clerk).is_closed


def test_system_account_cannot_take_counter_payments(app, people, make_case) -> None:
    from desktop.services.core.context import Actor

    cid = make_case()
    with pytest.raises(UserError, match="signed-in clerk"):
        payments.post_counter_payment(app, Actor.system("cli"), [cid], 6300, "cash")
