"""A sync batch looks its events, devices and citation numbers up in as few statements as the database allows:
on PostgreSQL one statement with an array parameter, whatever the count; on SQLite ``IN`` lists of 500."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, select

from desktop.persistence.models import Citation
from desktop.services.core.context import AppContext
from desktop.services.sync.ingest_storage import IN_CHUNK, one_of
from tests.helpers.factories import add_citation


@pytest.mark.parametrize("any_app", ["sqlite", "postgresql"], indirect=True)
def test_a_batch_s_look_up_is_one_statement_on_postgresql_and_in_lists_on_sqlite(any_app: AppContext) -> None:
    app = any_app
    stored = [add_citation(app, number=f"LK-{n:04d}") for n in range(3)]
    wanted = [f"LK-{n:04d}" for n in range(3)] + [f"NONE-{n}" for n in range(2 * IN_CHUNK + 10)]
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM citations" in statement:
            seen.append(statement)

    event.listen(app.db.engine, "before_cursor_execute", note)
    try:
        with app.db.reading() as s:
            found = {n for where in one_of(s, Citation.citation_number, wanted)
                     for n in s.scalars(select(Citation.citation_number).where(where))}
            assert list(one_of(s, Citation.citation_number, [])) == []
    finally:
        event.remove(app.db.engine, "before_cursor_execute", note)
    assert found == {f"LK-{n:04d}" for n in range(len(stored))}
    assert len(seen) == (1 if app.db.dialect == "postgresql" else 3)
