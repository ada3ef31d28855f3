"""Jurisdiction profiles kept as data in the database, versioned by the date they take effect.

The shipped profiles (``resources/profiles/*.json``) seed the table on upgrade or first
use. An administrator changes a profile by saving a NEW version that takes effect from a
date; cases keep the version that was in force on their issue date
(``Citation.profile_code`` / ``Citation.profile_version``), so a change applies only to
cases issued after it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from desktop.domain.errors import UserError
from desktop.domain.jsonlimits import MAX_JSON_DEPTH, json_depth_ok
from desktop.domain.profiles import JurisdictionProfile, parse_profile
from desktop.domain.roles import Permission
from desktop.persistence.models import Citation, JurisdictionProfileVersion, User
from desktop.resources import resource
from desktop.services.core.context import Actor, AppContext

#: The fields of a stage an administrator may change in the form (the rest is edited as JSON).
FORM_STAGE_FIELDS = ("trigger.days", "penalty.fixed_cents", "penalty.percent_of_fine",
                     "contest_deadline_days", "final_deadline_days")


@dataclass(frozen=True)
class StoredProfile:
    """One stored version: its database identity and the validated profile."""

    id: int
    code: str
    version: int
    effective_from: date
    profile: JurisdictionProfile
    definition: dict[str, Any]
    created_by: str | None = None


def shipped_definitions() -> dict[str, dict[str, Any]]:
    """The JSON of every shipped profile, by code."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(resource("profiles").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        versions = data["versions"] if isinstance(data, dict) and "versions" in data else [data]
        out[path.stem] = versions[-1]
    return out


def ensure_seeded(session: Session, now: Any) -> int:
    """Insert the shipped profiles whose code has no stored version yet; returns how many."""
    have = set(session.scalars(select(JurisdictionProfileVersion.code).distinct()))
    added = 0
    for code, definition in shipped_definitions().items():
        if code in have:
            continue
        parsed = parse_profile(definition, f"{code}.json")
        session.add(JurisdictionProfileVersion(code=code, version=1, effective_from=parsed.effective_from,
                                               definition=definition, created_at=now, created_by=None))
        added += 1
    if added:
        session.flush()
    return added


def seed(app: AppContext) -> int:
    """Seed the shipped profiles if missing (first use of a database created before they were stored)."""
    with app.db.reading() as s:
        have = set(s.scalars(select(JurisdictionProfileVersion.code).distinct()))
    if set(shipped_definitions()) <= have:
        return 0
    with app.uow(Actor.system("profiles")) as uow:
        added = ensure_seeded(uow.session, app.now())
        if added:
            uow.audit("profile.seeded", "profile", "shipped", after={"added": added})
        uow.commit()
        return added


#: Parsed profiles by their exact text: a stored version never changes, so parsing once is enough.
_PARSED: dict[str, JurisdictionProfile] = {}


def _parse(row: JurisdictionProfileVersion) -> JurisdictionProfile:
    key = f"{row.code}:{row.version}:" + json.dumps(row.definition, sort_keys=True)
    profile = _PARSED.get(key)
    if profile is None:
        profile = parse_profile(row.definition, f"profile {row.code} version {row.version}")
        if len(_PARSED) > 256:
            _PARSED.clear()
        _PARSED[key] = profile
    return profile


def _stored(row: JurisdictionProfileVersion, usernames: dict[int, str] | None = None) -> StoredProfile:
    profile = _parse(row)
    return StoredProfile(row.id, row.code, row.version, row.effective_from, profile, row.definition,
                         (usernames or {}).get(row.created_by or -1))


#: ``session.info`` key: the stored versions the session's transaction read (``all_versions``)
_LOADED = "curbdesk.profiles.loaded"


def all_versions(session: Session) -> list[StoredProfile]:
    """Every stored version, by code then version. Read once per transaction: a hold placed or a case
    rescheduled asks for them three times, each a round trip and a parse check of every definition. A flush
    that writes a version, and the transaction's end, forget them (``_forget``)."""
    loaded: list[StoredProfile] | None = session.info.get(_LOADED)
    if loaded is None:
        rows = session.scalars(select(JurisdictionProfileVersion)
                               .order_by(JurisdictionProfileVersion.code, JurisdictionProfileVersion.version))
        loaded = session.info[_LOADED] = [_stored(r) for r in rows]
    return list(loaded)


@event.listens_for(Session, "after_flush")
def _forget_written(session: Session, _context: Any) -> None:
    """A version added, changed or deleted in this session: the next read sees it."""
    if _LOADED in session.info and any(isinstance(o, JurisdictionProfileVersion)
                                       for o in (*session.new, *session.dirty, *session.deleted)):
        session.info.pop(_LOADED, None)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: Any) -> None:
    """The next transaction reads them again (an administrator may have saved a version meanwhile)."""
    if transaction.parent is None:
        session.info.pop(_LOADED, None)


