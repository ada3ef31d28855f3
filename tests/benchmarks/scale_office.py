"""How each cost grows with the office: the README's service-layer figures measured on one office, SQLite or
PostgreSQL, so the same script run at 250,000, 500,000 and 1,000,000 citations gives the growth of each
(flat, logarithmic, linear) and a projection for ten million.

    python -m tests.benchmarks.scale_office URL [--mutating] [--label NAME]

Read-only figures (medians of repeated runs, after two warm-up runs): the quick search by citation number,
plate, owner's full name, owner's surname and street address (``search_cases``, 50 rows with balances); the
case list's first page (``count_cases`` + ``case_page`` of 256 rows; and as the Cases screen now paints it, with
``estimate_cases`` in place of the exact count on PostgreSQL at ``ESTIMATE_FROM`` cases or more); Review's next citation
(``review_item``); a case opened (``case_detail``). Baseline in the same run: the driver's own indexed plate
look-up (sqlite3 or psycopg, no SQLAlchemy). ``--mutating`` (on a throw-away copy: it changes the office):
a payment file of 500 payments imported, then the daily escalation's first run over every approved case and
the same day again (a settled day). One JSON line on stdout, with the load average before and after.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import text


def _median_ms(fn: Callable[[], Any], repeat: int, settle: Callable[[], Any] | None = None) -> float:
    """The median of ``repeat`` calls after two warm-ups; ``settle`` runs after each call, outside the timing."""
    times = []
    for n in range(2 + repeat):
        started = time.perf_counter()
        fn()
        if n >= 2:
            times.append((time.perf_counter() - started) * 1000)
        if settle is not None:
            settle()
    return round(statistics.median(times), 3)


def _raw_lookup(url: str, plate_key: str) -> Callable[[], Any]:
    if url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(url.split("///", 1)[1], check_same_thread=False)
        return lambda: conn.execute("SELECT id FROM citations WHERE plate_key = ?", (plate_key,)).fetchall()
    import psycopg

    pg = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
    return lambda: pg.execute("SELECT id FROM citations WHERE plate_key = %s", (plate_key,)).fetchall()


def measure(url: str, mutating: bool, data_dir: str | None = None) -> dict[str, Any]:
    from desktop.bootstrap import make_app_context
    from desktop.demo.payments import Bai2Item, build_bai2
    from desktop.paths import AppPaths
    from desktop.persistence.db import Database
    from desktop.services.admin import users
    from desktop.services.cases import escalation
    from desktop.services.cases import queries as cases
    from desktop.services.cases.queries import CaseFilter
    from desktop.services.payments import imports as payment_imports
    from desktop.services.review import queue

    out: dict[str, Any] = {"load_before": os.getloadavg()[0]}
    data = Path(data_dir or tempfile.mkdtemp(prefix="curbdesk-scale-"))
    app = make_app_context(Database(url), AppPaths(data))
    clerk = users.actor_for(app, "clerk")
    admin = users.actor_for(app, "admin")
    with app.db.reading() as s:
        total = int(s.execute(text("SELECT COUNT(*) FROM citations")).scalar() or 0)
        top = int(s.execute(text("SELECT MAX(id) FROM citations")).scalar() or 0)
        number, plate, plate_key, address = s.execute(text(
            "SELECT citation_number, plate, plate_key, address FROM citations WHERE id >= :i ORDER BY id LIMIT 1"),
            {"i": top // 2}).one()
        owner = str(s.execute(text("SELECT name FROM registered_owners WHERE id >= :i ORDER BY id LIMIT 1"),
                              {"i": top // 6}).scalar())
        pending = [int(r[0]) for r in s.execute(text(
            "SELECT id FROM citations WHERE status = 'pending_review' ORDER BY id DESC LIMIT 12"))]
        opened = [int(r[0]) for r in s.execute(text(
            "SELECT id FROM citations WHERE id >= :i ORDER BY id LIMIT 12"), {"i": top // 3})]
        payable = list(s.execute(text(
            "SELECT citation_number, fine_cents FROM citations WHERE status = 'open' AND id >= :i "
            "ORDER BY id LIMIT 500"), {"i": top // 4}))
    out["citations"] = total
    searches = {"citation number": number, "plate": plate, "owner full name": owner,
                "owner surname": str(owner).split(",")[0].lower(), "street address": " ".join(address.split()[:3])}
    raw = _raw_lookup(url, plate_key)
    out["baseline raw plate lookup"] = _median_ms(raw, 30)
    for kind, typed in searches.items():
        out[f"search {kind}"] = _median_ms(functools.partial(cases.search_cases, app, clerk, str(typed), 50), 15)

    def first_page() -> None:
        f = CaseFilter()
        cases.count_cases(app, clerk, f)
        cases.case_page(app, clerk, f, 0, 256)

    out["case list first page"] = _median_ms(first_page, 7)

    def first_paint_page() -> None:  # what the Cases screen waits for before its first paint
        f = CaseFilter()
        if cases.estimate_cases(app, clerk, f) is None:
            cases.count_cases(app, clerk, f)
        cases.case_page(app, clerk, f, 0, 256)

    out["case list first page, estimated count"] = _median_ms(first_paint_page, 7)
    out["case list exact count (after the paint)"] = _median_ms(lambda: cases.count_cases(app, clerk, CaseFilter()), 7)
    cycle = {"i": 0}

    def next_of(ids: list[int]) -> int:
        cycle["i"] += 1
        return ids[cycle["i"] % len(ids)]

    if pending:
        out["review next (service)"] = _median_ms(lambda: queue.review_item(app, clerk, next_of(pending)), 10)
    out["case opened"] = _median_ms(lambda: cases.case_detail(app, clerk, next_of(opened)), 10)
    if mutating:
        bank = build_bai2([Bai2Item("142", int(fine), f"CIT {num}", f"S{n}") for n, (num, fine) in
                           enumerate(payable)], date.today())
        started = time.perf_counter()
        outcome = payment_imports.import_payment_bytes(app, admin, bank, "scale.bai2")
        out["payment import 500 (s)"] = round(time.perf_counter() - started, 2)
        out["payment import matched"] = outcome.matched
        started = time.perf_counter()
        result = escalation.run_escalation(app, admin)
        out["escalation first run (s)"] = round(time.perf_counter() - started, 2)
        out["escalation first run cases"] = result.summary()
        started = time.perf_counter()
        escalation.run_escalation(app, admin)
        out["escalation settled day (s)"] = round(time.perf_counter() - started, 2)
    out["load_after"] = os.getloadavg()[0]
    app.db.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--mutating", action="store_true")
    parser.add_argument("--label", default="")
    parser.add_argument("--data-dir", help="the office's data folder (its audit key: needed by --mutating)")
    args = parser.parse_args()
    result = {"label": args.label, "db": args.url.split(":", 1)[0], **measure(args.url, args.mutating, args.data_dir)}
    print(json.dumps(result, default=str))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
