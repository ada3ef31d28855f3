"""Appeal rules: which level a contest goes to, until when it may be filed, until when it must be
decided, what happens when that passes, and what a decision does to the money.

Plain Python over a jurisdiction profile (``desktop.domain.profiles``). Dates are calendar dates in the
profile's time zone; callers convert times with ``local_date``. Nothing here reads a database or a clock.

Levels follow the profile's ``appeal_levels`` in order. A level is *open* to a motorist when every one of
its request windows that can be counted already has its anchor: ``issue`` always, ``notice:<stage>``
once that notice was mailed, ``decision:<level>`` once that level was decided against the motorist
(upheld or reduced). The level a new contest goes to is the latest open level not yet used, so a
Californian whose initial review was upheld goes on to the administrative hearing, and an English
owner served with a Notice to Owner makes formal representations rather than an informal challenge.

Decision deadlines: the profile's ``decision_within_days`` (England: the decision must be SERVED within 56
days beginning with receipt, so decide_by is the last day it can be posted; deemed accepted after that); a level without one gets the agency's service target (``target_days``), marked as a target so
that nobody mistakes it for a legal limit.

Money: a decision never edits a balance. Dismissal cancels every charge (one ADJUSTMENT down to zero)
and refunds what the motorist paid; a reduction adjusts the charges down to the new amount and refunds
anything paid above it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from desktop.domain import case_plan
from desktop.domain.errors import UserError
from desktop.domain.ledger import format_cents
from desktop.domain.profiles import AppealLevel, ContestOutcome, JurisdictionProfile
from desktop.domain.text import REASON, clean_text


class AppealStatus(StrEnum):
    OPEN = "open"
    SCHEDULED = "scheduled"
    DECIDED = "decided"
    DEEMED_ACCEPTED = "deemed_accepted"
    WITHDRAWN = "withdrawn"

    @property
    def is_pending(self) -> bool:
        return self in (AppealStatus.OPEN, AppealStatus.SCHEDULED)


PENDING_STATUSES = (AppealStatus.OPEN.value, AppealStatus.SCHEDULED.value)


class Channel(StrEnum):
    MAIL = "mail"
    ONLINE = "online"
    COUNTER = "counter"

    @property
    def label(self) -> str:
        return {"mail": "Mail", "online": "Online", "counter": "In person"}[self.value]


class HearingMode(StrEnum):
    IN_PERSON = "in_person"
    PHONE = "phone"
    VIDEO = "video"

    @property
    def label(self) -> str:
        return {"in_person": "In person", "phone": "Telephone", "video": "Video"}[self.value]


#: Decisions a hearing officer takes; the values are ``ContestOutcome``'s and the printed letters'.
DECISIONS = (ContestOutcome.UPHELD, ContestOutcome.DISMISSED, ContestOutcome.REDUCED)

MIN_REASON_CHARS = 10


def a_or_an(noun: str) -> str:
    """'an initial review', 'a hearing'."""
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def local_date(moment: datetime, profile: JurisdictionProfile) -> date:
    """The calendar date of an aware time in the profile's zone."""
    if moment.tzinfo is None:
        raise ValueError("moment must be timezone-aware")
    return moment.astimezone(profile.tz).date()


def appeal_number(appeal_id: int) -> str:
    """The reference printed on every letter about an appeal."""
    return f"AP{appeal_id:07d}"


# --------------------------------------------------------------------------- levels and request windows


@dataclass(frozen=True)
class CaseHistory:
    """What has happened on a case that the appeal rules look at.

    ``filed``: levels already used by a live or decided contest (withdrawn ones are left out).
    ``decided``: level -> (decision date, outcome). ``notices_mailed``: stage key -> mailing date.
    """

    issue_date: date
    notices_mailed: Mapping[str, date] = field(default_factory=dict)
    filed: Mapping[str, date] = field(default_factory=dict)
    decided: Mapping[str, tuple[date, ContestOutcome]] = field(default_factory=dict)


def _anchor(profile: JurisdictionProfile, counted_from: str, history: CaseHistory) -> date | None:
    kind, _, ref = counted_from.partition(":")
    if kind == "issue":
        return history.issue_date
    if kind == "notice":
        mailed = history.notices_mailed.get(ref)
        return None if mailed is None else profile.service.served_on(mailed)  # counted from service
    decided = history.decided.get(ref)
    if decided is None or decided[1] is ContestOutcome.DISMISSED:
        return None
    return decided[0]


def _prerequisites(level: AppealLevel) -> list[str]:
    """Levels whose decision this level's windows count from."""
    out = []
    for window in level.request_windows:
        kind, _, ref = window.counted_from.partition(":")
        if kind == "decision":
            out.append(ref)
    return out


