"""Payment plans: indigent rules (CA VC 40220), schedules, status with grace period and default."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop.domain.errors import UserError
from desktop.domain.plans import AgencyTerms, IndigentPlanRules, PlanStatus, add_months, make_plan, plan_status

START = date(2024, 1, 31)


def test_indigent_plan_waives_late_fees_and_spreads_over_24_months() -> None:
    plan = make_plan(balance_cents=40000, penalties_cents=10000, start_date=START, terms=IndigentPlanRules(),
                     currency="USD")
    assert plan.waived_cents == 10000 and plan.financed_cents == 30000
    assert plan.reinstated_on_default_cents == 10000
    assert len(plan.instalments) == 24
    assert {i.amount_cents for i in plan.instalments} == {1250}
    assert plan.instalments[1].due_date == date(2024, 2, 29)  # clamped to the month's end
    assert plan.instalments[-1].due_date == date(2025, 12, 31)


def test_last_instalment_takes_the_remainder() -> None:
    plan = make_plan(7001, 0, START, IndigentPlanRules(), months=3, currency="USD")
    assert [i.amount_cents for i in plan.instalments] == [2334, 2334, 2333]
    plan = make_plan(10000, 0, START, AgencyTerms(monthly_cents=3000, max_months=6), currency="USD")
    assert [i.amount_cents for i in plan.instalments] == [3000, 3000, 3000, 1000]


def test_balance_too_large_for_indigent_rules_is_refused_with_the_arithmetic() -> None:
    with pytest.raises(UserError) as caught:
        make_plan(70000, 0, START, IndigentPlanRules(), currency="USD")
    message = str(caught.value)
    assert "Not eligible" in message and "$700.00" in message and "$600.00" in message
    assert "24 months" in message and "$25.00" in message


def test_waiver_can_make_a_balance_eligible() -> None:
    plan = make_plan(70000, 10000, START, IndigentPlanRules(), currency="USD")
    assert plan.financed_cents == 60000
    assert all(i.amount_cents == 2500 for i in plan.instalments)


def test_too_few_months_for_the_cap_is_refused() -> None:
    with pytest.raises(UserError, match="at least 12 months"):
        make_plan(30000, 0, START, IndigentPlanRules(), months=6, currency="USD")


def test_agency_terms_too_long_is_refused() -> None:
    with pytest.raises(UserError, match="raise the monthly amount to at least \\$50.00"):
        make_plan(60000, 0, START, AgencyTerms(monthly_cents=2500, max_months=12), currency="USD")


def test_the_terms_and_the_refusals_are_in_the_currency_given() -> None:
    """An office that takes pounds: the plan's terms and the reasons a plan is refused say pounds."""
    plan = make_plan(10000, 0, START, AgencyTerms(monthly_cents=3000, max_months=6), currency="GBP")
    assert plan.terms_description == "Agency plan: £30.00 a month"
    with pytest.raises(UserError) as caught:
        make_plan(60000, 0, START, AgencyTerms(monthly_cents=2500, max_months=12), currency="GBP")
    assert "£600.00 at £25.00 a month" in str(caught.value) and "$" not in str(caught.value)
    with pytest.raises(UserError) as caught:
        make_plan(70000, 0, START, IndigentPlanRules(), currency="GBP")
    assert "£700.00" in str(caught.value) and "$" not in str(caught.value)


@given(st.integers(min_value=1, max_value=60000), st.integers(min_value=1, max_value=24))
def test_schedule_always_sums_to_the_financed_amount(balance: int, months: int) -> None:
    try:
        plan = make_plan(balance, 0, START, IndigentPlanRules(), months=months, currency="USD")
    except UserError:
        assert -(-balance // months) > 2500
        return
    assert sum(i.amount_cents for i in plan.instalments) == balance
    assert all(0 < i.amount_cents <= 2500 for i in plan.instalments)
    assert len(plan.instalments) <= months


def test_status_current_missed_defaulted_completed() -> None:
    plan = make_plan(7500, 0, date(2024, 1, 1), AgencyTerms(monthly_cents=2500, max_months=3, grace_days=10),
                     currency="USD")
    first, second, third = plan.instalments
    assert plan_status(plan, {}, date(2024, 1, 5)) == (PlanStatus.CURRENT, [])
    assert plan_status(plan, {}, date(2024, 1, 11)) == (PlanStatus.CURRENT, [])  # still in grace
    assert plan_status(plan, {}, date(2024, 1, 12)) == (PlanStatus.MISSED, [first])
    paid_late = {date(2024, 1, 20): 2500}
    assert plan_status(plan, paid_late, date(2024, 1, 25)) == (PlanStatus.CURRENT, [])
    assert plan_status(plan, paid_late, date(2024, 2, 12)) == (PlanStatus.MISSED, [second])
    status, missed = plan_status(plan, {}, date(2024, 2, 12))
    assert status is PlanStatus.DEFAULTED and missed == [first, second]
    # Default is final even if the owner catches up afterwards.
    caught_up = {date(2024, 2, 20): 5000}
    assert plan_status(plan, caught_up, date(2024, 2, 25))[0] is PlanStatus.DEFAULTED
    assert plan_status(plan, {date(2024, 1, 1): 7500}, date(2024, 1, 2)) == (PlanStatus.COMPLETED, [])
    assert third.due_date == date(2024, 3, 1)


def test_paying_ahead_covers_later_instalments() -> None:
    plan = make_plan(7500, 0, date(2024, 1, 1), AgencyTerms(monthly_cents=2500, max_months=3), currency="USD")
    assert plan_status(plan, {date(2024, 1, 1): 5000}, date(2024, 2, 20)) == (PlanStatus.CURRENT, [])


def test_add_months_clamps() -> None:
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2023, 12, 15), 1) == date(2024, 1, 15)
