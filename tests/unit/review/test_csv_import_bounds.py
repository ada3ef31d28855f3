"""Issue 14, finding 9 (owners and permits CSV): header, field count, length and date checks; binary input;
every error line readable; random input never raises anything but the clerk's ``UserError``."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.domain.errors import UserError
from desktop.domain.imports import MAX_LINE_CHARS, cut, looks_binary
from desktop.services.cases.owners import COLUMNS as OWNER_COLUMNS
from desktop.services.cases.owners import parse_owner_csv
from desktop.services.review.permits import COLUMNS as PERMIT_COLUMNS
from desktop.services.review.permits import parse_permits_csv

TZ = ZoneInfo("America/Los_Angeles")
OWNER_HEADER = ",".join(OWNER_COLUMNS)
PERMIT_HEADER = ",".join(PERMIT_COLUMNS)
OWNER_LINE = '7ABC123,CA,"GARCIA, MARIA","1 Main St, Los Angeles, CA 90012",TOYT,CAMRY,2019,,2020-01-01,,1234,56'
PERMIT_LINE = "RPP-1,residential,GARCIA,7ABC123:CA,Z-1,2026-01-01,2026-12-31"


def _owner_error(text: str | bytes) -> str:
    with pytest.raises(UserError) as err:
        parse_owner_csv(text.encode() if isinstance(text, str) else text, "owners.csv")
    return str(err.value)


def _permit_error(text: str) -> str:
    with pytest.raises(UserError) as err:
        parse_permits_csv(text, TZ, {"Z-1"})
    return str(err.value)


def _problems(message: str) -> list[str]:
    """The problem lines of an all-or-nothing message (each one cut to a readable length)."""
    return [p for p in message.replace(" line ", "\nline ").split("\n") if p]


def test_the_shared_helpers() -> None:
    assert cut("x" * 500) == "x" * 199 + "…" and len(cut("x" * 500)) == MAX_LINE_CHARS
    assert cut("a\nb\x00c") == "a b c"
    assert looks_binary(b"\x89PNG\r\n\x1a\n\x00\x00") and looks_binary(b"\xff\xfe\x00p\x00l")
    assert not looks_binary("plate,name\nÄ,é\n".encode()) and not looks_binary(b"")


def test_owners_header_fields_lengths_and_dates() -> None:
    assert "'plate' repeat" in _owner_error(OWNER_HEADER + ",plate\n" + OWNER_LINE + ",X\n")
    message = _owner_error(f"{OWNER_HEADER}\n{OWNER_LINE},extra\n{OWNER_LINE.rsplit(',', 3)[0]}\n")
    assert "line 2: 13 fields, the header has 12" in message and "line 3: 9 fields, the header has 12" in message
    long_name = OWNER_LINE.replace('"GARCIA, MARIA"', "N" * 300_000)
    message = _owner_error(f"{OWNER_HEADER}\n{long_name}\n")
    assert "line 2" in message and len(message) < 400
    message = _owner_error(f"{OWNER_HEADER}\n{OWNER_LINE.replace('GARCIA, MARIA', 'N' * 201)}\n")
    assert "line 2: owner_name is longer than 200 characters" in message
    for day, why in (("0001-01-01", "outside the years 1900-2200"), ("9999-12-31", "outside the years 1900-2200"),
                     ("12/31/9999", "outside the years 1900-2200")):
        assert why in _owner_error(f"{OWNER_HEADER}\n{OWNER_LINE.replace('2020-01-01', day)}\n"), day


def test_permits_dates_at_the_ends_of_the_calendar_are_refused_not_overflowing() -> None:
    for start, end in (("0001-01-01", "2026-12-31"), ("2026-01-01", "9999-12-31"),
                       ("2026-01-01", "9999-12-31T23:00:00-08:00"), ("0001-01-01T00:00:00+14:00", "2026-12-31")):
        line = PERMIT_LINE.replace("2026-01-01", start, 1).replace("2026-12-31", end)
        message = _permit_error(f"{PERMIT_HEADER}\n{line}\n")
        assert "outside the years 1900-2200" in message, (start, end, message)
    assert "a column name repeats" in _permit_error(PERMIT_HEADER + ",type\n" + PERMIT_LINE + ",x\n")
    message = _permit_error(f"{PERMIT_HEADER}\n{PERMIT_LINE.replace('GARCIA', 'G' * 5000)}\n")
    assert "line 2: holder_name longer than 2000 characters" in message
    message = _permit_error(f"{PERMIT_HEADER}\n{PERMIT_LINE},x\n")
    assert "line 2: 8 fields, the header has 7" in message


def test_binary_files_get_one_short_sentence() -> None:
    blob = bytes(range(256)) * 100
    for message in (_owner_error(blob), _owner_error(b"plate\x00" * 4000)):
        assert "not UTF-8 text" in message and len(message) <= MAX_LINE_CHARS
    # a valid UTF-8 "binary" header once gave a 20,000-character line
    message = _permit_error("\x01\x02" * 10_000)
    assert len(message) <= 400, len(message)
    message = _permit_error("x" * 20_000 + "\n" + PERMIT_LINE)
    assert len(message) <= 400 and "unknown column" in message


# ---------------------------------------------------------------- property-based


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_as_owners_never_crash(data: bytes) -> None:
    try:
        parse_owner_csv(data, "x.csv")
    except UserError as exc:
        assert all(len(p) <= MAX_LINE_CHARS + 10 for p in _problems(str(exc)))


_cell = st.text(max_size=30) | st.sampled_from(["2020-01-01", "1/2/2020", "0001-01-01", "9999-12-31", "7ABC123",
                                                 "CA", "12/31/9999", "2019", "=1+1", "", "N" * 131_073])
_edge_dates = st.sampled_from(["2026-01-01", "2026-12-31", "0001-01-01", "9999-12-31", "1899-12-31", "2201-01-01",
                               "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "2026-06-01T12:00:00"])


_owner_row = st.tuples(*[_edge_dates if c.startswith("valid_") else st.sampled_from([v, v, v]) | _cell
                         for c, v in zip(OWNER_COLUMNS, next(csv.reader([OWNER_LINE])), strict=True)]).map(list)


@settings(max_examples=300, deadline=None)
@given(st.lists(_owner_row | st.lists(_cell, max_size=12), max_size=6), st.booleans())
def test_any_owner_table_never_crashes(rows: list[list[str]], with_header: bool) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    if with_header:
        writer.writerow(OWNER_COLUMNS)
    writer.writerows(rows)
    try:
        parse_owner_csv(out.getvalue().encode(), "x.csv")
    except UserError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=2000))
def test_any_text_as_permits_never_crashes(text: str) -> None:
    for candidate in (text, PERMIT_HEADER + "\n" + text):
        try:
            parse_permits_csv(candidate, TZ, {"Z-1"})
        except UserError:
            pass


_permit_cell = _cell | st.sampled_from(["2026-01-01T00:00:00+14:00", "0001-01-01T00:00:00+14:00",
                                         "9999-12-31T23:59:59-12:00", "Z-1", "RPP-9", "residential"])
#: mostly valid rows, each field replaced by a random one now and then, so the checks deep in a row are reached
def _field(column: str, valid: str) -> st.SearchStrategy[str]:
    if column.startswith("valid_"):
        return _edge_dates | _permit_cell
    return st.sampled_from([valid, valid, valid]) | _permit_cell


_permit_row = st.tuples(*[_field(c, v) for c, v in zip(PERMIT_COLUMNS, PERMIT_LINE.split(","), strict=True)]).map(list)


@settings(max_examples=300, deadline=None)
@given(st.lists(_permit_row | st.lists(_permit_cell, min_size=7, max_size=8), max_size=6))
def test_any_permit_table_never_crashes(rows: list[list[str]]) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(PERMIT_COLUMNS)
    writer.writerows(rows)
    try:
        parse_permits_csv(out.getvalue(), TZ, {"Z-1"})
    except UserError:
        pass


_plate = st.text("ABCDEFGHJKLMNPRSTUVWXYZ0123456789", min_size=5, max_size=7).filter(
    lambda p: any(c.isdigit() for c in p) and any(c.isalpha() for c in p))
_name = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ ,.'-", min_size=1, max_size=40).filter(lambda n: n.strip(" ,.'-"))
_day = st.dates(date(1950, 1, 1), date(2150, 1, 1))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_plate, _name, _day), min_size=1, max_size=8, unique_by=lambda t: t[0]))
def test_valid_owner_rows_round_trip(rows: list[tuple[str, str, date]]) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(OWNER_COLUMNS)
    for plate, name, day in rows:
        writer.writerow([plate, "CA", name, "1 Main St, Los Angeles, CA 90012", "", "", "", "", day.isoformat(), "", "", ""])
    parsed = parse_owner_csv(out.getvalue().encode(), "x.csv")
    assert [(r.plate, r.name, r.valid_from) for r in parsed] == [
        (plate, " ".join(name.split()), day) for plate, name, day in rows]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_plate, _day, st.integers(0, 3000)), min_size=1, max_size=8, unique_by=lambda t: t[0]))
def test_valid_permit_rows_round_trip(rows: list[tuple[str, date, int]]) -> None:
    text = PERMIT_HEADER + "\n" + "".join(
        f"P-{plate},residential,HOLDER,{plate}:CA,Z-1,{day.isoformat()},{min(day + timedelta(days=length), date(2200, 12, 31))}\n"
        for plate, day, length in rows)
    parsed = parse_permits_csv(text, TZ, {"Z-1"})
    assert [(p.permit_number, p.plates[0][0], p.valid_from.date()) for p in parsed] == [
        (f"P-{plate}", plate, day) for plate, day, _ in rows]
