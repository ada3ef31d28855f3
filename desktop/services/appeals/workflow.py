"""Appeals and hearings: intake, levels and deadlines, hearing officers' availability, hearings and
adjournments, decisions, withdrawals, and the daily deadline rule.

Every function is one use case (permission, one unit of work, audit, one commit). The rules
themselves (which level, which deadline, what a decision does to the money) are in
``desktop.domain.appeals``; the case moves, ledger entries and holds go through ``case_ops``.

Audit entries about an appeal are recorded on the case (entity ``citation``), so the case history and
the evidence packet's timeline show the whole story in one place.

Letters: filing queues an ``appeal_acknowledgement``, scheduling a ``hearing_notice`` (one per
hearing, so an adjournment sends a new one), a decision a ``decision_letter`` and, when money goes
back, a ``refund_letter``: ``Notice`` rows with status ``queued`` that the mail office's run prints.
Their ``address_snapshot`` says who they go to (``source: appellant``) and carries ``appeal_id`` (and
``hearing_id``) so the run can build the letter with ``desktop.services.appeals.packet.letter_document``.

Refunds on a decision: the decision is the authority for the refund (the law requires it; a
supervisor's approval would only add delay that England's deemed-acceptance rule does not allow), so
a REFUND ledger entry is posted at once and a ``Refund`` row is recorded as already approved (the
hearing officer, or the automation for a deemed acceptance, as approver) for the payments office to
pay out and report on.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from desktop.domain import appeals as rules
from desktop.domain.appeals import AppealStatus, CaseHistory, Channel, HearingMode, appeal_number
from desktop.domain.errors import NotFound, PermissionDenied, UserError
from desktop.domain.ledger import EntryKind, format_cents
from desktop.domain.lifecycle import CaseStatus
from desktop.domain.profiles import (
    ContestDecided,
    ContestFiled,
    ContestOutcome,
    JurisdictionProfile,
    load_profile_versions,
    profile_for,
)
from desktop.domain.roles import Permission, Role, allowed
from desktop.domain.wording import counted
from desktop.persistence.models import (
    Appeal,
    AppealDocument,
    Citation,
    Hearing,
    HearingSlot,
    LedgerEntry,
    Notice,
    Refund,
    RegisteredOwner,
    User,
)
from desktop.services.appeals.documents import AppealDocumentStore, CheckedDocument, check_document
from desktop.services.cases.steps import active_holds, load_case, move, place_hold, post, release_hold
from desktop.services.core import settings
from desktop.services.core.context import Actor, AppContext, UnitOfWork

#: Case states from which an appeal may be filed.
APPEALABLE = (CaseStatus.OPEN, CaseStatus.PAID, CaseStatus.IN_COLLECTIONS, CaseStatus.UNDER_APPEAL)
ACTIVE_HEARING = ("scheduled", "held")


# --------------------------------------------------------------------------- profiles and history


@functools.lru_cache(maxsize=16)
def _versions(code: str) -> tuple[JurisdictionProfile, ...]:
    return tuple(load_profile_versions(code))


def case_profile(case: Citation) -> JurisdictionProfile:
    """The profile version in force on the case's issue date."""
    return profile_for(case.profile_code, case.issued_at, _versions(case.profile_code))


def agency_tz(session: Session) -> ZoneInfo:
    return ZoneInfo(str(settings.get(session, "agency.timezone")))


def _notices_mailed(session: Session, case: Citation, profile: JurisdictionProfile) -> dict[str, date]:
    rows = session.execute(select(Notice.kind, Notice.stage, Notice.mailed_at).where(
        Notice.citation_id == case.id, Notice.mailed_at.is_not(None))).all()
    out: dict[str, date] = {}
    for stage in profile.stages:
        if stage.notice_kind is None:
            continue
        days = [rules.local_date(mailed, profile) for kind, stage_key, mailed in rows
                if mailed is not None and (stage_key == stage.key or kind == stage.notice_kind)]
        if days:
            out[stage.key] = min(days)
    return out


def case_history(session: Session, case: Citation, profile: JurisdictionProfile) -> CaseHistory:
    """What the appeal rules need to know about a case: notices mailed, contests filed and decided."""
    filed: dict[str, date] = {}
    decided: dict[str, tuple[date, ContestOutcome]] = {}
    for a in session.scalars(select(Appeal).where(Appeal.citation_id == case.id).order_by(Appeal.id)):
        if a.status == AppealStatus.WITHDRAWN:
            continue
        filed[a.level] = rules.local_date(a.filed_at, profile)
        if a.decision and a.decided_at is not None:
            decided[a.level] = (rules.local_date(a.decided_at, profile), ContestOutcome(a.decision))
    return CaseHistory(rules.local_date(case.issued_at, profile), _notices_mailed(session, case, profile),
                       filed, decided)


