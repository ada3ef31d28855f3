"""The case calculator: where a case stands under its jurisdiction profile, day by day.

``plan_case`` is a pure calculator over a profile (``desktop.domain.profiles``) and what has happened
to the case so far (the case events below: notices mailed, holds, contests filed and decided); it
answers "where is this case, what is owed, what happens next and when, until when can it be
contested". Beside it, the deadline and instalment arithmetic the profiles' rules call for. Nothing
here touches a database or a clock: callers pass ``as_of``. The conventions (calendar days in the
profile's time zone, notices counted from mailing, holds pausing every clock, penalties on the
original fine) are written once, in ``desktop.domain.profiles``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from desktop.domain.errors import UserError
from desktop.domain.profiles import ContestOutcome, DeadlineAction, JurisdictionProfile, PaymentPlanRule, TriggerKind
from desktop.domain.service_days import is_working_day


@dataclass(frozen=True)
class NoticeMailed:
    stage_key: str
    mailed_on: date


@dataclass(frozen=True)
class Hold:
    """A pause of every clock from ``start`` (inclusive) to ``end`` (exclusive); ``end=None`` = still on hold."""

    start: date
    end: date | None
    reason: str = "hold"
    review_on: date | None = None


@dataclass(frozen=True)
class ContestFiled:
    level_key: str
    filed_on: date


@dataclass(frozen=True)
class ContestDecided:
    """A decision; `letter_mailed_on` is the day its letter (the notice of the decision) was posted, when it
    was: the law's day counts after a decision run from its service, not from the day it was taken."""

    level_key: str
    decided_on: date
    outcome: ContestOutcome
    reduced_fine_cents: int | None = None
    letter_mailed_on: date | None = None


def decision_served_on(profile: JurisdictionProfile, decision: ContestDecided) -> date:
    """When the decision counts as served: its letter's service date, or (letter not mailed yet) the decision
    date itself, the earliest it could be (the notice run holds what may not go out before the real one)."""
    if decision.letter_mailed_on is None:
        return decision.decided_on
    return profile.service.served_on(decision.letter_mailed_on)


def rejection_floor(profile: JurisdictionProfile, decision: ContestDecided) -> date | None:
    """The first day the next step of the ladder may come after a decision against the motorist, or None.

    England: a Charge Certificate may be served only once the 28 days BEGINNING WITH the service of the notice
    of rejection (of representations, or the adjudicator's refusal of an appeal) have ended unpaid: the motorist
    may appeal, or pay, within them (reg. 21 of the Civil Enforcement of Parking Contraventions (England)
    General Regulations 2007, carried into the 2022 regulations; the Representations and Appeals Regulations
    2007). Those 28 days are service (day 1) to service + 27, so the first day after them is service + 28: the
    level's ``rejection_grace_days`` (28) counts the full period, as the profile's Charge Certificate trigger
    does (the windows a motorist may act in are written 27 in the profile: their last day). Service of the
    letter: ``decision_served_on``. Both this calculator and the daily escalation use this rule.
    """
    level = profile.appeal_level(decision.level_key)
    if decision.outcome is ContestOutcome.DISMISSED or level.rejection_grace_days is None:
        return None
    return decision_served_on(profile, decision) + timedelta(days=level.rejection_grace_days)


CaseEvent = NoticeMailed | Hold | ContestFiled | ContestDecided


@dataclass(frozen=True)
class PenaltyDue:
    stage_key: str
    amount_cents: int
    as_of_date: date


@dataclass(frozen=True)
class NextAction:
    code: str
    text: str
    due_on: date


@dataclass(frozen=True)
class DiscountOffer:
    percent: int
    discount_cents: int
    amount_payable_cents: int
    until: date


@dataclass(frozen=True)
class StageDate:
    key: str
    starts_on: date | None
    """None when it cannot be known yet (previous notice not mailed, or an open hold)."""
    notice_mailed_on: date | None


