"""The agency as printed documents describe it, per jurisdiction profile: one `agency_info` for the notices,
the letters, the hearing packet and the docket (and any other document that carries the agency's block).

An office may run cases under several jurisdiction profiles (the demo: California and England), and each
profile's documents are issued by that profile's own authority. The setting `agency.identity` holds, per
profile code, that authority's identity (`IDENTITY_FIELDS`): name, department, return address, phone, web,
pay link, logo, office hours, payee, remittance/contest/counter addresses, signature, currency, spelling
("US": check, "GB": cheque) and the tribunal (the independent next appeal level).

How the flat `agency.*` settings relate: they are the identity of the office's HOME profile (the setting
`agency.profile`, the profile new cases get), and an `agency.identity` entry for that profile overrides them
field by field. Any other profile takes nothing from them: its identity is its own entry only (plus what its
law fixes: spelling, currency, and a tribunal where the law names one). So an office that has always run one
profile keeps working without a migration, the settings screen it knows still edits its letterhead, and a
second profile can never print the home authority's name, PO box or pay link (an English Penalty Charge
Notice under the Los Angeles letterhead). A profile whose identity lacks a field its documents need is
refused by the notice run, naming the fields (`missing_identity_fields`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop.domain import profiles as prof
from desktop.domain.errors import UserError
from desktop.domain.ledger import PRINTABLE_CURRENCIES
from desktop.domain.roles import Permission, Role, require
from desktop.persistence.models import JurisdictionProfileVersion, Setting, User
from desktop.services.core import audit, settings
from desktop.services.core.context import Actor, AppContext
from reports.data import AgencyInfo

IDENTITY_SETTING = "agency.identity"


@dataclass(frozen=True)
class IdentityField:
    """One field of a profile's agency identity."""

    key: str
    label: str  # as a clerk reads it in an error or a form
    kind: type  # str, or list (one line per item)
    required: bool = False
    flat_setting: str | None = None  # the office-level `agency.*` setting the home profile falls back to


IDENTITY_FIELDS: tuple[IdentityField, ...] = (
    IdentityField("name", "name of the issuing authority", str, True, "agency.name"),
    IdentityField("department", "department", str, False, "agency.department"),
    IdentityField("address", "return address", list, True, "agency.address"),
    IdentityField("phone", "public telephone number", str, True, "agency.phone"),
    IdentityField("web_url", "web address", str, True, "agency.web_url"),
    IdentityField("pay_url", "online payment link", str, True, "agency.pay_url"),
    IdentityField("email", "e-mail address", str, False, "agency.email"),
    IdentityField("logo_path", "logo image", str, False, "agency.logo_path"),
    IdentityField("office_hours", "office hours", str, False, "agency.office_hours"),
    IdentityField("payee", "payee for cheques", str, False, "agency.payee"),
    IdentityField("pay_by_mail_address", "pay-by-post address", list, False, "agency.pay_by_mail_address"),
    IdentityField("contest_address", "address for contests", list, False, "agency.contest_address"),
    IdentityField("contest_url", "web address for contests", str, False, "agency.contest_url"),
    IdentityField("counter_address", "counter address", list, False, "agency.counter_address"),
    IdentityField("signature_name", "signatory's name", str, False, "agency.signature_name"),
    IdentityField("signature_title", "signatory's title", str, False, "agency.signature_title"),
    IdentityField("currency", "currency", str, True),
    IdentityField("spelling", "spelling (US or GB)", str, True),
    IdentityField("tribunal", "tribunal (the next appeal level)", dict, True),
)
FIELDS_BY_KEY = {f.key: f for f in IDENTITY_FIELDS}
TRIBUNAL_KEYS = ("name", "address", "web_url")


def home_profile(session: Session) -> str:
    """The profile new cases get: its identity falls back to the flat `agency.*` settings."""
    return str(settings.get(session, "agency.profile") or "CA").upper()


