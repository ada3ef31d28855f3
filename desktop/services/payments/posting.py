"""Payments: counter payments, applying money to cases, receipts, manual matching and reversals.

(Over 600 lines, knowingly: the seams are there (the counter, the payment lists and export, receipts),
but the screens call all of it as one module (``posting as payments``) and the receipts are about to move
behind the printing port; splitting it is left for when the screens' calls can change with it.)

Every payment is a `Payment` row; the money it brings is PAYMENT entries in the ledgers of the
cases it pays (linked by `payment_id`), so a case's balance stays the sum of its ledger. One
payment may pay several cases of the same owner (oldest first); what is left over lands on a
case as a credit (negative balance), which puts it in the refund queue. A case paid off moves
to PAID; a reversal reinstates what the payment had paid and reopens the case.

Two clerks posting to the same case at once are serialised: `case_ops.load_case` locks the case
row (FOR UPDATE on PostgreSQL; SQLite takes the write lock up front), and posting bumps the case's
`version`, so a clerk whose screen showed an older version is told to check the amount again
instead of posting against a stale balance. A counter payment carries a request id from the
screen that took it, so pressing Enter twice posts once.
"""

from __future__ import annotations

import re
import textwrap
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from desktop.domain import text as widths
from desktop.domain.errors import ConcurrencyConflict, NotFound, OverpaymentNotConfirmed, UserError
from desktop.domain.ledger import EntryKind, apply_payment_across, format_cents, overpayment_needs_confirmation
from desktop.domain.lifecycle import CaseStatus
from desktop.domain.matching import normalise_citation
from desktop.domain.payment_identity import stored_identity_key
from desktop.domain.plates import normalize_plate, plate_search_key
from desktop.domain.roles import Permission
from desktop.domain.text import clean_text
from desktop.persistence.bulk import reserve_ids_of
from desktop.persistence.models import (
    CashDrawer,
    Citation,
    LedgerEntry,
    Notice,
    Payment,
    PaymentImport,
    RegisteredOwner,
    User,
    citation_number_key,
)
from desktop.services.cases import balances as ledger_balances
from desktop.services.cases import steps as case_ops
from desktop.services.core import settings
from desktop.services.core.clock import agency_date
from desktop.services.core.context import Actor, AppContext, UnitOfWork, retrying
from desktop.services.core.imports import csv_writer
from desktop.services.payments import plans as payment_plans

#: Where money comes from (Payment.source).
SOURCES: dict[str, str] = {
    "counter": "Counter",
    "bank": "Bank (BAI2)",
    "lockbox": "Lockbox",
    "ach": "ACH (NACHA)",
    "processor": "Card processor",
}
#: How it was paid (Payment.method); cheques are stored as "check", the importers' spelling.
METHODS: dict[str, str] = {
    "cash": "Cash",
    "check": "Cheque",
    "card": "Card",
    "ach": "ACH",
    "wire": "Wire transfer",
    "lockbox": "Lockbox cheque",
}
COUNTER_METHODS = ("cash", "check", "card")
#: Cases whose balance reaching zero closes them as paid.
CLOSE_WHEN_PAID = frozenset({CaseStatus.OPEN, CaseStatus.IN_COLLECTIONS})
#: Cases that cannot take money yet (the fine is not confirmed).
NOT_YET_PAYABLE = frozenset({CaseStatus.RECEIVED, CaseStatus.PENDING_REVIEW})

_PAN_RUN = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)")


# --------------------------------------------------------------------------- small helpers


def card_number_in(text: str | None) -> str | None:
    """The last four digits of anything in `text` that looks like a full card number (13-19 digits)."""
    if not text:
        return None
    match = _PAN_RUN.search(text)
    if match is None:
        return None
    digits = re.sub(r"\D", "", match.group())
    return digits[-4:]


def _refuse_card_numbers(**fields: str | None) -> None:
    for name, value in fields.items():
        last4 = card_number_in(value)
        if last4 is not None:
            raise UserError(
                f"The {name.replace('_', ' ')} looks like a full card number (ending {last4}). Full card numbers "
                f"must never be stored: enter only the terminal's reference and the last four digits.")


def method_label(method: str) -> str:
    return METHODS.get(method, method.replace("_", " ").capitalize())


def source_label(source: str) -> str:
    return SOURCES.get(source, source.capitalize())


def touch_case(case: Citation) -> None:
    """Bump the case's version (optimistic concurrency) even when no column of it changed."""
    flag_modified(case, "status")


# --------------------------------------------------------------------------- applying money


@dataclass(frozen=True)
class Allocation:
    """What one payment did to one case."""

    citation_id: int
    citation_number: str
    plate: str
    applied_cents: int
    balance_after_cents: int
    status_after: str


def owner_key(case: Citation) -> tuple[str, ...]:
    """Who a case belongs to, for 'one payment across several cases of the same owner'."""
    if case.owner_id is not None:
        return ("owner", str(case.owner_id))
    return ("plate", normalize_plate(case.plate), case.jurisdiction)


