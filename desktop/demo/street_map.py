"""The demo office's street map: an MBTiles of downtown Los Angeles, drawn from data we have.

The streets come from ``resources/maps/la-downtown-streets.geojson``: centre lines derived from the City of
Los Angeles' metered parking inventory (LADOT, 33,989 meters with their block face and position; MIT, via
hackforla/lucky-parking, see /work/shared/data/PROVENANCE.md). Each block face's meters lie along the kerb,
so a line through them (their principal axis) is the block; the blocks of one street, joined in order,
are the street. ``derive_streets`` made the file (``python -m desktop.demo.street_map CSV OUT``); it is
kept in the repository so that the demo needs nothing outside it.

``build_demo_map`` draws those streets and the demo's zones into tiles (zooms 11-17 over the demo area; the
map magnifies zoom 17 beyond), writes ``<data>/maps/demo-downtown.mbtiles`` and points ``map.mbtiles_path``
at it, so the demo's maps are never blank.
"""

from __future__ import annotations

import csv
import json
import math
import re
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from desktop.persistence.models import Citation, Setting, Zone
from desktop.resources import resource
from desktop.services.core.context import Actor, AppContext
from desktop.services.maps.mbtiles import MBTilesError, check_mbtiles, write_mbtiles
from desktop.services.maps.street_tiles import (
    MapFeature,
    StreetIndex,
    features_from_geometry,
    render_tile,
    tiles_covering,
)
from desktop.services.maps.tiles import MBTILES_SETTING

ORDER = 90  # after every area that adds citations: the map is checked against them

STREETS_RESOURCE = ("maps", "la-downtown-streets.geojson")
DEMO_MAP = Path("maps") / "demo-downtown.mbtiles"
ZOOMS = range(11, 18)
#: the demo area (south, west, north, east): the nine downtown zones with a margin
DEMO_BOUNDS = (34.028, -118.275, 34.072, -118.220)
_LATLNG = re.compile(r"\(\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\)")
_SUFFIX = {"AV": "AVE", "BL": "BLVD", "BLV": "BLVD", "PL": "PL", "DR": "DR"}


@dataclass(frozen=True)
class DemoMap:
    path: Path
    tiles: int
    seconds: float
    covered: int
    """Demo citations inside the map's area."""


def street_name(block_face: str) -> tuple[int, str] | None:
    """("700 E PICO BLVD") -> (700, "Pico Blvd"): the block number and the street without its direction."""
    match = re.match(r"\s*(\d+)\s+(.+)", block_face or "")
    if not match:
        return None
    words = match.group(2).replace(".", " ").split()
    if words and words[0] in {"N", "S", "E", "W"} and len(words) > 1:
        words = words[1:]
    if words and words[-1] in _SUFFIX:
        words[-1] = _SUFFIX[words[-1]]
    name = " ".join(w.capitalize() if not w[0].isdigit() else w.lower() for w in words)
    return int(match.group(1)), name


