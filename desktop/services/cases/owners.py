"""Registered owners: registry responses imported from CSV, the owner of a case on its violation date,
manual entry and correction, and the clerk's lists of addresses that cannot be mailed.

Every lookup records its purpose (US Driver's Privacy Protection Act, 18 U.S.C. 2721) in
``owner_lookups``. Addresses are standardised the USPS way (``desktop.domain.addresses``);
those that cannot be read are kept as received, flagged ``unparsed`` with the reason, and
their notices are held until a clerk fixes them.

The import file (``main.py import owners FILE``) is CSV with a header row:

``plate,jurisdiction,owner_name,address,vehicle_make,vehicle_model,vehicle_year,vin,valid_from,valid_to``
(and optionally ``zip4,delivery_point``)

``plate``, ``jurisdiction``, ``owner_name``, ``address`` and ``valid_from`` are required; dates are
``YYYY-MM-DD`` (or ``MM/DD/YYYY``); an empty ``valid_to`` means "still registered". ``zip4`` (four digits)
and ``delivery_point`` (two digits) are what a CASS-certified address service returns for a US address;
with both, the notice's Intelligent Mail barcode carries the 11-digit routing code (``desktop.domain.postal``).
A ZIP+4 written in the address itself counts too; a ``zip4`` that contradicts it, or a delivery point without
a ZIP+4, is refused by line. The file is taken all or nothing: one bad line and nothing is written, with
every problem listed by line number.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select

from desktop.domain import postal
from desktop.domain import text as widths
from desktop.domain.addresses import AddressProblem, standardize
from desktop.domain.errors import NotFound, UserError
from desktop.domain.imports import MAX_FIELD_CHARS, blank_row, cut, header_problems, quoted, year_problem
from desktop.domain.plates import normalize_plate, plate_is_plausible
from desktop.domain.roles import Permission
from desktop.domain.text import clean_text, text_problem
from desktop.persistence.models import Citation, Notice, OwnerLookup, RegisteredOwner
from desktop.services.admin import profiles as profile_store
from desktop.services.cases import escalation, schedule
from desktop.services.core import imports
from desktop.services.core.context import Actor, AppContext, UnitOfWork
from desktop.services.core.imports import decode_text
from desktop.services.core.sqltext import Sql

COLUMNS = ("plate", "jurisdiction", "owner_name", "address", "vehicle_make", "vehicle_model", "vehicle_year",
           "vin", "valid_from", "valid_to", "zip4", "delivery_point")
#: the columns an error about the header names (the two postal ones are optional and documented above)
_NAMED = ", ".join(COLUMNS[:10])
#: the widths of the free-text columns a row fills (``RegisteredOwner``)
_WIDTHS = {"owner_name": widths.NAME, "address": widths.ADDRESS, "vehicle_make": 32, "vehicle_model": 64,
           "plate": 64, "jurisdiction": 8, "vin": 64, "vehicle_year": 16, "valid_from": 64, "valid_to": 64}
REQUIRED = ("plate", "jurisdiction", "owner_name", "address", "valid_from")

#: Permissible purposes a clerk picks from (18 U.S.C. 2721(b)). The daily run records its own
#: (``escalation.NOTICE_PURPOSE``); an automatic job may not record a clerk's (`CLERK_ONLY_PURPOSES`).
PURPOSES = (
    "notice of violation to the registered owner (18 U.S.C. 2721(b)(4))",
    "clerk enquiry on a citation (18 U.S.C. 2721(b)(4))",
    "use by a government agency in carrying out its functions (18 U.S.C. 2721(b)(1))",
    "service of process / appeal correspondence (18 U.S.C. 2721(b)(4))",
)
CLERK_ONLY_PURPOSES = frozenset(p for p in PURPOSES if p.startswith("clerk enquiry"))
MAX_ERRORS_SHOWN = 12

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class OwnerRow:
    line: int
    plate: str
    jurisdiction: str
    name: str
    address: str
    make: str | None
    model: str | None
    year: int | None
    vin: str | None
    valid_from: date
    valid_to: date | None
    zip4: str | None = None
    delivery_point: str | None = None


@dataclass
class ImportResult:
    rows: int
    added: int
    updated: int
    closed: int
    unparsed: int
    file: str

    def message(self) -> str:
        return (f"{self.rows:,} registry rows read from {self.file}: {self.added:,} owners added, "
                f"{self.updated:,} updated, {self.closed:,} earlier registrations closed; "
                f"{self.unparsed:,} addresses could not be read and wait for a clerk.")


def _date(text: str, column: str, line: int, errors: list[str]) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        if "/" in text:
            month, day, year = (int(p) for p in text.split("/"))
            value = date(year, month, day)
        else:
            value = date.fromisoformat(text)
    except ValueError:
        errors.append(f"line {line}: {column} {quoted(text)} is not a date (YYYY-MM-DD).")
        return None
    problem = year_problem(value)
    if problem:
        errors.append(f"line {line}: {column} {problem}.")
        return None
    return value


#: the longest value each column may hold (the registry's columns; a longer one is refused by line)
FIELD_LIMITS = {"plate": 16, "jurisdiction": 8, "owner_name": 200, "address": 500, "vehicle_make": 32,
                "vehicle_model": 64, "vehicle_year": 8, "vin": 32, "valid_from": 20, "valid_to": 20, "zip4": 10,
                "delivery_point": 10}


def parse_owner_csv(data: bytes, name: str = "file") -> list[OwnerRow]:
    """Read and check every line; ``UserError`` lists the problems by line number."""
    name = cut(name, 80)
    content = decode_text(data, name, "registry file (CSV)")
    reader = csv.reader(io.StringIO(content, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader, [])]
    except csv.Error as exc:
        raise UserError(f"{name}: line 1, the header, is not readable CSV ({cut(exc, 80)}).") from None
    if not header:
        raise UserError(f"{name} is empty: expected a header row with {', '.join(COLUMNS)}.")
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise UserError(f"{name}: the header lacks {', '.join(missing)} (columns: {_NAMED}).")
    problems = header_problems(header, REQUIRED)
    if problems:
        raise UserError(cut(f"{name}: line 1, the header: {'; '.join(problems)} (columns: {_NAMED})."))
    rows: list[OwnerRow] = []
    errors: list[str] = []
    this_year = date.today().year
    seen: dict[tuple[str, str, date], int] = {}
    while True:
        try:
            cells = next(reader, None)
        except csv.Error as exc:
            errors.append(f"line {reader.line_num}: not readable CSV ({cut(exc, 80)}).")
            break
        if cells is None:
            break
        line = reader.line_num
        if blank_row(cells):
            continue
        if len(cells) != len(header):
            errors.append(f"line {line}: {len(cells)} fields, the header has {len(header)}.")
            continue
        get = {k: v.strip() for k, v in zip(header, cells, strict=True)}
        too_long = [c for c, v in get.items() if len(v) > FIELD_LIMITS.get(c, MAX_FIELD_CHARS)]
        if too_long:
            errors.append(f"line {line}: " + ", ".join(
                f"{cut(c, 40)} is longer than {FIELD_LIMITS.get(c, MAX_FIELD_CHARS)} characters" for c in too_long[:3])
                + ".")
            continue
        before = len(errors)
        for column, width in _WIDTHS.items():  # what would not fit its column (or PostgreSQL) at all
            problem = text_problem(get.get(column, ""), width)
            if problem is not None:
                errors.append(f"line {line}: {column} {problem}.")
                get[column] = ""
        if len(errors) > before:
            continue
        plate = normalize_plate(get.get("plate", ""))
        if not plate or not plate_is_plausible(plate):
            errors.append(f"line {line}: plate {quoted(get.get('plate', ''))} is not a licence plate.")
        jur = get.get("jurisdiction", "").upper()
        if not (2 <= len(jur) <= 3 and jur.isalpha()):
            errors.append(f"line {line}: jurisdiction {quoted(jur)} must be a 2- or 3-letter state or country code.")
        owner = " ".join(get.get("owner_name", "").split())
        if not owner:
            errors.append(f"line {line}: owner_name is empty.")
        address = " ".join(get.get("address", "").split())
        if not address:
            errors.append(f"line {line}: address is empty.")
        year: int | None = None
        if get.get("vehicle_year"):
            try:
                year = int(get["vehicle_year"])
                if not 1900 <= year <= this_year + 2:
                    raise ValueError
            except ValueError:
                errors.append(f"line {line}: vehicle_year {quoted(get['vehicle_year'])} is not a model year.")
        vin = get.get("vin", "").upper().replace(" ", "") or None
        if vin and not (5 <= len(vin) <= 17 and vin.isalnum()):
            errors.append(f"line {line}: vin {quoted(vin)} is not a vehicle identification number.")
        valid_from = _date(get.get("valid_from", ""), "valid_from", line, errors)
        if valid_from is None and not any("valid_from" in e for e in errors[before:]):
            errors.append(f"line {line}: valid_from is empty.")
        valid_to = _date(get.get("valid_to", ""), "valid_to", line, errors)
        if valid_from and valid_to and valid_to < valid_from:
            errors.append(f"line {line}: valid_to {valid_to} is before valid_from {valid_from}.")
        zip4, delivery_point = _postal_columns(get, address, line, errors)
        if len(errors) > before or valid_from is None:
            continue
        key = (plate, jur, valid_from)
        if key in seen:
            errors.append(f"line {line}: repeats the registration of {plate} ({jur}) from {valid_from} on line {seen[key]}.")
            continue
        seen[key] = line
        rows.append(OwnerRow(line, plate, jur, owner, address, get.get("vehicle_make") or None,
                             get.get("vehicle_model") or None, year, vin, valid_from, valid_to, zip4, delivery_point))
    by_plate: dict[tuple[str, str], list[OwnerRow]] = {}
    for r in rows:
        by_plate.setdefault((r.plate, r.jurisdiction), []).append(r)
    for (plate, jur), regs in by_plate.items():
        regs.sort(key=lambda r: r.valid_from)
        for a, b in itertools.pairwise(regs):
            if a.valid_to is None or a.valid_to >= b.valid_from:
                errors.append(f"line {b.line}: the registration of {plate} ({jur}) from {b.valid_from} overlaps "
                              f"line {a.line} (close line {a.line} with valid_to before {b.valid_from}).")
    if errors:
        shown = [cut(e) for e in errors[:MAX_ERRORS_SHOWN]]
        more = f" … and {len(errors) - len(shown)} more" if len(errors) > len(shown) else ""
        raise UserError(f"{name}: nothing imported, {len(errors)} problem(s): " + " ".join(shown) + more)
    if not rows:
        raise UserError(f"{name} has a header but no registry rows.")
    return rows


def _postal_columns(get: dict[str, str], address: str, line: int, errors: list[str]) -> tuple[str | None, str | None]:
    """The row's ZIP+4 add-on and delivery point, checked against each other and the address (USPS-B-3200:
    a delivery point is part of the routing code only after a ZIP+4)."""
    zip4 = get.get("zip4", "").replace("-", "").strip() or None
    dp = get.get("delivery_point", "").strip() or None
    if zip4 is not None and (problem := postal.zip4_problem(zip4)):
        errors.append(f"line {line}: zip4 {problem}.")
        return None, None
    if dp is not None and (problem := postal.delivery_point_problem(dp)):
        errors.append(f"line {line}: delivery_point {problem}.")
        return None, None
    written = standardize(address) if (zip4 or dp) and address else None
    in_address = written.zip4 if written is not None and not isinstance(written, AddressProblem) else None
    if zip4 and in_address and zip4 != in_address:
        errors.append(f"line {line}: zip4 {zip4} contradicts the ZIP+4 {in_address} written in the address.")
        return None, None
    if dp and not (zip4 or in_address):
        errors.append(f"line {line}: delivery_point {dp} needs a ZIP+4 (give zip4, or the ZIP+4 in the address).")
        return None, None
    return zip4, dp


def address_fields(raw: str, zip4: str | None = None, delivery_point: str | None = None) -> dict[str, Any]:
    """The standardised address columns of an owner, or the flag and the reason a clerk must fix it. A ZIP+4
    and delivery point the registry gave in their own columns complete the ZIP (the routing code)."""
    result = standardize(raw)
    if isinstance(result, AddressProblem):
        return {"address_raw": raw, "address_line1": None, "address_line2": None, "city": None, "state": None,
                "zip": None, "delivery_point": None, "address_status": "unparsed", "address_problem": result.reason}
    plus4 = result.zip4 or zip4
    return {"address_raw": raw, "address_line1": result.delivery_line, "address_line2": None, "city": result.city,
            "state": result.state, "zip": f"{result.zip5}-{plus4}" if plus4 else result.zip5,
            "delivery_point": delivery_point if plus4 else None, "address_status": "ok", "address_problem": None}


def import_owners(app: AppContext, actor: Actor, path: Path, progress: Progress | None = None) -> ImportResult:
    """Import a registry response file (all or nothing)."""
    path = Path(path)
    with app.reader(actor, Permission.IMPORT_DATA) as reading:
        limit = imports.max_bytes(reading.session)
    data = imports.read_limited(path, limit)
    rows = parse_owner_csv(data, path.name)
    digest = hashlib.sha256(data).hexdigest()
    source = f"import {path.name}"[:100]
    now = app.now()
    added = updated = closed = unparsed = 0
    with app.uow(actor, Permission.IMPORT_DATA) as uow:
        s = uow.session
        for i, r in enumerate(rows):
            fields = address_fields(r.address, r.zip4, r.delivery_point)
            unparsed += fields["address_status"] != "ok"
            values = dict(name=r.name, name_key=r.name.upper(), vehicle_make=r.make, vehicle_model=r.model,
                          vehicle_year=r.year, vin=r.vin, valid_to=r.valid_to, **fields)
            existing = s.scalar(select(RegisteredOwner).where(
                RegisteredOwner.plate == r.plate, RegisteredOwner.jurisdiction == r.jurisdiction,
                RegisteredOwner.valid_from == r.valid_from))
            if existing is not None:
                for k, v in values.items():
                    setattr(existing, k, v)
                existing.source, existing.imported_at = source, now
                updated += 1
            else:
                # A newer registration ends the open-ended earlier one (the vehicle changed hands).
                for earlier in s.scalars(select(RegisteredOwner).where(
                        RegisteredOwner.plate == r.plate, RegisteredOwner.jurisdiction == r.jurisdiction,
                        RegisteredOwner.valid_from < r.valid_from, RegisteredOwner.valid_to.is_(None))):
                    earlier.valid_to = r.valid_from - timedelta(days=1)
                    closed += 1
                s.add(RegisteredOwner(plate=r.plate, jurisdiction=r.jurisdiction, valid_from=r.valid_from,
                                      source=source, imported_at=now, **values))
                added += 1
            if i % 500 == 0:
                s.flush()
                if progress:
                    progress(i, len(rows))
        uow.audit("owners.imported", "import", digest[:16],
                  after={"file": path.name, "sha256": digest, "rows": len(rows), "added": added, "updated": updated,
                         "closed": closed, "unparsed": unparsed})
        uow.commit()
    if progress:
        progress(len(rows), len(rows))
    return ImportResult(len(rows), added, updated, closed, unparsed, path.name)


# --------------------------------------------------------------------------- the owner of a case


def violation_date(session: Any, case: Citation) -> date:
    """The date of the violation on the local calendar of the case's profile."""
    profile = profile_store.versions_by_key(session).get((case.profile_code, case.profile_version))
    tz = profile.timezone if profile is not None else "America/Los_Angeles"
    return case.issued_at.astimezone(ZoneInfo(tz)).date()


