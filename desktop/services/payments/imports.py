"""Importing payment files: BAI2 bank statements, lockbox files, NACHA ACH files, the card processor CSV.

One file is one unit of work: it is parsed whole first (a malformed file is refused with its line
and reason before anything is written), then every payment in it is matched and posted, its ACH
returns reverse the payments they return, and the import is committed once. Cancelling or any
error rolls the whole file back: nothing is ever half-posted.

A file imported twice adds nothing: the file's SHA-256 is remembered (`PaymentImport.sha256`). A
payment is identified by what it is, not by the file's bytes: `Payment.identity_key` (unique in the
database) is built from the bank's own identifiers (desktop.domain.payment_identity): the bank
reference, account, value date and amount of a BAI2 credit; the lockbox, deposit date, batch and item
of a cheque; the trace number and effective date of an ACH entry; the processor's transaction id.
So a statement saved with other line ends, a byte-order mark, trailing blanks or another payer name,
re-sent, or overlapping an earlier one posts each payment once; a file whose payments were all
posted already says so and records nothing; two imports of one file at once post it once (the
loser of the race is run again and finds the payments posted).

Files are bounded (`payments.max_file_mb`, checked before reading and while gzip is undone) and a
file with payments in a currency other than the office's (`agency.currency`) is refused whole.

Matching (desktop.domain.matching): a citation number in the reference fields, else a plate in
them whose open cases owe exactly the amount; the rest go to the unmatched queue with the reason.

BAI2 statements also report *deposits* that are totals of money recorded elsewhere (type 115
lockbox deposit, 147 card settlement, 175/301 cheque and cash deposits of the counter). Those are
not payments (posting them would count the money twice); they are kept in the import's summary
and the daily close checks each expected deposit against them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from desktop.domain import text as widths
from desktop.domain.errors import UserError
from desktop.domain.ledger import format_cents
from desktop.domain.lifecycle import CaseStatus
from desktop.domain.matching import MatchMethod, citation_candidates, match_payment
from desktop.domain.payment_identity import identity_key
from desktop.domain.plates import normalize_plate
from desktop.domain.roles import Permission
from desktop.domain.text import text_problem
from desktop.persistence.bulk import reserve_ids
from desktop.persistence.models import Citation, LedgerEntry, Payment, PaymentImport, User, citation_number_key
from desktop.services.cases import steps as case_ops
from desktop.services.core import settings
from desktop.services.core.clock import agency_date, agency_zone
from desktop.services.core.context import Actor, AppContext, UnitOfWork, retrying
from desktop.services.payments.importers import (
    FileKind,
    ImportedFile,
    ImportedPayment,
    ImportRejected,
    read_payment_bytes,
)
from desktop.services.payments.importers.common import read_bounded
from desktop.services.payments.posting import NOT_YET_PAYABLE, _balances, apply_to_cases, reverse_in

log = logging.getLogger(__name__)

#: Payment.source for each kind of file.
FILE_SOURCE: dict[FileKind, str] = {
    FileKind.BAI2: "bank",
    FileKind.LOCKBOX: "lockbox",
    FileKind.NACHA: "ach",
    FileKind.PROCESSOR_CSV: "processor",
}
#: BAI2 credit type codes that are deposit totals of money recorded elsewhere, and where it was recorded.
DEPOSIT_TYPE_CODES: dict[str, str] = {
    "115": "lockbox",  # Lockbox Deposit (the lockbox file has the cheques)
    "147": "processor",  # Individual Bank Card Deposit (the processor's settlement)
    "175": "counter",  # Check Deposit Package (the counter's cheques)
    "301": "counter",  # Commercial Deposit (the counter's cash and cheques)
}
PAYABLE_BY_PLATE = (CaseStatus.OPEN.value, CaseStatus.IN_COLLECTIONS.value)

Progress = Callable[[int, int, str], None]


def stable_external_id(kind: FileKind, payment: ImportedPayment) -> str:
    """The id that makes a payment recognisable in any file (``desktop.domain.payment_identity``)."""
    return payment.identity or payment.external_id

#: How often an import that lost a race with another (a unique key taken meanwhile) is run again.
RACE_RETRIES = 4
#: payments (with their ledger entries and cases) written by one flush of a file's posting
POST_FLUSH = 500
#: PostgreSQL advisory lock key held by an import's transaction: imports run one after the other, so
#: the second sees what the first posted (SQLite's write transactions are serial anyway).
IMPORT_LOCK_KEY = 0x5041594D  # "PAYM"


def _serialise_imports(s: Session) -> None:
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": IMPORT_LOCK_KEY})


@dataclass
class ImportOutcome:
    """What importing one file did (or, for a file already imported, that it did nothing)."""

    file_name: str
    kind: str
    sha256: str
    #: the office's: the file's payments are in it (a file in another is refused) and so are these lines
    currency: str
    import_id: int | None = None
    already_imported: bool = False
    #: every payment in the file was posted already from earlier files: nothing was recorded
    all_known: bool = False
    previously: str = ""
    payments: int = 0
    matched: int = 0
    unmatched: int = 0
    already_known: int = 0
    #: deposits of a BAI2 statement that an earlier statement already reported (not kept again)
    known_deposits: int = 0
    total_cents: int = 0
    matched_cents: int = 0
    unmatched_cents: int = 0
    overpaid_cents: int = 0
    file_total_cents: int = 0
    value_date: date | None = None
    returns_applied: list[str] = field(default_factory=list)
    returns_not_applied: list[str] = field(default_factory=list)
    deposits: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    notices_of_change: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The result as a clerk reads it (the command line prints these)."""
        if self.already_imported:
            return [f"{self.file_name}: already imported {self.previously}; nothing added."]
        if self.all_known:
            deposits = (f" (and its {self.known_deposits} deposit(s) reported)" if self.known_deposits else "")
            return [f"{self.file_name}: all {self.already_known} payment(s) in it were already posted{deposits} "
                    f"from earlier files; nothing was added."]
        currency = self.currency
        out = [(f"{self.file_name} ({self.kind}): {self.payments} payment(s) for "
                f"{format_cents(self.total_cents, currency)}: {self.matched} matched "
                f"({format_cents(self.matched_cents, currency)}), {self.unmatched} to the unmatched queue "
                f"({format_cents(self.unmatched_cents, currency)}).")]
        if self.already_known:
            out.append(f"  {self.already_known} payment(s) were already recorded from an earlier file and were not "
                       f"added again.")
        if self.known_deposits:
            out.append(f"  {self.known_deposits} deposit(s) were already reported by an earlier statement.")
        if self.overpaid_cents:
            out.append(f"  {format_cents(self.overpaid_cents, currency)} overpaid: the cases are in the refund queue.")
        out += [f"  ACH return: {text}" for text in self.returns_applied]
        out += [f"  ACH return NOT applied: {text}" for text in self.returns_not_applied]
        out += [f"  deposit {format_cents(d['amount_cents'], currency)} ({d['category']}, type {d['type_code']}) kept "
                f"for the daily close" for d in self.deposits]
        out += [f"  skipped: {text}" for text in self.skipped]
        out += [f"  notification of change: {text}" for text in self.notices_of_change]
        return out


