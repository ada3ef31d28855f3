"""Several workstations at once, on the real PostgreSQL server: clerks posting to the same case at the
same moment never double-post and never lose an entry.

Each thread is one workstation with its own unit of work (its own connection); a barrier starts
them together so the row locks and version checks are really exercised.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from desktop.demo.payments import Bai2Item, build_bai2
from desktop.domain.errors import ConcurrencyConflict, UserError
from desktop.persistence.models import LedgerEntry, Payment, Refund
from desktop.services.payments import imports as payment_imports
from desktop.services.payments import posting as payments
from desktop.services.payments import refunds
from tests.integration.payments.conftest import _maker, ledger_balance

pytestmark = pytest.mark.postgres


def _together(*work: Callable[[], Any]) -> list[Any]:
    """Run each callable on its own thread, released at the same instant; results or exceptions, in order."""
    barrier = threading.Barrier(len(work))
    results: list[Any] = [None] * len(work)

    def run(index: int, fn: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[index] = fn()
        except Exception as exc:  # noqa: BLE001 - collected and asserted on by the test
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(work)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "a workstation hung (deadlock?)"
    return results


def test_two_clerks_posting_to_one_case_lose_nothing(pg_app, pg_people) -> None:
    cid = _maker(pg_app)(fine_cents=100000)
    rounds = 15
    for n in range(rounds):
        out = _together(
            lambda n=n: payments.post_counter_payment(pg_app, pg_people["clerk"], [cid], 1000 + n, "cash"),
            lambda n=n: payments.post_counter_payment(pg_app, pg_people["clerk2"], [cid], 2000 + n, "cash"),
        )
        assert not [r for r in out if isinstance(r, Exception)], out
    expected_paid = sum(1000 + n + 2000 + n for n in range(rounds))
    assert ledger_balance(pg_app, cid) == 100000 - expected_paid
    with pg_app.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Payment)) == 2 * rounds
        per_payment = s.execute(select(LedgerEntry.payment_id, func.count()).where(LedgerEntry.kind == "payment")
                                .group_by(LedgerEntry.payment_id)).all()
        assert len(per_payment) == 2 * rounds and all(count == 1 for _, count in per_payment)
        total = -int(s.scalar(select(func.sum(LedgerEntry.amount_cents)).where(LedgerEntry.kind == "payment")))
        assert total == int(s.scalar(select(func.sum(Payment.amount_cents)))) == expected_paid


def test_two_clerks_paying_off_the_same_case_from_the_same_screen_state(pg_app, pg_people) -> None:
    """Both saw $63.00 owed (version v). One payment posts; the other is told the case changed, so the
    motorist is not charged twice."""
    cid = _maker(pg_app)(fine_cents=6300)
    (seen,) = payments.counter_lookup(pg_app, pg_people["clerk"], "7ABC123")
    out = _together(*[
        (lambda who=who: payments.post_counter_payment(pg_app, pg_people[who], [cid], seen.balance_cents, "cash",
                                                       expected_versions={cid: seen.version}))
        for who in ("clerk", "clerk2")])
    posted = [r for r in out if isinstance(r, payments.CounterResult)]
    refused = [r for r in out if isinstance(r, ConcurrencyConflict)]
    assert len(posted) == 1 and len(refused) == 1, out
    assert "balance is now $0.00" in str(refused[0])
    assert ledger_balance(pg_app, cid) == 0


def test_the_same_request_sent_twice_at_once_posts_once(pg_app, pg_people) -> None:
    cid = _maker(pg_app)(fine_cents=6300)
    out = _together(*[
        (lambda: payments.post_counter_payment(pg_app, pg_people["clerk"], [cid], 6300, "cash",
                                               request_id="ws-7-000123")) for _ in range(3)])
    assert all(isinstance(r, payments.CounterResult) for r in out), out
    assert len({r.payment_id for r in out}) == 1 and sum(not r.already_posted for r in out) <= 1
    assert ledger_balance(pg_app, cid) == 0
    with pg_app.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Payment)) == 1


def test_an_import_and_the_counter_at_the_same_time(pg_app, pg_people, tmp_path) -> None:
    make = _maker(pg_app)
    ids = [make(f"PG-{n:05d}", plate=f"{n}PGX{n:03d}", fine_cents=6300) for n in range(1, 31)]
    path = tmp_path / "bank.bai2"
    path.write_bytes(build_bai2([Bai2Item("142", 6300, f"CIT PG-{n:05d}", f"B{n}") for n in range(1, 31)],
                                date(2026, 11, 24)))

    def counter() -> list[Any]:
        done = []
        for cid in reversed(ids):
            try:
                done.append(payments.post_counter_payment(pg_app, pg_people["clerk"], [cid], 6300, "cash"))
            except UserError as exc:  # the import got there first: nothing owed
                done.append(exc)
        return done

    out = _together(lambda: payment_imports.import_payment_file(pg_app, pg_people["clerk2"], path), counter)
    assert not isinstance(out[0], Exception), out[0]
    with pg_app.db.reading() as s:
        received = int(s.scalar(select(func.sum(Payment.amount_cents))))
        applied = -int(s.scalar(select(func.sum(LedgerEntry.amount_cents)).where(LedgerEntry.kind == "payment")))
    assert received == applied
    # Every case is paid; anything paid twice is a credit in the refund queue, never lost.
    balances = [ledger_balance(pg_app, cid) for cid in ids]
    assert all(b <= 0 for b in balances)
    credit = -sum(balances)
    assert credit == received - 30 * 6300
    queue = refunds.refund_queue(pg_app, pg_people["clerk"])
    assert sum(row.credit_cents for row in queue) == credit
    assert refunds.unnoticed_overpayments(pg_app, pg_people["clerk"]) == []


def test_two_supervisors_approving_one_refund_pay_it_once(pg_app, pg_people) -> None:
    cid = _maker(pg_app)(fine_cents=6300)
    payments.post_counter_payment(pg_app, pg_people["clerk"], [cid], 8300, "cash", confirmed_overpaid_cents=2000)
    rid = refunds.request_refund(pg_app, pg_people["clerk"], cid, reason="overpaid")
    out = _together(lambda: refunds.approve_refund(pg_app, pg_people["supervisor"], rid),
                    lambda: refunds.approve_refund(pg_app, pg_people["supervisor2"], rid))
    assert sum(r is None for r in out) == 1 and sum(isinstance(r, UserError) for r in out) == 1, out
    assert ledger_balance(pg_app, cid) == 0
    with pg_app.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "refund")) == 1
        assert s.get(Refund, rid).status == "approved"
