"""An office that takes pounds (``agency.currency`` GBP) reads pounds in everything the payment services write:
the counter's refusals and its receipt, the daily close, an import's outcome, the refund queue's refusals and
check, a payment plan's terms and check. Each result says the currency the screens and the command write it in.
(The dollar office is what every other test of this package reads.)"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from desktop.demo.payments import Bai2Item, build_bai2
from desktop.domain.errors import ConcurrencyConflict, OverpaymentNotConfirmed, UserError
from desktop.persistence.models import Hold
from desktop.services.core import settings
from desktop.services.core.context import Actor, AppContext
from desktop.services.payments import daily_close, refunds
from desktop.services.payments import imports as payment_imports
from desktop.services.payments import plans as payment_plans
from desktop.services.payments import posting as payments
from reports.data import ReceiptData
from tests.integration.payments.conftest import CaseMaker

DAY = date(2026, 11, 24)


@pytest.fixture
def pounds(app: AppContext, people: dict[str, Actor]) -> AppContext:
    """The office takes pounds (an English council)."""
    settings.set_value(app, people["admin"], "agency.currency", "GBP")
    return app


def english_case(make_case: CaseMaker, number: str, **extra: object) -> int:
    return make_case(number, jurisdiction="GB", profile_code="ENG", profile_version=1, **extra)


def in_pounds(*texts: str) -> bool:
    joined = " | ".join(texts)
    return "£" in joined and "$" not in joined


def _gbp_statement(tmp_path: Path, items: list[Bai2Item]) -> Path:
    path = tmp_path / "statement.bai2"
    path.write_bytes(build_bai2(items, DAY).replace(b",USD,", b",GBP,"))
    return path


def test_the_counter_refuses_posts_and_writes_its_receipt_in_pounds(pounds, people, make_case) -> None:
    app, clerk = pounds, people["clerk"]
    cid = english_case(make_case, "PN-00001", fine_cents=7000)
    (row,) = payments.counter_lookup(app, clerk, "PN-00001")
    assert row.currency == "GBP"
    with pytest.raises(UserError) as zero:
        payments.post_counter_payment(app, clerk, [cid], 0, "cash")
    with pytest.raises(UserError) as short:
        payments.post_counter_payment(app, clerk, [cid], 7000, "cash", tendered_cents=5000)
    with pytest.raises(ConcurrencyConflict) as stale:
        payments.post_counter_payment(app, clerk, [cid], 7000, "cash", expected_versions={cid: row.version + 1})
    with pytest.raises(OverpaymentNotConfirmed) as over:
        payments.post_counter_payment(app, clerk, [cid], 10000, "cash")
    assert str(zero.value) == "Enter the amount received (got £0.00)."
    assert str(short.value) == "£50.00 tendered is less than the £70.00 being paid."
    assert "its balance is now £70.00" in str(stale.value)
    assert over.value.currency == "GBP" and in_pounds(str(over.value), str(short.value), str(stale.value))
    assert "£100.00 is £30.00 more than the £70.00 owed" in str(over.value)

    result = payments.post_counter_payment(app, clerk, [cid], 10000, "cash", tendered_cents=10000,
                                           confirmed_overpaid_cents=3000)
    assert result.currency == "GBP"
    data = payments.receipt_data(app, clerk, result.payment_id, tendered_cents=10000)
    text = payments.receipt_text(data)
    assert in_pounds(text) and "£100.00" in text and "Overpaid by £30.00" in text
    assert ReceiptData.from_plain(data).agency.currency == "GBP"  # the printed receipt's contract takes it as it is
    assert payments.find_payment(app, clerk, result.receipt_number).currency == "GBP"
    reversal = payments.reverse_payment(app, people["supervisor"], result.payment_id, "note was counterfeit")
    assert reversal.currency == "GBP" and reversal.reinstated_cents == 10000


def test_the_daily_close_reports_in_pounds(pounds, people, make_case, tmp_path) -> None:
    app, clerk = pounds, people["clerk"]
    cases = [english_case(make_case, f"PN-1000{n}", plate=f"LB0{n}ABC", fine_cents=7000) for n in range(1, 4)]
    daily_close.open_drawer(app, clerk, 10000)
    payments.post_counter_payment(app, clerk, [cases[0]], 7000, "cash")
    bounced = payments.post_counter_payment(app, people["clerk2"], [cases[1]], 7000, "cheque", cheque_number="12")
    payments.reverse_payment(app, people["supervisor"], bounced.payment_id, "cheque 12 returned unpaid")
    closed = daily_close.close_drawer(app, clerk, 10000 + 6500, 0)  # £5 short
    assert closed.currency == "GBP"
    payment_imports.import_payment_file(app, clerk, _gbp_statement(tmp_path, [
        Bai2Item("142", 4100, "NO IDEA", "B1"), Bai2Item("301", 9999, "DEPOSIT", "B2")]))

    result = daily_close.daily_close(app, people["supervisor"], DAY)
    assert result.currency == "GBP" and {d.currency for d in result.drawers} == {"GBP"}
    kinds = {d.kind for d in result.differences}
    assert {"drawer", "open_drawer", "reversed", "unmatched", "missing_deposit", "unexplained_deposit"} <= kinds
    texts = [d.text for d in result.differences if d.amount_cents]
    assert in_pounds(*texts)
    assert any("short by £5.00" in t for t in texts) and any("deposit of £99.99" in t for t in texts)
    assert {line.currency for line in daily_close.gl_lines(app, people["supervisor"], DAY)} == {"GBP"}


def test_an_import_says_its_payments_in_pounds(pounds, people, make_case, tmp_path) -> None:
    app = pounds
    english_case(make_case, "PN-20001", fine_cents=7000)
    outcome = payment_imports.import_payment_file(app, people["clerk"], _gbp_statement(tmp_path, [
        Bai2Item("142", 9000, "PCN PN-20001", "B1"), Bai2Item("142", 4100, "NO IDEA", "B2"),
        Bai2Item("115", 5000, "LOCKBOX DEPOSIT", "B3")]))
    assert outcome.currency == "GBP" and (outcome.matched, outcome.unmatched) == (1, 1)
    assert in_pounds(*outcome.lines())
    assert outcome.lines()[0] == ("statement.bai2 (bai2): 2 payment(s) for £131.00: 1 matched (£90.00), 1 to the "
                                  "unmatched queue (£41.00).")
    assert "  £20.00 overpaid: the cases are in the refund queue." in outcome.lines()
    assert [r.currency for r in payment_imports.imports_list(app, people["clerk"])] == ["GBP"]
    assert [r.currency for r in payments.unmatched_payments(app, people["clerk"])] == ["GBP"]


def test_refunds_are_refused_and_checked_in_pounds(pounds, people, make_case) -> None:
    app, clerk = pounds, people["clerk"]
    owing = english_case(make_case, "PN-30001", plate="LB30OWE", fine_cents=7000)
    with pytest.raises(UserError) as no_credit:
        refunds.request_refund(app, clerk, owing)
    assert "its balance is £70.00" in str(no_credit.value) and in_pounds(str(no_credit.value))
    cid = english_case(make_case, "PN-30002", plate="LB30OVR", fine_cents=7000)
    cheque = payments.post_counter_payment(app, clerk, [cid], 10000, "cheque", cheque_number="31",
                                           confirmed_overpaid_cents=3000)
    with pytest.raises(UserError) as too_much:
        refunds.request_refund(app, clerk, cid, amount_cents=5000)
    assert "holds £30.00 of credit; a refund of £50.00" in str(too_much.value) and in_pounds(str(too_much.value))
    (row,) = refunds.refund_queue(app, clerk)
    assert row.currency == "GBP"
    rid = refunds.request_refund(app, clerk, cid)
    assert [r.currency for r in refunds.refunds_list(app, clerk)] == ["GBP"]
    payments.reverse_payment(app, people["supervisor"], cheque.payment_id, "cheque 31 returned unpaid")
    (problem,) = refunds.unnoticed_overpayments(app, clerk)
    assert "asks for £30.00 but the case holds £0.00" in problem and in_pounds(problem)
    with pytest.raises(UserError) as gone:
        refunds.approve_refund(app, people["supervisor2"], rid)
    assert "now holds only £0.00 of credit" in str(gone.value) and in_pounds(str(gone.value))


def test_a_payment_plan_is_agreed_refused_and_checked_in_pounds(pounds, people, make_case) -> None:
    app, clerk = pounds, people["clerk"]
    cid = english_case(make_case, "PN-40001", fine_cents=7000)
    with pytest.raises(UserError) as refused:
        payment_plans.enrol_plan(app, clerk, cid, "agency", months=2, monthly_cents=1000)
    assert "£70.00 at £10.00 a month takes 7 months" in str(refused.value) and in_pounds(str(refused.value))
    plan_id = payment_plans.enrol_plan(app, clerk, cid, "agency", months=3, start_date=date(2026, 12, 1))
    with app.db.reading() as s:
        reason = s.scalar(select(Hold.reason).where(Hold.citation_id == cid, Hold.kind == "payment_plan"))
    assert reason == f"payment plan {plan_id}: Agency plan: £23.34 a month"
    assert [r.currency for r in payment_plans.plans_list(app, clerk)] == ["GBP"]
    checked = payment_plans.check_plans(app, people["admin"], date(2026, 12, 12))
    assert checked.currency == "GBP" and in_pounds(*checked.lines())
    assert f"missed: plan {plan_id} on PN-40001: instalment(s) 1 unpaid (£23.34 short)." in checked.lines()
