"""Hearings: hearing officers and their periods of availability, free times, scheduling a hearing and
adjourning it (each hearing queues its own hearing notice).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from desktop.domain import appeals as rules
from desktop.domain.appeals import AppealStatus, HearingMode, appeal_number
from desktop.domain.errors import NotFound, UserError
from desktop.domain.roles import Permission, Role
from desktop.persistence.models import Appeal, Citation, Hearing, HearingSlot, User
from desktop.services.appeals.common import (
    ACTIVE_HEARING,
    case_profile,
    day_bounds,
    lock_appeal,
    queue_letter,
    user_name,
)
from desktop.services.core import settings
from desktop.services.core.clock import agency_zone
from desktop.services.core.context import Actor, AppContext, UnitOfWork

# --------------------------------------------------------------------------- hearing officers and slots


@dataclass(frozen=True)
class OfficerChoice:
    user_id: int
    name: str
    username: str


def hearing_officers(app: AppContext, actor: Actor) -> list[OfficerChoice]:
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        rows = uow.session.scalars(select(User).where(User.role == Role.HEARING_OFFICER.value,
                                                      User.active.is_(True)).order_by(User.full_name))
        return [OfficerChoice(u.id, u.full_name, u.username) for u in rows]


def _officer(uow: UnitOfWork, officer_user_id: int, lock: bool = False) -> User:
    q = select(User).where(User.id == officer_user_id)
    if lock:
        q = q.with_for_update()
    user = uow.session.execute(q).scalar_one_or_none()
    if user is None or user.role != Role.HEARING_OFFICER.value or not user.active:
        raise UserError("Hearings can only be given to an active hearing officer.")
    return user


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise UserError("A hearing time needs its time zone.")
    return moment.astimezone(UTC)


def add_slot(app: AppContext, actor: Actor, officer_user_id: int, starts_at: datetime, ends_at: datetime) -> int:
    """Record a stretch of a hearing officer's time as available for hearings."""
    start, end = _aware(starts_at), _aware(ends_at)
    if end <= start:
        raise UserError("A period of availability must end after it starts.")
    if end - start > timedelta(hours=12):
        raise UserError("A period of availability is at most 12 hours; add each day on its own.")
    with app.uow(actor, Permission.SCHEDULE_HEARINGS) as uow:
        officer = _officer(uow, officer_user_id, lock=True)
        clash = uow.session.scalar(select(HearingSlot).where(
            HearingSlot.officer_user_id == officer.id, HearingSlot.starts_at < end, HearingSlot.ends_at > start))
        if clash is not None:
            tz = agency_zone(uow.session)
            raise UserError(f"{officer.full_name} is already available from "
                            f"{clash.starts_at.astimezone(tz):%Y-%m-%d %H:%M} to "
                            f"{clash.ends_at.astimezone(tz):%H:%M}; periods must not overlap.")
        slot = HearingSlot(officer_user_id=officer.id, starts_at=start, ends_at=end)
        uow.session.add(slot)
        uow.session.flush()
        uow.audit("hearing_slot.added", "user", officer.id, after={"slot": slot.id, "from": start, "to": end})
        uow.commit()
        return slot.id


@dataclass(frozen=True)
class Booking:
    hearing_id: int
    starts_at: datetime
    ends_at: datetime
    appeal_number: str


@dataclass(frozen=True)
class SlotView:
    slot_id: int
    starts_at: datetime
    ends_at: datetime
    bookings: tuple[Booking, ...]


