"""The citation map as a self-contained HTML page (folium), that works with no internet.

``render_map_html(spec)`` is a pure function: a ``MapSpec`` in, HTML text out. Leaflet and jQuery
come from the installed ``xstatic-leaflet`` / ``xstatic-jquery`` packages as ``file://`` URLs (no
CDN: office networks block them, and a blocked script leaves a blank page). The street map under it is
``MapSpec.tiles`` (``desktop.services.maps.tiles.tile_layer``: the agency's MBTiles file, a tile server,
or streets drawn from the imported zones, served on the ``curbdesk-tiles`` scheme); without one the
markers sit on a plain background. Write the page to a file and load it by its ``file://`` URL
(``write_map_file``) so the browser may read the local assets.

The legend never covers a marker: it sits in the top right corner, folds away with its button, and the
view is fitted to every marker (the far photo too) inside the part of the map the legend leaves free.
Other screens add their own shapes with ``MapSpec.overlays`` (a polygon, line or point, its colour, a
tooltip and a legend line), which is how a compliance map of zones coloured by a measure is drawn.

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

import xstatic.pkg.jquery as xjquery
import xstatic.pkg.leaflet as xleaflet

from desktop.domain import geo
from desktop.services.maps.tiles import TileLayer

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
class Overlay:
    """A shape another screen adds to a map: a GeoJSON geometry, its colour, a tooltip and a legend line
    (overlays with the same legend text share one legend line)."""

    geometry: dict[str, Any]
    colour: str
    tip: str = ""
    legend: str = ""
    fill_opacity: float = 0.25
    key: str = ""
    """When set, clicking the shape tells the viewer (``MapView.picked``) this key (e.g. a zone code)."""


@dataclass(frozen=True)
class MapSpec:
    """What the citation map shows (``tiles``: the street map under it, None for a plain background)."""

    citation_lat: float
    citation_lon: float
    accuracy_m: float | None = None
    title: str = ""
    photos: tuple[PhotoPoint, ...] = ()
    zones: tuple[ZoneShape, ...] = ()
    tile_url: str = ""
    tile_attribution: str = ""
    max_zoom: int = 19
    tiles: TileLayer | None = None
    overlays: tuple[Overlay, ...] = ()
    marker: bool = True
    """Draw the citation's dot at (citation_lat, citation_lon); a map of zones alone (the compliance map)
    leaves it out, and is fitted to its overlays."""

    def tile_layer(self) -> TileLayer | None:
        """The street map: ``tiles``, else a tile server given the old way (``tile_url``), else none."""
        if self.tiles is not None:
            return self.tiles if self.tiles.url else None
        if self.tile_url:
            return TileLayer("server", self.tile_url, self.tile_attribution or "Map tiles", 0, self.max_zoom)
        return None


@lru_cache(maxsize=1)
def local_assets() -> dict[str, str]:
    """file:// URLs of Leaflet's JS and CSS and jQuery, from the installed xstatic packages."""
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


STREET_CONTEXT_M = 120.0
LEGEND_DESCRIPTION_CHARS = 70
SMALL_ZONE_M = 600.0
"""A zone whose bounding box is smaller than this (a blockface, a small lot) is fitted into view whole."""


def _bounds(spec: MapSpec) -> list[list[float]]:
    lats = [spec.citation_lat] + [p.lat for p in spec.photos]
    lons = [spec.citation_lon] + [p.lon for p in spec.photos]
    if not spec.marker and spec.overlays:
        lats, lons = [], []
    for overlay in spec.overlays:
        positions = geo.flatten_positions(overlay.geometry.get("coordinates"))
        if positions:
            box = geo.bounding_box(positions)
            lats += [box.min_lat, box.max_lat]
            lons += [box.min_lon, box.max_lon]
    for zone in spec.zones:
        positions = geo.flatten_positions(zone.geometry.get("coordinates"))
        if not positions:
            continue
        box = geo.bounding_box(positions)
        if geo.haversine_m(box.min_lat, box.min_lon, box.max_lat, box.max_lon) <= SMALL_ZONE_M:
            lats += [box.min_lat, box.max_lat]
            lons += [box.min_lon, box.max_lon]
    # Leave room for the accuracy circle and show the block around the point (about 50 m each way); over a
    # street map, the streets around it (about 120 m each way: the nearest crossings).
    if not lats:
        lats, lons = [spec.citation_lat], [spec.citation_lon]
    pad = max(spec.accuracy_m or 0.0, STREET_CONTEXT_M if spec.tile_layer() is not None else 50.0) / 111_320
    return [[min(lats) - pad, min(lons) - pad], [max(lats) + pad, max(lons) + pad]]


