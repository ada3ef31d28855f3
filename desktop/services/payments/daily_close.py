"""The daily close: each clerk's cash drawer balanced, the day's payments reconciled against the bank
files with every difference listed, and the general-ledger export.

Drawers: one per clerk per business day (the agency's local date), opened with a float the first
time the clerk takes a payment (or explicitly). Expected cash = float + cash taken; expected
cheques = cheques taken; payments reversed the same day (money handed back at the counter) are
left out. Closing records what was counted and the difference.

Reconciliation of a day D (by value date):
* every payment of D is explained: applied to cases (its PAYMENT entries), waiting unmatched, or
  reversed (PAYMENT and REVERSAL entries cancel out); any payment whose ledger does not add up
  is listed as a ledger mismatch (it never should);
* each imported file's total against what was posted from it (a payment already recorded from an
  earlier file is listed);
* expected deposits (the counter's counted cash and cheques less the float, each lockbox file,
  the day's card settlements) against the deposits the bank's BAI2 statements report within three
  days; a deposit not found, or a bank deposit nobody expected, is listed;
* drawers still open or closed with a difference, unmatched and reversed payments, and any
  daily feed (setting `payments.daily_feeds`) with no file for the day are listed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop.domain.errors import NotFound, UserError
from desktop.domain.gl import ACCOUNTS, JournalLine, entry_postings, unapplied_receipt, unapplied_returned
from desktop.domain.ledger import EntryKind, format_cents
from desktop.domain.roles import Permission
from desktop.persistence.models import CashDrawer, LedgerEntry, Payment, PaymentImport, User
from desktop.services.core import settings
from desktop.services.core.clock import agency_date, agency_zone
from desktop.services.core.context import Actor, AppContext
from desktop.services.core.imports import csv_writer
from desktop.services.payments.posting import source_label

DEPOSIT_WINDOW_DAYS = 3
PLAIN_SOURCE = {"counter": "counter", "bank": "bank", "lockbox": "lockbox", "ach": "ACH", "processor": "card"}


# --------------------------------------------------------------------------- drawers


@dataclass(frozen=True)
class DrawerSummary:
    """A clerk's drawer for one day: what should be in it, what was counted, the difference."""

    id: int
    user_id: int
    clerk: str
    business_date: date
    opened_at: datetime
    closed_at: datetime | None
    opening_float_cents: int
    cash_cents: int
    cheques_cents: int
    card_cents: int
    payment_count: int
    voided_cents: int
    counted_cash_cents: int | None
    counted_cheques_cents: int | None
    difference_cents: int | None
    #: the office's, in which the drawer's money was taken
    currency: str

    @property
    def expected_cash_cents(self) -> int:
        return self.opening_float_cents + self.cash_cents

    @property
    def expected_cheques_cents(self) -> int:
        return self.cheques_cents

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    @property
    def deposit_cents(self) -> int:
        """What goes to the bank: counted (or, while open, expected) cash and cheques, less the float."""
        cash = self.counted_cash_cents if self.counted_cash_cents is not None else self.expected_cash_cents
        cheques = self.counted_cheques_cents if self.counted_cheques_cents is not None else self.cheques_cents
        return cash - self.opening_float_cents + cheques


def _summary(s: Session, drawer: CashDrawer) -> DrawerSummary:
    totals = {"cash": 0, "check": 0, "card": 0}
    voided = 0
    count = 0
    for p in s.scalars(select(Payment).where(Payment.drawer_id == drawer.id)):
        if (p.status == "reversed" and p.reversed_at is not None
                and agency_date(s, p.reversed_at) == drawer.business_date
                and (drawer.closed_at is None or p.reversed_at <= drawer.closed_at)):
            # Handed back at the counter before the drawer was counted; a later return is the bank's business.
            voided += p.amount_cents
            continue
        totals[p.method] = totals.get(p.method, 0) + p.amount_cents
        count += 1
    user = s.get(User, drawer.user_id)
    return DrawerSummary(drawer.id, drawer.user_id, user.full_name if user else str(drawer.user_id),
                         drawer.business_date, drawer.opened_at, drawer.closed_at, drawer.opening_float_cents,
                         totals["cash"], totals["check"], totals["card"], count, voided, drawer.counted_cash_cents,
                         drawer.counted_cheques_cents, drawer.difference_cents, settings.office_currency(s))