def import_payment_file(app: AppContext, actor: Actor, path: str | Path,
                        progress: Progress | None = None) -> ImportOutcome:
    """Import one payment file from disk (any supported format; .gz is undone). A file larger than the
    ``payments.max_file_mb`` setting is refused before it is read."""
    path = Path(path)
    _zone, _currency, max_bytes = _limits(app, actor)
    try:
        data = read_bounded(path, max_bytes)
    except ImportRejected as rejected:
        _audit_rejection(app, actor, path.name, rejected)
        raise
    return import_payment_bytes(app, actor, data, path.name, progress)


def _limits(app: AppContext, actor: Actor) -> tuple[ZoneInfo, str, int]:
    """The bank's time zone, the office's currency and the largest file, from the settings."""
    with app.reader(actor, Permission.IMPORT_DATA) as uow:
        s = uow.session
        return (agency_zone(s), settings.office_currency(s),
                max(1, int(settings.get(s, "payments.max_file_mb"))) * 1024 * 1024)


def import_payment_bytes(app: AppContext, actor: Actor, data: bytes, file_name: str,
                         progress: Progress | None = None) -> ImportOutcome:
    """Import one payment file's bytes: parse, match, post and reverse, all in one unit of work."""
    note = progress or (lambda _d, _t, _s: None)
    zone, currency, max_bytes = _limits(app, actor)
    note(0, 0, f"Reading {file_name}…")
    try:
        parsed = read_payment_bytes(data, file_name, zone, currency=currency, max_bytes=max_bytes)
        _refuse_unstorable_text(parsed)
    except ImportRejected as rejected:
        _audit_rejection(app, actor, file_name, rejected)
        raise

    def attempts() -> ImportOutcome:
        for attempt in range(1, RACE_RETRIES + 1):
            try:
                # long: a city's lockbox file may post for minutes; it waits for clerks' row locks, never the reverse
                with app.uow(actor, Permission.IMPORT_DATA, long=True) as uow:
                    outcome = _import(uow, parsed, note, currency)
                    if not (outcome.already_imported or outcome.all_known):
                        uow.commit()
                    return outcome
            except IntegrityError:
                # Another import (or a workstation of an older version, which takes no import lock) posted
                # some of these payments, or this very file, while this one ran: the unique identity keys
                # refused the second posting and everything here was rolled back. Run again: the payments
                # now posted are recognised and only the rest are added.
                log.info("import of %s lost a race with another import (attempt %d)", file_name, attempt)
        raise UserError(f"{file_name}: other imports were posting the same payments at the same moment; this file "
                        f"was not imported and nothing in it was posted. Import it again.")

    # One unit of work, and a file already imported is recognised by its digest: after a lost connection
    # (a server restart mid-import) it is run again once, so the file is posted exactly once.
    return retrying(attempts, idempotent=True)


