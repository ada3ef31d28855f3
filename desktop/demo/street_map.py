"""The demo office's street map: an MBTiles of downtown Los Angeles and of the demo's San Francisco citations,
drawn from data we have.

The streets come from ``resources/maps/la-downtown-streets.geojson``: centre lines derived from the City of
Los Angeles' metered parking inventory (LADOT, 33,989 meters with their block face and position; MIT, via
hackforla/lucky-parking, see /work/shared/data/PROVENANCE.md). Each block face's meters lie along the kerb,
so a line through them (their principal axis) is the block; the blocks of one street, joined in order,
are the street. ``derive_streets`` made the file (``python -m desktop.demo.street_map CSV OUT``); it is
kept in the repository so that the demo needs nothing outside it.

The field simulator also writes citations in San Francisco (``fleet.CITIES["SF"]``: the Mission, 0.012° around
its centre). Their streets are ``resources/maps/sf-demo-streets.geojson``: the street centre lines of DataSF's
street-sweeping blockfaces (SFMTA; via andreibratescu707/San-Francisco-Parking-Permit-Map, which states no
licence; DataSF releases its data under the ODC Public Domain Dedication and License 1.0,
https://datasf.org/blog/data-license-liberation-day; see /work/shared/data/PROVENANCE.md). A block's two kerb lines are averaged into its centre line and a street's
blocks merged where they meet (``derive_sf_streets``; ``python -m desktop.demo.street_map SWEEPING.geojson
OUT``). The file we hold stops at Church St and 18th St (west of -122.4266, north of 37.7589): the north-west
corner of the citations' area; further into the Mission the map says it has no streets there.

``build_demo_map`` draws those streets and the demo's zones into tiles (zooms 11-17 over both demo areas; the
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

from shapely.geometry import MultiLineString
from shapely.ops import linemerge
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
SF_STREETS_RESOURCE = ("maps", "sf-demo-streets.geojson")
#: the San Francisco citations' area (south, west, north, east): fleet.CITIES["SF"]'s centre ± 0.012° and a margin
SF_BOUNDS = (37.748, -122.435, 37.776, -122.407)
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


def derive_sf_streets(geojson_path: Path, bounds: tuple[float, float, float, float] = SF_BOUNDS) -> dict[str, Any]:
    """Street centre lines from DataSF's street-sweeping blockfaces (a line per kerb and sweeping day), as a
    GeoJSON FeatureCollection: one line per block (its kerb lines averaged), a street's blocks merged where
    they meet. Blocks with a point inside ``bounds`` are kept."""
    south, west, north, east = bounds
    sides: dict[tuple[str, str], set[tuple[tuple[float, float], ...]]] = defaultdict(set)
    collection = json.loads(Path(geojson_path).read_text(encoding="utf-8"))
    for feature in collection.get("features", []):
        geometry, props = feature.get("geometry") or {}, feature.get("properties") or {}
        name = str(props.get("Corridor") or "").strip()
        if geometry.get("type") != "LineString" or not name:
            continue
        line = tuple((float(x), float(y)) for x, y in geometry["coordinates"])
        if len(line) < 2 or not any(south <= y <= north and west <= x <= east for x, y in line):
            continue
        sides[(name, str(props.get("Limits") or ""))].add(_oriented(line))
    streets: dict[str, list[tuple[tuple[float, float], ...]]] = defaultdict(list)
    for (name, _limits), lines in sorted(sides.items()):
        ordered = sorted(lines)
        pair = [line for line in ordered if len(line) == len(ordered[0])][:2]
        middle = tuple((round(sum(p[i][0] for p in pair) / len(pair), 6), round(sum(p[i][1] for p in pair) / len(pair), 6))
                       for i in range(len(pair[0])))
        streets[name].append(middle)
    cos0 = math.cos(math.radians((south + north) / 2))
    features = []
    for name in sorted(streets):
        merged = linemerge(MultiLineString(_snapped(streets[name], cos0)))
        for part in sorted(getattr(merged, "geoms", [merged]), key=lambda g: tuple(g.coords)):
            features.append({"type": "Feature", "properties": {"name": name},
                             "geometry": {"type": "LineString",
                                          "coordinates": [[round(x, 6), round(y, 6)] for x, y in part.coords]}})
    return {"type": "FeatureCollection", "features": features,
            "properties": {"source": "DataSF (SFMTA) Street Sweeping blockfaces, centre lines derived; PDDL 1.0"}}


def _snapped(lines: list[tuple[tuple[float, float], ...]], cos0: float, metres: float = 15
             ) -> list[tuple[tuple[float, float], ...]]:
    """The lines with each end moved onto an earlier end within ``metres``: a block with one kerb swept ends
    a few metres off its neighbour's centre line, and the two should join."""
    ends: list[tuple[float, float]] = []

    def snap(p: tuple[float, float]) -> tuple[float, float]:
        for q in ends:
            if math.dist(_metres(p, cos0), _metres(q, cos0)) <= metres:
                return q
        ends.append(p)
        return p

    snapped = [(snap(line[0]), *line[1:-1], snap(line[-1])) for line in lines]
    return [line for line in snapped if len(set(line)) > 1]