def open_drawer(app: AppContext, actor: Actor, opening_float_cents: int | None = None) -> DrawerSummary:
    """Open today's drawer (or change its float while it is open); returns its summary."""
    if actor.user_id is None:
        raise UserError("A cash drawer belongs to a signed-in clerk.")
    if opening_float_cents is not None and opening_float_cents < 0:
        raise UserError("The opening float cannot be negative.")
    with app.uow(actor, Permission.POST_PAYMENTS) as uow:
        s = uow.session
        day = agency_date(s, app.now())
        drawer = s.scalar(select(CashDrawer).where(CashDrawer.user_id == actor.user_id,
                                                   CashDrawer.business_date == day))
        float_cents = opening_float_cents if opening_float_cents is not None else int(
            settings.get(s, "payments.opening_float_cents"))
        if drawer is None:
            drawer = CashDrawer(user_id=actor.user_id, business_date=day, opened_at=app.now(),
                                opening_float_cents=float_cents)
            s.add(drawer)
            s.flush()
            uow.audit("drawer.opened", "cash_drawer", drawer.id,
                      after={"business_date": day, "opening_float_cents": float_cents})
        elif drawer.closed_at is not None:
            raise UserError(f"Your drawer for {day:%Y-%m-%d} is closed.")
        elif opening_float_cents is not None and opening_float_cents != drawer.opening_float_cents:
            before = drawer.opening_float_cents
            drawer.opening_float_cents = opening_float_cents
            uow.audit("drawer.float_changed", "cash_drawer", drawer.id, before={"opening_float_cents": before},
                      after={"opening_float_cents": opening_float_cents})
        summary = _summary(s, drawer)
        uow.commit()
        return summary


def my_drawer(app: AppContext, actor: Actor, day: date | None = None) -> DrawerSummary | None:
    """The acting clerk's drawer for the day (today by default), or None if not opened."""
    with app.reader(actor, Permission.POST_PAYMENTS) as uow:
        s = uow.session
        day = day or agency_date(s, app.now())
        drawer = s.scalar(select(CashDrawer).where(CashDrawer.user_id == actor.user_id,
                                                   CashDrawer.business_date == day))
        return _summary(s, drawer) if drawer else None


def drawers_for_day(app: AppContext, actor: Actor, day: date) -> list[DrawerSummary]:
    with app.reader(actor, Permission.CLOSE_DAY) as uow:
        s = uow.session
        return [_summary(s, d) for d in s.scalars(select(CashDrawer).where(CashDrawer.business_date == day)
                                                  .order_by(CashDrawer.id))]


def close_drawer(app: AppContext, actor: Actor, counted_cash_cents: int, counted_cheques_cents: int,
                 note: str = "", day: date | None = None) -> DrawerSummary:
    """The clerk counts the drawer; the difference (counted - expected) is recorded and audited."""
    if counted_cash_cents < 0 or counted_cheques_cents < 0:
        raise UserError("Counted amounts cannot be negative.")
    with app.uow(actor, Permission.CLOSE_DAY) as uow:
        s = uow.session
        day = day or agency_date(s, app.now())
        drawer = s.execute(select(CashDrawer).where(CashDrawer.user_id == actor.user_id,
                                                    CashDrawer.business_date == day).with_for_update()) \
            .scalar_one_or_none()
        if drawer is None:
            raise NotFound(f"You have no cash drawer for {day:%Y-%m-%d}: no payment was taken.")
        if drawer.closed_at is not None:
            raise UserError(f"Your drawer for {day:%Y-%m-%d} is already closed.")
        before = _summary(s, drawer)
        difference = (counted_cash_cents + counted_cheques_cents) - (before.expected_cash_cents +
                                                                     before.expected_cheques_cents)
        drawer.counted_cash_cents = counted_cash_cents
        drawer.counted_cheques_cents = counted_cheques_cents
        drawer.difference_cents = difference
        drawer.closed_at = app.now()
        uow.audit("drawer.closed", "cash_drawer", drawer.id,
                  after={"expected_cash_cents": before.expected_cash_cents,
                         "expected_cheques_cents": before.expected_cheques_cents,
                         "counted_cash_cents": counted_cash_cents, "counted_cheques_cents": counted_cheques_cents,
                         "difference_cents": difference}, reason=note.strip() or None)
        summary = _summary(s, drawer)
        uow.commit()
        return summary


