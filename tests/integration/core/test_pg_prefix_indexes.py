"""Owner-name and address prefix searches use an index on PostgreSQL whatever the database's collation
(migration pgscale_0001): ``LIKE 'GARCIA%'`` under a linguistic collation (this server's C.UTF-8 is one, for
PostgreSQL 15; en_US or an ICU locale too) cannot use a plain b-tree index, only the COLLATE "C" ones."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from desktop.domain.roles import Role
from desktop.services.cases import queries
from desktop.services.core.context import AppContext
from tests.conftest import seed_users
from tests.helpers.casework import add_owner
from tests.helpers.factories import add_citation

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize("sql,index", [
    ("SELECT id FROM registered_owners o WHERE {}", "ix_owner_name_key_c"),
    ("SELECT id FROM registered_owners o WHERE {}", "ix_owner_address_line1_c"),
    ("SELECT id FROM citations WHERE {}", "ix_citation_address_c"),
])
def test_the_prefix_searches_can_use_their_index(pg_app: AppContext, sql: str, index: str) -> None:
    q = queries._Query(True)
    column = {"ix_owner_name_key_c": "o.name_key", "ix_owner_address_line1_c": "o.address_line1",
              "ix_citation_address_c": "address"}[index]
    where = q.prefix(column, "1200 S" if "address" in index else "GARCIA, M")
    with pg_app.db.reading() as s:
        assert s.execute(text("SELECT datcollate FROM pg_database WHERE datname = current_database()")).scalar() != "C"
        s.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(r[0] for r in s.execute(text("EXPLAIN " + sql.format(where)), q.params))
    assert index in plan, plan


def test_owner_name_search_lists_the_owners_in_name_order(pg_app: AppContext) -> None:
    clerk = seed_users(pg_app)[Role.CLERK]
    for n, name in enumerate(["GARCIA, MARIA", "GARCIA, LUIS", "GARCIAS, ANA", "GARCIA-LOPEZ, EVA"]):
        plate = f"7NAM{n:03d}"
        add_citation(pg_app, plate=plate, number=f"NAM-{n}", owner_id=add_owner(pg_app, plate, name=name))
    rows = queries.search_cases(pg_app, clerk, "garcia")
    assert [r.owner_name for r in rows] == ["GARCIA, LUIS", "GARCIA, MARIA", "GARCIA-LOPEZ, EVA", "GARCIAS, ANA"]
