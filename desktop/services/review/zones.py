"""Zones as data: finding the zones (and so the posted rules) that apply at a citation's location.
Importing them from GeoJSON is ``desktop.services.review.zone_imports``.

Stored form: ``zones.geometry`` is a GeoJSON geometry object; ``zones.regulations`` is a list of
regulations in the canonical form of ``desktop.domain.zones.regulation_to_dict`` (the demo's
shorter form, without exemptions/weeks/description, reads the same way). Every workstation keeps
the parsed zones in memory and reloads them when ``zones.revision`` or the zone count changes.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desktop.domain import geo, zones
from desktop.domain.roles import Permission
from desktop.persistence.models import Zone
from desktop.services.core import settings
from desktop.services.core.context import Actor, AppContext

log = logging.getLogger(__name__)

AREA_TYPES = ("Polygon", "MultiPolygon")


@dataclass(frozen=True)
class StoredZone:
    """A zone as the checks and the map use it: the domain zone plus where it came from."""

    zone: zones.Zone
    source: str

    @property
    def code(self) -> str:
        return self.zone.code

    @property
    def is_area(self) -> bool:
        return self.zone.geometry_type in AREA_TYPES

    @property
    def geometry(self) -> dict[str, Any]:
        return {"type": self.zone.geometry_type, "coordinates": self.zone.coordinates}


GRID_DEGREES = 0.005
"""Cell size of the spatial grid (about 550 m north-south): a point only looks at zones in nearby cells."""


def _cell(lon: float, lat: float) -> tuple[int, int]:
    return int(lon // GRID_DEGREES), int(lat // GRID_DEGREES)


@dataclass
class ZoneIndex:
    """Every zone of one database, parsed once, with a coarse grid to find the zones near a point."""

    stamp: tuple[int, int]
    by_code: dict[str, StoredZone] = field(default_factory=dict)
    areas: list[StoredZone] = field(default_factory=list)
    streets: list[StoredZone] = field(default_factory=list)
    grid: dict[tuple[int, int], list[StoredZone]] = field(default_factory=dict)

    def add(self, sz: StoredZone) -> None:
        self.by_code[sz.code] = sz
        (self.areas if sz.is_area else self.streets).append(sz)
        box = sz.zone.bbox
        x0, y0 = _cell(box.min_lon, box.min_lat)
        x1, y1 = _cell(box.max_lon, box.max_lat)
        if (x1 - x0 + 1) * (y1 - y0 + 1) > 10_000:  # a huge zone: always a candidate
            self.grid.setdefault((-1 << 30, -1 << 30), []).append(sz)
            return
        for x in range(x0, x1 + 1):
            for y in range(y0, y1 + 1):
                self.grid.setdefault((x, y), []).append(sz)

    def near(self, lat: float, lon: float, within_m: float) -> list[StoredZone]:
        """Zones whose bounding box, grown by ``within_m``, holds the point."""
        reach = max(1, int(within_m / 500) + 1)
        cx, cy = _cell(lon, lat)
        seen: set[str] = set()
        out = []
        cells = [(x, y) for x in range(cx - reach, cx + reach + 1) for y in range(cy - reach, cy + reach + 1)]
        for key in [*cells, (-1 << 30, -1 << 30)]:
            for sz in self.grid.get(key, ()):
                if sz.code in seen:
                    continue
                seen.add(sz.code)
                if sz.zone.bbox.expanded(within_m).contains(lon, lat):
                    out.append(sz)
        return out


@dataclass(frozen=True)
class ZoneMatch:
    """The zones that apply at one location: its area zone and the nearest street segment per source."""

    area: StoredZone | None
    streets: tuple[tuple[StoredZone, float], ...] = ()
    declared: str | None = None
    """the zone code the handheld recorded (which may not be a known zone)"""

    @property
    def code(self) -> str | None:
        """The one zone every check and every line of text uses: the area zone found, else what the
        handheld recorded."""
        return self.area.code if self.area is not None else self.declared

    @property
    def note(self) -> str:
        """Why the zone is what it is, where the handheld's code and the zones on file disagree ("" if not)."""
        if self.area is not None:
            if self.declared and self.declared != self.area.code:
                return (f"the handheld's zone {self.declared} is not a known zone; the location lies in "
                        f"{self.area.code}, whose rules are checked")
            return ""
        if self.declared:
            return (f"the handheld's zone {self.declared} is not a known zone, and no known zone holds the "
                    f"location: no zone rules to check")
        return "no zone known here"

    @property
    def regulations(self) -> tuple[zones.ZoneRegulation, ...]:
        regs: list[zones.ZoneRegulation] = list(self.area.zone.regulations) if self.area else []
        for street, _distance in self.streets:
            regs.extend(street.zone.regulations)
        return tuple(regs)

    @property
    def codes(self) -> list[str]:
        return ([self.area.code] if self.area else []) + [s.code for s, _ in self.streets]