def reopen_drawer(app: AppContext, actor: Actor, drawer_id: int, reason: str) -> None:
    """A supervisor reopens a closed drawer (a payment must still be taken, a miscount corrected)."""
    if not reason.strip():
        raise UserError("Give the reason for reopening the drawer.")
    with app.uow(actor, Permission.REVERSE_PAYMENTS) as uow:
        drawer = uow.session.get(CashDrawer, drawer_id)
        if drawer is None:
            raise NotFound(f"Drawer {drawer_id} does not exist.")
        if drawer.closed_at is None:
            raise UserError("That drawer is open.")
        before = {"counted_cash_cents": drawer.counted_cash_cents, "counted_cheques_cents": drawer.counted_cheques_cents,
                  "difference_cents": drawer.difference_cents}
        drawer.closed_at = None
        drawer.counted_cash_cents = drawer.counted_cheques_cents = drawer.difference_cents = None
        uow.audit("drawer.reopened", "cash_drawer", drawer.id, before=before, reason=reason.strip())
        uow.commit()


# --------------------------------------------------------------------------- reconciliation


@dataclass(frozen=True)
class SourceLine:
    """One row of the reconciliation table: the day's payments from one source."""

    source: str
    label: str
    count: int
    received_cents: int
    applied_cents: int
    unmatched_cents: int
    reversed_cents: int
    #: what the files (or, for the counter, the drawers) say came in
    reported_cents: int | None

    @property
    def difference_cents(self) -> int | None:
        return None if self.reported_cents is None else self.received_cents - self.reported_cents


@dataclass(frozen=True)
class Difference:
    """Something a supervisor must look at before the day is closed."""

    kind: str
    source: str
    amount_cents: int
    text: str


@dataclass
class DailyClose:
    day: date
    #: the office's: every amount of the day's lines, differences, drawers and deposits is in it
    currency: str
    lines: list[SourceLine] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    drawers: list[DrawerSummary] = field(default_factory=list)
    deposits_expected: list[dict[str, object]] = field(default_factory=list)
    deposits_seen: list[dict[str, object]] = field(default_factory=list)

    @property
    def received_cents(self) -> int:
        return sum(line.received_cents for line in self.lines)

    @property
    def explained(self) -> bool:
        """Every cent is explained when no difference other than unmatched/reversed items remains."""
        return not [d for d in self.differences if d.kind not in ("unmatched", "reversed")]


def _payment_ledger(s: Session, ids: list[int]) -> dict[int, dict[str, int]]:
    out: dict[int, dict[str, int]] = defaultdict(lambda: {"payment": 0, "reversal": 0})
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for pid, kind, amount in s.execute(
                select(LedgerEntry.payment_id, LedgerEntry.kind, LedgerEntry.amount_cents)
                .where(LedgerEntry.payment_id.in_(chunk))):
            out[int(pid or 0)][str(kind)] = out[int(pid or 0)].get(str(kind), 0) + int(amount)
    return out