def request_deadline(profile: JurisdictionProfile, level_key: str, history: CaseHistory) -> date | None:
    """Last day to ask for ``level_key``: the latest of its windows whose anchor is known, or None."""
    level = profile.appeal_level(level_key)
    best: date | None = None
    for window in level.request_windows:
        anchor = _anchor(profile, window.counted_from, history)
        if anchor is not None:
            candidate = anchor + timedelta(days=window.days)
            best = candidate if best is None or candidate > best else best
    return best


def is_open(profile: JurisdictionProfile, level: AppealLevel, history: CaseHistory) -> bool:
    """The level may be asked for now (late or not): its anchors exist and it has not been used."""
    if level.key in history.filed:
        return False
    for ref in _prerequisites(level):
        decided = history.decided.get(ref)
        if decided is None or decided[1] is ContestOutcome.DISMISSED:
            return False
    return request_deadline(profile, level.key, history) is not None


def choose_level(profile: JurisdictionProfile, history: CaseHistory, requested: str | None = None) -> AppealLevel:
    """The level a new contest goes to; ``requested`` must be open. Raises UserError saying why not."""
    if requested:
        level = profile.appeal_level(requested)
        if level.key in history.filed:
            raise UserError(f"This case already had a {level.name.lower()}; it cannot be asked for twice.")
        for ref in _prerequisites(level):
            if ref not in history.decided:
                prior = profile.appeal_level(ref)
                raise UserError(f"{a_or_an(level.name.lower()).capitalize()} can only be asked for after the "
                                f"{prior.name.lower()} has been decided.")
        if not is_open(profile, level, history):
            raise UserError(_why_closed(profile, level, history))
        return level
    candidates = [lv for lv in profile.appeal_levels if is_open(profile, lv, history)]
    if not candidates:
        used = ", ".join(profile.appeal_level(k).name.lower() for k in history.filed) or "none"
        raise UserError(f"No level of appeal is open for this case under the {profile.name} rules "
                        f"(already used: {used}).")
    return candidates[-1]


def _why_closed(profile: JurisdictionProfile, level: AppealLevel, history: CaseHistory) -> str:
    for window in level.request_windows:
        kind, _, ref = window.counted_from.partition(":")
        if kind == "notice" and ref not in history.notices_mailed:
            stage = profile.stage(ref)
            return (f"{a_or_an(level.name.lower()).capitalize()} can only be made once the {stage.name} has been "
                    f"mailed.")
        if kind == "decision":
            decided = history.decided.get(ref)
            if decided is not None and decided[1] is ContestOutcome.DISMISSED:
                return f"The {profile.appeal_level(ref).name.lower()} was decided for the motorist; nothing to appeal."
    return f"{a_or_an(level.name.lower()).capitalize()} is not open for this case."


@dataclass(frozen=True)
class FilingCheck:
    """Whether a contest filed on ``filed_on`` is within its request window."""

    level: AppealLevel
    deadline: date
    filed_on: date

    @property
    def late_by_days(self) -> int:
        return max(0, (self.filed_on - self.deadline).days)

    @property
    def is_late(self) -> bool:
        return self.filed_on > self.deadline

    def explanation(self) -> str:
        if not self.is_late:
            return f"Filed within the time allowed (last day {self.deadline.isoformat()})."
        days = self.late_by_days
        return (f"The last day to ask for {a_or_an(self.level.name.lower())} was {self.deadline.isoformat()}; "
                f"this one is {days} day{'s' if days != 1 else ''} late. A supervisor must override the "
                f"deadline, with a reason.")


def check_filing(profile: JurisdictionProfile, level: AppealLevel, history: CaseHistory, filed_on: date) -> FilingCheck:
    deadline = request_deadline(profile, level.key, history)
    if deadline is None:
        raise UserError(_why_closed(profile, level, history))
    return FilingCheck(level, deadline, filed_on)


# --------------------------------------------------------------------------- decision deadlines


@dataclass(frozen=True)
class DecisionDeadline:
    decide_by: date
    statutory: bool
    """True when the profile sets the limit (a legal deadline); False for the agency's own target."""
    deemed_accepted_after: bool
    """True when an undecided contest is deemed accepted once ``decide_by`` has passed (England)."""


def decision_deadline(profile: JurisdictionProfile, level_key: str, filed_on: date, target_days: int) -> DecisionDeadline:
    """The day to decide by. A legal limit comes from ``case_plan.decision_deadline`` (England: the last day
    the decision can be POSTED and still be served within the 56 days beginning with receipt, reg. 6 of the
    2022 Representations and Appeals Regulations, cited there); otherwise the agency's own target."""
    level = profile.appeal_level(level_key)
    legal = case_plan.decision_deadline(profile, level_key, filed_on)
    if legal is not None:
        return DecisionDeadline(legal, True, level.deemed_accepted_if_undecided)
    return DecisionDeadline(filed_on + timedelta(days=target_days), False, False)