def officer_day(app: AppContext, actor: Actor, officer_user_id: int, day: date) -> list[SlotView]:
    """The officer's periods of availability on a day (agency time), with the hearings booked in them."""
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        s = uow.session
        lo, hi = day_bounds(s, day)
        slots = list(s.scalars(select(HearingSlot).where(
            HearingSlot.officer_user_id == officer_user_id, HearingSlot.starts_at < hi, HearingSlot.ends_at > lo)
            .order_by(HearingSlot.starts_at)))
        hearings = list(s.scalars(select(Hearing).where(
            Hearing.hearing_officer_id == officer_user_id, Hearing.status.in_(ACTIVE_HEARING),
            Hearing.scheduled_at >= lo - timedelta(hours=12), Hearing.scheduled_at < hi)))
        out = []
        for slot in slots:
            booked = tuple(sorted(
                (Booking(h.id, h.scheduled_at, h.scheduled_at + timedelta(minutes=h.minutes), appeal_number(h.appeal_id))
                 for h in hearings if h.scheduled_at < slot.ends_at
                 and h.scheduled_at + timedelta(minutes=h.minutes) > slot.starts_at),
                key=lambda b: b.starts_at))
            out.append(SlotView(slot.id, slot.starts_at, slot.ends_at, booked))
        return out


def free_times(app: AppContext, actor: Actor, officer_user_id: int, day: date, minutes: int) -> list[datetime]:
    """Start times (every ``minutes``) on a day where a hearing of that length fits without a clash."""
    now = app.now()
    out = []
    for slot in officer_day(app, actor, officer_user_id, day):
        at = slot.starts_at
        while at + timedelta(minutes=minutes) <= slot.ends_at:
            end = at + timedelta(minutes=minutes)
            if at > now and not any(b.starts_at < end and b.ends_at > at for b in slot.bookings):
                out.append(at)
            at += timedelta(minutes=minutes)
    return out


# --------------------------------------------------------------------------- hearings


def _book(uow: UnitOfWork, appeal: Appeal, case: Citation, officer_user_id: int, at: datetime, minutes: int,
          mode: HearingMode, location: str | None) -> Hearing:
    """Checks shared by scheduling and adjourning; the officer's row is locked so two clerks cannot
    book the same time at once (PostgreSQL; SQLite serialises writers anyway)."""
    s = uow.session
    officer = _officer(uow, officer_user_id, lock=True)
    start = _aware(at)
    if minutes < 5 or minutes > 240:
        raise UserError("A hearing lasts between 5 minutes and 4 hours.")
    end = start + timedelta(minutes=minutes)
    if start <= uow.app.now():
        raise UserError("A hearing must be scheduled in the future.")
    tz = agency_zone(s)
    local = start.astimezone(tz)
    slot = s.scalar(select(HearingSlot).where(HearingSlot.officer_user_id == officer.id,
                                              HearingSlot.starts_at <= start, HearingSlot.ends_at >= end))
    if slot is None:
        raise UserError(f"{officer.full_name} is not available on {local:%Y-%m-%d} at {local:%H:%M} for "
                        f"{minutes} minutes. Pick one of the free times, or add availability first.")
    nearby = s.scalars(select(Hearing).where(
        Hearing.hearing_officer_id == officer.id, Hearing.status.in_(ACTIVE_HEARING),
        Hearing.scheduled_at < end, Hearing.scheduled_at > start - timedelta(hours=4)))
    clash = next((h for h in nearby if h.scheduled_at + timedelta(minutes=h.minutes) > start), None)
    if clash is not None:
        other = clash.scheduled_at.astimezone(tz)
        raise UserError(f"{officer.full_name} already has a hearing at {other:%H:%M} "
                        f"({appeal_number(clash.appeal_id)}); that time is taken.")
    profile = case_profile(case)
    if appeal.decide_by is not None and rules.deemed_accepted(profile, appeal.level, appeal.decide_by,
                                                              rules.local_date(start, profile)):
        raise UserError(f"That is after {appeal.decide_by.isoformat()}, the last day to decide this "
                        f"{profile.appeal_level(appeal.level).name.lower()}; after it the appeal is deemed "
                        f"accepted by law. Pick an earlier time.")
    if mode is HearingMode.IN_PERSON and not location:
        location = "\n".join(settings.get(s, "appeals.hearing_location"))
    hearing = Hearing(appeal_id=appeal.id, hearing_officer_id=officer.id, scheduled_at=start, minutes=minutes,
                      mode=mode.value, location=location, status="scheduled")
    s.add(hearing)
    s.flush()
    return hearing


