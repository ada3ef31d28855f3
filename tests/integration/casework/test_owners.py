"""Registered owners: the import (all or nothing, by line), the owner on the violation date, the
DPPA purpose of every lookup, manual entry and correction, and real addresses flagged for a clerk."""

from __future__ import annotations

import csv
import io
import sys
import xml.etree.ElementTree as ET
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from desktop.domain.addresses import AddressProblem, standardize
from desktop.domain.errors import PermissionDenied, UserError
from desktop.domain.roles import Role
from desktop.persistence.models import AuditEntry, Citation, Notice, OwnerLookup, RegisteredOwner
from desktop.services.cases import owners
from desktop.services.core.context import AppContext
from tests.helpers.casework import add_owner, escalate
from tests.helpers.factories import add_citation
from tests.helpers.signed_in import signed_in

HEADER = "plate,jurisdiction,owner_name,address,vehicle_make,vehicle_model,vehicle_year,vin,valid_from,valid_to\n"
LA = ZoneInfo("America/Los_Angeles")


def _write(tmp_path: Path, body: str, name: str = "owners.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_import_good_file_closes_the_former_registration(app: AppContext, actors: dict, tmp_path: Path) -> None:
    clerk = actors[Role.CLERK]
    first = _write(tmp_path, '7ABC123,CA,"GARCIA, MARIA","1234 W Olympic Blvd Apt 5, Los Angeles, CA 90015",'
                             "TOYT,CAMRY,2018,4T1B11HK5JU123456,2019-03-01,\n"
                             '8XYZ999,ca,"LEE, KIM","PO Box 30420, Los Angeles CA 90030-0420",HOND,,,,03/15/2020,\n')
    result = owners.import_owners(app, clerk, first)
    assert (result.rows, result.added, result.unparsed) == (2, 2, 0)
    # The car is sold: the registry sends the new owner; the old registration ends the day before.
    second = _write(tmp_path, '7ABC123,CA,"NGUYEN, PRIYA","55 Main St, Santa Monica, CA 90405",TOYT,CAMRY,2018,,'
                              "2024-06-01,\n", "second.csv")
    result = owners.import_owners(app, clerk, second)
    assert (result.added, result.closed) == (1, 1)
    with app.db.reading() as s:
        regs = s.scalars(select(RegisteredOwner).where(RegisteredOwner.plate == "7ABC123")
                         .order_by(RegisteredOwner.valid_from)).all()
        assert [(r.name, r.valid_to) for r in regs] == [("GARCIA, MARIA", date(2024, 5, 31)), ("NGUYEN, PRIYA", None)]
        assert regs[0].address_line1 == "1234 W OLYMPIC BLVD APT 5" and regs[0].zip == "90015"
        po = s.scalars(select(RegisteredOwner).where(RegisteredOwner.plate == "8XYZ999")).one()
        assert (po.address_line1, po.zip, po.jurisdiction) == ("PO BOX 30420", "90030-0420", "CA")
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "owners.imported")) == 2
    # Importing the same file again changes nothing new.
    again = owners.import_owners(app, clerk, second)
    assert (again.added, again.updated, again.closed) == (0, 1, 0)