def days_left(decide_by: date, today: date) -> int:
    """Days left to decide: 0 on the last day, negative once overdue."""
    return (decide_by - today).days


def deemed_accepted(profile: JurisdictionProfile, level_key: str, decide_by: date, today: date) -> bool:
    """England: representations not decided within 56 days are accepted on the 57th."""
    return profile.appeal_level(level_key).deemed_accepted_if_undecided and today > decide_by


# --------------------------------------------------------------------------- the next level


@dataclass(frozen=True)
class NextLevel:
    level: AppealLevel
    deadline: date


def next_level(profile: JurisdictionProfile, level_key: str, decided_on: date,
               outcome: ContestOutcome) -> NextLevel | None:
    """Where the motorist can go after a decision at ``level_key``, and by when (None after a dismissal)."""
    if outcome is ContestOutcome.DISMISSED:
        return None
    for level in profile.appeal_levels:
        for window in level.request_windows:
            if window.counted_from == f"decision:{level_key}":
                return NextLevel(level, decided_on + timedelta(days=window.days))
    return None


def pay_by_after_decision(profile: JurisdictionProfile, level_key: str, decided_on: date) -> date | None:
    grace = profile.appeal_level(level_key).rejection_grace_days
    return None if grace is None else decided_on + timedelta(days=grace)


# --------------------------------------------------------------------------- money


@dataclass(frozen=True)
class MoneyEffect:
    """Ledger entries a decision posts: an ADJUSTMENT (negative lowers the charges) and a REFUND."""

    adjustment_cents: int
    refund_cents: int
    new_charges_cents: int

    def balance_after(self, paid_cents: int) -> int:
        """What the case owes afterwards (never below zero: any excess is refunded)."""
        return self.new_charges_cents - paid_cents + self.refund_cents


def dismissal_effect(charges_cents: int, paid_cents: int) -> MoneyEffect:
    """Cancel every charge; refund everything the motorist paid (and still has with us)."""
    return MoneyEffect(-charges_cents, max(0, paid_cents), 0)


def reduction_effect(charges_cents: int, paid_cents: int, new_amount_cents: int) -> MoneyEffect:
    """Lower the charges to ``new_amount_cents``; refund what was paid above it."""
    if new_amount_cents <= 0:
        raise UserError("A reduced amount must be more than zero; to cancel the citation, dismiss it.")
    if new_amount_cents >= charges_cents:
        raise UserError(f"A reduction must be below the current amount ({charges_cents / 100:.2f}); "
                        f"to keep the amount, uphold the citation.")
    return MoneyEffect(new_amount_cents - charges_cents, max(0, paid_cents - new_amount_cents), new_amount_cents)


def check_reason(reason: str) -> str:
    text = " ".join((reason or "").split())
    if len(text) < MIN_REASON_CHARS:
        raise UserError("Write the reason for the decision (at least a sentence); it is printed in the letter.")
    return clean_text((reason or "").strip(), "The reason for the decision", REASON)


def deemed_accepted_on(decide_by: date) -> date:
    """The day a contest undecided by ``decide_by`` is treated as accepted: the day after the last day a
    decision could be posted and still be served within England's 56 days (``case_plan.decision_deadline``);
    from then no decision can be served in time, so the daily run cancels the case."""
    return decide_by + timedelta(days=1)


def outcome_text(decision: str, charges_cents: int, paid_cents: int, currency: str,
                 new_amount_cents: int | None = None) -> str:
    """What a decision means for the motorist, in plain words (the confirmation, the screen, the status bar):
    ``"Appeal rejected: the citation stands; the motorist owes $73.00."``"""
    def money(cents: int) -> str:
        return format_cents(cents, currency)

    if decision == "upheld":
        owed = charges_cents - paid_cents
        return ("Appeal rejected: the citation stands; "
                + (f"the motorist owes {money(owed)}." if owed > 0 else "it is paid in full; nothing more is owed."))
    if decision == "dismissed":
        effect = dismissal_effect(charges_cents, paid_cents)
        return ("Appeal granted: the citation is cancelled; nothing is owed"
                + (f" and {money(effect.refund_cents)} is refunded to the motorist." if effect.refund_cents else "."))
    if decision == "reduced":
        if new_amount_cents is None:
            return "Appeal partly granted: the fine is reduced to the amount given."
        effect = reduction_effect(charges_cents, paid_cents, new_amount_cents)
        owed = effect.balance_after(paid_cents)
        parts = [f"the fine is reduced to {money(new_amount_cents)}",
                 f"the motorist owes {money(owed)}" if owed > 0 else "nothing more is owed"]
        if effect.refund_cents:
            parts.append(f"{money(effect.refund_cents)} is refunded to the motorist")
        return "Appeal partly granted: " + "; ".join(parts) + "."
    raise ValueError(f"unknown decision {decision!r}")
