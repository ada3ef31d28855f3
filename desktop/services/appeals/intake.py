"""Taking in an appeal: the intake preview (level, deadline, grounds), filing it with its documents,
documents sent later.

Every function is one use case (permission, one unit of work, audit, one commit). The rules
themselves (which level, which deadline) are in ``desktop.domain.appeals``; the case moves and holds
go through ``desktop.services.cases.steps``. Filing puts the case on an appeal hold and queues the
acknowledgement letter.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop.domain import appeals as rules
from desktop.domain import text as widths
from desktop.domain.appeals import AppealStatus, Channel, appeal_number
from desktop.domain.errors import PermissionDenied, UserError
from desktop.domain.lifecycle import CaseStatus
from desktop.domain.roles import Permission, Role, allowed
from desktop.domain.text import clean_text
from desktop.persistence.models import Appeal, AppealDocument, Citation, RegisteredOwner, User
from desktop.services.appeals.common import case_by_number, case_history, case_profile, lock_appeal, queue_letter
from desktop.services.appeals.documents import AppealDocumentStore, CheckedDocument, check_document
from desktop.services.cases.balances import ledger_money
from desktop.services.cases.steps import load_case, move, place_hold
from desktop.services.core import settings
from desktop.services.core.context import Actor, AppContext, UnitOfWork

#: Case states from which an appeal may be filed.
APPEALABLE = (CaseStatus.OPEN, CaseStatus.PAID, CaseStatus.IN_COLLECTIONS, CaseStatus.UNDER_APPEAL)


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
    #: of the case's profile version (an English case's balance is in pounds)
    currency: str
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
        case = case_by_number(s, citation_number)
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
            profile.currency, chosen.key, chosen.name, check.deadline, check.is_late, check.explanation(),
            deadline.decide_by, deadline.statutory,
            tuple(GroundChoice(g.key, g.text, g.statutory) for g in profile.grounds), owner_name, owner_addr,
            open_levels)


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
    for label, value, width in (("The appellant's name", name, widths.NAME), ("The statement", statement, widths.STATEMENT),
                                ("The appellant's address", request.appellant_address, widths.ADDRESS),
                                ("The appellant's email", request.appellant_email, widths.EMAIL),
                                ("The reason for accepting it late", request.late_override_reason, widths.REASON)):
        clean_text(value, label, width)
    checked = check_documents(app, request.documents)
    store = AppealDocumentStore(app.paths.documents_dir)
    with app.uow(actor, Permission.FILE_APPEALS) as uow:
        s = uow.session
        number_case = case_by_number(s, request.citation_number)
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
        appeal, _case = lock_appeal(uow, appeal_id)
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