@dataclass(frozen=True)
class CaseSchedule:
    profile_code: str
    profile_version: str
    issue_date: date
    as_of: date
    fine_cents: int
    current_stage: str
    stage_dates: tuple[StageDate, ...]
    penalties: tuple[PenaltyDue, ...]
    discount: DiscountOffer | None
    next_action: NextAction | None
    contest_deadline: date | None
    closed: bool = False
    closed_reason: str = ""
    on_hold: bool = False
    overdue_notices: tuple[str, ...] = ()
    appeal_deadlines: Mapping[str, date] = field(default_factory=dict)

    @property
    def penalties_cents(self) -> int:
        return sum(p.amount_cents for p in self.penalties)

    @property
    def amount_due_cents(self) -> int:
        """Fine plus penalties (before payments, which the ledger knows)."""
        return self.fine_cents + self.penalties_cents

    def stage_start(self, key: str) -> date | None:
        for sd in self.stage_dates:
            if sd.key == key:
                return sd.starts_on
        raise KeyError(key)


@dataclass(frozen=True)
class _Interval:
    start: date
    end: date | None
    reason: str
    review_on: date | None = None


def _merge_holds(holds: Iterable[_Interval]) -> list[_Interval]:
    ordered = sorted(holds, key=lambda h: h.start)
    merged: list[_Interval] = []
    for hold in ordered:
        if hold.end is not None and hold.end <= hold.start:
            continue
        if merged:
            last = merged[-1]
            if last.end is None or hold.start <= last.end:
                end = None if last.end is None or hold.end is None else max(last.end, hold.end)
                merged[-1] = replace(last, end=end, reason=last.reason if last.end != hold.start else hold.reason)
                continue
        merged.append(hold)
    return merged


def shift_for_holds(anchor: date, days: int, holds: Sequence[_Interval]) -> date | None:
    """``anchor + days``, moved later by every hold overlapping the window; None if an open hold intervenes."""
    due = anchor + timedelta(days=days)
    for hold in holds:
        if hold.start > due:
            break
        if hold.end is None:
            return None
        if hold.end <= anchor:
            continue
        due += hold.end - max(hold.start, anchor)
    return due


def appeal_deadline(
    profile: JurisdictionProfile, level: str, reference_date: date, counted_from: str | None = None
) -> date:
    """Last day to request ``level``, counted from ``reference_date``.

    ``counted_from`` picks the request window when a level has several (CA
    initial review: ``issue`` or ``notice:delinquent_notice``); default: the first.
    """
    appeal = profile.appeal_level(level)
    windows = appeal.request_windows
    if counted_from is not None:
        windows = tuple(w for w in windows if w.counted_from == counted_from)
        if not windows:
            raise UserError(f"Appeal level {appeal.name} is not counted from {counted_from!r}.")
    return reference_date + timedelta(days=windows[0].days)


def decision_deadline(profile: JurisdictionProfile, level: str, received_on: date) -> date | None:
    """Last day to decide a contest received on ``received_on``, if the profile sets a limit.

    Where an undecided contest is deemed accepted (England), the limit is on SERVICE of the decision: the
    enforcement authority must "within the period of 56 days beginning with the date on which it receives the
    representations ... serve on the recipient a notice of its decision", failing which it "is deemed ... to
    have accepted the representations" (reg. 6(3), (4)(b) and (7) of the Civil Enforcement of Road Traffic
    Contraventions (Representations and Appeals) (England) Regulations 2022; reg. 5(2)(b) and (5) of the
    Representations and Appeals Regulations 2007 before them). The period's last day is receipt + 55 (day 1 is
    the day received), and a posted decision is served on the profile's service day (England: the second
    working day after posting, bank holidays skipped). So the deadline is the LAST (working) DAY THE DECISION
    CAN BE POSTED and still be served within the period (``last_day_to_post``). The reading that protects both: the
    motorist is never sent a decision served too late to count, and the council never issues one that a
    tribunal would set aside; a decision that would be served late is refused, and the contest is treated
    as accepted the day after this deadline, since no decision can be served in time any more.

    Elsewhere (no deemed acceptance: California, New York) the profile's days run from receipt to the
    decision, as before: ``received_on + decision_within_days``.
    """
    appeal = profile.appeal_level(level)
    if appeal.decision_within_days is None:
        return None
    if appeal.deemed_accepted_if_undecided:
        period_ends = received_on + timedelta(days=appeal.decision_within_days - 1)  # "beginning with" receipt
        return last_day_to_post(profile, period_ends)
    return received_on + timedelta(days=appeal.decision_within_days)


