"""Sign-in under attack (issue 14, finding 12): one answer for every failure, and lockouts that expire after
`security.lockout_minutes`, audited when they begin and end, so a guesser cannot keep an administrator out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from desktop.domain.errors import UserError
from desktop.domain.roles import Role
from desktop.persistence.models import AuditEntry, User
from desktop.services.admin import users
from desktop.services.core import settings
from desktop.services.core.context import AppContext
from tests.conftest import PASSWORDS, FixedClock


def _refused(app: AppContext, username: str, password: str) -> str:
    with pytest.raises(UserError) as exc:
        users.login(app, username, password)
    return str(exc.value)


def _lock(app: AppContext, username: str) -> None:
    for _ in range(users.LOCKOUT_AFTER):
        _refused(app, username, "a-wrong-guess-1")


def _actions(app: AppContext, username: str) -> list[str]:
    """The account's audited changes of state (every failed sign-in is audited too: tested on its own)."""
    with app.db.reading() as s:
        uid = s.scalar(select(User.id).where(User.username == username))
        return list(s.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == "user",
                                                              AuditEntry.entity_id == str(uid),
                                                              AuditEntry.action != "user.sign_in_failed")
                              .order_by(AuditEntry.id)))


def test_every_failure_gets_the_same_answer(app: AppContext, actors: dict) -> None:
    users.set_active(app, actors[Role.ADMIN], "mail_office", False, "left the agency")
    answers = {
        "unknown user": _refused(app, "nobody", "whatever-at-all"),
        "wrong password": _refused(app, "clerk", "not-the-password"),
        "disabled, wrong password": _refused(app, "mail_office", "not-the-password"),
        "disabled, right password": _refused(app, "mail_office", PASSWORDS[Role.MAIL_OFFICE]),
    }
    _lock(app, "supervisor")
    answers["locked, right password"] = _refused(app, "supervisor", PASSWORDS[Role.SUPERVISOR])
    answers["locked, wrong password"] = _refused(app, "supervisor", "not-the-password")
    assert set(answers.values()) == {users.SIGN_IN_FAILED}, answers


def test_a_lockout_ends_after_the_setting_and_both_ends_are_audited(app: AppContext, actors: dict,
                                                                     clock: FixedClock) -> None:
    _lock(app, "admin")
    assert _actions(app, "admin")[-1] == "user.locked"
    start = clock.now
    clock.now = start + timedelta(minutes=14, seconds=59)
    _refused(app, "admin", PASSWORDS[Role.ADMIN])
    clock.now = start + timedelta(minutes=15)
    assert users.login(app, "admin", PASSWORDS[Role.ADMIN]).role is Role.ADMIN
    assert _actions(app, "admin")[-3:] == ["user.locked", "user.unlocked", "user.signed_in"]
    with app.db.reading() as s:
        locked = s.scalars(select(AuditEntry).where(AuditEntry.action == "user.locked")).one()
    assert locked.after == {"locked_until": (start + timedelta(minutes=15)).isoformat()}


def test_guesses_during_a_lockout_neither_count_nor_extend_it(app: AppContext, actors: dict,
                                                             clock: FixedClock) -> None:
    _lock(app, "admin")
    start = clock.now
    for minute in range(1, 15):  # a guesser keeps trying all through the lockout
        clock.now = start + timedelta(minutes=minute)
        _refused(app, "admin", "a-wrong-guess-2")
    clock.now = start + timedelta(minutes=15)
    users.login(app, "admin", PASSWORDS[Role.ADMIN])
    assert _actions(app, "admin").count("user.locked") == 1


def test_the_lockout_time_is_a_setting(app: AppContext, actors: dict, clock: FixedClock) -> None:
    assert settings.SETTINGS["security.lockout_minutes"].default == 15
    settings.set_value(app, actors[Role.ADMIN], "security.lockout_minutes", 2)
    _lock(app, "clerk")
    clock.now += timedelta(minutes=1)
    _refused(app, "clerk", PASSWORDS[Role.CLERK])
    clock.now += timedelta(minutes=1)
    users.login(app, "clerk", PASSWORDS[Role.CLERK])


def test_an_administrator_ends_a_lockout_by_enabling_the_account(app: AppContext, actors: dict) -> None:
    _lock(app, "clerk")
    users.set_active(app, actors[Role.ADMIN], "clerk", True, "phoned the help desk")
    assert users.login(app, "clerk", PASSWORDS[Role.CLERK]).username == "clerk"
    with app.db.reading() as s:
        enabled = s.scalars(select(AuditEntry).where(AuditEntry.action == "user.enabled")).one()
    assert enabled.after == {"active": True, "locked_until": None}


def test_a_lockout_does_not_disable_the_account(app: AppContext, actors: dict) -> None:
    """The old lockout disabled the account for good: five guesses kept the only administrator out."""
    _lock(app, "admin")
    with app.db.reading() as s:
        assert s.scalar(select(User.active).where(User.username == "admin")) is True
