"""Overpayments and refunds: the refund queue, requests, a supervisor's approval, and the check that
nothing overpaid goes unnoticed.

A case is overpaid when its ledger sums to less than zero. The refund queue is computed from the
ledger every time (never a flag someone could forget to set): every overpaid case is in it, with
its open refund request if there is one. A clerk requests a refund (at most the credit held); a
supervisor other than the requester approves it, which posts a REFUND entry bringing the case
back toward zero and queues a refund letter; or rejects it with a note, and the case stays in the
queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desktop.domain import text as widths
from desktop.domain.errors import NotFound, UserError
from desktop.domain.ledger import EntryKind, format_cents
from desktop.domain.roles import Permission
from desktop.domain.text import clean_text
from desktop.persistence.models import Citation, LedgerEntry, Payment, Refund, RegisteredOwner, User
from desktop.services.cases import steps as case_ops
from desktop.services.cases.balances import balance_of
from desktop.services.core import settings
from desktop.services.core.clock import agency_date
from desktop.services.core.context import Actor, AppContext
from desktop.services.payments.posting import queue_letter


def overpaid_cases(session: Session) -> dict[int, int]:
    """Every case whose ledger sums below zero, with the credit it holds (positive cents)."""
    total = func.sum(LedgerEntry.amount_cents)
    rows = session.execute(select(LedgerEntry.citation_id, total).group_by(LedgerEntry.citation_id)
                           .having(total < 0)).all()
    return {int(cid): -int(amount) for cid, amount in rows}


@dataclass(frozen=True)
class RefundQueueRow:
    """An overpaid case and, if there is one, its open refund request."""

    citation_id: int
    citation_number: str
    plate: str
    status: str
    credit_cents: int
    owner_name: str | None
    last_payment_on: date | None
    last_payer: str | None
    refund_id: int | None
    refund_cents: int | None
    requested_by: str | None
    requested_at: datetime | None
    reason: str | None
    #: the office's, in which the credit was paid (and is refunded)
    currency: str
    #: the last decision on this case's refunds (e.g. "rejected: duplicate of ..."), for context
    last_decision: str | None = None
    #: user id of the requester (the screen disables Approve for them)
    requested_by_id: int | None = None


def refund_queue(app: AppContext, actor: Actor) -> list[RefundQueueRow]:
    """Every overpaid case, largest credit first."""
    with app.reader(actor, Permission.REQUEST_REFUNDS) as uow:
        s = uow.session
        credits = overpaid_cases(s)
        if not credits:
            return []
        ids = list(credits)
        cases = {c.id: c for c in s.scalars(select(Citation).where(Citation.id.in_(ids)))}
        owner_ids = {c.owner_id for c in cases.values() if c.owner_id}
        owners = dict(s.execute(select(RegisteredOwner.id, RegisteredOwner.name)
                                .where(RegisteredOwner.id.in_(owner_ids))).all()) if owner_ids else {}
        open_requests = {r.citation_id: r for r in s.scalars(select(Refund).where(Refund.citation_id.in_(ids),
                                                                                  Refund.status == "requested"))}
        decided: dict[int, Refund] = {}
        for r in s.scalars(select(Refund).where(Refund.citation_id.in_(ids), Refund.status != "requested")
                           .order_by(Refund.id)):
            decided[r.citation_id] = r
        names = dict(s.execute(select(User.id, User.full_name)).all())
        currency = settings.office_currency(s)
        last_payments: dict[int, tuple[date, str | None]] = {}
        for cid, day, payer in s.execute(
                select(LedgerEntry.citation_id, Payment.value_date, Payment.payer_name)
                .join(Payment, Payment.id == LedgerEntry.payment_id)
                .where(LedgerEntry.citation_id.in_(ids), LedgerEntry.kind == EntryKind.PAYMENT.value)
                .order_by(LedgerEntry.id)):
            last_payments[int(cid)] = (day, payer)
        out = []
        for cid, credit in sorted(credits.items(), key=lambda kv: (-kv[1], kv[0])):
            c = cases[cid]
            req = open_requests.get(cid)
            last = decided.get(cid)
            paid_on, payer = last_payments.get(cid, (None, None))
            out.append(RefundQueueRow(
                cid, c.citation_number, c.plate, c.status, credit,
                owners.get(c.owner_id) if c.owner_id else None, paid_on, payer,
                req.id if req else None, req.amount_cents if req else None,
                names.get(req.requested_by) if req and req.requested_by else None,
                req.requested_at if req else None, req.reason if req else None, currency,
                f"{last.status}: {last.decision_note or ''}".strip(": ") if last else None,
                req.requested_by if req else None))
        return out


def request_refund(app: AppContext, actor: Actor, citation_id: int, *, amount_cents: int | None = None,
                   payee_name: str | None = None, reason: str = "Overpayment") -> int:
    """A clerk asks for a refund of (part of) a case's credit; returns the refund id."""
    if not reason.strip():
        raise UserError("Say why the refund is due (e.g. 'paid twice: counter and online').")
    clean_text(reason, "The reason for the refund", widths.REASON)
    clean_text(payee_name, "The payee's name", widths.NAME)
    with app.uow(actor, Permission.REQUEST_REFUNDS) as uow:
        s = uow.session
        case = case_ops.load_case(uow, citation_id)
        currency = settings.office_currency(s)
        credit = -case_ops.balance(uow, case.id)
        if credit <= 0:
            raise UserError(f"Citation {case.citation_number} holds no credit (its balance is "
                            f"{format_cents(-credit, currency)}); there is nothing to refund.")
        amount = credit if amount_cents is None else amount_cents
        if amount <= 0:
            raise UserError("A refund must be a positive amount.")
        if amount > credit:
            raise UserError(f"Citation {case.citation_number} holds {format_cents(credit, currency)} of credit; a "
                            f"refund of {format_cents(amount, currency)} would pay out more than was overpaid.")
        pending = s.scalar(select(Refund.id).where(Refund.citation_id == case.id, Refund.status == "requested"))
        if pending:
            raise UserError(f"Citation {case.citation_number} already has refund request {pending} waiting for "
                            f"approval.")
        payee = (payee_name or "").strip() or _default_payee(s, case)
        refund = Refund(citation_id=case.id, amount_cents=amount, payee_name=payee or None, reason=reason.strip(),
                        status="requested", requested_by=actor.user_id, requested_at=app.now())
        s.add(refund)
        s.flush()
        uow.audit("refund.requested", "citation", case.id,
                  after={"refund": refund.id, "amount_cents": amount, "payee": payee}, reason=reason.strip())
        uow.commit()
        return refund.id