def last_day_to_post(profile: JurisdictionProfile, served_by: date) -> date:
    """The last day a letter can be posted and still count as served on or before ``served_by``.

    Where service counts working days (England), that day is itself a working day: a letter put in the post
    on a Sunday or a bank holiday is in practice collected the next working day, so the deadline shown never
    relies on a weekend posting (the safe side for the motorist and the council alike)."""
    rule = profile.service
    day = served_by
    while rule.served_on(day) > served_by or (rule.working_days and not is_working_day(day, rule.non_working_days)):
        day -= timedelta(days=1)
    return day


def payment_plan_installments(rule: PaymentPlanRule, amount_cents: int) -> list[int]:
    """Equal monthly installments (the last one takes the remainder) within the plan's limits.

    Raises ``UserError`` when the amount cannot be paid within ``max_months`` at
    ``max_installment_cents`` a month.
    """
    if amount_cents <= 0:
        return []
    months = math.ceil(amount_cents / rule.max_installment_cents)
    if months > rule.max_months:
        limit = rule.max_installment_cents * rule.max_months
        raise UserError(
            f"{rule.name}: {amount_cents / 100:.2f} cannot be paid within {rule.max_months} months at "
            f"{rule.max_installment_cents / 100:.2f} a month (at most {limit / 100:.2f}); a supervisor must decide."
        )
    base = amount_cents // months
    plan = [base] * months
    plan[-1] += amount_cents - base * months
    if plan[-1] > rule.max_installment_cents:
        # Spread the remainder over the first months instead, never above the cap.
        plan = [base] * months
        for i in range(amount_cents - base * months):
            plan[i] += 1
    return plan


def _notice_text(kind: str) -> str:
    return kind.replace("_", " ")