def test_import_bad_file_writes_nothing_and_names_every_line(app: AppContext, actors: dict, tmp_path: Path) -> None:
    bad = _write(tmp_path, '7ABC123,CA,"GARCIA, MARIA","1 Main St, Los Angeles, CA 90012",,,,,2020-01-01,\n'
                           ",CA,NOBODY,1 Main St,,,,,2020-01-01,\n"
                           "8ABC123,CA,,1 Main St,,,1899,,2020-13-01,\n"
                           "9ABC123,CA,X,1 Main St,,,,,2021-01-01,2020-01-01\n"
                           '7ABC123,CA,"OTHER, ONE","2 Main St, Los Angeles, CA 90012",,,,,2020-06-01,\n')
    with pytest.raises(UserError) as err:
        owners.import_owners(app, actors[Role.CLERK], bad)
    message = str(err.value)
    assert "nothing imported" in message
    for expected in ("line 3: plate", "line 4: owner_name is empty", "line 4: vehicle_year '1899'",
                     "line 4: valid_from '2020-13-01'", "line 5: valid_to 2020-01-01 is before",
                     "line 6: the registration of 7ABC123 (CA) from 2020-06-01 overlaps line 2"):
        assert expected in message, (expected, message)
    with app.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(RegisteredOwner)) == 0
    missing = tmp_path / "nohead.csv"
    missing.write_text("plate,owner\n7ABC123,X\n")
    with pytest.raises(UserError, match="header lacks jurisdiction, owner_name, address, valid_from"):
        owners.import_owners(app, actors[Role.CLERK], missing)
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\xff\xfe\x00plate")
    with pytest.raises(UserError, match="not UTF-8"):
        owners.import_owners(app, actors[Role.CLERK], binary)
    with pytest.raises(PermissionDenied):
        owners.import_owners(app, actors[Role.HEARING_OFFICER], missing)


def test_real_addresses_are_standardised_or_flagged_for_a_clerk(app: AppContext, actors: dict, tmp_path: Path,
                                                                shared_data: Path) -> None:
    folder = shared_data / "addresses" / "usaddress"
    messy = [row[0] for row in csv.reader((folder / "unparseable.csv").open(encoding="utf-8")) if row][:60]
    tree = ET.parse(folder / "us50_test_tagged.xml")
    tagged = ["".join(e.itertext()).strip() for e in tree.getroot()][:60]
    addresses = messy + tagged
    lines = []
    for i, raw in enumerate(addresses):
        quoted = raw.replace('"', '""')
        lines.append(f'{i:03d}AAA,CA,"OWNER {i}","{quoted}",,,,,2020-01-01,')
    result = owners.import_owners(app, actors[Role.CLERK], _write(tmp_path, "\n".join(lines) + "\n"))
    # The import keeps an address as received, with runs of spaces made one.
    addresses = [" ".join(raw.split()) for raw in addresses]
    bad_list = [raw for raw in addresses if isinstance(standardize(raw), AddressProblem)]
    assert result.unparsed == len(bad_list) and 20 < len(bad_list) < 100
    expected_bad = set(bad_list)
    with app.db.reading() as s:
        rows = s.scalars(select(RegisteredOwner)).all()
        flagged = {r.address_raw for r in rows if r.address_status == "unparsed"}
        assert flagged == expected_bad
        assert all(r.address_problem for r in rows if r.address_status == "unparsed")
        assert all(r.address_line1 and r.city and r.zip for r in rows if r.address_status == "ok")
        by_raw = {r.address_raw: r for r in rows}
    doubled = by_raw["100 diamond street san francisco, ca, 941142414 san francisco 100 diamond street ca 941142414"]
    assert "two addresses run together" in doubled.address_problem
    # The clerk's list shows the flagged owners that have open cases.
    for raw in sorted(expected_bad)[:3]:
        add_citation(app, plate=by_raw[raw].plate, issued_at=datetime(2024, 1, 5, 12, tzinfo=LA))
    assert owners.assign_owners(app, actors[Role.CLERK]) == 3
    listed = owners.flagged_addresses(app, actors[Role.CLERK])
    assert len(listed) == 3 and all(f.problem for f in listed)


