"""The daily close: drawers balanced, payments reconciled against the bank files with every difference
listed, the general-ledger export balanced, the payments export; every figure equals the ledger."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from desktop.demo.payments import PROCESSOR_HEADER, Bai2Item, build_bai2
from desktop.domain.gl import ACCOUNTS
from desktop.persistence.models import LedgerEntry, Payment
from desktop.services.core.context import AppContext
from desktop.services.payments import daily_close
from desktop.services.payments import imports as payment_imports
from desktop.services.payments import posting as payments

DAY = date(2026, 11, 24)


def _day(app: AppContext, people, make_case, tmp_path: Path, *, bank_counter_deposit: int | None = None) -> dict:
    clerk, clerk2 = people["clerk"], people["clerk2"]
    cases = {n: make_case(f"DC-{n:05d}", plate=f"{n}DCX{n:03d}", fine_cents=6300) for n in range(1, 10)}
    daily_close.open_drawer(app, clerk, 10000)
    payments.post_counter_payment(app, clerk, [cases[1]], 6300, "cash")
    payments.post_counter_payment(app, clerk, [cases[2]], 6300, "cheque", cheque_number="100")
    payments.post_counter_payment(app, clerk, [cases[3]], 6300, "card", card_reference="A1", card_last4="1234")
    payments.post_counter_payment(app, clerk2, [cases[4]], 3000, "cash")
    closed = daily_close.close_drawer(app, clerk, 16300, 6300)
    bounced = payments.post_counter_payment(app, clerk2, [cases[9]], 6300, "cheque", cheque_number="200")
    payments.reverse_payment(app, people["supervisor"], bounced.payment_id, "cheque 200 returned unpaid")
    card = tmp_path / "cards.csv"
    card.write_text(PROCESSOR_HEADER + "\n" +
                    "t1,2026-11-24T09:00:00-08:00,63.00,USD,visa,4242,DC-00005,,A,settled\n"
                    "t2,2026-11-24T09:05:00-08:00,63.00,USD,visa,4343,DC-00005,,A,settled\n")
    bank = tmp_path / "bank.bai2"
    bank.write_bytes(build_bai2([
        Bai2Item("142", 6300, "CIT DC-00006", "B1"),
        Bai2Item("142", 4100, "NO IDEA", "B2"),
        Bai2Item("301", closed.deposit_cents if bank_counter_deposit is None else bank_counter_deposit, "DEPOSIT", "B3"),
        Bai2Item("147", 12600, "CARD SETTLEMENT", "B4"),
    ], DAY))
    payment_imports.import_payment_file(app, clerk, card)
    payment_imports.import_payment_file(app, clerk, bank)
    return {"cases": cases, "closed": closed}


def _ledger_applied(app: AppContext, source: str) -> int:
    with app.db.reading() as s:
        return -int(s.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0))
                             .join(Payment, Payment.id == LedgerEntry.payment_id)
                             .where(Payment.source == source, Payment.value_date == DAY,
                                    LedgerEntry.kind == "payment", Payment.status != "reversed")) or 0)


def test_reconciliation_lists_every_difference_and_agrees_with_the_ledger(app, people, make_case, tmp_path) -> None:
    _day(app, people, make_case, tmp_path)
    result = daily_close.daily_close(app, people["supervisor"], DAY)
    lines = {line.source: line for line in result.lines}
    assert set(lines) == {"counter", "bank", "processor"}
    for source, line in lines.items():
        assert line.applied_cents == _ledger_applied(app, source)
        assert line.received_cents == line.applied_cents + line.unmatched_cents + line.reversed_cents
    assert (lines["counter"].count, lines["counter"].received_cents) == (5, 6300 * 3 + 3000 + 6300)
    assert lines["counter"].reported_cents == lines["counter"].received_cents
    assert (lines["bank"].unmatched_cents, lines["bank"].reported_cents) == (4100, 10400)
    assert lines["processor"].reported_cents == 12600
    kinds = sorted(d.kind for d in result.differences)
    assert kinds == ["missing_file", "open_drawer", "reversed", "unmatched"]
    texts = " | ".join(d.text for d in result.differences)
    assert "Second Clerk's drawer is still open" in texts and "cheque 200 returned unpaid" in texts
    assert "No lockbox file" in texts and "NO IDEA" in texts
    # The counter deposit and the card settlement were both found on the bank statement.
    assert [e["seen_in"] is not None for e in result.deposits_expected] == [True, True]
    assert not result.explained


def test_a_deposit_the_bank_never_received_is_listed(app, people, make_case, tmp_path) -> None:
    _day(app, people, make_case, tmp_path, bank_counter_deposit=12000)
    result = daily_close.daily_close(app, people["supervisor"], DAY)
    missing = [d for d in result.differences if d.kind == "missing_deposit"]
    unexplained = [d for d in result.differences if d.kind == "unexplained_deposit"]
    assert len(missing) == 1 and missing[0].amount_cents == 12600 and "Clerk's drawer" in missing[0].text
    assert len(unexplained) == 1 and unexplained[0].amount_cents == 12000


def test_drawer_difference_is_listed(app, people, make_case) -> None:
    cid = make_case(plate="1DRW111")
    payments.post_counter_payment(app, people["clerk"], [cid], 6300, "cash")
    daily_close.close_drawer(app, people["clerk"], 10000 + 6000, 0)
    result = daily_close.daily_close(app, people["supervisor"], DAY)
    (drawer,) = [d for d in result.differences if d.kind == "drawer"]
    assert drawer.amount_cents == -300 and "short by $3.00" in drawer.text


def test_gl_export_balances_and_uses_the_documented_accounts(app, people, make_case, tmp_path) -> None:
    _day(app, people, make_case, tmp_path)
    (row,) = payments.unmatched_payments(app, people["clerk"])
    lines = daily_close.gl_lines(app, people["supervisor"], DAY)
    assert sum(line.debit_cents for line in lines) == sum(line.credit_cents for line in lines) > 0
    assert {line.account for line in lines} <= set(ACCOUNTS)
    debit = {(line.account, line.memo.split(" — ")[0]): line.debit_cents for line in lines if line.debit_cents}
    credit = {(line.account, line.memo.split(" — ")[0]): line.credit_cents for line in lines if line.credit_cents}
    assert debit[("1010", "Payments applied (counter)")] == 6300 * 4 + 3000
    assert credit[("1010", "Payments reversed (counter)")] == 6300
    assert debit[("1030", "Payments applied (processor)")] == 12600
    assert credit[("2100", "Unmatched receipts (bank)")] == 4100
    out = tmp_path / "gl.csv"
    daily_close.export_gl(app, people["supervisor"], DAY, out)
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["date", "account", "debit_cents", "credit_cents", "memo"]
    assert sum(int(r["debit_cents"]) for r in rows) == sum(int(r["credit_cents"]) for r in rows)
    # Matching the unmatched payment by hand moves it out of unapplied receipts, on the day it is matched.
    cid = make_case("DC-09999", plate="9LAT999", fine_cents=4100)
    payments.match_by_hand(app, people["clerk"], row.id, [cid])
    later = daily_close.gl_lines(app, people["supervisor"], DAY)
    assert sum(line.debit_cents for line in later) == sum(line.credit_cents for line in later)
    assert any(line.account == "2100" and line.debit_cents == 4100 for line in later)


def test_payments_export_matches_the_database(app, people, make_case, tmp_path) -> None:
    _day(app, people, make_case, tmp_path)
    out = tmp_path / "payments.csv"
    n = payments.export_payments(app, people["clerk"], out)
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == n == 9
    assert list(rows[0])[:10] == ["payment_id", "source", "method", "external_id", "amount_cents", "received_at",
                                  "value_date", "status", "citation_numbers", "reference"]
    with app.db.reading() as s:
        assert sum(int(r["amount_cents"]) for r in rows) == s.scalar(select(func.sum(Payment.amount_cents)))
    by_ext = {r["external_id"]: r for r in rows}
    assert by_ext["processor:t2"]["citation_numbers"] == "DC-00005" and by_ext["processor:t2"]["status"] == "matched"
    assert {r["status"] for r in rows} == {"matched", "unmatched", "reversed"}
