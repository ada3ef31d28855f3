"""Benchmark: every management report for a 90-day period on the 1,000,000-citation office, and the dashboard,
each next to a baseline measured in the same run: one raw ``COUNT(*) ... GROUP BY`` over the same rows with
sqlite3.

Run with ``pytest tests/benchmarks/bench_reports.py --benchmark-only -p no:randomly``. Goals: a report <= 1 s
from request to painted chart (the service here, the paint in ``test_paint``), the dashboard <= 300 ms. The
office is the cached one of ``casework_db`` (``CURBDESK_BENCH_CITATIONS`` for a smaller one).
"""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from desktop.bootstrap import make_app_context
from desktop.paths import AppPaths
from desktop.persistence.db import Database
from desktop.services.core.context import Actor, AppContext
from desktop.services.reports.catalog import REPORTS, run_report
from desktop.services.reports.dashboard import dashboard
from desktop.services.reports.model import ReportFilter
from tests.benchmarks.casework_db import demo_office

REPORT_GOAL_S = 1.0
DASHBOARD_GOAL_S = 0.3


@pytest.fixture(scope="module")
def office() -> Path:
    return demo_office()


@pytest.fixture(scope="module")
def app(office: Path) -> AppContext:
    a = make_app_context(Database(f"sqlite:///{office / 'curbdesk.sqlite3'}"), AppPaths(office))
    yield a
    a.db.dispose()


@pytest.fixture(scope="module")
def period(office: Path) -> ReportFilter:
    """The last 90 days of the office's citations."""
    with sqlite3.connect(office / "curbdesk.sqlite3") as conn:
        last = date.fromisoformat(conn.execute("SELECT MAX(issued_at) FROM citations").fetchone()[0][:10])
    return ReportFilter(last - timedelta(days=89), last)


@pytest.mark.benchmark(group="reports-1m")
def test_baseline_raw_count_group_by(benchmark, office: Path, period: ReportFilter) -> None:  # type: ignore[no-untyped-def]
    conn = sqlite3.connect(office / "curbdesk.sqlite3")
    a, b = period.bounds(ZoneInfo("America/Los_Angeles"))
    fmt = "%Y-%m-%d %H:%M:%S.%f"

    def raw() -> list[tuple[str, int]]:
        return conn.execute("SELECT officer_badge, COUNT(*) FROM citations WHERE issued_at >= ? AND issued_at < ? "
                            "GROUP BY officer_badge", (a.strftime(fmt), b.strftime(fmt))).fetchall()

    rows = benchmark.pedantic(raw, rounds=5, iterations=1)
    assert rows
    conn.close()


@pytest.mark.benchmark(group="reports-1m")
@pytest.mark.parametrize("key", list(REPORTS))
def test_report(benchmark, app: AppContext, period: ReportFilter, key: str) -> None:  # type: ignore[no-untyped-def]
    actor = Actor.system("bench")
    result = benchmark.pedantic(lambda: run_report(app, actor, key, period), rounds=3, iterations=1)
    assert result.chart is not None or result.empty
    assert benchmark.stats.stats.median <= REPORT_GOAL_S, f"{key}: {benchmark.stats.stats.median:.2f} s"


@pytest.mark.benchmark(group="reports-1m")
def test_dashboard(benchmark, app: AppContext) -> None:  # type: ignore[no-untyped-def]
    actor = Actor.system("bench")
    board = benchmark.pedantic(lambda: dashboard(app, actor), rounds=5, iterations=1)
    assert len(board.figures) == 6
    assert benchmark.stats.stats.median <= DASHBOARD_GOAL_S


# ------------------------------------------------------------------ request to painted chart (GUI)

@pytest.mark.benchmark(group="reports-paint-1m")
@pytest.mark.parametrize("key", list(REPORTS))
def test_report_until_painted(benchmark, app: AppContext, period: ReportFilter, qtbot, key: str) -> None:  # type: ignore[no-untyped-def]
    """The report counted, its chart and tables built and the page painted (synchronously: the work a click
    starts, without the thread hop)."""
    from zoneinfo import ZoneInfo  # lazy: a benchmark module; 0 ms

    from desktop.ui.common.messages import MessageChannel
    from desktop.ui.common.tasks import TaskRunner
    from desktop.ui.context import UiContext
    from desktop.ui.reports import report_page

    actor = Actor.system("bench")
    ctx = UiContext(app=app, actor=actor, runner=TaskRunner(), messages=MessageChannel(interactive=False),
                    tz=ZoneInfo("America/Los_Angeles"))
    cls = next(c for c in vars(report_page).values()
               if isinstance(c, type) and issubclass(c, report_page.ReportPage) and c.KEY == key)
    page = cls(ctx)
    qtbot.addWidget(page)
    page.resize(1200, 700)
    page.show()

    def request_and_paint() -> None:
        page.show_result(run_report(app, actor, key, period))
        page.repaint()

    benchmark.pedantic(request_and_paint, rounds=3, iterations=1)
    assert page.result is not None
    assert benchmark.stats.stats.median <= REPORT_GOAL_S, f"{key}: {benchmark.stats.stats.median:.2f} s"
