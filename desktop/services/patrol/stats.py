"""Compliance and demand per zone, from the office's own field data (issue 18, point 1).

What is counted, over a period of the agency's local days ``start`` to ``end`` (both included):

- **compliant checks**: ``patrol.check`` events (table ``patrol_checks``): a vehicle checked and found
  compliant (paid, permit, compliant);
- **citations**: citations issued in the zone (table ``citations``, by ``issued_at``), whatever became of
  them; **voids** and **dismissals** are those of them now voided or dismissed;
- **checks** = compliant checks + citations: every vehicle an officer looked at (a citation is a check
  that found a violation; the handheld's shift total ``vehicles_checked`` is counted the same way);
- **hours patrolled**: the ``patrol.shift`` events (table ``patrol_shifts``) cut to the period; a shift not
  yet ended counts up to now, at most ``OPEN_SHIFT_HOURS``.

Compliance rate = compliant / checks (None when the zone had no check in the period); violations per hour
patrolled = citations / hours patrolled (None when the zone was not patrolled: no shift at all, which a
screen says in words rather than showing 0 %).

Every figure is read from the rows themselves, zone by zone: the (zone, time) indexes of migration
``patrol_stats_0001`` hold every column these queries read, so neither database touches a table row or
sorts one, and no summary table has to be kept in step with the sync (a 90-day map of the
1,000,000-citation office: see tests/benchmarks/bench_patrol_stats.py). Reading them needs ``Permission.REPORTS_VIEW``
(supervisors and administrators; not clerks), checked here for the screens and the command line alike.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, bindparam, func, select, text
from sqlalchemy.orm import Session

from desktop.domain.errors import UserError
from desktop.domain.lifecycle import CaseStatus
from desktop.domain.roles import Permission
from desktop.persistence.models import Citation, PatrolCheck, PatrolShift, Zone
from desktop.services.core.clock import agency_zone
from desktop.services.core.context import Actor, AppContext

#: a shift with no end yet counts up to now, but never more than this
OPEN_SHIFT_HOURS = 10.0
#: the longest period one request may cover (a year and a bit: the trend of a year)
MAX_DAYS = 400
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: what a map or a heat table may show: key -> (label, unit for the legend, higher is better)
MEASURES: dict[str, tuple[str, str, bool]] = {
    "compliance": ("Compliance rate", "%", True),
    "violations_per_hour": ("Violations per hour patrolled", "per hour", False),
    "citations": ("Citations", "citations", False),
    "checks": ("Vehicles checked", "vehicles", True),
    "hours": ("Hours patrolled", "hours", True),
    "voids": ("Voids", "voids", False),
    "dismissals": ("Dismissals", "dismissals", False),
}


@dataclass(frozen=True)
class ZoneStats:
    zone_code: str
    zone_name: str | None
    checks: int
    compliant: int
    citations: int
    voids: int
    dismissals: int
    hours_patrolled: float
    compliance_rate: float | None
    """compliant / checks; None when the zone had no checks in the period"""
    violations_per_hour: float | None
    """citations / hours patrolled; None when the zone was not patrolled"""
    has_geometry: bool = True

    @property
    def patrolled(self) -> bool:
        return self.hours_patrolled > 0

    def value(self, measure: str) -> float | None:
        """The figure a map colours this zone by (None: nothing to show, said in words)."""
        if measure == "compliance":
            return self.compliance_rate
        if measure == "violations_per_hour":
            return self.violations_per_hour
        if measure == "hours":
            return self.hours_patrolled
        return float(getattr(self, measure))

    def sentence(self) -> str:
        """The zone's figures in one or two plain sentences."""
        name = f"{self.zone_code}" + (f" ({self.zone_name})" if self.zone_name else "")
        if not self.checks and not self.patrolled:
            return f"{name} was not patrolled in this period: no shift, no vehicle checked, no citation."
        parts = [f"{name}: {self.checks:,} vehicles checked, {self.compliant:,} compliant, "
                 f"{self.citations:,} citations ({self.voids:,} voided, {self.dismissals:,} dismissed)."]
        if self.compliance_rate is not None:
            parts.append(f"Compliance {self.compliance_rate:.0%}.")
        if self.patrolled and self.violations_per_hour is not None:
            parts.append(f"{self.hours_patrolled:,.1f} hours patrolled, "
                         f"{self.violations_per_hour:.1f} violations per hour.")
        else:
            parts.append("No patrol shift recorded in this zone in the period, so no rate per hour.")
        return " ".join(parts)