def contest_events(session: Session, citation_id: int) -> list[ContestFiled | ContestDecided]:
    """The case's contests as ``plan_case`` events (for the daily escalation's schedule)."""
    case = session.get(Citation, citation_id)
    if case is None:
        return []
    profile = case_profile(case)
    events: list[ContestFiled | ContestDecided] = []
    for a in session.scalars(select(Appeal).where(Appeal.citation_id == citation_id).order_by(Appeal.id)):
        if a.status == AppealStatus.WITHDRAWN:
            continue
        events.append(ContestFiled(a.level, rules.local_date(a.filed_at, profile)))
        if a.decision and a.decided_at is not None:
            events.append(ContestDecided(a.level, rules.local_date(a.decided_at, profile),
                                         ContestOutcome(a.decision), a.reduced_fine_cents))
    return events


def ledger_money(session: Session, citation_id: int) -> tuple[int, int]:
    """(charges, paid): what the case charges and what the motorist has paid us and not had back.

    The balance is ``charges - paid``. Payments, returned payments (reversals of payments) and refunds
    count as money; everything else (fine, penalties, discounts, adjustments, waivers) as charges.
    """
    entries = list(session.scalars(select(LedgerEntry).where(LedgerEntry.citation_id == citation_id)))
    payment_entries = {e.id for e in entries if e.kind == EntryKind.PAYMENT.value}
    charges = paid = 0
    for e in entries:
        money = e.kind in (EntryKind.PAYMENT.value, EntryKind.REFUND.value) or (
            e.kind == EntryKind.REVERSAL.value and (e.payment_id is not None or e.reverses_id in payment_entries))
        if money:
            paid -= int(e.amount_cents)
        else:
            charges += int(e.amount_cents)
    return charges, paid


def _lock_appeal(uow: UnitOfWork, appeal_id: int) -> tuple[Appeal, Citation]:
    """The appeal and its case, the case row locked first (the lock every change to a case takes) and the
    appeal read after it, so two people acting on one appeal at once are served one after the other
    and the second sees what the first did."""
    citation_id = uow.session.scalar(select(Appeal.citation_id).where(Appeal.id == appeal_id))
    if citation_id is None:
        raise NotFound(f"Appeal {appeal_number(appeal_id)} does not exist.")
    case = load_case(uow, citation_id)
    appeal = uow.session.execute(select(Appeal).where(Appeal.id == appeal_id)
                                 .execution_options(populate_existing=True)).scalar_one()
    return appeal, case


def _user_name(session: Session, user_id: int | None) -> str:
    if user_id is None:
        return "Curbdesk automation"
    user = session.get(User, user_id)
    return user.full_name if user is not None else f"user {user_id}"


def _require_user_permission(uow: UnitOfWork, who: Actor, permission: Permission) -> None:
    """Check another person's permission (a supervisor overriding at a clerk's desk) against the database."""
    if who.is_system:
        if not allowed(who.role, permission):
            raise PermissionDenied(f"{who.username} may not {permission.value}.")
        return
    user = uow.session.get(User, who.user_id)
    if user is None or not user.active:
        raise PermissionDenied(f"The account {who.username} is disabled.")
    if not allowed(Role(user.role), permission):
        raise PermissionDenied(f"{who.username} ({Role(user.role).label.lower()}) may not {permission.value}. "
                               f"Ask a supervisor.")


# --------------------------------------------------------------------------- letters queued for the mail run


def _appellant_snapshot(appeal: Appeal, **extra: Any) -> dict[str, Any]:
    lines = [ln.strip() for ln in (appeal.appellant_address or "").splitlines() if ln.strip()]
    return {"source": "appellant", "appeal_id": appeal.id, "appeal_number": appeal_number(appeal.id),
            "name": appeal.appellant_name, "lines": lines, "email": appeal.appellant_email, **extra}


def queue_letter(uow: UnitOfWork, case: Citation, appeal: Appeal, kind: str, dedupe_key: str,
                 **extra: Any) -> Notice | None:
    """Queue one letter for the mail office's run; a second call with the same key does nothing."""
    exists = uow.session.scalar(select(Notice.id).where(Notice.citation_id == case.id,
                                                        Notice.dedupe_key == dedupe_key))
    if exists:
        return None
    notice = Notice(citation_id=case.id, kind=kind, stage=None, status="queued", queued_at=uow.app.now(),
                    owner_id=case.owner_id, address_snapshot=_appellant_snapshot(appeal, **extra),
                    dedupe_key=dedupe_key)
    uow.session.add(notice)
    uow.session.flush()
    uow.audit("notice.queued", "citation", case.id, after={"notice": notice.id, "kind": kind,
                                                            "appeal": appeal_number(appeal.id)})
    return notice