def daily_close(app: AppContext, actor: Actor, day: date) -> DailyClose:
    """The reconciliation of one business day; see the module docstring for what is compared."""
    with app.reader(actor, Permission.CLOSE_DAY) as uow:
        s = uow.session
        currency = settings.office_currency(s)
        result = DailyClose(day, currency)
        payments = list(s.scalars(select(Payment).where(Payment.value_date == day).order_by(Payment.id)))
        ledger = _payment_ledger(s, [p.id for p in payments])
        by_source: dict[str, list[Payment]] = defaultdict(list)
        for p in payments:
            by_source[p.source].append(p)
        result.drawers = [_summary(s, d) for d in s.scalars(select(CashDrawer).where(CashDrawer.business_date == day)
                                                            .order_by(CashDrawer.id))]
        imports = list(s.scalars(select(PaymentImport).where(PaymentImport.value_date == day)
                                 .order_by(PaymentImport.id)))
        import_source = {i.id: str((i.summary or {}).get("source", "")) for i in imports}
        order = ["counter", "bank", "lockbox", "ach", "processor"]
        for source in sorted(set(by_source) | set(import_source.values()) - {""},
                             key=lambda x: order.index(x) if x in order else 99):
            rows = by_source.get(source, [])
            applied = unmatched = reversed_ = 0
            for p in rows:
                entries = ledger.get(p.id, {"payment": 0, "reversal": 0})
                if p.status == "reversed":
                    reversed_ += p.amount_cents
                    expected_net = 0
                    net = entries.get("payment", 0) + entries.get("reversal", 0)
                elif p.status == "unmatched":
                    unmatched += p.amount_cents
                    expected_net = 0
                    net = entries.get("payment", 0)
                else:
                    applied += -entries.get("payment", 0)
                    expected_net = -p.amount_cents
                    net = entries.get("payment", 0)
                if net != expected_net:
                    result.differences.append(Difference(
                        "ledger_mismatch", source, p.amount_cents,
                        f"Payment {p.id} ({format_cents(p.amount_cents, currency)}, {p.status}) has ledger entries "
                        f"adding up to {format_cents(-net, currency)} instead of "
                        f"{format_cents(-expected_net, currency)}."))
            received = sum(p.amount_cents for p in rows)
            if source == "counter":
                drawer_ids = {d.id for d in result.drawers}
                inside = [p for p in rows if p.drawer_id in drawer_ids]
                reported: int | None = sum(p.amount_cents for p in inside)
                where = "drawer"
            else:
                files = [i for i in imports if import_source[i.id] == source]
                file_ids = {i.id for i in files}
                inside = [p for p in rows if p.import_id in file_ids]
                reported = sum(int(i.file_total_cents or 0) for i in files) if files else None
                where = "file"
            outside = [p for p in rows if p not in inside]
            if outside:
                total = sum(p.amount_cents for p in outside)
                ids = ", ".join(str(p.id) for p in outside[:12]) + (" …" if len(outside) > 12 else "")
                result.differences.append(Difference(
                    "outside", source, total,
                    f"{len(outside)} {PLAIN_SOURCE.get(source, source)} payment(s) of {day:%Y-%m-%d} for "
                    f"{format_cents(total, currency)} are in no {where} of that day (payment ids {ids})."))
            result.lines.append(SourceLine(source, source_label(source), len(rows), received, applied, unmatched,
                                           reversed_, reported))
        for imp in imports:
            posted = int(imp.total_cents)
            declared = int(imp.file_total_cents or 0)
            known = int((imp.summary or {}).get("already_known", 0))
            if declared != posted:
                result.differences.append(Difference(
                    "already_known", import_source[imp.id], declared - posted,
                    f"{imp.filename}: the file holds {format_cents(declared, currency)} of payments but "
                    f"{format_cents(posted, currency)} was posted; {known} payment(s) in it had already been recorded "
                    f"from an earlier file."))
            for text in (imp.summary or {}).get("returns_not_applied", []):
                result.differences.append(Difference("return_not_applied", "ach", 0, f"{imp.filename}: {text}"))
        for p in payments:
            if p.status == "unmatched":
                result.differences.append(Difference(
                    "unmatched", p.source, p.amount_cents,
                    f"Unmatched {PLAIN_SOURCE.get(p.source, p.source)} payment {p.id} of "
                    f"{format_cents(p.amount_cents, currency)} from {p.payer_name or 'an unknown payer'} "
                    f"({p.reference or 'no reference'}): {p.match_note or ''}"))
        zone = agency_zone(s)
        start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
        for p in s.scalars(select(Payment).where(Payment.reversed_at >= start,
                                                 Payment.reversed_at < start + timedelta(days=1))):
            result.differences.append(Difference(
                "reversed", p.source, p.amount_cents,
                f"{source_label(p.source)} payment {p.id} of {format_cents(p.amount_cents, currency)} (received "
                f"{p.value_date:%Y-%m-%d}) reversed: {p.reversal_reason}"))
        for d in result.drawers:
            if not d.is_closed:
                result.differences.append(Difference(
                    "open_drawer", "counter", 0,
                    f"{d.clerk}'s drawer is still open ({d.payment_count} payments, expected cash "
                    f"{format_cents(d.expected_cash_cents, currency)}, cheques "
                    f"{format_cents(d.expected_cheques_cents, currency)})."))
            elif d.difference_cents:
                word = "over" if d.difference_cents > 0 else "short"
                result.differences.append(Difference(
                    "drawer", "counter", d.difference_cents,
                    f"{d.clerk}'s drawer is {word} by {format_cents(abs(d.difference_cents), currency)} (counted "
                    f"{format_cents((d.counted_cash_cents or 0) + (d.counted_cheques_cents or 0), currency)}, expected "
                    f"{format_cents(d.expected_cash_cents + d.expected_cheques_cents, currency)})."))
        feeds = [str(f) for f in settings.get(s, "payments.daily_feeds")]
        have = set(import_source.values())
        for feed in feeds:
            if feed not in have:
                result.differences.append(Difference(
                    "missing_file", feed, 0,
                    f"No {source_label(feed).lower()} file with value date {day:%Y-%m-%d} has been imported."))
        _deposits(s, day, result)
        return result


