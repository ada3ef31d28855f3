"""The citation map as a self-contained HTML page (folium), that works with no internet.

``render_map_html(spec)`` is a pure function: a ``MapSpec`` in, HTML text out. Leaflet and jQuery
come from the installed ``xstatic-leaflet`` / ``xstatic-jquery`` packages as ``file://`` URLs (no
CDN: office networks block them, and a blocked script leaves a blank page). Tiles come from the
``map.tile_url`` setting when one is configured; without one, or when the tile server does not
answer, the markers sit on a plain background. Write the page to a file and load it by its
``file://`` URL (``write_map_file``) so the browser may read the local assets.

folium is imported only when a map is rendered (it costs about 0.3-0.9 s to import).
Used by the review screen, and meant for the appeals packet too (render, then grab a PNG).
"""

from __future__ import annotations

import html
import json
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from desktop.domain import geo

PLAIN_BACKGROUND = "#e9ecef"
READY_TITLE = "curbdesk-map-ready"
"""The page's title once the map has been laid out (a viewer can wait for it)."""
CITATION_COLOUR = "#c62828"
PHOTO_COLOUR = "#1565c0"
FAR_PHOTO_COLOUR = "#ef6c00"
ZONE_COLOUR = "#2e7d32"
STREET_COLOUR = "#6a1b9a"


@dataclass(frozen=True)
class PhotoPoint:
    lat: float
    lon: float
    label: str
    far: bool = False
    """Farther from the citation than the review threshold (drawn in orange)."""


@dataclass(frozen=True)
class ZoneShape:
    code: str
    name: str
    geometry: dict[str, Any]
    """A GeoJSON geometry (Polygon, MultiPolygon, LineString, MultiLineString)."""
    description: str = ""
    is_area: bool = True


@dataclass(frozen=True)
class MapSpec:
    """What the citation map shows."""

    citation_lat: float
    citation_lon: float
    accuracy_m: float | None = None
    title: str = ""
    photos: tuple[PhotoPoint, ...] = ()
    zones: tuple[ZoneShape, ...] = ()
    tile_url: str = ""
    tile_attribution: str = ""
    max_zoom: int = 19


@lru_cache(maxsize=1)
def local_assets() -> dict[str, str]:
    """file:// URLs of Leaflet's JS and CSS and jQuery, from the installed xstatic packages."""
    import xstatic.pkg.jquery as xjquery
    import xstatic.pkg.leaflet as xleaflet

    leaflet = Path(xleaflet.BASE_DIR)
    jquery = Path(xjquery.BASE_DIR)
    files = {"leaflet_js": leaflet / "leaflet.js", "leaflet_css": leaflet / "leaflet.css",
             "jquery_js": jquery / "jquery.min.js"}
    for name, path in files.items():
        if not path.is_file():
            raise FileNotFoundError(f"map asset {name} missing at {path}")
    return {name: path.resolve().as_uri() for name, path in files.items()}


def distance_m(a_lat: float, a_lon: float, b_lat: float, b_lon: float) -> float:
    return geo.haversine_m(a_lat, a_lon, b_lat, b_lon)


SMALL_ZONE_M = 600.0
"""A zone whose bounding box is smaller than this (a blockface, a small lot) is fitted into view whole."""


def _bounds(spec: MapSpec) -> list[list[float]]:
    lats = [spec.citation_lat] + [p.lat for p in spec.photos]
    lons = [spec.citation_lon] + [p.lon for p in spec.photos]
    for zone in spec.zones:
        positions = geo.flatten_positions(zone.geometry.get("coordinates"))
        if not positions:
            continue
        box = geo.bounding_box(positions)
        if geo.haversine_m(box.min_lat, box.min_lon, box.max_lat, box.max_lon) <= SMALL_ZONE_M:
            lats += [box.min_lat, box.max_lat]
            lons += [box.min_lon, box.max_lon]
    # Leave room for the accuracy circle and show the block around the point (about 50 m each way).
    pad = max(spec.accuracy_m or 0.0, 50.0) / 111_320
    return [[min(lats) - pad, min(lons) - pad], [max(lats) + pad, max(lons) + pad]]