# --------------------------------------------------------------------------- intake


@dataclass(frozen=True)
class GroundChoice:
    key: str
    text: str
    statutory: bool


@dataclass(frozen=True)
class IntakePreview:
    """What the intake dialog shows once a citation number is typed."""

    citation_id: int
    citation_number: str
    plate: str
    status: str
    balance_cents: int
    profile_code: str
    profile_name: str
    level_key: str
    level_name: str
    request_deadline: date
    is_late: bool
    late_explanation: str
    decide_by: date
    decide_by_statutory: bool
    grounds: tuple[GroundChoice, ...]
    owner_name: str
    owner_address: str
    levels_open: tuple[tuple[str, str], ...]


def _case_by_number(session: Session, citation_number: str) -> Citation:
    number = (citation_number or "").strip()
    if not number:
        raise UserError("Type the citation number from the notice.")
    case = session.scalar(select(Citation).where(Citation.citation_number == number))
    if case is None:
        raise NotFound(f"There is no citation {number}. Check the number on the notice.")
    return case


def _check_appealable(session: Session, case: Citation) -> None:
    status = CaseStatus(case.status)
    if status in (CaseStatus.RECEIVED, CaseStatus.PENDING_REVIEW):
        raise UserError(f"Citation {case.citation_number} is still being reviewed; it can be contested once "
                        f"it is approved.")
    if status not in APPEALABLE:
        raise UserError(f"Citation {case.citation_number} is {status.label.lower()}; a closed case cannot be "
                        f"appealed.")
    pending = session.scalar(select(Appeal).where(Appeal.citation_id == case.id,
                                                  Appeal.status.in_(rules.PENDING_STATUSES)))
    if pending is not None:
        raise UserError(f"Citation {case.citation_number} already has an open appeal "
                        f"({appeal_number(pending.id)}, filed {pending.filed_at.date().isoformat()}).")


def display_name(registry_name: str) -> str:
    """'GARCIA, MARIA' as the registry has it -> 'Maria Garcia' for a letter."""
    last, comma, first = registry_name.partition(",")
    name = f"{first.strip()} {last.strip()}" if comma else registry_name.strip()
    return name.title() if name.isupper() else name


def _owner_address(owner: RegisteredOwner | None) -> tuple[str, str]:
    if owner is None:
        return "", ""
    if owner.address_line1 and owner.city:
        lines = [owner.address_line1] + ([owner.address_line2] if owner.address_line2 else [])
        lines.append(f"{owner.city} {owner.state or ''} {owner.zip or ''}".strip())
        return display_name(owner.name), "\n".join(lines)
    return display_name(owner.name), owner.address_raw


def intake_preview(app: AppContext, actor: Actor, citation_number: str, level: str | None = None) -> IntakePreview:
    """The level, deadline and grounds a new appeal on this citation would get (nothing is written)."""
    with app.reader(actor, Permission.FILE_APPEALS) as uow:
        s = uow.session
        case = _case_by_number(s, citation_number)
        _check_appealable(s, case)
        profile = case_profile(case)
        history = case_history(s, case, profile)
        chosen = rules.choose_level(profile, history, level)
        today = rules.local_date(app.now(), profile)
        check = rules.check_filing(profile, chosen, history, today)
        target = int(settings.get(s, "appeals.target_days"))
        deadline = rules.decision_deadline(profile, chosen.key, today, target)
        charges, paid = ledger_money(s, case.id)
        owner = s.get(RegisteredOwner, case.owner_id) if case.owner_id else None
        owner_name, owner_addr = _owner_address(owner)
        open_levels = tuple((lv.key, lv.name) for lv in profile.appeal_levels if rules.is_open(profile, lv, history))
        return IntakePreview(
            case.id, case.citation_number, case.plate, case.status, charges - paid, profile.code, profile.name,
            chosen.key, chosen.name, check.deadline, check.is_late, check.explanation(), deadline.decide_by,
            deadline.statutory, tuple(GroundChoice(g.key, g.text, g.statutory) for g in profile.grounds),
            owner_name, owner_addr, open_levels)


@dataclass
class AppealRequest:
    """An appeal as taken in at the counter, from the mail or from the online form."""

    citation_number: str
    channel: str
    appellant_name: str
    grounds: Sequence[str]
    statement: str
    appellant_address: str = ""
    appellant_email: str = ""
    documents: Sequence[tuple[str, bytes]] = ()
    level: str | None = None
    late_override_reason: str = ""


@dataclass(frozen=True)
class FiledAppeal:
    appeal_id: int
    number: str
    citation_id: int
    level_key: str
    level_name: str
    decide_by: date
    late: bool
    documents: int


