"""Enforcement zones and their parking regulations, and whether a rule supports a citation.

(Over 600 lines, knowingly: the GeoJSON reading, its validation and the zone lookup share the geometry
types.)

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
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

import numpy
import shapely

from desktop.domain import geo
from desktop.domain.errors import UserError
from desktop.domain.imports import MAX_LINE_CHARS, cut, quoted

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

#: turns a file's (x, y) into WGS84 (longitude, latitude); ``ValueError`` with the reason if it cannot
Project = Callable[[float, float], tuple[float, float]]

#: the sphere of Web Mercator (EPSG:3857), metres
_MERCATOR_R = 6378137.0
_MERCATOR_MAX = math.pi * _MERCATOR_R  # 20 037 508.34 m: longitude ±180°, latitude ±85.05°


def web_mercator_to_wgs84(x: float, y: float) -> tuple[float, float]:
    """EPSG:3857 metres to (longitude, latitude) degrees: the spherical Mercator inverse
    (lon = x/R, lat = 2·atan(e^(y/R)) − π/2, R = 6 378 137 m)."""
    if abs(x) > _MERCATOR_MAX * 1.000001 or abs(y) > _MERCATOR_MAX * 1.000001:
        raise ValueError(f"is outside the Web Mercator (EPSG:3857) extent (x {x:.0f}, y {y:.0f} metres)")
    return math.degrees(x / _MERCATOR_R), math.degrees(2 * math.atan(math.exp(y / _MERCATOR_R)) - math.pi / 2)


_WEB_MERCATOR_CODES = {"3857", "900913", "3785", "102100", "102113"}
_EPSG_CODE = re.compile(r"(?:epsg(?::[\d.]*)?:+|/epsg/[\d.]+/)(\d+)$")


def crs_projection(collection: Mapping[str, Any]) -> Project | None:
    """How to read the coordinates of a FeatureCollection by its declared ``crs`` (GeoJSON 2008).

    None: WGS84 longitude/latitude, read as they are (no ``crs``, CRS84 or EPSG:4326; RFC 7946 GeoJSON
    is always longitude first, so EPSG:4326 is read longitude first too). Web Mercator (EPSG:3857 and
    its old aliases 900913, 3785, 102100, 102113): converted with the spherical Mercator inverse.
    Anything else is refused with the reason, rather than read as degrees and put in the wrong place.
    """
    crs = collection.get("crs")
    if crs is None:
        return None
    name: str | None = None
    if isinstance(crs, Mapping) and isinstance(crs.get("properties"), Mapping):
        props = crs["properties"]
        if crs.get("type") == "name" and isinstance(props.get("name"), str):
            name = props["name"]
        elif crs.get("type") == "EPSG" and isinstance(props.get("code"), (int, str)) \
                and not isinstance(props.get("code"), bool):
            name = f"EPSG:{props['code']}"
    if name is None:
        raise UserError("The zones file's 'crs' is not readable: write it as {\"type\": \"name\", \"properties\": "
                        "{\"name\": \"EPSG:4326\"}}, or leave it out for WGS84 longitude/latitude.")
    key = name.strip().lower()
    if key.endswith("crs84") or key.endswith("crs:84"):
        return None
    match = _EPSG_CODE.search(key)
    code = match.group(1) if match else None
    if code == "4326":
        return None
    if code in _WEB_MERCATOR_CODES:
        return web_mercator_to_wgs84
    raise UserError(f"The zones file's coordinate system {quoted(name, 40)} cannot be read: use WGS84 (EPSG:4326, "
                    "CRS84) or Web Mercator (EPSG:3857); export it again, e.g. ogr2ogr -t_srs EPSG:4326.")


def _finite(value: float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


def _position(value: Any, label: str, where: str, project: Project | None = None) -> tuple[float, float]:
    if not isinstance(value, (list, tuple)) or len(value) < 2:
        raise UserError(f"{label} {where} is not a [longitude, latitude] position.")
    x, y = value[0], value[1]
    for v in (x, y):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not _finite(v):
            raise UserError(f"{label} {where} has a non-numeric coordinate {quoted(v, 30)}.")
    if project is not None:
        try:
            x, y = project(float(x), float(y))
        except ValueError as exc:
            raise UserError(f"{label} {where} {exc}.") from None
    lon, lat = x, y
    if not -180 <= lon <= 180 or not -90 <= lat <= 90:
        raise UserError(
            f"{label} {where} is out of range (longitude {lon}, latitude {lat}); "
            "coordinates must be WGS84 degrees, longitude first (or declare their 'crs')."
        )
    return float(lon), float(lat)


_PLAIN_NUMBERS = (int, float)
_LAT = operator.itemgetter(1)


def _fast_positions(value: list[Any]) -> tuple[list[tuple[float, float]], Any] | None:
    """The positions of a ring or line when every one is plain, finite and in range (checked in bulk);
    None otherwise, and the position-by-position path then names the first bad one."""
    try:
        if not all(type(p) is list and len(p) >= 2 and type(p[0]) in _PLAIN_NUMBERS
                   and type(p[1]) in _PLAIN_NUMBERS for p in value):
            return None
        xy = numpy.array([(p[0], p[1]) for p in value], dtype=float)
    except (OverflowError, ValueError, TypeError):
        return None
    if not (numpy.isfinite(xy).all() and (numpy.abs(xy[:, 0]) <= 180).all() and (numpy.abs(xy[:, 1]) <= 90).all()):
        return None
    return list(zip(xy[:, 0].tolist(), xy[:, 1].tolist(), strict=True)), xy


#: the numpy array of a ring just read (by the id of its list of positions), for the GEOS check
_Arrays = dict[int, Any]


def _positions(value: list[Any], label: str, where: str, project: Project | None,
               arrays: _Arrays | None = None) -> list[tuple[float, float]]:
    fast = _fast_positions(value) if project is None else None
    if fast is not None:
        if arrays is not None:
            arrays[id(fast[0])] = fast[1]
        return fast[0]
    return [_position(p, label, f"{where} position {i + 1}", project) for i, p in enumerate(value)]


def _line(value: Any, label: str, where: str, project: Project | None) -> list[tuple[float, float]]:
    if not isinstance(value, list) or len(value) < 2:
        raise UserError(f"{label} {where} needs at least 2 positions.")
    return _positions(value, label, where, project)


def _ring(value: Any, label: str, where: str, project: Project | None,
          arrays: _Arrays | None = None) -> list[tuple[float, float]]:
    if not isinstance(value, list) or len(value) < 4:
        count = len(value) if isinstance(value, list) else 0
        raise UserError(f"{label} {where} has {count} positions; a ring needs at least 4.")
    ring = _positions(value, label, where, project, arrays)
    if ring[0] != ring[-1]:
        raise UserError(f"{label} {where} is not closed (its last position must repeat the first).")
    return ring


def _ring_name(prefix: str, i: int) -> str:
    return f"{prefix}{'outer ring' if i == 0 else f'hole {i}'}"


def _check_polygon(rings: list[list[tuple[float, float]]], label: str, prefix: str, arrays: _Arrays) -> None:
    """Refuse a polygon that is not valid (OGC simple features), naming the ring and the place.

    GEOS (through shapely) does it in about n·log n: it indexes the edges instead of comparing every
    pair, so a ring of any size is checked (the old pairwise check was quadratic and skipped rings
    above 500 positions).
    """
    shell, *holes = [shapely.linearrings(arrays.get(id(r), r)) for r in rings]
    polygon = shapely.polygons(shell, holes=holes or None)
    reason = shapely.is_valid_reason(polygon)
    if reason == "Valid Geometry":
        return
    place = ""
    found = re.search(r"\[(-?[\d.eE+-]+) (-?[\d.eE+-]+)", reason or "")
    if found:
        place = f" near longitude {float(found.group(1)):.6f}, latitude {float(found.group(2)):.6f}"
    text = (reason or "").lower()
    if "self-intersection" in text:
        for i, ring in enumerate(rings):
            if not shapely.LinearRing(ring).is_simple:
                raise UserError(f"{label} {_ring_name(prefix, i)} crosses itself{place}.")
        raise UserError(f"{label} {prefix}rings cross each other{place}: a hole must lie inside the outer ring "
                        "without touching another hole along an edge.")
    if "hole lies outside shell" in text:
        shell = shapely.Polygon(rings[0])
        for i, hole in enumerate(rings[1:], start=1):
            if not shell.covers(shapely.LinearRing(hole)):
                raise UserError(f"{label} {_ring_name(prefix, i)} lies outside the outer ring{place}.")
        raise UserError(f"{label} {prefix}has a hole outside the outer ring{place}.")
    if "nested holes" in text:
        raise UserError(f"{label} {prefix}has a hole inside another hole{place}.")
    if "too few points" in text:
        raise UserError(f"{label} {prefix}has a ring with fewer than 3 different positions{place}.")
    if "disconnected" in text:
        raise UserError(f"{label} {prefix}holes cut the area in pieces{place}; make each piece its own polygon.")
    raise UserError(f"{label} {prefix}is not a valid polygon ({cut(reason, 80)}).")


def validate_geometry(geometry: Any, number: int | str, check_self_intersection: bool = True,
                      project: Project | None = None) -> tuple[str, Any]:
    """The geometry's type and its coordinates as float tuples; ``UserError`` naming the feature if broken.

    ``number``: the feature's number (1-based), or the label its errors start with. ``project``: how to
    turn the file's coordinates into WGS84 (``crs_projection``). Polygons are checked with GEOS: rings
    that cross themselves or each other, holes outside their ring, rings that are not closed or have too
    few points.
    """
    label = number if isinstance(number, str) else f"Zone feature {number}:"
    if not isinstance(geometry, Mapping):
        raise UserError(f"{label} has no geometry.")
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if kind not in _GEOMETRY_TYPES:
        raise UserError(
            f"{label} geometry type {quoted(kind, 30)} is not supported (use {', '.join(_GEOMETRY_TYPES)})."
        )
    if not isinstance(coords, list) or not coords:
        raise UserError(f"{label} {kind} has no coordinates.")
    if kind == "LineString":
        return kind, _line(coords, label, "line", project)
    if kind == "MultiLineString":
        return kind, [_line(line, label, f"line {i + 1}", project) for i, line in enumerate(coords)]
    if kind == "Polygon":
        arrays: _Arrays = {}
        rings = [_ring(r, label, _ring_name("", i), project, arrays) for i, r in enumerate(coords)]
        if check_self_intersection:
            _check_polygon(rings, label, "", arrays)
        return kind, rings
    polygons = []
    for pi, poly in enumerate(coords):
        if not isinstance(poly, list) or not poly:
            raise UserError(f"{label} polygon {pi + 1} has no rings.")
        prefix = f"polygon {pi + 1} "
        arrays = {}
        rings = [_ring(r, label, _ring_name(prefix, i), project, arrays) for i, r in enumerate(poly)]
        if check_self_intersection:
            _check_polygon(rings, label, prefix, arrays)
        polygons.append(rings)
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


# ---------------------------------------------------------------- reading properties, each checked


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return "null" if value is None else type(value).__name__


def _text(props: Mapping[str, Any], key: str, label: str, limit: int = 200) -> str | None:
    """A text property (a number is taken as its text); None when absent or null."""
    value = props.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise UserError(f"{label} property '{key}' must be text, not {_type_name(value)}.")
    text = str(value)
    if len(text) > limit:
        raise UserError(f"{label} property '{key}' is longer than {limit} characters.")
    return text


def _whole(value: Any, label: str, key: str, low: int, high: int) -> int | None:
    """A whole number property (a number or numeric text, e.g. ``"8"``) within [low, high]; None if empty."""
    if value is None or value == "" or value == "None":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise UserError(f"{label} property '{key}' must be a number, not {_type_name(value)}.")
    number = float("nan")
    if not isinstance(value, str):
        number = float(value)
    elif len(value) <= 30 and _is_number(value):
        number = float(value)
    if not math.isfinite(number):
        raise UserError(f"{label} property '{key}' must be a number, not {quoted(value, 30)}.")
    if not low <= number <= high:
        raise UserError(f"{label} property '{key}' is {number:g}; it must be between {low} and {high}.")
    return int(number)


def _text_list(value: Any, label: str, key: str, limit: int = 200) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise UserError(f"{label} {key} must be a list of text, not {_type_name(value)}.")
    out = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise UserError(f"{label} {key} must hold only text, not {_type_name(item)}.")
        if len(str(item)) > limit:
            raise UserError(f"{label} {key} holds an item longer than {limit} characters.")
        out.append(str(item))
    return out


def _sf_regulation(props: Mapping[str, Any], label: str) -> list[ZoneRegulation]:
    reg = (_text(props, "regulation", label) or "").strip().lower()
    if not reg or reg == "none":
        return []
    try:
        days = parse_days(_text(props, "days", label))
        start, end = parse_hours(_text(props, "hours", label, limit=40))
    except ValueError as exc:
        raise UserError(f"{label} {cut(exc, 120)}.") from None
    exceptions = _text(props, "exceptions", label, limit=500)
    exemptions = () if not exceptions or exceptions.lower().startswith("none") else (exceptions,)
    area = _text(props, "rpparea1", label, limit=64) or None
    description = str(props.get("regulation"))
    if reg == "time limited":
        hours = _text(props, "hrlimit", label, limit=30)
        minutes = _whole(float(hours) * 60 if hours and _is_number(hours) else hours, label, "hrlimit",
                         1, 7 * 24 * 60)
        return [ZoneRegulation(RegulationKind.TIME_LIMIT, days, start, end, minutes, area, exemptions,
                               description=f"{hours or '?'}-hour limit" + (f", RPP area {area} exempt" if area else ""))]
    if reg == "government permit":
        return [ZoneRegulation(RegulationKind.PERMIT_ONLY, days, start, end, None, area or "GOVERNMENT", exemptions,
                               description=description)]
    if reg in ("no parking any time", "limited no parking", "no oversized vehicles"):
        return [ZoneRegulation(RegulationKind.NO_PARKING, days, start, end, None, None, exemptions, description=description)]
    raise UserError(f"{label} unknown regulation {quoted(props.get('regulation'))}.")


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _sweeping_regulation(props: Mapping[str, Any], label: str) -> list[ZoneRegulation]:
    weekday = (_text(props, "WeekDay", label, limit=40) or "").strip()
    try:
        days = frozenset() if weekday.lower() == "holiday" else parse_days(weekday)
    except ValueError as exc:
        raise UserError(f"{label} street-sweeping day unreadable ({cut(exc, 80)}).") from None
    start_hour = _whole(props.get("FromHour"), label, "FromHour", 0, 24)
    end_hour = _whole(props.get("ToHour"), label, "ToHour", 0, 24)
    if start_hour is None or end_hour is None:
        raise UserError(f"{label} street-sweeping hours unreadable (FromHour and ToHour are needed).")
    start, end = time(start_hour % 24, 0), time(end_hour % 24, 0)
    weeks = frozenset(i for i in range(1, 6)
                      if f"Week{i}" not in props or _text(props, f"Week{i}", label, limit=10) == "1")
    side = _text(props, "BlockSide", label, limit=40) or ""
    return [
        ZoneRegulation(
            RegulationKind.STREET_CLEANING, days, start, end, None, None, (), weeks,
            applies_on_holidays=(_text(props, "Holidays", label, limit=10) or "0") == "1",
            description=f"Street cleaning {weekday} {start:%H:%M}-{end:%H:%M}" + (f", {side} side" if side else ""),
        )
    ]


def _own_regulations(props: Mapping[str, Any], label: str) -> list[ZoneRegulation]:
    raw_list = props.get("regulations")
    if raw_list is None:
        return []
    if not isinstance(raw_list, list):
        raise UserError(f"{label} property 'regulations' must be a list, not {_type_name(raw_list)}.")
    out = []
    for i, raw in enumerate(raw_list):
        where = f"{label} regulation {i + 1}"
        if not isinstance(raw, Mapping):
            raise UserError(f"{where} must be an object.")
        kind_raw = raw.get("kind")
        if kind_raw is not None and not isinstance(kind_raw, str):
            raise UserError(f"{where} property 'kind' must be text, not {_type_name(kind_raw)}.")
        try:
            kind = RegulationKind(kind_raw) if isinstance(kind_raw, str) else None
        except ValueError:
            kind = None
        if kind is None:
            allowed = ", ".join(k.value for k in RegulationKind)
            raise UserError(f"{label} regulation {i + 1} kind {quoted(kind_raw, 30)}; use {allowed}.")
        days_raw = raw.get("days")
        try:
            if isinstance(days_raw, list):
                days = parse_days(",".join(_text_list(days_raw, where, "days", limit=20)) or None)
            else:
                days = parse_days(_text(raw, "days", where, limit=60))
            start_text = _text(raw, "start", where, limit=10)
            end_text = _text(raw, "end", where, limit=10)
            start = _hhmm(start_text) if start_text else None
            end = _hhmm(end_text) if end_text else None
        except ValueError as exc:
            raise UserError(f"{where}: {cut(exc, 120)}.") from None
        weeks_raw = raw.get("weeks_of_month")
        if weeks_raw is not None and not isinstance(weeks_raw, list):
            raise UserError(f"{where} property 'weeks_of_month' must be a list, not {_type_name(weeks_raw)}.")
        weeks = [_whole(w, where, "weeks_of_month", 1, 5) for w in weeks_raw or ()]
        out.append(ZoneRegulation(
            kind, days, start, end, _whole(raw.get("limit_minutes"), where, "limit_minutes", 1, 7 * 24 * 60),
            _text(raw, "permit_area", where, limit=64),
            tuple(_text_list(raw.get("exemptions"), where, "exemptions")),
            weeks_of_month=frozenset(w for w in weeks if w is not None) or frozenset((1, 2, 3, 4, 5)),
            description=_text(raw, "description", where, limit=200) or kind.value,
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


def _feature_id(feature: Mapping[str, Any], props: Mapping[str, Any]) -> str | None:
    """The feature's id as the file gives it (the feature's ``id``, else its ``code`` or ``id`` property)."""
    ident = feature.get("id")
    if ident is None:
        ident = props.get("code") if props.get("code") is not None else props.get("id")
    if ident is None or isinstance(ident, (Mapping, list)):
        return None
    return str(ident)


def _naming_id(error: UserError, ident: str | None) -> UserError:
    """The error with the feature's id at its end, the whole line cut to a readable length."""
    if ident is None:
        return UserError(cut(str(error)))
    suffix = f" (feature id {quoted(ident, 40)})"
    return UserError(cut(str(error), MAX_LINE_CHARS - len(suffix)) + suffix)


