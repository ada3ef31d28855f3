"""Painted figures on any office, SQLite or PostgreSQL: from the moment a search (or the case list) is asked
for until the Cases screen's table has painted its first rows, as ``bench_search.py`` measures them on the
SQLite demo office, here on the office at URL (the 1,000,000-citation PostgreSQL office of issue 19).

    QT_QPA_PLATFORM=offscreen python -m tests.benchmarks.paint_office URL [--label NAME]

What is timed, for each search (citation number, plate, owner's full name, owner's surname, street address)
and the whole case list: ``CaseTableModel.set_filter`` with the Cases screen's own source (its count, or the
planner's estimate for a big list on PostgreSQL, and the first 256 rows, on the worker thread) until
``loaded``, then the table's viewport painted; median of 15 after two warm-ups (between two, outside the
timing, the exact count a big list starts after its paint is let finish). Baseline in the same run: the
same search at the service layer (``search_cases``, or ``count_cases`` + ``case_page``), so the painted
figure can be read as a ratio. One JSON line on stdout with the load average before and after.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text

from tests.benchmarks.scale_office import _median_ms

REPEAT = 15


def measure(url: str) -> dict[str, Any]:
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication, QTableView

    from desktop.bootstrap import make_app_context
    from desktop.paths import AppPaths
    from desktop.persistence.db import Database
    from desktop.services.admin import users
    from desktop.services.cases import queries as cases
    from desktop.services.cases.queries import CaseFilter
    from desktop.ui.cases.model import CaseSource, CaseTableModel
    from desktop.ui.common.tasks import TaskRunner

    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    out: dict[str, Any] = {"load_before": os.getloadavg()[0]}
    app = make_app_context(Database(url), AppPaths(Path(tempfile.mkdtemp(prefix="curbdesk-paint-"))))
    clerk = users.actor_for(app, "clerk")
    with app.db.reading() as s:
        top = int(s.execute(text("SELECT MAX(id) FROM citations")).scalar() or 0)
        number, plate, address = s.execute(text(
            "SELECT citation_number, plate, address FROM citations WHERE id >= :i ORDER BY id LIMIT 1"),
            {"i": top // 2}).one()
        owner = str(s.execute(text("SELECT name FROM registered_owners WHERE id >= :i ORDER BY id LIMIT 1"),
                              {"i": top // 6}).scalar())
    out["citations"] = top
    runner = TaskRunner()
    source = CaseSource(count=lambda f: cases.count_cases(app, clerk, f),
                        page=lambda f, off, lim: cases.case_page(app, clerk, f, off, lim),
                        estimate=lambda f: cases.estimate_cases(app, clerk, f))
    model = CaseTableModel(runner, source, tz=ZoneInfo("America/Los_Angeles"))
    view = QTableView()
    view.verticalHeader().setVisible(False)  # as the Cases screen's table
    view.verticalHeader().setDefaultSectionSize(24)
    view.setModel(model)
    view.resize(1200, 800)
    view.show()

    def painted(f: CaseFilter) -> Callable[[], None]:
        def run() -> None:
            loop = QEventLoop()
            model.loaded.connect(loop.quit)
            QTimer.singleShot(30000, loop.quit)  # a guard: a lost signal must not hang the benchmark
            model.set_filter(f)
            loop.exec()
            model.loaded.disconnect(loop.quit)
            view.viewport().repaint()
        return run

    def settle() -> None:  # an estimated list is counted exactly after its paint: let that count end
        if model.estimated:
            loop = QEventLoop()
            model.counted.connect(loop.quit)
            QTimer.singleShot(60000, loop.quit)
            loop.exec()
            model.counted.disconnect(loop.quit)
        runner.pool.waitForDone(60000)
        # the table's own work once the count has come (its layout for the corrected row count, 20 ms at a
        # million): after the paint the clerk waited for, and not to be timed in the next round
        view.doItemsLayout()
        qapp.processEvents()

    searches = {"citation number": str(number), "plate": str(plate), "owner full name": owner,
                "owner surname": owner.split(",")[0].lower(), "street address": " ".join(str(address).split()[:3])}
    for kind, typed in searches.items():
        out[f"search {kind}: service"] = _median_ms(functools.partial(cases.search_cases, app, clerk, typed, 50), REPEAT)
        out[f"search {kind}: painted"] = _median_ms(painted(CaseFilter(text=typed)), REPEAT, settle)

    def first_page() -> None:
        f = CaseFilter()
        if cases.estimate_cases(app, clerk, f) is None:
            cases.count_cases(app, clerk, f)
        cases.case_page(app, clerk, f, 0, 256)

    out["case list: service"] = _median_ms(first_page, REPEAT)
    out["case list: painted"] = _median_ms(painted(CaseFilter()), REPEAT, settle)
    out["case list: painted with the estimate"] = cases.estimate_cases(app, clerk, CaseFilter()) is not None
    runner.wait_all(30000)
    view.close()
    qapp.processEvents()
    out["load_after"] = os.getloadavg()[0]
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    result = measure(args.url)
    print(json.dumps({"label": args.label, **result}))


if __name__ == "__main__":
    main()
