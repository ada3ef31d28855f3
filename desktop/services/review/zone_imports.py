"""Importing zones: a GeoJSON FeatureCollection of zone polygons and street segments with their
regulations, stored all or nothing, then the review queue checked again against the new rules.

Above both the zone lookup (``desktop.services.review.zones``) and the checks that use it
(``desktop.services.review.checks``), which is why it is a module of its own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from desktop.domain import geo, zones
from desktop.domain.errors import UserError
from desktop.domain.jsonlimits import MAX_JSON_DEPTH, json_depth_ok
from desktop.domain.roles import Permission
from desktop.domain.text import text_problem
from desktop.persistence.models import Setting, Zone
from desktop.services.core import imports, settings
from desktop.services.core.context import Actor, AppContext
from desktop.services.review.checks import recheck_pending


@dataclass(frozen=True)
class ZoneImportResult:
    features: int
    added: int
    updated: int
    regulations: int
    rechecked: int = 0


def _read_collection(path: Path, max_bytes: int) -> Any:
    text = imports.read_text(path, max_bytes, "zones file (UTF-8 GeoJSON)")
    if not json_depth_ok(text):
        raise UserError(f"{Path(path).name} nests arrays and objects more than {MAX_JSON_DEPTH} levels deep: "
                        "it is not a GeoJSON zone file.")
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
    with app.reader(actor, Permission.MANAGE_SETTINGS) as reading:  # refuse before reading the file
        limit = imports.max_bytes(reading.session)
    try:
        collection = _read_collection(path, limit)
        parsed = zones.parse_zones(collection, code_prefix=code_prefix)
    except UserError as exc:
        raise UserError(imports.cut(str(exc))) from None
    if not parsed:
        raise UserError(f"{Path(path).name} holds no zones.")
    for zone in parsed:  # what no column can hold (issue 14); a long name is cut to its column below
        for label, value, width in (("code", zone.code, 64), ("name", zone.name or "", None)):
            problem = text_problem(value, width)
            if problem is not None:
                raise UserError(f"{Path(path).name}: the zone {label} {value[:40]!r} {problem}; nothing was imported.")
    source = Path(path).name[:200]
    added = updated = regulations = 0
    with app.uow(actor, Permission.MANAGE_SETTINGS) as uow:
        s = uow.session
        existing = {z.code: z for z in s.scalars(select(Zone).where(Zone.code.in_([p.code for p in parsed])))}
        for zone in parsed:
            lat, lon = _centroid(zone)
            # (lon, lat) tuples as they are: the JSON column's encoder writes them as arrays, and copying a
            # large zone's positions into lists first cost seconds
            geometry = {"type": zone.geometry_type, "coordinates": zone.coordinates}
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
        rechecked = recheck_pending(app)
    return ZoneImportResult(len(parsed), added, updated, regulations, rechecked)