def _profile(code: str) -> prof.JurisdictionProfile:
    return prof.load_profile(code.upper())


def _stored(session: Session) -> dict[str, dict[str, Any]]:
    raw = settings.get(session, IDENTITY_SETTING) or {}
    return {str(k).upper(): dict(v) for k, v in dict(raw).items() if isinstance(v, Mapping)}


def _empty(value: Any) -> bool:
    if isinstance(value, Mapping):
        return not str(value.get("name") or "").strip()
    if isinstance(value, (list, tuple)):
        return not any(str(v).strip() for v in value)
    return value is None or not str(value).strip()


def identity(session: Session, profile_code: str | None = None) -> dict[str, Any]:
    """The issuing authority of `profile_code`'s documents, every field of `IDENTITY_FIELDS` present
    ("" / [] / {} where unset). Without a code: the home profile's."""
    code = (profile_code or home_profile(session)).upper()
    profile = _profile(code)
    own = _stored(session).get(code, {})
    home = code == home_profile(session)
    out: dict[str, Any] = {}
    for f in IDENTITY_FIELDS:
        value = own.get(f.key)
        if _empty(value) and home and f.flat_setting:
            value = settings.get(session, f.flat_setting)
        if _empty(value):
            value = _law_default(profile, f.key)
        out[f.key] = _normal(f, value)
    return out


def _law_default(profile: prof.JurisdictionProfile, key: str) -> Any:
    """What the profile's law fixes for every authority under it."""
    if key == "currency":
        return profile.currency
    if key == "spelling":
        return profile.spelling
    if key == "tribunal" and profile.tribunal is not None:
        t = profile.tribunal
        return {"name": t.name, "address": list(t.address), "web_url": t.web_url}
    return None


def _normal(f: IdentityField, value: Any) -> Any:
    if f.kind is list:
        if isinstance(value, str):
            value = value.splitlines()
        return [str(v).strip() for v in (value or []) if str(v).strip()]
    if f.kind is dict:
        raw = dict(value or {})
        return {"name": str(raw.get("name") or "").strip(), "address": _normal(FIELDS_BY_KEY["address"],
                raw.get("address")), "web_url": str(raw.get("web_url") or "").strip()}
    return "" if value is None else str(value).strip()


def missing_identity_fields(session: Session, profile_code: str) -> list[str]:
    """The required identity fields `profile_code` lacks, by key ("tribunal" for the tribunal's name), in
    `IDENTITY_FIELDS` order; [] when its documents can be printed."""
    values = identity(session, profile_code)
    return [f.key for f in IDENTITY_FIELDS if f.required and _empty(values[f.key])]


def require_identity(session: Session, profile_code: str) -> None:
    """Raise a `UserError` naming the missing fields when `profile_code` has no complete agency identity."""
    missing = missing_identity_fields(session, profile_code)
    if missing:
        raise UserError(_missing_sentence(profile_code, missing))


def _missing_sentence(profile_code: str, missing: list[str]) -> str:
    try:
        name = _profile(profile_code).name
    except UserError:
        name = profile_code
    labels = ", ".join(FIELDS_BY_KEY[k].label for k in missing)
    return (f"The agency identity for {profile_code.upper()} ({name}) is missing: {labels}. An administrator "
            f"sets it under Settings (agency identity per profile) before its documents can be printed.")


