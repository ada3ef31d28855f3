"""The daily escalation and the money-moving services at the same time, on the real PostgreSQL server.

Issue 14: the set-based run concurrent with a payment import posted penalties on cases already paid,
queued delinquency notices for them, and left paid cases with a balance. The run now takes the daily-run
lock exclusively and every other write takes it shared (``desktop.persistence.locks``), so the result of
any interleaving is the result of SOME serial order: here the one the audit trail records (each write's
entries come wholly before or wholly after the run's).

The test pauses the run at its first penalty (after it has read which cases are due: the window in which
the corruption happened), starts a payment import, counter payments, refunds and appeal decisions on
threads of their own (each its own session), lets the run go on once each of them has finished or is
waiting for a lock, then replays the same work one after the other on a second database built the same
way, and compares every case's status, schedule, ledger, notices, refunds and appeals.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from sqlalchemy import func, select, text

from desktop.demo.payments import Bai2Item, build_bai2
from desktop.domain.roles import Role
from desktop.persistence import locks
from desktop.persistence.models import Appeal, AuditEntry, Citation, LedgerEntry, Notice, Refund
from desktop.services import appeals
from desktop.services.cases import escalation
from desktop.services.core.context import AppContext
from desktop.services.payments import imports as payment_imports
from desktop.services.payments import posting, refunds
from tests.conftest import FixedClock, make_app, seed_users
from tests.helpers.casework import add_owner
from tests.helpers.factories import add_citation
from tests.integration.appeals.test_intake_and_decisions import request

pytestmark = pytest.mark.postgres

LA = ZoneInfo("America/Los_Angeles")
DAY = date(2026, 11, 24)
PER_GROUP = 12
FINE = 6300
GROUPS = ("import", "counter", "refund", "appeal", "plain")


@pytest.fixture
def second_pg_url(pg_server: str, pg_template: str) -> Iterator[str]:
    """Another fresh database (the serial replay), made like ``pg_url``."""
    name = f"curbdesk_t_{uuid.uuid4().hex[:10]}"
    admin = pg_server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    yield f"{pg_server.rsplit('/', 1)[0]}/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Office:
    """The same office built on a database: cases in groups, the people, and the work to do."""

    def __init__(self, app: AppContext, tmp: Path) -> None:
        self.app = app
        actors = seed_users(app)
        self.clerk, self.supervisor = actors[Role.CLERK], actors[Role.SUPERVISOR]
        self.hearing = actors[Role.HEARING_OFFICER]
        self.cases: dict[str, list[int]] = {}
        for g, group in enumerate(GROUPS):
            ids = []
            for n in range(PER_GROUP):
                plate = f"{g}CNC{n:03d}"
                add_owner(app, plate)
                # the appeal group is recent (still within its appeal window); the rest are 25 days old: the
                # run moves them to the delinquent notice (a penalty of 100% and a notice to mail)
                age = 10 if group == "appeal" else 25
                issued = datetime.combine(DAY - timedelta(days=age), datetime.min.time(), tzinfo=LA).replace(hour=9)
                ids.append(add_citation(app, plate=plate, number=f"CNC-{g}{n:03d}", issued_at=issued,
                                        fine_cents=FINE, profile_code="CA"))
            self.cases[group] = ids
        for cid in self.cases["refund"]:  # paid twice over the counter: a credit of $10.00 to refund
            posting.post_counter_payment(app, self.clerk, [cid], FINE + 1000, "cash")
        self.appeals = [appeals.file_appeal(app, self.clerk, request(app, cid)).appeal_id
                        for cid in self.cases["appeal"]]
        self.bank_file = tmp / "bank.bai2"
        self.bank_file.write_bytes(build_bai2(
            [Bai2Item("142", FINE, f"CIT CNC-0{n:03d}", f"B{n}") for n in range(PER_GROUP)], DAY))
        with app.db.reading() as s:
            self.watermark = int(s.scalar(select(func.coalesce(func.max(AuditEntry.id), 0))) or 0)

    # -- the work: each returns when its writes are committed ------------------------------------------------
    def run(self) -> None:
        escalation.run_escalation(self.app, self.supervisor, DAY)

    def import_file(self) -> None:
        payment_imports.import_payment_file(self.app, self.clerk, self.bank_file)

    def counter(self, cid: int) -> None:
        posting.post_counter_payment(self.app, self.clerk, [cid], FINE, "cash")

    def refund(self, cid: int) -> None:
        rid = refunds.request_refund(self.app, self.clerk, cid, reason="paid twice at the counter")
        refunds.approve_refund(self.app, self.supervisor, rid)

    def decide(self, index: int) -> None:
        decision = "dismissed" if index % 2 else "upheld"
        appeals.decide_appeal(self.app, self.hearing, self.appeals[index], decision,
                              "Photographs and the meter log were reviewed.")

    def work(self) -> dict[str, list[tuple[int, Callable[[], None]]]]:
        """Each thread's work, as (case it touches first, call) in order."""
        return {
            "import": [(self.cases["import"][0], self.import_file)],
            "counter": [(cid, lambda cid=cid: self.counter(cid)) for cid in self.cases["counter"]],
            "refund": [(cid, lambda cid=cid: self.refund(cid)) for cid in self.cases["refund"]],
            "appeal": [(cid, lambda i=i: self.decide(i)) for i, cid in enumerate(self.cases["appeal"])],
        }

    # -- what the office looks like afterwards ---------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        with self.app.db.reading() as s:
            for c in s.scalars(select(Citation).order_by(Citation.citation_number)):
                ledger = sorted(
                    (e.kind, e.amount_cents, e.effective_date.isoformat(),
                     (e.dedupe_key or "").split(":")[0] if e.kind in ("payment", "refund") else e.dedupe_key)
                    for e in s.scalars(select(LedgerEntry).where(LedgerEntry.citation_id == c.id)))
                notices = sorted((n.kind, n.stage or "", n.status, n.hold_reason or "")
                                 for n in s.scalars(select(Notice).where(Notice.citation_id == c.id)))
                out[c.citation_number] = {
                    "status": c.status, "stage": c.stage, "next_action": c.next_action,
                    "next_action_date": c.next_action_date, "next_stage_on": c.next_stage_on,
                    "on_hold": c.on_hold, "balance": sum(e[1] for e in ledger), "ledger": ledger,
                    "notices": notices,
                    "refunds": sorted((r.amount_cents, r.status) for r in s.scalars(
                        select(Refund).where(Refund.citation_id == c.id))),
                    "appeals": sorted((a.status, a.decision or "") for a in s.scalars(
                        select(Appeal).where(Appeal.citation_id == c.id))),
                }
        return out

    def before_the_run(self) -> dict[int, bool]:
        """For each case's first write: was it committed before the run (by the audit trail's order)?"""
        with self.app.db.reading() as s:
            run_entry = s.scalar(select(AuditEntry.id).where(AuditEntry.action == "escalation.run",
                                                             AuditEntry.id > self.watermark))
            assert run_entry is not None
            first = dict(s.execute(select(AuditEntry.entity_id, func.min(AuditEntry.id))
                                   .where(AuditEntry.entity_type == "citation", AuditEntry.id > self.watermark)
                                   .group_by(AuditEntry.entity_id)).all())
            imported = s.scalar(select(AuditEntry.id).where(AuditEntry.action == "payment_import.imported",
                                                            AuditEntry.id > self.watermark))
        order = {int(cid): entry < run_entry for cid, entry in first.items()}
        order[self.cases["import"][0]] = imported < run_entry  # the file is audited once, not per case
        return order