def _lock_cases(uow: UnitOfWork, citation_ids: Sequence[int]) -> list[Citation]:
    """Load and lock the cases, always in id order (two clerks locking two cases never deadlock),
    then return them oldest first, the order money is applied in."""
    if not citation_ids:
        raise UserError("Choose at least one case to pay.")
    return sorted(case_ops.load_cases(uow, citation_ids).values(), key=lambda c: (c.issued_at, c.id))


def _check_versions(uow: UnitOfWork, cases: Sequence[Citation], expected: Mapping[int, int] | None,
                    currency: str) -> None:
    if not expected:
        return
    for case in cases:
        seen = expected.get(case.id)
        if seen is not None and seen != case.version:
            raise ConcurrencyConflict(
                f"Citation {case.citation_number} changed while you were working on it (someone else posted to "
                f"it); its balance is now {format_cents(case_ops.balance(uow, case.id), currency)}. Check the amount "
                f"and post again.")


def apply_to_cases(uow: UnitOfWork, payment: Payment, cases: Sequence[Citation], memo: str, *,
                   running: dict[int, int] | None = None, entry_ids: Iterator[int] | None = None) -> list[Allocation]:
    """Post `payment` to `cases` (locked, oldest first): each case paid off in turn, any remainder as a
    credit on the last case paid (or the first case when none owed anything). Runs in the caller's unit
    of work; closes paid cases and completes payment plans that are paid off.

    ``running``: the locked cases' balances, read once by a caller posting many payments (a file), and kept
    up to date here; without it each case's balance is read from its ledger. ``entry_ids``: ids reserved for
    the entries of a payment created in this transaction (``case_ops.post``: written at the next flush)."""
    balances = [(case.id, running[case.id] if running is not None else case_ops.balance(uow, case.id))
                for case in cases]
    applied, remainder = apply_payment_across(balances, payment.amount_cents)
    shares: dict[int, int] = dict(applied)
    if remainder:
        target = applied[-1][0] if applied else cases[0].id
        shares[target] = shares.get(target, 0) + remainder
    before = dict(balances)
    out: list[Allocation] = []
    for case in cases:
        share = shares.get(case.id)
        if not share:
            continue
        entry = case_ops.post(uow, case, EntryKind.PAYMENT, -share, memo=memo, effective=payment.value_date,
                              payment_id=payment.id, dedupe_key=f"payment:{payment.id}",
                              entry_id=next(entry_ids) if entry_ids is not None else None)
        # The case is locked, so its balance is what it was less what was just posted.
        after = before[case.id] - share if entry is not None else case_ops.balance(uow, case.id)
        if running is not None:
            running[case.id] = after
        status = CaseStatus(case.status)
        if after <= 0 and status in CLOSE_WHEN_PAID:
            case_ops.move(uow, case, CaseStatus.PAID,
                          reason=f"paid in full by payment {payment.id} ({method_label(payment.method).lower()})",
                          action="citation.paid")
        else:
            touch_case(case)
        if after <= 0 and case.on_hold:
            # Only a case on hold can have a current payment plan (enrolment places the hold).
            payment_plans.complete_if_paid(uow, case, after)
        out.append(Allocation(case.id, case.citation_number, case.plate, share, after, case.status))
    return out


def _new_payment(uow: UnitOfWork, *, source: str, method: str, external_id: str, amount_cents: int,
                 received_at: datetime, value_date: date, reference: str | None = None,
                 payer_name: str | None = None, card_last4: str | None = None,
                 cheque_number: str | None = None, import_id: int | None = None, drawer_id: int | None = None,
                 status: str = "matched", match_method: str | None = None,
                 match_note: str | None = None, payment_id: int | None = None,
                 receipt_number: str | None = None) -> Payment:
    """The payment row, written now. With ``payment_id`` reserved (``bulk.reserve_ids_of``) it is written
    sealed, with its receipt number, in one INSERT (without it: the INSERT, then its seal)."""
    if amount_cents <= 0:
        raise UserError(f"A payment must be a positive amount (got "
                        f"{format_cents(amount_cents, settings.office_currency(uow.session))}).")
    payment = Payment(id=payment_id, receipt_number=receipt_number, source=source, method=method,
                      external_id=external_id, amount_cents=amount_cents, received_at=received_at,
                      value_date=value_date, reference=reference or None, payer_name=payer_name or None,
                      card_last4=card_last4, cheque_number=cheque_number,
                      import_id=import_id, drawer_id=drawer_id, user_id=uow.actor.user_id, status=status,
                      match_method=match_method, match_note=match_note,
                      identity_key=stored_identity_key(source, external_id, amount_cents, value_date))
    uow.session.add(payment)
    uow.session.flush()
    return payment


# --------------------------------------------------------------------------- counter


@dataclass(frozen=True)
class CounterCase:
    """A case the counter screen offers to pay."""

    id: int
    citation_number: str
    plate: str
    jurisdiction: str
    issued_at: datetime
    violation: str
    status: str
    balance_cents: int
    owner_name: str | None
    version: int
    #: the case the clerk typed (preselected); the owner's other cases are offered unticked
    primary: bool
    #: the office's, in which the payment is taken (not the case profile's: nothing is converted)
    currency: str


