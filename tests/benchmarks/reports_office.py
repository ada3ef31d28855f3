"""Script: every management report and the hour-of-week table for the last 90 days, and the dashboard, on a
given office (SQLite or PostgreSQL), at the service layer, each median next to a same-run baseline (one raw
``COUNT(*) ... GROUP BY`` over the period's citations).

    python -m tests.benchmarks.reports_office URL DATA_FOLDER

Used for the PostgreSQL column of README's "Patrol & Reports (issue 18)" figures (the pytest benchmarks in
``bench_reports.py`` and ``bench_patrol_stats.py`` build or copy their own offices; this one reads any office
already built, e.g. the scale office of ``scale_office.py`` upgraded to this release). Reads only.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import text

from desktop.bootstrap import make_app_context
from desktop.paths import AppPaths
from desktop.persistence.db import Database
from desktop.services.core.context import Actor
from desktop.services.patrol import stats
from desktop.services.reports.catalog import REPORTS, run_report
from desktop.services.reports.dashboard import dashboard
from desktop.services.reports.model import ReportFilter


def median_ms(fn: Callable[[], object], rounds: int = 3) -> float:
    fn()  # first-time work (caches, the planner) is not what a clerk waits for on the second click
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def _day(value: object) -> date:
    return value.date() if hasattr(value, "date") else date.fromisoformat(str(value)[:10])  # type: ignore[union-attr]


def main(url: str, folder: Path) -> None:
    db = Database(url)
    app = make_app_context(db, AppPaths(folder))
    with db.engine.connect() as c:
        last = _day(c.execute(text("SELECT MAX(issued_at) FROM citations")).scalar())
    flt = ReportFilter(last - timedelta(days=89), last)
    actor = Actor.system("bench")

    def baseline() -> None:
        with db.engine.connect() as c:
            c.execute(text("SELECT zone_code, COUNT(*) FROM citations WHERE issued_at >= :a AND issued_at < :b "
                           "GROUP BY zone_code"), {"a": flt.start, "b": flt.end + timedelta(days=1)}).all()

    print(f"{url.split(':')[0]}, 90 days to {last}: baseline raw COUNT GROUP BY {median_ms(baseline, 5):.0f} ms")
    for key in REPORTS:
        def one(key: str = key) -> object:
            return run_report(app, actor, key, flt)

        print(f"  report {key}: {median_ms(one):.0f} ms")
    print(f"  dashboard: {median_ms(lambda: dashboard(app, actor), 5):.1f} ms")
    print(f"  hour_of_week_all: {median_ms(lambda: stats.hour_of_week_all(app, actor, flt.start, flt.end)):.0f} ms")
    db.dispose()


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