def zone_relation(spec: MapSpec, zone: ZoneShape) -> str:
    """Where the citation is relative to a zone, in words ("inside, 180 m from its edge")."""
    lon, lat = spec.citation_lon, spec.citation_lat
    kind = zone.geometry.get("type")
    coords: Any = zone.geometry.get("coordinates")
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


def legend_rows(spec: MapSpec) -> list[tuple[str, str]]:
    """The legend as (colour, text) lines: each colour is the one its shape is drawn in."""
    rows = [(CITATION_COLOUR, "citation" + (f" (GPS ±{spec.accuracy_m:.0f} m)" if spec.accuracy_m else ""))]
    if not spec.marker:
        rows = []
    if any(not p.far for p in spec.photos):
        rows.append((PHOTO_COLOUR, "photo GPS, dashed line = distance"))
    if any(p.far for p in spec.photos):
        rows.append((FAR_PHOTO_COLOUR, "photo GPS far from the citation"))
    for zone in spec.zones:
        rows.append((ZONE_COLOUR if zone.is_area else STREET_COLOUR, f"{zone.code}: {zone_relation(spec, zone)}"))
    seen: set[str] = set()
    for overlay in spec.overlays:
        if overlay.legend and overlay.legend not in seen:
            seen.add(overlay.legend)
            rows.append((overlay.colour, overlay.legend))
    return rows


def _short(text: str) -> str:
    """A zone's rules cut for the legend (the whole text is the zone's tooltip)."""
    return text if len(text) <= LEGEND_DESCRIPTION_CHARS else text[:LEGEND_DESCRIPTION_CHARS - 1].rstrip() + "…"


def _legend(spec: MapSpec) -> str:
    rows = [f"<span style='color:{CITATION_COLOUR}'>&#9679;</span> citation"
            + (f" (GPS &plusmn;{spec.accuracy_m:.0f} m)" if spec.accuracy_m else "")] if spec.marker else []
    if any(not p.far for p in spec.photos):
        rows.append(f"<span style='color:{PHOTO_COLOUR}'>&#9679;</span> photo GPS, dashed line = distance")
    if any(p.far for p in spec.photos):
        rows.append(f"<span style='color:{FAR_PHOTO_COLOUR}'>&#9679;</span> photo GPS far from the citation")
    for zone in spec.zones:
        colour = ZONE_COLOUR if zone.is_area else STREET_COLOUR
        rows.append(f"<span style='color:{colour}'>&#9644;</span> {html.escape(zone.code)}: "
                    f"{html.escape(zone_relation(spec, zone))}"
                    + (f"<br>&nbsp;&nbsp;<span style='color:#666'>{html.escape(_short(zone.description))}</span>"
                       if zone.description else ""))
    if not spec.zones and spec.marker:
        rows.append("no zone known at this location")
    seen: set[str] = set()
    for overlay in spec.overlays:
        if overlay.legend and overlay.legend not in seen:
            seen.add(overlay.legend)
            rows.append(f"<span style='color:{overlay.colour}'>&#9632;</span> {html.escape(overlay.legend)}")
    return "<br>".join(rows)


