"""Enforcement zones and their parking regulations, and whether a rule supports a citation.

Zones come from GeoJSON FeatureCollections. Three property layouts are read:

* DataSF "Parking regulations" (``regulation``, ``days``, ``hours``, ``hrlimit``,
  ``rpparea1``, ``exceptions``): street segments with time limits, residential
  permit (RPP) exemptions, oversize bans, no-parking;
* DataSF "Street sweeping" (``WeekDay``, ``FromHour``, ``ToHour``, ``Week1``..``Week5``,
  ``Holidays``): street-cleaning windows;
* our own layout: ``code``, ``name`` and a ``regulations`` list of objects with
  ``kind``, ``days`` (``["Mon", ...]``), ``start``/``end`` (``"08:00"``),
  ``limit_minutes``, ``permit_area``, ``exemptions``.

Broken geometry is refused with the feature NUMBER (1-based) and the reason, as a
``UserError``, so a clerk can fix the file. Zones may be areas (Polygon,
MultiPolygon) or street segments (LineString, MultiLineString): SFMTA publishes
regulations per blockface.

Times are local wall-clock times of the agency; pass local datetimes.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

from desktop.domain import geo
from desktop.domain.errors import UserError

REFERENCE_DIR = Path(__file__).resolve().parents[2] / "resources" / "reference"

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_ALIASES = {
    "m": 0, "mon": 0, "monday": 0, "tu": 1, "tue": 1, "tues": 1, "tuesday": 1, "w": 2, "wed": 2, "wednesday": 2,
    "th": 3, "thu": 3, "thur": 3, "thurs": 3, "thursday": 3, "f": 4, "fri": 4, "friday": 4,
    "sa": 5, "sat": 5, "saturday": 5, "su": 6, "sun": 6, "sunday": 6,
}
ALL_DAYS = frozenset(range(7))


class RegulationKind(str, Enum):
    TIME_LIMIT = "time_limit"
    PERMIT_ONLY = "permit_only"
    NO_PARKING = "no_parking"
    STREET_CLEANING = "street_cleaning"
    METERED = "metered"


@dataclass(frozen=True)
class ZoneRegulation:
    """One rule posted on a zone.

    ``days``: weekday numbers (Monday 0). ``start``/``end``: local times; ``None``
    for both means all day; ``end <= start`` wraps past midnight. ``weeks_of_month``:
    street sweeping on e.g. the 1st and 3rd week only (1-5). ``permit_area``: for a
    time limit, permit holders of that area are exempt; for permit_only, the area
    whose permits may park.
    """

    kind: RegulationKind
    days: frozenset[int] = ALL_DAYS
    start: time | None = None
    end: time | None = None
    limit_minutes: int | None = None
    permit_area: str | None = None
    exemptions: tuple[str, ...] = ()
    weeks_of_month: frozenset[int] = frozenset({1, 2, 3, 4, 5})
    applies_on_holidays: bool = True
    description: str = ""

    def in_force(self, at: datetime) -> bool:
        """Whether the rule applies at the local wall-clock time ``at``."""
        day = at.weekday()
        clock = at.time().replace(tzinfo=None)
        if self.start is None or self.end is None:
            return day in self.days and self._week_ok(at)
        if self.start < self.end:
            return day in self.days and self._week_ok(at) and self.start <= clock < self.end
        # Wraps midnight: the part after midnight belongs to the previous day's window.
        if clock >= self.start:
            return day in self.days and self._week_ok(at)
        if clock < self.end:
            previous = at - timedelta(days=1)
            return previous.weekday() in self.days and self._week_ok(previous)
        return False

    def _week_ok(self, at: datetime) -> bool:
        return (at.day - 1) // 7 + 1 in self.weeks_of_month

    def window_start(self, at: datetime) -> datetime:
        """When the current in-force window began (for counting time-limit minutes)."""
        if self.start is None:
            return at.replace(hour=0, minute=0, second=0, microsecond=0)
        candidate = at.replace(hour=self.start.hour, minute=self.start.minute, second=0, microsecond=0)
        if candidate > at:
            candidate -= timedelta(days=1)
        return candidate

    def hours_text(self) -> str:
        days = ",".join(WEEKDAYS[d] for d in sorted(self.days)) if self.days != ALL_DAYS else "daily"
        if self.start is None or self.end is None:
            return f"{days}, all day"
        return f"{days} {self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True)
class Zone:
    code: str
    name: str
    geometry_type: str
    coordinates: Any
    regulations: tuple[ZoneRegulation, ...]
    bbox: geo.BoundingBox
    properties: Mapping[str, Any] = field(default_factory=dict)

    def distance_m(self, lat: float, lon: float) -> float:
        """0 inside an area zone; otherwise metres to its edge or street segment."""
        if self.geometry_type in ("Polygon", "MultiPolygon"):
            if geo.point_in_geometry(lon, lat, self.geometry_type, self.coordinates):
                return 0.0
            polys = [self.coordinates] if self.geometry_type == "Polygon" else self.coordinates
            return min(geo.distance_to_polygon_edge_m(lon, lat, p) for p in polys)
        lines = [self.coordinates] if self.geometry_type == "LineString" else self.coordinates
        return min(geo.distance_to_line_m(lon, lat, line) for line in lines)


# ---------------------------------------------------------------- geometry validation

_GEOMETRY_TYPES = ("Polygon", "MultiPolygon", "LineString", "MultiLineString")


def _position(value: Any, number: int, where: str) -> tuple[float, float]:
    if not isinstance(value, (list, tuple)) or len(value) < 2:
        raise UserError(f"Zone feature {number}: {where} is not a [longitude, latitude] position.")
    lon, lat = value[0], value[1]
    for v in (lon, lat):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise UserError(f"Zone feature {number}: {where} has a non-numeric coordinate {v!r}.")
    if not -180 <= lon <= 180 or not -90 <= lat <= 90:
        raise UserError(
            f"Zone feature {number}: {where} is out of range (longitude {lon}, latitude {lat}); "
            "coordinates must be WGS84 degrees, longitude first."
        )
    return float(lon), float(lat)


def _line(value: Any, number: int, where: str) -> list[tuple[float, float]]:
    if not isinstance(value, list) or len(value) < 2:
        raise UserError(f"Zone feature {number}: {where} needs at least 2 positions.")
    return [_position(p, number, f"{where} position {i + 1}") for i, p in enumerate(value)]


def _segments_cross(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float], d: tuple[float, float]) -> bool:
    def orient(p: tuple[float, float], q: tuple[float, float], r: tuple[float, float]) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    d1, d2, d3, d4 = orient(c, d, a), orient(c, d, b), orient(a, b, c), orient(a, b, d)
    return ((d1 > 0 > d2) or (d1 < 0 < d2)) and ((d3 > 0 > d4) or (d3 < 0 < d4))


def _ring(value: Any, number: int, where: str, check_self_intersection: bool) -> list[tuple[float, float]]:
    if not isinstance(value, list) or len(value) < 4:
        count = len(value) if isinstance(value, list) else 0
        raise UserError(f"Zone feature {number}: {where} has {count} positions; a ring needs at least 4.")
    ring = [_position(p, number, f"{where} position {i + 1}") for i, p in enumerate(value)]
    if ring[0] != ring[-1]:
        raise UserError(f"Zone feature {number}: {where} is not closed (its last position must repeat the first).")
    if check_self_intersection and len(ring) <= 500:
        n = len(ring) - 1
        for i in range(n):
            for j in range(i + 2, n):
                if i == 0 and j == n - 1:
                    continue
                if _segments_cross(ring[i], ring[i + 1], ring[j], ring[j + 1]):
                    raise UserError(f"Zone feature {number}: {where} crosses itself (edges {i + 1} and {j + 1}).")
    return ring


def validate_geometry(geometry: Any, number: int, check_self_intersection: bool = True) -> tuple[str, Any]:
    """The geometry's type and its coordinates as float tuples; ``UserError`` naming the feature if broken."""
    if not isinstance(geometry, Mapping):
        raise UserError(f"Zone feature {number}: has no geometry.")
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if kind not in _GEOMETRY_TYPES:
        raise UserError(
            f"Zone feature {number}: geometry type {kind!r} is not supported (use {', '.join(_GEOMETRY_TYPES)})."
        )
    if not isinstance(coords, list) or not coords:
        raise UserError(f"Zone feature {number}: {kind} has no coordinates.")
    if kind == "LineString":
        return kind, _line(coords, number, "line")
    if kind == "MultiLineString":
        return kind, [_line(line, number, f"line {i + 1}") for i, line in enumerate(coords)]
    if kind == "Polygon":
        return kind, [
            _ring(r, number, "outer ring" if i == 0 else f"hole {i}", check_self_intersection) for i, r in enumerate(coords)
        ]
    polygons = []
    for pi, poly in enumerate(coords):
        if not isinstance(poly, list) or not poly:
            raise UserError(f"Zone feature {number}: polygon {pi + 1} has no rings.")
        polygons.append(
            [
                _ring(r, number, f"polygon {pi + 1} {'outer ring' if i == 0 else f'hole {i}'}", check_self_intersection)
                for i, r in enumerate(poly)
            ]
        )
    return kind, polygons


