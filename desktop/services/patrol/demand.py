"""Where violations are likely and coverage is thin: each zone's priority for a patrol plan.

For the plan's day and shift window, the same weekday and the same local hours of each of the last
``patrol.history_weeks`` weeks are looked at (parking behaviour follows the week: street cleaning, meters and
markets come back on the same weekdays and hours). For each zone:

- ``citations``: citations issued in those windows (raw ``citations``, issued_at);
- ``checks``: vehicles checked and found compliant in those windows (raw ``patrol_checks``);
- ``patrol_hours``: hours officers spent in the zone in those windows (raw ``patrol_shifts``, the overlap of
  each shift with each window).

**Priority** = ``(citations + 1) / (patrol_hours + 1) x (1 + thinness)``.

The first factor is the expected number of violations found per hour of patrol (a yield), smoothed by one
(Laplace) so that a zone nobody patrolled is not taken for a zone without violations, and an hour spent in a
zone where it found nothing lowers it. The second factor, ``thinness = 1 - min(1, patrol_hours / mean
patrol_hours of the zones)``, up to doubling the priority of a zone patrolled less than the average: where
coverage is thin the recorded citations undercount the violations, and a zone left alone lets compliance
slip (deterrence needs presence). Checks do not enter the priority (they are what patrol time produces, not
a sign of violations): they give the compliance rate shown beside it, ``checks / (checks + citations)``.

Every window is computed in the agency's time zone in Python (daylight saving included) and handed to the
database as UTC ranges: the queries are index range scans on ``issued_at`` / ``checked_at``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from desktop.persistence.models import Citation, PatrolCheck, PatrolShift, Zone


@dataclass(frozen=True)
class ZoneDemand:
    code: str
    name: str
    citations: int
    checks: int
    patrol_hours: float
    priority: float
    lat: float | None
    lon: float | None

    @property
    def compliance(self) -> float | None:
        seen = self.checks + self.citations
        return self.checks / seen if seen else None


def windows(day: date, start: time, minutes: int, weeks: int, tz: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """The UTC ranges of the same weekday and local hours in each of the ``weeks`` weeks before ``day``."""
    out = []
    for k in range(1, weeks + 1):
        d = day - timedelta(days=7 * k)
        local = datetime.combine(d, start, tzinfo=tz)
        out.append((local.astimezone(ZoneInfo("UTC")), (local + timedelta(minutes=minutes)).astimezone(ZoneInfo("UTC"))))
    return out


def _in_windows(column: Any, ranges: Sequence[tuple[datetime, datetime]]) -> Any:
    return or_(*[and_(column >= a, column < b) for a, b in ranges])


def zone_demand(session: Session, day: date, start: time, minutes: int, weeks: int,
                tz: ZoneInfo) -> list[ZoneDemand]:
    """Every zone's figures and priority for a plan of ``day`` with shifts from ``start`` for ``minutes``."""
    ranges = windows(day, start, minutes, max(1, weeks), tz)
    zones = list(session.execute(select(Zone.code, Zone.name, Zone.centroid_lat, Zone.centroid_lon)
                                 .order_by(Zone.code)))
    cites: dict[Any, int] = {z: n for z, n in session.execute(
        select(Citation.zone_code, func.count()).where(_in_windows(Citation.issued_at, ranges))
        .group_by(Citation.zone_code))}
    checks: dict[Any, int] = {z: n for z, n in session.execute(
        select(PatrolCheck.zone_code, func.count()).where(_in_windows(PatrolCheck.checked_at, ranges))
        .group_by(PatrolCheck.zone_code))}
    first, last = ranges[-1][0], ranges[0][1]
    hours: dict[str, float] = {}
    for zone, started, ended in session.execute(
            select(PatrolShift.zone_code, PatrolShift.started_at, PatrolShift.ended_at)
            .where(PatrolShift.started_at < last, PatrolShift.started_at >= first - timedelta(days=1))):
        end = ended or started
        for a, b in ranges:
            overlap = (min(end, b) - max(started, a)).total_seconds()
            if overlap > 0:
                hours[zone] = hours.get(zone, 0.0) + overlap / 3600
    mean = sum(hours.get(z.code, 0.0) for z in zones) / len(zones) if zones else 0.0
    out = []
    for code, name, lat, lon in zones:
        c, k, h = int(cites.get(code, 0)), int(checks.get(code, 0)), hours.get(code, 0.0)
        thin = 1 - min(1.0, h / mean) if mean > 0 else 0.0
        out.append(ZoneDemand(code, name, c, k, round(h, 2), round((c + 1) / (h + 1) * (1 + thin), 3), lat, lon))
    return out