@dataclass(frozen=True)
class HourGrid:
    """A measure per day of the week (Monday first) and hour of the day, in the agency's time zone."""

    measure: str
    cells: tuple[tuple[float | None, ...], ...]
    """7 rows of 24: None where the measure has no value (a rate with nothing to divide by)"""
    zone: str | None = None

    @property
    def empty(self) -> bool:
        return all(v is None or v == 0 for row in self.cells for v in row)

    @property
    def peak(self) -> float:
        return max((v for row in self.cells for v in row if v is not None), default=0.0)


@dataclass(frozen=True)
class WeekPoint:
    week_start: date
    """the Monday of the week (agency's local calendar)"""
    checks: int
    compliant: int
    citations: int
    hours_patrolled: float
    compliance_rate: float | None
    violations_per_hour: float | None


# --------------------------------------------------------------------------- the period


def _check_period(start: date, end: date) -> None:
    if end < start:
        raise UserError(f"The period ends ({end:%d %b %Y}) before it starts ({start:%d %b %Y}): "
                        "choose an end date on or after the start date.")
    if (end - start).days + 1 > MAX_DAYS:
        raise UserError(f"Choose a period of at most {MAX_DAYS} days (this one has {(end - start).days + 1}).")


def period_bounds(tz: ZoneInfo, start: date, end: date) -> tuple[datetime, datetime]:
    """The UTC moments the local days ``start`` .. ``end`` (both included) begin and stop."""
    lo = datetime.combine(start, time(0), tzinfo=tz).astimezone(timezone.utc)
    hi = datetime.combine(end + timedelta(days=1), time(0), tzinfo=tz).astimezone(timezone.utc)
    return lo, hi


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _shift_spans(session: Session, lo: datetime, hi: datetime, now: datetime,
                 zone_filter: ColumnElement[bool] | None) -> list[tuple[str, datetime, datetime]]:
    """The period's shifts as (zone, from, to), cut to the period (a shift started the day before counts
    from the period's start)."""
    query = select(PatrolShift.zone_code, PatrolShift.started_at, PatrolShift.ended_at).where(
        PatrolShift.started_at >= lo - timedelta(hours=24), PatrolShift.started_at < hi)
    if zone_filter is not None:
        query = query.where(zone_filter)
    spans = []
    for zone, started, ended in session.execute(query):
        started = _utc(started)
        stop = _utc(ended) if ended is not None else min(now, started + timedelta(hours=OPEN_SHIFT_HOURS))
        stop = min(stop, started + timedelta(hours=24))  # a shift is never longer than a day
        a, b = max(started, lo), min(stop, hi)
        if b > a:
            spans.append((zone, a, b))
    return spans


def _reader(app: AppContext, actor: Actor):  # type: ignore[no-untyped-def]
    return app.reader(actor, Permission.REPORTS_VIEW)


# --------------------------------------------------------------------------- per zone


def zone_stats(app: AppContext, actor: Actor, start: date, end: date, *,
               zones: Sequence[str] | None = None) -> list[ZoneStats]:
    """Every zone's figures for the period, in zone-code order: the zones the office knows (with or
    without a shape) and any zone code the field data names that the office does not know."""
    _check_period(start, end)
    with _reader(app, actor) as uow:
        return zone_stats_in(uow.session, start, end, now=app.now(), zones=zones)


