"""The application context handed to every use case, the acting user and the unit of work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from desktop.domain.errors import ConcurrencyConflict, PermissionDenied
from desktop.domain.roles import Permission, Role, require
from desktop.paths import AppPaths
from desktop.persistence import locks
from desktop.persistence.db import Database
from desktop.persistence.models import User
from desktop.services.core import audit, changes, seal
from desktop.services.core.printing import DocumentRenderer


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in user, or the system running an unattended job."""

    user_id: int | None
    username: str
    role: Role
    full_name: str = ""

    @classmethod
    def system(cls, job: str = "automation") -> Actor:
        return cls(None, f"system:{job}", Role.ADMIN, "Curbdesk automation")

    @property
    def is_system(self) -> bool:
        return self.user_id is None


@dataclass
class AppContext:
    """What every use case needs: the database, the data folder, the clock, and the renderer that
    prints documents (built in one place: `desktop.bootstrap.make_app_context`)."""

    db: Database
    paths: AppPaths
    clock: Callable[[], datetime] = field(default=utcnow)
    renderer: DocumentRenderer = field(kw_only=True)

    def __post_init__(self) -> None:
        # every session of the database signs the audit head and the sealed rows with the office's key
        seal.attach(self.db, self.paths)
        # every write session tells the other workstations what it changed (on PostgreSQL, at commit)
        changes.install()

    def now(self) -> datetime:
        return self.clock()

    def uow(self, actor: Actor, permission: Permission | None = None, *, daily_run: bool = False) -> UnitOfWork:
        """A write unit of work; on PostgreSQL it holds the daily-run lock (``persistence.locks``): shared,
        or exclusive for the daily escalation (``daily_run=True``)."""
        return UnitOfWork(self, actor, permission, daily_run=daily_run)

    def reader(self, actor: Actor, permission: Permission | None = None) -> UnitOfWork:
        """A read-only unit of work (no write lock); permission checked the same way."""
        return UnitOfWork(self, actor, permission, read_only=True)


_USER_CHECK = select(User.active, User.role).where(User.id == bindparam("uid"))


class UnitOfWork:
    """One use case's transaction. Leaving the block without `commit()` rolls everything back.

    Entering checks the actor's permission against the *current* user row, so a
    disabled account or a changed role takes effect at once.
    """

    def __init__(self, app: AppContext, actor: Actor, permission: Permission | None,
                 read_only: bool = False, *, daily_run: bool = False) -> None:
        self.app = app
        self.daily_run = daily_run
        self.read_only = read_only
        self.actor = actor
        self.permission = permission
        self.committed = False
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        db = self.app.db
        self.session = db.read_session() if self.read_only else db.write_session()
        try:
            if not self.read_only:
                # First, before anything is read: the daily escalation and the other writes serialise here.
                locks.enter_write(self.session, daily_run=self.daily_run)
            if self.permission is not None:
                self.require(self.permission)
        except BaseException:
            self.session.rollback()
            self.session.close()
            raise
        return self

    def require(self, permission: Permission) -> None:
        role = self.actor.role
        if not self.actor.is_system:
            # Two columns, not the ORM object: every read of every screen comes through here.
            user = self.session.execute(_USER_CHECK, {"uid": self.actor.user_id}).first()
            if user is None or not user.active:
                raise PermissionDenied(f"The account {self.actor.username} is disabled.")
            role = Role(user.role)
        require(role, permission, self.actor.username)

    def audit(self, action: str, entity_type: str, entity_id: str | int, *,
              before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
              reason: str | None = None) -> None:
        audit.append(
            self.session, at=self.app.now(), user_id=self.actor.user_id, username=self.actor.username,
            action=action, entity_type=entity_type, entity_id=entity_id, before=before, after=after,
            reason=reason,
        )

    def commit(self) -> None:
        try:
            self.session.commit()
        except StaleDataError as exc:
            self.session.rollback()
            raise ConcurrencyConflict(
                "Someone else changed this case while you were working on it. Reload it and try again."
            ) from exc
        self.committed = True

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            # close() ends the transaction without expiring what was loaded, so a read-only
            # unit of work can hand its objects back to the caller.
            if not self.committed and not self.read_only:
                self.session.rollback()
        finally:
            self.session.close()
        if isinstance(exc, StaleDataError):
            raise ConcurrencyConflict(
                "Someone else changed this case while you were working on it. Reload it and try again."
            ) from exc
