"""The PostgreSQL server going away under a clerk's payment, a payment import and the daily escalation, and
the limits that keep a click from waiting for ever (issue 19's bad input, issue 4).

The server "restarts" here the way an administrator would see it: ``pg_terminate_backend`` on the very
connection doing the work, at a known point (just before its commit, through the unit of work's test hook),
from a second connection; no sleeps, no timing. Each use case either resumes (it is idempotent: the
request id, the file's digest, the day's run) or, with the server still refusing, says so in one sentence;
nothing is half-written and nothing is posted twice. Also: a deadlock the server detects is run again
inside the service, and a row held by another job or a statement that runs too long ends in a sentence.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from sqlalchemy import func, select, text

from desktop.demo.payments import Bai2Item, build_bai2
from desktop.domain.roles import Role
from desktop.persistence import failures
from desktop.persistence.models import AuditEntry, Citation, LedgerEntry, Notice, Payment, PaymentImport
from desktop.services.cases import escalation
from desktop.services.core import context
from desktop.services.core.context import AppContext, UnitOfWork, retrying
from desktop.services.payments import imports as payment_imports
from desktop.services.payments import posting
from tests.conftest import FixedClock, make_app, seed_users
from tests.helpers.casework import add_owner
from tests.helpers.factories import add_citation

pytestmark = pytest.mark.postgres

LA = ZoneInfo("America/Los_Angeles")
DAY = date(2026, 11, 24)
FINE = 6300


def _admin(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


class Killer:
    """The unit-of-work hook: terminate the connection about to commit (the first ``times`` commits)."""

    def __init__(self, url: str, times: int = 1) -> None:
        self.url = _admin(url)
        self.left = times
        self.kills = 0

    def __call__(self, uow: UnitOfWork) -> None:
        if self.left <= 0:
            return
        self.left -= 1
        pid = uow.session.execute(text("SELECT pg_backend_pid()")).scalar()
        with psycopg.connect(self.url, autocommit=True) as admin:
            assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)
        self.kills += 1


@pytest.fixture
def kill(monkeypatch: pytest.MonkeyPatch, pg_url: str) -> Callable[[int], Killer]:
    def arm(times: int) -> Killer:
        killer = Killer(pg_url, times)
        monkeypatch.setattr(context, "_before_commit", killer)
        return killer
    return arm


@pytest.fixture
def office(pg_app: AppContext) -> Iterator[tuple[AppContext, dict[Role, context.Actor], list[int]]]:
    actors = seed_users(pg_app)
    ids = []
    for n in range(4):
        plate = f"8GON{n:03d}"
        add_owner(pg_app, plate)
        issued = datetime.combine(DAY - timedelta(days=25), datetime.min.time(), tzinfo=LA).replace(hour=9)
        ids.append(add_citation(pg_app, plate=plate, number=f"GON-{n:03d}", issued_at=issued, fine_cents=FINE,
                                profile_code="CA"))
    yield pg_app, actors, ids


def _ledger_balanced(app: AppContext) -> None:
    """Every payment's amount equals its ledger entries (nothing half-posted), each posted once."""
    with app.db.reading() as s:
        for pid, amount in s.execute(select(Payment.id, Payment.amount_cents).where(Payment.status != "unmatched")).all():
            posted = s.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0))
                              .where(LedgerEntry.payment_id == pid))
            assert -int(posted or 0) == amount, f"payment {pid}: {amount} paid, {posted} in the ledger"


def test_counter_payment_resumes_after_the_connection_is_killed(office, kill) -> None:  # type: ignore[no-untyped-def]
    app, actors, ids = office
    killer = kill(1)
    result = posting.post_counter_payment(app, actors[Role.CLERK], [ids[0]], FINE, "cash", request_id="req-gone-1")
    assert killer.kills == 1
    with app.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Payment).where(Payment.external_id == "req-gone-1")) == 1
        assert s.get(Payment, result.payment_id) is not None
    _ledger_balanced(app)


def test_counter_payment_with_the_server_down_says_so_and_stores_nothing(office, kill) -> None:  # type: ignore[no-untyped-def]
    app, actors, ids = office
    kill(10)
    with pytest.raises(failures.ConnectionLost) as caught:
        posting.post_counter_payment(app, actors[Role.CLERK], [ids[0]], FINE, "cash", request_id="req-gone-2")
    assert str(caught.value) == failures.LOST
    assert "\n" not in str(caught.value) and "psycopg" not in str(caught.value)
    with app.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Payment)) == 0
        assert s.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "payment")) == 0


