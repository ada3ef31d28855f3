"""Jurisdiction profiles: notice stages, penalties, discounts and appeal deadlines as data.

A profile (``resources/profiles/<CODE>.json``) describes what the law of one
jurisdiction says happens to an unpaid citation, day by day. ``plan_case`` is a
pure calculator over a profile and what has happened so far; it answers "where
is this case, what is owed, what happens next and when, until when can it be
contested". Nothing here touches a database or a clock: callers pass ``as_of``.

Conventions (documented once, used everywhere):

* Day counts are calendar days in the profile's time zone. "N days after X"
  is ``X + N``: a 14-day discount on a PCN issued 1 March runs to 15 March.
  An agency that counts strictly "beginning with" the day of service (TMA 2004
  regulations) sets 13 in its profile.
* A notice counts from the day it was MAILED (recorded by the mail office), not
  from the day it was due. The deemed-service days of the post are not added.
* Holds (a case under appeal, a supervisor's hold) pause every clock: a
  deadline whose window overlaps a hold moves later by the overlap. An open
  hold (no end yet) leaves the dates it touches unknown until it ends.
* Penalties are fixed cents or a percent of the ORIGINAL fine, added when
  their stage begins, never compounded.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from desktop.domain.errors import UserError

PROFILES_DIR = Path(__file__).resolve().parents[2] / "resources" / "profiles"


class TriggerKind(str, Enum):
    DAYS_AFTER_ISSUE = "days_after_issue"
    DAYS_AFTER_PREVIOUS_NOTICE_MAILED = "days_after_previous_notice_mailed"


class DeadlineAction(str, Enum):
    """What happens when the time a stage gives runs out."""

    NEXT_STAGE = "next_stage"
    COLLECTIONS_REFERRAL = "collections_referral"
    JUDGMENT = "judgment"
    CHARGE_CERTIFICATE = "charge_certificate"
    ORDER_FOR_RECOVERY = "order_for_recovery"
    REVIEW = "review"
    """Terminal stage: nothing automatic, a person reviews the case."""


class ContestOutcome(str, Enum):
    UPHELD = "upheld"
    """The citation stands (a Notice of Rejection in England)."""
    DISMISSED = "dismissed"
    """The citation is cancelled (representations accepted)."""
    REDUCED = "reduced"
    """The citation stands with a lower fine."""


@dataclass(frozen=True)
class Trigger:
    kind: TriggerKind
    days: int


@dataclass(frozen=True)
class Penalty:
    """A fixed amount or a percent of the original fine, added when a stage begins."""

    fixed_cents: int = 0
    percent_of_fine: int = 0

    def amount_cents(self, fine_cents: int) -> int:
        # Round half up to the cent, in integers.
        return self.fixed_cents + (fine_cents * self.percent_of_fine + 50) // 100


@dataclass(frozen=True)
class Discount:
    """Early-payment discount: ``percent`` off the fine until ``deadline_days`` after issue.

    ``lost_at_stage``: once that stage's notice is mailed the discount is gone.
    ``reoffer_days_after_rejection``: when a contest at a level that re-offers the
    discount is rejected, the discount is open again for that many days from the
    rejection.
    """

    percent: int
    deadline_days: int
    lost_at_stage: str | None = None
    reoffer_days_after_rejection: int | None = None
    note: str = ""


@dataclass(frozen=True)
class Stage:
    """One step of the notice timeline.

    ``contest_deadline_days`` counts from the stage's notice mailing date (or from
    the stage start when it sends no notice); ``None`` means no new window opens.
    ``final_deadline_days`` is only used on the last stage: when its own time runs
    out (from its anchor), ``on_deadline`` happens.
    """

    key: str
    name: str
    trigger: Trigger
    notice_kind: str | None
    penalty: Penalty
    contest_deadline_days: int | None
    on_deadline: DeadlineAction
    final_deadline_days: int | None = None
    note: str = ""


@dataclass(frozen=True)
class RequestWindow:
    """A contest may be requested within ``days`` of ``counted_from``.

    ``counted_from`` is ``issue``, ``notice:<stage key>`` (that stage's notice
    mailing date) or ``decision:<level key>`` (the decision at that level).
    """

    counted_from: str
    days: int


@dataclass(frozen=True)
class AppealLevel:
    key: str
    name: str
    request_windows: tuple[RequestWindow, ...]
    decision_within_days: int | None
    deemed_accepted_if_undecided: bool
    rejection_grace_days: int | None
    reoffers_discount: bool
    legal_basis: str
    note: str = ""


@dataclass(frozen=True)
class Ground:
    key: str
    text: str
    statutory: bool = True


@dataclass(frozen=True)
class PaymentPlanRule:
    key: str
    name: str
    max_installment_cents: int
    max_months: int
    waives_penalties_on_enrolment: bool
    reinstates_penalties_on_default: bool
    legal_basis: str


@dataclass(frozen=True)
class JurisdictionProfile:
    code: str
    name: str
    version: str
    effective_from: date
    timezone: str
    currency: str
    stages: tuple[Stage, ...]
    appeal_levels: tuple[AppealLevel, ...]
    grounds: tuple[Ground, ...]
    discount: Discount | None = None
    payment_plans: tuple[PaymentPlanRule, ...] = ()
    cancel_on_vehicle_description_mismatch: bool = False
    vehicle_description_mismatch_rule: str = ""
    legal_basis: str = ""
    notes: tuple[str, ...] = ()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def stage(self, key: str) -> Stage:
        for stage in self.stages:
            if stage.key == key:
                return stage
        raise KeyError(key)

    def stage_index(self, key: str) -> int:
        for index, stage in enumerate(self.stages):
            if stage.key == key:
                return index
        raise KeyError(key)

    def appeal_level(self, key: str) -> AppealLevel:
        for level in self.appeal_levels:
            if level.key == key:
                return level
        raise UserError(f"Profile {self.code} has no appeal level '{key}'.")


# ---------------------------------------------------------------------------
# Loading and validation


class _Reader:
    """Reads one JSON object with error messages naming the file and the field."""

    def __init__(self, data: Mapping[str, Any], where: str) -> None:
        self.data = data
        self.where = where

    def fail(self, message: str) -> UserError:
        return UserError(f"{self.where}: {message}")

    def get(self, key: str, kind: type | tuple[type, ...], *, required: bool = True, default: Any = None) -> Any:
        if key not in self.data or self.data[key] is None:
            if required:
                raise self.fail(f"'{key}' is missing.")
            return default
        value = self.data[key]
        if kind is int and isinstance(value, bool):
            raise self.fail(f"'{key}' must be a whole number, not {value!r}.")
        if not isinstance(value, kind):
            names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            raise self.fail(f"'{key}' must be {names}, not {value!r}.")
        return value

    def days(self, key: str, *, required: bool = True) -> int | None:
        value: int | None = self.get(key, int, required=required)
        if value is not None and value < 0:
            raise self.fail(f"'{key}' must not be negative ({value}).")
        return value

    def child(self, key: str, value: Mapping[str, Any]) -> _Reader:
        if not isinstance(value, Mapping):
            raise self.fail(f"'{key}' must be an object.")
        return _Reader(value, f"{self.where} {key}")


def _enum(reader: _Reader, key: str, enum: type[Enum], required: bool = True) -> Any:
    raw = reader.get(key, str, required=required)
    if raw is None:
        return None
    try:
        return enum(raw)
    except ValueError:
        allowed = ", ".join(str(m.value) for m in enum)
        raise reader.fail(f"'{key}' is {raw!r}; expected one of: {allowed}.") from None


def _parse_stage(reader: _Reader) -> Stage:
    trig = reader.child("trigger", reader.get("trigger", dict))
    pen_raw = reader.get("penalty", dict, required=False, default={})
    pen = reader.child("penalty", pen_raw)
    penalty = Penalty(
        fixed_cents=pen.get("fixed_cents", int, required=False, default=0),
        percent_of_fine=pen.get("percent_of_fine", int, required=False, default=0),
    )
    if penalty.fixed_cents < 0 or penalty.percent_of_fine < 0:
        raise reader.fail("penalty amounts must not be negative.")
    days = trig.days("days")
    assert days is not None
    return Stage(
        key=reader.get("key", str),
        name=reader.get("name", str),
        trigger=Trigger(_enum(trig, "kind", TriggerKind), days),
        notice_kind=reader.get("notice_kind", str, required=False),
        penalty=penalty,
        contest_deadline_days=reader.days("contest_deadline_days", required=False),
        on_deadline=_enum(reader, "on_deadline", DeadlineAction),
        final_deadline_days=reader.days("final_deadline_days", required=False),
        note=reader.get("note", str, required=False, default=""),
    )


def _parse_level(reader: _Reader) -> AppealLevel:
    windows = []
    for index, raw in enumerate(reader.get("request_windows", list)):
        w = reader.child(f"request_windows[{index}]", raw)
        days = w.days("days")
        assert days is not None
        windows.append(RequestWindow(w.get("counted_from", str), days))
    if not windows:
        raise reader.fail("'request_windows' must list at least one window.")
    return AppealLevel(
        key=reader.get("key", str),
        name=reader.get("name", str),
        request_windows=tuple(windows),
        decision_within_days=reader.days("decision_within_days", required=False),
        deemed_accepted_if_undecided=reader.get("deemed_accepted_if_undecided", bool, required=False, default=False),
        rejection_grace_days=reader.days("rejection_grace_days", required=False),
        reoffers_discount=reader.get("reoffers_discount", bool, required=False, default=False),
        legal_basis=reader.get("legal_basis", str, required=False, default=""),
        note=reader.get("note", str, required=False, default=""),
    )


def parse_profile(data: Mapping[str, Any], where: str = "profile") -> JurisdictionProfile:
    """Build and validate a profile from its JSON object; raise ``UserError`` naming the problem."""
    if not isinstance(data, Mapping):
        raise UserError(f"{where}: a profile must be a JSON object.")
    r = _Reader(data, where)
    code = r.get("code", str)
    r.where = f"{where} ({code})"
    tz_name = r.get("timezone", str)
    try:
        ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise r.fail(f"unknown time zone {tz_name!r}.") from None
    try:
        effective_from = date.fromisoformat(r.get("effective_from", str))
    except ValueError:
        raise r.fail(f"'effective_from' must be a date like 2024-01-01, not {data['effective_from']!r}.") from None

    stages = tuple(
        _parse_stage(r.child(f"stages[{i}]", raw)) for i, raw in enumerate(r.get("stages", list))
    )
    if not stages:
        raise r.fail("a profile needs at least one stage.")
    keys = [s.key for s in stages]
    if len(set(keys)) != len(keys):
        raise r.fail(f"stage keys repeat: {keys}.")
    first = stages[0]
    if first.trigger.kind is not TriggerKind.DAYS_AFTER_ISSUE or first.trigger.days != 0:
        raise r.fail(f"the first stage ({first.key}) must start on the issue date (days_after_issue 0).")
    for previous, stage in itertools.pairwise(stages):
        if stage.trigger.kind is TriggerKind.DAYS_AFTER_PREVIOUS_NOTICE_MAILED and previous.notice_kind is None:
            raise r.fail(
                f"stage {stage.key} counts from the previous stage's notice, but {previous.key} sends no notice."
            )
        if previous.on_deadline is DeadlineAction.REVIEW:
            raise r.fail(f"stage {previous.key} is not the last stage, so its on_deadline cannot be 'review'.")
    if stages[-1].final_deadline_days is None:
        raise r.fail(f"the last stage ({stages[-1].key}) needs 'final_deadline_days'.")

    levels = tuple(
        _parse_level(r.child(f"appeal_levels[{i}]", raw)) for i, raw in enumerate(r.get("appeal_levels", list))
    )
    level_keys = {lv.key for lv in levels}
    for level in levels:
        for window in level.request_windows:
            kind, _, ref = window.counted_from.partition(":")
            ok = (
                (kind == "issue" and not ref)
                or (kind == "notice" and ref in keys)
                or (kind == "decision" and ref in level_keys)
            )
            if not ok:
                raise r.fail(
                    f"appeal level {level.key}: 'counted_from' {window.counted_from!r} must be 'issue', "
                    "'notice:<stage key>' or 'decision:<appeal level key>'."
                )

    grounds = tuple(
        Ground(
            key=g.get("key", str), text=g.get("text", str), statutory=g.get("statutory", bool, required=False, default=True)
        )
        for g in (r.child(f"grounds[{i}]", raw) for i, raw in enumerate(r.get("grounds", list)))
    )

    discount = None
    if data.get("discount") is not None:
        d = r.child("discount", r.get("discount", dict))
        percent = d.get("percent", int)
        if not 0 < percent < 100:
            raise d.fail(f"'percent' must be between 1 and 99, not {percent}.")
        lost = d.get("lost_at_stage", str, required=False)
        if lost is not None and lost not in keys:
            raise d.fail(f"'lost_at_stage' {lost!r} is not a stage of this profile.")
        deadline_days = d.days("deadline_days")
        assert deadline_days is not None
        discount = Discount(
            percent=percent,
            deadline_days=deadline_days,
            lost_at_stage=lost,
            reoffer_days_after_rejection=d.days("reoffer_days_after_rejection", required=False),
            note=d.get("note", str, required=False, default=""),
        )

    plans = []
    for i, raw in enumerate(r.get("payment_plans", list, required=False, default=[])):
        p = r.child(f"payment_plans[{i}]", raw)
        plans.append(
            PaymentPlanRule(
                key=p.get("key", str),
                name=p.get("name", str),
                max_installment_cents=p.get("max_installment_cents", int),
                max_months=p.get("max_months", int),
                waives_penalties_on_enrolment=p.get("waives_penalties_on_enrolment", bool),
                reinstates_penalties_on_default=p.get("reinstates_penalties_on_default", bool),
                legal_basis=p.get("legal_basis", str, required=False, default=""),
            )
        )

    return JurisdictionProfile(
        code=code,
        name=r.get("name", str),
        version=r.get("version", str),
        effective_from=effective_from,
        timezone=tz_name,
        currency=r.get("currency", str),
        stages=stages,
        appeal_levels=levels,
        grounds=grounds,
        discount=discount,
        payment_plans=tuple(plans),
        cancel_on_vehicle_description_mismatch=r.get(
            "cancel_on_vehicle_description_mismatch", bool, required=False, default=False
        ),
        vehicle_description_mismatch_rule=r.get("vehicle_description_mismatch_rule", str, required=False, default=""),
        legal_basis=r.get("legal_basis", str, required=False, default=""),
        notes=tuple(r.get("notes", list, required=False, default=[])),
    )


def load_profile_versions(code: str, directory: Path | None = None) -> list[JurisdictionProfile]:
    """All versions of one profile, oldest first.

    The file holds either one profile object or ``{"versions": [profile, ...]}``.
    """
    folder = directory or PROFILES_DIR
    path = folder / f"{code}.json"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in folder.glob("*.json"))) or "none"
        raise UserError(f"No jurisdiction profile '{code}' (known profiles: {known}).")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UserError(f"{path.name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}).") from None
    raw_versions = data["versions"] if isinstance(data, dict) and "versions" in data else [data]
    if not isinstance(raw_versions, list) or not raw_versions:
        raise UserError(f"{path.name}: 'versions' must be a non-empty list.")
    versions = [parse_profile(v, f"{path.name} version {i + 1}") for i, v in enumerate(raw_versions)]
    for v in versions:
        if v.code != code:
            raise UserError(f"{path.name}: holds profile code {v.code!r}, expected {code!r}.")
    versions.sort(key=lambda v: v.effective_from)
    dates = [v.effective_from for v in versions]
    if len(set(dates)) != len(dates):
        raise UserError(f"{path.name}: two versions take effect on the same date.")
    return versions


def load_profile(code: str, directory: Path | None = None) -> JurisdictionProfile:
    """The newest version of a profile."""
    return load_profile_versions(code, directory)[-1]


def all_profiles(directory: Path | None = None) -> list[JurisdictionProfile]:
    """The newest version of every profile shipped in the folder, by code."""
    folder = directory or PROFILES_DIR
    return [load_profile(p.stem, folder) for p in sorted(folder.glob("*.json"))]


def profile_for(
    code: str, issued_at: datetime, versions: Sequence[JurisdictionProfile] | None = None
) -> JurisdictionProfile:
    """The version of profile ``code`` in effect on the (local) issue date.

    A citation is processed under the rules in force when it was issued, even if
    the agency later adopts a new version.
    """
    if issued_at.tzinfo is None:
        raise ValueError("issued_at must be timezone-aware")
    candidates = sorted(
        (v for v in (versions if versions is not None else load_profile_versions(code)) if v.code == code),
        key=lambda v: v.effective_from,
    )
    if not candidates:
        raise UserError(f"No versions of profile '{code}'.")
    issue_date = issued_at.astimezone(candidates[0].tz).date()
    chosen = [v for v in candidates if v.effective_from <= issue_date]
    if not chosen:
        raise UserError(
            f"Profile {code} has no version in effect on {issue_date.isoformat()} "
            f"(the first takes effect {candidates[0].effective_from.isoformat()})."
        )
    return chosen[-1]


# ---------------------------------------------------------------------------
# Case events and the schedule


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
    level_key: str
    decided_on: date
    outcome: ContestOutcome
    reduced_fine_cents: int | None = None


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
    """Last day to decide a contest received on ``received_on`` (England: 56 days), if the profile sets one."""
    appeal = profile.appeal_level(level)
    if appeal.decision_within_days is None:
        return None
    return received_on + timedelta(days=appeal.decision_within_days)


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
            mailed.setdefault(event.stage_key, event.mailed_on)
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
        level = profile.appeal_level(level_key)
        if decision.outcome is not ContestOutcome.DISMISSED and level.rejection_grace_days is not None:
            filed_on = filed.get(level_key, decision.decided_on)
            floors.append((filed_on, decision.decided_on + timedelta(days=level.rejection_grace_days)))

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
                    ref_decision.decided_on
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
                    f"{level.name} not decided within {level.decision_within_days} days of {filed_on}: "
                    f"deemed accepted on {deadline}; cancel the penalty charge.",
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
                windows.append(decision.decided_on + timedelta(days=rule.reoffer_days_after_rejection))
    open_windows = [w for w in windows if w >= today]
    if not open_windows:
        return None
    discount_cents = (fine_cents * rule.percent + 50) // 100
    return DiscountOffer(rule.percent, discount_cents, fine_cents - discount_cents, max(open_windows))
