"""A case's schedule between daily runs: the escalation's rules for ONE case, in Python.

The use cases that change a case between two runs of the daily escalation (a hold placed or released,
an owner set or corrected, a notice mailed) call these inside their own unit of work: the case's next
step gets its date once it is known, a released hold moves the case's dates by the length of the
pause, held notices go out once the owner can be mailed, and the next action is set as the run would
set it. Nothing is advanced here; that is the daily run's job (``desktop.services.cases.escalation``).

Below the case steps (``steps``) and the escalation, which both call it; it calls nothing above it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop.domain.case_plan import ContestDecided, ContestFiled
from desktop.domain.ladder import Anchor, ladder
from desktop.domain.lifecycle import CaseStatus
from desktop.domain.profiles import ContestOutcome
from desktop.domain.roles import Permission
from desktop.persistence.models import Appeal, Citation, Hold, Notice, RegisteredOwner
from desktop.services.admin import profiles as profile_store
from desktop.services.core import settings as settings_service
from desktop.services.core.clock import agency_date
from desktop.services.core.context import Actor, AppContext, UnitOfWork

#: Cases that must always carry a next action and its date.
MUST_HAVE_NEXT_ACTION = (CaseStatus.OPEN.value, CaseStatus.UNDER_APPEAL.value, CaseStatus.IN_COLLECTIONS.value)
#: Notice states in which the piece has not reached the post yet.
UNMAILED = ("queued", "held", "printed")


def _profile_of(session: Session, case: Citation) -> Any:
    profiles = profile_store.versions_by_key(session)
    return profiles.get((case.profile_code, case.profile_version))


def local_day(instant: datetime, tz: str) -> date:
    return instant.astimezone(ZoneInfo(tz)).date()


def merged_hold_days(holds: Sequence[Hold], hold: Hold, tz: str) -> int:
    """Length in days of the stretch of (overlapping) holds that ``hold`` belongs to, by local dates."""
    spans = sorted((local_day(h.started_at, tz), local_day(h.ended_at, tz) if h.ended_at else None) for h in holds)
    target_start = local_day(hold.started_at, tz)
    merged: list[list[date | None]] = []
    for start, end in spans:
        last_end = merged[-1][1] if merged else None
        if merged and (last_end is None or start <= last_end):
            merged[-1][1] = None if last_end is None or end is None else max(last_end, end)
        else:
            merged.append([start, end])
    for first, last in merged:
        if first is not None and first <= target_start and (last is None or target_start <= last):
            return 0 if last is None else (last - first).days
    return 0


def hold_changed(uow: UnitOfWork, case: Citation, released: Hold | None = None) -> None:
    """After a hold is placed or released on ``case`` (inside the caller's unit of work).

    Releasing the last active hold moves the case's dates by the length of the pause, then
    its next action comes back from the ladder; placing one shows the hold as the next action.
    """
    s = uow.session
    profile = _profile_of(s, case)
    tz = profile.timezone if profile is not None else str(settings_service.get(s, "agency.timezone"))
    if released is not None and not case.on_hold:
        holds = list(s.scalars(select(Hold).where(Hold.citation_id == case.id)))
        days = merged_hold_days(holds, released, tz)
        if days > 0:
            case.held_days = (case.held_days or 0) + days
            if case.next_stage_on is not None:
                case.next_stage_on = case.next_stage_on + timedelta(days=days)
            uow.audit("case.dates_moved", "citation", case.id, after={"days": days, "next_stage_on": case.next_stage_on},
                      reason=f"clocks paused {days} days by a {released.kind.replace('_', ' ')} hold")
    reschedule_case(uow, case)


def reschedule_case(uow: UnitOfWork, case: Citation) -> None:
    """The escalation's rules for one case, in Python: date the next step if it became known and
    set the next action. Nothing is advanced here; that is the daily run's job."""
    if case.status not in MUST_HAVE_NEXT_ACTION:
        return
    s = uow.session
    now = uow.app.now()
    as_of = agency_date(s, now)
    if case.stage is None and case.next_stage_on is None:
        # Never escalated: the version in force on its issue date and its first stage, as the run would.
        stored = profile_store.all_versions(s)
        mine = sorted((v for v in stored if v.code == case.profile_code), key=lambda v: v.effective_from)
        if mine:
            issue = local_day(case.issued_at, mine[0].profile.timezone)
            chosen = [v for v in mine if v.effective_from <= issue] or mine[:1]
            case.profile_version = chosen[-1].version
            case.stage = chosen[-1].profile.stages[0].key
    profile = _profile_of(s, case)
    if profile is None or case.stage is None:
        if case.next_action is None:
            case.next_action, case.next_action_date = "review:unscheduled", as_of
        return
    tz = profile.timezone
    if case.on_hold or case.status == CaseStatus.UNDER_APPEAL.value:
        appeal = s.scalars(select(Appeal).where(Appeal.citation_id == case.id, Appeal.status.in_(("open", "scheduled")))
                           .order_by(Appeal.filed_at.desc(), Appeal.id.desc()).limit(1)).first()
        active = list(s.scalars(select(Hold).where(Hold.citation_id == case.id, Hold.ended_at.is_(None))
                                .order_by(Hold.started_at, Hold.id)))
        when: date | None = None
        if appeal is not None:
            action, when = f"decide:{appeal.level}", appeal.decide_by
        else:
            action = f"hold:{active[0].kind}" if active else "hold:appeal"
        if when is None:
            review = int(settings_service.get(s, "holds.review_days"))
            when = local_day(active[0].started_at, tz) + timedelta(days=review) if active else as_of
        case.next_action, case.next_action_date = action, when
        return
    rungs = {r.key: r for r in ladder(profile)}
    rung = rungs.get(case.stage)
    if rung is None:
        case.next_action, case.next_action_date = "review:unscheduled", as_of
        return
    notice = None
    if rung.notice_kind:
        notice = s.scalars(select(Notice).where(Notice.citation_id == case.id,
                                                Notice.dedupe_key == rung.notice_dedupe_key)).first()
    if case.next_stage_on is None and not rung.is_final and rung.days is not None:
        if rung.anchor is Anchor.ISSUE:
            case.next_stage_on = local_day(case.issued_at, tz) + timedelta(days=rung.days + (case.held_days or 0))
        elif rung.anchor is Anchor.MAILING and notice is not None and notice.mailed_at is not None:
            held = sum((local_day(h.ended_at, tz) - local_day(h.started_at, tz)).days
                       for h in s.scalars(select(Hold).where(Hold.citation_id == case.id, Hold.ended_at.is_not(None),
                                                             Hold.started_at >= notice.mailed_at)) if h.ended_at)
            served = profile.service.served_on(local_day(notice.mailed_at, tz))  # counted from service
            case.next_stage_on = served + timedelta(days=rung.days + held)
    if notice is not None and notice.status in UNMAILED:
        pending = rung.owner_code if notice.status == "held" else rung.mail_code
        case.next_action, case.next_action_date = pending, local_day(notice.queued_at, tz)
    else:
        case.next_action, case.next_action_date = rung.next_code or "review", case.next_stage_on


def contest_events(session: Session, case: Citation, profile: Any) -> list[ContestFiled | ContestDecided]:
    """The case's contests as ``plan_case`` events: each appeal filed (withdrawn ones left out) and its decision,
    with the day its decision letter was mailed (the law counts what follows a decision from the service of
    that letter: England's Charge Certificate only after the 28 days beginning with it, reg. 21)."""
    tz = profile.timezone
    letters = dict(session.execute(select(Notice.dedupe_key, Notice.mailed_at).where(
        Notice.citation_id == case.id, Notice.kind == "decision_letter", Notice.mailed_at.is_not(None),
        Notice.reprint_of.is_(None))).all())
    levels = {lv.key for lv in profile.appeal_levels}
    events: list[ContestFiled | ContestDecided] = []
    for a in session.scalars(select(Appeal).where(Appeal.citation_id == case.id).order_by(Appeal.id)):
        if a.status == "withdrawn" or a.level not in levels:
            continue
        events.append(ContestFiled(a.level, local_day(a.filed_at, tz)))
        if a.decision and a.decided_at is not None:
            mailed = letters.get(f"decision_letter:{a.id}")
            events.append(ContestDecided(a.level, local_day(a.decided_at, tz), ContestOutcome(a.decision),
                                         a.reduced_fine_cents, local_day(mailed, tz) if mailed is not None else None))
    return events


def owner_changed(uow: UnitOfWork, case: Citation) -> int:
    """After a case's owner was set or corrected: its held notices go out to the new address when it
    can be mailed (the address is copied as it stands now). Returns how many were released."""
    s = uow.session
    owner = s.get(RegisteredOwner, case.owner_id) if case.owner_id else None
    released = 0
    for notice in s.scalars(select(Notice).where(Notice.citation_id == case.id, Notice.status == "held")):
        notice.owner_id = owner.id if owner else None
        notice.address_snapshot = address_snapshot(owner) if owner else None
        if owner is not None and owner.address_status == "ok":
            notice.status, notice.hold_reason = "queued", None
            released += 1
        elif owner is not None:
            notice.hold_reason = f"Owner address cannot be mailed: {owner.address_problem or owner.address_status}"
    s.flush()
    reschedule_case(uow, case)
    return released


def address_snapshot(owner: RegisteredOwner) -> dict[str, Any]:
    """The owner's address as a notice keeps it (the same keys as the set-based run writes)."""
    return {"name": owner.name, "line1": owner.address_line1, "line2": owner.address_line2, "city": owner.city,
            "state": owner.state, "zip": owner.zip, "delivery_point": owner.delivery_point, "raw": owner.address_raw,
            "status": owner.address_status}


def refresh_cases(app: AppContext, actor: Actor, citation_ids: Sequence[int]) -> None:
    """Hook for other areas (the mail office confirming a batch): bring these cases' next actions up to date.

    Only derived fields change (next step date, next action), so seeing the cases is enough."""
    with app.uow(actor, Permission.VIEW_CASES) as uow:
        for case in uow.session.scalars(select(Citation).where(Citation.id.in_(list(citation_ids)))):
            reschedule_case(uow, case)
        uow.commit()