def parse_zones(
    collection: Mapping[str, Any], code_prefix: str = "Z-SF", check_self_intersection: bool = True
) -> list[Zone]:
    """All zones of a GeoJSON FeatureCollection; ``UserError`` with the feature number if one is broken.

    Features without their own ``code`` get ``<code_prefix>-<feature number>``
    (street sweeping: ``<code_prefix>-SWEEP-<n>``). Every property read is checked for its type and
    range, and an error names the feature (number and id) and the property. A declared ``crs`` is
    honoured (``crs_projection``).
    """
    if not isinstance(collection, Mapping) or collection.get("type") != "FeatureCollection":
        raise UserError("The zones file is not a GeoJSON FeatureCollection.")
    features = collection.get("features")
    if not isinstance(features, list):
        raise UserError("The zones file has no 'features' list.")
    project = crs_projection(collection)
    zones: list[Zone] = []
    seen: set[str] = set()
    for index, feature in enumerate(features):
        number = index + 1
        if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
            raise UserError(f"Zone feature {number}: is not a GeoJSON Feature.")
        props = feature.get("properties")
        if props is None:
            props = {}
        if not isinstance(props, Mapping):
            raise UserError(f"Zone feature {number}: 'properties' must be an object, not {_type_name(props)}.")
        try:
            zones.append(_parse_feature(feature, props, number, code_prefix, seen, check_self_intersection, project))
        except UserError as exc:
            raise _naming_id(exc, _feature_id(feature, props)) from None
    return zones


