"""Parking permits: importing the permit office's list (CSV), searching and editing permits.

A vehicle with a permit valid for the zone at the time of a citation should not have been cited;
the review checks look permits up by plate (``desktop.services.review.checks``).

CSV columns (header row required, any order; ``status`` optional)::

    permit_number,type,holder_name,plates,zones,valid_from,valid_to[,status]
    RPP-A-00017,residential,"GARCIA, MARIA",7ABC123:CA;8XYZ999:CA,Z-CHINATOWN,2026-01-01,2026-12-31,active

* ``plates``: ``PLATE:STATE`` pairs separated by ``;`` (at least one);
* ``zones``: zone codes separated by ``;`` (at least one; each must be a known zone);
* ``valid_from`` / ``valid_to``: a date (``2026-12-31``: valid through that whole day, agency time)
  or a date-time with an offset (``2026-12-31T18:00:00-08:00``: valid until that instant);
* ``status``: ``active`` (default) or ``revoked``.

The import is all or nothing: any bad line rejects the file, with every problem listed by line
number. A permit number already stored is updated from the file.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select

from desktop.domain import plates
from desktop.domain.errors import NotFound, UserError
from desktop.domain.imports import blank_row, cut, header_problems, quoted, row_problem, year_problem
from desktop.domain.roles import Permission
from desktop.domain.text import text_problem
from desktop.persistence.models import Citation, Permit, PermitPlate, Zone
from desktop.services.core import imports
from desktop.services.core.clock import agency_zone
from desktop.services.core.context import Actor, AppContext, UnitOfWork
from desktop.services.review.checks import REVIEWABLE, recheck_citations, recheck_pending

COLUMNS = ("permit_number", "type", "holder_name", "plates", "zones", "valid_from", "valid_to")
OPTIONAL = ("status",)
STATUSES = ("active", "revoked")
MAX_ERRORS = 25


@dataclass(frozen=True)
class PermitInput:
    """A permit as typed or imported, validated."""

    permit_number: str
    type: str
    holder_name: str | None
    plates: tuple[tuple[str, str], ...]
    zones: tuple[str, ...]
    valid_from: datetime
    valid_to: datetime
    """Exclusive."""
    status: str = "active"


@dataclass(frozen=True)
class PermitRow:
    id: int
    permit_number: str
    type: str
    holder_name: str | None
    plates: tuple[tuple[str, str], ...]
    zones: tuple[str, ...]
    valid_from: datetime
    valid_to: datetime
    status: str

    def valid_at(self, moment: datetime) -> bool:
        return self.status == "active" and self.valid_from <= moment < self.valid_to

    @property
    def plates_text(self) -> str:
        return ";".join(f"{p}:{j}" for p, j in self.plates)

    @property
    def zones_text(self) -> str:
        return ";".join(self.zones)


# --------------------------------------------------------------------------- parsing one permit


def parse_plates(text: str) -> tuple[tuple[str, str], ...]:
    """``7ABC123:CA;8XYZ999:CA`` -> (("7ABC123", "CA"), ("8XYZ999", "CA")); ValueError with the reason."""
    out: list[tuple[str, str]] = []
    for part in (text or "").split(";"):
        part = part.strip()
        if not part:
            continue
        plate, sep, state = part.rpartition(":")
        if not sep:
            raise ValueError(f"plate '{part}' has no state (write it as PLATE:STATE, e.g. 7ABC123:CA)")
        plate = plates.normalize_plate(plate)
        state = state.strip().upper()
        if not plates.plate_is_plausible(plate):
            raise ValueError(f"'{part.rpartition(':')[0].strip()}' is not a plate")
        if not (2 <= len(state) <= 3 and state.isalpha()):
            raise ValueError(f"'{state}' is not a plate state (two or three letters)")
        if (plate, state) not in out:
            out.append((plate, state))
    if not out:
        raise ValueError("no plates (write PLATE:STATE pairs separated by ';')")
    return tuple(out)


def parse_zone_list(text: str) -> tuple[str, ...]:
    zones = tuple(dict.fromkeys(z.strip() for z in (text or "").split(";") if z.strip()))
    if not zones:
        raise ValueError("no zones (write zone codes separated by ';')")
    return zones


def parse_when(text: str, tz: ZoneInfo, *, end: bool) -> datetime:
    """A date (start of day, or for an end: the start of the next day) or a date-time with an offset."""
    raw = (text or "").strip()
    if not raw:
        raise ValueError("is empty")
    day: date | None = None
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
        else:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{quoted(raw)} is not a date (YYYY-MM-DD) or a date-time with an offset") from None
    problem = year_problem(day if day is not None else moment.date())
    if problem:  # far dates are slips, and a day after 9999-12-31 would overflow
        raise ValueError(problem)
    if day is not None:
        return datetime.combine(day + timedelta(days=1) if end else day, time.min, tzinfo=tz)
    if moment.tzinfo is None:
        raise ValueError(f"{quoted(raw)} has no UTC offset (write e.g. 2026-12-31T18:00:00-08:00, or just the date)")
    return moment


def build_permit(values: dict[str, str], tz: ZoneInfo) -> PermitInput:
    """Validate one permit's fields; ValueError naming the field and the problem."""
    for field_name, value in values.items():
        problem = text_problem(value) if isinstance(value, str) else None
        if problem is not None:
            raise ValueError(f"{field_name} {problem}")
    number = (values.get("permit_number") or "").strip()
    if not number:
        raise ValueError("permit_number is empty")
    if len(number) > 64:
        raise ValueError("permit_number is longer than 64 characters")
    kind = (values.get("type") or "").strip().lower()
    if not kind:
        raise ValueError("type is empty (e.g. residential, business, visitor, disabled)")
    if len(kind) > 64:
        raise ValueError("type is longer than 64 characters")
    holder = " ".join((values.get("holder_name") or "").split()) or None
    if holder and len(holder) > 200:
        raise ValueError("holder_name is longer than 200 characters")
    try:
        plate_list = parse_plates(values.get("plates") or "")
    except ValueError as exc:
        raise ValueError(f"plates: {exc}") from None
    try:
        zone_list = parse_zone_list(values.get("zones") or "")
    except ValueError as exc:
        raise ValueError(f"zones: {exc}") from None
    try:
        start = parse_when(values.get("valid_from") or "", tz, end=False)
    except ValueError as exc:
        raise ValueError(f"valid_from {exc}") from None
    try:
        finish = parse_when(values.get("valid_to") or "", tz, end=True)
    except ValueError as exc:
        raise ValueError(f"valid_to {exc}") from None
    if finish <= start:
        raise ValueError("valid_to is not after valid_from")
    status = (values.get("status") or "active").strip().lower() or "active"
    if status not in STATUSES:
        raise ValueError(f"status '{status}' is not one of {', '.join(STATUSES)}")
    return PermitInput(number, kind, holder, plate_list, zone_list, start, finish, status)