#: The zone codes a table names, read with a "loose index scan" on its zone_code index (one index probe per
#: distinct code, not a scan of the table): the smallest code, then the next larger one, and so on. The
#: same SQL on SQLite and PostgreSQL (both answer ``min()`` over an indexed column from the index).
_CODES_SQL = (
    "WITH RECURSIVE codes(code) AS (SELECT min(zone_code) FROM {table} UNION ALL "
    "SELECT (SELECT min(zone_code) FROM {table} WHERE zone_code > codes.code) FROM codes "
    "WHERE codes.code IS NOT NULL) SELECT code FROM codes WHERE code IS NOT NULL")


def _codes(session: Session, table: str) -> set[str]:
    return set(session.scalars(text(_CODES_SQL.format(table=table))))


_CHECKS_Q = (select(func.count()).select_from(PatrolCheck)
             .where(PatrolCheck.zone_code == bindparam("zone"), PatrolCheck.checked_at >= bindparam("lo"),
                    PatrolCheck.checked_at < bindparam("hi")))
_CITATIONS_Q = (select(Citation.status, func.count())
                .where(Citation.zone_code == bindparam("zone"), Citation.issued_at >= bindparam("lo"),
                       Citation.issued_at < bindparam("hi")).group_by(Citation.status))


def zone_stats_in(session: Session, start: date, end: date, *, now: datetime,
                  zones: Sequence[str] | None = None) -> list[ZoneStats]:
    """`zone_stats` in a session the caller opened (and checked the permission for).

    Counted zone by zone: each count is one range of the (zone, time) indexes of migration
    ``patrol_stats_0001``, read from the index alone and without sorting. (One ``GROUP BY zone_code`` over
    the period sorts every row of it first: 1.2 s for the 1,200,000 checks of 90 days of the
    1,000,000-citation office on SQLite, against 0.17 s for the same counts zone by zone.)"""
    lo, hi = period_bounds(agency_zone(session), start, end)
    # (a JSON column may hold JSON null rather than SQL NULL: the shape is looked at, not the column)
    known = {code: (name, isinstance(geometry, dict) and bool(geometry.get("coordinates")))
             for code, name, geometry in session.execute(select(Zone.code, Zone.name, Zone.geometry))}
    if zones is not None:
        codes = set(zones)
    else:
        codes = set(known) | _codes(session, "patrol_checks") | _codes(session, "citations") \
            | _codes(session, "patrol_shifts")
    hours: dict[str, float] = defaultdict(float)
    shift_filter = PatrolShift.zone_code.in_(sorted(codes)) if zones is not None else None
    for zone, a, b in _shift_spans(session, lo, hi, now, shift_filter):
        hours[zone] += (b - a).total_seconds() / 3600
    result = []
    for code in sorted(codes):
        bounds = {"zone": code, "lo": lo, "hi": hi}
        compliant = int(session.execute(_CHECKS_Q, bounds).scalar() or 0)
        citations = voids = dismissals = 0
        for status, count in session.execute(_CITATIONS_Q, bounds):
            citations += count
            if status == CaseStatus.VOIDED.value:
                voids += count
            elif status == CaseStatus.DISMISSED.value:
                dismissals += count
        name, shaped = known.get(code, (None, False))
        result.append(make_stats(code, name, compliant, citations, voids, dismissals, hours.get(code, 0.0),
                                 has_geometry=bool(shaped)))
    return result


def make_stats(code: str, name: str | None, compliant: int, citations: int, voids: int, dismissals: int,
               hours: float, *, has_geometry: bool = True) -> ZoneStats:
    checks = compliant + citations
    hours = round(hours, 4)
    return ZoneStats(
        zone_code=code, zone_name=name, checks=checks, compliant=compliant, citations=citations, voids=voids,
        dismissals=dismissals, hours_patrolled=hours,
        compliance_rate=compliant / checks if checks else None,
        violations_per_hour=citations / hours if hours > 0 else None, has_geometry=has_geometry)


# --------------------------------------------------------------------------- per hour


