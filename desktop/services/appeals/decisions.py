"""Decisions on appeals: the hearing officer's decision (upheld, dismissed, reduced) and a withdrawal.

A decision moves the money, the case, the hold, the hearing and the letters together
(``close_appeal``, which the deadline rule also uses for a deemed acceptance).

Refunds on a decision: the decision is the authority for the refund (the law requires it; a
supervisor's approval would only add delay that England's deemed-acceptance rule does not allow), so
a REFUND ledger entry is posted at once and a ``Refund`` row is recorded as already approved (the
hearing officer, or the automation for a deemed acceptance, as approver) for the payments office to
pay out and report on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from desktop.domain import appeals as rules
from desktop.domain.appeals import AppealStatus, appeal_number
from desktop.domain.errors import UserError
from desktop.domain.ledger import EntryKind, format_cents
from desktop.domain.lifecycle import CaseStatus
from desktop.domain.profiles import ContestOutcome
from desktop.domain.roles import Permission
from desktop.persistence.models import Appeal, Citation, Hearing, Refund
from desktop.services.appeals.common import case_profile, lock_appeal, queue_letter
from desktop.services.cases.balances import ledger_money
from desktop.services.cases.steps import active_holds, move, post, release_hold
from desktop.services.core.context import Actor, AppContext, UnitOfWork

# --------------------------------------------------------------------------- decisions


@dataclass(frozen=True)
class DecisionResult:
    appeal_id: int
    number: str
    decision: str
    case_status: str
    adjustment_cents: int
    refund_cents: int
    balance_cents: int
    next_level: str | None
    next_level_deadline: date | None
    #: what the decision means for the motorist, in plain words ("Appeal rejected: the citation stands; ...")
    outcome_text: str = ""


def _refund(uow: UnitOfWork, case: Citation, appeal: Appeal, amount_cents: int, reason: str) -> None:
    if amount_cents <= 0:
        return
    entry = post(uow, case, EntryKind.REFUND, amount_cents, memo=f"refund: {reason}"[:300],
                 dedupe_key=f"appeal:{appeal.id}:refund")
    if entry is None:
        return
    now = uow.app.now()
    refund = Refund(citation_id=case.id, amount_cents=amount_cents, payee_name=appeal.appellant_name,
                    reason=reason, status="approved", requested_by=uow.actor.user_id, requested_at=now,
                    decided_by=uow.actor.user_id, decided_at=now,
                    decision_note=f"Required by the decision on appeal {appeal_number(appeal.id)}; "
                                  f"ledger entry {entry.id}.")
    uow.session.add(refund)
    uow.session.flush()
    uow.audit("refund.approved", "citation", case.id,
              after={"refund": refund.id, "amount_cents": amount_cents, "appeal": appeal_number(appeal.id)},
              reason=reason)
    queue_letter(uow, case, appeal, "refund_letter", f"refund_letter:appeal:{appeal.id}", refund_id=refund.id,
                 amount_cents=amount_cents)


def close_appeal(uow: UnitOfWork, case: Citation, appeal: Appeal, outcome: ContestOutcome, reason: str,
                  new_amount_cents: int | None, status: AppealStatus) -> DecisionResult:
    """The money, the case move, the hold, the hearing and the letters of a decision (or deemed one)."""
    s = uow.session
    profile = case_profile(case)
    number = appeal_number(appeal.id)
    level = profile.appeal_level(appeal.level)
    charges, paid = ledger_money(s, case.id)
    adjustment = refund = 0
    if outcome is ContestOutcome.DISMISSED:
        effect = rules.dismissal_effect(charges, paid)
    elif outcome is ContestOutcome.REDUCED:
        if new_amount_cents is None:
            raise UserError("Give the new amount for a reduced fine.")
        effect = rules.reduction_effect(charges, paid, new_amount_cents)
    else:
        effect = None
    if effect is not None:
        adjustment, refund = effect.adjustment_cents, effect.refund_cents
        if adjustment:
            word = ("cancelled" if outcome is ContestOutcome.DISMISSED
                    else f"reduced to {format_cents(new_amount_cents or 0, profile.currency)}")
            post(uow, case, EntryKind.ADJUSTMENT, adjustment, memo=f"{level.name} {number}: {word}"[:300],
                 dedupe_key=f"appeal:{appeal.id}:adjustment")
        _refund(uow, case, appeal, refund, f"{level.name} {number} {outcome.value}")
    now = uow.app.now()
    appeal.status = status.value
    appeal.decision = outcome.value
    appeal.decision_reason = reason
    appeal.reduced_fine_cents = new_amount_cents if outcome is ContestOutcome.REDUCED else None
    appeal.decided_by = uow.actor.user_id
    appeal.decided_at = now
    for hearing in s.scalars(select(Hearing).where(Hearing.appeal_id == appeal.id, Hearing.status == "scheduled")):
        hearing.status = "held" if hearing.scheduled_at <= now else "cancelled"
    for hold in active_holds(uow, case.id):
        if hold.kind == "appeal":
            release_hold(uow, case, hold, f"{level.name} {number} {outcome.value}")
    balance = charges - paid + adjustment + refund
    if outcome is ContestOutcome.DISMISSED:
        if case.status == CaseStatus.PAID:
            # Paid in full while the appeal was pending (the payment is refunded above).
            move(uow, case, CaseStatus.OPEN, reason=f"reopened to cancel: {level.name} {number}")
        move(uow, case, CaseStatus.DISMISSED, reason=f"{level.name} {number}: {reason}"[:500],
             action="citation.dismissed_on_appeal")
    else:
        target = CaseStatus.OPEN if balance > 0 else CaseStatus.PAID
        if case.status != target:
            move(uow, case, target, reason=f"{level.name} {number} {outcome.value}")
        if target is CaseStatus.OPEN:
            # The daily escalation recomputes the schedule from here (clocks resume after the hold).
            case.next_action = "resume_after_appeal"
            case.next_action_date = rules.local_date(now, profile)
    decided_on = rules.local_date(now, profile)
    nxt = rules.next_level(profile, appeal.level, decided_on, outcome)
    queue_letter(uow, case, appeal, "decision_letter", f"decision_letter:{appeal.id}")
    return DecisionResult(appeal.id, number, outcome.value, case.status, adjustment, refund, balance,
                          nxt.level.name if nxt else None, nxt.deadline if nxt else None,
                          rules.outcome_text(outcome.value, charges, paid, profile.currency, new_amount_cents))


def decide_appeal(app: AppContext, actor: Actor, appeal_id: int, decision: str, reason: str,
                  new_amount_cents: int | None = None) -> DecisionResult:
    """The hearing officer's decision: uphold (case resumes), dismiss (case closed, payments refunded) or
    reduce (ledger adjusted to ``new_amount_cents``, the new total owed), with a written reason."""
    try:
        outcome = ContestOutcome(decision)
    except ValueError:
        raise UserError(f"'{decision}' is not a decision (upheld, dismissed or reduced).") from None
    text = rules.check_reason(reason)
    with app.uow(actor, Permission.DECIDE_APPEALS) as uow:
        appeal, case = lock_appeal(uow, appeal_id)
        if appeal.status not in rules.PENDING_STATUSES:
            raise UserError(f"Appeal {appeal_number(appeal_id)} is already "
                            f"{appeal.status.replace('_', ' ')}; a decision cannot be taken twice.")
        _refuse_if_deemed_accepted(uow, appeal, case)
        before = {"status": appeal.status, "case_status": case.status}
        result = close_appeal(uow, case, appeal, outcome, text, new_amount_cents, AppealStatus.DECIDED)
        uow.audit("appeal.decided", "citation", case.id, before=before,
                  after={"appeal": result.number, "decision": outcome.value, "case_status": case.status,
                         "adjustment_cents": result.adjustment_cents, "refund_cents": result.refund_cents,
                         "new_amount_cents": new_amount_cents, "next_level": result.next_level,
                         "next_level_deadline": result.next_level_deadline},
                  reason=text)
        uow.commit()
        return result


def _refuse_if_deemed_accepted(uow: UnitOfWork, appeal: Appeal, case: Citation) -> None:
    """England (reg. 6 of the Representations and Appeals Regulations 2022, reg. 5 of the 2007 ones): the
    decision must be SERVED within the 56 days beginning with receipt, else the representations are deemed
    accepted. ``decide_by`` is the last day a decision can be posted and still be served in time
    (``case_plan.decision_deadline``); one taken after it would be served too late to count, so it is refused
    here (not merely greyed out on screen), whether or not the daily run has recorded the acceptance yet."""
    if appeal.decide_by is None:
        return
    profile = case_profile(case)
    today = rules.local_date(uow.app.now(), profile)
    if rules.deemed_accepted(profile, appeal.level, appeal.decide_by, today):
        level = profile.appeal_level(appeal.level)
        raise UserError(
            f"Appeal {appeal_number(appeal.id)} was deemed accepted by law on "
            f"{rules.deemed_accepted_on(appeal.decide_by).isoformat()} (not decided within "
            f"{level.decision_within_days} days): a decision posted now would be served after the "
            f"{level.decision_within_days} days beginning with the day the representations were received (the last "
            f"day to post one was {appeal.decide_by.isoformat()}), so the citation is cancelled by the next daily run "
            f"and a decision can no longer be recorded.")


def withdraw_appeal(app: AppContext, actor: Actor, appeal_id: int, reason: str) -> None:
    """The appellant withdraws: the hold ends and the case resumes where it was."""
    if len(" ".join((reason or "").split())) < 3:
        raise UserError("Say how the appellant withdrew (letter, telephone call, at the counter).")
    with app.uow(actor, Permission.FILE_APPEALS) as uow:
        appeal, case = lock_appeal(uow, appeal_id)
        if appeal.status not in rules.PENDING_STATUSES:
            raise UserError(f"Appeal {appeal_number(appeal_id)} is {appeal.status.replace('_', ' ')}; "
                            f"only an open appeal can be withdrawn.")
        appeal.status = AppealStatus.WITHDRAWN.value
        for hearing in uow.session.scalars(select(Hearing).where(Hearing.appeal_id == appeal.id,
                                                                 Hearing.status == "scheduled")):
            hearing.status = "cancelled"
        for hold in active_holds(uow, case.id):
            if hold.kind == "appeal":
                release_hold(uow, case, hold, f"appeal {appeal_number(appeal.id)} withdrawn")
        charges, paid = ledger_money(uow.session, case.id)
        if case.status == CaseStatus.UNDER_APPEAL:
            move(uow, case, CaseStatus.OPEN if charges - paid > 0 else CaseStatus.PAID,
                 reason=f"appeal {appeal_number(appeal.id)} withdrawn")
        case.next_action = "resume_after_appeal"
        case.next_action_date = rules.local_date(app.now(), case_profile(case))
        uow.audit("appeal.withdrawn", "citation", case.id, after={"appeal": appeal_number(appeal.id)},
                  reason=reason.strip())
        uow.commit()