def owner_on(session: Any, plate: str, jurisdiction: str, on: date) -> RegisteredOwner | None:
    """The owner registered on ``on`` (never a former or later owner)."""
    found: RegisteredOwner | None = session.scalars(
        select(RegisteredOwner)
        .where(RegisteredOwner.plate == plate, RegisteredOwner.jurisdiction == jurisdiction,
               RegisteredOwner.valid_from <= on,
               or_(RegisteredOwner.valid_to.is_(None), RegisteredOwner.valid_to >= on))
        .order_by(RegisteredOwner.valid_from.desc(), RegisteredOwner.id.desc()).limit(1)).first()
    return found


def _record_lookup(uow: UnitOfWork, case: Citation, purpose: str, owner: RegisteredOwner | None) -> None:
    uow.session.add(OwnerLookup(citation_id=case.id, plate=case.plate, purpose=purpose, user_id=uow.actor.user_id,
                                at=uow.app.now(), owner_id=owner.id if owner else None))


def lookup_owner(app: AppContext, actor: Actor, citation_id: int, purpose: str) -> RegisteredOwner | None:
    """Find the owner registered on the violation date and set it on the case; the lookup is recorded."""
    if not purpose.strip():
        raise UserError("Give the purpose of the lookup (the Driver's Privacy Protection Act requires one).")
    with app.uow(actor, Permission.LOOKUP_OWNERS) as uow:
        s = uow.session
        case = s.get(Citation, citation_id)
        if case is None:
            raise NotFound(f"Case {citation_id} does not exist.")
        on = violation_date(s, case)
        owner = owner_on(s, case.plate, case.jurisdiction, on)
        _record_lookup(uow, case, purpose.strip(), owner)
        if owner is not None and owner.id != case.owner_id:
            before = case.owner_id
            case.owner_id = owner.id
            uow.audit("owner.assigned", "citation", case.id, before={"owner_id": before},
                      after={"owner_id": owner.id, "name": owner.name, "registered_on": on}, reason=purpose.strip())
            s.flush()
            schedule.owner_changed(uow, case)
        elif owner is None:
            uow.audit("owner.not_found", "citation", case.id,
                      after={"plate": case.plate, "jurisdiction": case.jurisdiction, "on": on}, reason=purpose.strip())
        uow.commit()
        return owner


