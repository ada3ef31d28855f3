"""What the appeals screens list: the docket of open appeals (most urgent first), a day's hearings,
a case's appeals.

Read-only use cases: they check the permission to see cases and write nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from desktop.domain import appeals as rules
from desktop.domain.appeals import appeal_number
from desktop.domain.errors import NotFound
from desktop.domain.profiles import JurisdictionProfile, profile_for
from desktop.domain.roles import Permission
from desktop.persistence.models import Appeal, Citation, Hearing
from desktop.services.appeals.common import (
    ACTIVE_HEARING,
    case_by_number,
    case_profile,
    day_bounds,
    profile_versions,
    user_name,
)
from desktop.services.cases.balances import ledger_money
from desktop.services.core.context import Actor, AppContext

# --------------------------------------------------------------------------- lists


@dataclass(frozen=True)
class AppealRow:
    """One line of the appeals docket."""

    appeal_id: int
    number: str
    citation_id: int
    citation_number: str
    plate: str
    profile_code: str
    level_key: str
    level_name: str
    appellant_name: str
    channel: str
    status: str
    filed_at: datetime
    decide_by: date | None
    days_left: int | None
    statutory: bool
    deemed_rule: bool
    hearing_id: int | None = None
    hearing_at: datetime | None = None
    hearing_mode: str | None = None
    decision: str | None = None
    decided_at: datetime | None = None

    @property
    def overdue(self) -> bool:
        return self.days_left is not None and self.days_left < 0 and self.status in rules.PENDING_STATUSES


def list_appeals(app: AppContext, actor: Actor, *, pending_only: bool = True, text: str = "",
                 limit: int = 2000, decided_within_days: int | None = None) -> list[AppealRow]:
    """Appeals, the most urgent first (fewest days left; overdue at the top); decided ones after, the latest
    first. ``pending_only`` with ``decided_within_days``: the open ones and those closed (decided, deemed
    accepted, withdrawn) in the last so many days, so that an appeal just decided stays in view.

    Reads only the columns the docket shows (no JSON columns decoded, no entities built): a busy
    office's few thousand open appeals list in a fraction of a second.
    """
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        s = uow.session
        q = (select(Appeal.id, Appeal.level, Appeal.appellant_name, Appeal.channel, Appeal.status, Appeal.filed_at,
                    Appeal.decide_by, Appeal.decision, Citation.id, Citation.citation_number, Citation.plate,
                    Citation.profile_code, Citation.issued_at, Appeal.decided_at)
             .join(Citation, Citation.id == Appeal.citation_id))
        is_pending = Appeal.status.in_(rules.PENDING_STATUSES)
        if pending_only and decided_within_days is not None:
            since = app.now() - timedelta(days=decided_within_days)
            q = q.where(or_(is_pending, Appeal.decided_at >= since))
        elif pending_only:
            q = q.where(is_pending)
        needle = " ".join(text.split())
        if needle:
            like = f"%{needle}%"
            q = q.where(or_(Citation.citation_number.ilike(like), Citation.plate.ilike(like),
                            Appeal.appellant_name.ilike(like)))
        rows = s.execute(q.order_by(Appeal.decide_by, Appeal.id).limit(limit)).all()
        hearings: dict[int, tuple[int, datetime, str]] = {}
        hq = (select(Hearing.appeal_id, Hearing.id, Hearing.scheduled_at, Hearing.mode)
              .join(Appeal, Appeal.id == Hearing.appeal_id).where(Hearing.status.in_(ACTIVE_HEARING)))
        if pending_only and decided_within_days is None:
            hq = hq.where(is_pending)
        for appeal_id, hid, at, mode in s.execute(hq):
            if appeal_id not in hearings or at > hearings[appeal_id][1]:
                hearings[appeal_id] = (hid, at, mode)
    now = app.now()
    today: dict[str, date] = {}
    profiles: dict[tuple[str, date], JurisdictionProfile] = {}
    out = []
    for (appeal_id, level_key, name, channel, status, filed_at, decide_by, decision, cid, number, plate,
         code, issued_at, decided_at) in rows:
        versions = profile_versions(code)
        key = (code, issued_at.astimezone(versions[0].tz).date())
        profile = profiles.get(key)
        if profile is None:
            profile = profiles[key] = profile_for(code, issued_at, versions)
        if profile.code not in today:
            today[profile.code] = rules.local_date(now, profile)
        level = profile.appeal_level(level_key)
        pending = status in rules.PENDING_STATUSES
        left = rules.days_left(decide_by, today[profile.code]) if decide_by is not None and pending else None
        h = hearings.get(appeal_id)
        out.append(AppealRow(
            appeal_id, appeal_number(appeal_id), cid, number, plate, profile.code, level.key, level.name, name,
            channel, status, filed_at, decide_by, left, level.decision_within_days is not None,
            level.deemed_accepted_if_undecided, h[0] if h else None, h[1] if h else None, h[2] if h else None,
            decision, decided_at))
    big = 10 ** 6
    out.sort(key=lambda r: (0, r.days_left if r.days_left is not None else big, r.appeal_id)
             if r.status in rules.PENDING_STATUSES
             else (1, -(r.decided_at.timestamp() if r.decided_at else 0), -r.appeal_id))
    return out


def appeals_for_case(session: Session, citation_id: int) -> list[Appeal]:
    return list(session.scalars(select(Appeal).where(Appeal.citation_id == citation_id).order_by(Appeal.id)))


def latest_appeal_id(app: AppContext, actor: Actor, citation_number: str) -> int:
    """The newest appeal on a citation (for the command line's packet)."""
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        case = case_by_number(uow.session, citation_number)
        appeal_id = uow.session.scalar(select(Appeal.id).where(Appeal.citation_id == case.id)
                                       .order_by(Appeal.id.desc()).limit(1))
        if appeal_id is None:
            raise NotFound(f"Citation {case.citation_number} has no appeal.")
        return int(appeal_id)


@dataclass(frozen=True)
class DocketRow:
    hearing_id: int
    appeal_id: int
    number: str
    citation_number: str
    plate: str
    appellant_name: str
    officer_user_id: int
    officer_name: str
    scheduled_at: datetime
    minutes: int
    mode: str
    location: str | None
    status: str
    violation_code: str
    balance_cents: int
    level_name: str
    profile_code: str
    adjourned_reason: str | None = None


def docket(app: AppContext, actor: Actor, day: date, officer_user_id: int | None = None) -> list[DocketRow]:
    """The hearings of a day (agency time), in time order; adjourned ones are listed with their reason."""
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        s = uow.session
        lo, hi = day_bounds(s, day)
        q = (select(Hearing, Appeal, Citation).join(Appeal, Appeal.id == Hearing.appeal_id)
             .join(Citation, Citation.id == Appeal.citation_id)
             .where(and_(Hearing.scheduled_at >= lo, Hearing.scheduled_at < hi)))
        if officer_user_id is not None:
            q = q.where(Hearing.hearing_officer_id == officer_user_id)
        out = []
        for h, a, c in s.execute(q.order_by(Hearing.scheduled_at, Hearing.id)).all():
            charges, paid = ledger_money(s, c.id)
            profile = case_profile(c)
            out.append(DocketRow(h.id, a.id, appeal_number(a.id), c.citation_number, c.plate, a.appellant_name,
                                 h.hearing_officer_id, user_name(s, h.hearing_officer_id), h.scheduled_at,
                                 h.minutes, h.mode, h.location, h.status, c.violation_code, charges - paid,
                                 profile.appeal_level(a.level).name, c.profile_code, h.adjourned_reason))
        return out