# ---------------------------------------------------------------- property mapping


def parse_days(text: str | None) -> frozenset[int]:
    """``M-F``, ``M-Sa``, ``M-Su``, ``Tues``, ``Mon,Wed`` ... to weekday numbers; empty/None = every day."""
    if text is None or not str(text).strip() or str(text).strip().lower() == "none":
        return ALL_DAYS
    days: set[int] = set()
    for part in re.split(r"[,/;&]|\band\b", str(text)):
        part = part.strip().lower()
        if not part:
            continue
        if "-" in part:
            a, _, b = part.partition("-")
            start, end = _DAY_ALIASES.get(a.strip()), _DAY_ALIASES.get(b.strip())
            if start is None or end is None:
                raise ValueError(f"unknown days {text!r}")
            d = start
            while True:
                days.add(d)
                if d == end:
                    break
                d = (d + 1) % 7
        else:
            day = _DAY_ALIASES.get(part)
            if day is None:
                raise ValueError(f"unknown day {part!r}")
            days.add(day)
    return frozenset(days)


def _hhmm(value: str) -> time:
    digits = value.strip()
    if ":" in digits:
        h, m = digits.split(":", 1)
        hour, minute = int(h), int(m)
    else:
        number = int(digits)
        hour, minute = (number // 100, number % 100) if len(digits) >= 3 else (number, 0)
    return time(hour % 24, minute)


def parse_hours(text: str | None) -> tuple[time | None, time | None]:
    """``800-1800`` / ``2400-600`` / ``08:00-18:00`` to (start, end); ``0-0``, ``-`` or None = all day."""
    if text is None:
        return None, None
    raw = str(text).strip()
    if raw in ("", "-", "0-0", "None"):
        return None, None
    a, _, b = raw.partition("-")
    start, end = _hhmm(a), _hhmm(b)
    if start == end:
        return None, None
    return start, end


def _sf_regulation(props: Mapping[str, Any], number: int) -> list[ZoneRegulation]:
    reg = (props.get("regulation") or "").strip().lower()
    if not reg or reg == "none":
        return []
    try:
        days = parse_days(props.get("days"))
        start, end = parse_hours(props.get("hours"))
    except ValueError as exc:
        raise UserError(f"Zone feature {number}: {exc}.") from None
    exceptions = props.get("exceptions")
    exemptions = () if not exceptions or str(exceptions).lower().startswith("none") else (str(exceptions),)
    area = props.get("rpparea1") or None
    description = str(props.get("regulation"))
    if reg == "time limited":
        hours = props.get("hrlimit")
        limit = int(float(hours) * 60) if hours not in (None, "", "None") else None
        return [ZoneRegulation(RegulationKind.TIME_LIMIT, days, start, end, limit, area, exemptions,
                               description=f"{hours or '?'}-hour limit" + (f", RPP area {area} exempt" if area else ""))]
    if reg == "government permit":
        return [ZoneRegulation(RegulationKind.PERMIT_ONLY, days, start, end, None, area or "GOVERNMENT", exemptions,
                               description=description)]
    if reg in ("no parking any time", "limited no parking", "no oversized vehicles"):
        return [ZoneRegulation(RegulationKind.NO_PARKING, days, start, end, None, None, exemptions, description=description)]
    raise UserError(f"Zone feature {number}: unknown regulation {props.get('regulation')!r}.")


def _sweeping_regulation(props: Mapping[str, Any], number: int) -> list[ZoneRegulation]:
    weekday = str(props.get("WeekDay") or "").strip()
    try:
        days = frozenset() if weekday.lower() == "holiday" else parse_days(weekday)
        start = time(int(props["FromHour"]) % 24, 0)
        end = time(int(props["ToHour"]) % 24, 0)
    except (ValueError, KeyError, TypeError) as exc:
        raise UserError(f"Zone feature {number}: street-sweeping day or hours unreadable ({exc}).") from None
    weeks = frozenset(i for i in range(1, 6) if str(props.get(f"Week{i}", "1")) == "1")
    side = props.get("BlockSide") or ""
    return [
        ZoneRegulation(
            RegulationKind.STREET_CLEANING, days, start, end, None, None, (), weeks,
            applies_on_holidays=str(props.get("Holidays", "0")) == "1",
            description=f"Street cleaning {weekday} {start:%H:%M}-{end:%H:%M}" + (f", {side} side" if side else ""),
        )
    ]


def _own_regulations(props: Mapping[str, Any], number: int) -> list[ZoneRegulation]:
    out = []
    for i, raw in enumerate(props.get("regulations") or []):
        if not isinstance(raw, Mapping):
            raise UserError(f"Zone feature {number}: regulation {i + 1} must be an object.")
        try:
            kind = RegulationKind(raw.get("kind"))
        except ValueError:
            allowed = ", ".join(k.value for k in RegulationKind)
            raise UserError(f"Zone feature {number}: regulation {i + 1} kind {raw.get('kind')!r}; use {allowed}.") from None
        try:
            days_raw = raw.get("days")
            days = parse_days(",".join(days_raw) if isinstance(days_raw, list) else days_raw)
            start = _hhmm(raw["start"]) if raw.get("start") else None
            end = _hhmm(raw["end"]) if raw.get("end") else None
        except (ValueError, TypeError) as exc:
            raise UserError(f"Zone feature {number}: regulation {i + 1}: {exc}.") from None
        limit = raw.get("limit_minutes")
        out.append(ZoneRegulation(
            kind, days, start, end, int(limit) if limit is not None else None, raw.get("permit_area"),
            tuple(raw.get("exemptions") or ()),
            weeks_of_month=frozenset(raw.get("weeks_of_month") or (1, 2, 3, 4, 5)),
            description=str(raw.get("description") or kind.value),
        ))
    return out


# ---------------------------------------------------------------- the stored (canonical) form

def regulation_to_dict(regulation: ZoneRegulation) -> dict[str, Any]:
    """The canonical JSON form stored in ``zones.regulations`` (the "own" GeoJSON layout, spelled out).

    ``days`` is always a list of weekday names (an empty list: never, e.g. holiday-only sweeping);
    ``start``/``end`` are ``HH:MM`` or None for all day.
    """
    return {
        "kind": regulation.kind.value,
        "days": [WEEKDAYS[d] for d in sorted(regulation.days)],
        "start": f"{regulation.start:%H:%M}" if regulation.start is not None else None,
        "end": f"{regulation.end:%H:%M}" if regulation.end is not None else None,
        "limit_minutes": regulation.limit_minutes,
        "permit_area": regulation.permit_area,
        "exemptions": list(regulation.exemptions),
        "weeks_of_month": sorted(regulation.weeks_of_month),
        "applies_on_holidays": regulation.applies_on_holidays,
        "description": regulation.description,
    }


def regulation_from_dict(raw: Mapping[str, Any]) -> ZoneRegulation:
    """Read a stored regulation: the canonical form, or the shorter form with only kind/days/start/end/
    limit_minutes/permit_area (days as a list, ``"M-F"`` text, or missing for every day).

    Raises ``ValueError`` with the reason when it cannot be read.
    """
    kind = RegulationKind(raw.get("kind"))
    days_raw = raw.get("days")
    if isinstance(days_raw, (list, tuple)):
        days: frozenset[int] = frozenset()
        for name in days_raw:
            days |= parse_days(str(name))
    else:
        days = parse_days(days_raw)
    start = _hhmm(str(raw["start"])) if raw.get("start") not in (None, "") else None
    end = _hhmm(str(raw["end"])) if raw.get("end") not in (None, "") else None
    if (start is None) != (end is None):
        raise ValueError("a regulation needs both a start and an end time, or neither")
    limit = raw.get("limit_minutes")
    weeks = raw.get("weeks_of_month")
    return ZoneRegulation(
        kind, days, start, end, int(limit) if limit not in (None, "") else None,
        str(raw["permit_area"]) if raw.get("permit_area") else None,
        tuple(str(e) for e in raw.get("exemptions") or ()),
        weeks_of_month=frozenset(int(w) for w in weeks) if weeks else frozenset({1, 2, 3, 4, 5}),
        applies_on_holidays=bool(raw.get("applies_on_holidays", True)),
        description=str(raw.get("description") or kind.value.replace("_", " ")),
    )


def parse_zones(
    collection: Mapping[str, Any], code_prefix: str = "Z-SF", check_self_intersection: bool = True
) -> list[Zone]:
    """All zones of a GeoJSON FeatureCollection; ``UserError`` with the feature number if one is broken.

    Features without their own ``code`` get ``<code_prefix>-<feature number>``
    (street sweeping: ``<code_prefix>-SWEEP-<n>``).
    """
    if not isinstance(collection, Mapping) or collection.get("type") != "FeatureCollection":
        raise UserError("The zones file is not a GeoJSON FeatureCollection.")
    features = collection.get("features")
    if not isinstance(features, list):
        raise UserError("The zones file has no 'features' list.")
    zones: list[Zone] = []
    seen: set[str] = set()
    for index, feature in enumerate(features):
        number = index + 1
        if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
            raise UserError(f"Zone feature {number}: is not a GeoJSON Feature.")
        props = feature.get("properties") or {}
        kind, coords = validate_geometry(feature.get("geometry"), number, check_self_intersection)
        if "WeekDay" in props and "FromHour" in props:
            regulations = _sweeping_regulation(props, number)
            code = str(props.get("code") or f"{code_prefix}-SWEEP-{number}")
            name = f"{props.get('Corridor', '')} ({props.get('Limits', '')})".strip()
        elif "regulation" in props:
            regulations = _sf_regulation(props, number)
            code = str(props.get("code") or f"{code_prefix}-{number}")
            name = f"{props.get('analysis_neighborhood') or ''} {props.get('regulation') or ''}".strip()
        else:
            regulations = _own_regulations(props, number)
            code = str(props.get("code") or props.get("id") or f"{code_prefix}-{number}")
            name = str(props.get("name") or code)
        if code in seen:
            raise UserError(f"Zone feature {number}: zone code {code} repeats.")
        seen.add(code)
        zones.append(Zone(code, name, kind, coords, tuple(regulations), geo.geometry_bounding_box(coords), dict(props)))
    return zones


def zones_near(zones: Iterable[Zone], lat: float, lon: float, within_m: float = 15.0) -> list[tuple[Zone, float]]:
    """Zones within ``within_m`` metres of a point, nearest first."""
    out = []
    for zone in zones:
        if not zone.bbox.expanded(within_m).contains(lon, lat):
            continue
        d = zone.distance_m(lat, lon)
        if d <= within_m:
            out.append((zone, d))
    return sorted(out, key=lambda pair: pair[1])


# ---------------------------------------------------------------- violation kinds and support


class ViolationKind(str, Enum):
    STREET_CLEANING = "street_cleaning"
    METER_EXPIRED = "meter_expired"
    OVERTIME = "overtime"
    PERMIT_ONLY = "permit_only"
    NO_PARKING = "no_parking"
    NO_STANDING = "no_standing"
    OTHER = "other"


def load_violation_kinds(path: Path | None = None) -> dict[tuple[str, str], ViolationKind]:
    """(jurisdiction, violation code) -> kind, from ``resources/reference/violation_kinds.csv``."""
    source = path or REFERENCE_DIR / "violation_kinds.csv"
    table: dict[tuple[str, str], ViolationKind] = {}
    with source.open(encoding="utf-8", newline="") as fh:
        rows = (line for line in fh if not line.startswith("#"))
        for row in csv.DictReader(rows):
            table[(row["jurisdiction"].strip().upper(), row["violation_code"].strip().upper())] = ViolationKind(
                row["violation_kind"].strip()
            )
    return table


_KINDS: dict[tuple[str, str], ViolationKind] | None = None


def violation_kind_for(jurisdiction: str, violation_code: str) -> ViolationKind:
    """The kind of a violation code (``OTHER`` when zone rules cannot confirm it)."""
    global _KINDS
    if _KINDS is None:
        _KINDS = load_violation_kinds()
    return _KINDS.get((jurisdiction.strip().upper(), violation_code.strip().upper()), ViolationKind.OTHER)


@dataclass(frozen=True)
class ChalkObservations:
    """What the officer saw: first sighting (chalk/tyre photo) and the sighting when citing."""

    first_seen: datetime | None = None
    last_seen: datetime | None = None
    permit_displayed: str | None = None
    """Permit area shown on the vehicle, if any."""


def regulation_supports(
    violation_kind: ViolationKind | str,
    zone_regulations: Sequence[ZoneRegulation],
    at_local_time: datetime,
    observations: ChalkObservations | None = None,
) -> tuple[bool, str]:
    """Whether the zone's posted rules support this violation at that local time, with a one-line reason."""
    kind = ViolationKind(violation_kind)
    obs = observations or ChalkObservations()
    when = f"{WEEKDAYS[at_local_time.weekday()]} {at_local_time:%H:%M}"

    def of(reg_kind: RegulationKind) -> list[ZoneRegulation]:
        return [r for r in zone_regulations if r.kind is reg_kind]

    if kind is ViolationKind.OTHER:
        return True, "No zone rule to check for this violation."
    if kind is ViolationKind.STREET_CLEANING:
        rules = of(RegulationKind.STREET_CLEANING)
        if not rules:
            return False, "The zone has no street-cleaning schedule."
        active = [r for r in rules if r.in_force(at_local_time)]
        if active:
            return True, f"{active[0].description} in force at {when}."
        return False, f"Outside the street-cleaning window ({'; '.join(r.hours_text() for r in rules)}) at {when}."
    if kind is ViolationKind.METER_EXPIRED:
        rules = of(RegulationKind.METERED)
        if not rules:
            return False, "The zone has no meters."
        if any(r.in_force(at_local_time) for r in rules):
            return True, f"Meters in force at {when}."
        return False, f"Meters not in force at {when} ({'; '.join(r.hours_text() for r in rules)})."
    if kind is ViolationKind.PERMIT_ONLY:
        rules = of(RegulationKind.PERMIT_ONLY)
        if not rules:
            return False, "The zone is not permit-only."
        active = [r for r in rules if r.in_force(at_local_time)]
        if not active:
            return False, f"Outside permit-only hours ({'; '.join(r.hours_text() for r in rules)}) at {when}."
        if obs.permit_displayed and any(r.permit_area == obs.permit_displayed for r in active):
            return False, f"The vehicle displayed a permit for area {obs.permit_displayed}."
        return True, f"Permit-only ({active[0].permit_area or 'permit'}) in force at {when}."
    if kind in (ViolationKind.NO_PARKING, ViolationKind.NO_STANDING):
        rules = of(RegulationKind.NO_PARKING)
        if not rules:
            return False, "The zone has no no-parking rule."
        active = [r for r in rules if r.in_force(at_local_time)]
        if active:
            return True, f"{active[0].description} in force at {when}."
        return False, f"No-parking not in force at {when} ({'; '.join(r.hours_text() for r in rules)})."
    # Overtime against a posted time limit.
    rules = [r for r in of(RegulationKind.TIME_LIMIT) + of(RegulationKind.METERED) if r.limit_minutes]
    if not rules:
        return False, "The zone has no posted time limit."
    active = [r for r in rules if r.in_force(at_local_time)]
    if not active:
        return False, f"The time limit is not in force at {when} ({'; '.join(r.hours_text() for r in rules)})."
    rule = active[0]
    assert rule.limit_minutes is not None
    if obs.permit_displayed and rule.permit_area and obs.permit_displayed == rule.permit_area:
        return False, f"Area {rule.permit_area} permit holders are exempt from the time limit."
    if obs.first_seen is None:
        return True, f"{rule.limit_minutes}-minute limit in force; no first sighting recorded to time it."
    last = obs.last_seen or at_local_time
    # Minutes before the limit took effect that day do not count.
    counted_from = max(obs.first_seen, rule.window_start(last))
    parked = (last - counted_from).total_seconds() / 60
    if parked <= rule.limit_minutes:
        return False, (
            f"Limit not exceeded: {parked:.0f} min counted from {counted_from:%H:%M} to {last:%H:%M} "
            f"in a {rule.limit_minutes}-minute zone."
        )
    return True, f"Parked {parked:.0f} min (from {counted_from:%H:%M}) in a {rule.limit_minutes}-minute zone."
