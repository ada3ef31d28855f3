"""Patrol rows for tests: zones (with a shape, without), shifts and checks written straight to the tables."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from desktop.persistence.models import PatrolCheck, PatrolShift, Zone
from desktop.services.core.context import AppContext
from tests.helpers.factories import add_citation

LA = ZoneInfo("America/Los_Angeles")
MON, SUN = date(2026, 11, 16), date(2026, 11, 22)
SQUARE = {"type": "Polygon", "coordinates": [[[-118.25, 34.04], [-118.24, 34.04], [-118.24, 34.05],
                                              [-118.25, 34.05], [-118.25, 34.04]]]}
_serial = [0]


def la(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LA).astimezone(timezone.utc)


def add_zones(app: AppContext) -> None:
    """Z-A and Z-B with a shape each, Z-C without."""
    with app.db.write_session() as s:
        s.add(Zone(code="Z-A", name="Alpha", geometry=SQUARE, regulations=[]))
        s.add(Zone(code="Z-B", name="Bravo", geometry={"type": "Polygon", "coordinates": [[
            [-118.24, 34.04], [-118.23, 34.04], [-118.23, 34.05], [-118.24, 34.05], [-118.24, 34.04]]]},
            regulations=[]))
        s.add(Zone(code="Z-C", name="Charlie lots", geometry=None, regulations=[]))
        s.commit()


def add_check(s: Any, zone: str, at: datetime) -> None:
    _serial[0] += 1
    s.add(PatrolCheck(event_id=f"chk-{_serial[0]}", zone_code=zone, checked_at=at, plate="7ABC123",
                      jurisdiction="CA", result="paid"))


def add_shift(s: Any, zone: str, a: datetime, b: datetime | None) -> None:
    _serial[0] += 1
    s.add(PatrolShift(event_id=f"sh-{_serial[0]}", officer_badge="1234", zone_code=zone, started_at=a, ended_at=b,
                      vehicles_checked=0))


def seed_week(app: AppContext) -> None:
    """The week of MON..SUN: Z-A patrolled on Monday (6 hours in the week: 4 in the morning, 2 of a shift
    that began on Sunday night), 6 compliant checks and 4 citations (1 voided, 1 dismissed) in it; Z-B
    never patrolled; Z-C (no shape) 2 checks on Sunday and no shift. One check and one citation outside."""
    add_zones(app)
    with app.db.write_session() as s:
        add_shift(s, "Z-A", la(MON, 8), la(MON, 12))
        add_shift(s, "Z-A", la(MON - timedelta(days=1), 22), la(MON, 2))
        for minute in range(6):
            add_check(s, "Z-A", la(MON, 9, minute * 5))
        add_check(s, "Z-A", la(SUN + timedelta(days=1), 9))
        add_check(s, "Z-C", la(SUN, 7))
        add_check(s, "Z-C", la(SUN, 7, 30))
        s.commit()
    for status in ("open", "voided", "dismissed"):
        add_citation(app, status=status, zone_code="Z-A", issued_at=la(MON, 9, 40))
    add_citation(app, status="paid", zone_code="Z-A", issued_at=la(MON, 10, 15))
    add_citation(app, status="open", zone_code="Z-A", issued_at=la(MON - timedelta(days=1), 23))