def parse_permits_csv(text: str, tz: ZoneInfo, known_zones: set[str] | None = None) -> list[PermitInput]:
    """Every permit of the file, or ``UserError`` listing every bad line (by line number)."""
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise UserError("The permit file is empty.")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except csv.Error as exc:
        raise UserError(f"Line 1: the header is not readable CSV ({cut(exc, 80)}).") from None
    missing = [c for c in COLUMNS if c not in header]
    unknown = [h for h in header if h not in COLUMNS + OPTIONAL]
    if missing or unknown:
        parts = [p for p in header_problems(header, COLUMNS, COLUMNS + OPTIONAL) if not p.endswith(" repeat")]
        raise UserError(cut(f"Line 1: {'; '.join(parts)}. The columns are {','.join(COLUMNS)} (and optionally status).",
                            400))
    if len(set(header)) != len(header):
        raise UserError(cut(f"Line 1: a column name repeats ({'; '.join(header_problems(header, COLUMNS))})."))
    errors: list[str] = []
    permits: list[PermitInput] = []
    first_line: dict[str, int] = {}
    try:
        for row in reader:
            line = reader.line_num
            if blank_row(row):
                continue
            shape = row_problem(header, row)
            if shape:
                errors.append(f"line {line}: {shape}")
                continue
            try:
                permit = build_permit(dict(zip(header, row, strict=True)), tz)
            except ValueError as exc:
                errors.append(cut(f"line {line}: {exc}"))
                continue
            if permit.permit_number in first_line:
                errors.append(f"line {line}: permit {permit.permit_number} repeats (first on line "
                              f"{first_line[permit.permit_number]})")
                continue
            if known_zones is not None:
                unknown_zones = [z for z in permit.zones if z not in known_zones]
                if unknown_zones:
                    errors.append(f"line {line}: zone(s) {', '.join(unknown_zones)} not known "
                                  "(import the zones first, or check the spelling)")
                    continue
            first_line[permit.permit_number] = line
            permits.append(permit)
            if len(errors) >= MAX_ERRORS:
                break
    except csv.Error as exc:
        errors.append(f"line {reader.line_num}: not readable CSV ({cut(exc, 80)})")
    if errors:
        shown = [cut(e) for e in errors[:10]]
        more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
        raise UserError(f"The permit file was not imported; nothing was stored. {len(errors)} problem(s): "
                        + "; ".join(shown) + more + ".")
    if not permits:
        raise UserError("The permit file has a header but no permits.")
    return permits


