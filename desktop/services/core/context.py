"""The application context handed to every use case, the acting user and the unit of work."""

from __future__ import annotations

import contextvars
import functools
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import bindparam, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from desktop.domain.errors import ConcurrencyConflict, PermissionDenied
from desktop.domain.roles import Permission, Role, require
from desktop.paths import AppPaths
from desktop.persistence import failures, locks
from desktop.persistence.db import Database, long_job
from desktop.persistence.models import User
from desktop.services.core import audit, changes, seal
from desktop.services.core.jsonable import jsonable
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

    def uow(self, actor: Actor, permission: Permission | None = None, *, daily_run: bool = False,
            long: bool = False) -> UnitOfWork:
        """A write unit of work; on PostgreSQL it holds the daily-run lock (``persistence.locks``): shared,
        or exclusive for the daily escalation (``daily_run=True``). ``long``: a long job's transaction
        (an import), free of a click's statement and lock time limits (``persistence.db.long_job``)."""
        return UnitOfWork(self, actor, permission, daily_run=daily_run, long=long)

    def reader(self, actor: Actor, permission: Permission | None = None, *, long: bool = False) -> UnitOfWork:
        """A read-only unit of work (no write lock); permission checked the same way."""
        return UnitOfWork(self, actor, permission, read_only=True, long=long)


_USER_CHECK = select(User.active, User.role).where(User.id == bindparam("uid"))


class UnitOfWork:
    """One use case's transaction. Leaving the block without `commit()` rolls everything back.

    Entering checks the actor's permission against the *current* user row, so a
    disabled account or a changed role takes effect at once.
    """

    def __init__(self, app: AppContext, actor: Actor, permission: Permission | None,
                 read_only: bool = False, *, daily_run: bool = False, long: bool = False) -> None:
        self.app = app
        self.long = long or daily_run
        self.daily_run = daily_run
        self.read_only = read_only
        self.actor = actor
        self.permission = permission
        self.committed = False
        self._deferred_audit: list[dict[str, Any]] = []
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        db = self.app.db
        self.session = db.read_session() if self.read_only else db.write_session()
        try:
            if self.long:
                long_job(self.session)
            if not self.read_only:
                # First, before anything is read: the daily escalation and the other writes serialise here.
                locks.enter_write(self.session, daily_run=self.daily_run)
            if self.permission is not None:
                self.require(self.permission)
        except BaseException as exc:
            try:
                self.session.rollback()
            finally:
                self.session.close()
            said = failures.translate(exc)
            if said is not None:
                raise said from exc
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
        entry: dict[str, Any] = dict(at=self.app.now(), user_id=self.actor.user_id, username=self.actor.username,
                     action=action, entity_type=entity_type, entity_id=entity_id, before=before, after=after,
                     reason=reason)
        if self.daily_run:  # (every other write waits for the daily run anyway, see persistence.locks)
            audit.append(self.session, **entry)
            return
        # Appended at the commit: the audit chain's head row, which every audited write locks until it commits,
        # is then held from the last moment of the transaction (after its own rows are written) to its commit,
        # not for the whole of a click or the minutes of a city's lockbox file, so twenty workstations' writes
        # queue on it for a millisecond or two, not for each other's whole transactions. A long job's entries
        # are stamped with the moment they are committed (they become visible together); a click's keep the
        # moment of each. Their values are taken now, as they are.
        entry.update(before=jsonable(before) if before is not None else None,
                     after=jsonable(after) if after is not None else None)
        self._deferred_audit.append(entry)

    def commit(self) -> None:
        if _before_commit is not None:
            _before_commit(self)
        try:
            if self._deferred_audit:
                self.session.flush()  # this transaction's own rows first: the head is locked from here to the commit
                self._append_deferred_audit()
            self.session.flush()
        except DBAPIError as exc:
            self.session.rollback()
            said = failures.translate(exc)
            if said is None:
                raise
            raise said from exc
        try:
            self.session.commit()
        except DBAPIError as exc:
            self.session.rollback()
            said = failures.translate(exc, committing=True)
            if said is None:
                raise
            raise said from exc
        except StaleDataError as exc:
            self.session.rollback()
            raise ConcurrencyConflict(
                "Someone else changed this case while you were working on it. Reload it and try again."
            ) from exc
        self.committed = True

    def _append_deferred_audit(self) -> None:
        """One head lock, one multi-row insert and one move of the head for all of them, each run of entries
        with the same moment and user hashed with it (a long job's all stamped with the commit's moment); the
        chain is the same as appending them one by one."""
        entries = self._deferred_audit
        if self.long:
            now = self.app.now()
            entries = [dict(e, at=now) for e in entries]
        runs: list[audit.AuditRun] = []
        start = 0
        while start < len(entries):
            first = entries[start]
            end = start + 1
            while end < len(entries) and all(entries[end][k] == first[k] for k in ("at", "user_id", "username")):
                end += 1
            runs.append(audit.AuditRun(
                [audit.AuditRecord(e["action"], e["entity_type"], e["entity_id"], e["before"], e["after"], e["reason"])
                 for e in entries[start:end]], first["at"], first["user_id"], first["username"]))
            start = end
        audit.append_runs(self.session, runs)
        self._deferred_audit.clear()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            # close() ends the transaction without expiring what was loaded, so a read-only
            # unit of work can hand its objects back to the caller.
            if not self.committed and not self.read_only:
                self.session.rollback()
        except DBAPIError:
            if exc is None or not failures.is_disconnect(exc):
                raise  # (a rollback on a connection the server dropped fails too: the server undid it already)
        finally:
            self.session.close()
        said = failures.translate(exc) if isinstance(exc, DBAPIError) else None
        if said is not None:
            raise said from exc
        if isinstance(exc, StaleDataError):
            raise ConcurrencyConflict(
                "Someone else changed this case while you were working on it. Reload it and try again."
            ) from exc