def test_owner_is_the_one_registered_on_the_violation_date(app: AppContext, actors: dict) -> None:
    clerk = actors[Role.CLERK]
    former = add_owner(app, "7ABC123", "FORMER, OWNER", valid_from=date(2018, 1, 1), valid_to=date(2024, 3, 9))
    current = add_owner(app, "7ABC123", "CURRENT, OWNER", valid_from=date(2024, 3, 10))
    # 23:30 in Los Angeles on 9 March is already 10 March in UTC: the local date decides.
    before = add_citation(app, plate="7ABC123", issued_at=datetime(2024, 3, 9, 23, 30, tzinfo=LA))
    after = add_citation(app, plate="7ABC123", issued_at=datetime(2024, 3, 10, 8, 0, tzinfo=LA))
    assert owners.lookup_owner(app, clerk, before, owners.PURPOSES[1]).id == former
    assert owners.lookup_owner(app, clerk, after, owners.PURPOSES[1]).id == current
    with app.db.reading() as s:
        lookups = s.scalars(select(OwnerLookup).order_by(OwnerLookup.id)).all()
        assert [(lk.citation_id, lk.owner_id, lk.user_id) for lk in lookups] == [
            (before, former, clerk.user_id), (after, current, clerk.user_id)]
        assert all("2721(b)" in lk.purpose for lk in lookups)
    with pytest.raises(UserError, match="purpose"):
        owners.lookup_owner(app, clerk, before, " ")


def test_bulk_assignment_never_picks_the_former_owner(app: AppContext, actors: dict, clock) -> None:  # type: ignore[no-untyped-def]
    add_owner(app, "7ABC123", "FORMER, OWNER", valid_from=date(2018, 1, 1), valid_to=date(2024, 3, 9))
    current = add_owner(app, "7ABC123", "CURRENT, OWNER", valid_from=date(2024, 3, 10))
    cid = add_citation(app, plate="7ABC123", issued_at=datetime(2024, 3, 20, 9, tzinfo=LA))
    escalate(app, clock, actors[Role.SUPERVISOR], date(2024, 4, 10))  # delinquent notice due: lookup
    with app.db.reading() as s:
        assert s.get(Citation, cid).owner_id == current
        notice = s.scalars(select(Notice)).one()
        assert notice.owner_id == current and notice.address_snapshot["name"] == "CURRENT, OWNER"


def test_manual_entry_and_correction_release_held_notices(app: AppContext, actors: dict, clock) -> None:  # type: ignore[no-untyped-def]
    clerk = actors[Role.CLERK]
    cid = add_citation(app, plate="5NOREG1", issued_at=datetime(2024, 1, 2, 9, tzinfo=LA))
    escalate(app, clock, actors[Role.SUPERVISOR], date(2024, 1, 23))
    with app.db.reading() as s:
        assert s.scalars(select(Notice)).one().status == "held"
    owner = owners.enter_owner(app, clerk, cid, "DOE, JANE", "GENERAL DELIVERY", reason="DMV letter of 20 Jan")
    with app.db.reading() as s:
        n = s.scalars(select(Notice)).one()
        assert n.status == "held" and "cannot be mailed" in n.hold_reason
        assert s.get(Citation, cid).next_action == "owner:notice_of_delinquent_violation"
    owners.correct_address(app, clerk, owner.id, "742 Evergreen Ter, Springfield, IL 62704", "phoned the owner")
    with app.db.reading() as s:
        n = s.scalars(select(Notice)).one()
        assert n.status == "queued" and n.address_snapshot["line1"] == "742 EVERGREEN TER"
        assert s.get(Citation, cid).next_action == "mail:notice_of_delinquent_violation"
        actions = [a for (a,) in s.execute(select(AuditEntry.action).where(AuditEntry.entity_id == str(cid)))]
        assert "owner.entered" in actions and "owner.address_corrected" in actions
    with pytest.raises(PermissionDenied):
        owners.enter_owner(app, actors[Role.MAIL_OFFICE], cid, "X", "1 Main St", reason="x")