def _expected_deposits(s: Session, day: date) -> list[dict[str, object]]:
    """One deposit per closed drawer (its counted cash and cheques less the float), per lockbox file
    and per card processor file of the day."""
    out: list[dict[str, object]] = []
    for drawer in s.scalars(select(CashDrawer).where(CashDrawer.business_date == day,
                                                     CashDrawer.closed_at.is_not(None)).order_by(CashDrawer.id)):
        summary = _summary(s, drawer)
        if summary.deposit_cents > 0:
            out.append({"category": "counter", "day": day.isoformat(), "amount_cents": summary.deposit_cents,
                        "what": f"{summary.clerk}'s drawer of {day:%Y-%m-%d}"})
    for imp in s.scalars(select(PaymentImport).where(PaymentImport.value_date == day,
                                                     PaymentImport.kind.in_(("lockbox", "processor_csv")))
                         .order_by(PaymentImport.id)):
        if imp.file_total_cents:
            what = "lockbox" if imp.kind == "lockbox" else "processor"
            out.append({"category": what, "day": day.isoformat(), "amount_cents": int(imp.file_total_cents),
                        "what": f"{'lockbox' if what == 'lockbox' else 'card settlement'} file {imp.filename}"})
    return out


def _seen_deposits(s: Session, first: date, last: date) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for imp in s.scalars(select(PaymentImport).where(PaymentImport.kind == "bai2")):
        for dep in (imp.summary or {}).get("deposits", []):
            when = date.fromisoformat(str(dep["value_date"]))
            if first <= when <= last:
                out.append({**dep, "file": imp.filename, "used": False})
    return out


def _deposits(s: Session, day: date, result: DailyClose) -> None:
    """Match expected deposits to the bank's, oldest expectation first, each bank deposit used once.

    Expectations of the previous days are matched first so that their deposits are not taken for
    today's; then today's unmatched expectations are missing deposits, and today's unused bank
    deposits are unexplained."""
    window = timedelta(days=DEPOSIT_WINDOW_DAYS)
    seen = sorted(_seen_deposits(s, day - window, day + window), key=lambda d: str(d["value_date"]))
    today: list[dict[str, object]] = []
    for back in range(DEPOSIT_WINDOW_DAYS, -1, -1):
        exp_day = day - timedelta(days=back)
        for exp in _expected_deposits(s, exp_day):
            match = next((d for d in seen if not d["used"] and d["category"] == exp["category"]
                          and d["amount_cents"] == exp["amount_cents"]
                          and exp_day.isoformat() <= str(d["value_date"]) <= (exp_day + window).isoformat()), None)
            if match is not None:
                match["used"] = True
            exp["seen_in"] = f"{match['file']} ({match['value_date']})" if match is not None else None
            if back == 0:
                today.append(exp)
    for exp in today:
        if exp["seen_in"] is None:
            amount = int(str(exp["amount_cents"]))
            result.differences.append(Difference(
                "missing_deposit", str(exp["category"]), amount,
                f"No bank deposit of {format_cents(amount, result.currency)} for the {exp['what']} appears in a bank "
                f"statement dated {day:%Y-%m-%d} to {day + window:%Y-%m-%d}."))
    for dep in seen:
        if not dep["used"] and dep["value_date"] == day.isoformat():
            amount = int(str(dep["amount_cents"]))
            result.differences.append(Difference(
                "unexplained_deposit", str(dep["category"]), amount,
                f"The bank reports a {dep['category']} deposit of {format_cents(amount, result.currency)} on "
                f"{dep['value_date']} ({dep['file']}, type {dep['type_code']}) that no drawer, lockbox file or card "
                f"settlement accounts for."))
    result.deposits_expected = today
    result.deposits_seen = [d for d in seen if d["value_date"] == day.isoformat()]