def test_a_commit_that_landed_before_the_connection_broke_is_not_posted_twice(office, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The worst moment: the server stored the commit, the connection broke before the workstation heard so.
    The unit of work reports "may or may not"; the payment, run again with its request id, finds itself."""
    app, actors, ids = office
    real_commit = UnitOfWork.commit
    broke = []

    def commit_then_break(self: UnitOfWork) -> None:
        real_commit(self)
        if not broke:
            broke.append(True)
            raise failures.ConnectionLost(failures.LOST_AT_COMMIT, uncertain=True)

    monkeypatch.setattr(UnitOfWork, "commit", commit_then_break)
    posting.post_counter_payment(app, actors[Role.CLERK], [ids[1]], FINE, "cash", request_id="req-gone-3")
    assert broke
    with app.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Payment).where(Payment.external_id == "req-gone-3")) == 1
    _ledger_balanced(app)


def _bank_file(tmp_path: Path) -> Path:
    path = tmp_path / "bank.bai2"
    path.write_bytes(build_bai2([Bai2Item("142", FINE, f"CIT GON-{n:03d}", f"B{n}") for n in range(3)], DAY))
    return path


def test_payment_import_resumes_after_the_connection_is_killed(office, kill, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app, actors, _ids = office
    killer = kill(1)
    outcome = payment_imports.import_payment_file(app, actors[Role.CLERK], _bank_file(tmp_path))
    assert killer.kills == 1 and outcome.payments == 3
    with app.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(PaymentImport)) == 1
        assert s.scalar(select(func.count()).select_from(Payment)) == 3
    _ledger_balanced(app)
    again = payment_imports.import_payment_file(app, actors[Role.CLERK], _bank_file(tmp_path))
    assert again.already_imported


def test_payment_import_with_the_server_down_says_so_and_stores_nothing(office, kill, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app, actors, _ids = office
    kill(10)
    with pytest.raises(failures.ConnectionLost, match="nothing was saved"):
        payment_imports.import_payment_file(app, actors[Role.CLERK], _bank_file(tmp_path))
    with app.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(PaymentImport)) == 0
        assert s.scalar(select(func.count()).select_from(Payment)) == 0


def _escalation_state(app: AppContext) -> tuple[int, int, int, int]:
    with app.db.reading() as s:
        return (int(s.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind != "fine")) or 0),
                int(s.scalar(select(func.count()).select_from(Notice)) or 0),
                int(s.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "escalation.run")) or 0),
                int(s.scalar(select(func.count()).select_from(Citation).where(Citation.stage.is_not(None))) or 0))


def test_escalation_resumes_after_the_connection_is_killed(office, kill, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    app, actors, _ids = office
    clock.now = datetime.combine(DAY, datetime.min.time(), tzinfo=LA).replace(hour=2)
    killer = kill(1)
    result = escalation.run_escalation(app, actors[Role.SUPERVISOR], DAY)
    assert killer.kills == 1 and result.changed
    penalties, notices, runs, staged = _escalation_state(app)
    assert penalties == 4 and notices == 4 and runs == 1 and staged == 4
    escalation.run_escalation(app, actors[Role.SUPERVISOR], DAY)  # the day again: nothing twice
    assert _escalation_state(app) == (penalties, notices, runs, staged)


def test_escalation_with_the_server_down_says_so_and_changes_nothing(office, kill, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    app, actors, _ids = office
    clock.now = datetime.combine(DAY, datetime.min.time(), tzinfo=LA).replace(hour=2)
    before = _escalation_state(app)
    kill(10)
    with pytest.raises(failures.ConnectionLost, match="nothing was saved"):
        escalation.run_escalation(app, actors[Role.SUPERVISOR], DAY)
    assert _escalation_state(app) == before


def test_a_deadlock_is_run_again_inside_the_service(office) -> None:  # type: ignore[no-untyped-def]
    """Two units of work lock two cases in opposite orders: the server undoes one (40P01); `retrying` runs it
    again and both complete; nobody sees the deadlock."""
    app, actors, ids = office
    a, b = ids[0], ids[1]
    both_hold_one = threading.Barrier(2)
    attempts: list[str] = []
    errors: list[BaseException] = []

    def work(first: int, second: int, name: str) -> None:
        def once() -> None:
            attempts.append(name)
            with app.uow(actors[Role.CLERK]) as uow:
                s = uow.session
                s.execute(text("SELECT id FROM citations WHERE id = :i FOR UPDATE"), {"i": first})
                if attempts.count(name) == 1:
                    both_hold_one.wait(timeout=30)
                s.execute(text("UPDATE citations SET version = version + 1 WHERE id = :i"), {"i": second})
                uow.commit()
        try:
            retrying(once)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(a, b, "ab")), threading.Thread(target=work, args=(b, a, "ba"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert len(attempts) == 3  # one of the two ran twice
    with app.db.reading() as s:
        versions = dict(s.execute(select(Citation.id, Citation.version).where(Citation.id.in_([a, b]))).all())
    assert versions[a] == versions[b]  # each got both updates... once each


@pytest.fixture
def impatient_app(pg_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[AppContext]:
    """The same database with short limits given in the URL (a URL's own ``options`` win over the defaults)."""
    a = make_app(f"{pg_url}?options=-c%20lock_timeout%3D300%20-c%20statement_timeout%3D400", tmp_path, clock,
                 migrate=False)
    yield a
    a.db.dispose()


def test_a_row_held_by_another_job_ends_in_a_sentence_not_a_wait(office, impatient_app, pg_url) -> None:  # type: ignore[no-untyped-def]
    _app, actors, ids = office
    with psycopg.connect(_admin(pg_url)) as other:  # another job holds the case's row
        other.execute("SELECT id FROM citations WHERE id = %s FOR UPDATE", (ids[2],))
        with pytest.raises(failures.RowsBusy) as caught:
            posting.post_counter_payment(impatient_app, actors[Role.CLERK], [ids[2]], FINE, "cash")
        other.rollback()
    assert str(caught.value) == failures.BUSY
    with impatient_app.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Payment)) == 0