def _refuse_unstorable_text(parsed: ImportedFile) -> None:
    """Each payment's text as read from the file fits its column, without a NUL (issue 14: PostgreSQL refused
    what SQLite stored); otherwise the whole file is refused, naming the line."""
    for item in parsed.payments:
        for label, value, width in (("the payer's name", item.payer, widths.NAME),
                                    ("the reference", item.reference_text, widths.REFERENCE),
                                    ("the payment's identifier", stable_external_id(parsed.kind, item), 200)):
            problem = text_problem(value or "", width)
            if problem is not None:
                raise ImportRejected(f"{label} {problem}; nothing from the file was posted.",
                                     item.line_numbers[0] if item.line_numbers else None, parsed.file_name)


def _audit_rejection(app: AppContext, actor: Actor, file_name: str, rejected: ImportRejected) -> None:
    try:
        with app.uow(actor, Permission.IMPORT_DATA) as uow:
            uow.audit("payment_import.rejected", "payment_import", file_name[:100],
                      after={"line": rejected.line}, reason=rejected.reason)
            uow.commit()
    except UserError:
        log.warning("could not record the rejection of %s", file_name)


@dataclass
class _Planned:
    item: ImportedPayment
    external_id: str
    case_ids: list[int]
    method: str
    match_method: str | None
    note: str


