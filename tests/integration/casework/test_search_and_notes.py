"""Search across all cases (number, plate and its look-alikes, owner, VIN, address, dates, work lists),
notes with attachments stored by digest, the collections export and the escalate command."""

from __future__ import annotations

import csv
import os
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from desktop.domain.errors import UserError
from desktop.domain.plates import confusable_variants
from desktop.domain.roles import Role
from desktop.persistence.models import CaseNote, Citation
from desktop.services.cases import collections, owners
from desktop.services.cases import queries as cases
from desktop.services.cases.notes import DocumentStore, add_note, attachment_copy
from desktop.services.cases.queries import CaseFilter
from desktop.services.core.context import AppContext
from tests.conftest import seed_users
from tests.helpers.casework import add_owner, escalate, mail_queued
from tests.helpers.factories import add_citation
from tests.helpers.signed_in import DEMO_PASSWORDS, signed_in

LA = ZoneInfo("America/Los_Angeles")


def _ids(rows: list) -> list[int]:  # type: ignore[type-arg]
    return [r.id for r in rows]


def test_search_finds_every_way_a_clerk_names_a_case(any_app: AppContext) -> None:
    app = any_app
    clerk = seed_users(app)[Role.CLERK]
    owner = add_owner(app, "8OBS123", "GARCIA, MARIA", "1234 W Olympic Blvd Apt 5, Los Angeles, CA 90015",
                      vin="4T1B11HK5JU123456")
    a = add_citation(app, plate="8OBS123", number="HH0001-000001", owner_id=owner, address="1600 S BROADWAY",
                     issued_at=datetime(2026, 11, 2, 10, tzinfo=LA))
    b = add_citation(app, plate="5XYZ999", number="HH0001-000002", vin="1HGCM82633A004352",
                     issued_at=datetime(2026, 11, 3, 10, tzinfo=LA))
    c = add_citation(app, plate="7QQQ777", number="HH0001-000003", issued_at=datetime(2026, 11, 4, 10, tzinfo=LA))
    assert _ids(cases.search_cases(app, clerk, "HH0001-000001")) == [a]
    assert _ids(cases.search_cases(app, clerk, "hh0001-000002")) == [b]
    # Plates one look-alike character off (O/0, I/1, B/8, S/5, Z/2), in any mix, with spaces or dashes.
    for typed in ["8OBS123", "80BS123", "8O8S123", "8OB5123", "8obs-123", *confusable_variants("8OBS123")]:
        rows = cases.search_cases(app, clerk, typed)
        assert _ids(rows) == [a], typed
        assert rows[0].lookalike == (typed.upper().replace("-", "") != "8OBS123")
    assert _ids(cases.search_cases(app, clerk, "garcia")) == [a]
    assert _ids(cases.search_cases(app, clerk, "Maria Garcia")) == [a]
    assert _ids(cases.search_cases(app, clerk, "GARCIA, MARIA")) == [a]
    assert _ids(cases.search_cases(app, clerk, "1HGCM82633A004352")) == [b]   # the citation's VIN
    assert _ids(cases.search_cases(app, clerk, "4t1b11hk5ju123456")) == [a]   # the owner's VIN
    assert _ids(cases.search_cases(app, clerk, "1600 S Broadway")) == [a]     # where it happened
    assert _ids(cases.search_cases(app, clerk, "1234 W OLYMPIC")) == [a]       # where the owner lives
    assert cases.search_cases(app, clerk, "nobody-like-this") == []
    f = CaseFilter(date_from=date(2026, 11, 3), date_to=date(2026, 11, 4))
    assert cases.count_cases(app, clerk, f) == 2
    assert _ids(cases.case_page(app, clerk, f, 0, 10)) == [c, b]
    assert cases.count_cases(app, clerk, CaseFilter(text="8OBS123", date_from=date(2026, 11, 3))) == 0


