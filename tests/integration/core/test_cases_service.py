"""Case search, paging, detail and the citations export."""

import csv
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from desktop.domain.errors import PermissionDenied
from desktop.domain.roles import Role
from desktop.persistence.models import RegisteredOwner
from desktop.services.cases import queries as cases
from desktop.services.cases.queries import CaseFilter
from desktop.services.core.context import AppContext
from tests.helpers.factories import add_citation


def _owner(app: AppContext, name: str, plate: str) -> int:
    with app.db.write_session() as s:
        o = RegisteredOwner(plate=plate, jurisdiction="CA", name=name, name_key=name.upper(), address_raw="1 MAIN ST",
                            valid_from=date(2020, 1, 1), source="test", imported_at=datetime.now(timezone.utc))
        s.add(o)
        s.commit()
        return o.id


def test_search_by_number_plate_one_off_and_owner(app: AppContext, actors: dict) -> None:
    clerk = actors[Role.CLERK]
    oid = _owner(app, "GARCIA, MARIA", "8OBS123")
    a = add_citation(app, plate="8OBS123", number="HH0001-000001", owner_id=oid)
    add_citation(app, plate="5XYZ999", number="HH0001-000002")
    assert [r.id for r in cases.search_cases(app, clerk, "HH0001-000001")] == [a]
    # O read as 0, B as 8, S as 5: still found
    assert [r.id for r in cases.search_cases(app, clerk, "80B5123")] == [a]
    assert [r.id for r in cases.search_cases(app, clerk, "8obs 123")] == [a]
    assert [r.id for r in cases.search_cases(app, clerk, "garcia")] == [a]
    assert cases.search_cases(app, clerk, "nobody-like-this") == []


def test_date_range_and_paging(app: AppContext, actors: dict) -> None:
    clerk = actors[Role.CLERK]
    for day in range(1, 11):
        add_citation(app, issued_at=datetime(2026, 11, day, 18, 0, tzinfo=timezone.utc))
    f = CaseFilter(date_from=date(2026, 11, 3), date_to=date(2026, 11, 5))
    assert cases.count_cases(app, clerk, f) == 3
    assert cases.count_cases(app, clerk, CaseFilter()) == 10
    page = cases.case_page(app, clerk, CaseFilter(), 2, 3)
    assert [r.issued_at.day for r in page] == [8, 7, 6]


def test_balance_is_the_ledger_sum(app: AppContext, actors: dict) -> None:
    cid = add_citation(app, fine_cents=6300)
    detail = cases.case_detail(app, actors[Role.CLERK], cid)
    assert detail.balance_cents == 6300
    assert [e.kind for e in detail.ledger] == ["fine"]


def test_export_has_the_agreed_columns(app: AppContext, actors: dict, tmp_path: Path) -> None:
    add_citation(app, number="E-1", fine_cents=7300)
    out = tmp_path / "c.csv"
    assert cases.export_citations(app, actors[Role.CLERK], out) == 1
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == cases.EXPORT_COLUMNS
    assert rows[0]["citation_number"] == "E-1" and rows[0]["balance_cents"] == "7300"


def test_export_needs_permission(app: AppContext, actors: dict, tmp_path: Path) -> None:
    with pytest.raises(PermissionDenied):
        cases.export_citations(app, actors[Role.HEARING_OFFICER], tmp_path / "x.csv")
    assert not (tmp_path / "x.csv").exists()