def _default_payee(s: Session, case: Citation) -> str:
    payer = s.scalar(select(Payment.payer_name).join(LedgerEntry, LedgerEntry.payment_id == Payment.id)
                     .where(LedgerEntry.citation_id == case.id, Payment.payer_name.is_not(None))
                     .order_by(LedgerEntry.id.desc()).limit(1))
    if payer:
        return str(payer)
    if case.owner_id:
        owner = s.get(RegisteredOwner, case.owner_id)
        if owner is not None:
            return owner.name
    return ""


def _decide_checks(actor: Actor, refund: Refund | None, refund_id: int) -> Refund:
    if refund is None:
        raise NotFound(f"Refund {refund_id} does not exist.")
    if refund.status != "requested":
        raise UserError(f"Refund {refund_id} was already {refund.status}.")
    if actor.user_id is None:
        raise UserError("A refund is decided by a supervisor signed in as themselves, not by the system account.")
    if refund.requested_by == actor.user_id:
        raise UserError("You requested this refund; another supervisor must approve or reject it.")
    return refund


def approve_refund(app: AppContext, actor: Actor, refund_id: int, note: str = "") -> None:
    """A supervisor (not the requester) approves: REFUND entry, refund letter queued."""
    with app.uow(actor, Permission.APPROVE_REFUNDS) as uow:
        s = uow.session
        found = s.execute(select(Refund).where(Refund.id == refund_id).with_for_update()).scalar_one_or_none()
        refund = _decide_checks(actor, found, refund_id)
        case = case_ops.load_case(uow, refund.citation_id)
        credit = -case_ops.balance(uow, case.id)
        if refund.amount_cents > credit:
            currency = settings.office_currency(s)
            raise UserError(
                f"Citation {case.citation_number} now holds only {format_cents(max(credit, 0), currency)} of credit "
                f"(a payment may have been reversed since the request); refunding "
                f"{format_cents(refund.amount_cents, currency)} would pay out money the agency does not hold. Reject "
                f"this request and request the right amount.")
        case_ops.post(uow, case, EntryKind.REFUND, refund.amount_cents,
                      memo=f"refund {refund.id} to {refund.payee_name or 'the payer'}: {refund.reason}",
                      dedupe_key=f"refund:{refund.id}", effective=agency_date(s, app.now()))
        refund.status = "approved"
        refund.decided_by = actor.user_id
        refund.decided_at = app.now()
        refund.decision_note = note.strip() or None
        queue_letter(uow, case, "refund_letter", f"refund_letter:{refund.id}")
        uow.audit("refund.approved", "citation", case.id,
                  after={"refund": refund.id, "amount_cents": refund.amount_cents}, reason=note.strip() or None)
        uow.commit()