def _mode(value: str) -> HearingMode:
    try:
        return HearingMode(value)
    except ValueError:
        raise UserError(f"'{value}' is not a kind of hearing (in_person, phone or video).") from None


def schedule_hearing(app: AppContext, actor: Actor, appeal_id: int, officer_user_id: int, at: datetime,
                     mode: str, minutes: int | None = None, location: str | None = None) -> int:
    """Book a hearing in one of the officer's free times; queues the hearing notice. Returns the hearing id."""
    kind = _mode(mode)
    with app.uow(actor, Permission.SCHEDULE_HEARINGS) as uow:
        appeal, case = lock_appeal(uow, appeal_id)
        if appeal.status not in rules.PENDING_STATUSES:
            raise UserError(f"Appeal {appeal_number(appeal_id)} is {appeal.status.replace('_', ' ')}; only an "
                            f"open appeal can be scheduled.")
        pending = uow.session.scalar(select(Hearing).where(Hearing.appeal_id == appeal.id,
                                                           Hearing.status == "scheduled"))
        if pending is not None:
            raise UserError(f"Appeal {appeal_number(appeal_id)} already has a hearing; adjourn it to move it.")
        length = minutes or int(settings.get(uow.session, "appeals.hearing_minutes"))
        hearing = _book(uow, appeal, case, officer_user_id, at, length, kind, location)
        appeal.status = AppealStatus.SCHEDULED.value
        uow.audit("hearing.scheduled", "citation", case.id,
                  after={"appeal": appeal_number(appeal.id), "hearing": hearing.id, "at": hearing.scheduled_at,
                         "mode": kind.value, "officer": user_name(uow.session, officer_user_id)})
        queue_letter(uow, case, appeal, "hearing_notice", f"hearing_notice:{hearing.id}", hearing_id=hearing.id)
        uow.commit()
        return hearing.id


def adjourn_hearing(app: AppContext, actor: Actor, hearing_id: int, new_at: datetime, reason: str,
                    officer_user_id: int | None = None, mode: str | None = None) -> int:
    """Move a hearing to a new time, with the reason; a new hearing notice is queued. Returns the new id."""
    if len(" ".join((reason or "").split())) < 3:
        raise UserError("Give the reason for the adjournment (it is recorded and may be read at the hearing).")
    with app.uow(actor, Permission.SCHEDULE_HEARINGS) as uow:
        found = uow.session.get(Hearing, hearing_id)
        if found is None:
            raise NotFound(f"Hearing {hearing_id} does not exist.")
        appeal, case = lock_appeal(uow, found.appeal_id)
        old = uow.session.execute(select(Hearing).where(Hearing.id == hearing_id)
                                  .execution_options(populate_existing=True)).scalar_one()
        if old.status != "scheduled":
            raise UserError(f"That hearing is {old.status}; only a scheduled hearing can be adjourned.")
        old.status = "adjourned"
        old.adjourned_reason = reason.strip()
        uow.session.flush()
        new = _book(uow, appeal, case, officer_user_id or old.hearing_officer_id, new_at, old.minutes,
                    _mode(mode) if mode else HearingMode(old.mode), old.location)
        uow.audit("hearing.adjourned", "citation", case.id,
                  before={"hearing": old.id, "at": old.scheduled_at},
                  after={"hearing": new.id, "at": new.scheduled_at, "appeal": appeal_number(appeal.id)},
                  reason=reason.strip())
        queue_letter(uow, case, appeal, "hearing_notice", f"hearing_notice:{new.id}", hearing_id=new.id)
        uow.commit()
        return new.id