def test_owner_name_search_lists_by_owner_and_counts_up_to_the_cap(any_app: AppContext, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A common surname matches thousands of cases: exact matches come first, then the owner-name index's
    order (name, owner, newest first), pages join up without gaps or repeats, and the count stops at the cap."""
    app = any_app
    clerk = seed_users(app)[Role.CLERK]
    day = [datetime(2026, 11, d, 10, tzinfo=LA) for d in range(1, 10)]
    ana = add_owner(app, "7ANA001", "GARCIA, ANA")
    maria = add_owner(app, "7MAR001", "GARCIA, MARIA", valid_to=date(2026, 11, 4))
    later = add_owner(app, "7MAR001", "LOPEZ, JOSE", valid_from=date(2026, 11, 5))  # bought the car since
    lopez = add_owner(app, "GARC1A", "LOPEZ, ANA")
    add_owner(app, "7OTH001", "GARCIAZ, NOT ON A CASE")
    ana_old = add_citation(app, plate="7ANA001", owner_id=ana, issued_at=day[0])
    ana_new = add_citation(app, plate="7ANA001", owner_id=ana, issued_at=day[2])
    maria_old = add_citation(app, plate="7MAR001", owner_id=maria, issued_at=day[1])
    maria_new = add_citation(app, plate="7MAR001", owner_id=maria, issued_at=day[3])
    add_citation(app, plate="7MAR001", owner_id=later, issued_at=day[6])  # the owner on that date is not a Garcia
    vanity = add_citation(app, plate="GARC1A", owner_id=lopez, issued_at=day[5])  # the plate reads like the name
    expected = [vanity, ana_new, ana_old, maria_new, maria_old]
    f = CaseFilter(text="garcia")
    assert _ids(cases.case_page(app, clerk, f, 0, 50)) == expected
    assert [_ids(cases.case_page(app, clerk, f, off, 2)) for off in (0, 2, 4, 6)] == [
        expected[0:2], expected[2:4], expected[4:], []]
    assert cases.describe_order(f).startswith("exact matches first")
    assert cases.count_cases(app, clerk, f) == 5
    assert _ids(cases.search_cases(app, clerk, "Maria Garcia")) == [maria_new, maria_old]
    assert _ids(cases.case_page(app, clerk, CaseFilter(text="garcia", date_from=date(2026, 11, 3)), 0, 50)) == [
        vanity, ana_new, maria_new]
    monkeypatch.setattr(cases, "SEARCH_COUNT_CAP", 3)
    assert cases.count_cases(app, clerk, f) == 4  # more than 3
    assert cases.count_cases(app, clerk, CaseFilter(text="maria garcia")) == 2
    assert cases.count_cases(app, clerk, CaseFilter()) == 6  # the whole list is counted to the end
    assert cases.describe_order(CaseFilter(text="7ANA001")) == "newest first"


def test_work_lists(app: AppContext, clock) -> None:  # type: ignore[no-untyped-def]
    actors = seed_users(app)
    clerk = actors[Role.CLERK]
    add_owner(app, "7BAD001", "DOE, JOHN", "GENERAL DELIVERY")
    held = add_citation(app, plate="7BAD001", issued_at=datetime(2026, 9, 1, 10, tzinfo=LA))
    fine = add_citation(app, plate="7NOW001", issued_at=datetime(2026, 10, 20, 10, tzinfo=LA))
    escalate(app, clock, actors[Role.SUPERVISOR], date(2026, 10, 21))
    assert _ids(cases.case_page(app, clerk, CaseFilter(worklist="held_notices"), 0, 10)) == [held]
    assert _ids(cases.case_page(app, clerk, CaseFilter(worklist="owner_address"), 0, 10)) == [held]
    assert _ids(cases.case_page(app, clerk, CaseFilter(worklist="no_owner"), 0, 10)) == [fine]
    assert cases.count_cases(app, clerk, CaseFilter(worklist="without_next_action")) == 0
    with pytest.raises(UserError):
        cases.count_cases(app, clerk, CaseFilter(worklist="nonsense"))


def test_notes_and_attachments_are_kept_by_digest(app: AppContext, tmp_path: Path) -> None:
    clerk = seed_users(app)[Role.CLERK]
    cid = add_citation(app)
    letter = tmp_path / "letter from owner.pdf"
    letter.write_bytes(b"%PDF-1.4 the owner says the meter was broken")
    note = add_note(app, clerk, cid, "Owner wrote in; meter 1856 reported broken", letter)
    store = DocumentStore(app.paths.documents_dir)
    assert store.verify(note.attachment_sha256) and note.attachment_name == "letter from owner.pdf"
    path = store.path_for(note.attachment_sha256)
    assert not os.access(path, os.W_OK) or os.geteuid() == 0  # read-only (root may still write)
    # The same bytes again: stored once, never rewritten.
    again = add_note(app, clerk, cid, "Second copy received", letter)
    assert again.attachment_sha256 == note.attachment_sha256
    copy = attachment_copy(app, note, tmp_path / "out")
    assert copy.name == "letter from owner.pdf" and copy.read_bytes() == letter.read_bytes()
    detail = cases.case_detail(app, clerk, cid)
    assert [n.text for n in detail.notes] == ["Owner wrote in; meter 1856 reported broken", "Second copy received"]
    assert sum(1 for t in detail.timeline if t.kind == "note") == 2
    with pytest.raises(UserError, match="Write a note"):
        add_note(app, clerk, cid, "  ")
    with app.db.reading() as s:
        assert len(s.scalars(select(CaseNote)).all()) == 2


def test_collections_export_lists_the_referred_cases(app: AppContext, clock, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    actors = seed_users(app)
    add_owner(app, "HXK4821", "SMITH, JANE", "350 5th Ave, New York, NY 10118", jurisdiction="NY")
    ny = ZoneInfo("America/New_York")
    referred = add_citation(app, plate="HXK4821", jurisdiction="NY", profile_code="NYC", fine_cents=6500,
                            number="NY-1", issued_at=datetime(2024, 1, 1, 12, tzinfo=ny))
    add_citation(app, plate="HXK4821", jurisdiction="NY", profile_code="NYC", number="NY-2",
                 issued_at=datetime(2024, 4, 1, 12, tzinfo=ny))
    for day in (date(2024, 2, 1), date(2024, 4, 15), date(2024, 5, 15)):
        escalate(app, clock, actors[Role.SUPERVISOR], day, "NYC")
        mail_queued(app, day, "NYC")
    out = tmp_path / "collections.csv"
    assert collections.export_collections(app, actors[Role.CLERK], out) == 1
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0]) == collections.COLUMNS
    row = rows[0]
    assert (row["citation_number"], row["fine_cents"], row["penalties_cents"], row["balance_cents"]) == (
        "NY-1", "6500", "6000", "12500")
    assert row["referred_on"] == "2024-05-15" and row["owner_name"] == "SMITH, JANE"
    assert row["owner_address_line1"] == "350 5TH AVE" and row["stage"] == "final:collections_referral"
    with app.db.reading() as s:
        assert s.get(Citation, referred).status == "in_collections"


def test_escalate_command_and_its_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CURBDESK_DATA_DIR", str(tmp_path / "data"))
    main = signed_in(monkeypatch, DEMO_PASSWORDS)
    assert main(["demo", "--citations", "40"]) == 0
    capsys.readouterr()
    assert main(["escalate", "--as-of", "2026-01-01"]) == 0
    out = capsys.readouterr().out
    assert "Daily escalation as of 2026-01-01" in out and "open cases without a next action: 0" in out
    assert main(["escalate", "--as-of", "2026-01-01"]) == 0
    assert "nothing to do" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exited:
        main(["escalate", "--as-of", "01/02/2026"])
    assert exited.value.code == 2 and "not a date" in capsys.readouterr().err
    assert main(["export", "collections", "--out", str(tmp_path / "c.csv")]) == 0
    assert "cases in collections written" in capsys.readouterr().out
    assert main(["profiles", "list"]) == 0
    listing = capsys.readouterr().out
    assert "CA    v1" in listing and "NYC" in listing and "ENG" in listing


def test_owner_lookup_purposes_are_the_dppa_ones() -> None:
    assert all("2721(b)" in p for p in owners.PURPOSES)
