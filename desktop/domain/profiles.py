"""Jurisdiction profiles: notice stages, penalties, discounts and appeal deadlines as data.

A profile (``resources/profiles/<CODE>.json``) describes what the law of one
jurisdiction says happens to an unpaid citation, day by day. This module holds
the model (what a profile says), its parser and the loading of its versions; the
calculator over a profile and what has happened so far (``plan_case``) is
``desktop.domain.case_plan``. Nothing here touches a database or a clock.

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from desktop.domain.errors import UserError
from desktop.domain.ledger import PRINTABLE_CURRENCIES

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
class Tribunal:
    """The independent appeal level beyond the issuing authority (a court or tribunal) as letters name it."""

    name: str
    address: tuple[str, ...] = ()
    web_url: str = ""


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
    spelling: str = "US"
    """"US" or "GB": how the documents of this jurisdiction spell check/cheque, color/colour."""
    tribunal: Tribunal | None = None
    """The next appeal level every authority under this law shares (None: it depends on the authority,
    e.g. England: the Traffic Penalty Tribunal, or London Tribunals for a London council)."""

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
    currency = r.get("currency", str)
    if currency not in PRINTABLE_CURRENCIES:
        raise r.fail(f"currency {currency[:20]!r} is not one the notices and receipts can print; use an ISO 4217 "
                     f"code among {', '.join(sorted(PRINTABLE_CURRENCIES))}.")
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
        currency=currency,
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
        spelling=_spelling(r),
        tribunal=_tribunal(r),
    )


def _spelling(r: _Reader) -> str:
    spelling = r.get("spelling", str, required=False, default="US")
    if spelling not in ("US", "GB"):
        raise r.fail(f"spelling must be \"US\" or \"GB\", not {spelling[:10]!r}.")
    return str(spelling)


def _tribunal(r: _Reader) -> Tribunal | None:
    raw = r.get("tribunal", dict, required=False)
    if raw is None:
        return None
    t = r.child("tribunal", raw)
    return Tribunal(name=t.get("name", str), address=tuple(t.get("address", list, required=False, default=[])),
                    web_url=t.get("web_url", str, required=False, default=""))


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
