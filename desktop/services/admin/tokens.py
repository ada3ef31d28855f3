"""API tokens: how unattended command-line jobs (cron, Task Scheduler) act as a user without a password.

An administrator issues a token to one user for one scope of commands and a number of days. The secret
(256 random bits) is shown once; only its SHA-256 is stored, so a copy of the database does not hold usable
tokens (a slow hash is not needed: the secret is random, not chosen by a person). A token acts as its user
with that user's current permissions, checked by the services as for anyone else, and only for the
commands of its scope. Issuing, revoking and every use are audited.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from desktop.domain.errors import PermissionDenied, UserError
from desktop.domain.roles import Permission, Role
from desktop.persistence.models import ApiToken, User
from desktop.services.core import settings
from desktop.services.core.context import Actor, AppContext

PREFIX = "cdt_"

#: The commands each scope allows (the command line's names: "import payments", "db backup" ...).
#: A command not listed in any scope needs a token of scope "all" or a password.
SCOPES: dict[str, frozenset[str] | None] = {
    "daily-run": frozenset({"escalate", "appeals deadlines", "plans check", "plates read"}),
    "imports": frozenset({"import owners", "import payments", "import zones", "import permits",
                          "import-bundle", "payments reconcile"}),
    "sync": frozenset({"sync", "import-bundle"}),
    "notices": frozenset({"notices", "notices confirm", "notices returned", "notices log"}),
    "backup": frozenset({"db backup", "verify-audit"}),
    "read": frozenset({"export citations", "export collections", "export payments", "export gl",
                       "export quarantine", "appeals list", "appeals docket", "appeals packet", "profiles list",
                       "profiles show", "notices log", "review queue", "devices list", "verify-audit",
                       "export cases", "export review-queue", "export held-notices", "export appeals",
                       "export mail-log", "export payment-list"}),
    "all": None,
}

INVALID = "This API token is not valid; ask an administrator for a new one."


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class TokenRow:
    id: int
    username: str
    scope: str
    created_at: datetime
    created_by: str
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    def status(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if now >= self.expires_at else "active"


def issue(app: AppContext, actor: Actor, username: str, scope: str, days: int = 30) -> tuple[int, str]:
    """A new token for `username` (administrators only). Returns its id and the secret, shown only now."""
    if scope not in SCOPES:
        raise UserError(f"'{scope}' is not a token scope; choose one of: {', '.join(SCOPES)}.")
    with app.uow(actor, Permission.MANAGE_USERS) as uow:
        longest = int(settings.get(uow.session, "security.token_max_days"))
        if not 1 <= days <= longest:
            raise UserError(f"A token lasts from 1 to {longest} days (security.token_max_days).")
        user = uow.session.scalar(select(User).where(User.username == username))
        if user is None or not user.active:
            raise UserError(f"There is no active user called {username}.")
        secret = PREFIX + secrets.token_urlsafe(32)
        now = app.now()
        token = ApiToken(user_id=user.id, scope=scope, token_hash=digest(secret), created_at=now,
                         created_by=actor.username, expires_at=now + timedelta(days=days))
        uow.session.add(token)
        uow.session.flush()
        uow.audit("token.issued", "api_token", token.id,
                  after={"user": username, "scope": scope, "expires_at": token.expires_at.isoformat()})
        uow.commit()
        return token.id, secret


def list_tokens(app: AppContext, actor: Actor) -> list[TokenRow]:
    with app.reader(actor, Permission.MANAGE_USERS) as uow:
        rows = uow.session.execute(select(ApiToken, User.username).join(User, User.id == ApiToken.user_id)
                                   .order_by(ApiToken.id))
        return [TokenRow(t.id, name, t.scope, t.created_at, t.created_by, t.expires_at, t.revoked_at,
                         t.last_used_at) for t, name in rows]


def revoke(app: AppContext, actor: Actor, token_id: int) -> None:
    with app.uow(actor, Permission.MANAGE_USERS) as uow:
        token = uow.session.get(ApiToken, token_id)
        if token is None:
            raise UserError(f"There is no API token {token_id}.")
        if token.revoked_at is not None:
            raise UserError(f"API token {token_id} was already revoked.")
        token.revoked_at = app.now()
        uow.audit("token.revoked", "api_token", token.id, after={"revoked_at": token.revoked_at.isoformat()})
        uow.commit()


def authenticate(app: AppContext, secret: str, command: str) -> Actor:
    """The actor a token stands for, if it is valid, unexpired, unrevoked, its user active, and `command` in
    its scope; the use is audited. Every refusal is one sentence."""
    with app.uow(Actor.system("token")) as uow:
        row = uow.session.execute(select(ApiToken, User).join(User, User.id == ApiToken.user_id)
                                  .where(ApiToken.token_hash == digest(secret.strip()))).first()
        if row is None:
            raise UserError(INVALID)
        token, user = row
        now = app.now()
        if token.revoked_at is not None:
            raise UserError(f"This API token was revoked on {token.revoked_at:%Y-%m-%d}; "
                            "ask an administrator for a new one.")
        if now >= token.expires_at:
            raise UserError(f"This API token expired on {token.expires_at:%Y-%m-%d}; "
                            "ask an administrator for a new one.")
        if not user.active or (user.locked_until is not None and now < user.locked_until):
            raise UserError(f"The account {user.username} this API token acts for is disabled or locked.")
        allowed = SCOPES.get(token.scope, frozenset())
        if allowed is not None and command not in allowed:
            raise PermissionDenied(f"This API token (scope {token.scope}) may not run '{command}'; "
                                   "it may run: " + ", ".join(sorted(allowed)) + ".")
        token.last_used_at = now
        actor = Actor(user.id, user.username, Role(user.role), user.full_name)
        uow.session.flush()
        # audited under the token's user: the trail names who the job acts for
        uow.actor = actor
        uow.audit("token.used", "api_token", token.id, after={"command": command})
        uow.commit()
        return actor