def assign_owners(app: AppContext, actor: Actor, purpose: str = escalation.NOTICE_PURPOSE,
                  only_missing: bool = True,
                  statuses: Sequence[str] | None = schedule.MUST_HAVE_NEXT_ACTION) -> int:
    """Set-based: the owner on the violation date for every case in ``statuses`` (default: the open
    ones; None: all), those without one or all of them, each lookup recorded with its purpose.
    Returns how many cases got an owner or a different one. An automatic job (the system account) cannot
    record a clerk's enquiry as its purpose: the lookup log must say what really asked."""
    if actor.is_system and purpose in CLERK_ONLY_PURPOSES:
        raise UserError(f"An automatic lookup by {actor.username} cannot be recorded as \"{purpose}\": name the "
                        f"job's own purpose (e.g. \"{escalation.NOTICE_PURPOSE}\").")
    with app.uow(actor, Permission.LOOKUP_OWNERS) as uow:
        sql = Sql(uow.session)
        sql.temp_tables()
        changed = 0
        for v in profile_store.all_versions(uow.session):
            issue = sql.local_date("c.issued_at", v.profile.timezone)
            match = (f"(SELECT o.id FROM registered_owners o WHERE o.plate = c.plate AND o.jurisdiction = c.jurisdiction "
                     f"AND o.valid_from <= {issue} AND (o.valid_to IS NULL OR o.valid_to >= {issue}) "
                     f"ORDER BY o.valid_from DESC, o.id DESC LIMIT 1)")
            missing = "AND c.owner_id IS NULL" if only_missing else ""
            status_clause = f"c.status IN {sql.in_list(statuses)} AND" if statuses else ""
            sql.run("DELETE FROM esc_batch")
            sql.run(f"""INSERT INTO esc_batch (id, owner_id) SELECT c.id, {match} FROM citations c
                        WHERE {status_clause} c.profile_code = :code
                          AND c.profile_version = :v {missing}""", code=v.code, v=v.version)
            sql.run("""INSERT INTO owner_lookups (citation_id, plate, purpose, user_id, at, owner_id)
                       SELECT c.id, c.plate, :purpose, :uid, :now, b.owner_id
                       FROM esc_batch b JOIN citations c ON c.id = b.id""",
                    purpose=purpose, uid=actor.user_id, now=app.now())
            changed += sql.run(f"""
                UPDATE citations SET owner_id = b.owner_id, version = citations.version + 1
                FROM esc_batch b WHERE citations.id = b.id AND b.owner_id IS NOT NULL
                  AND {sql.distinct('citations.owner_id', 'b.owner_id')}""")
        uow.audit("owners.assigned", "citation", "bulk", after={"cases": changed}, reason=purpose)
        uow.commit()
        return changed