def _oriented(line: tuple[tuple[float, float], ...]) -> tuple[tuple[float, float], ...]:
    """The line running west to east, or south to north when it runs more north-south: a block's two kerb
    lines then start at the same end."""
    (x0, y0), (x1, y1) = line[0], line[-1]
    forward = x1 >= x0 if abs(x1 - x0) >= abs(y1 - y0) else y1 >= y0
    return line if forward else line[::-1]


def demo_features(app: AppContext) -> list[MapFeature]:
    """The streets of the resource files and the zones of the database."""
    features: list[MapFeature] = []
    for name in (STREETS_RESOURCE, SF_STREETS_RESOURCE):
        collection = json.loads(resource(*name).read_text(encoding="utf-8"))
        for feature in collection.get("features", []):
            made = features_from_geometry(str(feature.get("properties", {}).get("name", "")),
                                          feature.get("geometry"))
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
    dest = Path(app.paths.data_dir) / DEMO_MAP
    wanted = [(z, x, y) for south, west, north, east in (DEMO_BOUNDS, SF_BOUNDS)
              for z in ZOOMS for x, y in tiles_covering(west, south, east, north, z)]
    wanted = sorted(set(wanted))  # at zoom 11 and below the two areas could share a tile
    south, west = min(DEMO_BOUNDS[0], SF_BOUNDS[0]), min(DEMO_BOUNDS[1], SF_BOUNDS[1])
    north, east = max(DEMO_BOUNDS[2], SF_BOUNDS[2]), max(DEMO_BOUNDS[3], SF_BOUNDS[3])

    def tiles() -> Iterator[tuple[int, int, int, bytes]]:
        for done, (z, x, y) in enumerate(wanted, 1):
            png = render_tile(index, z, x, y)
            if progress is not None and (done % 25 == 0 or done == len(wanted)):
                progress("Drawing the demo's street map", done, len(wanted))
            if png is not None:
                yield z, x, y, png

    count = write_mbtiles(dest, {
        "name": "Curbdesk demo: downtown Los Angeles and San Francisco", "format": "png", "type": "baselayer", "version": "1",
        "minzoom": str(ZOOMS.start), "maxzoom": str(ZOOMS.stop - 1), "bounds": f"{west},{south},{east},{north}",
        "attribution": "Streets: LADOT meter inventory (LA open data); DataSF street sweeping (PDDL)",
        "description": "Generated by main.py demo from the demo's zones, LADOT block faces and DataSF blockfaces.",
    }, tiles())
    with app.db.reading() as session:
        positions = session.execute(select(Citation.lat, Citation.lon)).all()
    covered = sum(1 for lat, lon in positions for s, w, n, e in (DEMO_BOUNDS, SF_BOUNDS)
                  if s <= lat <= n and w <= lon <= e)
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
    # or: python -m desktop.demo.street_map street_sweeping.geojson resources/maps/sf-demo-streets.geojson
    source = Path(sys.argv[1])
    out = derive_sf_streets(source) if source.suffix == ".geojson" else derive_streets(source)
    Path(sys.argv[2]).parent.mkdir(parents=True, exist_ok=True)
    Path(sys.argv[2]).write_text(json.dumps(out, separators=(",", ":")), encoding="utf-8")
    print(f"{len(out['features'])} street lines")
