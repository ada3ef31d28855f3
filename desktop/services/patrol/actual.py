"""Plan against actual: for a past day, each beat's planned zones against the zones its officer patrolled.

What an officer did comes from the handhelds' ``patrol.shift`` events (``patrol_shifts``: officer, zone, start,
end, vehicles checked): a zone counts as patrolled when the officer has a shift in it that starts on the
day (agency time). Checks carry no officer (field-sync-protocol.md), so the vehicles an officer checked are
the shifts' own ``vehicles_checked``.

- **coverage %** = planned zones patrolled / planned zones (each zone once, however long);
- **missed** = planned zones with no shift of the officer; **extra** = zones patrolled but not planned;
- **time per zone** = planned minutes against the minutes of the officer's shifts in the zone (a shift still
  open at the end of the day counts up to midnight).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop.domain.errors import UserError
from desktop.domain.roles import Permission
from desktop.persistence.models import Officer, PatrolPlan, PatrolShift
from desktop.services.core.clock import agency_date, agency_zone
from desktop.services.core.context import Actor, AppContext


@dataclass(frozen=True)
class ZoneLine:
    zone: str
    planned_minutes: int  # 0: not planned (an extra zone)
    actual_minutes: int
    vehicles_checked: int


@dataclass(frozen=True)
class BeatActual:
    badge: str
    name: str
    planned: tuple[str, ...]
    patrolled: tuple[str, ...]
    lines: tuple[ZoneLine, ...]

    @property
    def missed(self) -> tuple[str, ...]:
        return tuple(z for z in self.planned if z not in self.patrolled)

    @property
    def extra(self) -> tuple[str, ...]:
        return tuple(z for z in self.patrolled if z not in self.planned)

    @property
    def covered(self) -> int:
        return sum(1 for z in self.planned if z in self.patrolled)

    @property
    def coverage(self) -> float | None:
        """Percent of the planned zones patrolled (None when nothing was planned)."""
        return 100.0 * self.covered / len(self.planned) if self.planned else None

    @property
    def planned_minutes(self) -> int:
        return sum(x.planned_minutes for x in self.lines)

    @property
    def actual_minutes(self) -> int:
        return sum(x.actual_minutes for x in self.lines)


@dataclass(frozen=True)
class DayActual:
    day: date
    version: int | None  # the plan's version; None when no plan was saved for the day
    beats: tuple[BeatActual, ...]

    @property
    def coverage(self) -> float | None:
        planned = sum(len(b.planned) for b in self.beats)
        return 100.0 * sum(b.covered for b in self.beats) / planned if planned else None


@dataclass(frozen=True)
class OfficerPeriod:
    badge: str
    name: str
    days: int  # days with a beat planned
    planned: int  # zone visits planned
    covered: int
    planned_minutes: int
    actual_minutes: int
    extra_zones: int

    @property
    def coverage(self) -> float | None:
        return 100.0 * self.covered / self.planned if self.planned else None


def _day_range(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return (datetime.combine(day, time(0), tzinfo=tz).astimezone(ZoneInfo("UTC")),
            datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(ZoneInfo("UTC")))


def _day(s: Session, day: date, tz: ZoneInfo, names: dict[str, str]) -> DayActual:
    start, end = _day_range(day, tz)
    plan = s.scalar(select(PatrolPlan).where(PatrolPlan.day == day))
    actual: dict[str, dict[str, list[int]]] = {}  # badge -> zone -> [minutes, vehicles]
    order: dict[str, list[str]] = {}
    for badge, zone, started, ended, vehicles in s.execute(
            select(PatrolShift.officer_badge, PatrolShift.zone_code, PatrolShift.started_at, PatrolShift.ended_at,
                   PatrolShift.vehicles_checked)
            .where(PatrolShift.started_at >= start, PatrolShift.started_at < end)
            .order_by(PatrolShift.started_at)):
        stop = min(ended or end, end)
        cell = actual.setdefault(badge, {}).setdefault(zone, [0, 0])
        cell[0] += max(0, round((stop - started).total_seconds() / 60))
        cell[1] += int(vehicles or 0)
        if zone not in order.setdefault(badge, []):
            order[badge].append(zone)
    beats: list[BeatActual] = []
    seen: set[str] = set()
    for b in plan.beats if plan is not None else []:
        planned_minutes: dict[str, int] = {}
        for st in b.stops or ():
            planned_minutes[st["zone"]] = planned_minutes.get(st["zone"], 0) + int(st["minutes"])
        got = actual.get(b.officer_badge, {})
        zones = list(planned_minutes) + [z for z in order.get(b.officer_badge, []) if z not in planned_minutes]
        lines = tuple(ZoneLine(z, planned_minutes.get(z, 0), got.get(z, [0, 0])[0], got.get(z, [0, 0])[1])
                      for z in zones)
        beats.append(BeatActual(b.officer_badge, b.officer_name, tuple(planned_minutes),
                                tuple(order.get(b.officer_badge, [])), lines))
        seen.add(b.officer_badge)
    for badge in sorted(set(actual) - seen):  # on patrol without a beat
        got = actual[badge]
        beats.append(BeatActual(badge, names.get(badge, ""), (), tuple(order[badge]),
                                tuple(ZoneLine(z, 0, got[z][0], got[z][1]) for z in order[badge])))
    return DayActual(day, plan.version if plan is not None else None, tuple(beats))


def plan_vs_actual(app: AppContext, actor: Actor, day: date) -> DayActual:
    """Each beat of the day's plan against the officer's shifts of that day (and officers on patrol without a
    beat, with nothing planned)."""
    with app.reader(actor, Permission.REPORTS_VIEW) as uow:
        s = uow.session
        names = {b: n for b, n in s.execute(select(Officer.badge, Officer.name))}
        return _day(s, day, agency_zone(s), names)


def officers_over_period(app: AppContext, actor: Actor, first: date, last: date) -> list[OfficerPeriod]:
    """Per officer over the days from ``first`` to ``last`` (both included) that have a saved plan; days from
    today on are left out (their patrol is not over)."""
    if last < first:
        raise UserError("The period ends before it starts: give the earlier day first.")
    if (last - first).days > 366:
        raise UserError("A period of plan against actual is at most a year: choose a shorter one.")
    with app.reader(actor, Permission.REPORTS_VIEW) as uow:
        s = uow.session
        tz = agency_zone(s)
        last = min(last, agency_date(s, app.now()) - timedelta(days=1))
        names = {b: n for b, n in s.execute(select(Officer.badge, Officer.name))}
        days = list(s.scalars(select(PatrolPlan.day).where(PatrolPlan.day >= first, PatrolPlan.day <= last)
                              .order_by(PatrolPlan.day)))
        results = [_day(s, d, tz, names) for d in days]
    return summarise(results)


def summarise(days: Iterable[DayActual]) -> list[OfficerPeriod]:
    acc: dict[str, list[int]] = {}
    label: dict[str, str] = {}
    for d in days:
        for b in d.beats:
            if not b.planned:
                continue
            row = acc.setdefault(b.badge, [0, 0, 0, 0, 0, 0])
            label[b.badge] = b.name
            row[0] += 1
            row[1] += len(b.planned)
            row[2] += b.covered
            row[3] += b.planned_minutes
            row[4] += sum(x.actual_minutes for x in b.lines if x.planned_minutes)
            row[5] += len(b.extra)
    return [OfficerPeriod(badge, label[badge], *acc[badge]) for badge in sorted(acc)]


def actual_table(result: DayActual) -> list[list[str]]:
    """The day's figures as rows of text (the command line's table)."""
    rows = [["Badge", "Officer", "Planned", "Patrolled", "Coverage", "Missed", "Extra", "Planned min", "Actual min"]]
    for b in result.beats:
        rows.append([b.badge, b.name, str(len(b.planned)), str(len(b.patrolled)),
                     "—" if b.coverage is None else f"{b.coverage:.0f} %", ", ".join(b.missed) or "—",
                     ", ".join(b.extra) or "—", str(b.planned_minutes), str(b.actual_minutes)])
    return rows
