"""The dashboard (issue 18, point 5): today's and this week's key figures, each naming the screen it comes
from (the main window's area key) so a click opens it.

Work figures (the review backlog and its age, notices queued and held, appeals due this week) are for every
user who may see cases; the management figures (citations issued, payments taken, the fleet's sync state) are
for supervisors and administrators (``Permission.REPORTS_VIEW``), left out for the others by this service. The
week starts on Monday, in the agency's calendar. Each figure is one indexed count or sum.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from desktop.domain.errors import PermissionDenied
from desktop.domain.ledger import format_cents
from desktop.domain.roles import Permission
from desktop.services.core import settings
from desktop.services.core.clock import agency_zone
from desktop.services.core.context import Actor, AppContext
from desktop.services.core.sqltext import Sql

#: a handheld not heard from for this long is counted as out of touch
QUIET_HOURS = 24


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    value: str
    detail: str
    area: str  # the main window's area a click opens
    management: bool = False  # supervisors and administrators only


@dataclass(frozen=True)
class Dashboard:
    figures: tuple[Figure, ...]
    management: bool  # whether the management figures were included
    made_at: datetime


def dashboard(app: AppContext, actor: Actor) -> Dashboard:
    """The dashboard's figures for ``actor``: the work figures for anyone who may see cases, the management
    figures too for supervisors and administrators."""
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        try:
            uow.require(Permission.REPORTS_VIEW)  # the user's current role, read from the database
            management = True
        except PermissionDenied:
            management = False
        sql = Sql(uow.session)
        tz = agency_zone(uow.session)
        now = app.now()
        today = now.astimezone(tz).date()
        monday = today - timedelta(days=today.weekday())
        day0 = datetime.combine(today, time(), tz).astimezone(UTC)
        week0 = datetime.combine(monday, time(), tz).astimezone(UTC)
        figures: list[Figure] = []
        backlog, oldest = sql.rows("SELECT COUNT(*), MIN(received_at) FROM citations "
                                   "WHERE status IN ('received', 'pending_review')")[0]
        age = ""
        if oldest is not None:
            first = oldest if isinstance(oldest, datetime) else datetime.fromisoformat(str(oldest))
            days = (now - (first if first.tzinfo else first.replace(tzinfo=UTC))).days
            age = f"oldest waiting {days} day{'s' if days != 1 else ''}"
        figures.append(Figure("review", "Review backlog", f"{int(backlog):,}", age or "nothing waiting", "review"))
        queued, held = sql.rows("SELECT SUM(CASE WHEN status = 'queued' THEN 1 ELSE 0 END), "
                                "SUM(CASE WHEN status = 'held' THEN 1 ELSE 0 END) FROM notices "
                                "WHERE status IN ('queued', 'held')")[0]
        figures.append(Figure("notices", "Notices queued / held", f"{int(queued or 0):,} / {int(held or 0):,}",
                              "to print / waiting for a fix", "notices"))
        due = sql.scalar("SELECT COUNT(*) FROM appeals WHERE status IN ('open', 'scheduled') AND decide_by <= :d",
                         d=monday + timedelta(days=6))
        late = sql.scalar("SELECT COUNT(*) FROM appeals WHERE status IN ('open', 'scheduled') AND decide_by < :d",
                          d=today)
        figures.append(Figure("appeals", "Appeals due this week", f"{int(due or 0):,}",
                              f"{int(late or 0):,} past their deadline" if late else "none past its deadline",
                              "appeals"))
        if management:
            n_today, n_week = sql.rows(
                "SELECT SUM(CASE WHEN issued_at >= :d THEN 1 ELSE 0 END), COUNT(*) FROM citations "
                "WHERE issued_at >= :w", d=day0, w=week0)[0]
            figures.append(Figure("citations", "Citations issued", f"{int(n_today or 0):,} today",
                                  f"{int(n_week or 0):,} this week", "cases", True))
            p_today, p_week, c_week = sql.rows(
                "SELECT SUM(CASE WHEN value_date = :t THEN amount_cents ELSE 0 END), SUM(amount_cents), COUNT(*) "
                "FROM payments WHERE value_date >= :m AND value_date <= :t AND status <> 'reversed'",
                t=today, m=monday)[0]
            currency = settings.office_currency(uow.session)
            week = f"{format_cents(int(p_week or 0), currency)} this week ({int(c_week or 0):,} payments)"
            figures.append(Figure("payments", "Payments taken", f"{format_cents(int(p_today or 0), currency)} today",
                                  week,
                                  "payments", True))
            devices, quiet, gaps = sql.rows(
                "SELECT COUNT(*), SUM(CASE WHEN last_seen_at IS NULL OR last_seen_at < :q THEN 1 ELSE 0 END), "
                "SUM(CASE WHEN COALESCE(pending_events, 0) > 0 THEN 1 ELSE 0 END) FROM devices WHERE active = :yes",
                q=now - timedelta(hours=QUIET_HOURS), yes=True)[0]
            synced = int(devices or 0) - int(quiet or 0)
            figures.append(Figure("sync", "Fleet sync", f"{synced:,} of {int(devices or 0):,} in touch",
                                  f"{int(quiet or 0):,} silent over {QUIET_HOURS} h, {int(gaps or 0):,} with events "
                                  "waiting", "sync", True))
    return Dashboard(tuple(figures), management, now)

