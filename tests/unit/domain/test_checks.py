"""Review checks on real inputs: NYC makes, LA and NYC fine schedules, GPS photos, SF zone rules."""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from desktop.domain.checks import (
    CheckConfig,
    CitationForReview,
    HotlistEntry,
    Integrity,
    NearbyCitation,
    PermitRecord,
    PhotoForReview,
    ReviewContext,
    Severity,
    ViolationForReview,
    check_duplicates,
    check_evidence_integrity,
    check_fines,
    check_hotlist,
    check_late_arrival,
    check_make,
    check_permit,
    check_photo_locations,
    check_photo_times,
    check_plate_format,
    check_zone_rules,
    normalize_make,
    run_checks,
)
from desktop.domain.zones import ChalkObservations, parse_zones

DATA = Path("/work/shared/data")
ISSUED = datetime(2008, 10, 23, 14, 27, tzinfo=UTC)


def _gps_photo(name: str) -> PhotoForReview:
    """Time and position from a real camera's EXIF (Nikon P6000, Tuscany)."""
    with Image.open(DATA / "photos_exif" / "gps" / name) as im:
        gps = im.getexif().get_ifd(0x8825)
    def deg(v: tuple[float, float, float], ref: str) -> float:
        d = float(v[0]) + float(v[1]) / 60 + float(v[2]) / 3600
        return -d if ref in ("S", "W") else d
    h, m, s = (float(x) for x in gps[7])
    day = datetime.strptime(gps[29], "%Y:%m:%d").replace(tzinfo=UTC)
    taken = day + timedelta(hours=h, minutes=m, seconds=s)
    return PhotoForReview(name, taken, deg(gps[2], gps[1]), deg(gps[4], gps[3]), Integrity.OK)


def _citation(**kw: object) -> CitationForReview:
    base: dict[str, object] = {
        "citation_number": "1496016208", "plate": "KNZ8900", "plate_jurisdiction": "NY", "make": "LEXUS",
        "issued_at": ISSUED, "received_at": ISSUED + timedelta(hours=2), "latitude": 43.4674, "longitude": 11.8851,
        "violations": (ViolationForReview("21", 4500),), "code_jurisdiction": "NYC",
    }
    base.update(kw)
    return CitationForReview(**base)  # type: ignore[arg-type]


def test_makes_from_nyc_and_la_agree() -> None:
    assert normalize_make("TOYT") == normalize_make("Toyota") == normalize_make("TOYOTA") == normalize_make("TOYOT")
    with (DATA / "citations" / "Parking_Violations.csv").open(encoding="utf-8", newline="") as fh:
        makes = Counter(r["Vehicle Make"] for r in csv.DictReader(fh) if r["Vehicle Make"])
    known = {m for m in makes if normalize_make(m) != m.upper()}
    share = sum(makes[m] for m in known) / sum(makes.values())
    assert share >= 0.9, share
    assert check_make(_citation(make="ME/BE"), "MBNZ").ok
    result = check_make(_citation(make="HONDA"), "TOYT")
    assert not result.ok and result.severity is Severity.ERROR
    assert result.data == {"cited": "Honda", "registered": "Toyota"}


def test_handheld_fine_against_nyc_dof_schedule() -> None:
    with (DATA / "fine_schedules" / "DOF_Parking_Violation_Codes.csv").open(encoding="utf-8", newline="") as fh:
        schedule = {r["CODE"]: int(r["ALL_OTHER_AREAS"]) * 100 for r in csv.DictReader(fh)}
    assert check_fines(_citation(violations=(ViolationForReview("21", 4500),)), schedule).ok
    wrong = check_fines(_citation(violations=(ViolationForReview("21", 6500),)), schedule)
    assert not wrong.ok and "handheld 65.00, schedule 45.00" in wrong.explanation
    assert not check_fines(_citation(violations=(ViolationForReview("X9", 100),)), schedule).ok


