"""Users, roles and signing in. Passwords are hashed with argon2id; new ones follow the password policy
(`desktop.domain.passwords`, with the common-password list shipped in resources/passwords/)."""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import Any, NoReturn

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desktop.domain import passwords as policy
from desktop.domain import text as widths
from desktop.domain.errors import UserError
from desktop.domain.roles import Permission, Role
from desktop.domain.text import clean_text
from desktop.persistence.models import User
from desktop.resources import resource
from desktop.services.core import settings
from desktop.services.core.context import Actor, AppContext, UnitOfWork

MIN_PASSWORD = policy.MIN_LENGTH
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


@cache
def common_passwords() -> frozenset[str]:
    """The 10,000 most common passwords, lowercased (resources/passwords/README.md says where from)."""
    path = resource("passwords", "common-passwords.txt")
    return frozenset(line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def check_password_policy(password: str, username: str, full_name: str = "") -> None:
    """Refuse a new password the policy does not allow, in one sentence (see `desktop.domain.passwords`)."""
    problem = policy.password_problem(password, username=username, full_name=full_name,
                                      common=common_passwords())
    if problem is not None:
        raise UserError(problem)


def check_username(username: str) -> None:
    if not username or not username.replace(".", "").replace("_", "").replace("-", "").isalnum() or len(username) > 64:
        raise UserError("A username is letters, digits, dots, dashes and underscores (up to 64).")


def _check_new(username: str, password: str, role: str, full_name: str = "") -> Role:
    check_username(username)
    check_password_policy(password, username, full_name)
    try:
        return Role(role)
    except ValueError:
        raise UserError(f"'{role}' is not a role; choose one of: {', '.join(r.value for r in Role)}.") from None


def has_users(app: AppContext) -> bool:
    with app.db.reading() as s:
        return bool(s.scalar(select(func.count()).select_from(User)))


def add_user(app: AppContext, actor: Actor, username: str, full_name: str, role: str, password: str) -> int:
    """Create an account. The very first account may be created without an acting admin."""
    clean_text(full_name, "The full name", widths.NAME)
    chosen = _check_new(clean_text(username, "The username", 64), password, role, full_name)
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


class PasswordChangeRequired(UserError):
    """The password was right, but an administrator reset it: the user chooses a new one before anything
    else (`change_own_password` with the password they were given)."""


def _fail(uow: UnitOfWork, user: User | None, username: str, via: str | None) -> NoReturn:
    """Record a failed sign-in (audited, also for a name no account has), commit, and refuse."""
    if user is not None and user.active:
        user.failed_logins += 1
    uow.audit("user.sign_in_failed", "user", user.id if user is not None else username[:64] or "(empty)",
              after={"username": username[:64], "failed_logins": user.failed_logins if user is not None else None},
              reason=via)
    if user is not None and user.active and user.failed_logins >= LOCKOUT_AFTER:
        user.locked_until = uow.app.now() + _lockout(uow.session)
        uow.audit("user.locked", "user", user.id, after={"locked_until": user.locked_until.isoformat()},
                  reason=f"{user.failed_logins} failed sign-ins in a row")
    uow.commit()
    raise UserError(SIGN_IN_FAILED)


def _check_password(uow: UnitOfWork, username: str, password: str, via: str | None) -> User:
    """The account whose password this is, in `uow`; a failure is counted, audited, committed and refused
    with SIGN_IN_FAILED."""
    user = uow.session.scalar(select(User).where(User.username == username))
    if user is None:
        hasher().hash(password)  # spend the same time as a real check
        _fail(uow, None, username, via)
    now = uow.app.now()
    if user.locked_until is not None:
        if now < user.locked_until:
            hasher().hash(password)
            uow.audit("user.sign_in_failed", "user", user.id, after={"username": username, "locked": True},
                      reason=via)
            uow.commit()
            raise UserError(SIGN_IN_FAILED)
        user.locked_until = None
        user.failed_logins = 0
        uow.audit("user.unlocked", "user", user.id, after={"locked_until": None},
                  reason="the lockout time passed")
    try:
        hasher().verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        _fail(uow, user, username, via)
    if not user.active:
        uow.audit("user.sign_in_failed", "user", user.id, after={"username": username, "disabled": True},
                  reason=via)
        uow.commit()  # keeps an expired lock's release
        raise UserError(SIGN_IN_FAILED)
    return user


def login(app: AppContext, username: str, password: str, *, via: str | None = None) -> Actor:
    """Check a password and return the signed-in actor; every failure raises UserError(SIGN_IN_FAILED).

    Five failures in a row lock the account for `security.lockout_minutes` (audited as user.locked); the
    first attempt after that time unlocks it (audited as user.unlocked), so a guesser can delay an
    administrator but never keep them out for good. Failures while locked are not counted and do not
    extend the lock. Every failure is audited (user.sign_in_failed, with the name typed) for the
    administrators to see. `via` names where the sign-in came from (the command line's command, the
    locked screen), for the audit. A right password that an administrator has reset raises
    PasswordChangeRequired: nothing else until a new one is chosen."""
    with app.uow(Actor.system("login")) as uow:
        user = _check_password(uow, username, password, via)
        if user.must_change_password:
            user.failed_logins = 0
            uow.commit()
            raise PasswordChangeRequired(
                f"An administrator has reset the password of {username}: choose a new one before signing in "
                f"(on the command line: main.py users passwd {username}).")
        if hasher().check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        user.failed_logins = 0
        user.last_login_at = uow.app.now()
        actor = Actor(user.id, user.username, Role(user.role), user.full_name)
        uow.actor = actor  # the trail names who signed in (locks and unlocks stay the system's doing)
        uow.audit("user.signed_in", "user", user.id, reason=via)
        uow.commit()
        return actor


def change_own_password(app: AppContext, username: str, current: str, new: str, *, via: str | None = None) -> None:
    """A user changes their own password, proving it with the current one (which counts towards the lockout
    like a sign-in when wrong). Also how a password an administrator reset is replaced."""
    with app.uow(Actor.system("login")) as uow:
        user = _check_password(uow, username, current, via)
        if new == current:
            raise UserError("The new password must differ from the current one.")
        check_password_policy(new, user.username, user.full_name)
        was_reset = user.must_change_password
        user.password_hash = hash_password(new)
        user.must_change_password = False
        user.failed_logins = 0
        uow.actor = Actor(user.id, user.username, Role(user.role), user.full_name)
        uow.audit("user.password_changed", "user", user.id,
                  reason="replacing a password an administrator reset" if was_reset else via)
        uow.commit()


def reset_password(app: AppContext, actor: Actor, username: str, new: str, reason: str = "") -> None:
    """An administrator sets another user's password (forgotten, or a new starter's): the user must choose
    their own at the next sign-in. Also ends a lockout. Audited (never the password)."""
    with app.uow(actor, Permission.MANAGE_USERS) as uow:
        user = uow.session.scalar(select(User).where(User.username == username))
        if user is None:
            raise UserError(f"There is no user called {username}.")
        if user.id == actor.user_id:
            raise UserError("Change your own password with Change password (main.py users passwd), not a reset.")
        check_password_policy(new, user.username, user.full_name)
        user.password_hash = hash_password(new)
        user.must_change_password = True
        user.failed_logins = 0
        before_lock = user.locked_until
        user.locked_until = None
        uow.audit("user.password_reset", "user", user.id,
                  before={"locked_until": before_lock.isoformat() if before_lock else None},
                  after={"must_change_password": True}, reason=reason or None)
        uow.commit()


def sign_out(app: AppContext, actor: Actor, how: str = "signed out") -> None:
    """The user left the workstation (File > Sign out, switch user) or the screen locked: audited, so the
    administrators see who was at a desk when."""
    if actor.is_system:
        return
    with app.uow(actor) as uow:
        action = {"signed out": "user.signed_out", "screen locked": "user.screen_locked"}.get(how, "user.signed_out")
        uow.audit(action, "user", actor.user_id or 0, reason=how)
        uow.commit()


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
