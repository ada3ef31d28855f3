"""Accounts (issue 17, point 4): change your own password, an administrator's reset that must be replaced at
the next sign-in, the policy enforced by the services, every failed sign-in audited and listed for the
administrators, and `users passwd` on the command line."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from desktop.bootstrap import make_app_context
from desktop.cli import main
from desktop.domain.errors import PermissionDenied, UserError
from desktop.domain.roles import Role
from desktop.paths import AppPaths
from desktop.persistence.db import Database
from desktop.persistence.models import AuditEntry, User
from desktop.services.admin import users
from desktop.services.admin.listing import sign_in_events
from desktop.services.core.audit import verify
from desktop.services.core.context import AppContext
from tests.conftest import PASSWORDS
from tests.helpers.signed_in import ADMIN_PASSWORD, new_office, signed_in


def _actions(app: AppContext) -> list[str]:
    with app.db.reading() as s:
        return list(s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_change_own_password_needs_the_current_one(app: AppContext, actors: dict) -> None:
    with pytest.raises(UserError, match="Wrong username or password"):
        users.change_own_password(app, "clerk", "not-the-password", "a-brand-new-secret")
    users.change_own_password(app, "clerk", PASSWORDS[Role.CLERK], "a-brand-new-secret")
    with pytest.raises(UserError):
        users.login(app, "clerk", PASSWORDS[Role.CLERK])
    assert users.login(app, "clerk", "a-brand-new-secret").username == "clerk"
    assert "user.password_changed" in _actions(app)
    assert verify(app.db).ok  # the user row's seal follows the new hash


@pytest.mark.parametrize(("new", "says"), [("short", "at least 10"), ("clerk-1234", "username"),
                                           ("1234567890", "most common"), ("Clerk", "at least 10")])
def test_the_policy_is_enforced_by_the_services(app: AppContext, actors: dict, new: str, says: str) -> None:
    with pytest.raises(UserError, match=says):
        users.change_own_password(app, "clerk", PASSWORDS[Role.CLERK], new)
    with pytest.raises(UserError, match=says):
        users.reset_password(app, actors[Role.ADMIN], "clerk", new)
    with pytest.raises(UserError, match=says):
        users.add_user(app, actors[Role.ADMIN], "clerk", "Clerk Two", "clerk", new)
    assert users.login(app, "clerk", PASSWORDS[Role.CLERK]).username == "clerk"  # nothing changed


def test_an_administrators_reset_must_be_replaced_at_the_next_sign_in(app: AppContext, actors: dict) -> None:
    for _ in range(users.LOCKOUT_AFTER):  # locked out: the reset also ends the lockout
        with pytest.raises(UserError):
            users.login(app, "clerk", "a-wrong-guess-1")
    users.reset_password(app, actors[Role.ADMIN], "clerk", "temporary-pass-77", "forgot it")
    with pytest.raises(users.PasswordChangeRequired, match="choose a new one"):
        users.login(app, "clerk", "temporary-pass-77")
    with pytest.raises(UserError, match="must differ"):
        users.change_own_password(app, "clerk", "temporary-pass-77", "temporary-pass-77")
    users.change_own_password(app, "clerk", "temporary-pass-77", "my-own-choice-42")
    assert users.login(app, "clerk", "my-own-choice-42").username == "clerk"
    with app.db.reading() as s:
        reset = s.scalars(select(AuditEntry).where(AuditEntry.action == "user.password_reset")).one()
    assert reset.username == "admin" and reset.reason == "forgot it"
    assert "temporary" not in str(reset.before) + str(reset.after)  # never the password


def test_only_administrators_reset_and_not_their_own(app: AppContext, actors: dict) -> None:
    with pytest.raises(PermissionDenied, match="may not manage users"):
        users.reset_password(app, actors[Role.SUPERVISOR], "clerk", "temporary-pass-77")
    with pytest.raises(UserError, match="Change your own password"):
        users.reset_password(app, actors[Role.ADMIN], "admin", "temporary-pass-77")


def test_failed_sign_ins_and_lockouts_are_audited_and_listed_for_administrators(app: AppContext, actors: dict) -> None:
    with pytest.raises(UserError):
        users.login(app, "nobody-here", "whatever-at-all", via="sign-in window")
    for _ in range(users.LOCKOUT_AFTER):
        with pytest.raises(UserError):
            users.login(app, "supervisor", "a-wrong-guess-1")
    events = sign_in_events(app, actors[Role.ADMIN], failures_only=True)
    assert [(e.action, e.account) for e in events][:2] == [("locked", "supervisor"), ("sign_in_failed", "supervisor")]
    assert ("sign_in_failed", "nobody-here") in [(e.action, e.account) for e in events]
    assert sum(e.action == "sign_in_failed" for e in events) == users.LOCKOUT_AFTER + 1
    users.sign_out(app, actors[Role.CLERK])
    assert sign_in_events(app, actors[Role.ADMIN])[0].action == "signed_out"
    with pytest.raises(PermissionDenied):
        sign_in_events(app, actors[Role.SUPERVISOR])


def _app(data: Path) -> tuple[AppContext, Database]:
    paths = AppPaths(data)
    db = Database(paths.default_db_url)
    return make_app_context(db, paths), db


def test_users_passwd_on_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    new_office(data)
    monkeypatch.setenv("CURBDESK_DATA_DIR", str(data))
    monkeypatch.delenv("CURBDESK_DB", raising=False)
    run = signed_in(monkeypatch, {"admin": ADMIN_PASSWORD, "carla": "carla-password-1"})
    monkeypatch.setattr(sys, "stdin", io.StringIO("carla-password-1\n"))
    assert run(["users", "add", "carla", "--role", "clerk", "--name", "Carla Ruiz", "--password-stdin"]) == 0
    # an administrator resets carla's password; carla cannot work until she chooses her own
    monkeypatch.setattr(sys, "stdin", io.StringIO("temporary-pass-77\n"))
    assert run(["users", "passwd", "carla"]) == 0
    assert "chooses a new one at the next sign-in" in capsys.readouterr().out
    run = signed_in(monkeypatch, {"carla": "temporary-pass-77"}, default="carla")
    assert run(["users", "list"]) == 2
    assert "reset the password of carla" in capsys.readouterr().err
    # her own change (current password from CURBDESK_PASSWORD, the new one on standard input)
    monkeypatch.setattr(sys, "stdin", io.StringIO("1234567890\n"))
    assert run(["users", "passwd", "carla"]) == 2
    assert "most common" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.StringIO("carla-chose-this-9\n"))
    assert run(["users", "passwd", "carla"]) == 0
    assert capsys.readouterr().out.strip() == "password of carla changed"
    app, db = _app(data)
    try:
        assert users.login(app, "carla", "carla-chose-this-9").role is Role.CLERK
        # a clerk cannot reset another's password
        run = signed_in(monkeypatch, {"carla": "carla-chose-this-9"}, default="carla")
        monkeypatch.setattr(sys, "stdin", io.StringIO("temporary-pass-88\n"))
        assert run(["--as", "carla", "users", "passwd", "admin"]) == 2
        assert "may not manage users" in capsys.readouterr().err
        assert users.login(app, "admin", ADMIN_PASSWORD).role is Role.ADMIN
        with db.reading() as s:
            assert s.scalar(select(User.must_change_password).where(User.username == "carla")) is False
    finally:
        db.dispose()
    assert main(["verify-audit"]) == 2  # no credentials: refused as every command


def test_the_demo_shows_failed_sign_ins_to_administrators(app: AppContext) -> None:
    from desktop.demo.accounts import extend_demo
    from desktop.demo.office import DEMO_USERS

    for username, full, role, password in DEMO_USERS:
        if not users.has_users(app):
            users.add_first_administrator(app, username, full, password)
        else:
            users.add_user(app, users.actor_for(app, "admin"), username, full, role.value, password)
    extend_demo(app)
    extend_demo(app)  # idempotent
    events = sign_in_events(app, users.actor_for(app, "admin"))
    assert [(e.action, e.account) for e in events] == [("signed_in", "hearing"), ("sign_in_failed", "hearing"),
                                                       ("sign_in_failed", "jsmith"), ("sign_in_failed", "hearing")]
    with app.db.reading() as s:
        assert s.scalar(select(User.failed_logins).where(User.username == "hearing")) == 0
