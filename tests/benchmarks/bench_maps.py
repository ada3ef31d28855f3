"""Benchmark: the street map's jobs.

Run with ``pytest tests/benchmarks/bench_maps.py --benchmark-only``.

Group ``demo-map`` (what ``main.py demo`` adds to make the demo's street map, over the demo's zones and the
LA street lines): baseline: drawing only the zoom-17 tiles of one demo zone (a fifth of the area at the
map's closest zoom); Los Angeles only: the whole job without the San Francisco area (what the demo drew
before it had SF streets); whole job: every tile of both demo areas at zooms 11-17, written as an MBTiles file.

Group ``map-tile`` (one tile as the map page asks for it, what the scheme handler does per request):
baseline: the same indexed lookup with plain sqlite3 and no safeguards; MBTiles: the bounded, read-only
reader with its image check; drawn from zones: a zoom-16 street tile of the San Francisco blockfaces
(street sweeping, 2,129 lines), not cached.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from desktop.demo import street_map
from desktop.demo.office import ZONES
from desktop.demo.street_map import build_demo_map, demo_features
from desktop.domain.roles import Role
from desktop.services.maps.mbtiles import MBTiles, tms_row
from desktop.services.maps.street_tiles import StreetIndex, render_tile, tile_of, tiles_covering
from desktop.services.maps.tiles import StreetTileSource, zone_index
from desktop.services.review.zone_imports import import_zones
from tests.helpers.maps import add_demo_zones


@pytest.fixture
def demo_zones(app, actors):
    add_demo_zones(app, actors[Role.ADMIN])
    return app


@pytest.mark.benchmark(group="demo-map")
def test_baseline_one_zone_at_zoom_17(benchmark, demo_zones) -> None:
    index = StreetIndex(demo_features(demo_zones))
    _code, _name, south, west, north, east = ZONES[4]  # the Historic Core
    tiles = list(tiles_covering(west, south, east, north, 17))
    benchmark.pedantic(lambda: [render_tile(index, 17, x, y) for x, y in tiles], rounds=3, iterations=1)


@pytest.mark.benchmark(group="demo-map")
def test_baseline_demo_map_los_angeles_only(benchmark, demo_zones, monkeypatch) -> None:
    monkeypatch.setattr(street_map, "SF_BOUNDS", street_map.DEMO_BOUNDS)  # the SF area adds no tile
    made = benchmark.pedantic(lambda: build_demo_map(demo_zones), rounds=3, iterations=1)
    assert made.tiles > 300


@pytest.mark.benchmark(group="demo-map")
def test_demo_map_whole_job(benchmark, demo_zones) -> None:
    made = benchmark.pedantic(lambda: build_demo_map(demo_zones), rounds=3, iterations=1)
    assert made.tiles > 300


@pytest.fixture
def demo_file(demo_zones) -> Path:
    return build_demo_map(demo_zones).path


def _spots(zoom: int) -> list[tuple[int, int]]:
    return [tile_of((w + e) / 2, (s + n) / 2, zoom) for _c, _n, s, w, n, e in ZONES]


@pytest.mark.benchmark(group="map-tile")
def test_baseline_plain_sqlite_lookup(benchmark, demo_file: Path) -> None:
    conn = sqlite3.connect(demo_file)
    spots = _spots(17)

    def lookup() -> None:
        for x, y in spots:
            conn.execute("SELECT tile_data FROM tiles WHERE zoom_level = 17 AND tile_column = ? AND tile_row = ?",
                         (x, tms_row(17, y))).fetchone()

    benchmark(lookup)


@pytest.mark.benchmark(group="map-tile")
def test_mbtiles_reader(benchmark, demo_file: Path) -> None:
    reader = MBTiles(demo_file)
    spots = _spots(17)
    benchmark(lambda: [reader.tile(17, x, y) for x, y in spots])
    assert all(reader.tile(17, x, y) for x, y in spots)


@pytest.mark.benchmark(group="map-tile")
def test_street_tile_drawn_from_zones(benchmark, app, actors, shared_data: Path) -> None:
    import_zones(app, actors[Role.ADMIN], shared_data / "parking_zones_meters" / "street_sweeping.geojson",
                 recheck=False)
    with app.db.reading() as s:
        index = zone_index(s)
    x, y = tile_of(-122.4464, 37.77005, 16)
    spots = [(x + dx, y + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
    benchmark.pedantic(lambda: [StreetTileSource(index, "b").tile(16, tx, ty) for tx, ty in spots],
                       rounds=5, iterations=1)
