"""Which street map a map shows: the agency's MBTiles, streets drawn from imported blockfaces, the demo's
generated MBTiles; a bad file named in one sentence with the map falling back."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from desktop.demo.fleet import CITIES
from desktop.demo.office import ZONES
from desktop.demo.street_map import (
    DEMO_BOUNDS,
    DEMO_MAP,
    SF_BOUNDS,
    ZOOMS,
    build_demo_map,
    derive_sf_streets,
    derive_streets,
    street_name,
)
from desktop.domain.roles import Role
from desktop.persistence.models import Setting, Zone
from desktop.services.core import settings
from desktop.services.maps.mbtiles import MBTiles, check_mbtiles
from desktop.services.maps.street_tiles import BACKGROUND, LABEL, STREET, street_label, tile_of
from desktop.services.maps.tiles import forget_sources, tile_layer
from desktop.services.review.zone_imports import import_zones
from tests.helpers.maps import add_demo_zones

#: a San Francisco citation on Haight St between Masonic and Ashbury, inside the regulations file's area
HAIGHT = (37.77005, -122.44640)


@pytest.fixture(autouse=True)
def fresh_sources():
    forget_sources()
    yield
    forget_sources()


def colours(png: bytes) -> list[tuple[int, int, int]]:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return list(image.get_flattened_data())


def test_streets_are_drawn_from_imported_blockfaces(app, actors, shared_data: Path) -> None:
    import_zones(app, actors[Role.ADMIN], shared_data / "parking_zones_meters" / "street_sweeping.geojson",
                 recheck=False)
    with app.db.reading() as s:
        layer = tile_layer(s, app.paths.data_dir, HAIGHT)
    assert layer.kind == "streets" and layer.url.startswith("curbdesk-tiles://s") and layer.source is not None
    assert layer.note == ""  # nothing was asked for that could not be given
    x, y = tile_of(HAIGHT[1], HAIGHT[0], 17)
    tile = layer.source.tile(17, x, y)
    assert tile is not None and tile[1] == "image/png"
    pixels = colours(tile[0])
    assert pixels.count(BACKGROUND) > 10000 and pixels.count(STREET) > 2000  # streets on the map's ground
    assert sum(1 for p in pixels if max(abs(a - b) for a, b in zip(p, LABEL, strict=True)) < 25) > 30  # names
    assert layer.source.tile(17, x + 400, y) is None  # far from every street: nothing drawn
    assert street_label("Haight St (Masonic Ave - Ashbury St)") == "Haight St"
    assert street_label("Lone Mountain/USF Time limited") == ""  # not a street name: not printed


def test_a_bad_mbtiles_file_is_named_and_the_map_falls_back(app, actors, tmp_path: Path) -> None:
    junk = tmp_path / "city.mbtiles"
    junk.write_bytes(b"not a database at all" * 50)
    settings.set_value(app, actors[Role.ADMIN], "map.mbtiles_path", str(junk))
    with app.db.reading() as s:
        layer = tile_layer(s, app.paths.data_dir, (34.05, -118.25))
    assert layer.kind == "none" and layer.url == ""
    assert layer.note.startswith("The map file city.mbtiles is not an MBTiles file (not an SQLite database).")
    assert "falls back" in layer.note
    with app.uow(actors[Role.ADMIN]) as uow:  # with zones imported, the fallback is their streets
        uow.session.add(Zone(code="Z-T", name="Test St (A St - B St)", regulations=[],
                             geometry={"type": "LineString", "coordinates": [[-118.251, 34.05], [-118.249, 34.05]]}))
        uow.commit()
    with app.db.reading() as s:
        layer = tile_layer(s, app.paths.data_dir, (34.05, -118.25))
    assert layer.kind == "streets" and "not an MBTiles file" in layer.note


def test_the_demo_map_covers_the_demo_citations(app, actors) -> None:
    add_demo_zones(app, actors[Role.ADMIN])
    made = build_demo_map(app)
    assert made.path == Path(app.paths.data_dir) / DEMO_MAP and made.tiles > 300
    info = check_mbtiles(made.path)
    assert (info.min_zoom, info.max_zoom, info.format) == (11, 17, "png")
    with app.db.reading() as s:
        assert s.get(Setting, "map.mbtiles_path").value == str(DEMO_MAP)
        layer = tile_layer(s, app.paths.data_dir, (34.05, -118.25))
    assert layer.kind == "mbtiles" and layer.source is not None and layer.max_native_zoom == 17
    reader = MBTiles(made.path)
    south, west, north, east = DEMO_BOUNDS
    for code, _name, z_south, z_west, z_north, z_east in ZONES:  # every demo citation lies in one of these
        assert south <= z_south and z_north <= north and west <= z_west and z_east <= east, code
        for lat, lon in ((z_south, z_west), (z_north, z_east), ((z_south + z_north) / 2, (z_west + z_east) / 2)):
            for zoom in ZOOMS:
                x, y = tile_of(lon, lat, zoom)
                assert reader.tile(zoom, x, y) is not None, (code, zoom, lat, lon)
    # the streets are drawn, with their names, at the demo's closest zoom
    x, y = tile_of(-118.2468, 34.0487, 17)  # Spring St at 4th, in the Historic Core
    pixels = colours(reader.tile(17, x, y)[0])
    assert pixels.count(STREET) > 1000
    # San Francisco: the field simulator's citations lie within 0.012° of its centre (fleet._citation)
    lat0, lon0 = CITIES["SF"]["center"]
    south, west, north, east = SF_BOUNDS
    assert south <= lat0 - 0.012 and lat0 + 0.012 <= north and west <= lon0 - 0.012 and lon0 + 0.012 <= east
    assert info.bounds is not None and info.bounds[0] <= west and info.bounds[1] <= south
    for lat, lon in ((lat0 - 0.012, lon0 - 0.012), (lat0 + 0.012, lon0 + 0.012), (lat0, lon0)):
        for zoom in range(11, 14):  # the whole area at the zooms that show a district
            assert reader.tile(zoom, *tile_of(lon, lat, zoom)) is not None, (zoom, lat, lon)
    # where the street-sweeping file reaches (its north-west corner: Market, Sanchez, 14th-18th), named streets
    for lat, lon in ((37.767735, -122.432414), (37.766053, -122.43199), (37.765128, -122.431028)):  # demo spots
        with app.db.reading() as s:
            layer = tile_layer(s, app.paths.data_dir, (lat, lon))
        assert layer.kind == "mbtiles" and layer.note == "", (lat, lon)
        for zoom in ZOOMS:
            assert reader.tile(zoom, *tile_of(lon, lat, zoom)) is not None, (zoom, lat, lon)
    pixels = colours(reader.tile(17, *tile_of(-122.43065, 37.76427, 17))[0])  # Sanchez St at 16th
    assert pixels.count(STREET) > 1000
    assert sum(1 for p in pixels if max(abs(a - b) for a, b in zip(p, LABEL, strict=True)) < 25) > 30  # names
    # further into the Mission the file holds no streets: the map says so rather than show a blank ground
    with app.db.reading() as s:
        layer = tile_layer(s, app.paths.data_dir, (37.7590, -122.4150))  # Mission St at 20th
    assert layer.kind == "mbtiles" and layer.source is not None
    assert layer.note == "The installed street map (Curbdesk demo: downtown Los Angeles and San Francisco) " \
                         "has no streets at this spot."


def test_street_lines_from_the_meter_inventory(shared_data: Path) -> None:
    assert street_name("700 E PICO BLVD") == (700, "Pico Blvd")
    assert street_name("300 S. GRAND AV") == (300, "Grand Ave")
    assert street_name("N. BROADWAY") is None
    collection = derive_streets(shared_data / "parking_zones_meters" / "LADOT_Metered_Parking_Inventory___Policies.csv")
    names = {f["properties"]["name"] for f in collection["features"]}
    assert {"Spring St", "Main St", "Broadway", "Hill St", "Olive St", "Grand Ave", "Figueroa St"} <= names
    shipped = json.loads((Path(__file__).resolve().parents[3] / "resources" / "maps" /
                          "la-downtown-streets.geojson").read_text(encoding="utf-8"))
    assert shipped["features"] == collection["features"]  # the shipped file is what the derivation makes


def test_sf_street_lines_from_the_sweeping_blockfaces(shared_data: Path) -> None:
    collection = derive_sf_streets(shared_data / "parking_zones_meters" / "street_sweeping.geojson")
    names = {f["properties"]["name"] for f in collection["features"]}
    assert {"Market St", "Church St", "Sanchez St", "Noe St", "14th St", "16th St", "18th St"} <= names
    assert len(collection["features"]) < 2 * len(names)  # a street's blocks are joined into one line
    shipped = json.loads((Path(__file__).resolve().parents[3] / "resources" / "maps" /
                          "sf-demo-streets.geojson").read_text(encoding="utf-8"))
    assert shipped["features"] == collection["features"]  # the shipped file is what the derivation makes


def test_sf_blockfaces_become_centre_lines(tmp_path: Path) -> None:
    def kerb(name: str, limits: str, coords: list[list[float]]) -> dict:
        return {"type": "Feature", "properties": {"Corridor": name, "Limits": limits},
                "geometry": {"type": "LineString", "coordinates": coords}}

    source = tmp_path / "sweeping.geojson"
    source.write_text(json.dumps({"type": "FeatureCollection", "features": [
        kerb("16th St", "A St - B St", [[-122.4300, 37.7640], [-122.4290, 37.7640]]),  # north kerb
        kerb("16th St", "A St - B St", [[-122.4290, 37.7638], [-122.4300, 37.7638]]),  # south kerb, drawn backwards
        kerb("16th St", "A St - B St", [[-122.4300, 37.7640], [-122.4290, 37.7640]]),  # another sweeping day
        kerb("16th St", "B St - C St", [[-122.4290, 37.76392], [-122.4280, 37.7639]]),  # one kerb, 2 m off
        kerb("Far St", "X St - Y St", [[-122.5000, 37.7000], [-122.4990, 37.7000]]),  # outside the area
    ]}), encoding="utf-8")
    features = derive_sf_streets(source)["features"]
    assert [f["properties"]["name"] for f in features] == ["16th St"]  # the blocks joined, the far one left out
    assert features[0]["geometry"]["coordinates"] == [[-122.43, 37.7639], [-122.429, 37.7639], [-122.428, 37.7639]]


def test_an_administrator_installs_a_checked_mbtiles(app, actors, tmp_path: Path) -> None:
    from desktop.domain.errors import UserError
    from desktop.services.maps.mbtiles import MBTilesError, write_mbtiles
    from desktop.services.maps.tiles import configured_mbtiles, use_mbtiles

    good = tmp_path / "city.mbtiles"
    buf = io.BytesIO()
    Image.new("RGB", (256, 256), (1, 2, 3)).save(buf, "PNG")
    write_mbtiles(good, {"name": "City streets", "format": "png"}, [(12, 700, 1600, buf.getvalue())])
    bad = tmp_path / "bad.mbtiles"
    bad.write_text("hello")
    with pytest.raises(MBTilesError, match="not an MBTiles file"):
        use_mbtiles(app, actors[Role.ADMIN], bad)
    assert configured_mbtiles(app) == (None, None, "")  # a refused file leaves the setting as it was
    with pytest.raises(UserError):  # permissions are the service's: a clerk cannot change the office's map
        use_mbtiles(app, actors[Role.CLERK], good)
    info = use_mbtiles(app, actors[Role.ADMIN], good)
    assert info.name == "City streets"
    path, info, problem = configured_mbtiles(app)
    assert path == good and info is not None and problem == ""
    good.write_text("overwritten by something else")
    assert "not an MBTiles file" in configured_mbtiles(app)[2]