# --------------------------------------------------------------------------- storing


def _apply(uow: UnitOfWork, row: Permit, p: PermitInput) -> None:
    row.type = p.type
    row.holder_name = p.holder_name
    row.zones = list(p.zones)
    row.valid_from = p.valid_from
    row.valid_to = p.valid_to
    row.status = p.status
    wanted = set(p.plates)
    for pp in list(row.plates):
        if (pp.plate, pp.jurisdiction) not in wanted:
            row.plates.remove(pp)
    have = {(pp.plate, pp.jurisdiction) for pp in row.plates}
    for plate, state in p.plates:
        if (plate, state) not in have:
            row.plates.append(PermitPlate(plate=plate, jurisdiction=state))


def _snapshot(p: Permit | PermitInput) -> dict[str, Any]:
    plate_pairs = ([f"{pp.plate}:{pp.jurisdiction}" for pp in p.plates] if isinstance(p, Permit)
                   else [f"{a}:{b}" for a, b in p.plates])
    return {"type": p.type, "holder_name": p.holder_name, "plates": plate_pairs, "zones": list(p.zones),
            "valid_from": p.valid_from.isoformat(), "valid_to": p.valid_to.isoformat(), "status": p.status}


@dataclass(frozen=True)
class PermitImportResult:
    permits: int
    added: int
    updated: int
    rechecked: int


def import_permits(app: AppContext, actor: Actor, path: Path) -> PermitImportResult:
    """Import the permit office's CSV (columns in this module's docstring); all or nothing."""
    with app.reader(actor, Permission.MANAGE_PERMITS) as reading:  # refuse before reading the file
        limit = imports.max_bytes(reading.session)
    text = imports.read_text(path, limit, "permit list (CSV)")
    added = updated = 0
    with app.uow(actor, Permission.MANAGE_PERMITS) as uow:
        s = uow.session
        known = set(s.scalars(select(Zone.code)))
        permits = parse_permits_csv(text, agency_zone(s), known)
        existing = {p.permit_number: p for p in s.scalars(
            select(Permit).where(Permit.permit_number.in_([p.permit_number for p in permits])))}
        for p in permits:
            row = existing.get(p.permit_number)
            if row is None:
                row = Permit(permit_number=p.permit_number, type=p.type, zones=[], valid_from=p.valid_from,
                             valid_to=p.valid_to, status=p.status)
                s.add(row)
                added += 1
            else:
                updated += 1
            _apply(uow, row, p)
        uow.audit("permits.imported", "permit", Path(path).name[:100],
                  after={"permits": len(permits), "added": added, "updated": updated},
                  reason=f"import permits {Path(path).name}")
        uow.commit()
    rechecked = recheck_pending(app)
    return PermitImportResult(len(permits), added, updated, rechecked)


def _row(p: Permit) -> PermitRow:
    return PermitRow(p.id, p.permit_number, p.type, p.holder_name,
                     tuple((pp.plate, pp.jurisdiction) for pp in p.plates), tuple(str(z) for z in p.zones or ()),
                     p.valid_from, p.valid_to, p.status)


