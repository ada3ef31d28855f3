"""Users, roles and signing in. Passwords are hashed with argon2id."""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desktop.domain import text as widths
from desktop.domain.errors import UserError
from desktop.domain.roles import Permission, Role
from desktop.domain.text import clean_text
from desktop.persistence.models import User
from desktop.services.core import settings
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
    chosen = _check_new(clean_text(username, "The username", 64), password, role)
    clean_text(full_name, "The full name", widths.NAME)
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
        before: dict[str, Any] = {"active": user.active}
        user.active = active
        after: dict[str, Any] = {"active": active}
        if active:
            user.failed_logins = 0
            if user.locked_until is not None:  # re-enabling also ends a lockout
                before["locked_until"] = user.locked_until.isoformat()
                after["locked_until"] = None
                user.locked_until = None
        uow.audit("user.enabled" if active else "user.disabled", "user", user.id,
                  before=before, after=after, reason=reason)
        uow.commit()


#: The one answer to every failed sign-in (unknown user, wrong password, disabled or locked account), so a
#: guesser learns nothing about which accounts exist or what state they are in.
SIGN_IN_FAILED = "Wrong username or password, or the account is locked or disabled."


def _lockout(session: Session) -> timedelta:
    return timedelta(minutes=max(1, int(settings.get(session, "security.lockout_minutes"))))


def login(app: AppContext, username: str, password: str, *, via: str | None = None) -> Actor:
    """Check a password and return the signed-in actor; every failure raises UserError(SIGN_IN_FAILED).

    Five failures in a row lock the account for `security.lockout_minutes` (audited as user.locked); the
    first attempt after that time unlocks it (audited as user.unlocked), so a guesser can delay an
    administrator but never keep them out for good. Failures while locked are not counted and do not
    extend the lock. `via` names where the sign-in came from (the command line's command), for the audit."""
    with app.uow(Actor.system("login")) as uow:
        user = uow.session.scalar(select(User).where(User.username == username))
        if user is None:
            hasher().hash(password)  # spend the same time as a real check
            raise UserError(SIGN_IN_FAILED)
        now = app.now()
        if user.locked_until is not None:
            if now < user.locked_until:
                hasher().hash(password)
                raise UserError(SIGN_IN_FAILED)
            user.locked_until = None
            user.failed_logins = 0
            uow.audit("user.unlocked", "user", user.id, after={"locked_until": None},
                      reason="the lockout time passed")
        try:
            hasher().verify(user.password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            if user.active:
                user.failed_logins += 1
                if user.failed_logins >= LOCKOUT_AFTER:
                    user.locked_until = now + _lockout(uow.session)
                    uow.audit("user.locked", "user", user.id,
                              after={"locked_until": user.locked_until.isoformat()},
                              reason=f"{user.failed_logins} failed sign-ins in a row")
            uow.commit()
            raise UserError(SIGN_IN_FAILED) from None
        if not user.active:
            uow.commit()  # keeps an expired lock's release
            raise UserError(SIGN_IN_FAILED)
        if hasher().check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        user.failed_logins = 0
        user.last_login_at = now
        actor = Actor(user.id, user.username, Role(user.role), user.full_name)
        uow.actor = actor  # the trail names who signed in (locks and unlocks stay the system's doing)
        uow.audit("user.signed_in", "user", user.id, reason=via)
        uow.commit()
        return actor


_OLD_SCHEMA_USER = select(User.id, User.username, User.full_name, User.role, User.active, User.password_hash)


def check_password_any_schema(app: AppContext, username: str, password: str) -> Actor:
    """A password check that reads only the columns every schema revision has, for `db upgrade` of a
    database older than this program (the lockout columns may not exist yet, so nothing is written)."""
    with app.db.reading() as s:
        row = s.execute(_OLD_SCHEMA_USER.where(User.username == username)).first()
    try:
        if row is None:
            hasher().hash(password)
            raise UserError(SIGN_IN_FAILED)
        hasher().verify(row.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        raise UserError(SIGN_IN_FAILED) from None
    if not row.active:
        raise UserError(SIGN_IN_FAILED)
    return Actor(row.id, row.username, Role(row.role), row.full_name)


def add_first_administrator(app: AppContext, username: str, full_name: str, password: str) -> int:
    """The first account of a new office, added without anyone signed in (there is nobody yet); refused
    once any account exists."""
    if has_users(app):
        raise UserError("Adding a user needs a signed-in administrator: give --as USER or CURBDESK_TOKEN.")
    return add_user(app, Actor.system("first-run"), username, full_name, "admin", password)


def actor_for(app: AppContext, username: str) -> Actor:
    """The actor for a named account without a password: for callers that have already authenticated
    (the demo builder, tests). The command line never uses it."""
    with app.db.reading() as s:
        user = s.scalar(select(User).where(User.username == username))
        if user is None or not user.active:
            raise UserError(f"There is no active user called {username}.")
        return Actor(user.id, user.username, Role(user.role), user.full_name)