def counter_lookup(app: AppContext, actor: Actor, text: str) -> list[CounterCase]:
    """Cases for the counter: a citation number (with the owner's other unpaid cases) or a plate."""
    typed = text.strip()
    if not typed:
        raise UserError("Type a citation number or a plate.")
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        s = uow.session
        found = s.scalar(select(Citation).where(Citation.citation_number == typed))
        if found is None:
            key = normalise_citation(typed)
            found = s.scalar(select(Citation).where(citation_number_key() == key))
        primary_ids: set[int] = set()
        if found is not None:
            primary_ids = {found.id}
            siblings = _same_owner_cases(s, found)
        else:
            plate = normalize_plate(typed)
            siblings = list(s.scalars(select(Citation).where(Citation.plate == plate)))
            if not siblings:
                siblings = list(s.scalars(select(Citation).where(Citation.plate_key == plate_search_key(typed))))
            if not siblings:
                raise NotFound(f"No citation number or plate {typed!r} is known.")
            siblings = [c for c in siblings if CaseStatus(c.status) not in NOT_YET_PAYABLE | {CaseStatus.VOIDED}]
            bal = _balances(s, [c.id for c in siblings])
            primary_ids = {c.id for c in siblings if bal[c.id] > 0}
        ids = [c.id for c in siblings]
        bal = _balances(s, ids)
        owners = {c.owner_id for c in siblings if c.owner_id}
        names = dict(s.execute(select(RegisteredOwner.id, RegisteredOwner.name)
                               .where(RegisteredOwner.id.in_(owners))).all()) if owners else {}
        currency = settings.office_currency(s)
        rows = []
        for c in sorted(siblings, key=lambda c: (c.issued_at, c.id)):
            if c.id not in primary_ids and (bal[c.id] <= 0 or CaseStatus(c.status).is_closed):
                continue
            rows.append(CounterCase(c.id, c.citation_number, c.plate, c.jurisdiction, c.issued_at,
                                    f"{c.violation_code} {c.violation_description}", c.status, bal[c.id],
                                    names.get(c.owner_id) if c.owner_id else None, c.version, c.id in primary_ids,
                                    currency))
        if not rows:
            raise UserError(f"Nothing is owed on plate {typed!r}: every case of it is paid or closed.")
        return rows


def counter_case_ids(app: AppContext, actor: Actor, citation_numbers: Sequence[str]) -> list[int]:
    """The cases a counter payment names, by citation number (the command line's way in), for a user who
    may take payments."""
    with app.reader(actor, Permission.POST_PAYMENTS) as uow:
        ids = []
        for number in citation_numbers:
            cid = uow.session.scalar(select(Citation.id).where(Citation.citation_number == number.strip()))
            if cid is None:
                raise NotFound(f"There is no citation {number.strip()}.")
            ids.append(int(cid))
        return ids


def _same_owner_cases(s: Session, case: Citation) -> list[Citation]:
    if case.owner_id is not None:
        others = s.scalars(select(Citation).where(Citation.owner_id == case.owner_id))
    else:
        others = s.scalars(select(Citation).where(Citation.plate == case.plate,
                                                  Citation.jurisdiction == case.jurisdiction))
    out = {c.id: c for c in others}
    out[case.id] = case
    return [c for c in out.values()
            if c.id == case.id or CaseStatus(c.status) not in NOT_YET_PAYABLE | {CaseStatus.VOIDED}]


def _balances(s: Session, ids: Sequence[int]) -> dict[int, int]:
    return ledger_balances.balances(s, list(ids))


@dataclass(frozen=True)
class CounterResult:
    """A counter payment as posted (or as already posted, when the same request came twice)."""

    payment_id: int
    receipt_number: str
    amount_cents: int
    allocations: tuple[Allocation, ...]
    overpaid_cents: int
    #: the office's, in which the money was taken
    currency: str
    change_cents: int | None = None
    already_posted: bool = False