def save_identity(session: Session, actor: Actor, profile_code: str, values: Mapping[str, Any], *,
                  now: datetime | None = None) -> None:
    """Set fields of `profile_code`'s agency identity (administrators only; audited).

    `values` maps field keys of `IDENTITY_FIELDS` to their values: a field given replaces the stored one, a
    field given as None or "" is cleared (the home profile then falls back to its flat setting), a field not
    given is kept. Lists may be given as text, one line per item; `tribunal` as {name, address, web_url}.
    Validated as a whole before anything is written: unknown fields, a logo that is not a readable image, a
    pay link without {citation_number}, an unknown currency or spelling, and the required fields still missing
    afterwards are each named in one `UserError`. The caller commits the session.
    """
    _require_admin(session, actor)
    code = profile_code.upper()
    _profile(code)  # an unknown profile is refused with the known ones named
    unknown = sorted(set(values) - set(FIELDS_BY_KEY))
    if unknown:
        raise UserError(f"The agency identity has no field {', '.join(unknown)}; the fields are "
                        f"{', '.join(FIELDS_BY_KEY)}.")
    stored = _stored(session)
    before = dict(stored.get(code, {}))
    entry = dict(before)
    for key, value in values.items():
        f = FIELDS_BY_KEY[key]
        if f.kind is dict and value is not None and not isinstance(value, Mapping):
            raise UserError("The tribunal is given as its name, address (lines) and web address.")
        if _empty(value):
            entry.pop(key, None)
        else:
            entry[key] = _normal(f, value)
    _validate(code, entry)
    stored[code] = entry
    row = session.get(Setting, IDENTITY_SETTING)
    if row is None:
        session.add(Setting(key=IDENTITY_SETTING, value=stored))
    else:
        row.value = stored
    session.flush()
    missing = missing_identity_fields(session, code)
    if missing:
        raise UserError(_missing_sentence(code, missing))
    audit.append(session, at=now or datetime.now(timezone.utc), user_id=actor.user_id,
                 username=actor.username, action="agency.identity_changed", entity_type="setting",
                 entity_id=f"{IDENTITY_SETTING}.{code}", before=before, after=entry)


def _require_admin(session: Session, actor: Actor) -> None:
    role = actor.role
    if not actor.is_system:
        user = session.get(User, actor.user_id)
        if user is None or not user.active:
            raise UserError(f"The account {actor.username} is disabled.")
        role = Role(user.role)
    require(role, Permission.MANAGE_SETTINGS, actor.username)


def _validate(code: str, entry: Mapping[str, Any]) -> None:
    problems: list[str] = []
    pay_url = entry.get("pay_url")
    if pay_url:
        try:
            pay_url.format(citation_number="X", plate="X")
            ok = "{citation_number}" in pay_url
        except (KeyError, IndexError, ValueError):
            ok = False
        if not ok:
            problems.append("the online payment link must contain {citation_number} (and no other {...} "
                            "than {plate})")
    currency = entry.get("currency")
    if currency and currency not in PRINTABLE_CURRENCIES:
        problems.append(f"the currency {currency[:12]} is not one the documents print "
                        f"({', '.join(sorted(PRINTABLE_CURRENCIES))})")
    spelling = entry.get("spelling")
    if spelling and spelling not in ("US", "GB"):
        problems.append("the spelling is US (check, color) or GB (cheque, colour)")
    logo = entry.get("logo_path")
    if logo:
        problem = _logo_problem(Path(logo))
        if problem:
            problems.append(problem)
    if problems:
        raise UserError(f"The agency identity for {code} was not saved: {'; '.join(problems)}.")


def _logo_problem(path: Path) -> str:
    """Why `path` cannot be the letterhead logo ("" when it is a readable image)."""
    if not path.is_file():
        return f"the logo {path.name} is not a file that can be read"
    try:
        with Image.open(path) as im:
            im.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return f"the logo {path.name} is not a readable image (use PNG or JPEG)"
    return ""


@dataclass(frozen=True)
class ProfileIdentity:
    """One profile's identity as the Settings screen edits it."""

    code: str
    profile_name: str
    law_names_tribunal: bool  # the law names the tribunal: the form does not ask for one
    values: dict[str, Any]    # `identity(...)`: every field, what the documents print today
    missing: tuple[str, ...]  # the labels of required fields still empty


