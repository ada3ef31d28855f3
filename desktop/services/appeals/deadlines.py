"""The daily deadline rule for appeals: deemed acceptances (England) and the overdue and due-soon lists.

Run by the daily run (``desktop.services.daily_run``) before the escalation, and by
``main.py appeals deadlines``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from desktop.domain import appeals as rules
from desktop.domain import case_plan
from desktop.domain.appeals import AppealStatus, appeal_number
from desktop.domain.ledger import format_cents
from desktop.domain.profiles import ContestOutcome
from desktop.domain.roles import Permission
from desktop.domain.wording import counted
from desktop.persistence.models import Appeal, Citation
from desktop.services.appeals.common import case_profile, lock_appeal
from desktop.services.appeals.decisions import close_appeal
from desktop.services.core import settings
from desktop.services.core.context import Actor, AppContext

# --------------------------------------------------------------------------- the daily deadline rule


@dataclass(frozen=True)
class DeadlineItem:
    appeal_id: int
    number: str
    citation_number: str
    level_name: str
    decide_by: date
    days_left: int
    refund_cents: int = 0
    currency: str = "USD"


@dataclass
class DeadlineSummary:
    """What ``apply_appeal_deadlines`` did and found."""

    as_of: date | None
    deemed_accepted: list[DeadlineItem] = field(default_factory=list)
    overdue: list[DeadlineItem] = field(default_factory=list)
    due_soon: list[DeadlineItem] = field(default_factory=list)
    #: statutory deadlines stored under an earlier rule, set again by today's (``correct_statutory_deadlines``)
    corrected: list[tuple[DeadlineItem, date]] = field(default_factory=list)
    checked: int = 0

    def lines(self) -> list[str]:
        out = [f"{self.checked} open appeals checked"
               + (f" as of {self.as_of.isoformat()}" if self.as_of else "") + "."]
        for d, was in self.corrected:
            out.append(f"DEADLINE CORRECTED {d.number} (citation {d.citation_number}, {d.level_name}): decide-by "
                       f"{was.isoformat()} -> {d.decide_by.isoformat()}, as the law counts it.")
        for d in self.deemed_accepted:
            out.append(f"DEEMED ACCEPTED {d.number} (citation {d.citation_number}, {d.level_name}): not decided "
                       f"by {d.decide_by.isoformat()}; case cancelled"
                       + (f", {format_cents(d.refund_cents, d.currency)} refunded" if d.refund_cents else "") + ".")
        for d in self.overdue:
            out.append(f"OVERDUE {d.number} (citation {d.citation_number}, {d.level_name}): decide-by "
                       f"{d.decide_by.isoformat()}, {counted(-d.days_left, 'day')} late.")
        for d in self.due_soon:
            out.append(f"due soon {d.number} (citation {d.citation_number}, {d.level_name}): "
                       f"{counted(d.days_left, 'day')} left (by {d.decide_by.isoformat()}).")
        return out


def apply_appeal_deadlines(app: AppContext, actor: Actor, as_of: date | None = None) -> DeadlineSummary:
    """Apply each profile's rule to appeals whose decision deadline has passed; list the overdue ones.

    England: representations undecided after 56 days are deemed accepted: the case is cancelled, any
    payment refunded, the appellant written to, all recorded in the audit trail. Other profiles have no
    such rule: overdue appeals are listed (and sorted first on the appeals screen). Each deemed acceptance
    is its own unit of work; running the rule twice changes nothing the second time.
    """
    summary = DeadlineSummary(as_of)
    summary.corrected = correct_statutory_deadlines(app, actor)
    with app.reader(actor, Permission.RUN_ESCALATION) as uow:
        s = uow.session
        soon = int(settings.get(s, "appeals.due_soon_days"))
        pending = s.execute(select(Appeal.id, Appeal.citation_id, Appeal.level, Appeal.decide_by, Citation)
                            .join(Citation, Citation.id == Appeal.citation_id)
                            .where(Appeal.status.in_(rules.PENDING_STATUSES))
                            .order_by(Appeal.decide_by, Appeal.id)).all()
        work = []
        for appeal_id, _cid, level_key, decide_by, case in pending:
            summary.checked += 1
            if decide_by is None:
                continue
            profile = case_profile(case)
            today = as_of or rules.local_date(app.now(), profile)
            left = rules.days_left(decide_by, today)
            item = DeadlineItem(appeal_id, appeal_number(appeal_id), case.citation_number,
                                profile.appeal_level(level_key).name, decide_by, left, currency=profile.currency)
            if rules.deemed_accepted(profile, level_key, decide_by, today):
                work.append(item)
            elif left < 0:
                summary.overdue.append(item)
            elif left <= soon:
                summary.due_soon.append(item)
    for item in work:
        refund = _deem_accepted(app, actor, item.appeal_id, as_of)
        if refund is not None:
            summary.deemed_accepted.append(dataclasses.replace(item, refund_cents=refund))
    return summary


def correct_statutory_deadlines(app: AppContext, actor: Actor) -> list[tuple[DeadlineItem, date]]:
    """Set again each pending appeal's LEGAL deadline that was stored under an earlier rule.

    The deadline is stored when the appeal is filed. Release 0.2 counts England's 56 days to the SERVICE of
    the decision (reg. 6 of the Civil Enforcement of Road Traffic Contraventions (Representations and Appeals)
    (England) Regulations 2022, with the profile's service rule: ``case_plan.decision_deadline``), where 0.1
    counted them to its posting; appeals filed before the upgrade kept the later day, which the law does not
    give. Each one that differs is corrected in its own audited change, before the deemed-acceptance rule
    reads it (so the run that corrects a deadline already past applies the law to it). Only levels where an
    undecided appeal is deemed accepted are read (the count that changed, and where a wrong day decides the
    case); other deadlines are reminders the agency may have moved. Running it twice changes nothing the
    second time.
    """
    with app.reader(actor, Permission.RUN_ESCALATION) as uow:
        rows = uow.session.execute(select(Appeal.id, Appeal.level, Appeal.filed_at, Appeal.decide_by, Citation)
                                   .join(Citation, Citation.id == Appeal.citation_id)
                                   .where(Appeal.status.in_(rules.PENDING_STATUSES),
                                          Appeal.decide_by.is_not(None))).all()
        wrong = []
        for appeal_id, level_key, filed_at, decide_by, case in rows:
            profile = case_profile(case)
            if not profile.appeal_level(level_key).deemed_accepted_if_undecided:
                continue
            legal = case_plan.decision_deadline(profile, level_key, rules.local_date(filed_at, profile))
            if legal is not None and legal != decide_by:
                wrong.append((appeal_id, legal))
    corrected = []
    for appeal_id, legal in wrong:
        with app.uow(actor, Permission.RUN_ESCALATION) as uow:
            appeal, case = lock_appeal(uow, appeal_id)
            was = appeal.decide_by
            if appeal.status not in rules.PENDING_STATUSES or was is None or was == legal:
                continue
            profile = case_profile(case)
            level = profile.appeal_level(appeal.level)
            appeal.decide_by = legal
            uow.audit("appeal.deadline_corrected", "citation", case.id,
                      before={"appeal": appeal_number(appeal.id), "decide_by": was.isoformat()},
                      after={"appeal": appeal_number(appeal.id), "decide_by": legal.isoformat()},
                      reason=f"The decision deadline is counted as the law counts it: {level.legal_basis}.")
            uow.commit()
            today = rules.local_date(app.now(), profile)
            corrected.append((DeadlineItem(appeal.id, appeal_number(appeal.id), case.citation_number, level.name,
                                           legal, rules.days_left(legal, today), currency=profile.currency), was))
    return corrected


def _deem_accepted(app: AppContext, actor: Actor, appeal_id: int, as_of: date | None) -> int | None:
    with app.uow(actor, Permission.RUN_ESCALATION) as uow:
        appeal, case = lock_appeal(uow, appeal_id)
        if appeal.status not in rules.PENDING_STATUSES or appeal.decide_by is None:
            return None
        profile = case_profile(case)
        today = as_of or rules.local_date(app.now(), profile)
        if not rules.deemed_accepted(profile, appeal.level, appeal.decide_by, today):
            return None
        level = profile.appeal_level(appeal.level)
        reason = (f"Deemed accepted: the {level.name.lower()} received on "
                  f"{rules.local_date(appeal.filed_at, profile).isoformat()} was not decided within "
                  f"{level.decision_within_days} days: no decision was posted by {appeal.decide_by.isoformat()}, the "
                  f"last day a posted decision is served within the {level.decision_within_days} days beginning with "
                  f"its receipt. {level.legal_basis}.")
        before = {"status": appeal.status, "case_status": case.status}
        result = close_appeal(uow, case, appeal, ContestOutcome.DISMISSED, reason, None,
                               AppealStatus.DEEMED_ACCEPTED)
        uow.audit("appeal.deemed_accepted", "citation", case.id, before=before,
                  after={"appeal": result.number, "case_status": case.status,
                         "adjustment_cents": result.adjustment_cents, "refund_cents": result.refund_cents},
                  reason=reason)
        uow.commit()
        return result.refund_cents