def map_data(spec: MapSpec) -> dict[str, Any]:
    """What the page draws, as plain JSON: positions, distances, tooltips and the legend (HTML-escaped)."""
    lat, lon = spec.citation_lat, spec.citation_lon
    photos = []
    for photo in spec.photos:
        d = distance_m(lat, lon, photo.lat, photo.lon)
        photos.append({"lat": photo.lat, "lon": photo.lon, "far": photo.far,
                       "label": html.escape(f"{photo.label}: {d:.0f} m"),
                       "tip": html.escape(f"{photo.label} GPS ({photo.lat:.6f}, {photo.lon:.6f}), "
                                          f"{d:.0f} m from the citation")})
    zones = [{"geometry": z.geometry, "area": z.is_area, "colour": ZONE_COLOUR if z.is_area else STREET_COLOUR,
              "tip": html.escape(f"{z.code} {z.name}".strip() + (f": {z.description}" if z.description else ""))}
             for z in spec.zones]
    layer = spec.tile_layer()
    if layer is None:
        why = spec.tiles.note if spec.tiles is not None and spec.tiles.note else "No map tiles configured: plain background."
        note = f"<i>{html.escape(why)}</i><br>"
    else:
        note = f"<i>{html.escape(layer.note)}</i><br>" if layer.note else ""
    overlays = [{"geometry": o.geometry, "colour": o.colour, "tip": html.escape(o.tip), "fill": o.fill_opacity,
                 "key": o.key}
                for o in spec.overlays]
    return {
        "lat": lat, "lon": lon, "accuracy": spec.accuracy_m, "marker": spec.marker,
        "accuracy_tip": f"GPS accuracy ±{spec.accuracy_m:.0f} m" if spec.accuracy_m else "",
        "title": html.escape(spec.title or "Citation location"), "photos": photos, "zones": zones,
        "overlays": overlays,
        "legend": note + _legend(spec), "bounds": _bounds(spec), "max_zoom": min(spec.max_zoom, 19),
        "colours": {"citation": CITATION_COLOUR, "photo": PHOTO_COLOUR, "far": FAR_PHOTO_COLOUR},
    }


