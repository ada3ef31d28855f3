"""The fine schedule from a file: violation codes, their descriptions and fines, in force from a date.

CSV with a header row, all or nothing (any bad line and nothing is written, every problem listed by line
number). Two layouts are read:

* ours: ``code, description, fine`` (dollars: ``68``, ``68.00`` or ``$68.00``) or ``fine_cents``, and
  optionally ``effective_from`` (YYYY-MM-DD; default: the date given to the import, else today) and ``kind``
  (time_limit, street_cleaning, meter, no_parking, permit_only, other: what rule the code enforces);
* New York City Department of Finance's list (``CODE, DEFINITION, MANHATTAN_96_AND_BELOW, ALL_OTHER_AREAS``):
  the fine outside Manhattan below 96th Street is taken (``ALL_OTHER_AREAS``).

A code already in force from the same date is replaced; a code in force from an earlier date gets its end
(the day before the new line starts), so a case is always priced by the schedule of its issue date.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import select

from desktop.domain.errors import UserError
from desktop.domain.imports import blank_row, cut, header_problems, quoted, row_problem, year_problem
from desktop.domain.roles import Permission
from desktop.persistence.models import ViolationCode
from desktop.services.core import imports
from desktop.services.core.context import Actor, AppContext

KINDS = ("time_limit", "street_cleaning", "meter", "no_parking", "permit_only", "other")
OURS = ("code", "description", "fine", "fine_cents", "effective_from", "kind")
DOF = ("code", "definition", "manhattan_96_and_below", "all_other_areas")
MAX_FINE_CENTS = 10_000_00  # a fine over $10,000 is a typing slip


@dataclass(frozen=True)
class FineLine:
    code: str
    description: str
    fine_cents: int
    effective_from: date
    kind: str


@dataclass(frozen=True)
class FineImportResult:
    codes: int
    added: int
    replaced: int
    ended: int


def _cents(text: str) -> int:
    raw = text.strip().replace("$", "").replace(",", "")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"the fine {quoted(text)} is not an amount") from None
    cents = value * 100
    if cents != cents.to_integral_value() or cents < 0:
        raise ValueError(f"the fine {quoted(text)} is not a whole number of cents")
    if cents > MAX_FINE_CENTS:
        raise ValueError(f"the fine {quoted(text)} is more than $10,000")
    return int(cents)


def parse_fine_schedule(text: str, name: str, default_from: date) -> list[FineLine]:
    """The lines of a fine schedule file, or one UserError listing every bad line by number."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise UserError(f"{cut(name, 80)} is empty; a fine schedule has a header row (code,description,fine).") from None
    dof = set(DOF) <= set(header)
    known = DOF if dof else OURS
    problems = header_problems(header, ("code", "definition") if dof else ("code", "description"), known)
    if not dof and not {"fine", "fine_cents"} & set(header):
        problems.append("missing column fine (dollars) or fine_cents")
    if problems:
        raise UserError(f"{cut(name, 80)}, line 1 (header): {'; '.join(problems)}; nothing was imported.")
    lines: list[FineLine] = []
    errors: list[str] = []
    seen: dict[tuple[str, date], int] = {}
    for number, row in enumerate(reader, start=2):
        if blank_row(row):
            continue
        shape = row_problem(header, row)
        if shape:
            errors.append(f"line {number}: {shape}")
            continue
        v = {h: row[i].strip() for i, h in enumerate(header)}
        try:
            code = v["code"]
            if not code or len(code) > 32:
                raise ValueError("the code is empty or longer than 32 characters")
            description = " ".join((v.get("definition" if dof else "description") or "").split())
            if not description:
                raise ValueError("the description is empty")
            if dof:
                cents = _cents(v["all_other_areas"])
            elif v.get("fine_cents"):
                if not v["fine_cents"].isdigit():
                    raise ValueError(f"fine_cents {quoted(v['fine_cents'])} is not a whole number")
                cents = int(v["fine_cents"])
                if cents > MAX_FINE_CENTS:
                    raise ValueError("the fine is more than $10,000")
            else:
                cents = _cents(v.get("fine", ""))
            start = default_from
            if v.get("effective_from"):
                try:
                    start = date.fromisoformat(v["effective_from"])
                except ValueError:
                    raise ValueError(f"effective_from {quoted(v['effective_from'])} is not a date "
                                     "(YYYY-MM-DD)") from None
                problem = year_problem(start)
                if problem:
                    raise ValueError(problem)
            kind = v.get("kind") or "other"
            if kind not in KINDS:
                raise ValueError(f"kind {quoted(kind)} is not one of {', '.join(KINDS)}")
            if (code, start) in seen:
                raise ValueError(f"the code {quoted(code)} is already on line {seen[code, start]} from {start}")
            seen[code, start] = number
            lines.append(FineLine(code, description[:300], cents, start, kind))
        except ValueError as exc:
            errors.append(f"line {number}: {exc}")
    if errors:
        more = f" (and {len(errors) - 20} more)" if len(errors) > 20 else ""
        raise UserError(cut(f"{name}: nothing was imported; " + "; ".join(errors[:20]) + more, 4000))
    if not lines:
        raise UserError(f"{cut(name, 80)} holds no violation codes.")
    return lines


def import_fine_schedule(app: AppContext, actor: Actor, path: Path, effective_from: date | None = None) -> FineImportResult:
    """Import a fine schedule file (administrators; all or nothing; audited)."""
    path = Path(path)
    with app.reader(actor, Permission.MANAGE_SETTINGS) as reading:  # refuse before reading the file
        limit = imports.max_bytes(reading.session)
    text = imports.read_text(path, limit, "fine schedule (CSV)")
    lines = parse_fine_schedule(text, path.name, effective_from or app.now().date())
    added = replaced = ended = 0
    with app.uow(actor, Permission.MANAGE_SETTINGS) as uow:
        s = uow.session
        stored: dict[str, list[ViolationCode]] = {}
        for row in s.scalars(select(ViolationCode).where(ViolationCode.code.in_({ln.code for ln in lines}))):
            stored.setdefault(row.code, []).append(row)
        for ln in lines:
            same = next((r for r in stored.get(ln.code, []) if r.effective_from == ln.effective_from), None)
            if same is not None:
                same.description, same.fine_cents, same.kind = ln.description, ln.fine_cents, ln.kind
                replaced += 1
                continue
            for r in stored.get(ln.code, []):
                if r.effective_from < ln.effective_from and (r.effective_to is None or r.effective_to >= ln.effective_from):
                    r.effective_to = ln.effective_from - timedelta(days=1)
                    ended += 1
            later = [r.effective_from for r in stored.get(ln.code, []) if r.effective_from > ln.effective_from]
            row = ViolationCode(code=ln.code, description=ln.description, fine_cents=ln.fine_cents,
                                effective_from=ln.effective_from, kind=ln.kind,
                                effective_to=min(later) - timedelta(days=1) if later else None)
            s.add(row)
            stored.setdefault(ln.code, []).append(row)
            added += 1
        uow.audit("fines.imported", "violation_code", path.name[:100],
                  after={"codes": len(lines), "added": added, "replaced": replaced, "ended": ended},
                  reason=f"import fines {path.name}"[:200])
        uow.commit()
    return FineImportResult(len(lines), added, replaced, ended)