def check_documents(app: AppContext, documents: Iterable[tuple[str, bytes]]) -> list[CheckedDocument]:
    """Check every document before anything is written; the first bad one stops the intake."""
    with app.db.reading() as s:
        max_bytes = int(settings.get(s, "appeals.max_document_mb")) * 1_048_576
    return [check_document(name, data, max_bytes) for name, data in documents]


def file_appeal(app: AppContext, actor: Actor, request: AppealRequest, override_by: Actor | None = None) -> FiledAppeal:
    """Take in an appeal: check it, store its documents, put the case on hold and queue the acknowledgement.

    A late appeal needs ``late_override_reason`` and a person allowed to override deadlines: the acting
    user, or ``override_by`` (a supervisor who signed in at the clerk's desk).
    """
    try:
        channel = Channel(request.channel)
    except ValueError:
        raise UserError(f"'{request.channel}' is not a way appeals arrive (mail, online or counter).") from None
    name = " ".join((request.appellant_name or "").split())
    if not name:
        raise UserError("Give the appellant's name.")
    statement = (request.statement or "").strip()
    if not statement:
        raise UserError("Write down the appellant's statement (what they say happened), or 'See attached letter'.")
    checked = check_documents(app, request.documents)
    store = AppealDocumentStore(app.paths.documents_dir)
    with app.uow(actor, Permission.FILE_APPEALS) as uow:
        s = uow.session
        number_case = _case_by_number(s, request.citation_number)
        case = load_case(uow, number_case.id)
        _check_appealable(s, case)
        profile = case_profile(case)
        history = case_history(s, case, profile)
        level = rules.choose_level(profile, history, request.level)
        now = app.now()
        filed_on = rules.local_date(now, profile)
        check = rules.check_filing(profile, level, history, filed_on)
        grounds = list(dict.fromkeys(g for g in request.grounds if g))
        known = {g.key for g in profile.grounds}
        if not grounds:
            raise UserError("Tick at least one ground of appeal.")
        unknown = [g for g in grounds if g not in known]
        if unknown:
            raise UserError(f"{', '.join(unknown)} is not a ground of appeal under the {profile.name} rules.")
        override_reason = (request.late_override_reason or "").strip()
        approver = override_by or actor
        if check.is_late:
            if not override_reason:
                raise UserError(check.explanation())
            if override_by is None:
                uow.require(Permission.OVERRIDE_DEADLINES)
            else:
                _require_user_permission(uow, override_by, Permission.OVERRIDE_DEADLINES)
        target = int(settings.get(s, "appeals.target_days"))
        deadline = rules.decision_deadline(profile, level.key, filed_on, target)
        appeal = Appeal(
            citation_id=case.id, level=level.key, channel=channel.value, appellant_name=name,
            appellant_address=(request.appellant_address or "").strip() or None,
            appellant_email=(request.appellant_email or "").strip() or None, grounds=grounds,
            statement=statement, filed_at=now, decide_by=deadline.decide_by,
            late_override_reason=override_reason if check.is_late else None,
            status=AppealStatus.OPEN.value, created_by=actor.user_id)
        s.add(appeal)
        s.flush()
        number = appeal_number(appeal.id)
        for doc in checked:
            store.put(doc.data, doc.sha256)
            s.add(AppealDocument(appeal_id=appeal.id, sha256=doc.sha256, filename=doc.filename,
                                 mime_type=doc.mime_type, size_bytes=doc.size_bytes, added_at=now))
        if case.status == CaseStatus.PAID:
            move(uow, case, CaseStatus.OPEN, reason=f"reopened for {level.name.lower()} {number}")
        if case.status != CaseStatus.UNDER_APPEAL:
            move(uow, case, CaseStatus.UNDER_APPEAL, reason=f"{level.name} {number} filed")
        place_hold(uow, case, "appeal", f"{level.name} {number}: penalties and notices paused until decided")
        case.next_action = f"decide_{level.key}"[:80]
        case.next_action_date = deadline.decide_by
        uow.audit("appeal.filed", "citation", case.id,
                  after={"appeal": number, "level": level.key, "channel": channel.value, "grounds": grounds,
                         "documents": [d.sha256 for d in checked], "decide_by": deadline.decide_by,
                         "request_deadline": check.deadline, "late_by_days": check.late_by_days},
                  reason=(f"late by {check.late_by_days} days; deadline overridden by {approver.username}: "
                          f"{override_reason}") if check.is_late else None)
        queue_letter(uow, case, appeal, "appeal_acknowledgement", f"appeal_acknowledgement:{appeal.id}")
        uow.commit()
        return FiledAppeal(appeal.id, number, case.id, level.key, level.name, deadline.decide_by, check.is_late,
                           len(checked))


