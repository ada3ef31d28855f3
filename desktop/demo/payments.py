"""The demo office's money: a morning at the counter, a bank statement and a card settlement file
imported, overpayments with a pending refund request, payment plans, a returned cheque, open and
closed drawers, so that every tab of the Payments screen has something real to show.

The bank (BAI2) and processor files are generated from the demo's own citations and written to
`<data folder>/demo-payment-files/`, then imported through the same service as any other file.
`build_bai2` is also used by the tests to make well-formed statements.
Idempotent: a second run finds its marker setting and adds nothing.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from desktop.domain.errors import UserError
from desktop.domain.ledger import EntryKind
from desktop.domain.lifecycle import CaseStatus
from desktop.persistence.models import Citation, LedgerEntry, RegisteredOwner, Setting, User
from desktop.services.admin import users
from desktop.services.cases import steps as case_ops
from desktop.services.core.clock import agency_date
from desktop.services.core.context import Actor, AppContext
from desktop.services.payments import daily_close, refunds
from desktop.services.payments import imports as payment_imports
from desktop.services.payments import plans as payment_plans
from desktop.services.payments import posting as payments

ORDER = 40
MARKER = "demo.payments"
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Bai2Item:
    """One transaction detail (16) record."""

    type_code: str
    amount_cents: int
    text: str
    bank_reference: str = ""
    customer_reference: str = ""


def build_bai2(items: Sequence[Bai2Item], as_of: date, *, account: str = "000123456789", sender: str = "CITYBANK",
               receiver: str = "CURBDESK", file_id: str = "1", opening_ledger_cents: int = 0) -> bytes:
    """A well-formed BAI2 statement (one group, one account) with correct control totals and counts."""
    day = as_of.strftime("%y%m%d")
    lines = [f"01,{sender},{receiver},{day},0600,{file_id},,,2/",
             f"02,{receiver},121000358,1,{day},0600,USD,2/",
             f"03,{account},USD,010,{opening_ledger_cents},,/"]
    total = opening_ledger_cents
    for item in items:
        text = item.text.replace("/", " ").replace(",", " ")
        lines.append(f"16,{item.type_code},{item.amount_cents},Z,{item.bank_reference},{item.customer_reference},{text}/")
        total += item.amount_cents
    account_records = len(items) + 2
    lines.append(f"49,{total},{account_records}/")
    lines.append(f"98,{total},1,{account_records + 2}/")
    lines.append(f"99,{total},1,{account_records + 4}/")
    return ("\n".join(lines) + "\n").encode("ascii")


PROCESSOR_HEADER = ("transaction_id,settled_at,amount,currency,card_brand,card_last4,citation_number,plate,"
                    "payer_name,status")


def _open_cases(app: AppContext, limit: int) -> list[tuple[int, str, str, int, str | None]]:
    """(id, citation number, plate, balance, owner name) of open cases that owe their fine, oldest first."""
    with app.db.reading() as s:
        total = func.sum(LedgerEntry.amount_cents)
        rows = s.execute(
            select(Citation.id, Citation.citation_number, Citation.plate, total, RegisteredOwner.name)
            .join(LedgerEntry, LedgerEntry.citation_id == Citation.id)
            .outerjoin(RegisteredOwner, RegisteredOwner.id == Citation.owner_id)
            .where(Citation.status == CaseStatus.OPEN.value)
            .group_by(Citation.id, Citation.citation_number, Citation.plate, RegisteredOwner.name)
            .having(total > 0)
            .order_by(Citation.issued_at, Citation.id).limit(limit)).all()
        return [(int(r[0]), str(r[1]), str(r[2]), int(r[3]), r[4]) for r in rows]


def _person(name: str | None) -> str:
    if not name:
        return ""
    if ", " in name:
        last, first = name.split(", ", 1)
        return f"{first.title()} {last.title()}"
    return name.title()


def extend_demo(app: AppContext, progress: Progress) -> None:
    with app.db.reading() as s:
        if s.get(Setting, MARKER) is not None:
            return
        have_users = s.scalar(select(func.count()).select_from(User).where(User.username.in_(
            ["clerk", "clerk2", "supervisor", "admin"])))
    if have_users != 4:
        return
    cases = _open_cases(app, 60)
    if len(cases) < 24:
        return  # too small an office to show the payments side
    progress("Payments", 0, 6)
    clerk = users.actor_for(app, "clerk")
    clerk2 = users.actor_for(app, "clerk2")
    supervisor = users.actor_for(app, "supervisor")
    rnd = random.Random(41)
    with app.uow(Actor.system("demo")) as uow:
        # The demo office gets a bank statement and a card settlement every day; no lockbox.
        if uow.session.get(Setting, "payments.daily_feeds") is None:
            uow.session.add(Setting(key="payments.daily_feeds", value=["bank", "processor"]))
        uow.commit()

    # --- the counter: two clerks, one of them closes her drawer a little short
    c = iter(cases)
    cash_case, cheque_case, card_case, over_case, bounced_case, two_a = (next(c) for _ in range(6))
    daily_close.open_drawer(app, clerk, 15000)
    payments.post_counter_payment(app, clerk, [cash_case[0]], cash_case[3], "cash", payer_name=_person(cash_case[4]),
                                  request_id="demo-counter-1", tendered_cents=cash_case[3] + 1200)
    payments.post_counter_payment(app, clerk, [cheque_case[0]], cheque_case[3], "cheque", cheque_number="1042",
                                  payer_name=_person(cheque_case[4]), request_id="demo-counter-2")
    payments.post_counter_payment(app, clerk, [card_case[0]], card_case[3], "card", card_reference="AUTH 02211A",
                                  card_last4="4242", payer_name=_person(card_case[4]), request_id="demo-counter-3")
    # Paid $20 more than owed, which the clerk was asked to confirm: lands in the refund queue.
    payments.post_counter_payment(app, clerk, [over_case[0]], over_case[3] + 2000, "cash",
                                  payer_name=_person(over_case[4]), request_id="demo-counter-4",
                                  confirmed_overpaid_cents=2000)
    bounced = payments.post_counter_payment(app, clerk2, [bounced_case[0]], bounced_case[3], "cheque",
                                            cheque_number="5510", payer_name=_person(bounced_case[4]),
                                            request_id="demo-counter-5")
    payments.post_counter_payment(app, clerk2, [two_a[0]], two_a[3] // 2, "cash", payer_name=_person(two_a[4]),
                                  request_id="demo-counter-6")
    drawer2 = daily_close.my_drawer(app, clerk2)
    assert drawer2 is not None
    closed2 = daily_close.close_drawer(app, clerk2, drawer2.expected_cash_cents - 500, drawer2.expected_cheques_cents,
                                       note="counted twice; $5 short")
    progress("Payments", 1, 6)

    # --- the bank statement: ACH credits naming citations, one by plate, one nobody can place, deposits
    today = payments_today(app)
    folder = app.paths.data_dir / "demo-payment-files"
    folder.mkdir(parents=True, exist_ok=True)
    bank_cases = [next(c) for _ in range(6)]
    items = []
    for n, (_cid, number, _plate, balance, owner) in enumerate(bank_cases[:5]):
        head, _sep, tail = number.partition("-")
        written = [f"CIT {number}", f"TICKET {head} {tail}", f"PARKING {number.lower()}", f"REF {number}",
                   f"CITATION NO {head}-{tail}"][n]
        items.append(Bai2Item("142", balance, f"ACH CREDIT {written} OB: {_person(owner) or 'A PAYER'}",
                              f"BR{n + 1:05d}", f"C{n + 1:04d}"))
    plate_case = bank_cases[5]
    items.append(Bai2Item("195", plate_case[3], f"WIRE IN PLATE {plate_case[2]} OB: {_person(plate_case[4]) or 'PAYER'}",
                          "BR00006"))
    items.append(Bai2Item("142", 7300, "ACH CREDIT PARKING TICKET PAYMENT OB: R JOHNSON", "BR00007"))
    items.append(Bai2Item("142", 5800, "ACH CREDIT FOR CIT 99-123456 OB: SUNRISE DELIVERY LLC", "BR00008"))
    items.append(Bai2Item("301", closed2.deposit_cents, "COUNTER DEPOSIT CASH AND CHEQUES", "BR00009"))
    # The card settlement of the processor file below is deposited the same day.
    card_rows, card_total = _processor_rows(cases[18:24], today, rnd)
    items.append(Bai2Item("147", card_total, "CARD SETTLEMENT MERCHANT 448812", "BR00010"))
    items.append(Bai2Item("475", 120000, "CHECK PAID 2231 (payroll)", "BR00011"))
    bank_file = folder / f"citybank-{today:%Y%m%d}.bai2"
    bank_file.write_bytes(build_bai2(items, today, opening_ledger_cents=5_250_000))
    card_file = folder / f"card-settlement-{today:%Y%m%d}.csv"
    card_file.write_text(PROCESSOR_HEADER + "\n" + "\n".join(card_rows) + "\n", encoding="utf-8")
    payment_imports.import_payment_file(app, clerk, bank_file)
    payment_imports.import_payment_file(app, clerk, card_file)
    progress("Payments", 2, 6)

    # --- overpayments: one with a pending refund request, one still waiting for a clerk
    queue = refunds.refund_queue(app, clerk)
    if queue:
        refunds.request_refund(app, clerk, queue[0].citation_id,
                               reason="paid twice (counter and card terminal); refund the difference")
    progress("Payments", 3, 6)

    # --- payment plans: an indigent (CA VC 40220) plan and an agency plan
    # The indigent plan was agreed five weeks ago on a case that had a late fee (waived on enrolment);
    # its first instalment is overdue. The agency plan's first instalment was paid today.
    plan_cases = [next(c) for _ in range(2)]
    _late_fee(app, plan_cases[0][0])
    try:
        payment_plans.enrol_plan(app, clerk, plan_cases[0][0], "indigent", months=5,
                                 start_date=today - timedelta(days=40),
                                 reason="owner receives CalFresh benefits (proof seen at the counter)")
        payment_plans.enrol_plan(app, clerk, plan_cases[1][0], "agency", months=3,
                                 start_date=today - timedelta(days=35), reason="asked to pay monthly")
        monthly = -(-plan_cases[1][3] // 3)
        payments.post_counter_payment(app, clerk, [plan_cases[1][0]], monthly, "cash",
                                      payer_name=_person(plan_cases[1][4]), request_id="demo-counter-7")
    except UserError:
        pass
    progress("Payments", 4, 6)

    # --- a returned cheque: the bank sent back clerk2's cheque 5510
    payments.reverse_payment(app, supervisor, bounced.payment_id, "cheque 5510 returned unpaid (NSF) by the bank")
    progress("Payments", 5, 6)

    with app.uow(Actor.system("demo")) as uow:
        uow.session.add(Setting(key=MARKER, value={"bank_file": bank_file.name, "card_file": card_file.name}))
        uow.audit("demo.payments", "setting", MARKER, reason="demo payments added")
        uow.commit()
    progress("Payments", 6, 6)


def _late_fee(app: AppContext, citation_id: int) -> None:
    """The demo plan's case owes a late fee, as it would after its delinquent notice (the indigent
    plan waives it). Posted once, under its own key."""
    with app.uow(Actor.system("demo")) as uow:
        case = case_ops.load_case(uow, citation_id)
        case_ops.post(uow, case, EntryKind.PENALTY, 2500, memo="late fee after the delinquent notice (demo)",
                      dedupe_key="penalty:demo_late_fee")
        uow.commit()


def payments_today(app: AppContext) -> date:
    with app.db.reading() as s:
        return agency_date(s, app.now())


def _processor_rows(cases: Sequence[tuple[int, str, str, int, str | None]], day: date,
                    rnd: random.Random) -> tuple[list[str], int]:
    rows = []
    total = 0
    settled = datetime.combine(day, time(9, 30)).isoformat() + "-08:00"
    brands = ["visa", "mastercard", "amex", "discover"]
    for n, (_cid, number, plate, balance, owner) in enumerate(cases):
        amount = balance
        rows.append(f"ch_demo_{day:%Y%m%d}_{n + 1:03d},{settled},{amount // 100}.{amount % 100:02d},USD,"
                    f"{brands[n % 4]},{rnd.randint(1000, 9999)},{number if n != 2 else ''},{plate if n == 2 else ''},"
                    f"{_person(owner)},settled")
        total += amount
    # The first motorist paid online again an hour later: a duplicate, so an overpayment to refund.
    first = cases[0]
    rows.append(f"ch_demo_{day:%Y%m%d}_{len(cases) + 1:03d},{settled},{first[3] // 100}.{first[3] % 100:02d},USD,visa,"
                f"4111,{first[1]},,{_person(first[4])},settled")
    total += first[3]
    return rows, total


__all__ = ["ORDER", "Bai2Item", "build_bai2", "extend_demo"]