def _waiting_for_locks(app: AppContext) -> int:
    with app.db.engine.connect() as conn:
        return int(conn.execute(text(  # this test's database only: other suites share the server
            "SELECT COUNT(DISTINCT l.pid) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE NOT l.granted AND a.datname = current_database()")).scalar() or 0)


def test_the_daily_run_and_the_money_services_at_once_equal_one_after_the_other(
        pg_url: str, second_pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FixedClock(datetime(2026, 11, 24, 18, 0, tzinfo=ZoneInfo("UTC")))
    together = Office(make_app(pg_url, tmp_path / "a", clock, migrate=False), tmp_path)
    threads_work = together.work()
    done = {name: threading.Event() for name in threads_work}
    errors: list[BaseException] = []
    paused = threading.Event()
    real_penalty = escalation._Run._penalty

    def penalty_after_the_others(self: Any, *args: Any) -> None:
        """The run has read which cases are due: let the others do all they can before it writes."""
        if not paused.is_set():
            paused.set()
            deadline = threading.Event()
            for _ in range(3000):  # a condition polled, at most a minute
                if sum(e.is_set() for e in done.values()) + _waiting_for_locks(together.app) >= len(done):
                    break
                deadline.wait(0.02)
            else:
                pytest.fail("the other workstations neither finished nor waited for a lock")
        real_penalty(self, *args)

    monkeypatch.setattr(escalation._Run, "_penalty", penalty_after_the_others)

    def workstation(name: str) -> None:
        try:
            assert paused.wait(60)
            for _cid, call in threads_work[name]:
                call()
        except BaseException as exc:  # noqa: BLE001 - asserted on below
            errors.append(exc)
        finally:
            done[name].set()

    def daily_run() -> None:
        try:
            together.run()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
            paused.set()

    threads = [threading.Thread(target=daily_run)] + [threading.Thread(target=workstation, args=(n,))
                                                       for n in threads_work]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a workstation hung"
    assert not errors, errors
    concurrent = together.state()
    order = together.before_the_run()
    together.app.db.dispose()

    # The same work, one after the other, in the order the audit trail recorded.
    serial = Office(make_app(second_pg_url, tmp_path / "b", clock, migrate=False), tmp_path)
    monkeypatch.setattr(escalation._Run, "_penalty", real_penalty)
    work = serial.work()
    calls = [(cid, call) for items in work.values() for cid, call in items]
    for cid, call in calls:
        if order[cid]:
            call()
    serial.run()
    for cid, call in calls:
        if not order[cid]:
            call()
    one_after_the_other = serial.state()
    serial.app.db.dispose()

    assert concurrent.keys() == one_after_the_other.keys()
    differ = {number: (concurrent[number], one_after_the_other[number]) for number in concurrent
              if concurrent[number] != one_after_the_other[number]}
    assert not differ, f"{len(differ)} cases differ from the serial run, e.g. {next(iter(differ.items()))}"
    # and whatever the order, no paid case owes anything, none has a stage's notice to mail
    for number, case in concurrent.items():
        if case["status"] == "paid":
            assert case["balance"] <= 0, (number, case)
            assert not [n for n in case["notices"] if n[1] and n[2] in ("queued", "held")], (number, case)
    penalties = sum(1 for case in concurrent.values() for e in case["ledger"] if e[0] == "penalty")
    assert penalties >= PER_GROUP  # the run did post penalties (the plain group at least)


def test_a_write_waits_for_the_daily_run_then_says_so(pg_app: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    """While the run holds the lock a counter payment waits WAIT_SECONDS, then the clerk is told why;
    nothing of it is stored. Once the run has committed the same payment goes through."""
    clerk = seed_users(pg_app)[Role.CLERK]
    cid = add_citation(pg_app, fine_cents=FINE)
    monkeypatch.setattr(locks, "WAIT_SECONDS", 0.3)
    run = pg_app.db.write_session()
    locks.enter_write(run, daily_run=True)
    try:
        with pytest.raises(locks.DailyRunInProgress, match="daily run is in progress.*Try again in a minute"):
            posting.post_counter_payment(pg_app, clerk, [cid], FINE, "cash")
        with pg_app.db.reading() as s:
            assert s.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "payment")) == 0
    finally:
        run.rollback()
        run.close()
    posting.post_counter_payment(pg_app, clerk, [cid], FINE, "cash")
    with pg_app.db.reading() as s:
        assert s.get(Citation, cid).status == "paid"


def test_writes_do_not_wait_for_each_other(pg_app: AppContext) -> None:
    """The shared mode: two writes hold the lock at once (no clerk waits for another because of it)."""
    one, two = pg_app.db.write_session(), pg_app.db.write_session()
    try:
        locks.enter_write(one)
        locks.enter_write(two)  # would wait (and fail after WAIT_SECONDS) were the modes not shared
        held = one.execute(text("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND database "
                                "= (SELECT oid FROM pg_database WHERE datname = current_database())")).scalar()
        assert held == 2
    finally:
        for s in (one, two):
            s.rollback()
            s.close()
