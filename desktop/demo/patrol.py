"""The demo office's patrols (issue 18, point 8): the shifts and vehicle checks its handhelds recorded, so
that the compliance map, the hour-of-week table and the patrol plans have something true-looking to show.

Made from the demo's own citations, so the two agree: for each zone and local hour in which citations
were written, an officer was on shift there, and checked a number of compliant vehicles for each citation
that depends on the zone and the hour:

- downtown (Financial District, Bunker Hill, Historic Core, Civic Center): busy, about 2.8 compliant
  vehicles per citation (about 74 % compliance), and at weekday lunch (11:00-14:00) 1.2 (about 55 %);
- a zone's street-cleaning morning (its ``street_cleaning`` regulation, e.g. Tuesday 08:00-10:00): cars
  left in the sweeper's way, about 0.8 per citation (about 45 %);
- the quiet residential edges (Chinatown, Arts District, South Park): about 9 per citation (about 90 %);
- elsewhere about 4 (80 %).

Every zone has an early and a late shift every day (06:45-14:15, 13:45-21:00); the busy zones a third
officer at lunch on weekdays, the quiet ones no late shift on Sundays. Two zones show what a screen
says when data is missing: Elysian Park (a shape, never patrolled) and the Union Station lots (patrolled,
but no shape imported). The rows go straight into ``patrol_shifts`` and ``patrol_checks`` like a sync
writes them (event ids ``demo-shift-…`` / ``demo-check-…``); done once (``demo.patrol``).

``add_patrols(app, progress)`` is also what the benchmark of the 1,000,000-citation office calls (the demo
skips its extensions for so large an office).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import func, insert, select

from desktop.demo.office import LA, ensure_utc
from desktop.domain import geo
from desktop.persistence.models import Citation, Officer, PatrolCheck, PatrolShift, Setting, Zone
from desktop.services.core.context import Actor, AppContext

ORDER = 25  # after the field sync, before the screens' own extensions
MARKER = "demo.patrol"
Progress = Callable[[str, int, int], None]

BUSY = {"Z-FINANCIAL", "Z-BUNKER-HILL", "Z-HISTORIC-CORE", "Z-CIVIC-CENTER"}
QUIET = {"Z-CHINATOWN", "Z-ARTS-DISTRICT", "Z-SOUTH-PARK"}
#: (code, name, shape): one never patrolled, one patrolled without a shape
EXTRA_ZONES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("Z-ELYSIAN-PARK", "Elysian Park", {"type": "Polygon", "coordinates": [[
        [-118.2450, 34.0680], [-118.2340, 34.0680], [-118.2340, 34.0760], [-118.2450, 34.0760],
        [-118.2450, 34.0680]]]}),
    ("Z-UNION-STATION", "Union Station lots", None),
]
CHECK_RESULTS = ("paid", "paid", "compliant", "permit_ok")
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _cleaning(regulations: list[Any]) -> tuple[set[int], int, int]:
    """A zone's street-cleaning weekdays and hours (start hour, end hour) from its regulations."""
    for reg in regulations or []:
        if isinstance(reg, dict) and reg.get("kind") == "street_cleaning":
            days = {DAY_NAMES.index(d) for d in reg.get("days", []) if d in DAY_NAMES}
            return days, int(str(reg.get("start", "08:00"))[:2]), int(str(reg.get("end", "10:00"))[:2])
    return set(), 0, 0


def checks_per_citation(zone: str, weekday: int, hour: int, cleaning: tuple[set[int], int, int]) -> float:
    days, first, last = cleaning
    if weekday in days and first <= hour < last:
        return 0.8
    if zone in BUSY:
        return 1.2 if 11 <= hour < 14 and weekday < 5 else 2.8
    if zone in QUIET:
        return 9.0
    return 4.0


def _shifts(zone: str, day: date) -> list[tuple[time, time]]:
    """An early and a late shift every day (the meters run seven days); the busy zones have a third
    officer at lunch on weekdays, the quiet ones no late shift on Sundays."""
    weekday = day.weekday()
    spans = [(time(6, 45), time(14, 15)), (time(13, 45), time(21, 0))]
    if zone in BUSY and weekday < 5:
        spans.append((time(10, 30), time(15, 0)))
    if zone in QUIET and weekday == 6:
        spans = spans[:1]
    return spans


