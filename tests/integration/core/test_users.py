"""Accounts: argon2id hashes, sign-in, lock-out, and permissions enforced in the services."""

import pytest
from sqlalchemy import select

from desktop.domain.errors import PermissionDenied, UserError
from desktop.domain.roles import Role
from desktop.persistence.models import User
from desktop.services.admin import users
from desktop.services.core.context import Actor, AppContext
from tests.conftest import PASSWORDS


def test_password_is_stored_as_argon2id(app: AppContext, actors: dict) -> None:
    with app.db.reading() as s:
        h = s.scalar(select(User.password_hash).where(User.username == "clerk"))
    assert h.startswith("$argon2id$") and PASSWORDS[Role.CLERK] not in h


def test_login_and_wrong_password(app: AppContext, actors: dict) -> None:
    actor = users.login(app, "clerk", PASSWORDS[Role.CLERK])
    assert actor.role is Role.CLERK
    with pytest.raises(UserError, match="Wrong username or password"):
        users.login(app, "clerk", "not-the-password")
    with pytest.raises(UserError, match="Wrong username or password"):
        users.login(app, "nobody", "whatever-at-all")


def test_five_failures_lock_the_account(app: AppContext, actors: dict) -> None:
    for _ in range(5):
        with pytest.raises(UserError):
            users.login(app, "clerk", "bad-password-x")
    with pytest.raises(UserError, match="disabled"):
        users.login(app, "clerk", PASSWORDS[Role.CLERK])


def test_first_account_must_be_admin(app: AppContext) -> None:
    with pytest.raises(UserError, match="first account must be an administrator"):
        users.add_user(app, Actor.system("t"), "bob", "Bob", "clerk", "long-enough-pw")


@pytest.mark.parametrize("role", [Role.CLERK, Role.HEARING_OFFICER, Role.MAIL_OFFICE, Role.SUPERVISOR])
def test_only_admin_adds_users(app: AppContext, actors: dict, role: Role) -> None:
    with pytest.raises(PermissionDenied):
        users.add_user(app, actors[role], "eve", "Eve", "admin", "long-enough-pw")
    users.add_user(app, actors[Role.ADMIN], "eve", "Eve", "clerk", "long-enough-pw")


def test_disabled_account_loses_its_powers_at_once(app: AppContext, actors: dict) -> None:
    supervisor = actors[Role.SUPERVISOR]
    users.set_active(app, actors[Role.ADMIN], "supervisor", False, "left the agency")
    with pytest.raises(PermissionDenied, match="disabled"):
        with app.uow(supervisor) as uow:
            from desktop.domain.roles import Permission

            uow.require(Permission.APPROVE_REFUNDS)


def test_short_password_refused(app: AppContext) -> None:
    with pytest.raises(UserError, match="at least 10"):
        users.add_user(app, Actor.system("t"), "admin", "A", "admin", "short")


def test_production_hasher_is_argon2id_with_real_cost() -> None:
    import desktop.services.admin.users as mod

    fresh = mod._default_hasher()
    assert fresh.type.name == "ID" and fresh.time_cost >= 2 and fresh.memory_cost >= 19 * 1024
