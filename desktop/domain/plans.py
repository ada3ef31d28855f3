"""Payment plans: instalment schedules, indigent-plan rules and plan status with a grace period.

California Vehicle Code 40220 lets an indigent owner pay parking penalties by instalments of at
most $25 a month over at most 24 months, with late fees waived on enrolment and reinstated if
the plan is defaulted. ``IndigentPlanRules`` carries those numbers (an agency may adjust them);
``AgencyTerms`` is an ordinary plan at a fixed monthly amount. The ledger side: on enrolment
post a ``late_fee_waiver`` of ``-plan.waived_cents``; on default post a ``reinstatement`` of
``plan.reinstated_on_default_cents``.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum

from desktop.domain.errors import UserError
from desktop.domain.ledger import format_cents


@dataclass(frozen=True)
class IndigentPlanRules:
    """Indigent payment plan limits (defaults: CA VC 40220)."""

    max_monthly_cents: int = 2500
    max_months: int = 24
    waive_late_fees: bool = True
    reinstate_on_default: bool = True
    grace_days: int = 10
    missed_instalments_for_default: int = 2
    legal_basis: str = "California Vehicle Code 40220"


@dataclass(frozen=True)
class AgencyTerms:
    """An ordinary plan: a fixed monthly amount, within a maximum number of months."""

    monthly_cents: int
    max_months: int
    grace_days: int = 10
    missed_instalments_for_default: int = 2


@dataclass(frozen=True)
class Instalment:
    """One scheduled payment."""

    number: int
    due_date: date
    amount_cents: int


@dataclass(frozen=True)
class PaymentPlan:
    """A schedule agreed with the owner. ``financed_cents`` is what the instalments add up to."""

    balance_cents: int
    waived_cents: int
    financed_cents: int
    start_date: date
    instalments: tuple[Instalment, ...]
    grace_days: int
    missed_instalments_for_default: int
    reinstated_on_default_cents: int
    terms_description: str


class PlanStatus(str, Enum):
    """Where a plan stands on a given day."""

    CURRENT = "current"
    MISSED = "missed"
    DEFAULTED = "defaulted"
    COMPLETED = "completed"


def add_months(day: date, months: int) -> date:
    """Same day ``months`` later, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _schedule(financed_cents: int, instalment_cents: int, start_date: date) -> tuple[Instalment, ...]:
    instalments: list[Instalment] = []
    remaining = financed_cents
    number = 0
    while remaining > 0:
        amount = min(instalment_cents, remaining)
        instalments.append(Instalment(number + 1, add_months(start_date, number), amount))
        remaining -= amount
        number += 1
    return tuple(instalments)