# --------------------------------------------------------------------------- general ledger


@dataclass(frozen=True)
class GlLine:
    day: date
    account: str
    debit_cents: int
    credit_cents: int
    memo: str
    #: the office's (not a column of the export: the journal is in one currency)
    currency: str


def gl_lines(app: AppContext, actor: Actor, day: date) -> list[GlLine]:
    """The day's general-ledger journal, summarised by account and memo; debits equal credits."""
    with app.reader(actor, Permission.EXPORT_DATA) as uow:
        s = uow.session
        currency = settings.office_currency(s)
        postings: list[JournalLine] = []
        payments: dict[int, Payment] = {}
        entries = list(s.scalars(select(LedgerEntry).where(LedgerEntry.effective_date == day)))
        pay_ids = {e.payment_id for e in entries if e.payment_id}
        if pay_ids:
            payments = {p.id: p for p in s.scalars(select(Payment).where(Payment.id.in_(pay_ids)))}
        for e in entries:
            kind = EntryKind(e.kind)
            payment = payments.get(e.payment_id) if e.payment_id else None
            postings += entry_postings(kind, int(e.amount_cents),
                                       payment_source=payment.source if payment is not None else None,
                                       via_unapplied=payment is not None and payment.match_method == "manual")
        for p in s.scalars(select(Payment).where(Payment.value_date == day)):
            if p.match_method is None or p.match_method == "manual":
                postings += unapplied_receipt(p.amount_cents, p.source)
        zone = agency_zone(s)
        start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
        for p in s.scalars(select(Payment).where(Payment.reversed_at >= start,
                                                 Payment.reversed_at < start + timedelta(days=1),
                                                 Payment.match_method.is_(None))):
            postings += unapplied_returned(p.amount_cents, p.source)
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for line in postings:
        key = (line.account, line.memo)
        totals[key][0] += line.debit_cents
        totals[key][1] += line.credit_cents
    out = []
    for (account, memo), (debit, credit) in sorted(totals.items()):
        if debit:
            out.append(GlLine(day, account, debit, 0, f"{memo} — {ACCOUNTS[account]}", currency))
        if credit:
            out.append(GlLine(day, account, 0, credit, f"{memo} — {ACCOUNTS[account]}", currency))
    return out


GL_COLUMNS = ["date", "account", "debit_cents", "credit_cents", "memo"]


def export_gl(app: AppContext, actor: Actor, day: date, out: Path) -> list[GlLine]:
    """Write the day's journal as CSV (date, account, debit_cents, credit_cents, memo); refuses an unbalanced day."""
    lines = gl_lines(app, actor, day)
    debit = sum(line.debit_cents for line in lines)
    credit = sum(line.credit_cents for line in lines)
    if debit != credit:  # (so there are lines, all in the office's currency)
        currency = lines[0].currency
        raise UserError(f"The journal for {day:%Y-%m-%d} does not balance (debits {format_cents(debit, currency)}, "
                        f"credits {format_cents(credit, currency)}); nothing was written. Report this to your "
                        f"administrator.")
    out = Path(out)
    tmp = out.with_name(out.name + ".partial")
    try:
        with tmp.open("w", newline="", encoding="utf-8") as fh:
            writer = csv_writer(fh)  # formulas neutralised (issue 14)
            writer.writerow(GL_COLUMNS)
            for line in lines:
                writer.writerow([line.day.isoformat(), line.account, line.debit_cents, line.credit_cents, line.memo])
        tmp.replace(out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UserError(f"Cannot write {out}: {exc.strerror}.") from exc
    with app.uow(actor, Permission.EXPORT_DATA) as uow:
        uow.audit("gl.exported", "gl", day.isoformat(), after={"lines": len(lines), "debit_cents": debit,
                                                                 "file": str(out)})
        uow.commit()
    return lines