def post_counter_payment(app: AppContext, actor: Actor, citation_ids: Sequence[int], amount_cents: int,
                         method: str, *, payer_name: str = "", cheque_number: str | None = None,
                         card_reference: str | None = None, card_last4: str | None = None,
                         request_id: str | None = None, expected_versions: Mapping[int, int] | None = None,
                         tendered_cents: int | None = None,
                         confirmed_overpaid_cents: int | None = None) -> CounterResult:
    """Take a payment at the counter for one or several cases of the same owner.

    Cash, cheque (with its number) or card (the terminal's reference and the last four digits;
    a full card number is refused). The payment goes into the clerk's drawer for today, which
    is opened with the default float if it is not open yet. `request_id` makes the call
    idempotent: the same request posted twice returns the first result.

    Money beyond what is owed becomes a credit for the refund queue. Above the agency's limits
    (``payments.overpay_confirm_cents`` / ``payments.overpay_confirm_percent``) the payment is refused
    with `OverpaymentNotConfirmed` unless `confirmed_overpaid_cents` is exactly the refund it creates:
    the screen and the command line ask the clerk once, naming that amount, and call again.
    """
    method = method.strip().lower()
    if method in ("cheque", "chq"):
        method = "check"
    if method not in COUNTER_METHODS:
        raise UserError(f"'{method}' is not a counter payment method (cash, cheque or card).")
    if amount_cents <= 0:
        raise UserError(f"Enter the amount received "
                        f"(got {format_cents(amount_cents, settings.read_office_currency(app))}).")
    payer_name = clean_text(" ".join(payer_name.split()), "The payer's name", widths.NAME)
    cheque = (cheque_number or "").strip() or None
    reference = clean_text((card_reference or "").strip() or None, "The card terminal's reference", widths.REFERENCE)
    last4 = (card_last4 or "").strip() or None
    _refuse_card_numbers(card_reference=reference, card_last_four_digits=last4, payer_name=payer_name,
                         cheque_number=cheque)
    if method == "check":
        if not cheque:
            raise UserError("Enter the cheque number.")
        if not re.fullmatch(r"[0-9A-Za-z-]{1,32}", cheque):
            raise UserError(f"{cheque!r} is not a cheque number (digits, at most 32).")
        reference = None
        last4 = None
    elif method == "card":
        if not last4 or not re.fullmatch(r"\d{4}", last4):
            raise UserError("Enter the last four digits of the card (exactly four digits), never the full number.")
        if not reference:
            raise UserError("Enter the card terminal's reference (authorisation or transaction number).")
        cheque = None
    else:
        cheque = reference = last4 = None
    change = None
    if tendered_cents is not None and method == "cash":
        if tendered_cents < amount_cents:
            currency = settings.read_office_currency(app)
            raise UserError(f"{format_cents(tendered_cents, currency)} tendered is less than the "
                            f"{format_cents(amount_cents, currency)} being paid.")
        change = tendered_cents - amount_cents
    request = (request_id or uuid.uuid4().hex).strip()
    if actor.user_id is None:
        raise UserError("Counter payments are taken by a signed-in clerk, not by the system account.")

    def once() -> CounterResult:
        # (a request already posted is found under the cases' lock, before anything is checked or written)
        return _post_counter(app, actor, request, citation_ids, amount_cents, method, payer_name, cheque, reference,
                             last4, expected_versions, confirmed_overpaid_cents, change)

    # The request id makes it idempotent: after a deadlock, or a connection lost even during the commit, it is
    # run again and finds the payment if that commit stored it: never posted twice, never half-posted.
    return retrying(once, idempotent=True)


def _post_counter(app: AppContext, actor: Actor, request: str, citation_ids: Sequence[int], amount_cents: int,
                  method: str, payer_name: str, cheque: str | None, reference: str | None, last4: str | None,
                  expected_versions: Mapping[int, int] | None, confirmed_overpaid_cents: int | None,
                  change: int | None) -> CounterResult:
    try:
        with app.uow(actor, Permission.POST_PAYMENTS) as uow:
            s = uow.session
            cases = _lock_cases(uow, citation_ids)
            if s.scalar(select(Payment.id).where(Payment.source == "counter", Payment.external_id == request)):
                # The same request, sent twice at once, got the lock first and has committed.
                raise _AlreadyPosted
            currency = settings.office_currency(s)
            owners = {owner_key(c) for c in cases}
            if len(owners) > 1:
                raise UserError("These cases belong to different registered owners; take a separate payment for "
                                "each owner.")
            for case in cases:
                status = CaseStatus(case.status)
                if status in NOT_YET_PAYABLE or status is CaseStatus.VOIDED:
                    raise UserError(f"Citation {case.citation_number} is {status.label.lower()}: it cannot be paid.")
            _check_versions(uow, cases, expected_versions, currency)
            running = _balances(s, [c.id for c in cases])  # one read for every case (they are locked)
            owed = sum(max(running[c.id], 0) for c in cases)
            if owed <= 0:
                raise UserError("Nothing is owed on the chosen cases; no payment is needed.")
            _check_overpayment(s, amount_cents, owed, confirmed_overpaid_cents, currency)
            now = app.now()
            day = agency_date(s, now)
            drawer = _drawer_for_posting(uow, day)
            # The ids first (one round trip): the payment is then written sealed with its receipt number,
            # and each ledger entry sealed, without a look-up for a duplicate (its payment is new).
            ids = reserve_ids_of(s, {Payment.__tablename__: 1, LedgerEntry.__tablename__: len(cases)})
            payment_id = ids[Payment.__tablename__][0]
            payment = _new_payment(
                uow, source="counter", method=method, external_id=request, amount_cents=amount_cents,
                received_at=now, value_date=day, reference=reference,
                payer_name=payer_name, card_last4=last4, cheque_number=cheque, drawer_id=drawer.id,
                match_method="counter", payment_id=payment_id, receipt_number=f"R{day:%y%m%d}-{payment_id:06d}")
            allocations = apply_to_cases(uow, payment, cases, running=running,
                                         entry_ids=iter(ids[LedgerEntry.__tablename__]),
                                         memo=f"{method_label(method)} at the counter, receipt "
                                              f"{payment.receipt_number}")
            overpaid = max(amount_cents - owed, 0)
            uow.audit("payment.counter", "payment", payment.id,
                      after={"amount_cents": amount_cents, "method": method, "receipt": payment.receipt_number,
                             "cases": [a.citation_number for a in allocations], "overpaid_cents": overpaid})
            uow.commit()
            return CounterResult(payment.id, payment.receipt_number or "", amount_cents, tuple(allocations),
                                 overpaid, currency, change)
    except (IntegrityError, _AlreadyPosted):
        # Another window posted the same request at the same moment: it won; report its result.
        existing = _existing_counter_payment(app, actor, request)
        if existing is None:
            raise
        return existing