def _import(uow: UnitOfWork, parsed: ImportedFile, note: Progress, currency: str) -> ImportOutcome:
    s = uow.session
    source = FILE_SOURCE[parsed.kind]
    outcome = ImportOutcome(parsed.file_name, parsed.kind.value, parsed.sha256, currency)
    _serialise_imports(s)
    earlier = s.scalar(select(PaymentImport).where(PaymentImport.sha256 == parsed.sha256))
    if earlier is not None:
        who = s.get(User, earlier.user_id) if earlier.user_id else None
        outcome.already_imported = True
        outcome.import_id = earlier.id
        outcome.previously = (f"on {earlier.imported_at.astimezone(agency_zone(s)):%Y-%m-%d %H:%M} by "
                              f"{who.full_name if who else 'the system'} as {earlier.filename!r}")
        return outcome

    items: list[ImportedPayment] = []
    deposits: list[dict[str, Any]] = []
    for item in parsed.payments:
        if parsed.kind is FileKind.BAI2 and item.type_code in DEPOSIT_TYPE_CODES:
            deposits.append({
                "type_code": item.type_code, "category": DEPOSIT_TYPE_CODES[item.type_code],
                "amount_cents": item.amount_cents,
                "value_date": (item.value_date or agency_date(s, uow.app.now())).isoformat(),
                "reference": item.reference_text, "lines": list(item.line_numbers),
                "identity": identity_key(source, stable_external_id(parsed.kind, item))})
        else:
            items.append(item)
    seen_deposits = _known_deposits(s, deposits)
    outcome.deposits = [d for d in deposits if d["identity"] not in seen_deposits]
    ids = {stable_external_id(parsed.kind, item): item for item in items}
    keys = {ext: identity_key(source, ext) for ext in ids}
    known = _known_identity_keys(s, list(keys.values()))
    fresh = [(ext, item) for ext, item in ids.items() if keys[ext] not in known]
    outcome.already_known = len(items) - len(fresh)

    # Phase 1, reads only: decide where each payment goes and which payments the returns undo.
    note(0, len(fresh), "Matching payments to cases…")
    planned = _plan(s, fresh)
    returns = _plan_returns(s, parsed, outcome)
    outcome.known_deposits = len(deposits) - len(outcome.deposits)
    if (items or deposits) and not fresh and not returns and not outcome.deposits:
        outcome.all_known = True
        return outcome
    # Phase 2: lock every case involved, in id order, before writing anything.
    wanted = sorted({cid for p in planned for cid in p.case_ids} | {cid for _, _, cids in returns for cid in cids})
    locked = case_ops.load_cases(uow, wanted)
    running = _balances(s, wanted)  # kept up to date by apply_to_cases as the file posts

    now = uow.app.now()
    batch = PaymentImport(sha256=parsed.sha256, filename=parsed.file_name[:300], kind=parsed.kind.value,
                          imported_at=now, user_id=uow.actor.user_id, payment_count=0, total_cents=0)
    s.add(batch)
    s.flush()
    outcome.import_id = batch.id
    # Phase 3: post, POST_FLUSH payments at a time: the chunk's payments are written first (a ledger entry
    # refers to its payment), then their entries and cases. Ids reserved up front let every row be sealed
    # before it is written, so each table takes one multi-row statement per chunk instead of a round trip
    # or five per payment.
    payment_ids = iter(reserve_ids(s, Payment.__tablename__, len(planned)))
    # (at most one entry per case a payment is matched to; an id not used is a gap, as a sequence leaves)
    entry_ids = iter(reserve_ids(s, LedgerEntry.__tablename__, sum(len(p.case_ids) for p in planned)))
    for first in range(0, len(planned), POST_FLUSH):
        chunk = planned[first:first + POST_FLUSH]
        paid = [_payment(s, plan, next(payment_ids), source, batch.id, uow.actor.user_id, now) for plan in chunk]
        s.add_all(paid)
        s.flush()
        for done, (plan, payment) in enumerate(zip(chunk, paid, strict=True), start=first + 1):
            outcome.payments += 1
            outcome.total_cents += payment.amount_cents
            if plan.case_ids:
                cases = sorted((locked[cid] for cid in plan.case_ids), key=lambda c: (c.issued_at, c.id))
                allocations = apply_to_cases(uow, payment, cases, running=running, entry_ids=entry_ids,
                                             memo=f"{source} payment from {parsed.file_name} ({plan.note})")
                outcome.matched += 1
                outcome.matched_cents += payment.amount_cents
                outcome.overpaid_cents += -sum(min(a.balance_after_cents, 0) for a in allocations
                                               if a.balance_after_cents < 0 and a.applied_cents > 0)
            else:
                outcome.unmatched += 1
                outcome.unmatched_cents += payment.amount_cents
            if done % 50 == 0 or done == len(planned):
                note(done, len(planned), f"Posted {done:,} of {len(planned):,} payments…")
        s.flush()  # every reserved id used is written before anything else in the transaction numbers a row
    for payment, reason, _cids in returns:
        result = reverse_in(uow, payment, reason)
        outcome.returns_applied.append(
            f"payment {payment.id} ({format_cents(payment.amount_cents, currency)}, {payment.payer_name or 'no name'}) "
            f"reversed: {reason}" + (f"; reopened {', '.join(result.reopened)}" if result.reopened else ""))
    outcome.skipped = [f"line {','.join(str(n) for n in r.line_numbers)}: "
                       f"{format_cents(r.amount_cents, r.currency)} {r.reason}" for r in parsed.skipped[:200]]
    if len(parsed.skipped) > 200:
        outcome.skipped.append(f"... and {len(parsed.skipped) - 200:,} more records that are not payments")
    outcome.notices_of_change = list(parsed.notices_of_change)
    outcome.file_total_cents = sum(item.amount_cents for item in items)
    dates = [p.item.value_date for p in planned if p.item.value_date] + [
        date.fromisoformat(d["value_date"]) for d in outcome.deposits]
    outcome.value_date = max(dates) if dates else (parsed.created_at.date() if parsed.created_at else None)
    batch.payment_count = outcome.payments
    batch.total_cents = outcome.total_cents
    batch.file_total_cents = outcome.file_total_cents
    batch.value_date = outcome.value_date
    batch.summary = {
        "source": source, "matched": outcome.matched, "unmatched": outcome.unmatched,
        "already_known": outcome.already_known, "matched_cents": outcome.matched_cents,
        "unmatched_cents": outcome.unmatched_cents, "overpaid_cents": outcome.overpaid_cents,
        "returns_applied": outcome.returns_applied, "returns_not_applied": outcome.returns_not_applied,
        "deposits": outcome.deposits, "skipped_count": len(parsed.skipped), "skipped": outcome.skipped[:50],
        "notices_of_change": outcome.notices_of_change, "control_total_cents": parsed.control_total_cents,
    }
    uow.audit("payment_import.imported", "payment_import", batch.id,
              after={"file": parsed.file_name, "kind": parsed.kind.value, "payments": outcome.payments,
                     "total_cents": outcome.total_cents, "unmatched": outcome.unmatched,
                     "returns": len(outcome.returns_applied), "already_known": outcome.already_known})
    return outcome


