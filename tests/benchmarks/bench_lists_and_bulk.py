"""Benchmark: lists out and bulk work (issue 16, points 4 and 5), the user's whole job at the service
layer, each against a baseline measured in the same run.

- Export the case list of 20,000 open cases to CSV, XLSX and PDF, against reading the same rows through
  the same list service without writing anything (the baseline: what the screen's service costs).
- Put 1,000 cases on a supervisor hold in one bulk action (5 batches of 200), against the same 1,000
  holds placed one by one through the single-case service (one transaction each: what a supervisor
  clicking through them would cost the database).

Run with ``pytest tests/benchmarks/bench_lists_and_bulk.py --benchmark-only -p no:randomly``. The office is
built here (direct inserts: 20,000 open cases with their fine), in a temporary folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import Table

from desktop.domain.plates import plate_search_key
from desktop.domain.roles import Role
from desktop.persistence.bulk import insert_rows
from desktop.persistence.models import Citation, LedgerEntry
from desktop.services import bulk, lists
from desktop.services.cases.holds import place_supervisor_hold
from desktop.services.cases.queries import CaseFilter
from desktop.services.core.context import Actor, AppContext
from tests.conftest import FixedClock, make_app, seed_users

CASES = 20_000
BULK = 1_000


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AppContext, dict[Role, Actor]]]:
    folder = tmp_path_factory.mktemp("lists")
    app = make_app(f"sqlite:///{folder / 'bench.sqlite3'}", folder,
                   FixedClock(datetime(2026, 11, 24, 18, tzinfo=UTC)))
    actors = seed_users(app)
    start = datetime(2026, 9, 1, 8, tzinfo=UTC)
    citations, fines = [], []
    for i in range(1, CASES + 1):
        issued = start + timedelta(minutes=7 * i)
        plate = f"7B{i:05d}"
        citations.append(dict(id=i, citation_number=f"BN{i:08d}", device_id="HH-0001", officer_badge="1234",
                              issued_at=issued, received_at=issued, plate=plate, plate_key=plate_search_key(plate),
                              jurisdiction="CA", make="TOYT", lat=34.05, lon=-118.25, violation_code="88.13B+",
                              violation_description="METER EXP.", fine_cents=6300, handheld_fine_cents=6300,
                              status="open", evidence_status="ok", observations=[],
                              profile_code="CA", profile_version=1, held_days=0, on_hold=False,
                              version=1, next_action="mail:delinquent_notice", next_action_date=date(2026, 12, 1)))
        fines.append(dict(citation_id=i, kind="fine", amount_cents=6300, at=issued, effective_date=issued.date(),
                          dedupe_key="fine", memo="88.13B+ METER EXP."))
    with app.db.write_session() as s:
        insert_rows(s, cast(Table, Citation.__table__), citations)
        insert_rows(s, cast(Table, LedgerEntry.__table__), fines)
        s.commit()
    yield app, actors
    app.db.dispose()


FILTER = CaseFilter(statuses=("open",))


@pytest.mark.benchmark(group="lists-20k")
def test_baseline_read_the_case_list(benchmark: Any, office: tuple[AppContext, dict[Role, Actor]]) -> None:
    app, actors = office
    rows = benchmark(lambda: sum(1 for _ in lists.SOURCES["cases"].rows(app, actors[Role.CLERK], FILTER)))
    assert rows == CASES


@pytest.mark.benchmark(group="lists-20k")
@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
def test_export_the_case_list(benchmark: Any, office: tuple[AppContext, dict[Role, Actor]], fmt: str,
                              tmp_path: Path) -> None:
    app, actors = office
    out = tmp_path / f"cases.{fmt}"
    result = benchmark.pedantic(lambda: lists.export_list(app, actors[Role.CLERK], "cases", FILTER, out),
                                rounds=3, iterations=1)
    assert result.rows == CASES and out.stat().st_size > 0


_next_block = count()


def _block() -> list[int]:
    """The next 1,000 cases not yet held (each round takes its own)."""
    first = next(_next_block) * BULK + 1
    return list(range(first, first + BULK))


@pytest.mark.benchmark(group="bulk-hold-1000")
def test_baseline_holds_one_by_one(benchmark: Any, office: tuple[AppContext, dict[Role, Actor]]) -> None:
    app, actors = office
    sup = actors[Role.SUPERVISOR]

    def one_by_one(ids: list[int]) -> None:
        for cid in ids:
            place_supervisor_hold(app, sup, cid, "meter audit")

    benchmark.pedantic(one_by_one, setup=lambda: ((_block(),), {}), rounds=3, iterations=1)


@pytest.mark.benchmark(group="bulk-hold-1000")
def test_bulk_hold(benchmark: Any, office: tuple[AppContext, dict[Role, Actor]]) -> None:
    app, actors = office
    sup = actors[Role.SUPERVISOR]
    request = bulk.BulkRequest(bulk.BulkAction.HOLD, "meter audit")
    outcomes: list[bulk.BulkOutcome] = []
    benchmark.pedantic(lambda ids: outcomes.append(bulk.run_bulk(app, sup, request, ids)),
                       setup=lambda: ((_block(),), {}), rounds=3, iterations=1)
    assert all(len(o.done) == BULK and o.batches == 5 for o in outcomes)
