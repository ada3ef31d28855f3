"""Reading what the Administration screen lists: user accounts and the agency's settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from desktop.domain.roles import Permission
from desktop.persistence.models import AuditEntry, User
from desktop.services.core import settings as settings_service
from desktop.services.core.context import Actor, AppContext


@dataclass(frozen=True)
class UserRow:
    id: int
    username: str
    full_name: str
    role: str
    active: bool
    last_login_at: datetime | None
    failed_logins: int


def list_users(app: AppContext, actor: Actor) -> list[UserRow]:
    with app.reader(actor, Permission.MANAGE_USERS) as uow:
        return [UserRow(u.id, u.username, u.full_name, u.role, u.active, u.last_login_at, u.failed_logins)
                for u in uow.session.scalars(select(User).order_by(User.username))]


@dataclass(frozen=True)
class SettingRow:
    key: str
    type_name: str
    value: Any
    default: Any
    help: str


def list_settings(app: AppContext, actor: Actor) -> list[SettingRow]:
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        return [SettingRow(spec.key, spec.type.__name__, settings_service.get(uow.session, spec.key), spec.default,
                           spec.help) for spec in settings_service.SETTINGS.values()]


#: what the administrators see of signing in: sign-ins, failures, lockouts, sign-outs, locked screens, passwords
SIGN_IN_ACTIONS = ("user.signed_in", "user.sign_in_failed", "user.locked", "user.unlocked", "user.signed_out",
                   "user.screen_locked", "user.password_changed", "user.password_reset", "user.enabled",
                   "user.disabled")


@dataclass(frozen=True)
class SignInEvent:
    at: datetime
    action: str
    account: str
    by: str
    detail: str


def _until(iso: Any, zone: ZoneInfo) -> str:
    if not iso:
        return ""
    try:
        return f"locked until {datetime.fromisoformat(str(iso)).astimezone(zone):%Y-%m-%d %H:%M}"
    except ValueError:
        return f"locked until {iso}"


def sign_in_events(app: AppContext, actor: Actor, *, failures_only: bool = False, limit: int = 500) -> list[SignInEvent]:
    """The newest sign-in events from the audit trail, for the administrators (failed sign-ins and lockouts
    with the name that was typed)."""
    actions = ("user.sign_in_failed", "user.locked") if failures_only else SIGN_IN_ACTIONS
    with app.reader(actor, Permission.MANAGE_USERS) as uow:
        names = {uid: name for uid, name in uow.session.execute(select(User.id, User.username))}
        zone = ZoneInfo(str(settings_service.get(uow.session, "agency.timezone")))
        rows = uow.session.scalars(select(AuditEntry).where(AuditEntry.action.in_(actions))
                                   .order_by(AuditEntry.id.desc()).limit(limit)).all()
        out = []
        for e in rows:
            after = e.after or {}
            account = after.get("username") or (names.get(int(e.entity_id)) if e.entity_id.isdigit() else None) \
                or e.entity_id
            detail = "; ".join(x for x in (
                e.reason or "", "while locked" if after.get("locked") else "",
                "account disabled" if after.get("disabled") else "",
                _until(after.get("locked_until"), zone)) if x)
            out.append(SignInEvent(e.at, e.action.removeprefix("user."), str(account), e.username, detail))
        return out
