"""Payment plans: the California indigent plan waives late fees and reinstates them on default;
agency plans; missed instalments found by `check_plans`; a plan paid off completes."""

from __future__ import annotations

from datetime import UTC, date

import pytest
from sqlalchemy import select

from desktop.domain.errors import UserError
from desktop.persistence.models import Citation, Hold, LedgerEntry, PaymentPlan
from desktop.services.payments import plans as payment_plans
from desktop.services.payments import posting as payments
from tests.integration.payments.conftest import add_penalty, ledger_balance


def _plan(app, plan_id: int) -> PaymentPlan:
    with app.db.reading() as s:
        return s.get(PaymentPlan, plan_id)


def _active_holds(app, cid: int) -> list[str]:
    with app.db.reading() as s:
        return [h.kind for h in s.scalars(select(Hold).where(Hold.citation_id == cid, Hold.ended_at.is_(None)))]


def test_indigent_plan_waives_late_fees_and_places_a_hold(app, people, make_case) -> None:
    cid = make_case(fine_cents=6300)
    add_penalty(app, cid, 2500)
    plan_id = payment_plans.enrol_plan(app, people["clerk"], cid, "indigent", months=3,
                                       start_date=date(2026, 12, 1), reason="receives CalFresh")
    plan = _plan(app, plan_id)
    assert (plan.kind, plan.status, plan.waived_cents, plan.months) == ("indigent", "current", 2500, 3)
    assert [i["amount_cents"] for i in plan.schedule] == [2100, 2100, 2100]
    assert [i["due_date"] for i in plan.schedule] == ["2026-12-01", "2027-01-01", "2027-02-01"]
    assert ledger_balance(app, cid) == 6300
    assert _active_holds(app, cid) == ["payment_plan"]
    with app.db.reading() as s:
        assert s.get(Citation, cid).on_hold
        waiver = s.scalar(select(LedgerEntry).where(LedgerEntry.kind == "late_fee_waiver"))
        assert waiver.amount_cents == -2500
    with pytest.raises(UserError, match="already has a current payment plan"):
        payment_plans.enrol_plan(app, people["clerk"], cid, "agency")


def test_indigent_limits_are_the_profiles(app, people, make_case) -> None:
    big = make_case(fine_cents=90000, plate="1BIG111")
    with pytest.raises(UserError, match=r"Not eligible .* covers only \$600.00"):
        payment_plans.enrol_plan(app, people["clerk"], big, "indigent")
    steep = make_case(fine_cents=10000, plate="2STP222")
    with pytest.raises(UserError, match="more than the \\$25.00 limit"):
        payment_plans.enrol_plan(app, people["clerk"], steep, "indigent", months=2)
    nyc = make_case(plate="3NYC333", profile_code="NYC")
    with pytest.raises(UserError, match="no indigent payment plan"):
        payment_plans.enrol_plan(app, people["clerk"], nyc, "indigent")
    paid = make_case(plate="4PAI444", status="paid")
    with pytest.raises(UserError, match="only open cases"):
        payment_plans.enrol_plan(app, people["clerk"], paid, "agency")


def test_default_reinstates_the_waived_fees_once(app, people, make_case) -> None:
    cid = make_case(fine_cents=6300)
    add_penalty(app, cid, 2500)
    plan_id = payment_plans.enrol_plan(app, people["clerk"], cid, "indigent", months=3, start_date=date(2026, 12, 1))
    system = people["admin"]
    first = payment_plans.check_plans(app, system, date(2026, 12, 5))
    assert first.checked == 1 and not first.missed and not first.defaulted
    one_missed = payment_plans.check_plans(app, system, date(2026, 12, 12))
    assert [m["instalments"] for m in one_missed.missed] == [[1]] and one_missed.missed[0]["short_cents"] == 2100
    assert _plan(app, plan_id).status == "current"
    defaulted = payment_plans.check_plans(app, system, date(2027, 1, 12))
    assert [d["plan"] for d in defaulted.defaulted] == [plan_id] and defaulted.reinstated_cents == 2500
    assert _plan(app, plan_id).status == "defaulted"
    assert ledger_balance(app, cid) == 8800
    assert _active_holds(app, cid) == []
    again = payment_plans.check_plans(app, system, date(2027, 1, 13))
    assert again.checked == 0 and ledger_balance(app, cid) == 8800
    with app.db.reading() as s:
        assert [e.amount_cents for e in s.scalars(select(LedgerEntry).where(LedgerEntry.kind == "reinstatement"))] \
            == [2500]


def test_paying_instalments_keeps_a_plan_current_and_paying_it_off_completes_it(app, people, make_case,
                                                                              clock) -> None:
    from datetime import datetime

    cid = make_case(fine_cents=6300)
    plan_id = payment_plans.enrol_plan(app, people["clerk"], cid, "agency", months=3, start_date=date(2026, 11, 24))
    assert _plan(app, plan_id).monthly_cents == 2100
    payments.post_counter_payment(app, people["clerk"], [cid], 2100, "cash")
    status = payment_plans.check_plans(app, people["admin"], date(2026, 12, 10))
    assert not status.missed and not status.defaulted
    (row,) = payment_plans.plans_list(app, people["clerk"])
    assert (row.paid_cents, row.balance_cents, row.next_due) == (2100, 4200, date(2026, 12, 24))
    clock.now = datetime(2026, 12, 20, 18, 0, tzinfo=UTC)
    payments.post_counter_payment(app, people["clerk"], [cid], 4200, "cash")
    assert _plan(app, plan_id).status == "completed"
    assert _active_holds(app, cid) == []
    with app.db.reading() as s:
        assert s.get(Citation, cid).status == "paid"


def test_reversed_instalment_does_not_count(app, people, make_case) -> None:
    cid = make_case(fine_cents=6300)
    payment_plans.enrol_plan(app, people["clerk"], cid, "agency", months=3, start_date=date(2026, 11, 24))
    paid = payments.post_counter_payment(app, people["clerk"], [cid], 2100, "cheque", cheque_number="12")
    payments.reverse_payment(app, people["supervisor"], paid.payment_id, "cheque 12 returned unpaid")
    result = payment_plans.check_plans(app, people["admin"], date(2026, 12, 10))
    assert [m["instalments"] for m in result.missed] == [[1]]


def test_check_plans_needs_the_escalation_permission(app, people) -> None:
    from desktop.domain.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        payment_plans.check_plans(app, people["clerk"], date(2026, 12, 1))
