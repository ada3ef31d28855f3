"""Benchmarks of the payments service on SQLite, each against a baseline measured in the same run.

* ``import-2000``: importing a BAI2 statement of 2,000 ACH credits that name their citations (match,
  post, close 2,000 cases, audit, one transaction) against merely parsing the same file.
* ``counter``: one counter payment (lock, drawer, payment row, ledger entry, case closed, receipt
  number, audit) against the bare minimum a payment needs: one ledger entry and its audit line.
* ``daily-close``: reconciling a day with 2,000 payments against summing them in one query.

Run with ``pytest tests/benchmarks/bench_payments_service.py --benchmark-only``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from desktop.demo.payments import Bai2Item, build_bai2
from desktop.domain.ledger import EntryKind
from desktop.persistence.models import Citation, CitationViolation, LedgerEntry, Payment
from desktop.services.cases import steps as case_ops
from desktop.services.core.context import AppContext
from desktop.services.payments import daily_close
from desktop.services.payments import imports as payment_imports
from desktop.services.payments import posting as payments
from desktop.services.payments.importers import read_payment_bytes
from tests.conftest import FixedClock, make_app, seed_users

N = 2000
DAY = date(2026, 11, 24)


def _cases(app: AppContext, count: int) -> None:
    issued = datetime(2026, 11, 1, 17, 0, tzinfo=UTC)
    rows, violations, ledger = [], [], []
    for i in range(1, count + 1):
        rows.append({"id": i, "citation_number": f"BN{i:06d}", "officer_badge": "1234", "issued_at": issued + timedelta(minutes=i),
                         "received_at": issued, "plate": f"{i % 9 + 1}BEN{i:04d}"[:8], "plate_key": f"{i % 9 + 1}BEN{i:04d}"[:8],
                         "jurisdiction": "CA", "lat": 34.05, "lon": -118.25, "violation_code": "88.13B+",
                         "violation_description": "METER EXP.", "fine_cents": 6300, "status": "open", "evidence_status": "ok",
                         "observations": [], "version": 1})
        violations.append({"citation_id": i, "code": "88.13B+", "fine_cents": 6300})
        ledger.append({"citation_id": i, "kind": "fine", "amount_cents": 6300, "at": issued, "effective_date": issued.date(),
                           "dedupe_key": "fine"})
    with app.db.write_session() as s:
        s.execute(insert(Citation), rows)
        s.execute(insert(CitationViolation), violations)
        s.execute(insert(LedgerEntry), ledger)
        s.commit()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Path:
    folder = tmp_path_factory.mktemp("bench-payments")
    target = folder / "cases.sqlite3"
    shutil.copyfile(sqlite_template, target)
    app = make_app(f"sqlite:///{target}", folder, FixedClock(datetime(2026, 11, 24, 18, 0, tzinfo=UTC)),
                   migrate=False)
    seed_users(app)
    _cases(app, N + 200)
    app.db.dispose()
    return target


def _fresh(template: Path, tmp_path: Path, n: int) -> AppContext:
    target = tmp_path / f"run{n}.sqlite3"
    shutil.copyfile(template, target)
    # the office's audit key with it: the template's chain is sealed with it (a new key is refused)
    shutil.copytree(template.parent / "data", tmp_path / "data", dirs_exist_ok=True)
    return make_app(f"sqlite:///{target}", tmp_path, FixedClock(datetime(2026, 11, 24, 18, 0, tzinfo=UTC)),
                    migrate=False)


STATEMENT = build_bai2([Bai2Item("142", 6300, f"ACH CREDIT CIT BN{i:06d}", f"B{i}") for i in range(1, N + 1)], DAY)


@pytest.mark.benchmark(group="import-2000")
def test_baseline_parse_the_statement(benchmark) -> None:  # type: ignore[no-untyped-def]
    parsed = benchmark(read_payment_bytes, STATEMENT, "bench.bai2")
    assert len(parsed.payments) == N
    benchmark.extra_info["payments_per_second"] = round(N / benchmark.stats.stats.median)


@pytest.mark.benchmark(group="import-2000")
def test_import_the_statement(benchmark, template: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from desktop.services.admin import users

    counter = iter(range(100))
    apps: list[AppContext] = []

    def setup():  # type: ignore[no-untyped-def]
        app = _fresh(template, tmp_path, next(counter))
        apps.append(app)
        return (app, users.actor_for(app, "clerk"), STATEMENT, "bench.bai2"), {}

    outcome = benchmark.pedantic(payment_imports.import_payment_bytes, setup=setup, rounds=5)
    assert outcome.matched == N
    benchmark.extra_info["payments_per_second"] = round(N / benchmark.stats.stats.median)
    for app in apps:
        app.db.dispose()


@pytest.fixture
def counter_app(template: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    app = _fresh(template, tmp_path, 0)
    yield app
    app.db.dispose()


def one_ledger_entry(app: AppContext) -> Callable[[], None]:
    """The floor of a counter payment: one ledger entry posted by the clerk on the next case, in its own unit
    of work (each call a new case)."""
    from desktop.services.admin import users

    clerk = users.actor_for(app, "clerk")
    ids = iter(range(1, N + 1))

    def post() -> None:
        with app.uow(clerk) as uow:
            case = case_ops.load_case(uow, next(ids))
            case_ops.post(uow, case, EntryKind.PAYMENT, -100, memo="bench")
            uow.commit()

    return post


@pytest.mark.benchmark(group="counter")
def test_baseline_one_ledger_entry(benchmark, counter_app: AppContext) -> None:  # type: ignore[no-untyped-def]
    benchmark.pedantic(one_ledger_entry(counter_app), rounds=200)


@pytest.mark.benchmark(group="counter")
def test_post_a_counter_payment(benchmark, counter_app: AppContext) -> None:  # type: ignore[no-untyped-def]
    from desktop.services.admin import users

    clerk = users.actor_for(counter_app, "clerk")
    ids = iter(range(1, N + 1))
    result = benchmark.pedantic(lambda: payments.post_counter_payment(counter_app, clerk, [next(ids)], 6300, "cash"),
                                rounds=200)
    assert result.allocations[0].status_after == "paid"


@pytest.fixture(scope="module")
def imported(template: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from desktop.services.admin import users

    folder = tmp_path_factory.mktemp("bench-close")
    app = _fresh(template, folder, 0)
    payment_imports.import_payment_bytes(app, users.actor_for(app, "clerk"), STATEMENT, "bench.bai2")
    yield app
    app.db.dispose()


@pytest.mark.benchmark(group="daily-close")
def test_baseline_sum_the_days_payments(benchmark, imported: AppContext) -> None:  # type: ignore[no-untyped-def]
    def total() -> int:
        with imported.db.reading() as s:
            return int(s.scalar(select(func.sum(Payment.amount_cents)).where(Payment.value_date == DAY)) or 0)

    assert benchmark(total) == N * 6300


@pytest.mark.benchmark(group="daily-close")
def test_reconcile_the_day(benchmark, imported: AppContext) -> None:  # type: ignore[no-untyped-def]
    from desktop.services.admin import users

    supervisor = users.actor_for(imported, "supervisor")
    result = benchmark(daily_close.daily_close, imported, supervisor, DAY)
    assert result.received_cents == N * 6300