def zone_relation(spec: MapSpec, zone: ZoneShape) -> str:
    """Where the citation is relative to a zone, in words ("inside, 180 m from its edge")."""
    lon, lat = spec.citation_lon, spec.citation_lat
    kind = zone.geometry.get("type")
    coords = zone.geometry.get("coordinates")
    try:
        if kind in ("Polygon", "MultiPolygon"):
            polygons = [coords] if kind == "Polygon" else coords
            edge = min(geo.distance_to_polygon_edge_m(lon, lat, poly) for poly in polygons)
            inside = geo.point_in_geometry(lon, lat, str(kind), coords)
            return f"inside, {edge:,.0f} m from its edge" if inside else f"outside, {edge:,.0f} m away"
        lines = [coords] if kind == "LineString" else coords
        return f"{min(geo.distance_to_line_m(lon, lat, line) for line in lines):,.0f} m from the kerb line"
    except (TypeError, ValueError, IndexError):
        return "position unknown"


def _legend(spec: MapSpec) -> str:
    rows = [f"<span style='color:{CITATION_COLOUR}'>&#9679;</span> citation"
            + (f" (GPS &plusmn;{spec.accuracy_m:.0f} m)" if spec.accuracy_m else "")]
    if spec.photos:
        rows.append(f"<span style='color:{PHOTO_COLOUR}'>&#9679;</span> photo GPS, dashed line = distance")
    for zone in spec.zones:
        colour = ZONE_COLOUR if zone.is_area else STREET_COLOUR
        rows.append(f"<span style='color:{colour}'>&#9644;</span> {html.escape(zone.code)}: "
                    f"{html.escape(zone_relation(spec, zone))}")
    if not spec.zones:
        rows.append("no zone known at this location")
    return "<br>".join(rows)


