"""Reading what the Administration screen lists: user accounts and the agency's settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from desktop.domain.roles import Permission
from desktop.persistence.models import User
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