def add_patrols(app: AppContext, progress: Progress, *, seed: int = 11, batch: int = 20000) -> tuple[int, int]:
    """Write the demo's shifts and checks (once); returns (shifts, checks) written."""
    with app.db.reading() as s:
        if s.get(Setting, MARKER) is not None:
            return 0, 0
        badges = list(s.scalars(select(Officer.badge).order_by(Officer.badge)))
        first_last = s.execute(select(func.min(Citation.issued_at), func.max(Citation.issued_at))).one()
    if first_last[0] is None or not badges:
        return 0, 0
    with app.uow(Actor.system("demo")) as uow:
        for code, name, shape in EXTRA_ZONES:
            if uow.session.get(Zone, code) is None:
                # the centre the patrol plan measures travel from, as the zone importer sets it
                lon, lat = geo.polygon_centroid(shape["coordinates"]) if shape else (None, None)
                uow.session.add(Zone(code=code, name=name, geometry=shape, regulations=[], source="demo",
                                     centroid_lat=lat, centroid_lon=lon))
        uow.commit()
        zones = {code: regs for code, regs in uow.session.execute(select(Zone.code, Zone.regulations))}
    rnd = random.Random(seed)
    start = ensure_utc(first_last[0]).astimezone(LA).date()
    end = ensure_utc(first_last[1]).astimezone(LA).date()
    officer = {code: badges[n % len(badges)] for n, code in enumerate(sorted(zones))}
    shifts: list[dict[str, Any]] = []
    patrolled: dict[str, set[tuple[date, int]]] = defaultdict(set)
    day = start
    while day <= end:
        for code in sorted(zones):
            if code == "Z-ELYSIAN-PARK":
                continue
            spans = _shifts(code, day) if code != "Z-UNION-STATION" else (
                [(time(6, 0), time(9, 0))] if day.weekday() < 5 else [])
            for n, (a, b) in enumerate(spans):
                begin = datetime.combine(day, a, tzinfo=LA) + timedelta(minutes=rnd.randint(-10, 10))
                stop = datetime.combine(day, b, tzinfo=LA) + timedelta(minutes=rnd.randint(-15, 15))
                badge = officer[code] if n == 0 else badges[(badges.index(officer[code]) + 5) % len(badges)]
                shifts.append(dict(event_id=f"demo-shift-{code}-{day.isoformat()}-{n}", officer_badge=badge,
                                   zone_code=code, started_at=begin.astimezone(timezone.utc),
                                   ended_at=stop.astimezone(timezone.utc), vehicles_checked=0))
                for h in range(a.hour, b.hour + 1):
                    patrolled[code].add((day, h))
        day += timedelta(days=1)
    progress("Patrols: shifts", 0, 1)
    with app.uow(Actor.system("demo")) as uow:
        for i in range(0, len(shifts), batch):
            uow.session.execute(insert(PatrolShift), shifts[i:i + batch])
        uow.commit()
    # the compliant checks, hour by hour, from the citations of that zone and hour
    per_hour: dict[tuple[str, datetime], int] = defaultdict(int)
    with app.db.reading() as s:
        for zone, issued in s.execute(select(Citation.zone_code, Citation.issued_at)
                                      .where(Citation.zone_code.isnot(None)).execution_options(yield_per=50000)):
            local = ensure_utc(issued).astimezone(LA)
            if zone is None:
                continue
            per_hour[(zone, local.replace(minute=0, second=0, microsecond=0))] += 1
    # the Union Station lots have no citations of their own: a few an hour when patrolled
    for d, h in patrolled.get("Z-UNION-STATION", set()):
        per_hour[("Z-UNION-STATION", datetime.combine(d, time(h), tzinfo=LA))] += 1
    written, serial, rows = 0, 0, []
    total = len(per_hour)
    cleaning = {code: _cleaning(regs) for code, regs in zones.items()}
    for done, ((zone, hour), citations) in enumerate(sorted(per_hour.items())):
        mean = citations * checks_per_citation(zone, hour.weekday(), hour.hour, cleaning.get(zone, (set(), 0, 0)))
        count = max(0, round(rnd.gauss(mean, mean * 0.15 + 0.5)))
        for _ in range(count):
            serial += 1
            at = hour + timedelta(seconds=rnd.randrange(3600))
            letters = "".join(rnd.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(3))
            rows.append(dict(event_id=f"demo-check-{serial:08d}", zone_code=zone, checked_at=at.astimezone(timezone.utc),
                             plate=f"{rnd.randint(1, 9)}{letters}{rnd.randint(100, 999)}",
                             jurisdiction="CA" if rnd.random() < 0.95 else "AZ", result=rnd.choice(CHECK_RESULTS)))
        if len(rows) >= batch:
            written += _flush(app, rows)
            progress("Patrols: vehicle checks", done, total)
    written += _flush(app, rows)
    with app.uow(Actor.system("demo")) as uow:
        uow.session.add(Setting(key=MARKER, value={"shifts": len(shifts), "checks": written}))
        uow.audit("demo.patrols_generated", "setting", MARKER, after={"shifts": len(shifts), "checks": written})
        uow.commit()
    progress("Patrols", 1, 1)
    return len(shifts), written


_COLUMNS = ("event_id", "zone_code", "checked_at", "plate", "jurisdiction", "result")


def _flush(app: AppContext, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    with app.uow(Actor.system("demo")) as uow:
        connection = uow.session.connection()
        if connection.dialect.name == "postgresql":
            # COPY: the 1,000,000-citation office's 4.8 M checks in minutes, not the hour INSERTs take
            dbapi: Any = connection.connection.dbapi_connection
            with dbapi.cursor() as cursor, cursor.copy(
                    f"COPY patrol_checks ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(tuple(row[c] for c in _COLUMNS))
        else:
            uow.session.execute(insert(PatrolCheck), rows)
        uow.commit()
    count = len(rows)
    rows.clear()
    return count


def extend_demo(app: AppContext, progress: Progress) -> None:
    add_patrols(app, progress)
