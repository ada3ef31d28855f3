"""Zones from real SF GeoJSON, geometry errors with feature numbers, and rule support for violations."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from desktop.domain.errors import UserError
from desktop.domain.zones import (
    ChalkObservations,
    RegulationKind,
    ViolationKind,
    ZoneRegulation,
    parse_days,
    parse_hours,
    parse_zones,
    regulation_supports,
    violation_kind_for,
    zones_near,
)

DATA = Path("/work/shared/data/parking_zones_meters")


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def regulations() -> dict[str, Any]:
    return _load("parking_regulations.geojson")


@pytest.fixture(scope="module")
def sweeping() -> dict[str, Any]:
    return _load("street_sweeping.geojson")


def test_sf_parking_regulations_parse(regulations: dict[str, Any]) -> None:
    zones = parse_zones(regulations)
    assert len(zones) == 1274
    first = zones[0]
    assert first.code == "Z-SF-1"
    (rule,) = first.regulations
    assert rule.kind is RegulationKind.TIME_LIMIT
    assert rule.limit_minutes == 120 and rule.permit_area == "L"
    assert rule.days == frozenset(range(5))
    assert (rule.start.hour, rule.end.hour) == (8, 18)  # type: ignore[union-attr]
    kinds = {r.kind for z in zones for r in z.regulations}
    assert kinds == {RegulationKind.TIME_LIMIT, RegulationKind.NO_PARKING, RegulationKind.PERMIT_ONLY}
    # The overnight oversize ban wraps midnight.
    oversize = next(r for z in zones for r in z.regulations if "oversized" in r.description)
    assert oversize.in_force(datetime(2024, 5, 6, 2, 0)) and not oversize.in_force(datetime(2024, 5, 6, 7, 0))


def test_sf_street_sweeping_parse(sweeping: dict[str, Any]) -> None:
    zones = parse_zones(sweeping)
    assert len(zones) == 2129
    z = zones[0]
    assert z.code == "Z-SF-SWEEP-1" and z.name.startswith("Collins St")
    (rule,) = z.regulations
    assert rule.kind is RegulationKind.STREET_CLEANING and rule.days == frozenset({4})
    # A point on Collins St is within a metre of it; zones_near finds it among 2,129.
    lon, lat = z.coordinates[0]
    near = zones_near(zones, lat, lon, within_m=5)
    assert any(found.code == "Z-SF-SWEEP-1" for found, _ in near)


def test_street_cleaning_window_supports_or_not(sweeping: dict[str, Any]) -> None:
    rule = parse_zones(sweeping)[0].regulations  # Fridays 08:00-10:00, every week
    friday = datetime(2024, 5, 3, 9, 15)
    assert regulation_supports(ViolationKind.STREET_CLEANING, rule, friday)[0]
    ok, why = regulation_supports(ViolationKind.STREET_CLEANING, rule, datetime(2024, 5, 3, 10, 5))
    assert not ok and "Outside the street-cleaning window" in why
    assert not regulation_supports("street_cleaning", rule, datetime(2024, 5, 2, 9, 0))[0]


def test_sweeping_only_in_some_weeks() -> None:
    rule = ZoneRegulation(RegulationKind.STREET_CLEANING, frozenset({1}), parse_hours("900-1100")[0],
                          parse_hours("900-1100")[1], weeks_of_month=frozenset({1, 3}))
    assert regulation_supports("street_cleaning", [rule], datetime(2024, 5, 7, 9, 30))[0]  # 1st Tuesday
    assert not regulation_supports("street_cleaning", [rule], datetime(2024, 5, 14, 9, 30))[0]  # 2nd Tuesday


def test_overtime_chalk_example(regulations: dict[str, Any]) -> None:
    rules = parse_zones(regulations)[0].regulations  # 2-hour limit M-F 08:00-18:00, RPP L exempt
    monday = datetime(2024, 5, 6, 8, 40)
    ok, why = regulation_supports(
        ViolationKind.OVERTIME, rules, monday, ChalkObservations(datetime(2024, 5, 6, 7, 2), datetime(2024, 5, 6, 8, 40))
    )
    assert not ok and "not exceeded" in why
    ok, _ = regulation_supports(
        ViolationKind.OVERTIME, rules, datetime(2024, 5, 6, 10, 30),
        ChalkObservations(datetime(2024, 5, 6, 8, 5), datetime(2024, 5, 6, 10, 30)),
    )
    assert ok
    # Chalked at 07:02: the limit only runs from 08:00, so 09:50 is not yet over two hours.
    assert not regulation_supports(
        ViolationKind.OVERTIME, rules, datetime(2024, 5, 6, 9, 50), ChalkObservations(datetime(2024, 5, 6, 7, 2))
    )[0]
    assert not regulation_supports(ViolationKind.OVERTIME, rules, datetime(2024, 5, 5, 14, 0))[0]  # Sunday
    assert not regulation_supports(
        ViolationKind.OVERTIME, rules, datetime(2024, 5, 6, 12, 0),
        ChalkObservations(datetime(2024, 5, 6, 8, 0), permit_displayed="L"),
    )[0]


def test_permit_only_outside_hours_not_supported() -> None:
    start, end = parse_hours("0800-1800")
    rule = ZoneRegulation(RegulationKind.PERMIT_ONLY, parse_days("M-F"), start, end, permit_area="Q")
    assert regulation_supports("permit_only", [rule], datetime(2024, 5, 6, 12, 0))[0]
    ok, why = regulation_supports("permit_only", [rule], datetime(2024, 5, 6, 19, 0))
    assert not ok and "Outside permit-only hours" in why
    assert not regulation_supports("permit_only", [rule], datetime(2024, 5, 6, 12, 0), ChalkObservations(permit_displayed="Q"))[0]


def test_violation_codes_map_to_kinds() -> None:
    assert violation_kind_for("LA", "80.69BS") is ViolationKind.STREET_CLEANING
    assert violation_kind_for("LA", "88.13B+") is ViolationKind.METER_EXPIRED
    assert violation_kind_for("NYC", "21") is ViolationKind.STREET_CLEANING
    assert violation_kind_for("NYC", "38") is ViolationKind.METER_EXPIRED
    assert violation_kind_for("NYC", "14") is ViolationKind.NO_STANDING
    assert violation_kind_for("NYC", "40") is ViolationKind.OTHER


def test_days_and_hours_parsing() -> None:
    assert parse_days("M-Sa") == frozenset(range(6))
    assert parse_days("Tues") == frozenset({1})
    assert parse_days("Sa-M") == frozenset({5, 6, 0})
    assert parse_days(None) == frozenset(range(7))
    assert parse_hours("2400-600")[0].hour == 0  # type: ignore[union-attr]
    assert parse_hours("0-0") == (None, None)


SQUARE = [[-122.45, 37.77], [-122.44, 37.77], [-122.44, 37.78], [-122.45, 37.78], [-122.45, 37.77]]


def _fc(*geoms: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": g, "properties": {"regulations": [{"kind": "metered", "days": ["Mon"]}]}}
        for g in geoms
    ]}


GOOD = {"type": "Polygon", "coordinates": [SQUARE]}


@pytest.mark.parametrize(
    ("broken", "reason"),
    [
        ({"type": "Polygon", "coordinates": [SQUARE[:-1]]}, "not closed"),
        ({"type": "Polygon", "coordinates": [[SQUARE[0], SQUARE[1], SQUARE[0]]]}, "at least 4"),
        ({"type": "Polygon", "coordinates": [[[-122.45, "x"]] + SQUARE[1:]]}, "non-numeric"),
        ({"type": "Polygon", "coordinates": [[[37.77, -122.45]] + SQUARE[1:-1] + [[37.77, -122.45]]]}, "out of range"),
        ({"type": "Point", "coordinates": [-122.45, 37.77]}, "not supported"),
        ({"type": "Polygon", "coordinates": [[SQUARE[0], SQUARE[2], SQUARE[1], SQUARE[3], SQUARE[0]]]}, "crosses itself"),
        (None, "no geometry"),
    ],
)
def test_broken_geometry_names_feature_number(broken: Any, reason: str) -> None:
    with pytest.raises(UserError, match=rf"feature 2: .*{reason}"):
        parse_zones(_fc(GOOD, broken))


def test_own_layout_and_area_zones() -> None:
    fc = _fc(GOOD)
    fc["features"][0]["properties"] = {"code": "Z-DT-1", "name": "Downtown meters", "regulations": [
        {"kind": "metered", "days": ["Mon", "Tue", "Wed", "Thu", "Fri"], "start": "09:00", "end": "18:00",
         "limit_minutes": 120}]}
    (zone,) = parse_zones(fc)
    assert zone.code == "Z-DT-1"
    assert zone.distance_m(37.775, -122.445) == 0.0
    assert 80 < zone.distance_m(37.775, -122.439) < 95
    assert regulation_supports("meter_expired", zone.regulations, datetime(2024, 5, 6, 10, 0))[0]
    assert not regulation_supports("meter_expired", zone.regulations, datetime(2024, 5, 6, 19, 0))[0]
    bad = copy.deepcopy(fc)
    bad["features"][0]["properties"]["regulations"][0]["kind"] = "vibes"
    with pytest.raises(UserError, match="feature 1: regulation 1 kind"):
        parse_zones(bad)
    with pytest.raises(UserError, match="FeatureCollection"):
        parse_zones({"type": "Feature"})
