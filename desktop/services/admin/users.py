"""Users, roles and signing in. Passwords are hashed with argon2id."""

from __future__ import annotations

from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select

from desktop.domain.errors import UserError
from desktop.domain.roles import Permission, Role
from desktop.persistence.models import User
from desktop.services.core.context import Actor, AppContext

MIN_PASSWORD = 10
LOCKOUT_AFTER = 5


_hasher: Any = None  # tests may replace it with a cheaper argon2id hasher


@cache
def _default_hasher() -> Any:
    return PasswordHasher()  # argon2id with the library's RFC 9106 low-memory profile


def hasher() -> Any:
    """The argon2id hasher, built on first use."""
    return _hasher or _default_hasher()


def hash_password(password: str) -> str:
    return str(hasher().hash(password))


def _check_new(username: str, password: str, role: str) -> Role:
    if not username or not username.replace(".", "").replace("_", "").replace("-", "").isalnum():
        raise UserError("A username is letters, digits, dots, dashes and underscores.")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"A password needs at least {MIN_PASSWORD} characters.")
    try:
        return Role(role)
    except ValueError:
        raise UserError(f"'{role}' is not a role; choose one of: {', '.join(r.value for r in Role)}.") from None


def has_users(app: AppContext) -> bool:
    with app.db.reading() as s:
        return bool(s.scalar(select(func.count()).select_from(User)))


def add_user(app: AppContext, actor: Actor, username: str, full_name: str, role: str, password: str) -> int:
    """Create an account. The very first account may be created without an acting admin."""
    chosen = _check_new(username, password, role)
    with app.uow(actor) as uow:
        first = not uow.session.scalar(select(func.count()).select_from(User))
        if first:
            if chosen is not Role.ADMIN:
                raise UserError("The first account must be an administrator.")
        else:
            uow.require(Permission.MANAGE_USERS)
        if uow.session.scalar(select(User.id).where(User.username == username)):
            raise UserError(f"There is already a user called {username}.")
        user = User(username=username, full_name=full_name, role=chosen.value,
                    password_hash=hash_password(password), active=True, created_at=app.now())
        uow.session.add(user)
        uow.session.flush()
        uow.audit("user.created", "user", user.id,
                  after={"username": username, "full_name": full_name, "role": chosen.value},
                  reason="first administrator" if first else None)
        uow.commit()
        return user.id


def set_active(app: AppContext, actor: Actor, username: str, active: bool, reason: str) -> None:
    with app.uow(actor, Permission.MANAGE_USERS) as uow:
        user = uow.session.scalar(select(User).where(User.username == username))
        if user is None:
            raise UserError(f"There is no user called {username}.")
        if user.id == actor.user_id and not active:
            raise UserError("You cannot disable your own account.")
        before = {"active": user.active}
        user.active = active
        if active:
            user.failed_logins = 0
        uow.audit("user.enabled" if active else "user.disabled", "user", user.id,
                  before=before, after={"active": active}, reason=reason)
        uow.commit()


def login(app: AppContext, username: str, password: str) -> Actor:
    """Check a password; five failures in a row lock the account until an admin re-enables it."""
    with app.uow(Actor.system("login")) as uow:
        user = uow.session.scalar(select(User).where(User.username == username))
        generic = "Wrong username or password."
        if user is None:
            hasher().hash(password)  # spend the same time as a real check
            raise UserError(generic)
        if not user.active:
            raise UserError("This account is disabled. Ask an administrator.")
        try:
            hasher().verify(user.password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            user.failed_logins += 1
            if user.failed_logins >= LOCKOUT_AFTER:
                user.active = False
                uow.audit("user.locked", "user", user.id, reason=f"{LOCKOUT_AFTER} failed sign-ins")
            uow.commit()
            raise UserError(generic) from None
        if hasher().check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        user.failed_logins = 0
        user.last_login_at = app.now()
        uow.audit("user.signed_in", "user", user.id)
        uow.commit()
        return Actor(user.id, user.username, Role(user.role), user.full_name)


def actor_for(app: AppContext, username: str) -> Actor:
    """The actor for a named account (command line `--as`), without a password."""
    with app.db.reading() as s:
        user = s.scalar(select(User).where(User.username == username))
        if user is None or not user.active:
            raise UserError(f"There is no active user called {username}.")
        return Actor(user.id, user.username, Role(user.role), user.full_name)