def add_documents(app: AppContext, actor: Actor, appeal_id: int, documents: Sequence[tuple[str, bytes]]) -> int:
    """Add documents to an open appeal (the appellant sent more later)."""
    checked = check_documents(app, documents)
    store = AppealDocumentStore(app.paths.documents_dir)
    with app.uow(actor, Permission.FILE_APPEALS) as uow:
        appeal, _case = _lock_appeal(uow, appeal_id)
        if appeal.status not in rules.PENDING_STATUSES:
            raise UserError(f"Appeal {appeal_number(appeal_id)} is {appeal.status.replace('_', ' ')}; documents "
                            f"can only be added while it is open.")
        now = app.now()
        for doc in checked:
            store.put(doc.data, doc.sha256)
            uow.session.add(AppealDocument(appeal_id=appeal.id, sha256=doc.sha256, filename=doc.filename,
                                           mime_type=doc.mime_type, size_bytes=doc.size_bytes, added_at=now))
        uow.audit("appeal.documents_added", "citation", appeal.citation_id,
                  after={"appeal": appeal_number(appeal.id), "documents": [d.sha256 for d in checked]})
        uow.commit()
    return len(checked)


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
            tz = agency_tz(uow.session)
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


def _day_bounds(session: Session, day: date) -> tuple[datetime, datetime]:
    tz = agency_tz(session)
    start = datetime.combine(day, time(0), tzinfo=tz)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def officer_day(app: AppContext, actor: Actor, officer_user_id: int, day: date) -> list[SlotView]:
    """The officer's periods of availability on a day (agency time), with the hearings booked in them."""
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        s = uow.session
        lo, hi = _day_bounds(s, day)
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
    tz = agency_tz(s)
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
        appeal, case = _lock_appeal(uow, appeal_id)
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
                         "mode": kind.value, "officer": _user_name(uow.session, officer_user_id)})
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
        appeal, case = _lock_appeal(uow, found.appeal_id)
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


# --------------------------------------------------------------------------- decisions


@dataclass(frozen=True)
class DecisionResult:
    appeal_id: int
    number: str
    decision: str
    case_status: str
    adjustment_cents: int
    refund_cents: int
    balance_cents: int
    next_level: str | None
    next_level_deadline: date | None


def _refund(uow: UnitOfWork, case: Citation, appeal: Appeal, amount_cents: int, reason: str) -> None:
    if amount_cents <= 0:
        return
    entry = post(uow, case, EntryKind.REFUND, amount_cents, memo=f"refund: {reason}"[:300],
                 dedupe_key=f"appeal:{appeal.id}:refund")
    if entry is None:
        return
    now = uow.app.now()
    refund = Refund(citation_id=case.id, amount_cents=amount_cents, payee_name=appeal.appellant_name,
                    reason=reason, status="approved", requested_by=uow.actor.user_id, requested_at=now,
                    decided_by=uow.actor.user_id, decided_at=now,
                    decision_note=f"Required by the decision on appeal {appeal_number(appeal.id)}; "
                                  f"ledger entry {entry.id}.")
    uow.session.add(refund)
    uow.session.flush()
    uow.audit("refund.approved", "citation", case.id,
              after={"refund": refund.id, "amount_cents": amount_cents, "appeal": appeal_number(appeal.id)},
              reason=reason)
    queue_letter(uow, case, appeal, "refund_letter", f"refund_letter:appeal:{appeal.id}", refund_id=refund.id,
                 amount_cents=amount_cents)