def enter_owner(app: AppContext, actor: Actor, citation_id: int, name: str, address: str, *, reason: str,
                make: str | None = None, model: str | None = None, year: int | None = None,
                vin: str | None = None) -> RegisteredOwner:
    """A clerk enters (or corrects) the owner of one case by hand, e.g. from a registry letter; audited.

    The record asserts ownership on the violation date only, so it never becomes the owner of
    another case by accident."""
    name = clean_text(" ".join(name.split()), "The owner's name", widths.NAME)
    address = clean_text(" ".join(address.split()), "The mailing address", widths.ADDRESS)
    if not name or not address:
        raise UserError("Enter the owner's name and mailing address.")
    if not reason.strip():
        raise UserError("Say where the owner details come from (it goes into the audit trail).")
    clean_text(reason, "Where the owner details come from", 180)  # kept in the lookup record's purpose
    clean_text(make, "The vehicle make", 32)
    clean_text(model, "The vehicle model", 64)
    clean_text(vin, "The VIN", 32)
    with app.uow(actor, Permission.EDIT_CASES) as uow:
        s = uow.session
        case = s.get(Citation, citation_id)
        if case is None:
            raise NotFound(f"Case {citation_id} does not exist.")
        on = violation_date(s, case)
        fields = address_fields(address)
        owner = RegisteredOwner(plate=case.plate, jurisdiction=case.jurisdiction, name=name, name_key=name.upper(),
                                vehicle_make=make or None, vehicle_model=model or None, vehicle_year=year,
                                vin=(vin or "").upper() or None, valid_from=on, valid_to=on,
                                source=f"manual entry by {actor.username}", imported_at=app.now(), **fields)
        s.add(owner)
        s.flush()
        before = case.owner_id
        case.owner_id = owner.id
        _record_lookup(uow, case, "manual owner entry: " + reason.strip(), owner)
        uow.audit("owner.entered", "citation", case.id, before={"owner_id": before},
                  after={"owner_id": owner.id, "name": name, "address": address,
                         "address_status": fields["address_status"]}, reason=reason.strip())
        s.flush()
        schedule.owner_changed(uow, case)
        uow.commit()
        return owner


