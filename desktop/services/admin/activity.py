"""Administration › Activity: the part of the audit trail an administrator follows (sign-ins, sign-outs,
lockouts, payments posted, approvals, syncs, notice runs, escalations, the database's backups, upgrades and
restores), newest first, filtered by user, kind, date range and outcome, a page at a time. Administrators
only (Permission.VIEW_ACTIVITY), checked here for the screen and any other caller alike.

Which actions count, their kinds and outcomes: ``desktop.services.core.activity``. Each page is one indexed
read (``ix_audit_action_id``: action, id) plus a count capped at ``COUNT_CAP`` rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, false, func, not_, or_, select
from sqlalchemy.sql.elements import ColumnElement

from desktop.domain.errors import UserError
from desktop.domain.roles import Permission
from desktop.persistence.models import AuditEntry, User
from desktop.services.core import activity
from desktop.services.core.context import Actor, AppContext

PAGE_SIZE = 100
#: the count of matching entries stops here ("more than 10,000"): a count of a long trail costs a full scan
COUNT_CAP = 10_000


@dataclass(frozen=True)
class ActivityFilter:
    username: str = ""
    kind: str = ""        # one of activity.KINDS, or "" for every kind
    outcome: str = ""     # one of activity.OUTCOMES, or ""
    since: datetime | None = None   # inclusive
    until: datetime | None = None   # exclusive


@dataclass(frozen=True)
class ActivityRow:
    id: int
    at: datetime
    username: str
    kind: str
    action: str
    outcome: str
    summary: str


@dataclass(frozen=True)
class ActivityPage:
    rows: list[ActivityRow]
    page: int
    page_size: int
    #: matching entries, counted up to COUNT_CAP (``capped`` says the real number is larger)
    total: int
    capped: bool

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    def caption(self) -> str:
        more = "more than " if self.capped else ""
        first = self.page * self.page_size + 1 if self.rows else 0
        return (f"{first:,}–{self.page * self.page_size + len(self.rows):,} of {more}{self.total:,} entries "
                f"(page {self.page + 1} of {more}{self.pages:,})")


def _outcome_clause(wanted: str) -> ColumnElement[bool]:
    """The SQL form of ``activity.outcome``: fixed outcomes by action, sync results by their reason."""
    fixed = [a for a, o in activity.FIXED_OUTCOME.items() if o == wanted]
    by_reason = [and_(AuditEntry.action == action, AuditEntry.reason.like(f"{prefix}%"))
                 for action, rules in activity.REASON_OUTCOME.items() for prefix, o in rules if o == wanted]
    if wanted != "ok":
        return or_(AuditEntry.action.in_(fixed), *by_reason) if (fixed or by_reason) else false()
    not_ok = [and_(AuditEntry.action == action, AuditEntry.reason.like(f"{prefix}%"))
              for action, rules in activity.REASON_OUTCOME.items() for prefix, _o in rules]
    return and_(AuditEntry.action.not_in(list(activity.FIXED_OUTCOME)), *[not_(c) for c in not_ok])


def _where(f: ActivityFilter) -> list[ColumnElement[bool]]:
    if f.kind and f.kind not in activity.KINDS:
        raise UserError(f"There is no kind of activity called {f.kind}; choose one of: {', '.join(activity.KINDS)}.")
    if f.outcome and f.outcome not in activity.OUTCOMES:
        raise UserError(f"There is no outcome called {f.outcome}; choose one of: {', '.join(activity.OUTCOMES)}.")
    if f.since and f.until and f.until <= f.since:
        raise UserError("The date range ends before it begins: swap the dates.")
    actions = activity.KINDS[f.kind] if f.kind else tuple(sorted(activity.ACTIONS))
    where: list[ColumnElement[bool]] = [AuditEntry.action.in_(actions)]
    if f.username.strip():
        where.append(AuditEntry.username == f.username.strip())
    if f.since:
        where.append(AuditEntry.at >= f.since)
    if f.until:
        where.append(AuditEntry.at < f.until)
    if f.outcome:
        where.append(_outcome_clause(f.outcome))
    return where


def list_activity(app: AppContext, actor: Actor, f: ActivityFilter = ActivityFilter(), page: int = 0,
                  page_size: int = PAGE_SIZE) -> ActivityPage:
    """One page of the administrator's activity, newest first (administrators only)."""
    where = _where(f)
    page = max(0, page)
    with app.reader(actor, Permission.VIEW_ACTIVITY) as uow:
        s = uow.session
        capped_ids = select(AuditEntry.id).where(*where).limit(COUNT_CAP + 1).subquery()
        total = int(s.scalar(select(func.count()).select_from(capped_ids)) or 0)
        entries = s.execute(
            select(AuditEntry.id, AuditEntry.at, AuditEntry.username, AuditEntry.action, AuditEntry.entity_type,
                   AuditEntry.entity_id, AuditEntry.after, AuditEntry.reason)
            .where(*where).order_by(AuditEntry.id.desc()).offset(page * page_size).limit(page_size)).all()
    rows = [ActivityRow(e.id, e.at, e.username, activity.KIND_OF[e.action], e.action,
                        activity.outcome(e.action, e.reason),
                        activity.summary(e.entity_type, e.entity_id, e.after, e.reason)) for e in entries]
    return ActivityPage(rows, page, page_size, min(total, COUNT_CAP), total > COUNT_CAP)


def usernames(app: AppContext, actor: Actor) -> list[str]:
    """The accounts that appear in the activity filter's list (administrators only)."""
    with app.reader(actor, Permission.VIEW_ACTIVITY) as uow:
        return list(uow.session.scalars(select(User.username).order_by(User.username)))