def _close_appeal(uow: UnitOfWork, case: Citation, appeal: Appeal, outcome: ContestOutcome, reason: str,
                  new_amount_cents: int | None, status: AppealStatus) -> DecisionResult:
    """The money, the case move, the hold, the hearing and the letters of a decision (or deemed one)."""
    s = uow.session
    profile = case_profile(case)
    number = appeal_number(appeal.id)
    level = profile.appeal_level(appeal.level)
    charges, paid = ledger_money(s, case.id)
    adjustment = refund = 0
    if outcome is ContestOutcome.DISMISSED:
        effect = rules.dismissal_effect(charges, paid)
    elif outcome is ContestOutcome.REDUCED:
        if new_amount_cents is None:
            raise UserError("Give the new amount for a reduced fine.")
        effect = rules.reduction_effect(charges, paid, new_amount_cents)
    else:
        effect = None
    if effect is not None:
        adjustment, refund = effect.adjustment_cents, effect.refund_cents
        if adjustment:
            word = ("cancelled" if outcome is ContestOutcome.DISMISSED
                    else f"reduced to {format_cents(new_amount_cents or 0, profile.currency)}")
            post(uow, case, EntryKind.ADJUSTMENT, adjustment, memo=f"{level.name} {number}: {word}"[:300],
                 dedupe_key=f"appeal:{appeal.id}:adjustment")
        _refund(uow, case, appeal, refund, f"{level.name} {number} {outcome.value}")
    now = uow.app.now()
    appeal.status = status.value
    appeal.decision = outcome.value
    appeal.decision_reason = reason
    appeal.reduced_fine_cents = new_amount_cents if outcome is ContestOutcome.REDUCED else None
    appeal.decided_by = uow.actor.user_id
    appeal.decided_at = now
    for hearing in s.scalars(select(Hearing).where(Hearing.appeal_id == appeal.id, Hearing.status == "scheduled")):
        hearing.status = "held" if hearing.scheduled_at <= now else "cancelled"
    for hold in active_holds(uow, case.id):
        if hold.kind == "appeal":
            release_hold(uow, case, hold, f"{level.name} {number} {outcome.value}")
    balance = charges - paid + adjustment + refund
    if outcome is ContestOutcome.DISMISSED:
        if case.status == CaseStatus.PAID:
            # Paid in full while the appeal was pending (the payment is refunded above).
            move(uow, case, CaseStatus.OPEN, reason=f"reopened to cancel: {level.name} {number}")
        move(uow, case, CaseStatus.DISMISSED, reason=f"{level.name} {number}: {reason}"[:500],
             action="citation.dismissed_on_appeal")
    else:
        target = CaseStatus.OPEN if balance > 0 else CaseStatus.PAID
        if case.status != target:
            move(uow, case, target, reason=f"{level.name} {number} {outcome.value}")
        if target is CaseStatus.OPEN:
            # The daily escalation recomputes the schedule from here (clocks resume after the hold).
            case.next_action = "resume_after_appeal"
            case.next_action_date = rules.local_date(now, profile)
    decided_on = rules.local_date(now, profile)
    nxt = rules.next_level(profile, appeal.level, decided_on, outcome)
    queue_letter(uow, case, appeal, "decision_letter", f"decision_letter:{appeal.id}")
    return DecisionResult(appeal.id, number, outcome.value, case.status, adjustment, refund, balance,
                          nxt.level.name if nxt else None, nxt.deadline if nxt else None)


def decide_appeal(app: AppContext, actor: Actor, appeal_id: int, decision: str, reason: str,
                  new_amount_cents: int | None = None) -> DecisionResult:
    """The hearing officer's decision: uphold (case resumes), dismiss (case closed, payments refunded) or
    reduce (ledger adjusted to ``new_amount_cents``, the new total owed), with a written reason."""
    try:
        outcome = ContestOutcome(decision)
    except ValueError:
        raise UserError(f"'{decision}' is not a decision (upheld, dismissed or reduced).") from None
    text = rules.check_reason(reason)
    with app.uow(actor, Permission.DECIDE_APPEALS) as uow:
        appeal, case = _lock_appeal(uow, appeal_id)
        if appeal.status not in rules.PENDING_STATUSES:
            raise UserError(f"Appeal {appeal_number(appeal_id)} is already "
                            f"{appeal.status.replace('_', ' ')}; a decision cannot be taken twice.")
        before = {"status": appeal.status, "case_status": case.status}
        result = _close_appeal(uow, case, appeal, outcome, text, new_amount_cents, AppealStatus.DECIDED)
        uow.audit("appeal.decided", "citation", case.id, before=before,
                  after={"appeal": result.number, "decision": outcome.value, "case_status": case.status,
                         "adjustment_cents": result.adjustment_cents, "refund_cents": result.refund_cents,
                         "new_amount_cents": new_amount_cents, "next_level": result.next_level,
                         "next_level_deadline": result.next_level_deadline},
                  reason=text)
        uow.commit()
        return result


def withdraw_appeal(app: AppContext, actor: Actor, appeal_id: int, reason: str) -> None:
    """The appellant withdraws: the hold ends and the case resumes where it was."""
    if len(" ".join((reason or "").split())) < 3:
        raise UserError("Say how the appellant withdrew (letter, telephone call, at the counter).")
    with app.uow(actor, Permission.FILE_APPEALS) as uow:
        appeal, case = _lock_appeal(uow, appeal_id)
        if appeal.status not in rules.PENDING_STATUSES:
            raise UserError(f"Appeal {appeal_number(appeal_id)} is {appeal.status.replace('_', ' ')}; "
                            f"only an open appeal can be withdrawn.")
        appeal.status = AppealStatus.WITHDRAWN.value
        for hearing in uow.session.scalars(select(Hearing).where(Hearing.appeal_id == appeal.id,
                                                                 Hearing.status == "scheduled")):
            hearing.status = "cancelled"
        for hold in active_holds(uow, case.id):
            if hold.kind == "appeal":
                release_hold(uow, case, hold, f"appeal {appeal_number(appeal.id)} withdrawn")
        charges, paid = ledger_money(uow.session, case.id)
        if case.status == CaseStatus.UNDER_APPEAL:
            move(uow, case, CaseStatus.OPEN if charges - paid > 0 else CaseStatus.PAID,
                 reason=f"appeal {appeal_number(appeal.id)} withdrawn")
        case.next_action = "resume_after_appeal"
        case.next_action_date = rules.local_date(app.now(), case_profile(case))
        uow.audit("appeal.withdrawn", "citation", case.id, after={"appeal": appeal_number(appeal.id)},
                  reason=reason.strip())
        uow.commit()