def correct_address(app: AppContext, actor: Actor, owner_id: int, address: str, reason: str) -> RegisteredOwner:
    """Fix an owner's address (flagged, or mail came back); every open case of that owner is updated
    and its held notices go out to the corrected address."""
    address = clean_text(" ".join(address.split()), "The mailing address", widths.ADDRESS)
    if not address:
        raise UserError("Enter the corrected mailing address.")
    if not reason.strip():
        raise UserError("Say why the address changes (it goes into the audit trail).")
    clean_text(reason, "The reason", widths.REASON)
    with app.uow(actor, Permission.EDIT_CASES) as uow:
        s = uow.session
        owner = s.get(RegisteredOwner, owner_id)
        if owner is None:
            raise NotFound(f"Owner {owner_id} does not exist.")
        before = {"address": owner.address_raw, "status": owner.address_status, "problem": owner.address_problem}
        for key, value in address_fields(address).items():
            setattr(owner, key, value)
        s.flush()
        uow.audit("owner.address_corrected", "owner", owner.id, before=before,
                  after={"address": owner.address_raw, "status": owner.address_status,
                         "problem": owner.address_problem}, reason=reason.strip())
        for case in s.scalars(select(Citation).where(Citation.owner_id == owner.id,
                                                     Citation.status.in_(schedule.MUST_HAVE_NEXT_ACTION))):
            released = schedule.owner_changed(uow, case)
            uow.audit("owner.address_corrected", "citation", case.id,
                      after={"owner_id": owner.id, "notices_released": released}, reason=reason.strip())
        uow.commit()
        return owner


