"""Shared steps of many use cases, run inside the caller's unit of work: moving a case,
posting to its ledger, and placing or releasing holds. Each writes its own audit entry.

A hold placed or released reschedules the case at once (``schedule.hold_changed``, below this module)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import select

from desktop.domain import text as widths
from desktop.domain.errors import NotFound, UserError
from desktop.domain.ledger import EntryKind, validate_entry
from desktop.domain.lifecycle import CLOSED_STATES, CaseStatus, check_move
from desktop.domain.text import clean_text
from desktop.persistence.models import Citation, Hold, LedgerEntry
from desktop.services.cases.balances import balance_of
from desktop.services.cases.schedule import hold_changed
from desktop.services.core.context import UnitOfWork

HOLD_KINDS = ("appeal", "payment_plan", "supervisor", "returned_mail")
#: cases locked by one statement (``load_cases``)
LOCK_CHUNK = 500


def load_case(uow: UnitOfWork, citation_id: int, *, for_update: bool = True) -> Citation:
    """The case row, locked for the rest of the transaction on PostgreSQL."""
    q = select(Citation).where(Citation.id == citation_id)
    if for_update:
        q = q.with_for_update()
    c = uow.session.execute(q).scalar_one_or_none()
    if c is None:
        raise NotFound(f"Case {citation_id} does not exist.")
    return c


def load_cases(uow: UnitOfWork, citation_ids: Iterable[int]) -> dict[int, Citation]:
    """The case rows by id, locked as ``load_case`` locks one, always in id order (two jobs locking
    overlapping cases never deadlock), in one statement per 500 cases instead of one per case."""
    ids = sorted({int(i) for i in citation_ids})
    found: dict[int, Citation] = {}
    for start in range(0, len(ids), LOCK_CHUNK):
        # ORDER BY before FOR UPDATE: the rows are locked in the order they are sorted in
        found.update({c.id: c for c in uow.session.scalars(
            select(Citation).where(Citation.id.in_(ids[start:start + LOCK_CHUNK])).order_by(Citation.id)
            .with_for_update())})
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(f"Case {missing[0]} does not exist.")
    return found


def move(uow: UnitOfWork, case: Citation, target: CaseStatus, reason: str | None = None,
         action: str | None = None) -> None:
    """Change a case's status if the life cycle allows it; audited with before and after."""
    current = CaseStatus(case.status)
    check_move(case.citation_number, current, target)
    case.status = target.value
    now = uow.app.now()
    if target in CLOSED_STATES:
        case.closed_at = now
        case.next_action = None
        case.next_action_date = None
    elif current in CLOSED_STATES:
        case.closed_at = None
    uow.audit(action or f"citation.{target.value}", "citation", case.id,
              before={"status": current.value}, after={"status": target.value}, reason=reason)


def post(uow: UnitOfWork, case: Citation, kind: EntryKind, amount_cents: int, *, memo: str,
         effective: date | None = None, payment_id: int | None = None, reverses_id: int | None = None,
         dedupe_key: str | None = None, at: datetime | None = None, entry_id: int | None = None) -> LedgerEntry | None:
    """Add one ledger entry. With a `dedupe_key`, a second post of the same key is a no-op (returns None).

    ``entry_id``: an id the caller reserved (``persistence.bulk.reserve_ids``) for an entry it knows is new
    (its dedupe key names a payment created in the same transaction): no look-up and no write yet; the
    entry is written, sealed, with the session's next flush (a file of thousands of payments in one batch)."""
    validate_entry(kind, amount_cents)
    if dedupe_key is not None and entry_id is None:
        exists = uow.session.scalar(select(LedgerEntry.id).where(
            LedgerEntry.citation_id == case.id, LedgerEntry.dedupe_key == dedupe_key))
        if exists:
            return None
    now = at or uow.app.now()
    entry = LedgerEntry(id=entry_id, citation_id=case.id, kind=kind.value, amount_cents=amount_cents, at=now,
                        effective_date=effective or now.date(), user_id=uow.actor.user_id,
                        payment_id=payment_id, reverses_id=reverses_id, dedupe_key=dedupe_key, memo=memo)
    uow.session.add(entry)
    if entry_id is None:
        uow.session.flush()
    uow.audit(f"ledger.{kind.value}", "citation", case.id,
              after={"entry": entry.id, "kind": kind.value, "amount_cents": amount_cents, "memo": memo})
    return entry


def balance(uow: UnitOfWork, citation_id: int) -> int:
    """The case's balance, read in the caller's unit of work (``balances.balance_of``)."""
    return balance_of(uow.session, citation_id)


def active_holds(uow: UnitOfWork, citation_id: int) -> list[Hold]:
    return list(uow.session.scalars(select(Hold).where(Hold.citation_id == citation_id, Hold.ended_at.is_(None))))


def place_hold(uow: UnitOfWork, case: Citation, kind: str, reason: str) -> Hold:
    """Pause penalties and notices. `Citation.on_hold` mirrors 'has an active hold'; the next action shows it."""
    if kind not in HOLD_KINDS:
        raise UserError(f"'{kind}' is not a kind of hold ({', '.join(HOLD_KINDS)}).")
    if not reason.strip():
        raise UserError("Give a reason for the hold.")
    clean_text(reason, "The reason for the hold", widths.REASON)
    hold = Hold(citation_id=case.id, kind=kind, reason=reason.strip(), started_at=uow.app.now(),
                created_by=uow.actor.user_id)
    uow.session.add(hold)
    uow.session.flush()  # the hold (and whatever the caller added: an appeal) is written; then the case
    case.on_hold = True
    uow.audit("hold.placed", "citation", case.id, after={"hold": hold.id, "kind": kind}, reason=reason)
    with uow.session.no_autoflush:  # the case row is written once, with its next action (not once a query)
        hold_changed(uow, case)
    return hold


def release_hold(uow: UnitOfWork, case: Citation, hold: Hold, reason: str) -> None:
    if hold.ended_at is not None:
        raise UserError("That hold has already been released.")
    clean_text(reason, "The reason the hold ends", widths.REASON)
    hold.ended_at = uow.app.now()
    uow.session.flush()
    case.on_hold = bool(active_holds(uow, case.id))
    uow.audit("hold.released", "citation", case.id, before={"hold": hold.id, "kind": hold.kind}, reason=reason)
    with uow.session.no_autoflush:  # everything else was flushed above: the case row is written once
        hold_changed(uow, case, released=hold)  # the case's dates move by the pause