def derive_streets(csv_path: Path, bounds: tuple[float, float, float, float] = DEMO_BOUNDS) -> dict[str, Any]:
    """Street centre lines from the LADOT meter inventory, as a GeoJSON FeatureCollection."""
    south, west, north, east = bounds
    blocks: dict[tuple[str, int], list[tuple[float, float]]] = defaultdict(list)
    with open(csv_path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            m = _LATLNG.search(row.get("LatLng") or "")
            parsed = street_name(row.get("BlockFace") or "")
            if not m or parsed is None:
                continue
            lat, lon = float(m.group(1)), float(m.group(2))
            if south <= lat <= north and west <= lon <= east:
                blocks[(parsed[1], parsed[0] // 100)].append((lon, lat))
    cos0 = math.cos(math.radians((south + north) / 2))
    streets: dict[str, list[tuple[tuple[float, float], tuple[float, float]]]] = defaultdict(list)
    for (name, _block), points in blocks.items():
        segment = _block_segment(points, cos0)
        if segment is not None:
            streets[name].append(segment)
    features = []
    for name in sorted(streets):
        for line in _join(streets[name], cos0):
            features.append({"type": "Feature", "properties": {"name": name},
                             "geometry": {"type": "LineString",
                                          "coordinates": [[round(x, 6), round(y, 6)] for x, y in line]}})
    return {"type": "FeatureCollection", "features": features,
            "properties": {"source": "LADOT Metered Parking Inventory (block faces of meters), derived"}}


def _metres(p: tuple[float, float], cos0: float) -> tuple[float, float]:
    return p[0] * 111_320 * cos0, p[1] * 111_320


def _block_segment(points: list[tuple[float, float]], cos0: float
                   ) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """The ends of a block: the meters' principal axis, outliers (over 150 m from the middle) left out."""
    if len(points) < 2:
        return None
    mid = (statistics.median(p[0] for p in points), statistics.median(p[1] for p in points))
    mx, my = _metres(mid, cos0)
    kept = [p for p in points if math.dist(_metres(p, cos0), (mx, my)) <= 150]
    if len(kept) < 2:
        return None
    xs = [_metres(p, cos0) for p in kept]
    cx, cy = sum(x for x, _ in xs) / len(xs), sum(y for _, y in xs) / len(xs)
    sxx = sum((x - cx) ** 2 for x, _ in xs)
    syy = sum((y - cy) ** 2 for _, y in xs)
    sxy = sum((x - cx) * (y - cy) for x, y in xs)
    angle = 0.5 * math.atan2(2 * sxy, sxx - syy)
    ux, uy = math.cos(angle), math.sin(angle)
    ts = [(x - cx) * ux + (y - cy) * uy for x, y in xs]
    lo, hi = min(ts) - 12, max(ts) + 12  # the first and last meter stand a car's length from the corner
    if hi - lo < 30:
        return None

    def back(t: float) -> tuple[float, float]:
        return (cx + t * ux) / (111_320 * cos0), (cy + t * uy) / 111_320

    return back(lo), back(hi)


def _join(segments: list[tuple[tuple[float, float], tuple[float, float]]], cos0: float
          ) -> list[list[tuple[float, float]]]:
    """The blocks of one street in order along it, joined where the gap between them is a crossing (<220 m)."""
    if not segments:
        return []
    a = _metres(segments[0][0], cos0)
    b = _metres(segments[0][1], cos0)
    # the street's direction: the longest span between any two block ends
    ends = [_metres(p, cos0) for s in segments for p in s]
    far = max(((p, q) for p in ends for q in ends), key=lambda pq: math.dist(*pq))
    ux, uy = far[1][0] - far[0][0], far[1][1] - far[0][1]
    norm = math.hypot(ux, uy) or math.hypot(b[0] - a[0], b[1] - a[1]) or 1.0
    ux, uy = ux / norm, uy / norm

    def along(p: tuple[float, float]) -> float:
        m = _metres(p, cos0)
        return m[0] * ux + m[1] * uy

    oriented = [(s[0], s[1]) if along(s[0]) <= along(s[1]) else (s[1], s[0]) for s in segments]
    oriented.sort(key=lambda s: along(s[0]))
    lines: list[list[tuple[float, float]]] = [[oriented[0][0], oriented[0][1]]]
    for start, end in oriented[1:]:
        last = lines[-1][-1]
        gap = math.dist(_metres(last, cos0), _metres(start, cos0))
        if along(start) >= along(last) - 20 and gap < 220:
            lines[-1].extend([start, end])
        else:
            lines.append([start, end])
    return lines


def demo_features(app: AppContext) -> list[MapFeature]:
    """The streets of the resource file and the zones of the database."""
    features: list[MapFeature] = []
    path = resource(*STREETS_RESOURCE)
    collection = json.loads(path.read_text(encoding="utf-8"))
    for feature in collection.get("features", []):
        made = features_from_geometry(str(feature.get("properties", {}).get("name", "")), feature.get("geometry"))
        if made is not None:
            features.append(made)
    with app.db.reading() as session:
        for zone in session.scalars(select(Zone).order_by(Zone.code)):
            made = features_from_geometry(zone.name, zone.geometry)
            if made is not None:
                features.append(made)
    return features


def extend_demo(app: AppContext, progress: Callable[[str, int, int], None]) -> None:
    """The demo's street map, drawn once (kept while the file is a good MBTiles); the office's map unless an
    administrator named another file."""
    with app.db.reading() as session:
        row = session.get(Setting, MBTILES_SETTING)
        configured = str(row.value) if row is not None and row.value else ""
    if configured and configured != str(DEMO_MAP):
        return
    dest = Path(app.paths.data_dir) / DEMO_MAP
    if configured and dest.is_file():
        try:
            check_mbtiles(dest)
            return
        except MBTilesError:
            pass  # drawn again below
    build_demo_map(app, progress)


def build_demo_map(app: AppContext, progress: Callable[[str, int, int], None] | None = None) -> DemoMap:
    """Render the demo area into ``<data>/maps/demo-downtown.mbtiles`` and make it the office's map."""
    started = time.perf_counter()
    index = StreetIndex(demo_features(app))
    south, west, north, east = DEMO_BOUNDS
    dest = Path(app.paths.data_dir) / DEMO_MAP
    wanted = [(z, x, y) for z in ZOOMS for x, y in tiles_covering(west, south, east, north, z)]

    def tiles() -> Iterator[tuple[int, int, int, bytes]]:
        for done, (z, x, y) in enumerate(wanted, 1):
            png = render_tile(index, z, x, y)
            if progress is not None and (done % 25 == 0 or done == len(wanted)):
                progress("Drawing the demo's street map", done, len(wanted))
            if png is not None:
                yield z, x, y, png

    count = write_mbtiles(dest, {
        "name": "Curbdesk demo: downtown Los Angeles", "format": "png", "type": "baselayer", "version": "1",
        "minzoom": str(ZOOMS.start), "maxzoom": str(ZOOMS.stop - 1), "bounds": f"{west},{south},{east},{north}",
        "attribution": "Streets: LADOT meter inventory (LA open data)",
        "description": "Generated by main.py demo from the demo's zones and LADOT block faces.",
    }, tiles())
    with app.db.reading() as session:
        positions = session.execute(select(Citation.lat, Citation.lon)).all()
    covered = sum(1 for lat, lon in positions if south <= lat <= north and west <= lon <= east)
    with app.uow(Actor.system("demo")) as uow:
        row = uow.session.get(Setting, MBTILES_SETTING)
        if row is None:
            uow.session.add(Setting(key=MBTILES_SETTING, value=str(DEMO_MAP)))
        else:
            row.value = str(DEMO_MAP)
        uow.audit("setting.changed", "setting", MBTILES_SETTING, after={"value": str(DEMO_MAP)},
                  reason=f"demo street map: {count} tiles")
        uow.commit()
    return DemoMap(dest, count, time.perf_counter() - started, covered)


if __name__ == "__main__":  # python -m desktop.demo.street_map LADOT.csv resources/maps/la-downtown-streets.geojson
    out = derive_streets(Path(sys.argv[1]))
    Path(sys.argv[2]).parent.mkdir(parents=True, exist_ok=True)
    Path(sys.argv[2]).write_text(json.dumps(out, separators=(",", ":")), encoding="utf-8")
    print(f"{len(out['features'])} street lines")