def make_plan(
    balance_cents: int,
    penalties_cents: int,
    start_date: date,
    terms: IndigentPlanRules | AgencyTerms,
    months: int | None = None,
    *,
    currency: str,
) -> PaymentPlan:
    """Build a plan, or refuse with a UserError saying why the balance does not fit the rules.

    ``penalties_cents`` is the part of the balance that is late fees (waived under indigent rules).
    The first instalment is due on ``start_date``, then monthly; equal instalments, the last one
    takes the remainder. Under indigent rules the debt is spread over ``months`` (default: the
    maximum allowed, so instalments are as small as possible) without exceeding the monthly cap.
    ``currency`` (ISO 4217) is what the amounts are in; the refusals and the terms' description write them in it.
    """

    def money(cents: int) -> str:
        return format_cents(cents, currency)

    if balance_cents <= 0:
        raise UserError(f"There is nothing to pay by instalments: the balance is {money(balance_cents)}.")
    if penalties_cents < 0 or penalties_cents > balance_cents:
        raise UserError(
            f"Late fees of {money(penalties_cents)} cannot be more than the balance of "
            f"{money(balance_cents)} or negative."
        )
    if isinstance(terms, IndigentPlanRules):
        waived = penalties_cents if terms.waive_late_fees else 0
        financed = balance_cents - waived
        if financed <= 0:
            raise UserError("After waiving late fees nothing is left to pay; no plan is needed.")
        plan_months = terms.max_months if months is None else months
        if not 1 <= plan_months <= terms.max_months:
            raise UserError(
                f"An indigent plan runs for 1 to {terms.max_months} months ({terms.legal_basis}); "
                f"{plan_months} months is not allowed."
            )
        ceiling = terms.max_monthly_cents * terms.max_months
        if financed > ceiling:
            raise UserError(
                f"Not eligible for an indigent payment plan: {money(financed)} is owed"
                f"{' after waiving late fees' if waived else ''}, but {terms.max_months} months at most "
                f"{money(terms.max_monthly_cents)} a month covers only {money(ceiling)} "
                f"({terms.legal_basis})."
            )
        instalment = -(-financed // plan_months)
        if instalment > terms.max_monthly_cents:
            needed = -(-financed // terms.max_monthly_cents)
            raise UserError(
                f"{money(financed)} over {plan_months} months is {money(instalment)} a month, more "
                f"than the {money(terms.max_monthly_cents)} limit; it needs at least {needed} months."
            )
        description = (f"Indigent plan ({terms.legal_basis}): {plan_months} months, at most "
                       f"{money(terms.max_monthly_cents)} a month")
        return PaymentPlan(
            balance_cents=balance_cents,
            waived_cents=waived,
            financed_cents=financed,
            start_date=start_date,
            instalments=_schedule(financed, instalment, start_date),
            grace_days=terms.grace_days,
            missed_instalments_for_default=terms.missed_instalments_for_default,
            reinstated_on_default_cents=waived if terms.reinstate_on_default else 0,
            terms_description=description,
        )
    if terms.monthly_cents <= 0 or terms.max_months <= 0:
        raise UserError("The plan's monthly amount and number of months must be positive.")
    needed_months = -(-balance_cents // terms.monthly_cents)
    if needed_months > terms.max_months:
        raise UserError(
            f"{money(balance_cents)} at {money(terms.monthly_cents)} a month takes {needed_months} "
            f"months, more than the {terms.max_months} months the agency allows; raise the monthly amount to at "
            f"least {money(-(-balance_cents // terms.max_months))}."
        )
    return PaymentPlan(
        balance_cents=balance_cents,
        waived_cents=0,
        financed_cents=balance_cents,
        start_date=start_date,
        instalments=_schedule(balance_cents, terms.monthly_cents, start_date),
        grace_days=terms.grace_days,
        missed_instalments_for_default=terms.missed_instalments_for_default,
        reinstated_on_default_cents=0,
        terms_description=f"Agency plan: {money(terms.monthly_cents)} a month",
    )


def _paid_through(payments_by_date: Mapping[date, int], day: date) -> int:
    return sum(amount for paid_on, amount in payments_by_date.items() if paid_on <= day)


def plan_status(
    plan: PaymentPlan, payments_by_date: Mapping[date, int], as_of: date
) -> tuple[PlanStatus, list[Instalment]]:
    """Status of a plan on ``as_of`` and the instalments currently missed.

    Payments count toward instalments cumulatively (paying ahead is fine). An instalment is missed
    when, once its grace period is over, the total paid is short of the total due through it.
    A plan defaults as soon as ``missed_instalments_for_default`` instalments are missed at the
    same time, and stays defaulted even if the owner later catches up (the late fees are then
    reinstated). A plan is completed when everything financed has been paid.
    """
    grace = timedelta(days=plan.grace_days)
    if _paid_through(payments_by_date, as_of) >= plan.financed_cents:
        return PlanStatus.COMPLETED, []
    cumulative: list[tuple[Instalment, int]] = []
    running = 0
    for instalment in plan.instalments:
        running += instalment.amount_cents
        cumulative.append((instalment, running))

    def missed_on(day: date) -> list[Instalment]:
        paid = _paid_through(payments_by_date, day)
        return [item for item, due in cumulative if item.due_date + grace < day and due > paid]

    # Check every day a grace period ended (the day after it) for a default in the past.
    for instalment, _ in cumulative:
        checkpoint = instalment.due_date + grace + timedelta(days=1)
        if checkpoint > as_of:
            break
        if len(missed_on(checkpoint)) >= plan.missed_instalments_for_default:
            return PlanStatus.DEFAULTED, missed_on(as_of)
    missed = missed_on(as_of)
    if len(missed) >= plan.missed_instalments_for_default:
        return PlanStatus.DEFAULTED, missed
    if missed:
        return PlanStatus.MISSED, missed
    return PlanStatus.CURRENT, []