def _parse_feature(feature: Mapping[str, Any], props: Mapping[str, Any], number: int, code_prefix: str,
                   seen: set[str], check_self_intersection: bool, project: Project | None) -> Zone:
    label = f"Zone feature {number}:"
    kind, coords = validate_geometry(feature.get("geometry"), label, check_self_intersection, project)
    if "WeekDay" in props and "FromHour" in props:
        regulations = _sweeping_regulation(props, label)
        code = _text(props, "code", label, limit=64) or f"{code_prefix}-SWEEP-{number}"
        name = f"{_text(props, 'Corridor', label) or ''} ({_text(props, 'Limits', label) or ''})".strip()
    elif "regulation" in props:
        regulations = _sf_regulation(props, label)
        code = _text(props, "code", label, limit=64) or f"{code_prefix}-{number}"
        name = f"{_text(props, 'analysis_neighborhood', label) or ''} {props.get('regulation') or ''}".strip()
    else:
        regulations = _own_regulations(props, label)
        code = _text(props, "code", label, limit=64) or _text(props, "id", label, limit=64) \
            or f"{code_prefix}-{number}"
        name = _text(props, "name", label) or code
    if code in seen:
        raise UserError(f"{label} zone code {quoted(code, 64)} repeats.")
    seen.add(code)
    return Zone(code, name, kind, coords, tuple(regulations), _bounding_box(kind, coords), dict(props))


def _bounding_box(kind: str, coords: Any) -> geo.BoundingBox:
    """``geo.geometry_bounding_box`` for validated coordinates, a sequence of positions at a time."""
    if kind == "LineString":
        sequences = [coords]
    elif kind == "Polygon":
        sequences = coords[:1]  # the outer ring holds the holes
    elif kind == "MultiPolygon":
        sequences = [polygon[0] for polygon in coords]
    else:
        sequences = coords
    lons = [v for seq in sequences for v in (min(seq)[0], max(seq)[0])]  # tuples compare by longitude first
    lats = [v for seq in sequences for v in (min(seq, key=_LAT)[1], max(seq, key=_LAT)[1])]
    return geo.BoundingBox(min(lons), min(lats), max(lons), max(lats))


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