def _payment(s: Session, plan: _Planned, payment_id: int, source: str, import_id: int, user_id: int | None,
             now: datetime) -> Payment:
    item = plan.item
    value_date = item.value_date or agency_date(s, item.received_at or now)
    return Payment(id=payment_id, source=source, method=plan.method, external_id=plan.external_id,
                   identity_key=identity_key(source, plan.external_id), amount_cents=item.amount_cents,
                   received_at=item.received_at or _noon(s, value_date), value_date=value_date,
                   reference=item.reference_text or None, payer_name=item.payer or None, import_id=import_id,
                   user_id=user_id, status="matched" if plan.case_ids else "unmatched",
                   match_method=plan.match_method, match_note=plan.note)


def _noon(s: Session, day: date) -> datetime:
    return datetime.combine(day, time(12, 0), tzinfo=agency_zone(s))


def _known_identity_keys(s: Session, keys: Sequence[str]) -> set[str]:
    known: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        known |= {str(k) for k in s.scalars(select(Payment.identity_key).where(Payment.identity_key.in_(chunk)))}
    return known


def _known_deposits(s: Session, deposits: Sequence[dict[str, Any]]) -> set[str]:
    """The identities of these deposits that a statement imported earlier already reported (a deposit is
    not a payment row: it is kept in its import's summary for the daily close)."""
    if not deposits:
        return set()
    first = min(date.fromisoformat(str(d["value_date"])) for d in deposits) - timedelta(days=31)
    known: set[str] = set()
    for summary in s.scalars(select(PaymentImport.summary).where(PaymentImport.kind == FileKind.BAI2.value,
                                                                 PaymentImport.value_date >= first)):
        known |= {str(d["identity"]) for d in (summary or {}).get("deposits", []) if d.get("identity")}
    return known


def _citation_index(s: Session, references: Sequence[str]) -> dict[str, tuple[int, str, str]]:
    """Normalised citation number -> (case id, status, citation number) for every candidate in the references."""
    candidates = sorted({c for ref in references for c in citation_candidates(ref)})
    key = citation_number_key()  # the index ix_citation_number_key: one look-up per candidate, not a scan
    found: dict[str, tuple[int, str, str]] = {}
    for start in range(0, len(candidates), 500):
        chunk = candidates[start:start + 500]
        for norm, cid, status, number in s.execute(
                select(key, Citation.id, Citation.status, Citation.citation_number).where(key.in_(chunk))):
            found[str(norm)] = (int(cid), str(status), str(number))
    return found


