"""A big list's count: on PostgreSQL the planner's estimate is shown first ("about 1,000,000 cases"), the
exact count follows off the GUI thread (see ``ui/cases/model.py``); a small list or SQLite counts at once."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from desktop.domain.roles import Role
from desktop.services.cases import queries
from desktop.services.cases.queries import CaseFilter
from desktop.services.core.context import AppContext
from tests.conftest import seed_users
from tests.helpers.factories import add_citation


def _fill(app: AppContext, n: int) -> None:
    for i in range(n):
        add_citation(app, number=f"EST-{i:04d}", plate=f"7ES{i:04d}")


@pytest.mark.postgres
def test_a_big_list_is_estimated_from_the_planner_and_a_small_one_is_not(pg_app: AppContext, monkeypatch) -> None:
    clerk = seed_users(pg_app)[Role.CLERK]
    _fill(pg_app, 120)
    with pg_app.db.engine.begin() as conn:
        conn.execute(text("ANALYZE citations"))
    assert queries.estimate_cases(pg_app, clerk, CaseFilter()) is None  # 120 < ESTIMATE_FROM: counted
    monkeypatch.setattr(queries, "ESTIMATE_FROM", 100)
    guess = queries.estimate_cases(pg_app, clerk, CaseFilter())
    assert guess is not None and 100 <= guess <= 140, guess  # the statistics' 120, not a count
    assert queries.count_cases(pg_app, clerk, CaseFilter()) == 120
    # a text search is counted only to its cap, never estimated
    assert queries.estimate_cases(pg_app, clerk, CaseFilter(text="7ES0001")) is None
    # a filter the planner expects few rows for is counted exactly
    assert queries.estimate_cases(pg_app, clerk, CaseFilter(statuses=("paid",))) is None  # none are paid


def test_sqlite_counts_every_list(app: AppContext, monkeypatch) -> None:
    clerk = seed_users(app)[Role.CLERK]
    _fill(app, 5)
    monkeypatch.setattr(queries, "ESTIMATE_FROM", 1)
    assert queries.estimate_cases(app, clerk, CaseFilter()) is None