def test_a_statement_over_the_limit_ends_in_a_sentence_and_a_long_job_is_exempt(office, impatient_app) -> None:  # type: ignore[no-untyped-def]
    _app, actors, _ids = office
    with pytest.raises(failures.TooSlow):
        with impatient_app.reader(actors[Role.CLERK]) as uow:
            uow.session.execute(text("SELECT pg_sleep(1)"))
    with impatient_app.reader(actors[Role.CLERK], long=True) as uow:  # the daily run, an import, an export
        uow.session.execute(text("SELECT pg_sleep(0.6)"))
        assert uow.session.execute(text("SHOW statement_timeout")).scalar() == "0"
    with impatient_app.reader(actors[Role.CLERK]) as uow:  # SET LOCAL: the pooled connection is back to limits
        assert uow.session.execute(text("SHOW statement_timeout")).scalar() == "400ms"


def test_a_workstation_pool_and_the_clicks_limits(pg_app: AppContext) -> None:
    pool = pg_app.db.engine.pool
    assert pool.size() == 2 and pool._max_overflow == 4  # type: ignore[attr-defined]
    with pg_app.db.reading() as s:
        assert s.execute(text("SHOW statement_timeout")).scalar() == "30s"
        assert s.execute(text("SHOW lock_timeout")).scalar() == "5s"
        assert s.execute(text("SHOW idle_in_transaction_session_timeout")).scalar() == "5min"


def test_a_clerk_writes_while_an_import_is_posting(office, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The import appends its audit entries at its commit, so the audit chain's head (which every audited write
    locks until it commits) is not held while it posts: a clerk's note, made when the import has posted every
    payment but not committed, goes through at once instead of waiting for the import."""
    from desktop.services.cases import notes

    app, actors, ids = office
    during: list[object] = []

    def clerk_meanwhile(uow: UnitOfWork) -> None:
        if not uow.long or during:
            return
        outcome: list[object] = []
        worker = threading.Thread(target=lambda: outcome.append(
            notes.add_note(app, actors[Role.CLERK], ids[3], "Owner called about the bank payment.").id))
        worker.start()
        worker.join(timeout=60)
        during.append(outcome[0] if outcome else "blocked")

    monkeypatch.setattr(context, "_before_commit", clerk_meanwhile)
    payment_imports.import_payment_file(app, actors[Role.CLERK], _bank_file(tmp_path))
    assert during and isinstance(during[0], int), during
    with app.db.reading() as s:  # the chain is whole: the note's entry, then the import's
        actions = [a for (a,) in s.execute(select(AuditEntry.action).order_by(AuditEntry.id.desc()).limit(8))]
    assert actions.index("payment_import.imported") < actions.index("note.added")


def test_a_large_run_refreshes_the_planner_statistics(office, clock: FixedClock, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    app, actors, _ids = office
    clock.now = datetime.combine(DAY, datetime.min.time(), tzinfo=LA).replace(hour=2)
    monkeypatch.setattr(escalation, "ANALYZE_AFTER_ROWS", 4)  # this office's run writes 4 penalties and more
    escalation.run_escalation(app, actors[Role.SUPERVISOR], DAY)
    with app.db.reading() as s:
        analysed = dict(s.execute(text("SELECT relname, last_analyze IS NOT NULL FROM pg_stat_user_tables "
                                       "WHERE relname IN ('citations', 'ledger_entries', 'notices', 'audit_log')")).all())
    assert analysed == {"citations": True, "ledger_entries": True, "notices": True, "audit_log": True}