def test_cli_import_owners_reports_and_fails_cleanly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CURBDESK_DATA_DIR", str(tmp_path / "data"))
    main = signed_in(monkeypatch, {"admin": "admin-password-1"})
    monkeypatch.setattr(sys, "stdin", io.StringIO("admin-password-1\n"))
    assert main(["users", "add", "admin", "--role", "admin", "--name", "Ada", "--password-stdin"]) == 0
    good = _write(tmp_path, '7ABC123,CA,"GARCIA, MARIA","1234 W Olympic Blvd, Los Angeles, CA 90015",,,,,2020-01-01,\n'
                            '7ABC124,CA,"LEE, KIM","C/O ABC LEASING",,,,,2020-01-01,\n')
    assert main(["import", "owners", str(good)]) == 0
    assert "2 owners added" in capsys.readouterr().out
    bad = _write(tmp_path, "7ABC125,CA,X,1 Main St,,,,,yesterday,\n", "bad.csv")
    assert main(["import", "owners", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: bad.csv: nothing imported") and "line 2: valid_from 'yesterday'" in err


POSTAL_HEADER = HEADER.rstrip("\n") + ",zip4,delivery_point\n"


def test_the_import_keeps_zip4_and_delivery_point_and_refuses_bad_ones(app: AppContext, actors: dict,
                                                                        tmp_path: Path) -> None:
    clerk = actors[Role.CLERK]
    good = tmp_path / "postal.csv"
    good.write_text(POSTAL_HEADER
                    + '7POS001,CA,"GARCIA, MARIA","1234 W Olympic Blvd, Los Angeles, CA 90015",,,,,2024-01-01,,2231,34\n'
                    + '7POS002,CA,"LEE, KIM","PO Box 30420, Los Angeles CA 90030-0420",,,,,2024-01-01,,,20\n'
                    + '7POS003,CA,"ROE, ANA","9 Pine St, Los Angeles, CA 90012",,,,,2024-01-01,,,\n', encoding="utf-8")
    assert owners.import_owners(app, clerk, good).added == 3
    with app.db.reading() as s:
        got = {o.plate: (o.zip, o.delivery_point) for o in s.scalars(select(RegisteredOwner))}
    assert got == {"7POS001": ("90015-2231", "34"),  # ZIP+4 from its own column
                   "7POS002": ("90030-0420", "20"),  # ZIP+4 written in the address, delivery point beside it
                   "7POS003": ("90012", None)}  # a missing ZIP+4 is no error: the IMb routes on 5 digits
    bad = tmp_path / "bad.csv"
    bad.write_text(POSTAL_HEADER
                   + '7POS004,CA,"A, B","1 Main St, Los Angeles, CA 90015",,,,,2024-01-01,,22,\n'
                   + '7POS005,CA,"A, B","1 Main St, Los Angeles, CA 90015",,,,,2024-01-01,,2231,345\n'
                   + '7POS006,CA,"A, B","1 Main St, Los Angeles, CA 90015",,,,,2024-01-01,,,34\n'
                   + '7POS007,CA,"A, B","1 Main St, Los Angeles, CA 90015-1111",,,,,2024-01-01,,2222,34\n',
                   encoding="utf-8")
    with pytest.raises(UserError) as err:
        owners.import_owners(app, clerk, bad)
    text = str(err.value)
    assert "nothing imported, 4 problem(s)" in text
    assert "line 2: zip4 '22' is not a ZIP+4 add-on (four digits)" in text
    assert "line 3: delivery_point '345' is not a delivery point (two digits, 00 to 99)" in text
    assert "line 4: delivery_point 34 needs a ZIP+4" in text
    assert "line 5: zip4 2222 contradicts the ZIP+4 1111 written in the address" in text
    with app.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(RegisteredOwner)) == 3
    # a clerk's corrected address drops the delivery point of the old one
    with app.db.reading() as s:
        owner_id = s.scalar(select(RegisteredOwner.id).where(RegisteredOwner.plate == "7POS001"))
    owners.correct_address(app, actors[Role.SUPERVISOR], owner_id, "77 New St, Los Angeles, CA 90016",
                           "owner moved")
    with app.db.reading() as s:
        moved = s.get_one(RegisteredOwner, owner_id)
        assert (moved.zip, moved.delivery_point) == ("90016", None)
