"""What the appeal use cases share: the case's profile and its history under the appeal rules,
finding and locking an appeal, and the letters queued for the mail office's run.

Audit entries about an appeal are recorded on the case (entity ``citation``), so the case history and
the evidence packet's timeline show the whole story in one place.

Letters: filing queues an ``appeal_acknowledgement``, scheduling a ``hearing_notice`` (one per
hearing, so an adjournment sends a new one), a decision a ``decision_letter`` and, when money goes
back, a ``refund_letter``: ``Notice`` rows with status ``queued`` that the mail office's run prints.
Their ``address_snapshot`` says who they go to (``source: appellant``) and carries ``appeal_id`` (and
``hearing_id``) so the run can build the letter with ``desktop.services.appeals.packet.letter_document``.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop.domain import appeals as rules
from desktop.domain import postal
from desktop.domain.appeals import AppealStatus, CaseHistory, appeal_number
from desktop.domain.case_plan import ContestDecided, ContestFiled
from desktop.domain.errors import NotFound, UserError
from desktop.domain.profiles import ContestOutcome, JurisdictionProfile, load_profile_versions, profile_for
from desktop.persistence.models import Appeal, Citation, Notice, User
from desktop.services.cases import schedule
from desktop.services.cases.steps import load_case
from desktop.services.core.clock import agency_zone
from desktop.services.core.context import UnitOfWork

#: Hearings that still hold the officer's time.
ACTIVE_HEARING = ("scheduled", "held")


# --------------------------------------------------------------------------- profiles and history


@functools.lru_cache(maxsize=16)
def profile_versions(code: str) -> tuple[JurisdictionProfile, ...]:
    return tuple(load_profile_versions(code))


def case_profile(case: Citation) -> JurisdictionProfile:
    """The profile version in force on the case's issue date."""
    return profile_for(case.profile_code, case.issued_at, profile_versions(case.profile_code))


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
    """The case's contests as ``plan_case`` events (``schedule.contest_events``, for its own profile)."""
    case = session.get(Citation, citation_id)
    if case is None:
        return []
    return schedule.contest_events(session, case, case_profile(case))


def lock_appeal(uow: UnitOfWork, appeal_id: int) -> tuple[Appeal, Citation]:
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


def user_name(session: Session, user_id: int | None) -> str:
    if user_id is None:
        return "Curbdesk automation"
    user = session.get(User, user_id)
    return user.full_name if user is not None else f"user {user_id}"


# --------------------------------------------------------------------------- letters queued for the mail run


def _appellant_snapshot(appeal: Appeal, **extra: Any) -> dict[str, Any]:
    lines = [ln.strip() for ln in (appeal.appellant_address or "").splitlines() if ln.strip()]
    return {"source": "appellant", "appeal_id": appeal.id, "appeal_number": appeal_number(appeal.id),
            "name": appeal.appellant_name, "lines": lines, "zip": postal.postcode_in(lines),
            "email": appeal.appellant_email, **extra}


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


def case_by_number(session: Session, citation_number: str) -> Citation:
    number = (citation_number or "").strip()
    if not number:
        raise UserError("Type the citation number from the notice.")
    case = session.scalar(select(Citation).where(Citation.citation_number == number))
    if case is None:
        raise NotFound(f"There is no citation {number}. Check the number on the notice.")
    return case



def day_bounds(session: Session, day: date) -> tuple[datetime, datetime]:
    tz = agency_zone(session)
    start = datetime.combine(day, time(0), tzinfo=tz)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)
