"""The citation map page: local Leaflet and jQuery only, every layer present, tiles only when configured."""

from __future__ import annotations

import json
import re
from pathlib import Path

from desktop.services.review.map_html import (
    MapSpec,
    PhotoPoint,
    ZoneShape,
    local_assets,
    map_data,
    render_map_html,
    update_script,
    write_map_file,
)

SPEC = MapSpec(
    34.0500, -118.2500, 8.0, "HH0001-000001 7ABC123",
    photos=(PhotoPoint(34.0501, -118.2501, "Photo 1"), PhotoPoint(34.0600, -118.2500, "Photo 2", far=True)),
    zones=(ZoneShape("Z-A", "District A", {"type": "Polygon", "coordinates": [[
        [-118.252, 34.048], [-118.248, 34.048], [-118.248, 34.052], [-118.252, 34.052], [-118.252, 34.048]]]},
        "metered Mon-Sat 08:00-20:00"),
        ZoneShape("Z-SF-7", "Blockface", {"type": "LineString", "coordinates": [[-118.2502, 34.0499],
                                                                                [-118.2498, 34.0499]]},
                  "2-hour limit", is_area=False)),
)


def test_the_page_uses_only_local_files() -> None:
    page = render_map_html(SPEC)
    assets = local_assets()
    assert assets["leaflet_js"].startswith("file:///") and assets["leaflet_js"].endswith("/leaflet.js")
    for url in assets.values():
        assert url in page
        assert Path(url.removeprefix("file://")).is_file()
    assert not re.search(r"https?://", page), re.findall(r"https?://[^\"' ]+", page)
    assert "cdn" not in page.lower() and "bootstrap" not in page.lower()


def test_every_layer_is_on_the_map() -> None:
    page = render_map_html(SPEC)
    data = map_data(SPEC)
    assert json.dumps(data).replace("</", "<\\/") in page and "cdShow(" in page
    assert (data["lat"], data["lon"], data["accuracy"]) == (34.05, -118.25, 8.0)  # the GPS accuracy circle
    assert [p["label"] for p in data["photos"]] == ["Photo 1: 14 m", "Photo 2: 1112 m"]  # distance labels
    assert [p["far"] for p in data["photos"]] == [False, True]
    assert [z["geometry"]["type"] for z in data["zones"]] == ["Polygon", "LineString"]
    assert "Z-A: inside, 184 m from its edge" in data["legend"]
    assert "Z-SF-7: 11 m from the kerb line" in data["legend"]
    assert "No map tiles configured" in data["legend"] and "L.tileLayer(" not in page
    (south, west), (north, east) = data["bounds"]
    assert south < 34.05 < 34.06 < north and west < -118.2501 < -118.25 < east
    for layer in ("L.circle(", "L.circleMarker(", "L.polyline(", "L.geoJSON(", "L.divIcon("):
        assert layer in page
    script = update_script(SPEC, 7)
    assert script.startswith("cdShow({") and script.endswith(", 7);")


def test_a_configured_tile_server_is_used() -> None:
    spec = MapSpec(34.05, -118.25, None, tile_url="https://tiles.example.gov/{z}/{x}/{y}.png",
                   tile_attribution="City GIS")
    page = render_map_html(spec)
    assert "L.tileLayer(" in page and "https://tiles.example.gov/{z}/{x}/{y}.png" in page
    assert "City GIS" in page and "No map tiles configured" not in page


def test_write_map_file(tmp_path: Path) -> None:
    path = write_map_file(SPEC, tmp_path)
    assert path.parent == tmp_path and path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_the_legend_colours_are_the_colours_drawn() -> None:
    """The legend said blue where the far photo's line is orange: each legend colour is one the map draws."""
    from desktop.services.review.map_html import FAR_PHOTO_COLOUR, PHOTO_COLOUR, legend_rows

    data = map_data(SPEC)
    drawn = {data["colours"]["citation"]} | {z["colour"] for z in data["zones"]}
    drawn |= {data["colours"]["far"] if p["far"] else data["colours"]["photo"] for p in data["photos"]}
    rows = legend_rows(SPEC)
    assert {colour for colour, _text in rows} == drawn
    assert (FAR_PHOTO_COLOUR, "photo GPS far from the citation") in rows
    assert f"color:{FAR_PHOTO_COLOUR}" in data["legend"]
    only_far = MapSpec(34.05, -118.25, None, photos=(PhotoPoint(34.06, -118.25, "Photo 1", far=True),))
    assert PHOTO_COLOUR not in {colour for colour, _text in legend_rows(only_far)}  # no blue row, no blue line
    assert f"color:{PHOTO_COLOUR}" not in map_data(only_far)["legend"]


def test_other_screens_add_shapes_with_a_legend() -> None:
    """The compliance map (issue 18) colours zones by a measure: overlays with their legend lines."""
    from desktop.services.review.map_html import Overlay, legend_rows

    square = {"type": "Polygon", "coordinates": [[[-118.26, 34.04], [-118.24, 34.04], [-118.24, 34.06],
                                                  [-118.26, 34.06], [-118.26, 34.04]]]}
    spec = MapSpec(34.05, -118.25, None, overlays=(
        Overlay(square, "#d32f2f", "Z-A: 41 % compliant", "under 50 % compliant"),
        Overlay({"type": "Point", "coordinates": [-118.27, 34.07]}, "#388e3c", "meter 12", "over 90 % compliant")))
    data = map_data(spec)
    assert [o["colour"] for o in data["overlays"]] == ["#d32f2f", "#388e3c"]
    assert ("#d32f2f", "under 50 % compliant") in legend_rows(spec) and "over 90 % compliant" in data["legend"]
    (south, west), (north, east) = data["bounds"]
    assert south < 34.04 and north > 34.07 and west < -118.27 and east > -118.24  # the view fits the overlays
    assert "d.overlays.forEach" in render_map_html(spec)