log = logging.getLogger(__name__)
T = TypeVar("T")
P = ParamSpec("P")
#: tests only: called with the unit of work just before each commit (to kill the server's connection at a
#: known point). None in the application.
_before_commit: Callable[[UnitOfWork], None] | None = None
_retrying = contextvars.ContextVar("curbdesk_retrying", default=False)
#: how many times a unit of work the server undid (deadlock, serialization) is run in all
ATTEMPTS = 4


def retrying(work: Callable[[], T], *, idempotent: bool = False, attempts: int = ATTEMPTS) -> T:
    """Run ``work`` (a whole use case: it opens and commits its own unit of work) and run it again when the
    database undid it to let a concurrent transaction through (PostgreSQL's deadlock detector or a
    serialization failure: :class:`failures.TransientConflict`), so a clerk never sees a deadlock; after
    ``attempts`` the sentence goes to the clerk. ``idempotent``: ``work`` recognises its own earlier success
    (a counter payment's request id, a payment file's digest, the daily run's dates), so it is run once more
    after a lost connection too, including one lost during the commit (it finds what that commit stored
    rather than storing it twice); with the server still down the clerk gets the sentence.
    Nested calls run ``work`` once: only the outermost one retries (an inner unit of work the server undid
    leaves the outer transaction undone as well)."""
    if _retrying.get():
        return work()
    token = _retrying.set(True)
    try:
        for attempt in range(1, attempts + 1):
            try:
                return work()
            except failures.TransientConflict:
                if attempt == attempts:
                    raise
                log.info("the database undid a unit of work (deadlock or serialization); attempt %d", attempt)
                time.sleep(random.uniform(0.005, 0.03) * attempt)  # the two transactions stop colliding
            except failures.ConnectionLost:
                if not idempotent or attempt >= 2:
                    raise
                log.info("lost the database connection; running the idempotent work once more")
        raise AssertionError("unreachable")
    finally:
        _retrying.reset(token)


def retried(service: Callable[P, T]) -> Callable[P, T]:
    """A use case run through :func:`retrying` (deadlocks and serialization failures run again)."""
    @functools.wraps(service)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        return retrying(lambda: service(*args, **kwargs))
    return run