def _check_overpayment(s: Session, amount_cents: int, owed_cents: int, confirmed_cents: int | None,
                       currency: str) -> None:
    """Refuse an unconfirmed overpayment over the agency's limits (a $200 note on a $94 balance, 2000 typed
    for 20.00): the clerk confirms the exact refund it creates, or corrects the amount."""
    overpaid = amount_cents - owed_cents
    limit_cents = int(settings.get(s, "payments.overpay_confirm_cents"))
    limit_percent = int(settings.get(s, "payments.overpay_confirm_percent"))
    if not overpayment_needs_confirmation(overpaid, owed_cents, limit_cents, limit_percent):
        return
    if confirmed_cents == overpaid:
        return
    refund = format_cents(overpaid, currency)
    raise OverpaymentNotConfirmed(
        f"{format_cents(amount_cents, currency)} is {refund} more than the {format_cents(owed_cents, currency)} "
        f"owed: {refund} would go to the refund queue. Check the amount; take it only if the payer means to "
        f"overpay.", overpaid_cents=overpaid, owed_cents=owed_cents, currency=currency)


class _AlreadyPosted(Exception):
    """Internal: the request was posted by a concurrent call while this one waited for the case lock."""


def _existing_counter_payment(app: AppContext, actor: Actor, request: str) -> CounterResult | None:
    with app.reader(actor, Permission.POST_PAYMENTS) as uow:
        s = uow.session
        payment = s.scalar(select(Payment).where(Payment.source == "counter", Payment.external_id == request))
        if payment is None:
            return None
        allocations = _allocations_of(s, payment)
        owed_before = sum(a.applied_cents for a in allocations)
        return CounterResult(payment.id, payment.receipt_number or "", payment.amount_cents, tuple(allocations),
                             max(payment.amount_cents - owed_before, 0), settings.office_currency(s), None,
                             already_posted=True)


def _allocations_of(s: Session, payment: Payment) -> list[Allocation]:
    rows = s.execute(
        select(LedgerEntry.citation_id, LedgerEntry.amount_cents, Citation.citation_number, Citation.plate,
               Citation.status)
        .join(Citation, Citation.id == LedgerEntry.citation_id)
        .where(LedgerEntry.payment_id == payment.id, LedgerEntry.kind == EntryKind.PAYMENT.value)
        .order_by(LedgerEntry.id)).all()
    bal = _balances(s, [r[0] for r in rows])
    return [Allocation(cid, number, plate, -amount, bal[cid], status) for cid, amount, number, plate, status in rows]


# --------------------------------------------------------------------------- drawers (posting side)


def _drawer_for_posting(uow: UnitOfWork, day: date) -> CashDrawer:
    s = uow.session
    drawer = s.scalar(select(CashDrawer).where(CashDrawer.user_id == uow.actor.user_id,
                                               CashDrawer.business_date == day))
    if drawer is None:
        float_cents = int(settings.get(s, "payments.opening_float_cents"))
        drawer = CashDrawer(user_id=uow.actor.user_id, business_date=day, opened_at=uow.app.now(),
                            opening_float_cents=float_cents)
        s.add(drawer)
        s.flush()
        uow.audit("drawer.opened", "cash_drawer", drawer.id,
                  after={"business_date": day, "opening_float_cents": float_cents})
    elif drawer.closed_at is not None:
        raise UserError(f"Your cash drawer for {day:%Y-%m-%d} is already closed; a supervisor must reopen it "
                        f"before you take another payment.")
    return drawer


# --------------------------------------------------------------------------- receipts


