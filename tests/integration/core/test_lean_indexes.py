"""Leaner indexes on citations and notices (migration scale_0001, issue 19).

Every new row, and on PostgreSQL every new version of a row, is entered in each index of its table: the daily
run's first day rewrites half a million cases and queues as many notices. The indexes that only repeated a
composite's first column are gone, and the mostly empty columns are indexed only where they hold a value. The
look-ups those indexes served must still use an index on both databases: these tests read the plans."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from desktop.services.core.context import AppContext

PARTIAL = {"ix_citations_vin": "vin", "ix_citations_review_assignee_id": "review_assignee_id",
           "ix_notices_batch_id": "batch_id", "ix_notices_mailed_at": "mailed_at"}
GONE = ("ix_citations_status", "ix_citations_zone_code")


def _index_sql(app: AppContext) -> dict[str, str]:
    with app.db.engine.connect() as conn:
        if app.db.dialect == "sqlite":
            rows = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"))
        else:
            rows = conn.execute(text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"))
        return {str(name): " ".join(str(sql).lower().split()) for name, sql in rows}


def _plan(app: AppContext, sql: str, params: dict[str, object] | None = None) -> str:
    with app.db.engine.connect() as conn:
        if app.db.dialect == "sqlite":
            return " ".join(str(row[-1]) for row in conn.execute(text(f"EXPLAIN QUERY PLAN {sql}"), params or {}))
        conn.execute(text("SET LOCAL enable_seqscan = off"))  # a test database is tiny: not read whole
        return " ".join(str(row[0]) for row in conn.execute(text(f"EXPLAIN {sql}"), params or {}))


def test_mostly_empty_columns_are_indexed_only_where_they_hold_a_value(any_app: AppContext) -> None:
    found = _index_sql(any_app)
    for name, column in PARTIAL.items():
        assert name in found, name
        assert f"where ({column} is not null)" in found[name] or f"where {column} is not null" in found[name], found[name]
    assert not set(GONE) & set(found)


@pytest.mark.parametrize(("sql", "index"), [
    ("SELECT id FROM citations WHERE vin = '1HGCM82633A004352'", "ix_citations_vin"),
    ("SELECT id FROM citations WHERE review_assignee_id = 3", "ix_citations_review_assignee_id"),
    ("SELECT id FROM notices WHERE batch_id = 7", "ix_notices_batch_id"),
    ("SELECT id FROM notices WHERE mailed_at >= '2026-11-01' AND mailed_at < '2026-12-01'", "ix_notices_mailed_at"),
])
def test_a_lookup_by_a_sparse_column_reads_its_partial_index(any_app: AppContext, sql: str, index: str) -> None:
    assert index in _plan(any_app, sql)


@pytest.mark.parametrize("sql", ["SELECT COUNT(*) FROM citations WHERE status = 'pending_review'",
                                 "SELECT id FROM citations WHERE zone_code = 'Z-DOWNTOWN-1'"])
def test_status_and_zone_lookups_still_read_an_index(any_app: AppContext, sql: str) -> None:
    plan = _plan(any_app, sql)
    assert "ix_citation_status_" in plan or "ix_citation_zone_issued_status" in plan, plan


def test_the_address_search_reads_its_own_index_on_each_database(any_app: AppContext) -> None:
    """scale_0002: PostgreSQL has only the byte-ordered address index (the plain one was read by no query and
    was one more entry per row version); the search's condition still reads an index on both databases."""
    from desktop.services.cases import queries

    pg = any_app.db.dialect == "postgresql"
    q = queries._Query(pg)
    plan = _plan(any_app, f"SELECT id FROM citations WHERE {q.prefix('address', '1200 S')}", q.params)
    found = _index_sql(any_app)
    if pg:
        assert "ix_citation_address_c" in plan, plan
        assert "ix_citations_address" not in found
    else:
        assert "ix_citations_address" in plan, plan
        assert "ix_citations_address" in found


def test_a_case_is_found_by_its_address_on_each_database(any_app: AppContext) -> None:
    from desktop.domain.roles import Role
    from desktop.services.cases import queries
    from tests.conftest import seed_users
    from tests.helpers.factories import add_citation

    clerk = seed_users(any_app)[Role.CLERK]
    cid = add_citation(any_app, number="ADDR-1", address="1200 S FIGUEROA ST")
    add_citation(any_app, number="ADDR-2", address="1300 S FIGUEROA ST")
    assert [r.id for r in queries.search_cases(any_app, clerk, "1200 s fig")] == [cid]