def plan_case(
    profile: JurisdictionProfile,
    issued_at: datetime,
    fine_cents: int,
    events: Sequence[CaseEvent],
    as_of: date | None = None,
) -> CaseSchedule:
    """Where a case stands on ``as_of`` (default: the issue date) under ``profile``.

    ``events`` are what has happened: notices mailed, holds, contests filed and
    decided. Payments are not needed: the ledger adds them.
    """
    if issued_at.tzinfo is None:
        raise ValueError("issued_at must be timezone-aware")
    issue_date = issued_at.astimezone(profile.tz).date()
    today = as_of or issue_date
    mailed: dict[str, date] = {}
    intervals: list[_Interval] = []
    filed: dict[str, date] = {}
    decided: dict[str, ContestDecided] = {}
    for event in events:
        if isinstance(event, NoticeMailed):
            profile.stage(event.stage_key)  # unknown stages are a bug in the caller
            # the law counts from service (England: two working days after posting), see profiles
            mailed.setdefault(event.stage_key, profile.service.served_on(event.mailed_on))
        elif isinstance(event, Hold):
            intervals.append(_Interval(event.start, event.end, event.reason, event.review_on))
        elif isinstance(event, ContestFiled):
            profile.appeal_level(event.level_key)
            filed[event.level_key] = event.filed_on
        elif isinstance(event, ContestDecided):
            decided[event.level_key] = event
    fine = fine_cents
    for level_key, filed_on in filed.items():
        decision = decided.get(level_key)
        end = decision.decided_on if decision is not None else None
        if decision is None:
            deadline = decision_deadline(profile, level_key, filed_on)
            level = profile.appeal_level(level_key)
            if deadline is not None and level.deemed_accepted_if_undecided and today > deadline:
                end = deadline
        intervals.append(_Interval(filed_on, end, f"contest:{level_key}"))
        if decision is not None and decision.outcome is ContestOutcome.REDUCED and decision.reduced_fine_cents is not None:
            fine = decision.reduced_fine_cents
    holds = _merge_holds(intervals)

    # Rejections: the next step may not come sooner than the grace after the decision.
    floors: list[tuple[date, date]] = []  # (filed_on, earliest next step)
    for level_key, decision in decided.items():
        floor = rejection_floor(profile, decision)
        if floor is not None:
            floors.append((filed.get(level_key, decision.decided_on), floor))

    stage_dates: list[StageDate] = []
    starts: list[date | None] = []
    for index, stage in enumerate(profile.stages):
        start: date | None
        if index == 0:
            start = issue_date
        elif stage.trigger.kind is TriggerKind.DAYS_AFTER_ISSUE:
            start = shift_for_holds(issue_date, stage.trigger.days, holds)
        else:
            prev_mailed = mailed.get(profile.stages[index - 1].key)
            start = None if prev_mailed is None else shift_for_holds(prev_mailed, stage.trigger.days, holds)
        if index > 0 and start is not None:
            for filed_on, floor in floors:
                if start >= filed_on:
                    start = max(start, floor)
        # A stage never starts before the one it follows.
        if index > 0 and start is not None:
            prev_start = starts[-1]
            if prev_start is None:
                start = None
            else:
                start = max(start, prev_start)
        starts.append(start)
        stage_dates.append(StageDate(stage.key, start, mailed.get(stage.key)))

    reached = [i for i, s in enumerate(starts) if s is not None and s <= today]
    current_index = reached[-1] if reached else 0
    current = profile.stages[current_index]

    penalties = tuple(
        PenaltyDue(profile.stages[i].key, profile.stages[i].penalty.amount_cents(fine), starts[i])  # type: ignore[arg-type]
        for i in reached
        if profile.stages[i].penalty.amount_cents(fine) > 0
    )

    # Contest deadlines: the latest window opened by a reached stage.
    contest_deadline: date | None = None
    for i in reached:
        stage = profile.stages[i]
        if stage.contest_deadline_days is None:
            continue
        anchor = mailed.get(stage.key) if stage.notice_kind else starts[i]
        if anchor is None:
            continue
        deadline = shift_for_holds(anchor, stage.contest_deadline_days, holds)
        if deadline is not None and (contest_deadline is None or deadline > contest_deadline):
            contest_deadline = deadline

    appeal_deadlines: dict[str, date] = {}
    for level in profile.appeal_levels:
        best: date | None = None
        for window in level.request_windows:
            kind, _, ref = window.counted_from.partition(":")
            anchor_date: date | None
            if kind == "issue":
                anchor_date = issue_date
            elif kind == "notice":
                anchor_date = mailed.get(ref)
            else:
                ref_decision = decided.get(ref)
                anchor_date = (
                    decision_served_on(profile, ref_decision)
                    if ref_decision is not None and ref_decision.outcome is not ContestOutcome.DISMISSED
                    else None
                )
            if anchor_date is not None:
                candidate = anchor_date + timedelta(days=window.days)
                best = candidate if best is None or candidate > best else best
        if best is not None:
            appeal_deadlines[level.key] = best

    discount = _discount_offer(profile, issue_date, fine, mailed, filed, decided, holds, today)

    overdue = tuple(
        profile.stages[i].key
        for i in reached
        if profile.stages[i].notice_kind is not None and profile.stages[i].key not in mailed
    )

    def schedule(next_action: NextAction | None, closed: bool = False, reason: str = "", on_hold: bool = False) -> CaseSchedule:
        return CaseSchedule(
            profile_code=profile.code,
            profile_version=profile.version,
            issue_date=issue_date,
            as_of=today,
            fine_cents=fine,
            current_stage=current.key,
            stage_dates=tuple(stage_dates),
            penalties=penalties,
            discount=None if closed else discount,
            next_action=next_action,
            contest_deadline=contest_deadline,
            closed=closed,
            closed_reason=reason,
            on_hold=on_hold,
            overdue_notices=overdue,
            appeal_deadlines=appeal_deadlines,
        )

    # 1. Decided in the motorist's favour, or deemed so.
    for level_key, decision in decided.items():
        if decision.outcome is ContestOutcome.DISMISSED and decision.decided_on <= today:
            level = profile.appeal_level(level_key)
            return schedule(None, closed=True, reason=f"{level.name} decided for the motorist on {decision.decided_on}")
    for level_key, filed_on in filed.items():
        if level_key in decided:
            continue
        level = profile.appeal_level(level_key)
        deadline = decision_deadline(profile, level_key, filed_on)
        if deadline is None:
            continue
        if level.deemed_accepted_if_undecided and today > deadline:
            return schedule(
                NextAction(
                    "cancel_deemed_accepted",
                    f"{level.name} not decided within {level.decision_within_days} days of {filed_on} (no "
                    f"decision posted by {deadline}, the last day one is served in time): deemed accepted; "
                    f"cancel the penalty charge.",
                    deadline,
                ),
                closed=True,
                reason="deemed_accepted",
            )

    # 2. A clock is paused.
    for hold in holds:
        if hold.start <= today and (hold.end is None or today < hold.end):
            if hold.reason.startswith("contest:"):
                level_key = hold.reason.split(":", 1)[1]
                level = profile.appeal_level(level_key)
                deadline = decision_deadline(profile, level_key, filed[level_key])
                return schedule(
                    NextAction(
                        f"decide_{level_key}",
                        f"Decide the {level.name.lower()} filed {filed[level_key]}"
                        + (" (deemed accepted if not decided by then)" if level.deemed_accepted_if_undecided else ""),
                        deadline or today,
                    ),
                    on_hold=True,
                )
            return schedule(
                NextAction("review_hold", f"Clocks paused ({hold.reason}) since {hold.start}; review the hold.",
                           hold.review_on or hold.end or today),
                on_hold=True,
            )

    # 3. The current stage's notice is due and not mailed.
    if current.notice_kind is not None and current.key not in mailed:
        return schedule(NextAction(f"mail_{current.notice_kind}", f"Mail the {_notice_text(current.notice_kind)}.",
                                   starts[current_index] or today))

    # 4. The next stage, or the last stage's own deadline.
    if current_index + 1 < len(profile.stages):
        nxt = profile.stages[current_index + 1]
        nxt_start = starts[current_index + 1]
        if nxt_start is None:  # pragma: no cover - only with an open hold, handled above
            return schedule(NextAction("review", "Next step date unknown; review the case.", today))
        action = current.on_deadline
        code = f"next_stage:{nxt.key}" if action is DeadlineAction.NEXT_STAGE else action.value
        what = f"mail the {_notice_text(nxt.notice_kind)}" if nxt.notice_kind else nxt.name.lower()
        return schedule(NextAction(code, f"If unpaid: {nxt.name} ({what}).", nxt_start))
    anchor = mailed.get(current.key) if current.notice_kind else starts[current_index]
    assert anchor is not None and current.final_deadline_days is not None
    due = shift_for_holds(anchor, current.final_deadline_days, holds) or today
    action = current.on_deadline
    texts = {
        DeadlineAction.COLLECTIONS_REFERRAL: "If unpaid: refer to collections.",
        DeadlineAction.JUDGMENT: "If unpaid: enter judgment.",
        DeadlineAction.REVIEW: "Review the case (no further automatic step).",
    }
    return schedule(NextAction(action.value, texts.get(action, f"If unpaid: {action.value.replace('_', ' ')}."), due))


def _discount_offer(
    profile: JurisdictionProfile,
    issue_date: date,
    fine_cents: int,
    mailed: Mapping[str, date],
    filed: Mapping[str, date],
    decided: Mapping[str, ContestDecided],
    holds: Sequence[_Interval],
    today: date,
) -> DiscountOffer | None:
    rule = profile.discount
    if rule is None:
        return None
    windows: list[date] = []
    base = shift_for_holds(issue_date, rule.deadline_days, holds)
    lost_on = mailed.get(rule.lost_at_stage) if rule.lost_at_stage else None
    if base is not None:
        windows.append(base if lost_on is None else min(base, lost_on - timedelta(days=1)))
    if rule.reoffer_days_after_rejection is not None:
        for level_key, decision in decided.items():
            level = profile.appeal_level(level_key)
            if level.reoffers_discount and decision.outcome is not ContestOutcome.DISMISSED:
                windows.append(decision_served_on(profile, decision)
                               + timedelta(days=rule.reoffer_days_after_rejection))
    open_windows = [w for w in windows if w >= today]
    if not open_windows:
        return None
    discount_cents = (fine_cents * rule.percent + 50) // 100
    return DiscountOffer(rule.percent, discount_cents, fine_cents - discount_cents, max(open_windows))
