"""A small office for the patrol plan tests: five zones in a row about 1 km apart (one without geometry when
asked), four officers with handhelds, and history to make the priorities differ."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from desktop.persistence.models import Citation, Device, Officer, PatrolShift, Zone
from desktop.services.core.context import Actor, AppContext

LA = ZoneInfo("America/Los_Angeles")
#: the conftest clock is 2026-11-24 18:00 UTC: 10:00 on Tuesday 24 November in Los Angeles
TODAY = date(2026, 11, 24)
TOMORROW = date(2026, 11, 25)
ZONES = ["Z-A", "Z-B", "Z-C", "Z-D", "Z-E"]
BADGES = ["1001", "1002", "1003", "1004"]


def seed_office(app: AppContext, *, no_geometry: bool = False) -> None:
    with app.uow(Actor.system("test")) as uow:
        s = uow.session
        for i, code in enumerate(ZONES):
            lon, lat = -118.25 + 0.0109 * i, 34.05
            ring = [[lon - 0.004, lat - 0.004], [lon + 0.004, lat - 0.004], [lon + 0.004, lat + 0.004],
                    [lon - 0.004, lat + 0.004], [lon - 0.004, lat - 0.004]]
            shapeless = no_geometry and code == "Z-E"
            s.add(Zone(code=code, name=f"Zone {code[-1]}", regulations=[],
                       geometry=None if shapeless else {"type": "Polygon", "coordinates": [ring]},
                       centroid_lat=None if shapeless else lat, centroid_lon=None if shapeless else lon))
        for n, badge in enumerate(BADGES):
            s.add(Officer(badge=badge, name=f"Officer {badge}"))
            s.add(Device(device_id=f"HH-{n + 1:04d}", officer_badge=badge, seq_gaps=[]))
        uow.commit()


def add_citations(app: AppContext, zone: str, day: date, hour: int, count: int, start_id: int) -> None:
    """``count`` citations in ``zone`` at ``hour`` local on ``day``."""
    rows = []
    for i in range(count):
        at = datetime.combine(day, time(hour, i % 60), tzinfo=LA)
        n = start_id + i
        rows.append(dict(id=n, citation_number=f"T-{n}", officer_badge="1001", issued_at=at, received_at=at,
                         plate=f"P{n}", plate_key=f"P{n}", jurisdiction="CA", lat=34.05, lon=-118.25, zone_code=zone,
                         violation_code="88.13B+", violation_description="METER EXP.", fine_cents=6300,
                         status="open", evidence_status="ok", signature_state="unsigned",
                         profile_code="CA", profile_version=1, on_hold=False, version=1,
                         observations=[]))
    with app.uow(Actor.system("test")) as uow:
        uow.session.execute(insert(Citation), rows)
        uow.commit()


def add_shift(app: AppContext, badge: str, zone: str, day: date, start: str, minutes: int, vehicles: int = 10,
              key: str = "") -> None:
    at = datetime.combine(day, time.fromisoformat(start), tzinfo=LA)
    with app.uow(Actor.system("test")) as uow:
        uow.session.add(PatrolShift(event_id=f"s-{badge}-{zone}-{day}-{start}{key}", officer_badge=badge,
                                    zone_code=zone, started_at=at, ended_at=at + timedelta(minutes=minutes),
                                    vehicles_checked=vehicles))
        uow.commit()