def reject_refund(app: AppContext, actor: Actor, refund_id: int, note: str) -> None:
    """A supervisor (not the requester) rejects with a note; the case stays in the refund queue."""
    if not note.strip():
        raise UserError("Say why the refund is rejected; the clerk will see it in the queue.")
    with app.uow(actor, Permission.APPROVE_REFUNDS) as uow:
        found = uow.session.execute(select(Refund).where(Refund.id == refund_id).with_for_update()) \
            .scalar_one_or_none()
        refund = _decide_checks(actor, found, refund_id)
        refund.status = "rejected"
        refund.decided_by = actor.user_id
        refund.decided_at = app.now()
        refund.decision_note = note.strip()
        uow.audit("refund.rejected", "citation", refund.citation_id, after={"refund": refund.id}, reason=note.strip())
        uow.commit()


@dataclass(frozen=True)
class RefundRow:
    id: int
    citation_number: str
    amount_cents: int
    payee_name: str | None
    reason: str
    status: str
    requested_by: str | None
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    #: the office's, in which the refund is paid
    currency: str


def refunds_list(app: AppContext, actor: Actor, status: str | None = None) -> list[RefundRow]:
    with app.reader(actor, Permission.REQUEST_REFUNDS) as uow:
        s = uow.session
        names = dict(s.execute(select(User.id, User.full_name)).all())
        currency = settings.office_currency(s)
        q = select(Refund, Citation.citation_number).join(Citation, Citation.id == Refund.citation_id)
        if status:
            q = q.where(Refund.status == status)
        return [RefundRow(r.id, number, r.amount_cents, r.payee_name, r.reason, r.status,
                          names.get(r.requested_by) if r.requested_by else None, r.requested_at,
                          names.get(r.decided_by) if r.decided_by else None, r.decided_at, r.decision_note, currency)
                for r, number in s.execute(q.order_by(Refund.id.desc())).all()]


def unnoticed_overpayments(app: AppContext, actor: Actor) -> list[str]:
    """The check that nothing overpaid goes unnoticed; an empty list means all is well.

    Compares the ledger itself (every case summing below zero) with what the refund queue shows,
    and every open request with the credit its case still holds.
    """
    problems: list[str] = []
    queue = {row.citation_id: row for row in refund_queue(app, actor)}
    with app.reader(actor, Permission.REQUEST_REFUNDS) as uow:
        s = uow.session
        currency = settings.office_currency(s)
        for cid, credit in overpaid_cases(s).items():
            row = queue.get(cid)
            number = s.scalar(select(Citation.citation_number).where(Citation.id == cid))
            if row is None:
                problems.append(f"Citation {number} is overpaid by {format_cents(credit, currency)} but is not in the "
                                f"refund queue.")
            elif row.credit_cents != credit:
                problems.append(f"Citation {number}: the refund queue shows {format_cents(row.credit_cents, currency)} "
                                f"of credit, the ledger {format_cents(credit, currency)}.")
        for refund in s.scalars(select(Refund).where(Refund.status == "requested")):
            credit = -balance_of(s, refund.citation_id)
            if refund.amount_cents > credit:
                number = s.scalar(select(Citation.citation_number).where(Citation.id == refund.citation_id))
                problems.append(f"Refund request {refund.id} on citation {number} asks for "
                                f"{format_cents(refund.amount_cents, currency)} but the case holds "
                                f"{format_cents(max(credit, 0), currency)} of credit; reject it and request again.")
    return problems
