"""The street map in a real WebEngine page: MBTiles tiles through the curbdesk-tiles scheme, streets drawn from
imported blockfaces when there is no MBTiles, and a legend that never covers a marker."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from desktop.services.maps.mbtiles import MBTiles, write_mbtiles
from desktop.services.maps.street_tiles import BACKGROUND, STREET, MapFeature, StreetIndex, tile_of
from desktop.services.maps.tiles import MBTilesSource, StreetTileSource, TileLayer
from desktop.services.review.map_html import MapSpec, PhotoPoint, ZoneShape
from desktop.ui.common.map_tiles import TileServer, install_tile_handler
from desktop.ui.common.map_view import MapView

LAT, LON = 34.0500, -118.2500
TILE_COLOUR = (30, 160, 90)  # a green no map layer uses


def green_tile() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (256, 256), TILE_COLOUR).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def green_mbtiles(tmp_path: Path) -> MBTilesSource:
    tiles = []
    for zoom in range(12, 20):
        x, y = tile_of(LON, LAT, zoom)
        tiles += [(zoom, tx, ty, green_tile()) for tx in range(x - 6, x + 7) for ty in range(y - 6, y + 7)]
    path = write_mbtiles(tmp_path / "area.mbtiles", {"name": "t", "format": "png"}, tiles) and tmp_path / "area.mbtiles"
    return MBTilesSource(MBTiles(path), "mtest-green")


def test_the_server_answers_from_an_mbtiles(green_mbtiles: MBTilesSource) -> None:
    """The handler's answer without a request job: a tile, 404 where the file has none, 400 for other paths."""
    server = TileServer()
    server.add(green_mbtiles)
    x, y = tile_of(LON, LAT, 16)
    hit = server.respond("mtest-green", f"/16/{x}/{y}")
    assert (hit.status, hit.mime_type) == (200, "image/png") and hit.data == green_tile()
    assert server.respond("mtest-green", f"/16/{x + 100}/{y}").status == 404
    assert server.respond("mtest-green", "/16/../../etc/passwd").status == 400
    assert server.respond("unknown-source", f"/16/{x}/{y}").status == 400


def _layout(qtbot, view: MapView) -> dict:
    results: list = []
    view.layout_info(results.append)
    qtbot.waitUntil(lambda: bool(results), timeout=10000)
    return json.loads(results[0])


def _show(qtbot, view: MapView, spec: MapSpec) -> None:
    with qtbot.waitSignal(view.ready, timeout=30000):
        view.show_spec(spec)