def versions_by_key(session: Session) -> dict[tuple[str, int], JurisdictionProfile]:
    return {(v.code, v.version): v.profile for v in all_versions(session)}


#: (database, code, version) -> that profile version's currency, None for a version not stored. A saved version
#: is never changed (a change is a new version, numbered after every stored one), so the case list reads the
#: profiles only when a page shows a version not seen before.
_CURRENCY: dict[tuple[str, str, int], str | None] = {}


def currencies(session: Session, keys: Iterable[tuple[str | None, int | None]]) -> dict[tuple[str, int], str]:
    """The currency of each profile version in ``keys`` that is stored (a case without one is left out)."""
    database = session.get_bind().engine.url.render_as_string(hide_password=True)
    wanted = {(code, version) for code, version in keys if code is not None and version is not None}
    missing = [(database, code, version) for code, version in wanted if (database, code, version) not in _CURRENCY]
    if missing:
        for key in missing:  # (remembered as not stored, so a case of an unknown profile is not read for again)
            _CURRENCY[key] = None
        for v in all_versions(session):
            _CURRENCY[(database, v.code, v.version)] = v.profile.currency
    found = {(code, version): _CURRENCY.get((database, code, version)) for code, version in wanted}
    return {key: currency for key, currency in found.items() if currency is not None}


def in_force(session: Session, code: str, on: date) -> StoredProfile:
    """The version of ``code`` in force on ``on`` (the earliest one for dates before it)."""
    rows = list(session.scalars(select(JurisdictionProfileVersion)
                                .where(JurisdictionProfileVersion.code == code)
                                .order_by(JurisdictionProfileVersion.effective_from)))
    if not rows:
        raise UserError(f"There is no jurisdiction profile '{code}'.")
    chosen = [r for r in rows if r.effective_from <= on]
    return _stored(chosen[-1] if chosen else rows[0])


def list_versions(app: AppContext, actor: Actor) -> list[StoredProfile]:
    """For the Administration screen: every version with who saved it."""
    seed(app)
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        names = {uid: name for uid, name in uow.session.execute(select(User.id, User.username))}
        rows = uow.session.scalars(select(JurisdictionProfileVersion)
                                   .order_by(JurisdictionProfileVersion.code, JurisdictionProfileVersion.version))
        return [_stored(r, names) for r in rows]


def cases_using(app: AppContext, actor: Actor) -> dict[tuple[str, int], int]:
    """How many scheduled cases use each version (for the administrator's information)."""
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        rows = uow.session.execute(select(Citation.profile_code, Citation.profile_version, func.count())
                                   .where(Citation.stage.is_not(None))
                                   .group_by(Citation.profile_code, Citation.profile_version))
        return {(code, int(ver)): int(n) for code, ver, n in rows}


def validate_definition(text_or_data: str | dict[str, Any], code: str | None = None) -> tuple[dict[str, Any], JurisdictionProfile]:
    """Parse JSON text (or an object) into a validated profile; ``UserError`` names the problem."""
    if isinstance(text_or_data, str):
        if not json_depth_ok(text_or_data):
            raise UserError(f"The profile nests arrays and objects more than {MAX_JSON_DEPTH} levels deep; "
                            "a profile is a few levels at most.")
        try:
            data = json.loads(text_or_data)
        except json.JSONDecodeError as exc:
            raise UserError(f"Not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}).") from None
    else:
        data = copy.deepcopy(text_or_data)
    if not isinstance(data, dict):
        raise UserError("A profile must be a JSON object.")
    profile = parse_profile(data, "the edited profile")
    if profile.stages[0].notice_kind is not None:
        raise UserError(f"The first stage ({profile.stages[0].key}) is the citation itself and cannot send a notice; "
                        "add a stage after it for the first mailed notice.")
    if code is not None and profile.code != code:
        raise UserError(f"The profile code must stay {code!r} (it says {profile.code!r}); "
                        "a new jurisdiction is a new profile.")
    return data, profile


