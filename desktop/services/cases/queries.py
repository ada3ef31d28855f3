"""Finding and reading cases: search, the windowed case list, the case detail, the CSV export.

(Over 600 lines, knowingly: search, the windowed list and the case detail share their SQL text and row
mappers.)

Search is one indexed lookup per way of finding a case (citation number, plate key, VIN,
owner name, street address), so a search over a million citations touches only the rows that match.
The identifying matches (citation number, plate, VIN, address) are few: they are joined by UNION and
sorted newest first. An owner name can match tens of thousands of cases (a common surname), so those
follow in the order of the owner-name index (name, owner, newest first for each owner), which needs
no sort of all the matches, and a search is counted only up to ``SEARCH_COUNT_CAP``: past it the
clerk narrows the search rather than pages through it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from desktop.domain import case_plan
from desktop.domain import ladder as ladder_rules
from desktop.domain import plates as _plates
from desktop.domain.errors import NotFound, UserError
from desktop.domain.ledger import format_cents
from desktop.domain.lifecycle import CaseStatus
from desktop.domain.roles import Permission
from desktop.persistence.evidence import EvidenceStore
from desktop.persistence.models import (
    Appeal,
    AuditEntry,
    CaseNote,
    Citation,
    EvidencePhoto,
    Hold,
    LedgerEntry,
    Notice,
    OwnerLookup,
    PlateReading,
    RegisteredOwner,
    User,
)
from desktop.services.admin import profiles as profile_store
from desktop.services.cases.schedule import contest_events
from desktop.services.core.clock import agency_date, agency_zone
from desktop.services.core.context import Actor, AppContext
from desktop.services.core.imports import csv_writer
from desktop.services.core.sqltext import Sql

#: Plate normalisation and the look-alike search key (kept here under the names other modules import).
normalise_plate = _plates.normalize_plate
plate_key = _plates.plate_search_key

#: Cases that must always carry a next action (the escalation's check).
OPEN_CASES = (CaseStatus.OPEN.value, CaseStatus.UNDER_APPEAL.value, CaseStatus.IN_COLLECTIONS.value)

#: A text search is counted up to here; a count above it reads "more than this: narrow the search".
SEARCH_COUNT_CAP = 1000

#: The clerk's work lists, by key: (label, what they hold).
WORKLISTS: dict[str, str] = {
    "due": "Next action due",
    "without_next_action": "Open cases without a next action",
    "held_notices": "Notices held (no owner or bad address)",
    "owner_address": "Owner address cannot be mailed",
    "no_owner": "Open cases without an owner",
    "on_hold": "On hold",
    "in_collections": "In collections",
}


@dataclass(frozen=True)
class CaseFilter:
    """What the clerk typed: free text (citation number, plate, owner, VIN, address), a date range,
    statuses, and optionally one of the work lists (``WORKLISTS``)."""

    text: str = ""
    date_from: date | None = None
    date_to: date | None = None
    statuses: tuple[str, ...] = ()
    worklist: str | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.text.strip() or self.date_from or self.date_to or self.statuses or self.worklist)


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
    lookalike: bool = False
    """Found by a look-alike plate (O/0, I/1, B/8, S/5, Z/2), not the plate as typed."""
    stage: str | None = None
    on_hold: bool = False
    photo_read: bool = False
    """Found because a photo of it reads the searched plate, while the plate typed on it is another."""
    currency: str = "USD"
    """Of its profile version (an English case's balance is in pounds)."""


class _Query:
    """A search being written as SQL text: the ways the text identifies a case (``matches``), the
    owner-name ranges (``names``), the other conditions, the values."""

    def __init__(self, pg: bool) -> None:
        self.pg = pg
        self.matches: list[str] = []
        self.names: list[str] = []
        self.where: list[str] = []
        self.params: dict[str, Any] = {}

    def value(self, v: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = v
        return f":{name}"

    def prefix(self, column: str, text: str) -> str:
        """``column`` starts with ``text``, written so the column's index is used."""
        if self.pg:
            # byte order, as SQLite's: under a linguistic database collation only the COLLATE "C" expression
            # indexes (migration pgscale_0001) serve a LIKE prefix
            escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            return f'{column} COLLATE "C" LIKE {self.value(escaped + "%")}'
        # SQLite: a range on the BINARY index (LIKE would need a NOCASE one)
        return f"{column} >= {self.value(text)} AND {column} < {self.value(text + chr(0xFFFF))}"


def owner_names(text: str) -> list[str]:
    """The owner-name prefixes ``text`` may stand for ("maria garcia" -> "GARCIA, MARIA" ...), sorted,
    none a prefix of another (so their ranges of the name index do not overlap); [] when it is no name."""
    upper = " ".join(text.upper().split())
    if sum(c.isalpha() for c in upper) < 3 or upper[:1].isdigit():
        return []
    names = {upper}
    words = upper.replace(",", " ").split()
    if len(words) >= 2 and "," not in upper:  # "maria garcia" -> "GARCIA, MARIA"
        names.add(f"{words[-1]}, {' '.join(words[:-1])}")
        names.add(f"{words[0]}, {' '.join(words[1:])}")
    ordered = sorted(names)
    return [n for n in ordered if not any(n != m and n.startswith(m) for m in ordered)]


def _text_matches(q: _Query, text: str) -> None:
    """One indexed lookup of citation ids per way the text may identify a case; owner-name ranges apart."""
    upper = " ".join(text.upper().split())
    owner_join = "SELECT c.id FROM registered_owners o JOIN citations c ON c.owner_id = o.id WHERE "
    q.matches.append(f"SELECT id FROM citations WHERE citation_number IN ({q.value(text)}, {q.value(upper)})")
    plate = normalise_plate(text)
    if plate and plate.isalnum() and len(plate) <= 10:
        key = q.value(plate_key(plate))
        q.matches.append(f"SELECT id FROM citations WHERE plate_key = {key}")
        # the plate read from an evidence photo (issue 20): a mistyped citation is found by its real plate
        q.matches.append(f"SELECT citation_id FROM plate_readings WHERE plate_key = {key} AND status = 'read'")
    compact = upper.replace(" ", "")
    if 11 <= len(compact) <= 17 and compact.isalnum():
        vin = q.value(compact)
        q.matches.append(f"SELECT id FROM citations WHERE vin = {vin}")
        q.matches.append(owner_join + f"o.vin = {vin}")
    q.names = [q.prefix("o.name_key", name) for name in owner_names(text)]
    if len(upper) >= 4 and upper[:1].isdigit() and " " in upper:
        q.matches.append("SELECT id FROM citations WHERE " + q.prefix("address", upper))
        q.matches.append(owner_join + q.prefix("o.address_line1", upper))


def _local_day_start(d: date, tz: Any) -> datetime:
    return datetime.combine(d, time.min, tzinfo=tz).astimezone(UTC)


_OPEN_LIST = "('" + "', '".join(OPEN_CASES) + "')"


def _worklist_clause(q: _Query, session: Session, key: str) -> str:
    if key == "due":
        return f"c.status IN {_OPEN_LIST} AND c.next_action_date <= {q.value(agency_date(session, _utcnow()))}"
    if key == "without_next_action":
        return f"c.status IN {_OPEN_LIST} AND (c.next_action IS NULL OR c.next_action_date IS NULL)"
    if key == "held_notices":
        return "c.id IN (SELECT n.citation_id FROM notices n WHERE n.status = 'held')"
    if key == "owner_address":
        return (f"c.status IN {_OPEN_LIST} AND c.owner_id IN "
                "(SELECT o.id FROM registered_owners o WHERE o.address_status <> 'ok')")
    if key == "no_owner":
        return f"c.status IN {_OPEN_LIST} AND c.owner_id IS NULL"
    if key == "on_hold":
        return f"c.status IN {_OPEN_LIST} AND c.id IN (SELECT h.citation_id FROM holds h WHERE h.ended_at IS NULL)"
    if key == "in_collections":
        return f"c.status = {q.value(CaseStatus.IN_COLLECTIONS.value)}"
    raise UserError(f"There is no work list called {key}.")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _query(session: Session, f: CaseFilter) -> _Query:
    q = _Query(session.get_bind().dialect.name == "postgresql")
    text = f.text.strip()
    if text:
        _text_matches(q, text)
    if f.date_from or f.date_to:
        tz = agency_zone(session)
        if f.date_from:
            q.where.append(f"c.issued_at >= {q.value(_local_day_start(f.date_from, tz))}")
        if f.date_to:
            q.where.append(f"c.issued_at < {q.value(_local_day_start(f.date_to + timedelta(days=1), tz))}")
    if f.statuses:
        q.where.append(f"c.status IN ({', '.join(q.value(st) for st in f.statuses)})")
    if f.worklist:
        q.where.append(_worklist_clause(q, session, f.worklist))
    return q


def _from(q: _Query) -> str:
    where = (" WHERE " + " AND ".join(q.where)) if q.where else ""
    if q.matches:
        return f"FROM ({' UNION '.join(q.matches)}) m JOIN citations c ON c.id = m.id{where}"
    return f"FROM citations c{where}"


_NEWEST_FIRST = "c.issued_at DESC, c.id DESC"
#: The owner-name index's own order (no sort of all matches; only each owner's few cases are sorted).
_BY_OWNER_NAME = "o.name_key, o.id, c.issued_at DESC, c.id DESC"
#: the same on PostgreSQL, in the byte order of its owner-name index (``ix_owner_name_key_c``)
_BY_OWNER_NAME_PG = 'o.name_key COLLATE "C", o.id, c.issued_at DESC, c.id DESC'


def _segments(q: _Query) -> list[tuple[str, str]]:
    """The parts of the result in the order they are listed, each as (FROM ... WHERE ..., ORDER BY):
    the identifying matches newest first, then each owner-name range in index order (without the
    cases already listed)."""
    if not q.names:
        return [(_from(q), _NEWEST_FIRST)]
    out = [(_from(q), _NEWEST_FIRST)] if q.matches else []
    listed = f" AND c.id NOT IN ({' UNION '.join(q.matches)})" if q.matches else ""
    where = "".join(f" AND {w}" for w in q.where)
    for name in q.names:
        out.append((f"FROM registered_owners o JOIN citations c ON c.owner_id = o.id WHERE {name}{where}{listed}",
                     _BY_OWNER_NAME_PG if q.pg else _BY_OWNER_NAME))
    return out


def count_cap(f: CaseFilter) -> int | None:
    """How far ``count_cases`` counts ``f``: text searches up to ``SEARCH_COUNT_CAP`` (None: to the end)."""
    return SEARCH_COUNT_CAP if f.text.strip() else None


def describe_order(f: CaseFilter) -> str:
    """How the list of ``f`` is ordered, for the clerk."""
    if f.text.strip() and owner_names(f.text):
        return "exact matches first, then by registered owner, newest first"
    return "newest first"


#: On PostgreSQL a list without a text search whose planner estimate reaches this many cases is first shown
#: with the estimate ("about 1,000,000 cases") and counted exactly afterwards: an exact count reads every
#: index entry of the list (38 ms at a million on the quiet test machine; linear, so ~350 ms at ten
#: million), which would hold back the first paint. Below it the exact count is cheap and comes first.
ESTIMATE_FROM = 200_000


def estimate_cases(app: AppContext, actor: Actor, f: CaseFilter) -> int | None:
    """The planner's estimate of how many cases ``f`` lists, when it is ``ESTIMATE_FROM`` or more on
    PostgreSQL; None otherwise (SQLite, a text search, or a list small enough to count at once).

    ``EXPLAIN`` plans the same ``FROM ... WHERE`` as ``count_cases`` without running it: its row estimate
    comes from the table statistics (``pg_class.reltuples`` scaled to the table's current size, the
    columns' histograms), so it costs well under a millisecond at any size."""
    if count_cap(f) is not None:
        return None
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        sql = Sql(uow.session)
        if not sql.pg:
            return None
        q = _query(uow.session, f)
        plan = sql.scalar(f"EXPLAIN (FORMAT JSON) SELECT 1 {_from(q)}", **q.params)
    if isinstance(plan, str):
        plan = json.loads(plan)
    rows = int(plan[0]["Plan"]["Plan Rows"])
    return rows if rows >= ESTIMATE_FROM else None


def count_cases(app: AppContext, actor: Actor, f: CaseFilter) -> int:
    """How many cases ``f`` lists; a text search is counted only up to ``count_cap(f)`` + 1 (a result
    above the cap means "more than the cap")."""
    cap = count_cap(f)
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        q = _query(uow.session, f)
        sql = Sql(uow.session)
        if cap is None:
            return int(sql.scalar(f"SELECT COUNT(*) {_from(q)}", **q.params) or 0)
        total = 0
        for source, _order in _segments(q):
            if total > cap:
                break
            total += int(sql.scalar(f"SELECT COUNT(*) FROM (SELECT 1 {source} LIMIT {cap + 1 - total}) n",
                                    **q.params) or 0)
        return total


_COLUMNS = ("c.id, c.citation_number, c.issued_at, c.plate, c.jurisdiction, c.make, c.violation_code, "
            "c.violation_description, c.status, c.evidence_status, "
            "(SELECT o.name FROM registered_owners o WHERE o.id = c.owner_id), "
            "(SELECT COALESCE(SUM(l.amount_cents), 0) FROM ledger_entries l WHERE l.citation_id = c.id), "
            "c.next_action, c.next_action_date, "
            "COALESCE((SELECT w.count FROM citation_warnings w WHERE w.citation_id = c.id), 0), "
            "c.stage, c.on_hold, c.profile_code, c.profile_version")


def _when(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _row(r: Any, typed_plate: str | None, read_as: frozenset[int], currencies: dict[tuple[str, int], str]) -> CaseRow:
    lookalike = bool(typed_plate) and r[3] != typed_plate and plate_key(r[3]) == plate_key(typed_plate or "")
    photo_read = int(r[0]) in read_as and plate_key(r[3]) != plate_key(typed_plate or "")
    return CaseRow(int(r[0]), r[1], _when(r[2]), r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], int(r[11] or 0),
                   r[12], _day(r[13]), int(r[14] or 0), lookalike, r[15], bool(r[16]), photo_read,
                   currencies.get((r[17], r[18]), "USD"))


def case_page(app: AppContext, actor: Actor, f: CaseFilter, offset: int, limit: int = 256) -> list[CaseRow]:
    """Rows ``offset``..``offset+limit`` of the list (in ``describe_order(f)``), with owner and balance."""
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        q = _query(uow.session, f)
        sql = Sql(uow.session)
        rows: list[Any] = []
        start = 0  # where the current segment starts in the whole list
        for source, order in _segments(q):
            skip = max(int(offset) - start, 0)
            got = sql.rows(f"SELECT {_COLUMNS} {source} ORDER BY {order} LIMIT {int(limit) - len(rows)} "
                           f"OFFSET {skip}", **q.params)
            rows.extend(got)
            if len(rows) >= limit:
                break
            # this segment is exhausted: its length says where the next one starts
            size = skip + len(got) if got else int(sql.scalar(
                f"SELECT COUNT(*) FROM (SELECT 1 {source} LIMIT {skip}) n", **q.params) or 0)
            start += size
        typed = normalise_plate(f.text) if f.text.strip() else None
        read_as: frozenset[int] = frozenset()
        others = [int(r[0]) for r in rows if typed and plate_key(r[3]) != plate_key(typed)]
        if others:  # which of them a photo reading found (one indexed query for the page)
            read_as = frozenset(int(i) for i in uow.session.scalars(
                select(PlateReading.citation_id).where(PlateReading.plate_key == plate_key(typed or ""),
                                                       PlateReading.citation_id.in_(others))))
        currencies = profile_store.currencies(uow.session, {(r[17], r[18]) for r in rows})
    return [_row(r, typed, read_as, currencies) for r in rows]


def search_cases(app: AppContext, actor: Actor, text: str, limit: int = 50) -> list[CaseRow]:
    """The quick search box: citation number, plate (also one look-alike character off, and the plate read
    from a citation's photo: ``photo_read``), owner name, VIN, street address (of the violation or of the owner)."""
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
    """One thing that happened to a case: when, who, what (and the area it belongs to)."""

    at: datetime
    who: str
    what: str
    detail: str = ""
    kind: str = "case"
    """sync, review, ledger, payment, notice, hold, note, owner, appeal, escalation, case"""
    recorded: datetime | None = None
    """When the entry was written, where that differs from `at` (an audit entry written after the fact)."""
    rank: int = 9
    """At one instant, causes come first (`CAUSAL_RANK`)."""
    seq: int = 0
    """The audit trail's order where the item has an audit entry, else the order it was gathered in."""


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
    notices: list[Notice] = field(default_factory=list)
    lookups: list[Any] = field(default_factory=list)
    appeals: list[Any] = field(default_factory=list)
    profile: Any = None
    """The jurisdiction profile version the case runs under (None if unknown)."""
    schedule: Any = None
    """profiles.CaseSchedule as of today: deadlines, discount, stage dates."""
    next_action_text: str = "—"
    stage_text: str = "—"
    usernames: dict[int, str] = field(default_factory=dict)

    @property
    def status(self) -> CaseStatus:
        return CaseStatus(self.citation.status)

    @property
    def currency(self) -> str:
        """Of its profile (an English case's amounts are in pounds); dollars where the profile is unknown."""
        return str(self.profile.currency) if self.profile is not None else "USD"

    @property
    def active_holds(self) -> list[Hold]:
        return [h for h in self.holds if h.ended_at is None]


def _describe(entry: AuditEntry) -> str:
    label = entry.action.replace(".", " ").replace("_", " ")
    return label[:1].upper() + label[1:]


_AUDIT_KIND = {"citation.received": "sync", "citation.approved": "review", "citation.voided": "review",
               "citation.corrected": "review", "hold.placed": "hold", "hold.released": "hold",
               "case.dates_moved": "hold", "citation.in_collections": "escalation"}
_AUDIT_TEXT = {"citation.received": "Received from the field", "citation.approved": "Approved in review",
               "citation.in_collections": "Referred to collections", "hold.placed": "Hold placed",
               "hold.released": "Hold released", "case.dates_moved": "Dates moved by the hold",
               "owner.assigned": "Registered owner assigned", "owner.not_found": "No registered owner found",
               "owner.entered": "Owner entered by hand", "owner.address_corrected": "Owner address corrected",
               "escalation.judgment": "Judgment entered", "escalation.charge_certificate": "Charge certificate",
               "escalation.order_for_recovery": "Order for recovery registered"}


#: At one instant, what causes what: the citation arrives, is approved, its fine is posted; the owner is
#: looked up before the notice addressed to them is queued, and the notice's penalty follows; the notice is
#: mailed; then money moves, and the status moves it causes (paid, reopened) follow in audit-trail order.
CAUSAL_RANK = {"received": 0, "approved": 1, "fine": 2, "lookup": 3, "notice": 4, "penalty": 5, "mailed": 6}
_LATER = 9
_NO_AUDIT = 1 << 62


def _effective_at(e: AuditEntry, c: Citation, payments_at: list[datetime]) -> datetime:
    """When what the audit entry records happened: its own time, except for the receipt and the approval
    (the citation carries their times: a dock bundle or the demo may write the entry later) and a
    summary "payment posted" entry (at the payment it records)."""
    if e.action == "citation.received" and c.received_at is not None:
        return min(c.received_at, e.at)
    if e.action == "citation.approved" and c.approved_at is not None:
        return min(c.approved_at, e.at)
    if e.action == "payment.posted":
        earlier = [at for at in payments_at if at <= e.at]
        if earlier:
            return max(earlier)
    return e.at


def build_timeline(d: CaseDetail) -> list[TimelineItem]:
    """Everything that happened, oldest first: the audit trail plus the ledger, notices, notes and
    lookups (which bulk work such as the daily escalation records in their own tables)."""
    names = d.usernames

    def who(uid: int | None, default: str = "system") -> str:
        return names.get(uid, default) if uid is not None else default

    items: list[TimelineItem] = []
    ledger_in_audit: dict[int, int] = {}
    for e in d.history:
        if e.action.startswith("ledger.") and isinstance(e.after, dict) and "entry" in e.after:
            ledger_in_audit[int(e.after["entry"])] = e.id
    payments_at = sorted(entry.at for entry in d.ledger if entry.kind == "payment")
    for e in d.history:
        if e.action.startswith("ledger.") or e.action == "note.added":
            continue  # shown from the ledger and the notes, which carry the amounts and the text
        what = _AUDIT_TEXT.get(e.action, _describe(e))
        detail = e.reason or ""
        if e.action.startswith("hold.") and isinstance(e.after or e.before, dict):
            kind = (e.after or e.before or {}).get("kind", "")
            what = f"{what} ({str(kind).replace('_', ' ')})" if kind else what
        if e.action in ("escalation.judgment", "escalation.charge_certificate", "escalation.order_for_recovery",
                        "citation.in_collections") and e.reason:
            detail = e.reason
        at = _effective_at(e, d.citation, payments_at)
        rank = {"citation.received": CAUSAL_RANK["received"],
                "citation.approved": CAUSAL_RANK["approved"]}.get(e.action, _LATER)
        items.append(TimelineItem(at, e.username, what, detail, _AUDIT_KIND.get(e.action, e.action.split(".")[0]),
                                  recorded=e.at if abs((e.at - at).total_seconds()) > 60 else None,
                                  rank=rank, seq=e.id))
    for entry in d.ledger:
        kind = entry.kind
        label = {"fine": "Fine", "penalty": "Penalty", "payment": "Payment", "discount": "Discount",
                 "refund": "Refund", "reversal": "Reversal", "write_off": "Written off",
                 "late_fee_waiver": "Late fees waived", "reinstatement": "Late fees reinstated",
                 "adjustment": "Adjustment"}.get(kind, kind)
        sign = "+" if entry.amount_cents > 0 else "−"
        items.append(TimelineItem(entry.at, who(entry.user_id, "system" if kind != "payment" else "payment import"),
                                  f"{label} {sign}{format_cents(abs(entry.amount_cents), d.currency)}",
                                  (entry.memo or "") + (f" (for {entry.effective_date})" if kind == "penalty" else ""),
                                  "payment" if kind in ("payment", "refund", "reversal") else "ledger",
                                  rank=CAUSAL_RANK.get(kind, _LATER), seq=ledger_in_audit.get(entry.id, _NO_AUDIT)))
    for n in d.notices:
        kind = n.kind.replace("_", " ")
        if n.status == "held":
            items.append(TimelineItem(n.queued_at, "daily escalation", f"Notice held: {kind}", n.hold_reason or "",
                                      "notice", rank=CAUSAL_RANK["notice"], seq=_NO_AUDIT))
        elif n.status == "cancelled":
            items.append(TimelineItem(n.queued_at, "daily escalation", f"Notice queued, then cancelled: {kind}",
                                      n.hold_reason or "", "notice", rank=CAUSAL_RANK["notice"], seq=_NO_AUDIT))
        else:
            to = ""
            if isinstance(n.address_snapshot, dict):
                snap = n.address_snapshot
                to = f"to {snap.get('name') or ''}, {snap.get('line1') or snap.get('raw') or ''} {snap.get('city') or ''}"
            items.append(TimelineItem(n.queued_at, "daily escalation", f"Notice queued: {kind}", to.strip(), "notice",
                                      rank=CAUSAL_RANK["notice"], seq=_NO_AUDIT))
        if n.mailed_at:
            items.append(TimelineItem(n.mailed_at, "mail office", f"Notice mailed: {kind}",
                                      f"piece {n.serial}" if n.serial else "", "notice", rank=CAUSAL_RANK["mailed"],
                                      seq=_NO_AUDIT))
        if n.returned_at:
            items.append(TimelineItem(n.returned_at, "mail office", f"Mail returned: {kind}",
                                      n.return_reason or "", "notice"))
    for note in d.notes:
        extra = f" [attachment: {note.attachment_name}]" if note.attachment_name else ""
        items.append(TimelineItem(note.at, who(note.user_id), "Note", note.text + extra, "note"))
    for lookup in d.lookups:
        found = "found" if lookup.owner_id else "no owner on file"
        items.append(TimelineItem(lookup.at, who(lookup.user_id, "daily escalation"), f"Owner lookup: {found}",
                                  f"purpose: {lookup.purpose}", "owner", rank=CAUSAL_RANK["lookup"], seq=_NO_AUDIT))
    audited_appeals = any(e.action.startswith("appeal") for e in d.history)
    if not audited_appeals:
        for a in d.appeals:
            items.append(TimelineItem(a.filed_at, who(a.created_by, a.appellant_name),
                                      f"Appeal filed: {a.level.replace('_', ' ')}",
                                      f"by {a.appellant_name} via {a.channel}", "appeal"))
            if a.decided_at:
                items.append(TimelineItem(a.decided_at, who(a.decided_by), f"Appeal decided: {a.decision or a.status}",
                                          a.decision_reason or "", "appeal"))
    for k, item in enumerate(items):  # audit-trail order first, then the order gathered (a stable sort)
        item.seq = item.seq if item.seq not in (0, _NO_AUDIT) else _NO_AUDIT + k
    items.sort(key=lambda t: (t.at, t.rank, t.seq))
    return items


def _mark_altered_photos(session: Session, store: EvidenceStore, photos: list[EvidencePhoto]) -> None:
    """Check each verified photo's file against its digest now (cached per version of the file): one that
    was replaced or altered since is handed to the screen as failed, with the reason, never as verified.
    The row is detached first, so what the screen is told is never written back."""
    for p in photos:
        if p.integrity != "verified":
            continue
        check = store.check(p.sha256)
        if check.status == "mismatch":
            session.expunge(p)
            p.integrity = "integrity_failed"
            p.integrity_reason = check.reason


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
        notices = list(s.scalars(select(Notice).where(Notice.citation_id == c.id).order_by(Notice.id)))
        lookups = list(s.scalars(select(OwnerLookup).where(OwnerLookup.citation_id == c.id).order_by(OwnerLookup.id)))
        appeals = list(s.scalars(select(Appeal).where(Appeal.citation_id == c.id).order_by(Appeal.id)))
        ids = {e.user_id for e in ledger} | {n.user_id for n in notes} | {h.created_by for h in holds} | {
            lk.user_id for lk in lookups} | {a.created_by for a in appeals} | {a.decided_by for a in appeals}
        ids.discard(None)
        names = {uid: name for uid, name in s.execute(select(User.id, User.username).where(User.id.in_(ids)))} \
            if ids else {}
        profile = profile_store.versions_by_key(s).get((c.profile_code, c.profile_version))
        today = agency_date(s, app.now())
        detail = CaseDetail(c, owner, list(c.photos), ledger, sum(e.amount_cents for e in ledger),
                            notes, holds, history, notices=notices, lookups=lookups, appeals=appeals,
                            profile=profile, usernames=names)
        _mark_altered_photos(s, EvidenceStore(app.paths.evidence_dir), detail.photos)
        if profile is not None:
            tz = ZoneInfo(profile.timezone)
            events: list[Any] = [case_plan.NoticeMailed(n.stage, n.mailed_at.astimezone(tz).date())
                                 for n in notices if n.mailed_at is not None and n.stage
                                 and any(st.key == n.stage for st in profile.stages)]
            events += [case_plan.Hold(h.started_at.astimezone(tz).date(),
                                          h.ended_at.astimezone(tz).date() if h.ended_at else None, h.kind)
                       for h in holds if h.kind != "appeal"]  # an appeal's pause comes from the appeal itself
            # and its decision: after a rejection the next step waits for the law (rejection_floor)
            events += contest_events(s, c, profile)
            try:
                detail.schedule = case_plan.plan_case(profile, c.issued_at, c.fine_cents, events, today)
            except Exception:  # noqa: BLE001 - the panel still shows the case without the calculator's view
                detail.schedule = None
        detail.next_action_text = ladder_rules.describe_next_action(c.next_action, profile)
        detail.stage_text = ladder_rules.stage_name(profile, c.stage)
        detail.timeline = build_timeline(detail)
        return detail


EXPORT_COLUMNS = [
    "citation_number", "device_id", "officer_badge", "issued_at", "plate", "jurisdiction",
    "violation_code", "fine_cents", "status", "evidence_status", "photo_count", "balance_cents",
]


def export_citations(app: AppContext, actor: Actor, out: Path,
                     progress: Callable[[int], None] | None = None, batch: int = 5000) -> int:
    """Write every citation as CSV (to a temporary file, renamed when complete), in constant memory.

    One statement, read ``batch`` rows at a time: on PostgreSQL through a server-side cursor
    (``yield_per`` makes SQLAlchemy open a named cursor: the server keeps the result and hands out a batch
    per fetch), on SQLite from the database file row by row. A case's photo count and balance are
    correlated subqueries (one indexed look-up each), not an aggregate of every photo and ledger entry
    held in memory. The export is a long job: free of a click's statement limit."""
    out = Path(out)
    tmp = out.with_name(out.name + ".partial")
    written = 0
    with app.reader(actor, Permission.EXPORT_DATA, long=True) as uow:
        s = uow.session
        photos = (select(func.count()).select_from(EvidencePhoto)
                  .where(EvidencePhoto.citation_id == Citation.id, EvidencePhoto.integrity == "verified")
                  .scalar_subquery())
        balance = (select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0))
                   .where(LedgerEntry.citation_id == Citation.id).scalar_subquery())
        statement = (select(Citation.citation_number, Citation.device_id, Citation.officer_badge,
                            Citation.issued_at, Citation.plate, Citation.jurisdiction, Citation.violation_code,
                            Citation.fine_cents, Citation.status, Citation.evidence_status, photos, balance)
                     .order_by(Citation.id)
                     .execution_options(yield_per=batch))
        try:
            with tmp.open("w", newline="", encoding="utf-8") as fh:
                w = csv_writer(fh)  # formulas neutralised (issue 14)
                w.writerow(EXPORT_COLUMNS)
                for part in s.execute(statement).partitions():
                    for r in part:
                        w.writerow([r[0], r[1] or "", r[2], r[3].isoformat(), r[4], r[5], r[6], r[7],
                                    r[8], r[9], r[10], r[11]])
                    written += len(part)
                    if progress:
                        progress(written)
            tmp.replace(out)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise UserError(f"Cannot write {out}: {exc.strerror}.") from exc
    return written


def iter_open_case_ids(session: Session) -> Iterator[int]:
    yield from session.scalars(select(Citation.id).where(Citation.status == CaseStatus.OPEN.value))