#: Draws a citation on the page (every layer in one group, cleared on each call), fits it into view and
#: sets the page title to READY_TITLE:<serial> once done. The first page calls it with the map's own
#: data; the review screen calls it again for each next citation instead of loading a new page, which
#: keeps "next" well under the 150 ms budget (a page load in WebEngine takes 100-250 ms here).
#: cdFit keeps the markers out of the legend's corner: the legend's height is left free at the top, or its
#: width at the right, whichever leaves the larger map (room for the photo labels right of their dots too).
_DRAW_JS = """
var cdMap = {name};
var cdGroup = L.featureGroup().addTo(cdMap);
var cdBounds = null, cdMaxZoom = 19, cdLabels = false, CD_LEFT = 56, cdPicks = 0;
function cdLegendRect() {
  var box = document.getElementById('cd-legend-box');
  var r = box.getBoundingClientRect(), m = cdMap.getContainer().getBoundingClientRect();
  return {left: r.left - m.left, top: r.top - m.top, right: r.right - m.left, bottom: r.bottom - m.top};
}
function cdFit() {
  cdMap.invalidateSize();
  if (!cdBounds) { return; }
  var size = cdMap.getSize(), lg = cdLegendRect(), pad = 24;
  var right = cdLabels ? 130 : pad;  // a photo's label runs to the right of its dot
  // the zoom buttons (and the window's Larger map button) keep the left column, the scale bar the bottom
  var tl = [CD_LEFT, pad], br = [right, 56];
  var needTop = lg.bottom + 14, needRight = size.x - lg.left + 14;
  if (needTop * size.x <= needRight * size.y) { tl[1] = Math.max(pad, needTop); }
  else { br[0] = Math.max(right, needRight + (cdLabels ? 110 : 0)); }
  if (size.x - tl[0] - br[0] < 60 || size.y - tl[1] - br[1] < 60) { tl = [CD_LEFT, pad]; br = [right, pad]; }
  cdMap.fitBounds(cdBounds, {maxZoom: cdMaxZoom, paddingTopLeft: tl, paddingBottomRight: br, animate: false});
}
var cdLegendChosen = false;  // the user opened or folded the legend: keep it so
function cdAutoFold() {
  // a legend that would take more than a fifth of a small map starts folded (its button opens it)
  if (cdLegendChosen) { return; }
  var box = document.getElementById('cd-legend-box'), size = cdMap.getSize();
  box.classList.remove('cd-folded');
  var r = box.getBoundingClientRect();
  var fold = r.width * r.height > size.x * size.y * 0.2;
  box.classList.toggle('cd-folded', fold);
  document.getElementById('cd-legend-toggle').textContent = fold ? 'Legend \u25BE' : 'Legend \u25B4';
}
function cdToggleLegend(open) {
  var box = document.getElementById('cd-legend-box');
  cdLegendChosen = true;
  if (open === undefined) { open = box.classList.contains('cd-folded'); }
  box.classList.toggle('cd-folded', !open);
  document.getElementById('cd-legend-toggle').textContent = open ? 'Legend \u25B4' : 'Legend \u25BE';
  cdFit();
}
function cdLayout() {
  var pts = [];
  cdGroup.eachLayer(function (l) {
    if (l instanceof L.CircleMarker && !(l instanceof L.Circle)) { var p = cdMap.latLngToContainerPoint(l.getLatLng()); pts.push([p.x, p.y]); }
  });
  var size = cdMap.getSize();
  return JSON.stringify({legend: cdLegendRect(), markers: pts, width: size.x, height: size.y,
                         zoom: cdMap.getZoom(), tiles: document.querySelectorAll('img.leaflet-tile-loaded').length});
}
function cdShow(d, serial) {
  cdGroup.clearLayers();
  d.zones.forEach(function (z) {
    L.geoJSON(z.geometry, {style: {color: z.colour, weight: z.area ? 2 : 5, opacity: 0.8, fillColor: z.colour,
                                   fillOpacity: z.area ? 0.08 : 0.0, dashArray: z.area ? '6 4' : null}})
      .bindTooltip(z.tip, {sticky: true}).addTo(cdGroup);
  });
  d.overlays.forEach(function (o) {
    var shape = L.geoJSON(o.geometry, {style: {color: o.colour, weight: 2, opacity: 0.9, fillColor: o.colour,
                                               fillOpacity: o.fill},
      pointToLayer: function (f, latlng) { return L.circleMarker(latlng, {radius: 6, color: 'white', weight: 2,
                                                                          fillColor: o.colour, fillOpacity: 1}); }});
    if (o.tip) { shape.bindTooltip(o.tip, {sticky: true}); }
    if (o.key) {  // the viewer reads the pick from the URL's fragment (MapView.picked)
      shape.on('click', function () { cdPicks += 1; window.location.hash = 'pick:' + cdPicks + ':' + encodeURIComponent(o.key); });
    }
    shape.addTo(cdGroup);
  });
  if (d.accuracy) {
    L.circle([d.lat, d.lon], {radius: d.accuracy, color: d.colours.citation, weight: 1, fill: true,
                              fillOpacity: 0.12}).bindTooltip(d.accuracy_tip).addTo(cdGroup);
  }
  d.photos.forEach(function (p) {
    var colour = p.far ? d.colours.far : d.colours.photo;
    L.polyline([[d.lat, d.lon], [p.lat, p.lon]], {color: colour, weight: 2, dashArray: '4 4'})
      .bindTooltip(p.label).addTo(cdGroup);
    L.circleMarker([p.lat, p.lon], {radius: 6, color: 'white', weight: 2, fill: true, fillColor: colour,
                                    fillOpacity: 1.0}).bindTooltip(p.tip).addTo(cdGroup);
    L.marker([p.lat, p.lon], {interactive: false, icon: L.divIcon({className: '', iconSize: [1, 1],
      iconAnchor: [-10, 8], html: "<span class='cd-label'>" + p.label + "</span>"})}).addTo(cdGroup);
  });
  if (d.marker) {
    L.circleMarker([d.lat, d.lon], {radius: 8, color: 'white', weight: 2, fill: true,
                                    fillColor: d.colours.citation, fillOpacity: 1.0})
      .bindTooltip(d.title).addTo(cdGroup);
  }
  document.getElementById('cd-legend').innerHTML = d.legend;
  cdBounds = d.bounds; cdMaxZoom = d.max_zoom; cdLabels = d.photos.length > 0;
  cdMap.invalidateSize();
  cdAutoFold();
  cdFit();
  document.title = '{ready}:' + serial;
}
window.addEventListener('resize', function () { cdMap.invalidateSize(); cdAutoFold(); cdFit(); });
"""