def test_la_fines_that_differ_from_the_usual_amount_are_flagged() -> None:
    by_code: dict[str, Counter[int]] = defaultdict(Counter)
    rows = []
    with (DATA / "citations" / "sample_data.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            if r["fine_amount"]:
                cents = int(float(r["fine_amount"]) * 100)
                by_code[r["violation_code"]][cents] += 1
                rows.append((r["violation_code"], cents))
    schedule = {code: counts.most_common(1)[0][0] for code, counts in by_code.items()}
    flagged = sum(
        not check_fines(_citation(violations=(ViolationForReview(code, cents),), code_jurisdiction="LA"), schedule).ok
        for code, cents in rows
    )
    expected = sum(sum(c.values()) - c.most_common(1)[0][1] for c in by_code.values())
    assert flagged == expected
    assert check_fines(_citation(violations=(ViolationForReview("88.13B+", schedule["88.13B+"]),)), schedule).ok


def test_photo_gps_and_time_from_real_exif() -> None:
    photos = [_gps_photo("DSCN0010.jpg"), _gps_photo("DSCN0012.jpg")]
    citation = _citation(latitude=photos[0].latitude, longitude=photos[0].longitude, issued_at=photos[0].taken_at)
    near = check_photo_locations(citation, photos, CheckConfig())
    assert near.ok, near.explanation
    far = check_photo_locations(_citation(latitude=43.48, longitude=11.90), photos, CheckConfig())
    assert not far.ok and "from the citation location" in far.explanation
    assert check_photo_times(citation, photos, CheckConfig()).ok
    late = check_photo_times(_citation(issued_at=photos[0].taken_at + timedelta(minutes=40)), photos, CheckConfig())  # type: ignore[operator]
    assert not late.ok and late.severity is Severity.WARNING
    untimed = PhotoForReview("x", None, None, None, Integrity.OK)
    assert "no time" in check_photo_times(citation, [untimed], CheckConfig()).explanation


def test_permit_hotlist_duplicates_late_integrity() -> None:
    c = _citation(zone_code="Z-SF-1")
    permit = PermitRecord("RPP-L-0042", "knz 8900", frozenset({"Z-SF-1"}), ISSUED - timedelta(days=30),
                          ISSUED + timedelta(days=335))
    hit = check_permit(c, [permit])
    assert not hit.ok and "valid permit" in hit.explanation
    assert check_permit(_citation(zone_code="Z-SF-2"), [permit]).ok
    assert check_permit(_citation(issued_at=ISSUED + timedelta(days=400)), [permit]).ok

    assert not check_hotlist(c, [HotlistEntry("KNZ-8900", "stolen vehicle", "NY")]).ok
    assert check_hotlist(c, [HotlistEntry("KNZ8900", "stolen vehicle", "NJ")]).ok

    twin = NearbyCitation("1496016209", "KNZ89OO", "21", ISSUED + timedelta(minutes=10), 43.4675, 11.8851)
    dup = check_duplicates(c, [twin], CheckConfig())
    assert not dup.ok and dup.data["duplicates"] == ["1496016209"]
    assert check_duplicates(c, [twin], CheckConfig(duplicate_minutes=5)).ok
    far_twin = NearbyCitation("1496016210", "KNZ8900", "21", ISSUED, 43.4700, 11.8851)
    assert check_duplicates(c, [far_twin], CheckConfig()).ok

    assert check_late_arrival(c, CheckConfig()).ok
    assert not check_late_arrival(_citation(received_at=ISSUED + timedelta(hours=25)), CheckConfig()).ok
    assert check_late_arrival(_citation(received_at=ISSUED - timedelta(minutes=5)), CheckConfig()).severity is Severity.ERROR

    bad = [PhotoForReview("a", None, None, None, Integrity.FAILED), PhotoForReview("b", None, None, None, Integrity.MISSING)]
    result = check_evidence_integrity(bad)
    assert not result.ok and result.data == {"failed": ["a"], "missing": ["b"]}


def test_plate_format_on_real_plates() -> None:
    assert check_plate_format(_citation(plate="KNZ8900")).ok
    vanity = check_plate_format(_citation(plate="MYSUMMER"))
    assert not vanity.ok and vanity.severity is Severity.WARNING
    assert check_plate_format(_citation(plate="BLANKPLATE")).severity is Severity.ERROR
    assert check_plate_format(_citation(plate="ABC123", plate_jurisdiction="99")).ok


@pytest.fixture(scope="module")
def sf_two_hour_zone() -> tuple:  # type: ignore[type-arg]
    data = json.loads((DATA / "parking_zones_meters" / "parking_regulations.geojson").read_text(encoding="utf-8"))
    return parse_zones(data)[0].regulations


def test_zone_rules_overtime_chalk(sf_two_hour_zone: tuple) -> None:  # type: ignore[type-arg]
    la = "America/Los_Angeles"
    issued = datetime(2024, 5, 6, 15, 40, tzinfo=UTC)  # 08:40 Monday in San Francisco
    c = _citation(issued_at=issued, code_jurisdiction="LA", violations=(ViolationForReview("80.69C", 6300),),
                  observations=ChalkObservations(datetime(2024, 5, 6, 14, 2, tzinfo=UTC), issued))
    result = check_zone_rules(c, sf_two_hour_zone, la)
    assert not result.ok and "not exceeded" in result.explanation
    later = _citation(issued_at=issued + timedelta(hours=3), code_jurisdiction="LA",
                      violations=(ViolationForReview("80.69C", 6300),),
                      observations=ChalkObservations(datetime(2024, 5, 6, 15, 5, tzinfo=UTC)))
    assert check_zone_rules(later, sf_two_hour_zone, la).ok


def test_run_checks_returns_every_check(sf_two_hour_zone: tuple) -> None:  # type: ignore[type-arg]
    results = run_checks(_citation(), ReviewContext(photos=(_gps_photo("DSCN0010.jpg"),), registered_make="LEXS"))
    assert [r.code for r in results] == [
        "evidence_integrity", "photo_time", "photo_location", "plate_format", "plate_photo", "make_mismatch",
        "hotlist", "valid_permit", "duplicate", "fine_schedule", "zone_rules", "late_arrival",
    ]
    by_code = {r.code: r for r in results}
    assert by_code["make_mismatch"].ok
    assert not by_code["fine_schedule"].ok  # no schedule given: the code is unknown