# --------------------------------------------------------------------------- the daily deadline rule


@dataclass(frozen=True)
class DeadlineItem:
    appeal_id: int
    number: str
    citation_number: str
    level_name: str
    decide_by: date
    days_left: int
    refund_cents: int = 0
    currency: str = "USD"


@dataclass
class DeadlineSummary:
    """What ``apply_appeal_deadlines`` did and found."""

    as_of: date | None
    deemed_accepted: list[DeadlineItem] = field(default_factory=list)
    overdue: list[DeadlineItem] = field(default_factory=list)
    due_soon: list[DeadlineItem] = field(default_factory=list)
    checked: int = 0

    def lines(self) -> list[str]:
        out = [f"{self.checked} open appeals checked"
               + (f" as of {self.as_of.isoformat()}" if self.as_of else "") + "."]
        for d in self.deemed_accepted:
            out.append(f"DEEMED ACCEPTED {d.number} (citation {d.citation_number}, {d.level_name}): not decided "
                       f"by {d.decide_by.isoformat()}; case cancelled"
                       + (f", {format_cents(d.refund_cents, d.currency)} refunded" if d.refund_cents else "") + ".")
        for d in self.overdue:
            out.append(f"OVERDUE {d.number} (citation {d.citation_number}, {d.level_name}): decide-by "
                       f"{d.decide_by.isoformat()}, {counted(-d.days_left, 'day')} late.")
        for d in self.due_soon:
            out.append(f"due soon {d.number} (citation {d.citation_number}, {d.level_name}): "
                       f"{counted(d.days_left, 'day')} left (by {d.decide_by.isoformat()}).")
        return out


def apply_appeal_deadlines(app: AppContext, actor: Actor, as_of: date | None = None) -> DeadlineSummary:
    """Apply each profile's rule to appeals whose decision deadline has passed; list the overdue ones.

    England: representations undecided after 56 days are deemed accepted: the case is cancelled, any
    payment refunded, the appellant written to, all recorded in the audit trail. Other profiles have no
    such rule: overdue appeals are listed (and sorted first on the appeals screen). Each deemed acceptance
    is its own unit of work; running the rule twice changes nothing the second time.
    """
    summary = DeadlineSummary(as_of)
    with app.reader(actor, Permission.RUN_ESCALATION) as uow:
        s = uow.session
        soon = int(settings.get(s, "appeals.due_soon_days"))
        pending = s.execute(select(Appeal.id, Appeal.citation_id, Appeal.level, Appeal.decide_by, Citation)
                            .join(Citation, Citation.id == Appeal.citation_id)
                            .where(Appeal.status.in_(rules.PENDING_STATUSES))
                            .order_by(Appeal.decide_by, Appeal.id)).all()
        work = []
        for appeal_id, _cid, level_key, decide_by, case in pending:
            summary.checked += 1
            if decide_by is None:
                continue
            profile = case_profile(case)
            today = as_of or rules.local_date(app.now(), profile)
            left = rules.days_left(decide_by, today)
            item = DeadlineItem(appeal_id, appeal_number(appeal_id), case.citation_number,
                                profile.appeal_level(level_key).name, decide_by, left, currency=profile.currency)
            if rules.deemed_accepted(profile, level_key, decide_by, today):
                work.append(item)
            elif left < 0:
                summary.overdue.append(item)
            elif left <= soon:
                summary.due_soon.append(item)
    for item in work:
        refund = _deem_accepted(app, actor, item.appeal_id, as_of)
        if refund is not None:
            summary.deemed_accepted.append(dataclasses.replace(item, refund_cents=refund))
    return summary