def _plan(s: Session, fresh: Sequence[tuple[str, ImportedPayment]]) -> list[_Planned]:
    index = _citation_index(s, [item.reference_text for _, item in fresh])
    plate_cache: dict[str, list[tuple[int, int]]] = {}
    owed_before: dict[int, int] = {}
    pending: dict[int, int] = {}

    def plate_cases(token: str) -> list[tuple[int, int]]:
        plate = normalize_plate(token)
        if plate not in plate_cache:
            rows = list(s.execute(select(Citation.id).where(Citation.plate == plate,
                                                            Citation.status.in_(PAYABLE_BY_PLATE))
                                  .order_by(Citation.issued_at, Citation.id)).scalars())
            bal = _balances(s, rows)
            plate_cache[plate] = [(cid, bal[cid]) for cid in rows]
            owed_before.update(bal)
        return plate_cache[plate]

    def citation_lookup(candidate: str) -> str | None:
        hit = index.get(candidate)
        return str(hit[0]) if hit else None

    def plate_lookup(token: str) -> list[tuple[str, int]]:
        return [(str(cid), balance - pending.get(cid, 0)) for cid, balance in plate_cases(token)]

    by_id = {cid: (status, number) for cid, status, number in index.values()}
    out: list[_Planned] = []
    for external_id, item in fresh:
        result = match_payment(item.reference_text, item.amount_cents, citation_lookup, plate_lookup)
        case_ids = [int(cid) for cid in result.case_ids]
        note = result.reason
        blocked = [by_id[cid] for cid in case_ids if cid in by_id and CaseStatus(by_id[cid][0]) in
                   NOT_YET_PAYABLE | {CaseStatus.VOIDED}]
        if blocked:
            status, number = blocked[0]
            note = (f"citation {number} is {CaseStatus(status).label.lower()}; match this payment by hand once it "
                    f"can be paid (or refund it)")
            case_ids = []
        method = result.method.value if case_ids else None
        if case_ids and result.method is not MatchMethod.CITATION:
            # Plate matches reserve the balance so a second payment in the file is not matched to it too.
            remaining = item.amount_cents
            for cid in case_ids:
                owed = owed_before.get(cid, 0) - pending.get(cid, 0)
                share = min(max(owed, 0), remaining)
                pending[cid] = pending.get(cid, 0) + share
                remaining -= share
        out.append(_Planned(item, external_id, case_ids, item.method.value, method, note))
    return out


def _plan_returns(s: Session, parsed: ImportedFile,
                  outcome: ImportOutcome) -> list[tuple[Payment, str, list[int]]]:
    """The ACH payments this file's returns undo (found by trace number), with their cases."""
    planned: list[tuple[Payment, str, list[int]]] = []
    for ret in parsed.returns:
        candidates = list(s.scalars(select(Payment).where(Payment.source == "ach",
                                                          Payment.external_id.like(f"ach:{ret.original_trace}:%"))
                                    .order_by(Payment.value_date.desc(), Payment.id.desc())))
        label = (f"{ret.return_code} ({ret.description}) for trace {ret.original_trace}, "
                 f"{format_cents(ret.amount_cents, outcome.currency)}")
        live = [p for p in candidates if p.status != "reversed"]
        if not candidates:
            outcome.returns_not_applied.append(f"{label}: no ACH payment of ours has this trace number.")
            continue
        if not live:
            outcome.returns_not_applied.append(f"{label}: payment {candidates[0].id} was already reversed.")
            continue
        payment = live[0]
        if payment.amount_cents != ret.amount_cents:
            outcome.returns_not_applied.append(
                f"{label}: payment {payment.id} was for {format_cents(payment.amount_cents, outcome.currency)}; a "
                f"supervisor must check it.")
            continue
        if any(p is payment for p, _, _ in planned):
            continue
        cids = sorted(set(s.scalars(select(LedgerEntry.citation_id).where(LedgerEntry.payment_id == payment.id))))
        planned.append((payment, f"ACH return {ret.return_code} ({ret.description})", [int(c) for c in cids]))
    return planned


@dataclass(frozen=True)
class ImportRow:
    id: int
    filename: str
    kind: str
    imported_at: datetime
    imported_by: str | None
    payment_count: int
    total_cents: int
    file_total_cents: int | None
    value_date: date | None
    summary: dict[str, Any]
    #: the office's, in which the file's payments are
    currency: str


def imports_list(app: AppContext, actor: Actor, limit: int = 200) -> list[ImportRow]:
    with app.reader(actor, Permission.IMPORT_DATA) as uow:
        s = uow.session
        names = dict(s.execute(select(User.id, User.full_name)).all())
        currency = settings.office_currency(s)
        return [ImportRow(r.id, r.filename, r.kind, r.imported_at, names.get(r.user_id) if r.user_id else "system",
                          r.payment_count, r.total_cents, r.file_total_cents, r.value_date, dict(r.summary or {}),
                          currency)
                for r in s.scalars(select(PaymentImport).order_by(PaymentImport.id.desc()).limit(limit))]