def receipt_data(app: AppContext, actor: Actor, payment_id: int, *, tendered_cents: int | None = None,
                 reprint: bool = False) -> dict[str, Any]:
    """Everything a receipt shows, as plain values. The keys follow `reports.data.ReceiptData`
    (agency and allocations are nested dicts), so the printed receipt is a direct translation."""
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        s = uow.session
        payment = s.get(Payment, payment_id)
        if payment is None:
            raise NotFound(f"Payment {payment_id} does not exist.")
        clerk = s.get(User, payment.user_id) if payment.user_id else None
        allocations = _allocations_of(s, payment)
        profile = str(settings.get(s, "agency.profile"))
        tz_name = str(settings.get(s, "agency.timezone"))
        agency = {
            "name": settings.get(s, "agency.name"),
            "department": settings.get(s, "agency.department"),
            "return_address_lines": tuple(settings.get(s, "agency.address")),
            "phone": settings.get(s, "agency.phone"),
            "pay_url_template": settings.get(s, "agency.pay_url"),
            "currency": settings.office_currency(s),
        }
        if payment.method == "card":
            detail = f"card ending {payment.card_last4}" + (f", ref {payment.reference}" if payment.reference else "")
        elif payment.method == "check":
            detail = f"cheque {payment.cheque_number}" if payment.cheque_number else ""
        else:
            detail = ""
        payer = payment.payer_name or ""
        if not payer and allocations:
            case = s.get(Citation, allocations[0].citation_id)
            owner = s.get(RegisteredOwner, case.owner_id) if case is not None and case.owner_id else None
            payer = owner.name if owner is not None else ""
        return {
            "profile_code": profile,
            "agency": agency,
            "receipt_number": payment.receipt_number or f"P{payment.id:06d}",
            "received_at": payment.received_at,
            "timezone_name": tz_name,
            "payer_name": payer,
            "method": method_label(payment.method),
            "method_detail": detail,
            "amount_cents": payment.amount_cents,
            "allocations": tuple({"citation_number": a.citation_number, "plate": a.plate,
                                  "applied_cents": a.applied_cents, "balance_after_cents": a.balance_after_cents}
                                 for a in allocations),
            "tendered_cents": tendered_cents,
            "change_cents": (tendered_cents - payment.amount_cents) if tendered_cents is not None else 0,
            "cashier": (clerk.full_name if clerk else "") or "",
            "workstation": "",
            "reprint": reprint,
            "status": payment.status,
            "source": payment.source,
        }


def receipt_text(data: Mapping[str, Any]) -> str:
    """The receipt as plain text, shown in the counter's receipt dialog until printing is wired."""
    tz = ZoneInfo(str(data["timezone_name"]))
    agency = data["agency"]
    currency = str(agency["currency"])
    width = 46
    lines = [str(agency["name"]).center(width).rstrip()]
    lines += [part.center(width).rstrip() for part in textwrap.wrap(str(agency["department"]), width)]
    lines += [str(line).center(width).rstrip() for line in agency["return_address_lines"]]
    lines += ["", "PAYMENT RECEIPT" + (" (REPRINT)" if data.get("reprint") else ""),
              f"Receipt   {data['receipt_number']}",
              f"Date      {data['received_at'].astimezone(tz):%Y-%m-%d %H:%M %Z}",
              f"Cashier   {data['cashier']}"]
    if data["payer_name"]:
        lines.append(f"From      {data['payer_name']}")
    method = data["method"] + (f" ({data['method_detail']})" if data["method_detail"] else "")
    lines += [f"Method    {method}", "-" * width,
              f"{'Citation':<16}{'Plate':<9}{'Paid':>10}{'Balance':>11}"]
    for a in data["allocations"]:
        lines.append(f"{a['citation_number']:<16}{a['plate']:<9}{format_cents(a['applied_cents'], currency):>10}"
                     f"{format_cents(a['balance_after_cents'], currency):>11}")
    lines += ["-" * width, f"{'Total received':<25}{format_cents(data['amount_cents'], currency):>21}"]
    if data.get("tendered_cents") is not None:
        lines += [f"{'Tendered':<25}{format_cents(data['tendered_cents'], currency):>21}",
                  f"{'Change':<25}{format_cents(data['change_cents'], currency):>21}"]
    credit = -sum(min(a["balance_after_cents"], 0) for a in data["allocations"])
    if credit:
        lines.append(f"Overpaid by {format_cents(credit, currency)}: a refund will be reviewed.")
    if data.get("status") == "reversed":
        lines.append("THIS PAYMENT HAS BEEN REVERSED.")
    lines += ["", f"Questions: {agency['phone']}".center(width).rstrip(), "Keep this receipt.".center(width).rstrip()]
    return "\n".join(lines)


# --------------------------------------------------------------------------- manual matching


@dataclass(frozen=True)
class PaymentRow:
    """A payment as the queues and lists show it."""

    id: int
    source: str
    method: str
    external_id: str
    amount_cents: int
    received_at: datetime
    value_date: date
    reference: str | None
    payer_name: str | None
    status: str
    match_method: str | None
    match_note: str | None
    receipt_number: str | None
    #: the office's, in which the payment was taken
    currency: str
    citation_numbers: tuple[str, ...] = ()
    reversed_at: datetime | None = None
    reversal_reason: str | None = None
    import_filename: str | None = None


def _rows(s: Session, payments: Sequence[Payment], currency: str) -> list[PaymentRow]:
    ids = [p.id for p in payments]
    numbers: dict[int, list[str]] = {}
    if ids:
        for pid, number in s.execute(
                select(LedgerEntry.payment_id, Citation.citation_number)
                .join(Citation, Citation.id == LedgerEntry.citation_id)
                .where(LedgerEntry.payment_id.in_(ids), LedgerEntry.kind == EntryKind.PAYMENT.value)
                .order_by(LedgerEntry.id)):
            numbers.setdefault(int(pid or 0), []).append(number)
    import_ids = {p.import_id for p in payments if p.import_id}
    files = dict(s.execute(select(PaymentImport.id, PaymentImport.filename)
                           .where(PaymentImport.id.in_(import_ids))).all()) if import_ids else {}
    return [PaymentRow(p.id, p.source, p.method, p.external_id, p.amount_cents, p.received_at, p.value_date,
                       p.reference, p.payer_name, p.status, p.match_method, p.match_note, p.receipt_number,
                       currency, tuple(numbers.get(p.id, ())), p.reversed_at, p.reversal_reason,
                       files.get(p.import_id) if p.import_id else None) for p in payments]


