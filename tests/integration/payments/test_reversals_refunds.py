"""Reversals reinstate what a payment paid and reopen the case; refunds need another supervisor's
approval; nothing overpaid goes unnoticed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from desktop.domain.errors import PermissionDenied, UserError
from desktop.persistence.models import Citation, LedgerEntry, Notice, Refund
from desktop.services.payments import posting as payments
from desktop.services.payments import refunds
from tests.integration.payments.conftest import ledger_balance


def test_bounced_cheque_reversal_reinstates_and_reopens(app, people, make_case) -> None:
    a = make_case("R-00001", days_ago=20, fine_cents=6300)
    b = make_case("R-00002", days_ago=2, fine_cents=9300)
    paid = payments.post_counter_payment(app, people["clerk"], [a, b], 10000, "cheque", cheque_number="5510")
    assert (ledger_balance(app, a), ledger_balance(app, b)) == (0, 5600)
    with pytest.raises(PermissionDenied):
        payments.reverse_payment(app, people["clerk"], paid.payment_id, "cheque bounced")
    with pytest.raises(UserError, match="reason"):
        payments.reverse_payment(app, people["supervisor"], paid.payment_id, "  ")
    result = payments.reverse_payment(app, people["supervisor"], paid.payment_id, "cheque 5510 returned unpaid")
    assert result.reinstated_cents == 10000 and result.reopened == ("R-00001",) and result.letters_queued == 2
    assert (ledger_balance(app, a), ledger_balance(app, b)) == (6300, 9300)
    with app.db.reading() as s:
        assert s.get(Citation, a).status == "open"
        kinds = sorted(n.kind for n in s.scalars(select(Notice)))
        assert kinds == ["reversal_letter", "reversal_letter"]
        reversals = list(s.scalars(select(LedgerEntry).where(LedgerEntry.kind == "reversal")))
        assert sorted(e.amount_cents for e in reversals) == [3700, 6300]
    with pytest.raises(UserError, match="already reversed"):
        payments.reverse_payment(app, people["supervisor"], paid.payment_id, "again")
    assert ledger_balance(app, a) == 6300


def _overpaid(app, people, make_case, extra: int = 2000) -> int:
    cid = make_case(fine_cents=6300)
    payments.post_counter_payment(app, people["clerk"], [cid], 6300 + extra, "cash", payer_name="Lin Park",
                                   confirmed_overpaid_cents=extra)
    return cid


def test_refund_approved_by_another_supervisor(app, people, make_case) -> None:
    cid = _overpaid(app, people, make_case)
    rid = refunds.request_refund(app, people["clerk"], cid, reason="paid twice")
    (row,) = refunds.refund_queue(app, people["clerk"])
    assert (row.refund_id, row.refund_cents, row.requested_by, row.last_payer) == (rid, 2000, "Clerk", "Lin Park")
    with pytest.raises(PermissionDenied):
        refunds.approve_refund(app, people["clerk2"], rid)
    refunds.approve_refund(app, people["supervisor"], rid, note="checked the receipts")
    assert ledger_balance(app, cid) == 0
    assert refunds.refund_queue(app, people["clerk"]) == []
    with app.db.reading() as s:
        refund = s.get(Refund, rid)
        assert (refund.status, refund.payee_name) == ("approved", "Lin Park")
        entry = s.scalar(select(LedgerEntry).where(LedgerEntry.kind == "refund"))
        assert entry.amount_cents == 2000
        assert s.scalar(select(Notice.kind).where(Notice.citation_id == cid)) == "refund_letter"
    with pytest.raises(UserError, match="already approved"):
        refunds.approve_refund(app, people["supervisor2"], rid)


def test_a_supervisor_may_not_approve_their_own_request(app, people, make_case) -> None:
    cid = _overpaid(app, people, make_case)
    rid = refunds.request_refund(app, people["supervisor"], cid, reason="duplicate payment")
    with pytest.raises(UserError, match="another supervisor"):
        refunds.approve_refund(app, people["supervisor"], rid)
    with pytest.raises(UserError, match="another supervisor"):
        refunds.reject_refund(app, people["supervisor"], rid, "no")
    refunds.approve_refund(app, people["supervisor2"], rid)
    assert ledger_balance(app, cid) == 0


def test_rejected_request_keeps_the_case_in_the_queue(app, people, make_case) -> None:
    cid = _overpaid(app, people, make_case)
    rid = refunds.request_refund(app, people["clerk"], cid, reason="overpaid")
    with pytest.raises(UserError, match="why"):
        refunds.reject_refund(app, people["supervisor"], rid, " ")
    refunds.reject_refund(app, people["supervisor"], rid, "payer asked to apply it to a new citation")
    (row,) = refunds.refund_queue(app, people["clerk"])
    assert row.refund_id is None and row.credit_cents == 2000 and row.last_decision.startswith("rejected")
    assert refunds.unnoticed_overpayments(app, people["clerk"]) == []


def test_request_rules(app, people, make_case) -> None:
    cid = _overpaid(app, people, make_case)
    with pytest.raises(UserError, match="more than was overpaid"):
        refunds.request_refund(app, people["clerk"], cid, amount_cents=2001)
    refunds.request_refund(app, people["clerk"], cid, amount_cents=1500)
    with pytest.raises(UserError, match="already has refund request"):
        refunds.request_refund(app, people["clerk"], cid)
    owing = make_case(plate="2OWE222")
    with pytest.raises(UserError, match="no credit"):
        refunds.request_refund(app, people["clerk"], owing)
    with pytest.raises(PermissionDenied):
        refunds.request_refund(app, people["hearing"], cid)


def test_reversal_after_a_request_is_caught_before_money_goes_out(app, people, make_case) -> None:
    cid = make_case(fine_cents=6300)
    cheque = payments.post_counter_payment(app, people["clerk"], [cid], 12600, "cheque", cheque_number="9",
                                            confirmed_overpaid_cents=6300)
    rid = refunds.request_refund(app, people["clerk"], cid, reason="cheque written for twice the fine")
    payments.reverse_payment(app, people["supervisor"], cheque.payment_id, "cheque 9 returned unpaid")
    problems = refunds.unnoticed_overpayments(app, people["clerk"])
    assert len(problems) == 1 and f"Refund request {rid}" in problems[0]
    with pytest.raises(UserError, match="does not hold"):
        refunds.approve_refund(app, people["supervisor2"], rid)
    assert ledger_balance(app, cid) == 6300


def test_nothing_overpaid_goes_unnoticed(app, people, make_case) -> None:
    """After a mix of payments, duplicates, refunds and reversals, every case below zero is in the
    refund queue with exactly its ledger credit, and no open request exceeds what its case holds."""
    clerk = people["clerk"]
    ids = [make_case(plate=f"{n}ABC{n:03d}", fine_cents=5000 + n * 100) for n in range(1, 9)]
    for n, cid in enumerate(ids):
        payments.post_counter_payment(app, clerk, [cid], 5000 + (n + 1) * 100 + (n % 3) * 700, "cash",
                                       confirmed_overpaid_cents=(n % 3) * 700)
    refunds.request_refund(app, clerk, ids[1], reason="overpaid")
    refunds.approve_refund(app, people["supervisor"], refunds.request_refund(app, clerk, ids[2], reason="overpaid"))
    queue = refunds.refund_queue(app, clerk)
    with app.db.reading() as s:
        credits = refunds.overpaid_cases(s)
    assert {row.citation_id: row.credit_cents for row in queue} == credits
    assert credits and all(-ledger_balance(app, cid) == credit for cid, credit in credits.items())
    assert refunds.unnoticed_overpayments(app, clerk) == []


def test_find_a_payment_by_receipt_id_or_cheque(app, people, make_case) -> None:
    cid = make_case()
    paid = payments.post_counter_payment(app, people["clerk"], [cid], 6300, "cheque", cheque_number="5510")
    assert payments.find_payment(app, people["clerk"], paid.receipt_number.lower()).id == paid.payment_id
    assert payments.find_payment(app, people["clerk"], str(paid.payment_id)).id == paid.payment_id
    row = payments.find_payment(app, people["clerk"], "5510")
    assert row.id == paid.payment_id and row.citation_numbers
    with pytest.raises(UserError, match="No payment"):
        payments.find_payment(app, people["clerk"], "R000000-000000")
