"""Finding and reading cases: search, the windowed case list, the case detail, the CSV export."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, true
from sqlalchemy.orm import Session, selectinload

from desktop.domain.errors import NotFound, UserError
from desktop.domain.lifecycle import CaseStatus
from desktop.domain.roles import Permission
from desktop.persistence.models import (
    AuditEntry,
    CaseNote,
    Citation,
    EvidencePhoto,
    Hold,
    LedgerEntry,
    RegisteredOwner,
)
from desktop.services.context import Actor, AppContext

from desktop.domain.plates import normalize_plate as normalise_plate  # noqa: E402
from desktop.domain.plates import plate_search_key as plate_key  # noqa: E402


@dataclass(frozen=True)
class CaseFilter:
    """What the clerk typed: free text (citation number, plate, owner, VIN) and a date range."""

    text: str = ""
    date_from: date | None = None
    date_to: date | None = None
    statuses: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.text.strip() or self.date_from or self.date_to or self.statuses)


@dataclass(frozen=True)
class CaseRow:
    """One row of the case list."""

    id: int
    citation_number: str
    issued_at: datetime
    plate: str
    jurisdiction: str
    make: str | None
    violation_code: str
    violation_description: str
    status: str
    evidence_status: str
    owner_name: str | None
    balance_cents: int
    next_action: str | None
    next_action_date: date | None
    warning_count: int


def _day_start(d: date) -> datetime:
    return datetime.combine(d, time.min, tzinfo=timezone.utc)


def _filter_clause(session: Session, f: CaseFilter) -> list[Any]:
    clauses: list[Any] = []
    text = f.text.strip()
    if text:
        upper = text.upper()
        alternatives: list[Any] = [Citation.citation_number == text]
        key = plate_key(text)
        if key and len(key) <= 10:
            alternatives.append(Citation.plate_key == key)
        if len(upper) == 17:
            alternatives.append(Citation.vin == upper)
        if any(c.isalpha() for c in text) and len(text) >= 3:
            owner_ids = select(RegisteredOwner.id).where(
                RegisteredOwner.name_key.startswith(upper.replace("%", "").replace("_", ""), autoescape=True)
            )
            alternatives.append(Citation.owner_id.in_(owner_ids))
        if len(text) >= 4:
            alternatives.append(Citation.address.startswith(upper, autoescape=True))
        clauses.append(or_(*alternatives))
    if f.date_from:
        clauses.append(Citation.issued_at >= _day_start(f.date_from))
    if f.date_to:
        clauses.append(Citation.issued_at < _day_start(date.fromordinal(f.date_to.toordinal() + 1)))
    if f.statuses:
        clauses.append(Citation.status.in_(f.statuses))
    return clauses


def _ordered_ids(f: CaseFilter, session: Session) -> Select[Any]:
    return select(Citation.id).where(and_(true(), *_filter_clause(session, f))).order_by(
        Citation.issued_at.desc(), Citation.id.desc()
    )


def count_cases(app: AppContext, actor: Actor, f: CaseFilter) -> int:
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        if f.is_empty:
            return int(uow.session.scalar(select(func.count()).select_from(Citation)) or 0)
        sub = _ordered_ids(f, uow.session).order_by(None).subquery()
        return int(uow.session.scalar(select(func.count()).select_from(sub)) or 0)


def balances(session: Session, ids: Sequence[int]) -> dict[int, int]:
    """The balance of each case: the sum of its ledger."""
    if not ids:
        return {}
    rows = session.execute(
        select(LedgerEntry.citation_id, func.sum(LedgerEntry.amount_cents))
        .where(LedgerEntry.citation_id.in_(ids))
        .group_by(LedgerEntry.citation_id)
    ).all()
    found = {int(cid): int(total or 0) for cid, total in rows}
    return {i: found.get(i, 0) for i in ids}


def balance_of(session: Session, citation_id: int) -> int:
    return int(
        session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
                LedgerEntry.citation_id == citation_id
            )
        )
        or 0
    )


def _rows_for_ids(session: Session, ids: Sequence[int]) -> list[CaseRow]:
    if not ids:
        return []
    q = (
        select(
            Citation.id, Citation.citation_number, Citation.issued_at, Citation.plate,
            Citation.jurisdiction, Citation.make, Citation.violation_code,
            Citation.violation_description, Citation.status, Citation.evidence_status,
            RegisteredOwner.name, Citation.next_action, Citation.next_action_date,
            Citation.warning_count,
        )
        .outerjoin(RegisteredOwner, RegisteredOwner.id == Citation.owner_id)
        .where(Citation.id.in_(ids))
    )
    by_id = {r[0]: r for r in session.execute(q).all()}
    bal = balances(session, ids)
    out = []
    for i in ids:
        r = by_id.get(i)
        if r is None:
            continue
        out.append(CaseRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10],
                           bal[i], r[11], r[12], r[13]))
    return out


def case_page(app: AppContext, actor: Actor, f: CaseFilter, offset: int, limit: int = 256) -> list[CaseRow]:
    """Rows `offset`..`offset+limit` of the list, newest first. Only ids are scanned for the offset."""
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        ids = list(uow.session.scalars(_ordered_ids(f, uow.session).offset(offset).limit(limit)))
        return _rows_for_ids(uow.session, ids)


def search_cases(app: AppContext, actor: Actor, text: str, limit: int = 50) -> list[CaseRow]:
    """The quick search box: citation number, plate (also one character off), owner, VIN, address."""
    if not text.strip():
        return []
    return case_page(app, actor, CaseFilter(text=text), 0, limit)


def find_case_id(app: AppContext, actor: Actor, citation_number: str) -> int:
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        cid = uow.session.scalar(select(Citation.id).where(Citation.citation_number == citation_number.strip()))
        if cid is None:
            raise NotFound(f"There is no citation {citation_number}.")
        return int(cid)


@dataclass
class TimelineItem:
    at: datetime
    who: str
    what: str
    detail: str = ""


@dataclass
class CaseDetail:
    """Everything the case panel shows, loaded in one go (detached from the session)."""

    citation: Citation
    owner: RegisteredOwner | None
    photos: list[EvidencePhoto]
    ledger: list[LedgerEntry]
    balance_cents: int
    notes: list[CaseNote]
    holds: list[Hold]
    history: list[AuditEntry]
    timeline: list[TimelineItem] = field(default_factory=list)

    @property
    def status(self) -> CaseStatus:
        return CaseStatus(self.citation.status)


def _describe(entry: AuditEntry) -> str:
    label = entry.action.replace(".", " ").replace("_", " ")
    return label[:1].upper() + label[1:]


def case_detail(app: AppContext, actor: Actor, citation_id: int) -> CaseDetail:
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        s = uow.session
        c = s.execute(
            select(Citation)
            .options(selectinload(Citation.violations), selectinload(Citation.photos))
            .where(Citation.id == citation_id)
        ).scalar_one_or_none()
        if c is None:
            raise NotFound(f"Case {citation_id} no longer exists.")
        owner = s.get(RegisteredOwner, c.owner_id) if c.owner_id else None
        ledger = list(s.scalars(select(LedgerEntry).where(LedgerEntry.citation_id == c.id).order_by(LedgerEntry.id)))
        notes = list(s.scalars(select(CaseNote).where(CaseNote.citation_id == c.id).order_by(CaseNote.id)))
        holds = list(s.scalars(select(Hold).where(Hold.citation_id == c.id).order_by(Hold.id)))
        history = list(
            s.scalars(
                select(AuditEntry)
                .where(AuditEntry.entity_type == "citation", AuditEntry.entity_id == str(c.id))
                .order_by(AuditEntry.id)
            )
        )
        detail = CaseDetail(c, owner, list(c.photos), ledger, sum(e.amount_cents for e in ledger),
                            notes, holds, history)
        detail.timeline = [
            TimelineItem(e.at, e.username, _describe(e), e.reason or "") for e in history
        ]
        detail.timeline.sort(key=lambda t: t.at)
        return detail


EXPORT_COLUMNS = [
    "citation_number", "device_id", "officer_badge", "issued_at", "plate", "jurisdiction",
    "violation_code", "fine_cents", "status", "evidence_status", "photo_count", "balance_cents",
]


def export_citations(app: AppContext, actor: Actor, out: Path,
                     progress: Callable[[int], None] | None = None, batch: int = 5000) -> int:
    """Write every citation as CSV (to a temporary file, renamed when complete)."""
    out = Path(out)
    tmp = out.with_name(out.name + ".partial")
    written = 0
    with app.reader(actor, Permission.EXPORT_DATA) as uow:
        s = uow.session
        photo_counts = (
            select(EvidencePhoto.citation_id, func.count().label("n"))
            .where(EvidencePhoto.integrity == "verified")
            .group_by(EvidencePhoto.citation_id)
            .subquery()
        )
        sums = (
            select(LedgerEntry.citation_id, func.sum(LedgerEntry.amount_cents).label("bal"))
            .group_by(LedgerEntry.citation_id)
            .subquery()
        )
        try:
            with tmp.open("w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh)
                w.writerow(EXPORT_COLUMNS)
                last = 0
                while True:
                    rows = s.execute(
                        select(
                            Citation.id, Citation.citation_number, Citation.device_id, Citation.officer_badge,
                            Citation.issued_at, Citation.plate, Citation.jurisdiction, Citation.violation_code,
                            Citation.fine_cents, Citation.status, Citation.evidence_status,
                            func.coalesce(photo_counts.c.n, 0), func.coalesce(sums.c.bal, 0),
                        )
                        .outerjoin(photo_counts, photo_counts.c.citation_id == Citation.id)
                        .outerjoin(sums, sums.c.citation_id == Citation.id)
                        .where(Citation.id > last)
                        .order_by(Citation.id)
                        .limit(batch)
                    ).all()
                    if not rows:
                        break
                    for r in rows:
                        w.writerow([r[1], r[2] or "", r[3], r[4].isoformat(), r[5], r[6], r[7], r[8],
                                    r[9], r[10], r[11], r[12]])
                    written += len(rows)
                    last = rows[-1][0]
                    if progress:
                        progress(written)
            tmp.replace(out)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise UserError(f"Cannot write {out}: {exc.strerror}.") from exc
    return written


def iter_open_case_ids(session: Session) -> Iterator[int]:
    yield from session.scalars(select(Citation.id).where(Citation.status == CaseStatus.OPEN.value))