def _deem_accepted(app: AppContext, actor: Actor, appeal_id: int, as_of: date | None) -> int | None:
    with app.uow(actor, Permission.RUN_ESCALATION) as uow:
        appeal, case = _lock_appeal(uow, appeal_id)
        if appeal.status not in rules.PENDING_STATUSES or appeal.decide_by is None:
            return None
        profile = case_profile(case)
        today = as_of or rules.local_date(app.now(), profile)
        if not rules.deemed_accepted(profile, appeal.level, appeal.decide_by, today):
            return None
        level = profile.appeal_level(appeal.level)
        reason = (f"Deemed accepted: the {level.name.lower()} received on "
                  f"{rules.local_date(appeal.filed_at, profile).isoformat()} was not decided within "
                  f"{level.decision_within_days} days (by {appeal.decide_by.isoformat()}). {level.legal_basis}.")
        before = {"status": appeal.status, "case_status": case.status}
        result = _close_appeal(uow, case, appeal, ContestOutcome.DISMISSED, reason, None,
                               AppealStatus.DEEMED_ACCEPTED)
        uow.audit("appeal.deemed_accepted", "citation", case.id, before=before,
                  after={"appeal": result.number, "case_status": case.status,
                         "adjustment_cents": result.adjustment_cents, "refund_cents": result.refund_cents},
                  reason=reason)
        uow.commit()
        return result.refund_cents


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

    @property
    def overdue(self) -> bool:
        return self.days_left is not None and self.days_left < 0 and self.status in rules.PENDING_STATUSES


def list_appeals(app: AppContext, actor: Actor, *, pending_only: bool = True, text: str = "",
                 limit: int = 2000) -> list[AppealRow]:
    """Appeals, the most urgent first (fewest days left; overdue at the top); decided ones after.

    Reads only the columns the docket shows (no JSON columns decoded, no entities built): a busy
    office's few thousand open appeals list in a fraction of a second.
    """
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        s = uow.session
        q = (select(Appeal.id, Appeal.level, Appeal.appellant_name, Appeal.channel, Appeal.status, Appeal.filed_at,
                    Appeal.decide_by, Appeal.decision, Citation.id, Citation.citation_number, Citation.plate,
                    Citation.profile_code, Citation.issued_at)
             .join(Citation, Citation.id == Appeal.citation_id))
        if pending_only:
            q = q.where(Appeal.status.in_(rules.PENDING_STATUSES))
        needle = " ".join(text.split())
        if needle:
            like = f"%{needle}%"
            q = q.where(or_(Citation.citation_number.ilike(like), Citation.plate.ilike(like),
                            Appeal.appellant_name.ilike(like)))
        rows = s.execute(q.order_by(Appeal.decide_by, Appeal.id).limit(limit)).all()
        hearings: dict[int, tuple[int, datetime, str]] = {}
        hq = (select(Hearing.appeal_id, Hearing.id, Hearing.scheduled_at, Hearing.mode)
              .join(Appeal, Appeal.id == Hearing.appeal_id).where(Hearing.status.in_(ACTIVE_HEARING)))
        if pending_only:
            hq = hq.where(Appeal.status.in_(rules.PENDING_STATUSES))
        for appeal_id, hid, at, mode in s.execute(hq):
            if appeal_id not in hearings or at > hearings[appeal_id][1]:
                hearings[appeal_id] = (hid, at, mode)
    now = app.now()
    today: dict[str, date] = {}
    profiles: dict[tuple[str, date], JurisdictionProfile] = {}
    out = []
    for (appeal_id, level_key, name, channel, status, filed_at, decide_by, decision, cid, number, plate,
         code, issued_at) in rows:
        versions = _versions(code)
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
            decision))
    big = 10 ** 6
    out.sort(key=lambda r: (0 if r.status in rules.PENDING_STATUSES else 1,
                            r.days_left if r.days_left is not None else big, r.appeal_id))
    return out


def appeals_for_case(session: Session, citation_id: int) -> list[Appeal]:
    return list(session.scalars(select(Appeal).where(Appeal.citation_id == citation_id).order_by(Appeal.id)))


def latest_appeal_id(app: AppContext, actor: Actor, citation_number: str) -> int:
    """The newest appeal on a citation (for the command line's packet)."""
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        case = _case_by_number(uow.session, citation_number)
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
        lo, hi = _day_bounds(s, day)
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
                                 h.hearing_officer_id, _user_name(s, h.hearing_officer_id), h.scheduled_at,
                                 h.minutes, h.mode, h.location, h.status, c.violation_code, charges - paid,
                                 profile.appeal_level(a.level).name, c.profile_code, h.adjourned_reason))
        return out


__all__ = [
    "AppealRequest", "AppealRow", "DeadlineSummary", "DecisionResult", "DocketRow", "FiledAppeal", "IntakePreview",
    "add_documents", "add_slot", "adjourn_hearing", "apply_appeal_deadlines", "case_history", "case_profile",
    "contest_events", "decide_appeal", "docket", "file_appeal", "free_times", "hearing_officers", "intake_preview",
    "ledger_money", "list_appeals", "officer_day", "schedule_hearing", "withdraw_appeal",
]