_LEGEND_CSS = (
    "#cd-legend-box{position:absolute;right:8px;top:8px;z-index:1000;max-width:min(46%,420px);"
    "max-height:45%;overflow:auto;font:11px sans-serif;color:#333;background:rgba(255,255,255,.92);"
    "border:1px solid #aab;border-radius:4px;padding:2px 6px 4px 6px;}"
    "#cd-legend-box.cd-folded #cd-legend{display:none;}"
    ".leaflet-control-attribution{font-size:9px !important;max-width:60%;white-space:nowrap;overflow:hidden;"
    "text-overflow:ellipsis;}"
    "#cd-legend-toggle{font:600 11px sans-serif;border:none;background:none;padding:2px 0;cursor:pointer;"
    "color:#1f2a37;}"
)


def render_map_html(spec: MapSpec, serial: int = 0) -> str:
    """The whole page for ``spec``; only local ``file://`` assets are referenced.

    folium builds the page (Leaflet map and options, scale, the tile layer when one is configured,
    assets); the citation's layers are drawn by ``cdShow`` so that a viewer can redraw the next
    citation in the same page (``update_script``). The title becomes ``READY_TITLE:<serial>`` when drawn.
    """
    import folium  # lazy: folium costs ~500 ms; the review queue and every map view import this module
    from branca.element import Template  # lazy: part of folium's cost

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
        + _LEGEND_CSS + "</style>"
    ))
    layer = spec.tile_layer()
    if layer is not None:
        # Leaflet magnifies the closest zoom the tiles have and shrinks the farthest (maxNativeZoom, minNativeZoom)
        folium.TileLayer(tiles=layer.url, attr=html.escape(layer.attribution or "Map tiles"), max_zoom=spec.max_zoom,
                         max_native_zoom=min(layer.max_native_zoom, spec.max_zoom),
                         min_native_zoom=min(layer.min_zoom, layer.max_native_zoom), name="tiles").add_to(m)
    root.html.add_child(folium.Element(
        "<div id='cd-legend-box'><button id='cd-legend-toggle' type='button' onclick='cdToggleLegend()' "
        "title='Show or hide the legend'>Legend &#9652;</button><div id='cd-legend'></div></div>"))
    draw = _DRAW_JS.replace("{name}", m.get_name()).replace("{ready}", READY_TITLE)
    data = json.dumps(map_data(spec)).replace("</", "<\\/")
    script = folium.MacroElement()  # type: ignore[no-untyped-call]
    script._template = Template(
        "{% macro script(this, kwargs) %}" + draw
        + f"cdShow({data}, {int(serial)});\nwindow.addEventListener('load', cdFit);\n{{% endmacro %}}")
    m.add_child(script)
    return str(root.render())


def update_script(spec: MapSpec, serial: int) -> str:
    """JavaScript that redraws an already loaded map page for another citation."""
    data = json.dumps(map_data(spec)).replace("</", "<\\/")
    return f"cdShow({data}, {int(serial)});"


def page_key(spec: MapSpec) -> tuple[str, str]:
    """Two specs with the same key can share a loaded page (only the street map is baked into it)."""
    layer = spec.tile_layer()
    return (layer.url, layer.attribution) if layer is not None else ("", "")


def write_map_file(spec: MapSpec, directory: Path | None = None, name: str = "citation-map.html") -> Path:
    """Render the page to ``directory/name`` (a new temporary folder when none is given)."""
    folder = Path(directory) if directory is not None else Path(tempfile.mkdtemp(prefix="curbdesk-map-"))
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    tmp = target.with_suffix(".tmp")
    tmp.write_text(render_map_html(spec), encoding="utf-8")
    tmp.replace(target)
    return target