def unmatched_payments(app: AppContext, actor: Actor) -> list[PaymentRow]:
    """The unmatched queue, oldest first."""
    with app.reader(actor, Permission.MATCH_PAYMENTS) as uow:
        found = list(uow.session.scalars(select(Payment).where(Payment.status == "unmatched")
                                         .order_by(Payment.value_date, Payment.id)))
        return _rows(uow.session, found, settings.office_currency(uow.session))


def payments_list(app: AppContext, actor: Actor, *, day: date | None = None, source: str | None = None,
                  status: str | None = None, limit: int = 2000) -> list[PaymentRow]:
    """Payments, newest first, optionally of one value date, source or status."""
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        q = select(Payment)
        if day is not None:
            q = q.where(Payment.value_date == day)
        if source:
            q = q.where(Payment.source == source)
        if status:
            q = q.where(Payment.status == status)
        found = list(uow.session.scalars(q.order_by(Payment.received_at.desc(), Payment.id.desc()).limit(limit)))
        return _rows(uow.session, found, settings.office_currency(uow.session))


def payment_row(app: AppContext, actor: Actor, payment_id: int) -> PaymentRow:
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        payment = uow.session.get(Payment, payment_id)
        if payment is None:
            raise NotFound(f"Payment {payment_id} does not exist.")
        return _rows(uow.session, [payment], settings.office_currency(uow.session))[0]


def find_payment(app: AppContext, actor: Actor, text: str) -> PaymentRow:
    """A payment by receipt number (R261124-000123), payment id, or cheque number (the latest one)."""
    typed = text.strip()
    if not typed:
        raise UserError("Type a receipt number, a payment id or a cheque number.")
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        s = uow.session
        found = s.scalar(select(Payment).where(Payment.receipt_number == typed.upper()))
        if found is None and typed.isdigit():
            found = s.get(Payment, int(typed))
        if found is None:
            found = s.scalar(select(Payment).where(Payment.cheque_number == typed)
                             .order_by(Payment.received_at.desc()).limit(1))
        if found is None:
            raise NotFound(f"No payment has the receipt number, id or cheque number {typed!r}.")
        return _rows(s, [found], settings.office_currency(s))[0]


def match_by_hand(app: AppContext, actor: Actor, payment_id: int, citation_ids: Sequence[int],
                  note: str = "") -> list[Allocation]:
    """A clerk assigns an unmatched payment to one or more cases (oldest first, remainder as credit)."""
    with app.uow(actor, Permission.MATCH_PAYMENTS) as uow:
        payment = uow.session.execute(select(Payment).where(Payment.id == payment_id).with_for_update()) \
            .scalar_one_or_none()
        if payment is None:
            raise NotFound(f"Payment {payment_id} does not exist.")
        if payment.status != "unmatched":
            raise UserError(f"Payment {payment_id} is {payment.status}, not waiting to be matched; "
                            f"someone may have matched it already. Refresh the queue.")
        cases = _lock_cases(uow, citation_ids)
        for case in cases:
            if CaseStatus(case.status) in NOT_YET_PAYABLE:
                raise UserError(f"Citation {case.citation_number} is still in review; match the payment once the "
                                f"citation is approved.")
        allocations = apply_to_cases(uow, payment, cases, memo=f"{source_label(payment.source)} payment matched by "
                                                                 f"hand ({payment.reference or 'no reference'})")
        who = actor.full_name or actor.username
        payment.status = "matched"
        payment.match_method = "manual"
        payment.match_note = f"matched by {who}" + (f": {note.strip()}" if note.strip() else "")
        uow.audit("payment.matched_by_hand", "payment", payment.id,
                  after={"cases": [a.citation_number for a in allocations]}, reason=note.strip() or None)
        uow.commit()
        return allocations


# --------------------------------------------------------------------------- reversals


@dataclass(frozen=True)
class ReversalResult:
    payment_id: int
    reinstated_cents: int
    reopened: tuple[str, ...]
    letters_queued: int
    #: the office's, in which the payment was taken
    currency: str
    cases: tuple[str, ...] = field(default_factory=tuple)


def reverse_payment(app: AppContext, actor: Actor, payment_id: int, reason: str) -> ReversalResult:
    """A supervisor reverses a payment (a cheque that bounced at the counter, a chargeback)."""
    if not reason.strip():
        raise UserError("Give the reason for the reversal (e.g. 'cheque returned unpaid').")
    with app.uow(actor, Permission.REVERSE_PAYMENTS) as uow:
        payment = uow.session.execute(select(Payment).where(Payment.id == payment_id).with_for_update()) \
            .scalar_one_or_none()
        if payment is None:
            raise NotFound(f"Payment {payment_id} does not exist.")
        result = reverse_in(uow, payment, reason.strip())
        uow.commit()
        return result