def _hour_bucket(session: Session, column: Any) -> ColumnElement[str]:
    """The UTC hour a moment falls in, as text ``YYYY-MM-DD HH`` on both databases."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24")
    return func.substr(column, 1, 13)  # SQLite keeps UTC as 'YYYY-MM-DD HH:MM:SS.ffffff' (persistence.types)


def _parse_bucket(text: str) -> datetime:
    return datetime.strptime(text[:13], "%Y-%m-%d %H").replace(tzinfo=timezone.utc)


@dataclass
class _Hourly:
    """A period's counts per UTC hour (for one zone, or all)."""

    citations: dict[datetime, int]
    voids: dict[datetime, int]
    dismissals: dict[datetime, int]
    compliant: dict[datetime, int]
    shifts: list[tuple[str, datetime, datetime]]


def _hourly(session: Session, lo: datetime, hi: datetime, now: datetime, zone: str | None) -> _Hourly:
    """Zone by zone (every zone the tables name, when ``zone`` is None), like `zone_stats_in`: one range of
    the (zone, time) indexes each."""
    cb = _hour_bucket(session, Citation.issued_at)
    cit_q = (select(cb, Citation.status, func.count())
             .where(Citation.zone_code == bindparam("zone"), Citation.issued_at >= lo, Citation.issued_at < hi)
             .group_by(cb, Citation.status))
    kb = _hour_bucket(session, PatrolCheck.checked_at)
    chk_q = (select(kb, func.count())
             .where(PatrolCheck.zone_code == bindparam("zone"), PatrolCheck.checked_at >= lo,
                    PatrolCheck.checked_at < hi)
             .group_by(kb))
    codes = {zone} if zone is not None else _codes(session, "patrol_checks") | _codes(session, "citations")
    out = _Hourly(defaultdict(int), defaultdict(int), defaultdict(int), defaultdict(int), [])
    for code in sorted(codes):
        for bucket, status, count in session.execute(cit_q, {"zone": code}):
            at = _parse_bucket(bucket)
            out.citations[at] += count
            if status == CaseStatus.VOIDED.value:
                out.voids[at] += count
            elif status == CaseStatus.DISMISSED.value:
                out.dismissals[at] += count
        for bucket, count in session.execute(chk_q, {"zone": code}):
            out.compliant[_parse_bucket(bucket)] += count
    out.shifts = _shift_spans(session, lo, hi, now, PatrolShift.zone_code == zone if zone is not None else None)
    return out


def _split_hours(a: datetime, b: datetime) -> Iterable[tuple[datetime, float]]:
    """A span cut at each whole UTC hour: (the hour, hours of the span in it)."""
    hour = a.replace(minute=0, second=0, microsecond=0)
    while hour < b:
        nxt = hour + timedelta(hours=1)
        part = (min(b, nxt) - max(a, hour)).total_seconds() / 3600
        if part > 0:
            yield hour, part
        hour = nxt


def _ratio(top: float, bottom: float) -> float | None:
    return top / bottom if bottom else None


def hour_of_week(app: AppContext, actor: Actor, start: date, end: date, *, zone: str | None = None,
                 measure: str = "citations") -> HourGrid:
    """The measure for each hour of the week (7 days x 24 hours, local time) over the period, for one zone
    or all. Counts are totals over the period; rates are worked out per cell from its totals."""
    if measure not in MEASURES:
        raise UserError(f"Unknown measure {measure!r}: choose one of {', '.join(MEASURES)}.")
    return hour_of_week_all(app, actor, start, end, zone=zone)[measure]