def render_map_html(spec: MapSpec) -> str:
    """The whole page for ``spec``; only local ``file://`` assets are referenced."""
    import folium
    from branca.element import Template  # type: ignore[attr-defined]

    assets = local_assets()
    m = folium.Map(location=[spec.citation_lat, spec.citation_lon], zoom_start=18, tiles=None,
                   control_scale=True, max_zoom=spec.max_zoom, prefer_canvas=False)
    # folium's stock page pulls Leaflet, jQuery, Bootstrap and Font Awesome from CDNs: keep only
    # what the map needs, from the installed packages.
    m.default_js = [("leaflet", assets["leaflet_js"]), ("jquery", assets["jquery_js"])]
    m.default_css = [("leaflet_css", assets["leaflet_css"])]
    root: Any = m.get_root()
    root.header.add_child(folium.Element(
        f"<style>.leaflet-container{{background:{PLAIN_BACKGROUND};}}"
        ".cd-label{font:600 12px sans-serif;color:#222;background:rgba(255,255,255,.85);"
        "border:1px solid #999;border-radius:3px;padding:1px 4px;white-space:nowrap;}"
        ".cd-note{font:11px sans-serif;color:#444;background:rgba(255,255,255,.8);padding:2px 6px;}</style>"
    ))
    if spec.tile_url:
        folium.TileLayer(tiles=spec.tile_url, attr=spec.tile_attribution or "Map tiles", max_zoom=spec.max_zoom,
                         max_native_zoom=min(spec.max_zoom, 19), name="tiles").add_to(m)
    for zone in spec.zones:
        colour = ZONE_COLOUR if zone.is_area else STREET_COLOUR
        tip = html.escape(f"{zone.code} {zone.name}".strip() + (f": {zone.description}" if zone.description else ""))
        folium.GeoJson(
            {"type": "Feature", "properties": {}, "geometry": zone.geometry},
            style_function=lambda _f, c=colour, area=zone.is_area: {
                "color": c, "weight": 2 if area else 5, "opacity": 0.8,
                "fillColor": c, "fillOpacity": 0.08 if area else 0.0, "dashArray": "6 4" if area else None},
            tooltip=tip,
        ).add_to(m)
    lat, lon = spec.citation_lat, spec.citation_lon
    if spec.accuracy_m:
        folium.Circle([lat, lon], radius=float(spec.accuracy_m), color=CITATION_COLOUR, weight=1,
                      fill=True, fill_opacity=0.12,
                      tooltip=f"GPS accuracy ±{spec.accuracy_m:.0f} m").add_to(m)
    for photo in spec.photos:
        d = distance_m(lat, lon, photo.lat, photo.lon)
        colour = FAR_PHOTO_COLOUR if photo.far else PHOTO_COLOUR
        folium.PolyLine(  # type: ignore[no-untyped-call]
            [[lat, lon], [photo.lat, photo.lon]], color=colour, weight=2, dash_array="4 4",
            tooltip=f"{photo.label}: {d:.0f} m from the citation").add_to(m)
        folium.CircleMarker([photo.lat, photo.lon], radius=6, color="white", weight=2, fill=True,
                            fill_color=colour, fill_opacity=1.0,
                            tooltip=f"{photo.label} GPS ({photo.lat:.6f}, {photo.lon:.6f})").add_to(m)
        folium.Marker([photo.lat, photo.lon], icon=folium.DivIcon(
            html=f"<span class='cd-label'>{html.escape(photo.label)}: {d:.0f} m</span>",
            icon_size=(1, 1), icon_anchor=(-10, 8))).add_to(m)
    folium.CircleMarker([lat, lon], radius=8, color="white", weight=2, fill=True, fill_color=CITATION_COLOUR,
                        fill_opacity=1.0, tooltip=html.escape(spec.title or "Citation location")).add_to(m)
    note = "" if spec.tile_url else "<i>No map tiles configured: plain background.</i><br>"
    root.html.add_child(folium.Element(
        "<div class='cd-note' style='position:absolute;right:8px;top:8px;z-index:1000;max-width:60%'>"
        f"{note}{_legend(spec)}</div>"))
    bounds = json.dumps(_bounds(spec))
    name = m.get_name()
    # The view may be resized after the page loads (an embedded browser often is): recompute the
    # map's size and fit the citation and every photo again whenever that happens. Added last, so
    # its script runs after every layer exists.
    fit = folium.MacroElement()  # type: ignore[no-untyped-call]
    fit._template = Template(
        "{% macro script(this, kwargs) %}"
        f"function cdFit(){{ {name}.invalidateSize(); {name}.fitBounds({bounds}, "
        f"{{maxZoom: {min(spec.max_zoom, 19)}, padding: [24, 24], animate: false}}); }}\n"
        "cdFit(); window.addEventListener('resize', cdFit);\n"
        f"window.addEventListener('load', function(){{ cdFit(); document.title = '{READY_TITLE}'; }});"
        "{% endmacro %}")
    m.add_child(fit)
    return str(root.render())


def write_map_file(spec: MapSpec, directory: Path | None = None, name: str = "citation-map.html") -> Path:
    """Render the page to ``directory/name`` (a new temporary folder when none is given)."""
    folder = Path(directory) if directory is not None else Path(tempfile.mkdtemp(prefix="curbdesk-map-"))
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    tmp = target.with_suffix(".tmp")
    tmp.write_text(render_map_html(spec), encoding="utf-8")
    tmp.replace(target)
    return target


def spec_json(spec: MapSpec) -> str:
    """A stable text form of the spec (for caching rendered pages)."""
    return json.dumps({
        "c": [spec.citation_lat, spec.citation_lon, spec.accuracy_m, spec.title],
        "p": [[p.lat, p.lon, p.label, p.far] for p in spec.photos],
        "z": [[z.code, z.is_area] for z in spec.zones],
        "t": [spec.tile_url, spec.tile_attribution],
    }, sort_keys=True)