def reverse_in(uow: UnitOfWork, payment: Payment, reason: str) -> ReversalResult:
    """Reverse `payment` inside the caller's unit of work: a REVERSAL entry for each case it paid
    (reinstating exactly what it paid), PAID cases back to OPEN, a reversal letter queued per case."""
    if payment.status == "reversed":
        raise UserError(f"Payment {payment.id} was already reversed ({payment.reversal_reason}).")
    s = uow.session
    entries = list(s.scalars(select(LedgerEntry).where(LedgerEntry.payment_id == payment.id,
                                                       LedgerEntry.kind == EntryKind.PAYMENT.value)
                             .order_by(LedgerEntry.id)))
    total = 0
    reopened: list[str] = []
    cases_done: list[str] = []
    letters = 0
    # Every case is locked before anything is written (and so before the audit chain's head is
    # taken): all writers lock cases first, in id order, which keeps two workstations from deadlocking.
    locked = {case_id: case_ops.load_case(uow, case_id) for case_id in sorted({e.citation_id for e in entries})}
    for case_id, case in locked.items():
        for entry in (e for e in entries if e.citation_id == case_id):
            posted = case_ops.post(uow, case, EntryKind.REVERSAL, -entry.amount_cents,
                                   memo=f"payment {payment.id} reversed: {reason}", payment_id=payment.id,
                                   effective=agency_date(s, uow.app.now()),
                                   reverses_id=entry.id, dedupe_key=f"reversal:{entry.id}")
            if posted is not None:
                total += -entry.amount_cents
        after = case_ops.balance(uow, case.id)
        if CaseStatus(case.status) is CaseStatus.PAID and after > 0:
            case_ops.move(uow, case, CaseStatus.OPEN, reason=f"payment {payment.id} reversed: {reason}",
                          action="citation.reopened")
            reopened.append(case.citation_number)
        else:
            touch_case(case)
        if queue_letter(uow, case, "reversal_letter", f"reversal_letter:{payment.id}"):
            letters += 1
        cases_done.append(case.citation_number)
    payment.status = "reversed"
    payment.reversed_at = uow.app.now()
    payment.reversal_reason = reason
    uow.audit("payment.reversed", "payment", payment.id,
              after={"reinstated_cents": total, "reopened": reopened, "cases": cases_done}, reason=reason)
    return ReversalResult(payment.id, total, tuple(reopened), letters, settings.office_currency(s), tuple(cases_done))


def queue_letter(uow: UnitOfWork, case: Citation, kind: str, dedupe_key: str) -> bool:
    """Queue a letter to the case's registered owner for the notices run; False if already queued."""
    s = uow.session
    exists = s.scalar(select(Notice.id).where(Notice.citation_id == case.id, Notice.dedupe_key == dedupe_key))
    if exists:
        return False
    notice = Notice(citation_id=case.id, kind=kind, stage=None, status="queued", queued_at=uow.app.now(),
                    owner_id=case.owner_id, dedupe_key=dedupe_key)
    s.add(notice)
    s.flush()
    uow.audit("notice.queued", "citation", case.id, after={"notice": notice.id, "kind": kind})
    return True


# --------------------------------------------------------------------------- export


EXPORT_COLUMNS = ["payment_id", "source", "method", "external_id", "amount_cents", "received_at", "value_date",
                  "status", "citation_numbers", "reference", "payer_name", "receipt_number", "match_method",
                  "reversed_at", "reversal_reason"]


def export_payments(app: AppContext, actor: Actor, out: Path,
                    progress: Callable[[int], None] | None = None, batch: int = 5000) -> int:
    """Every payment as CSV (citation numbers joined with ';'), written whole or not at all."""
    out = Path(out)
    tmp = out.with_name(out.name + ".partial")
    written = 0
    with app.reader(actor, Permission.EXPORT_DATA) as uow:
        s = uow.session
        currency = settings.office_currency(s)
        try:
            with tmp.open("w", newline="", encoding="utf-8") as fh:
                writer = csv_writer(fh)  # formulas neutralised (issue 14)
                writer.writerow(EXPORT_COLUMNS)
                last = 0
                while True:
                    found = list(s.scalars(select(Payment).where(Payment.id > last).order_by(Payment.id)
                                           .limit(batch)))
                    if not found:
                        break
                    for r in _rows(s, found, currency):
                        writer.writerow([r.id, r.source, r.method, r.external_id, r.amount_cents,
                                         r.received_at.isoformat(), r.value_date.isoformat(), r.status,
                                         ";".join(r.citation_numbers), r.reference or "", r.payer_name or "",
                                         r.receipt_number or "", r.match_method or "",
                                         r.reversed_at.isoformat() if r.reversed_at else "",
                                         r.reversal_reason or ""])
                    written += len(found)
                    last = found[-1].id
                    if progress:
                        progress(written)
            tmp.replace(out)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise UserError(f"Cannot write {out}: {exc.strerror}.") from exc
    return written