def search_permits(app: AppContext, actor: Actor, text: str = "", *, valid_only: bool = False,
                   limit: int = 500) -> list[PermitRow]:
    """Permits by number, plate (also one look-alike character off) or holder name; newest first."""
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        q = select(Permit)
        raw = text.strip()
        if raw:
            plate = plates.normalize_plate(raw)
            candidates = [plate, *plates.confusable_variants(plate)]
            plate_ids = select(PermitPlate.permit_id).where(PermitPlate.plate.in_(candidates))
            clauses = [Permit.permit_number.startswith(raw.upper(), autoescape=True),
                       Permit.permit_number == raw, Permit.id.in_(plate_ids),
                       func.upper(Permit.holder_name).contains(raw.upper(), autoescape=True)]
            q = q.where(or_(*clauses))
        if valid_only:
            now = app.now()
            q = q.where(Permit.status == "active", Permit.valid_from <= now, Permit.valid_to > now)
        q = q.order_by(Permit.valid_from.desc(), Permit.permit_number).limit(limit)
        return [_row(p) for p in uow.session.scalars(q)]


def get_permit(app: AppContext, actor: Actor, permit_id: int) -> PermitRow:
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        p = uow.session.get(Permit, permit_id)
        if p is None:
            raise NotFound(f"Permit {permit_id} does not exist.")
        return _row(p)


def save_permit(app: AppContext, actor: Actor, values: dict[str, str], permit_id: int | None = None,
                reason: str = "") -> int:
    """Add a permit (``permit_id`` None) or change one; the same validation as the import.

    ``values`` holds the CSV columns as text (dates as YYYY-MM-DD are whole days, valid_to inclusive).
    """
    with app.uow(actor, Permission.MANAGE_PERMITS) as uow:
        s = uow.session
        try:
            permit = build_permit(values, agency_zone(s))
        except ValueError as exc:
            raise UserError(cut(f"The permit was not saved: {exc}.")) from None
        known = set(s.scalars(select(Zone.code)))
        unknown_zones = [z for z in permit.zones if z not in known]
        if unknown_zones:
            raise UserError(f"The permit was not saved: zone(s) {', '.join(unknown_zones)} not known.")
        clash = s.scalar(select(Permit.id).where(Permit.permit_number == permit.permit_number))
        affected_plates = {p for p, _s in permit.plates}
        if permit_id is None:
            if clash is not None:
                raise UserError(f"Permit {permit.permit_number} already exists; search for it and edit it.")
            row = Permit(permit_number=permit.permit_number, type=permit.type, zones=[],
                         valid_from=permit.valid_from, valid_to=permit.valid_to, status=permit.status)
            s.add(row)
            _apply(uow, row, permit)
            s.flush()
            uow.audit("permit.added", "permit", row.id, after=_snapshot(permit), reason=reason or None)
        else:
            row_or_none = s.get(Permit, permit_id)
            if row_or_none is None:
                raise NotFound(f"Permit {permit_id} does not exist.")
            row = row_or_none
            if clash is not None and clash != row.id:
                raise UserError(f"Another permit already has the number {permit.permit_number}.")
            if not reason.strip():
                raise UserError("Say why the permit is changed (for example 'renewed for 2027').")
            before = _snapshot(row)
            affected_plates |= {pp.plate for pp in row.plates}
            row.permit_number = permit.permit_number
            _apply(uow, row, permit)
            s.flush()
            uow.audit("permit.changed", "permit", row.id, before=before, after=_snapshot(permit), reason=reason)
        _recheck_plates(uow, affected_plates)
        uow.commit()
        return row.id


def _recheck_plates(uow: UnitOfWork, plate_values: set[str]) -> None:
    """Citations in review for these plates: their permit check may have changed."""
    if not plate_values:
        return
    ids = list(uow.session.scalars(select(Citation.id).where(
        Citation.plate.in_(plate_values), Citation.status.in_(REVIEWABLE))))
    if ids:
        recheck_citations(uow, ids)


def permit_types(app: AppContext, actor: Actor) -> list[str]:
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        return sorted(set(uow.session.scalars(select(Permit.type).distinct())) | {"residential", "business", "visitor"})