def office_identities(app: AppContext, actor: Actor) -> list[ProfileIdentity]:
    """The identity of every profile the office runs cases under (its home profile first): what the
    Settings screen's identity form shows. Administrators only, like every change of it."""
    with app.reader(actor, Permission.MANAGE_SETTINGS) as uow:
        s = uow.session
        home = home_profile(s)
        codes = {str(c).upper() for c in s.scalars(select(JurisdictionProfileVersion.code).distinct())}
        codes |= set(_stored(s)) | {home}
        out = []
        for code in sorted(codes, key=lambda c: (c != home, c)):
            try:
                p = _profile(code)
            except UserError:
                continue  # a stored entry for a profile this version does not know: not editable here
            out.append(ProfileIdentity(code, p.name, p.tribunal is not None, identity(s, code),
                                       tuple(FIELDS_BY_KEY[k].label for k in missing_identity_fields(s, code))))
        return out


def update_identities(app: AppContext, actor: Actor,
                      forms: Mapping[str, Mapping[str, Any]]) -> dict[str, list[str]]:
    """Save, per profile code, the fields of its form that differ from what its documents print today (so
    the home profile keeps following the flat `agency.*` settings for the fields not touched). One
    transaction: a form refused (its sentence names the profile) leaves every profile as it was. Audited
    per profile. Returns the keys changed per profile (none: nothing was saved)."""
    changed_by_code: dict[str, list[str]] = {}
    with app.uow(actor, Permission.MANAGE_SETTINGS) as uow:
        for code, values in forms.items():
            current = identity(uow.session, code)
            changed = {k: v for k, v in values.items()
                       if k in FIELDS_BY_KEY and _normal(FIELDS_BY_KEY[k], None if _empty(v) else v)
                       != _normal(FIELDS_BY_KEY[k], None if _empty(current.get(k)) else current.get(k))}
            if changed:
                try:
                    save_identity(uow.session, actor, code, changed, now=app.now())
                except UserError as exc:
                    raise UserError(f"{code}: {exc}") from exc
                changed_by_code[code.upper()] = sorted(changed)
        if changed_by_code:
            uow.commit()
    return changed_by_code


def agency_info(session: Session, profile_code: str | None = None) -> AgencyInfo:
    """The issuing authority as `identity` describes it, for the documents of a case of `profile_code`
    (without one: the home profile's).

    `agency.wording` replaces wording keys for every profile; an entry named after a profile code whose
    value is itself a mapping (e.g. ``{"ENG": {"footer": "..."}}``) replaces wording for that profile's
    documents only, over the general entries. Without a `profile_code` only the general entries apply.
    """
    overrides: dict[str, Any] = {}
    by_profile: Mapping[str, Any] = {}
    for key, value in dict(settings.get(session, "agency.wording") or {}).items():
        if isinstance(value, Mapping):
            if profile_code is not None and key.upper() == profile_code.upper():
                by_profile = value
        else:
            overrides[key] = value
    overrides.update(by_profile)
    i = identity(session, profile_code)
    tribunal = i["tribunal"]
    return AgencyInfo(
        name=i["name"],
        department=i["department"],
        return_address_lines=tuple(i["address"]),
        phone=i["phone"],
        pay_url_template=i["pay_url"],
        web_url=i["web_url"],
        email=i["email"],
        logo_path=i["logo_path"] or None,
        office_hours=i["office_hours"],
        payee_name=i["payee"],
        pay_by_mail_lines=tuple(i["pay_by_mail_address"]),
        contest_address_lines=tuple(i["contest_address"]),
        contest_url=i["contest_url"],
        in_person_lines=tuple(i["counter_address"]),
        signature_name=i["signature_name"],
        signature_title=i["signature_title"],
        wording_overrides=overrides,
        currency=i["currency"],
        spelling=i["spelling"],
        tribunal_name=tribunal["name"],
        tribunal_address_lines=tuple(tribunal["address"]),
        tribunal_web_url=tribunal["web_url"],
    )