def save_new_version(app: AppContext, actor: Actor, code: str, definition: str | dict[str, Any],
                     effective_from: date, reason: str) -> StoredProfile:
    """Store a new version of ``code`` taking effect on ``effective_from`` (today or later).

    Cases issued before that date keep the version they were issued under.
    """
    if not reason.strip():
        raise UserError("Say why the profile changes (it goes into the audit trail).")
    data, _profile = validate_definition(definition, code)
    data["effective_from"] = effective_from.isoformat()
    data, profile = validate_definition(data, code)
    with app.uow(actor, Permission.MANAGE_SETTINGS) as uow:
        s = uow.session
        ensure_seeded(s, app.now())
        today = app.now().astimezone(ZoneInfo(profile.timezone)).date()
        if effective_from < today:
            raise UserError(f"A new version cannot take effect in the past ({effective_from.isoformat()}); "
                            f"choose {today.isoformat()} or later. Cases already issued keep their rules.")
        rows = list(s.scalars(select(JurisdictionProfileVersion).where(JurisdictionProfileVersion.code == code)
                              .order_by(JurisdictionProfileVersion.version)))
        if not rows:
            raise UserError(f"There is no jurisdiction profile '{code}'.")
        latest = max(rows, key=lambda r: r.effective_from)
        if effective_from <= latest.effective_from:
            raise UserError(f"Version {latest.version} already takes effect on {latest.effective_from.isoformat()}; "
                            "a new version must take effect after it.")
        if _comparable(latest.definition) == _comparable(data):
            raise UserError("Nothing changed compared with the version in force.")
        row = JurisdictionProfileVersion(code=code, version=max(r.version for r in rows) + 1,
                                         effective_from=effective_from, definition=data, created_at=app.now(),
                                         created_by=actor.user_id)
        s.add(row)
        s.flush()
        uow.audit("profile.version_saved", "profile", f"{code}:{row.version}",
                  before={"version": latest.version, "changes": profile_changes(latest.definition, data)},
                  after={"version": row.version, "effective_from": effective_from},
                  reason=reason.strip())
        uow.commit()
        return _stored(row)


def _comparable(definition: dict[str, Any]) -> dict[str, Any]:
    d = copy.deepcopy(definition)
    d.pop("effective_from", None)
    d.pop("version", None)
    return d


def profile_changes(old: dict[str, Any], new: dict[str, Any], limit: int = 40) -> list[str]:
    """Readable differences between two definitions, e.g. ``stages[1].penalty.percent_of_fine: 100 -> 50``."""
    out: list[str] = []

    def walk(a: Any, b: Any, path: str) -> None:
        if len(out) >= limit:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b)):
                walk(a.get(key), b.get(key), f"{path}.{key}" if path else str(key))
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                walk(x, y, f"{path}[{i}]")
        elif a != b:
            out.append(f"{path}: {json.dumps(a)} -> {json.dumps(b)}")

    walk(_comparable(old), _comparable(new), "")
    return out


def form_values(definition: dict[str, Any]) -> list[dict[str, Any]]:
    """The numbers of each stage, flat, for the form editor."""
    rows = []
    for stage in definition.get("stages", []):
        rows.append({
            "key": stage.get("key"), "name": stage.get("name"),
            "trigger.kind": (stage.get("trigger") or {}).get("kind"),
            "trigger.days": (stage.get("trigger") or {}).get("days"),
            "notice_kind": stage.get("notice_kind"),
            "penalty.fixed_cents": (stage.get("penalty") or {}).get("fixed_cents", 0),
            "penalty.percent_of_fine": (stage.get("penalty") or {}).get("percent_of_fine", 0),
            "contest_deadline_days": stage.get("contest_deadline_days"),
            "final_deadline_days": stage.get("final_deadline_days"),
            "on_deadline": stage.get("on_deadline"),
        })
    return rows


def apply_form_values(definition: dict[str, Any], rows: list[dict[str, Any]],
                      discount: dict[str, Any] | None = None) -> dict[str, Any]:
    """A copy of ``definition`` with the form's numbers written back (stage by position)."""
    data = copy.deepcopy(definition)
    stages = data.get("stages", [])
    if len(rows) != len(stages):
        raise UserError("The form and the profile disagree on the number of stages; edit the JSON instead.")
    for stage, row in zip(stages, rows, strict=True):
        stage.setdefault("trigger", {})["days"] = row["trigger.days"]
        penalty = {}
        if row.get("penalty.fixed_cents"):
            penalty["fixed_cents"] = row["penalty.fixed_cents"]
        if row.get("penalty.percent_of_fine"):
            penalty["percent_of_fine"] = row["penalty.percent_of_fine"]
        stage["penalty"] = penalty
        stage["contest_deadline_days"] = row.get("contest_deadline_days")
        if row.get("final_deadline_days") is not None or "final_deadline_days" in stage:
            stage["final_deadline_days"] = row.get("final_deadline_days")
    if discount is not None and data.get("discount") is not None:
        data["discount"].update(discount)
    return data
