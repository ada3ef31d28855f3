"""Zones as data: importing zone polygons and street segments with their regulations from GeoJSON,
and finding the zones (and so the posted rules) that apply at a citation's location.

Stored form: ``zones.geometry`` is a GeoJSON geometry object; ``zones.regulations`` is a list of
regulations in the canonical form of ``desktop.domain.zones.regulation_to_dict`` (the demo's
shorter form, without exemptions/weeks/description, reads the same way). Every workstation keeps
the parsed zones in memory and reloads them when ``zones.revision`` or the zone count changes.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desktop.domain import geo, zones
from desktop.domain.errors import UserError
from desktop.domain.roles import Permission
from desktop.persistence.models import Setting, Zone
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
        return ZoneMatch(area)
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
    return ZoneMatch(area, streets)


# --------------------------------------------------------------------------- import


@dataclass(frozen=True)
class ZoneImportResult:
    features: int
    added: int
    updated: int
    regulations: int
    rechecked: int = 0


def _read_collection(path: Path) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError(f"There is no file {path}.") from None
    except UnicodeDecodeError:
        raise UserError(f"{Path(path).name} is not a text (UTF-8 GeoJSON) file.") from None
    except OSError as exc:
        raise UserError(f"Cannot read {path}: {exc.strerror}.") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{Path(path).name} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}).") from None


def _centroid(zone: zones.Zone) -> tuple[float, float]:
    """(lat, lon) to centre a map on: the area's centroid, or the middle position of a street segment."""
    if zone.geometry_type == "Polygon":
        lon, lat = geo.polygon_centroid(zone.coordinates)
    elif zone.geometry_type == "MultiPolygon":
        lon, lat = geo.multipolygon_centroid(zone.coordinates)
    else:
        positions = geo.flatten_positions(zone.coordinates)
        lon, lat = positions[len(positions) // 2]
    return lat, lon


def import_zones(app: AppContext, actor: Actor, path: Path, code_prefix: str = "Z-SF",
                 recheck: bool = True) -> ZoneImportResult:
    """Load a GeoJSON FeatureCollection of zones; all or nothing.

    A broken feature rejects the whole file with its number and the reason. Zones already stored
    under the same code are replaced (geometry and regulations); the pending review queue is then
    checked again against the new rules.
    """
    collection = _read_collection(path)
    parsed = zones.parse_zones(collection, code_prefix=code_prefix)
    if not parsed:
        raise UserError(f"{Path(path).name} holds no zones.")
    source = Path(path).name[:200]
    added = updated = regulations = 0
    with app.uow(actor, Permission.MANAGE_SETTINGS) as uow:
        s = uow.session
        existing = {z.code: z for z in s.scalars(select(Zone).where(Zone.code.in_([p.code for p in parsed])))}
        for zone in parsed:
            lat, lon = _centroid(zone)
            geometry = {"type": zone.geometry_type, "coordinates": _plain(zone.coordinates)}
            regs = [zones.regulation_to_dict(r) for r in zone.regulations]
            regulations += len(regs)
            row = existing.get(zone.code)
            if row is None:
                s.add(Zone(code=zone.code, name=(zone.name or zone.code)[:200], geometry=geometry, regulations=regs,
                           centroid_lat=lat, centroid_lon=lon, source=source))
                added += 1
            else:
                row.name = (zone.name or zone.code)[:200]
                row.geometry = geometry
                row.regulations = regs
                row.centroid_lat, row.centroid_lon = lat, lon
                row.source = source
                updated += 1
        revision = int(settings.get(s, "zones.revision") or 0) + 1
        setting = s.get(Setting, "zones.revision")
        if setting is None:
            s.add(Setting(key="zones.revision", value=revision))
        else:
            setting.value = revision
        uow.audit("zones.imported", "zone", source,
                  after={"features": len(parsed), "added": added, "updated": updated, "regulations": regulations,
                         "revision": revision},
                  reason=f"import zones {source}")
        uow.commit()
    rechecked = 0
    if recheck:
        from desktop.services.review.checks import recheck_pending

        rechecked = recheck_pending(app)
    return ZoneImportResult(len(parsed), added, updated, regulations, rechecked)


def _plain(coordinates: Any) -> Any:
    """Tuples to lists, for JSON."""
    if isinstance(coordinates, (list, tuple)):
        return [_plain(c) for c in coordinates]
    return coordinates


def list_zones(app: AppContext, actor: Actor) -> list[tuple[str, str, int, str]]:
    """(code, name, number of regulations, source) of every zone, by code."""
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        rows = uow.session.execute(select(Zone.code, Zone.name, Zone.regulations, Zone.source).order_by(Zone.code))
        return [(c, n, len(r or []), s or "") for c, n, r, s in rows]