def hour_of_week_all(app: AppContext, actor: Actor, start: date, end: date, *,
                     zone: str | None = None) -> dict[str, HourGrid]:
    """`hour_of_week` of every measure at once (one read: a screen keeps them, and changing the measure
    reads nothing again)."""
    _check_period(start, end)
    with _reader(app, actor) as uow:
        tz = agency_zone(uow.session)
        lo, hi = period_bounds(tz, start, end)
        data = _hourly(uow.session, lo, hi, app.now(), zone)
    sums: dict[str, list[list[float]]] = {k: [[0.0] * 24 for _ in range(7)]
                                          for k in ("citations", "voids", "dismissals", "compliant", "hours")}

    def cell(at: datetime) -> tuple[int, int]:
        local = at.astimezone(tz)
        return local.weekday(), local.hour

    for key, source in (("citations", data.citations), ("voids", data.voids), ("dismissals", data.dismissals),
                        ("compliant", data.compliant)):
        for at, count in source.items():
            d, h = cell(at)
            sums[key][d][h] += count
    for _zone, a, b in data.shifts:
        for hour, part in _split_hours(a, b):
            d, h = cell(hour)
            sums["hours"][d][h] += part

    def value(measure: str, d: int, h: int) -> float | None:
        cit, ok, hrs = sums["citations"][d][h], sums["compliant"][d][h], sums["hours"][d][h]
        if measure == "compliance":
            return _ratio(ok, ok + cit)
        if measure == "violations_per_hour":
            return _ratio(cit, hrs)
        if measure == "checks":
            return ok + cit
        return round(sums[measure][d][h], 4)

    return {measure: HourGrid(measure, tuple(tuple(value(measure, d, h) for h in range(24)) for d in range(7)), zone)
            for measure in MEASURES}


def zone_trend(app: AppContext, actor: Actor, zone: str, start: date, end: date) -> list[WeekPoint]:
    """One zone's figures week by week (weeks start on Monday, local time) over the period; every week of
    the period is listed, a week with nothing in it too."""
    _check_period(start, end)
    with _reader(app, actor) as uow:
        tz = agency_zone(uow.session)
        lo, hi = period_bounds(tz, start, end)
        data = _hourly(uow.session, lo, hi, app.now(), zone)

    def week(at: datetime) -> date:
        local = at.astimezone(tz).date()
        return local - timedelta(days=local.weekday())

    first = start - timedelta(days=start.weekday())
    weeks = [first + timedelta(weeks=n) for n in range((end - first).days // 7 + 1)]
    cit: dict[date, int] = defaultdict(int)
    ok: dict[date, int] = defaultdict(int)
    hrs: dict[date, float] = defaultdict(float)
    for at, count in data.citations.items():
        cit[week(at)] += count
    for at, count in data.compliant.items():
        ok[week(at)] += count
    for _zone, a, b in data.shifts:
        for hour, part in _split_hours(a, b):
            hrs[week(hour)] += part
    points = []
    for w in weeks:
        c, k, h = cit[w], ok[w], round(hrs[w], 4)
        points.append(WeekPoint(w, c + k, k, c, h, _ratio(k, c + k), _ratio(c, h)))
    return points


def describe_period(stats: Sequence[ZoneStats], start: date, end: date) -> str:
    """A sentence about the period as a whole, or what is missing (no data, nothing patrolled)."""
    span = f"{start:%d %b %Y} to {end:%d %b %Y}"
    if not stats:
        return f"No zones are set up and no field data names one for {span}: import the zones (Admin, Zones)."
    checks = sum(s.checks for s in stats)
    hours = sum(s.hours_patrolled for s in stats)
    if not checks and not hours:
        return (f"No patrol data for {span}: no shift, no vehicle checked and no citation in any zone. "
                "Choose another period, or sync the handhelds (Sync) first.")
    compliant = sum(s.compliant for s in stats)
    unpatrolled = [s.zone_code for s in stats if not s.patrolled]
    text = (f"{span}: {checks:,} vehicles checked in {sum(1 for s in stats if s.checks)} zones, "
            f"{compliant / checks:.0%} compliant, {hours:,.0f} hours patrolled." if checks else
            f"{span}: {hours:,.0f} hours patrolled, no vehicle checked.")
    if unpatrolled:
        text += f" Not patrolled: {', '.join(unpatrolled)}."
    return text