# --------------------------------------------------------------------------- clerk's lists


@dataclass(frozen=True)
class FlaggedOwner:
    owner_id: int
    name: str
    address_raw: str
    status: str
    problem: str | None
    open_cases: int
    held_notices: int


def flagged_addresses(app: AppContext, actor: Actor, limit: int = 500) -> list[FlaggedOwner]:
    """Owners whose address cannot be mailed and who own at least one open case: a clerk fixes them."""
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        s = uow.session
        held = (select(Notice.owner_id, func.count().label("n")).where(Notice.status == "held")
                .group_by(Notice.owner_id).subquery())
        q = (select(RegisteredOwner.id, RegisteredOwner.name, RegisteredOwner.address_raw,
                    RegisteredOwner.address_status, RegisteredOwner.address_problem, func.count(Citation.id),
                    func.coalesce(func.max(held.c.n), 0))
             .join(Citation, and_(Citation.owner_id == RegisteredOwner.id,
                                  Citation.status.in_(schedule.MUST_HAVE_NEXT_ACTION)))
             .outerjoin(held, held.c.owner_id == RegisteredOwner.id)
             .where(RegisteredOwner.address_status != "ok")
             .group_by(RegisteredOwner.id, RegisteredOwner.name, RegisteredOwner.address_raw,
                       RegisteredOwner.address_status, RegisteredOwner.address_problem)
             .order_by(RegisteredOwner.name).limit(limit))
        return [FlaggedOwner(int(r[0]), r[1], r[2], r[3], r[4], int(r[5]), int(r[6])) for r in s.execute(q)]


@dataclass(frozen=True)
class HeldNotice:
    notice_id: int
    citation_id: int
    citation_number: str
    kind: str
    queued_at: datetime
    reason: str | None


def held_notices(app: AppContext, actor: Actor, limit: int = 500) -> list[HeldNotice]:
    """Notices the escalation could not send (no owner, or an address that cannot be mailed)."""
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        rows = uow.session.execute(
            select(Notice.id, Notice.citation_id, Citation.citation_number, Notice.kind, Notice.queued_at,
                   Notice.hold_reason)
            .join(Citation, Citation.id == Notice.citation_id)
            .where(Notice.status == "held").order_by(Notice.queued_at, Notice.id).limit(limit))
        return [HeldNotice(int(r[0]), int(r[1]), r[2], r[3], r[4], r[5]) for r in rows]


def lookups_of(app: AppContext, actor: Actor, citation_id: int) -> Sequence[OwnerLookup]:
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        return list(uow.session.scalars(select(OwnerLookup).where(OwnerLookup.citation_id == citation_id)
                                        .order_by(OwnerLookup.id)))