def test_mbtiles_tiles_reach_the_page(qtbot, green_mbtiles: MBTilesSource) -> None:
    view = MapView()
    qtbot.addWidget(view, before_close_func=lambda w: w.shutdown())
    view.resize(560, 380)
    view.show()
    layer = TileLayer("mbtiles", "curbdesk-tiles://mtest-green/{z}/{x}/{y}", "test", 12, 19, "", green_mbtiles)
    _show(qtbot, view, MapSpec(LAT, LON, 10.0, "C1", tiles=layer))
    assert install_tile_handler() is not None

    def green_painted() -> bool:
        image = view.grab_image()
        c = image.pixelColor(image.width() // 4, image.height() - 40)
        return (c.red(), c.green(), c.blue()) == TILE_COLOUR

    qtbot.waitUntil(green_painted, timeout=20000)
    assert _layout(qtbot, view)["tiles"] >= 4


def test_streets_drawn_from_blockfaces_reach_the_page(qtbot) -> None:
    # Two crossing blockfaces named the way street sweeping names them.
    streets = StreetIndex([
        MapFeature("street", "Collins St (Geary Blvd - Anza St)", (((LON - 0.003, LAT), (LON + 0.003, LAT)),)),
        MapFeature("street", "Jordan Ave (California St - Euclid Ave)", (((LON, LAT - 0.003), (LON, LAT + 0.003)),)),
    ])
    source = StreetTileSource(streets, "stest-streets")
    view = MapView()
    qtbot.addWidget(view, before_close_func=lambda w: w.shutdown())
    view.resize(560, 380)
    view.show()
    layer = TileLayer("streets", "curbdesk-tiles://stest-streets/{z}/{x}/{y}", "streets", 0, 18, "", source)
    _show(qtbot, view, MapSpec(LAT + 0.0004, LON + 0.0006, None, "C1", tiles=layer))

    qtbot.waitUntil(lambda: _layout(qtbot, view)["tiles"] >= 4, timeout=20000)

    def drawn() -> bool:  # the street map's own background and a white street, not the plain background
        image = view.grab_image()
        colours = [image.pixelColor(x, y) for x in range(0, image.width(), 4) for y in range(0, image.height(), 4)]
        rgb = [(c.red(), c.green(), c.blue()) for c in colours]
        return rgb.count(BACKGROUND) > len(rgb) // 3 and rgb.count(STREET) >= 20

    qtbot.waitUntil(drawn, timeout=20000)


FAR = MapSpec(LAT, LON, 8.0, "HH0001-000001 7ABC123", photos=(
    PhotoPoint(LAT + 0.0001, LON - 0.0001, "Photo 1"), PhotoPoint(LAT + 0.0100, LON, "Photo 2", far=True)),
    zones=(ZoneShape("Z-A", "District A", {"type": "Polygon", "coordinates": [[
        [LON - 0.002, LAT - 0.002], [LON + 0.002, LAT - 0.002], [LON + 0.002, LAT + 0.002],
        [LON - 0.002, LAT + 0.002], [LON - 0.002, LAT - 0.002]]]}, "metered Mon-Sat 08:00-20:00; street "
        "cleaning Tue 08:00-10:00; permit only Mon-Fri 18:00-08:00 (area Z-A)"),))


@pytest.mark.parametrize("size", [(560, 330), (1300, 640), (420, 300)])
def test_the_legend_never_covers_a_marker(qtbot, size: tuple[int, int]) -> None:
    """The Review map's size at 1366x768, the Appeals map full size, and a small pane: every marker (the far
    photo 1.1 km away too) is inside the view and outside the legend's box, open or folded."""
    view = MapView()
    qtbot.addWidget(view, before_close_func=lambda w: w.shutdown())
    view.resize(*size)
    view.show()
    _show(qtbot, view, FAR)
    for legend_open in (True, False, True):
        view.set_legend_open(legend_open)
        layout = _layout(qtbot, view)
        box = layout["legend"]
        assert len(layout["markers"]) == 3
        for x, y in layout["markers"]:
            assert 0 <= x <= layout["width"] and 0 <= y <= layout["height"], (x, y, layout)
            radius = 9
            clear = (x + radius < box["left"] or x - radius > box["right"]
                     or y + radius < box["top"] or y - radius > box["bottom"])
            assert clear, (size, legend_open, (x, y), box)
            # nor the zoom buttons and the Larger map button, in the top left column (10-44 px wide)
            assert x - radius > 44 or y - radius > 118, (size, (x, y))
    folded = _layout(qtbot, view)
    view.set_legend_open(False)
    assert _layout(qtbot, view)["legend"]["bottom"] < folded["legend"]["bottom"]  # folding makes it smaller


def test_the_larger_map_opens_the_same_map_nearly_screen_size(qtbot, green_mbtiles: MBTilesSource) -> None:
    view = MapView(expandable=True)
    qtbot.addWidget(view, before_close_func=lambda w: w.shutdown())
    view.resize(420, 260)
    view.show()
    assert view.larger_button is not None and not view.larger_button.isEnabled()  # nothing shown yet
    layer = TileLayer("mbtiles", "curbdesk-tiles://mtest-green/{z}/{x}/{y}", "test", 12, 19, "", green_mbtiles)
    _show(qtbot, view, FAR)
    assert view.larger_button.isEnabled() and view.larger_button.geometry().left() < 50
    view.spec = MapSpec(FAR.citation_lat, FAR.citation_lon, FAR.accuracy_m, FAR.title, FAR.photos, FAR.zones,
                        tiles=layer)
    view.larger_button.click()
    dialog = view.dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.map.is_ready, timeout=30000)
    screen = dialog.screen().availableGeometry()
    assert dialog.width() >= screen.width() * 0.85 and dialog.height() >= screen.height() * 0.85
    assert dialog.map.spec is view.spec
    dialog.close()
    qtbot.waitUntil(lambda: dialog.map.web_view is None, timeout=5000)  # its web view released on closing