_CACHE: dict[str, ZoneIndex] = {}
_LOCK = threading.Lock()


def _stamp(session: Session) -> tuple[int, int]:
    revision = int(settings.get(session, "zones.revision") or 0)
    count = int(session.scalar(select(func.count()).select_from(Zone)) or 0)
    return revision, count


def stored_zone(row: Zone) -> StoredZone | None:
    """A stored zone row as a domain zone; None (and a log line) when its geometry is unusable."""
    geometry = row.geometry or {}
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if kind not in ("Polygon", "MultiPolygon", "LineString", "MultiLineString") or not coords:
        return None
    try:
        bbox = geo.geometry_bounding_box(coords)
    except (ValueError, TypeError, IndexError):
        log.warning("zone %s: unusable geometry, skipped", row.code)
        return None
    regs = []
    for i, raw in enumerate(row.regulations or []):
        try:
            regs.append(zones.regulation_from_dict(raw))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            log.warning("zone %s: regulation %d unreadable (%s), skipped", row.code, i + 1, exc)
    zone = zones.Zone(row.code, row.name, kind, coords, tuple(regs), bbox, {})
    return StoredZone(zone, row.source or "")


def zone_index(session: Session) -> ZoneIndex:
    """The parsed zones of this session's database, from the cache while nothing changed."""
    bind: Any = session.get_bind()
    key = str(bind.url)
    stamp = _stamp(session)
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is not None and cached.stamp == stamp:
            return cached
    index = ZoneIndex(stamp)
    for row in session.scalars(select(Zone)):
        sz = stored_zone(row)
        if sz is None:
            continue
        index.add(sz)
    with _LOCK:
        _CACHE[key] = index
    return index


def match_location(index: ZoneIndex, lat: float | None, lon: float | None, zone_code: str | None,
                   within_m: float) -> ZoneMatch:
    """The citation's area zone (by its zone code, else the polygon holding the point) and,
    per imported source, the nearest street segment within ``within_m`` metres."""
    area = index.by_code.get(zone_code) if zone_code else None
    if area is not None and not area.is_area:
        area = None
    if lat is None or lon is None:
        return ZoneMatch(area, declared=zone_code)
    candidates = index.near(lat, lon, within_m)
    if area is None:
        for candidate in candidates:
            if candidate.is_area and candidate.zone.distance_m(lat, lon) == 0.0:
                area = candidate
                break
    nearest: dict[str, tuple[StoredZone, float]] = {}
    for street in candidates:
        if street.is_area:
            continue
        distance = street.zone.distance_m(lat, lon)
        if distance > within_m:
            continue
        best = nearest.get(street.source)
        if best is None or distance < best[1]:
            nearest[street.source] = (street, distance)
    streets = tuple(sorted(nearest.values(), key=lambda pair: pair[1]))
    return ZoneMatch(area, streets, zone_code)


def list_zones(app: AppContext, actor: Actor) -> list[tuple[str, str, int, str]]:
    """(code, name, number of regulations, source) of every zone, by code."""
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        rows = uow.session.execute(select(Zone.code, Zone.name, Zone.regulations, Zone.source).order_by(Zone.code))
        return [(c, n, len(r or []), s or "") for c, n, r, s in rows]
