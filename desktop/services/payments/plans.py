"""Payment plans: enrolment (the California indigent plan or an agency plan), and the daily check
that finds missed instalments and defaults.

Enrolling places a 'payment_plan' hold on the case (penalties and notices pause) and, under the
indigent rules, waives the late fees with a LATE_FEE_WAIVER entry. The plan's instalments are
stored as its schedule (JSON list of {number, due_date, amount_cents}). `check_plans` compares
what was paid since enrolment with what was due: a missed instalment is reported; a default
(two missed at once, by default) reinstates the waived fees (REINSTATEMENT), ends the hold so
escalation resumes, and marks the plan defaulted. Payments that pay a plan off complete it.

The daily run (``desktop.services.daily_run``) calls `check_plans(app, actor, as_of)`; so does `main.py plans check`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select

from desktop.domain.errors import NotFound, UserError
from desktop.domain.ledger import EntryKind, format_cents
from desktop.domain.lifecycle import CaseStatus
from desktop.domain.plans import AgencyTerms, IndigentPlanRules, Instalment, PlanStatus, make_plan, plan_status
from desktop.domain.plans import PaymentPlan as PlanTerms
from desktop.domain.profiles import load_profile
from desktop.domain.roles import Permission
from desktop.persistence.models import Citation, LedgerEntry, Payment, PaymentPlan
from desktop.services.cases import steps as case_ops
from desktop.services.core import settings
from desktop.services.core.clock import agency_date
from desktop.services.core.context import Actor, AppContext, UnitOfWork

PLAN_KINDS = ("indigent", "agency")
PLANNABLE = frozenset({CaseStatus.OPEN, CaseStatus.IN_COLLECTIONS})


def indigent_rules(profile_code: str) -> IndigentPlanRules:
    """The indigent plan limits of a jurisdiction profile (California: VC 40220)."""
    profile = load_profile(profile_code)
    for rule in profile.payment_plans:
        if rule.key == "indigent":
            return IndigentPlanRules(
                max_monthly_cents=rule.max_installment_cents, max_months=rule.max_months,
                waive_late_fees=rule.waives_penalties_on_enrolment,
                reinstate_on_default=rule.reinstates_penalties_on_default,
                legal_basis=rule.legal_basis)
    raise UserError(f"The {profile.name} profile has no indigent payment plan; offer an agency plan instead.")


def _late_fees_outstanding(uow: UnitOfWork, case_id: int) -> int:
    kinds = (EntryKind.PENALTY.value, EntryKind.REINSTATEMENT.value, EntryKind.LATE_FEE_WAIVER.value)
    amounts = uow.session.scalars(select(LedgerEntry.amount_cents).where(
        LedgerEntry.citation_id == case_id, LedgerEntry.kind.in_(kinds)))
    return max(sum(int(a) for a in amounts), 0)


def _current_plan(uow: UnitOfWork, case_id: int) -> PaymentPlan | None:
    return uow.session.scalar(select(PaymentPlan).where(PaymentPlan.citation_id == case_id,
                                                        PaymentPlan.status == "current"))


@dataclass(frozen=True)
class PlanRow:
    """A plan as the screens list it, with where it stands today."""

    id: int
    citation_id: int
    citation_number: str
    kind: str
    monthly_cents: int
    months: int
    start_date: date
    status: str
    waived_cents: int
    financed_cents: int
    paid_cents: int
    balance_cents: int
    next_due: date | None
    missed: int
    #: the office's, in which the instalments are paid
    currency: str


def enrol_plan(app: AppContext, actor: Actor, citation_id: int, kind: str, *, months: int | None = None,
               monthly_cents: int | None = None, start_date: date | None = None, reason: str = "") -> int:
    """Put a case on a payment plan; returns the plan id.

    `indigent`: the profile's indigent rules (California: at most $25 a month over at most 24
    months; late fees waived now, reinstated on default). `agency`: a fixed monthly amount over at
    most `months` (default: the `payments.plan_months` setting).
    """
    if kind not in PLAN_KINDS:
        raise UserError(f"'{kind}' is not a kind of payment plan (indigent or agency).")
    with app.uow(actor, Permission.EDIT_CASES) as uow:
        case = case_ops.load_case(uow, citation_id)
        status = CaseStatus(case.status)
        if status not in PLANNABLE:
            raise UserError(f"Citation {case.citation_number} is {status.label.lower()}; only open cases can go on a "
                            f"payment plan.")
        if _current_plan(uow, case.id) is not None:
            raise UserError(f"Citation {case.citation_number} already has a current payment plan.")
        balance = case_ops.balance(uow, case.id)
        late_fees = min(_late_fees_outstanding(uow, case.id), max(balance, 0))
        start = start_date or _today(uow)
        currency = settings.office_currency(uow.session)
        terms: IndigentPlanRules | AgencyTerms
        if kind == "indigent":
            terms = indigent_rules(case.profile_code)
            plan = make_plan(balance, late_fees, start, terms, months, currency=currency)
        else:
            plan_months = months or int(settings.get(uow.session, "payments.plan_months"))
            monthly = monthly_cents or -(-balance // max(plan_months, 1))
            terms = AgencyTerms(monthly_cents=monthly, max_months=plan_months)
            plan = make_plan(balance, late_fees, start, terms, currency=currency)
        schedule = [{"number": i.number, "due_date": i.due_date.isoformat(), "amount_cents": i.amount_cents}
                    for i in plan.instalments]
        row = PaymentPlan(citation_id=case.id, kind=kind, monthly_cents=plan.instalments[0].amount_cents,
                          months=len(plan.instalments), start_date=start, schedule=schedule, status="current",
                          waived_cents=plan.waived_cents, created_at=app.now(), created_by=actor.user_id)
        uow.session.add(row)
        uow.session.flush()
        if plan.waived_cents:
            case_ops.post(uow, case, EntryKind.LATE_FEE_WAIVER, -plan.waived_cents,
                          memo=f"late fees waived on enrolment in payment plan {row.id} ({terms_basis(terms)})",
                          dedupe_key=f"plan:{row.id}:waiver", effective=_today(uow))
        case_ops.place_hold(uow, case, "payment_plan", f"payment plan {row.id}: {plan.terms_description}")
        uow.audit("plan.enrolled", "citation", case.id,
                  after={"plan": row.id, "kind": kind, "instalments": len(schedule), "monthly_cents": row.monthly_cents,
                         "waived_cents": plan.waived_cents}, reason=reason.strip() or None)
        uow.commit()
        return row.id


def terms_basis(terms: IndigentPlanRules | AgencyTerms) -> str:
    return terms.legal_basis if isinstance(terms, IndigentPlanRules) else "agency terms"


def _today(uow: UnitOfWork) -> date:
    return agency_date(uow.session, uow.app.now())


def _terms_of(row: PaymentPlan) -> PlanTerms:
    instalments = tuple(Instalment(int(i["number"]), date.fromisoformat(str(i["due_date"])), int(i["amount_cents"]))
                        for i in row.schedule)
    financed = sum(i.amount_cents for i in instalments)
    defaults = IndigentPlanRules() if row.kind == "indigent" else AgencyTerms(monthly_cents=1, max_months=1)
    return PlanTerms(balance_cents=financed + row.waived_cents, waived_cents=row.waived_cents, financed_cents=financed,
                     start_date=row.start_date, instalments=instalments, grace_days=defaults.grace_days,
                     missed_instalments_for_default=defaults.missed_instalments_for_default,
                     reinstated_on_default_cents=row.waived_cents, terms_description=row.kind)


def _payments_by_date(uow: UnitOfWork, row: PaymentPlan) -> dict[date, int]:
    """Money paid toward the plan since enrolment, by value date; reversed payments do not count."""
    rows = uow.session.execute(
        select(LedgerEntry.effective_date, LedgerEntry.amount_cents)
        .join(Payment, Payment.id == LedgerEntry.payment_id)
        .where(LedgerEntry.citation_id == row.citation_id, LedgerEntry.kind == EntryKind.PAYMENT.value,
               LedgerEntry.at >= row.created_at, Payment.status != "reversed")).all()
    out: dict[date, int] = {}
    for day, amount in rows:
        out[day] = out.get(day, 0) - int(amount)
    return out


def complete_if_paid(uow: UnitOfWork, case: Citation, balance_cents: int | None = None) -> None:
    """A payment brought the case to zero: its current plan is completed and its hold ends."""
    row = _current_plan(uow, case.id)
    balance = case_ops.balance(uow, case.id) if balance_cents is None else balance_cents
    if row is None or balance > 0:
        return
    row.status = "completed"
    _release_plan_holds(uow, case, f"payment plan {row.id} paid off")
    uow.audit("plan.completed", "citation", case.id, after={"plan": row.id})


def _release_plan_holds(uow: UnitOfWork, case: Citation, reason: str) -> None:
    for hold in case_ops.active_holds(uow, case.id):
        if hold.kind == "payment_plan":
            case_ops.release_hold(uow, case, hold, reason)


@dataclass
class PlanCheckResult:
    """What `check_plans` found: plans with missed instalments, plans defaulted today, plans completed."""

    as_of: date
    #: the office's: the amounts short and reinstated are in it
    currency: str
    checked: int = 0
    missed: list[dict[str, Any]] = field(default_factory=list)
    defaulted: list[dict[str, Any]] = field(default_factory=list)
    completed: list[dict[str, Any]] = field(default_factory=list)
    reinstated_cents: int = 0

    def lines(self) -> list[str]:
        out = [f"{self.checked} current payment plan(s) checked as of {self.as_of.isoformat()}."]
        for item in self.defaulted:
            out.append(f"DEFAULTED plan {item['plan']} on {item['citation_number']}: {item['missed']} instalments "
                       "missed" + (f"; {format_cents(item['reinstated_cents'], self.currency)} of waived late fees "
                                   f"reinstated." if item['reinstated_cents'] else "."))
        for item in self.missed:
            out.append(f"missed: plan {item['plan']} on {item['citation_number']}: instalment(s) "
                       f"{', '.join(str(n) for n in item['instalments'])} unpaid "
                       f"({format_cents(item['short_cents'], self.currency)} short).")
        for item in self.completed:
            out.append(f"completed: plan {item['plan']} on {item['citation_number']}.")
        return out


def check_plans(app: AppContext, actor: Actor, as_of: date | None = None) -> PlanCheckResult:
    """Find missed instalments and defaults on every current plan (one unit of work per plan, so one
    case's problem never blocks the rest). Idempotent: a second run on the same day changes nothing."""
    with app.reader(actor, Permission.RUN_ESCALATION) as uow:
        day = as_of or _today(uow)
        plan_ids = list(uow.session.scalars(select(PaymentPlan.id).where(PaymentPlan.status == "current")
                                            .order_by(PaymentPlan.id)))
        currency = settings.office_currency(uow.session)
    result = PlanCheckResult(day, currency)
    for plan_id in plan_ids:
        with app.uow(actor, Permission.RUN_ESCALATION) as uow:
            row = uow.session.get(PaymentPlan, plan_id)
            if row is None or row.status != "current":
                continue
            case = case_ops.load_case(uow, row.citation_id)
            result.checked += 1
            terms = _terms_of(row)
            paid = _payments_by_date(uow, row)
            status, missed = plan_status(terms, paid, day)
            item = {"plan": row.id, "citation_id": case.id, "citation_number": case.citation_number,
                    "missed": len(missed), "instalments": [i.number for i in missed]}
            if status is PlanStatus.COMPLETED or case_ops.balance(uow, case.id) <= 0:
                row.status = "completed"
                _release_plan_holds(uow, case, f"payment plan {row.id} paid off")
                uow.audit("plan.completed", "citation", case.id, after={"plan": row.id})
                result.completed.append(item)
            elif status is PlanStatus.DEFAULTED:
                reinstated = 0
                if terms.reinstated_on_default_cents:
                    entry = case_ops.post(uow, case, EntryKind.REINSTATEMENT, terms.reinstated_on_default_cents,
                                          memo=f"payment plan {row.id} defaulted: waived late fees reinstated",
                                          dedupe_key=f"plan:{row.id}:reinstatement", effective=day)
                    reinstated = terms.reinstated_on_default_cents if entry is not None else 0
                row.status = "defaulted"
                _release_plan_holds(uow, case, f"payment plan {row.id} defaulted")
                uow.audit("plan.defaulted", "citation", case.id,
                          after={"plan": row.id, "missed": item["instalments"], "reinstated_cents": reinstated})
                item["reinstated_cents"] = reinstated
                result.reinstated_cents += reinstated
                result.defaulted.append(item)
            elif status is PlanStatus.MISSED:
                last_missed = max(i.number for i in missed)
                due = sum(i.amount_cents for i in terms.instalments if i.number <= last_missed)
                item["short_cents"] = due - sum(paid.values())
                result.missed.append(item)
                continue
            else:
                continue
            uow.commit()
    return result


def plans_list(app: AppContext, actor: Actor, *, status: str | None = None) -> list[PlanRow]:
    """Every plan (or those of one status) with what has been paid and the next due date."""
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        q = select(PaymentPlan, Citation.citation_number).join(Citation, Citation.id == PaymentPlan.citation_id)
        if status:
            q = q.where(PaymentPlan.status == status)
        day = _today(uow)
        currency = settings.office_currency(uow.session)
        out = []
        for row, number in uow.session.execute(q.order_by(PaymentPlan.id.desc())).all():
            terms = _terms_of(row)
            paid_by_day = _payments_by_date(uow, row)
            paid = sum(paid_by_day.values())
            _st, missed = plan_status(terms, paid_by_day, day) if row.status == "current" else (None, [])
            running = 0
            next_due = None
            for inst in terms.instalments:
                running += inst.amount_cents
                if running > paid:
                    next_due = inst.due_date
                    break
            out.append(PlanRow(row.id, row.citation_id, number, row.kind, row.monthly_cents, row.months,
                               row.start_date, row.status, row.waived_cents, terms.financed_cents, paid,
                               case_ops.balance(uow, row.citation_id), next_due if row.status == "current" else None,
                               len(missed), currency))
        return out


def plan_schedule(app: AppContext, actor: Actor, plan_id: int) -> Mapping[str, Any]:
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        row = uow.session.get(PaymentPlan, plan_id)
        if row is None:
            raise NotFound(f"Payment plan {plan_id} does not exist.")
        return {"id": row.id, "kind": row.kind, "status": row.status, "schedule": list(row.schedule),
                "waived_cents": row.waived_cents}
