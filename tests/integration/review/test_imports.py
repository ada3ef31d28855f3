"""Zone (GeoJSON) and permit (CSV) imports, through the service and the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from desktop.domain.errors import PermissionDenied, UserError
from desktop.domain.roles import Role
from desktop.persistence.models import AuditEntry, Permit, Zone
from desktop.services.review import permits as permit_service
from desktop.services.review.checks import run_review_checks
from desktop.services.review.zone_imports import import_zones
from desktop.services.review.zones import match_location, zone_index
from tests.helpers.signed_in import ADMIN_PASSWORD, new_office, signed_in

from .conftest import ISSUED, ZONE, add_pending, warnings_of

SF = Path("/work/shared/data/parking_zones_meters/parking_regulations.geojson")


def zone_count(app) -> int:
    with app.db.reading() as s:
        return int(s.scalar(select(func.count()).select_from(Zone)) or 0)


# --------------------------------------------------------------------------- zones


def test_the_san_francisco_file_imports_and_drives_the_zone_rule_check(app, actors, tmp_path) -> None:
    from tests.integration.review.conftest import seed_reference

    seed_reference(app)  # the fine schedule (80.69C: overtime) and an LA test district
    before = zone_count(app)
    result = import_zones(app, actors[Role.ADMIN], SF)
    assert result.features == 1274 and result.added == 1274 and zone_count(app) == before + 1274
    features = json.loads(SF.read_text())["features"]
    # A two-hour, weekday 08:00-18:00 blockface.
    number, feature = next((i + 1, f) for i, f in enumerate(features)
                           if f["properties"].get("regulation") == "Time limited"
                           and f["properties"].get("hrlimit") in ("2", 2, "2.0")
                           and f["properties"].get("days") == "M-F"
                           and f["properties"].get("hours") == "800-1800"
                           and f["geometry"]["type"] == "LineString")
    (lon0, lat0), (lon1, lat1) = feature["geometry"]["coordinates"][:2]
    lat, lon = (lat0 + lat1) / 2, (lon0 + lon1) / 2
    with app.db.reading() as s:
        match = match_location(zone_index(s), lat, lon, None, 15)
    assert [z.code for z, _d in match.streets] == [f"Z-SF-{number}"]
    assert any(r.limit_minutes == 120 for r in match.regulations)

    saturday = datetime(2026, 11, 21, 19, 0, tzinfo=UTC)  # 11:00 Saturday in San Francisco
    weekend = add_pending(app, lat=lat, lon=lon, zone_code=None, code="80.69C", issued_at=saturday,
                          photos=[{"taken": saturday, "lat": lat, "lon": lon}])
    run_review_checks(app, weekend)
    assert "The time limit is not in force at Sat 11:00" in warnings_of(app, weekend)["zone_rules"]["explanation"]
    tuesday = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)  # 12:00 Tuesday, chalked at 10:30
    chalk = [{"kind": "chalk", "first_seen_at": (tuesday - timedelta(minutes=90)).isoformat()}]
    early = add_pending(app, plate="6DEF456", lat=lat, lon=lon, zone_code=None, code="80.69C", issued_at=tuesday,
                        observations=chalk, photos=[{"taken": tuesday, "lat": lat, "lon": lon}])
    run_review_checks(app, early)
    assert "Limit not exceeded: 90 min" in warnings_of(app, early)["zone_rules"]["explanation"]
    chalk = [{"kind": "chalk", "first_seen_at": (tuesday - timedelta(minutes=150)).isoformat()}]
    late = add_pending(app, plate="5GHJ789", lat=lat, lon=lon, zone_code=None, code="80.69C", issued_at=tuesday,
                       observations=chalk, photos=[{"taken": tuesday, "lat": lat, "lon": lon}])
    run_review_checks(app, late)
    assert "zone_rules" not in warnings_of(app, late)

    again = import_zones(app, actors[Role.ADMIN], SF, recheck=False)
    assert (again.added, again.updated) == (0, 1274)
    with app.db.reading() as s:
        assert s.scalars(select(AuditEntry.action).where(AuditEntry.action == "zones.imported")).all()


def _collection(*features: dict) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


def _polygon(code: str, ring: list) -> dict:
    return {"type": "Feature", "properties": {"code": code, "name": code, "regulations": [
        {"kind": "time_limit", "days": ["Mon", "Tue"], "start": "09:00", "end": "17:00", "limit_minutes": 60}]},
        "geometry": {"type": "Polygon", "coordinates": [ring]}}


GOOD_RING = [[-118.2, 34.0], [-118.19, 34.0], [-118.19, 34.01], [-118.2, 34.01], [-118.2, 34.0]]


@pytest.mark.parametrize("broken, reason", [
    ([[-118.2, 34.0], [-118.19, 34.0], [-118.19, 34.01], [-118.2, 34.01]], "is not closed"),
    ([[-118.2, 34.0], [-118.19, 34.01], [-118.19, 34.0], [-118.2, 34.01], [-118.2, 34.0]], "crosses itself"),
    ([[-118.2, 34.0], [-118.19, 34.0], [-118.2, 34.0]], "a ring needs at least 4"),
    ([[34.0, -118.2], [34.0, -118.19], [34.01, -118.19], [34.0, -118.2]], "out of range"),
    ([[-118.2, "north"], [-118.19, 34.0], [-118.19, 34.01], [-118.2, "north"]], "non-numeric"),
])
def test_a_broken_geometry_rejects_the_whole_file(app, actors, tmp_path, broken, reason) -> None:
    path = tmp_path / "zones.geojson"
    path.write_text(json.dumps(_collection(_polygon("Z-1", GOOD_RING), _polygon("Z-2", GOOD_RING),
                                           _polygon("Z-3", broken))))
    with pytest.raises(UserError, match=rf"Zone feature 3: .*{reason}"):
        import_zones(app, actors[Role.ADMIN], path)
    assert zone_count(app) == 0


def test_zone_import_refuses_bad_files_and_clerks(app, actors, tmp_path) -> None:
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [}')
    with pytest.raises(UserError, match=r"not valid JSON \(line 1"):
        import_zones(app, actors[Role.ADMIN], bad)
    with pytest.raises(UserError, match="no file"):
        import_zones(app, actors[Role.ADMIN], tmp_path / "missing.geojson")
    good = tmp_path / "good.geojson"
    good.write_text(json.dumps(_collection(_polygon("Z-1", GOOD_RING))))
    with pytest.raises(PermissionDenied):
        import_zones(app, actors[Role.CLERK], good)
    assert import_zones(app, actors[Role.ADMIN], good).added == 1
    with app.db.reading() as s:
        row = s.get(Zone, "Z-1")
        assert row.regulations[0]["kind"] == "time_limit" and row.regulations[0]["days"] == ["Mon", "Tue"]
        assert row.geometry["type"] == "Polygon"


# --------------------------------------------------------------------------- permits

HEADER = "permit_number,type,holder_name,plates,zones,valid_from,valid_to\n"


def test_permits_import_and_the_permit_check(reference, actors, tmp_path) -> None:
    cid = add_pending(reference)
    path = tmp_path / "permits.csv"
    path.write_text(HEADER + f'RPP-1,residential,"NEW, OWNER",7ABC123:CA;8XYZ999:CA,{ZONE},2026-01-01,2026-12-31\n'
                    "RPP-2,visitor,,6DEF456:CA,Z-OTHER,2026-11-01,2026-11-30\n", encoding="utf-8")
    result = permit_service.import_permits(reference, actors[Role.SUPERVISOR], path)
    assert (result.permits, result.added, result.updated) == (2, 2, 0)
    assert result.rechecked >= 1
    assert warnings_of(reference, cid)["valid_permit"]["data"]["permit_number"] == "RPP-1"
    rows = permit_service.search_permits(reference, actors[Role.CLERK], "7ABC123")
    assert [r.permit_number for r in rows] == ["RPP-1"]
    assert rows[0].plates == (("7ABC123", "CA"), ("8XYZ999", "CA")) and rows[0].holder_name == "NEW, OWNER"
    assert rows[0].valid_at(ISSUED) and not rows[0].valid_at(datetime(2027, 1, 1, 8, 1, tzinfo=UTC))
    # One look-alike off (O for 0, B for 8) still finds it; so does the holder's name.
    assert [r.permit_number for r in permit_service.search_permits(reference, actors[Role.CLERK], "7A8C123")] == ["RPP-1"]
    assert [r.permit_number for r in permit_service.search_permits(reference, actors[Role.CLERK], "owner")] == ["RPP-1"]
    # Importing an updated list: RPP-1 now expired before the citation.
    path.write_text(HEADER + f"RPP-1,residential,,7ABC123:CA,{ZONE},2026-01-01,2026-06-30\n")
    result = permit_service.import_permits(reference, actors[Role.SUPERVISOR], path)
    assert (result.added, result.updated) == (0, 1)
    assert "valid_permit" not in warnings_of(reference, cid)


@pytest.mark.parametrize("line, problem", [
    (f",residential,,7ABC123:CA,{ZONE},2026-01-01,2026-12-31", "line 3: permit_number is empty"),
    (f"RPP-9,residential,,7ABC123,{ZONE},2026-01-01,2026-12-31", "line 3: plates: plate '7ABC123' has no state"),
    (f"RPP-9,residential,,7ABC123:CA,{ZONE},2026-13-01,2026-12-31", "line 3: valid_from '2026-13-01' is not a date"),
    (f"RPP-9,residential,,7ABC123:CA,{ZONE},2026-06-01,2026-01-31", "line 3: valid_to is not after valid_from"),
    ("RPP-9,residential,,7ABC123:CA,Z-NOWHERE,2026-01-01,2026-12-31", "line 3: zone(s) Z-NOWHERE not known"),
    (f"RPP-1,residential,,7ABC123:CA,{ZONE},2026-01-01,2026-12-31", "line 3: permit RPP-1 repeats (first on line 2)"),
    (f"RPP-9,residential,,7ABC123:CA,{ZONE},2026-01-01", "line 3: 6 fields, the header has 7"),
    (f"RPP-9,residential,,7ABC123:CA,{ZONE},2026-01-01T00:00:00,2026-12-31", "has no UTC offset"),
])
def test_a_bad_permit_line_rejects_the_whole_file(reference, actors, tmp_path, line, problem) -> None:
    path = tmp_path / "permits.csv"
    path.write_text(HEADER + f"RPP-1,residential,,6DEF456:CA,{ZONE},2026-01-01,2026-12-31\n" + line + "\n")
    with pytest.raises(UserError) as err:
        permit_service.import_permits(reference, actors[Role.SUPERVISOR], path)
    assert problem in str(err.value) and "nothing was stored" in str(err.value)
    with reference.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Permit)) == 0


def test_permit_file_header_and_permissions(reference, actors, tmp_path) -> None:
    path = tmp_path / "permits.csv"
    path.write_text("permit,type\nX,y\n")
    with pytest.raises(UserError, match="Line 1: missing column"):
        permit_service.import_permits(reference, actors[Role.SUPERVISOR], path)
    path.write_text(HEADER + f"RPP-1,residential,,6DEF456:CA,{ZONE},2026-01-01,2026-12-31\n")
    with pytest.raises(PermissionDenied):
        permit_service.import_permits(reference, actors[Role.CLERK], path)


def test_edit_a_permit(reference, actors) -> None:
    values = {"permit_number": "RPP-7", "type": "residential", "holder_name": "", "plates": "7ABC123:CA",
              "zones": ZONE, "valid_from": "2026-01-01", "valid_to": "2026-12-31"}
    with pytest.raises(PermissionDenied):
        permit_service.save_permit(reference, actors[Role.CLERK], values)
    cid = add_pending(reference)
    pid = permit_service.save_permit(reference, actors[Role.SUPERVISOR], values)
    assert "valid_permit" in warnings_of(reference, cid)  # checked again at once
    with pytest.raises(UserError, match="already exists"):
        permit_service.save_permit(reference, actors[Role.SUPERVISOR], values)
    with pytest.raises(UserError, match="Say why"):
        permit_service.save_permit(reference, actors[Role.SUPERVISOR], values, pid)
    permit_service.save_permit(reference, actors[Role.SUPERVISOR], {**values, "status": "revoked"}, pid,
                               reason="holder moved away")
    assert permit_service.get_permit(reference, actors[Role.CLERK], pid).status == "revoked"
    assert "valid_permit" not in warnings_of(reference, cid)
    with pytest.raises(UserError, match="not saved: plates"):
        permit_service.save_permit(reference, actors[Role.SUPERVISOR], {**values, "plates": ""}, pid, reason="x")
    with reference.db.reading() as s:
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == "permit")).all()
    assert actions == ["permit.added", "permit.changed"]


# --------------------------------------------------------------------------- command line


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CURBDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CURBDESK_DB", raising=False)
    new_office(tmp_path / "data")
    main = signed_in(monkeypatch, {"admin": ADMIN_PASSWORD})
    return lambda *args: main(list(args))


def test_import_commands(cli, capsys, tmp_path) -> None:
    assert cli("import", "zones", str(SF)) == 0
    assert "1,274 zones read from parking_regulations.geojson: 1,274 added" in capsys.readouterr().out
    broken = tmp_path / "broken.geojson"
    broken.write_text(json.dumps(_collection(_polygon("Z-1", GOOD_RING), {"type": "Feature", "properties": {},
                                                                          "geometry": None})))
    assert cli("import", "zones", str(broken)) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: Zone feature 2: has no geometry."
    path = tmp_path / "permits.csv"
    path.write_text(HEADER + "RPP-1,residential,,6DEF456:CA,Z-SF-1,2026-01-01,2026-12-31\n")
    assert cli("import", "permits", str(path)) == 0
    assert "1 permits read from permits.csv: 1 added" in capsys.readouterr().out
    assert cli("review", "queue") == 0
    assert "review queue is empty" in capsys.readouterr().out
