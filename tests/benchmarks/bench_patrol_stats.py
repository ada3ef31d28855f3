"""Benchmark: the compliance map of a 90-day period on the 1,000,000-citation office (issue 18), on SQLite
and PostgreSQL, next to a baseline measured in the same run on the same rows.

Run with ``pytest tests/benchmarks/bench_patrol_stats.py --benchmark-only -p no:randomly``. Goal: 1 s from
request to painted.

The office is the cached demo office of ``casework_db`` (``main.py demo --citations 1000000``), copied once
to ``<bench dir>/patrol`` and given the demo's patrols (``desktop.demo.patrol.add_patrols``: a shift per
zone and day, about four compliant checks per citation: some 3,500,000 checks over the year); the copy is
kept for later runs. On PostgreSQL the office is the database ``curbdesk_bench_patrol_<n>k``, made once as
a copy of the scale office (``curbdesk_scale_<n>k``, when another benchmark made it) or by the demo.

Group ``patrol-90d-<db>``:

* baseline: one raw ``SELECT zone_code, COUNT(*) FROM citations WHERE issued_at in the period GROUP BY
  zone_code``: the least any per-zone count of the period reads;
* service: ``compliance_map`` (every zone's checks, compliant checks, citations by status and hours
  patrolled; the zones' shapes; the street map) for the 90 days;
* painted: the compliance page asked for the 90 days (with another measure each time) until its table is
  filled and the map page has drawn the zones (the page sets its title when done); the hour-of-week table,
  read next in a query of its own, is left to finish before the next round.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text

from desktop.bootstrap import make_app_context
from desktop.demo.patrol import add_patrols
from desktop.paths import AppPaths
from desktop.persistence.db import Database
from desktop.persistence.migrate import upgrade as migrate
from desktop.services.admin import users
from desktop.services.core.context import AppContext
from desktop.services.patrol.compliance_map import compliance_map
from desktop.services.patrol.stats import period_bounds
from desktop.ui.common.map_tiles import register_tile_scheme
from tests.benchmarks.casework_db import BENCH_DIR, CITATIONS, ROOT, _count, copy_office, demo_office, upgrade

GOAL_S = 1.0
register_tile_scheme()  # the street map's scheme, declared before pytest-qt makes the application (as the app does)
LA = ZoneInfo("America/Los_Angeles")
PG_SERVER = os.environ.get("CURBDESK_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
PG_NAME = f"curbdesk_bench_patrol_{CITATIONS // 1000}k"
PG_SCALE = f"curbdesk_scale_{CITATIONS // 1000}k"
#: the data folder of the scale office (its audit key seals the copy's audit trail too)
PG_SCALE_DIR = Path(os.environ.get("CURBDESK_BENCH_PG_DIR", f"/tmp/pgscale/pg-{CITATIONS // 1000}k"))


def _note(stage: str, done: int, total: int) -> None:
    print(f"  {stage}: {done:,}/{total:,}", file=sys.stderr)


def _patrolled(app: AppContext) -> None:
    started = time.perf_counter()
    shifts, checks = add_patrols(app, _note, batch=50000)
    if shifts:
        print(f"patrols added: {shifts:,} shifts, {checks:,} checks in {time.perf_counter() - started:.0f} s",
              file=sys.stderr)


def sqlite_office() -> Path:
    folder = BENCH_DIR / "patrol"
    db = folder / "curbdesk.sqlite3"
    marked = False
    if db.exists():
        with sqlite3.connect(db) as conn:
            marked = conn.execute("SELECT 1 FROM settings WHERE key = 'demo.patrol'").fetchone() is not None
    if not marked:
        base = BENCH_DIR / "base"
        # the shared office is used as it is when built (upgrading it would stamp this branch's migration on
        # a database the other benchmarks share); only the copy is upgraded
        source = base if _count(base / "curbdesk.sqlite3") >= CITATIONS else demo_office()
        folder = copy_office(source, "patrol")
        shutil.copyfile(source / "audit.key", folder / "audit.key")  # the copy's audit trail is sealed with it
    upgrade(folder)
    app = make_app_context(Database(f"sqlite:///{db}"), AppPaths(folder))
    _patrolled(app)
    app.db.dispose()
    return folder


def _pg_has(name: str, key: str) -> bool:
    engine = create_engine(f"{PG_SERVER}/{name}")
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT 1 FROM settings WHERE key = :k"), {"k": key}).first() is not None
    except Exception:  # noqa: BLE001 - no such database, or not a Curbdesk one
        return False
    finally:
        engine.dispose()


def pg_office(tmp: Path) -> str:
    """The PostgreSQL office (``tmp``: its data folder, kept under the bench folder)."""
    url = f"{PG_SERVER}/{PG_NAME}"
    tmp.mkdir(parents=True, exist_ok=True)
    if (PG_SCALE_DIR / "audit.key").is_file() and not (tmp / "audit.key").is_file():
        shutil.copyfile(PG_SCALE_DIR / "audit.key", tmp / "audit.key")
    if not _pg_has(PG_NAME, "demo.citations"):
        admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_NAME}"'))
            if _pg_has(PG_SCALE, "demo.citations"):
                conn.execute(text(f'CREATE DATABASE "{PG_NAME}" TEMPLATE "{PG_SCALE}"'))
            else:
                conn.execute(text(f'CREATE DATABASE "{PG_NAME}"'))
        admin.dispose()
        if not _pg_has(PG_NAME, "demo.citations"):
            subprocess.run([sys.executable, str(ROOT / "main.py"), "--db", url, "--data-dir", str(tmp), "demo",
                            "--citations", str(CITATIONS)], check=True, cwd=ROOT)
    db = Database(url)
    migrate(db)
    app = make_app_context(db, AppPaths(tmp))
    _patrolled(app)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE patrol_checks"))
        conn.execute(text("VACUUM ANALYZE patrol_shifts"))
        conn.execute(text("VACUUM ANALYZE citations"))
    db.dispose()
    return url


def _period(app: AppContext) -> tuple[date, date]:
    with app.db.reading() as s:
        anchor = s.execute(text("SELECT value FROM settings WHERE key = 'demo.anchor'")).scalar()
    value = anchor if isinstance(anchor, str) else str(anchor)
    end = datetime.fromisoformat(value.strip('"')).astimezone(LA).date()
    return end - timedelta(days=89), end


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def office(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        folder = sqlite_office()
        app = make_app_context(Database(f"sqlite:///{folder / 'curbdesk.sqlite3'}"), AppPaths(folder))
    else:
        try:
            create_engine(f"{PG_SERVER}/postgres").connect().close()
        except Exception as exc:  # noqa: BLE001
            pytest.skip(f"PostgreSQL not reachable: {exc}")
        tmp = BENCH_DIR / "patrol-pg"
        app = make_app_context(Database(pg_office(tmp)), AppPaths(tmp))
    actor = users.actor_for(app, "supervisor")
    yield request.param, app, actor, _period(app)
    app.db.dispose()


def test_baseline_one_raw_group_by(benchmark, office) -> None:  # type: ignore[no-untyped-def]
    kind, app, _actor, (start, end) = office
    benchmark.group = f"patrol-90d-{kind}"
    lo, hi = period_bounds(LA, start, end)
    bind: dict[str, object]
    if kind == "sqlite":
        bind = {"lo": lo.astimezone(timezone.utc).replace(tzinfo=None).isoformat(" ", "microseconds"),
                "hi": hi.astimezone(timezone.utc).replace(tzinfo=None).isoformat(" ", "microseconds")}
    else:
        bind = {"lo": lo, "hi": hi}
    sql = text("SELECT zone_code, COUNT(*) FROM citations WHERE issued_at >= :lo AND issued_at < :hi "
               "GROUP BY zone_code")

    def run() -> int:
        with app.db.reading() as s:
            return sum(n for _z, n in s.execute(sql, bind))

    assert benchmark(run) > 1000


def test_service_compliance_map_90_days(benchmark, office) -> None:  # type: ignore[no-untyped-def]
    kind, app, actor, (start, end) = office
    benchmark.group = f"patrol-90d-{kind}"
    built = benchmark(lambda: compliance_map(app, actor, start, end, "compliance"))
    assert built.spec is not None and sum(s.checks for s in built.stats) > 10000
    assert benchmark.stats.stats.median < GOAL_S


def test_painted_compliance_map_90_days(benchmark, office, qtbot) -> None:  # type: ignore[no-untyped-def]
    from desktop.ui.common.messages import MessageChannel
    from desktop.ui.common.tasks import TaskRunner
    from desktop.ui.context import UiContext
    from desktop.ui.patrol.compliance import ComplianceView

    kind, app, actor, (start, end) = office
    benchmark.group = f"patrol-90d-{kind}"
    ctx = UiContext(app=app, actor=actor, runner=TaskRunner(), messages=MessageChannel(interactive=False), tz=LA)
    view = ComplianceView(ctx)
    qtbot.addWidget(view, before_close_func=lambda w: (w.map.shutdown(), ctx.runner.wait_all(30000)))
    view.resize(1190, 700)
    view.show()
    qtbot.waitUntil(lambda: view.data is not None and view.map.is_ready, timeout=120000)  # the first page
    measures = ["compliance", "violations_per_hour"]
    state = {"n": 0}

    def run() -> None:
        state["n"] += 1  # another measure each time, so the map really changes
        view.measure.blockSignals(True)
        view.measure.setCurrentIndex(view.measure.findData(measures[state["n"] % 2]))
        view.measure.blockSignals(False)
        with qtbot.waitSignal(view.loaded, timeout=30000), qtbot.waitSignal(view.map.ready, timeout=30000):
            view.set_period(start, end)

    def idle() -> None:  # the previous round's hour-of-week table is finished before the clock starts
        qtbot.waitUntil(lambda: ctx.runner.active() == 0, timeout=60000)

    benchmark.pedantic(run, setup=idle, rounds=7, iterations=1, warmup_rounds=1)
    assert view.zones.rowCount() >= 9
    assert benchmark.stats.stats.median < GOAL_S
