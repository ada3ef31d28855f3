"""Street map tiles drawn with Pillow from geometry we hold: imported blockfaces and zones, street lines.

Web map tiles (256 pixels, spherical Web Mercator EPSG:3857, XYZ numbering as every web map uses):
streets as white lines with a grey casing, wider as the map zooms in, named along the line from zoom 15;
zone polygons tinted with their name. Used two ways: on demand, when no MBTiles file is installed
(``StreetTileSource`` over the imported zones), and to build the demo's MBTiles (``render_area``).

A street name is drawn at the same world position whichever tile draws it (positions are computed in
world pixels, and each tile draws every label that reaches into it), so names run on across tile edges.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from PIL import Image, ImageDraw, ImageFont
from shapely import STRtree, box
from shapely.geometry import LineString

TILE = 256
SCALE = 2  # drawn at twice the size, then reduced: smooth lines without an antialiasing library
MAX_LAT = 85.05112878
BACKGROUND = (242, 239, 233)
STREET = (255, 255, 255)
CASING = (190, 184, 176)
AREA_FILL = (205, 226, 201, 90)
AREA_LINE = (120, 160, 120, 200)
LABEL = (60, 60, 60)
AREA_LABEL = (90, 120, 90)
LABEL_MARGIN_PX = 160
"""World pixels around a tile in which a feature may still put a label into it."""
STREET_SUFFIX = re.compile(
    r"\b(st|street|ave|av|avenue|blvd|boulevard|bl|dr|drive|rd|road|way|pl|place|ter|terrace|ln|lane|ct|court|"
    r"hwy|highway|pkwy|parkway|cir|circle|aly|alley|plz|plaza|sq|square|row|walk|loop|path|trl|expy|fwy|broadway)\.?$",
    re.IGNORECASE)


@dataclass(frozen=True)
class MapFeature:
    """Something drawn on the street map. ``parts``: lines (streets) or outer rings (areas) of (lon, lat)."""

    kind: str  # "street" or "area"
    name: str
    parts: tuple[tuple[tuple[float, float], ...], ...]


def street_label(name: str) -> str:
    """The street name to print for a feature's name, or "" when it does not read as one.

    Street-sweeping blockfaces are named "Collins St (Geary Blvd - Anza St)": the street is before the
    parenthesis. A name that does not end like a street ("Lone Mountain/USF Time limited") is not printed."""
    text = name.split(" (", 1)[0].strip()
    return text if STREET_SUFFIX.search(text) else ""


def world_pixel(lon: float, lat: float, zoom: int) -> tuple[float, float]:
    """Web Mercator world pixel of a position at ``zoom`` (256 << zoom pixels around the world)."""
    lat = max(-MAX_LAT, min(MAX_LAT, lat))
    size = TILE * (1 << zoom)
    x = (lon + 180.0) / 360.0 * size
    s = math.sin(math.radians(lat))
    y = (0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)) * size
    return x, y


def lonlat(px: float, py: float, zoom: int) -> tuple[float, float]:
    size = TILE * (1 << zoom)
    lon = px / size * 360.0 - 180.0
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * py / size))))
    return lon, lat


def tile_of(lon: float, lat: float, zoom: int) -> tuple[int, int]:
    x, y = world_pixel(lon, lat, zoom)
    n = (1 << zoom) - 1
    return max(0, min(n, int(x // TILE))), max(0, min(n, int(y // TILE)))


def _street_width(zoom: int) -> float:
    """Street width in screen pixels at a zoom (a 12 m street is about 9 px at zoom 17 at 34° north)."""
    return {13: 1.2, 14: 1.8, 15: 3.0, 16: 5.0, 17: 8.0, 18: 13.0}.get(zoom, 1.0 if zoom < 13 else 18.0)


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # pragma: no cover - Pillow without FreeType
        return ImageFont.load_default()


@lru_cache(maxsize=8192)
def _text_length(text: str, size: int) -> float:
    return float(_font(size).getlength(text))


@lru_cache(maxsize=4096)
def _label_image(text: str, size: int, colour: tuple[int, int, int]) -> Image.Image:
    font = _font(size)
    left, top, right, bottom = font.getbbox(text, stroke_width=2 * SCALE)
    img = Image.new("RGBA", (int(right - left) + 4, int(bottom - top) + 4), (0, 0, 0, 0))
    ImageDraw.Draw(img).text((2 - left, 2 - top), text, font=font, fill=colour + (255,), stroke_width=2 * SCALE,
                             stroke_fill=(255, 255, 255, 235))
    return img


@dataclass(frozen=True)
class _Label:
    text: str
    x: float  # world pixels (at SCALE) of the label's centre
    y: float
    angle: float  # degrees, counter-clockwise, so that the text reads left to right
    area: bool


class StreetIndex:
    """Features with a spatial index (shapely STRtree over their bounding boxes in degrees)."""

    def __init__(self, features: Iterable[MapFeature]) -> None:
        self.features = [f for f in features if f.parts]
        boxes = []
        for f in self.features:
            lons = [p[0] for part in f.parts for p in part]
            lats = [p[1] for part in f.parts for p in part]
            boxes.append(box(min(lons), min(lats), max(lons), max(lats)))
        self._tree = STRtree(boxes) if boxes else None

    def __len__(self) -> int:
        return len(self.features)

    def query(self, west: float, south: float, east: float, north: float) -> list[MapFeature]:
        if self._tree is None:
            return []
        hits = sorted(int(i) for i in self._tree.query(box(west, south, east, north)))
        return [self.features[i] for i in hits]

    def bounds(self) -> tuple[float, float, float, float] | None:
        if not self.features:
            return None
        lons = [p[0] for f in self.features for part in f.parts for p in part]
        lats = [p[1] for f in self.features for part in f.parts for p in part]
        return min(lons), min(lats), max(lons), max(lats)


def _labels(features: Sequence[MapFeature], zoom: int) -> list[_Label]:
    """Where names go, in world pixels at SCALE: one per street part long enough for its name, one per area."""
    out: list[_Label] = []
    size = _label_size(zoom)
    for f in features:
        if f.kind == "area":
            if zoom < 14 or not f.name:
                continue
            ring = f.parts[0]
            pts = [world_pixel(lon, lat, zoom) for lon, lat in ring]
            xs, ys = [p[0] for p in pts], [p[1] for p in pts]
            width = _text_length(f.name, size + 2)
            if max(xs) - min(xs) < width / SCALE * 1.1:  # the name must fit inside the area
                continue
            out.append(_Label(f.name, (min(xs) + max(xs)) / 2 * SCALE, (min(ys) + max(ys)) / 2 * SCALE, 0.0, True))
            continue
        if zoom < 15:
            continue
        text = street_label(f.name)
        if not text:
            continue
        need = _text_length(text, size) / SCALE + 16
        for part in f.parts:
            pts = [world_pixel(lon, lat, zoom) for lon, lat in part]
            best = max(((math.dist(a, b), a, b) for a, b in zip(pts, pts[1:], strict=False)), default=None,
                       key=lambda t: t[0])
            if best is None or best[0] < need:
                continue
            _length, a, b = best
            angle = -math.degrees(math.atan2(b[1] - a[1], b[0] - a[0]))
            if angle > 90:
                angle -= 180
            elif angle <= -90:
                angle += 180
            out.append(_Label(text, (a[0] + b[0]) / 2 * SCALE, (a[1] + b[1]) / 2 * SCALE, angle, False))
    return out


def _label_size(zoom: int) -> int:
    return (11 if zoom <= 16 else 12 if zoom == 17 else 13) * SCALE


def render_tile(index: StreetIndex, zoom: int, x: int, y: int) -> bytes | None:
    """The PNG of tile ``zoom/x/y``; None when nothing of ``index`` reaches into it."""
    margin = LABEL_MARGIN_PX
    west, north = lonlat(x * TILE - margin, y * TILE - margin, zoom)
    east, south = lonlat((x + 1) * TILE + margin, (y + 1) * TILE + margin, zoom)
    features = index.query(west, south, east, north)
    if not features:
        return None
    size = TILE * SCALE
    ox, oy = x * TILE, y * TILE
    img = Image.new("RGB", (size, size), BACKGROUND)
    draw = ImageDraw.Draw(img, "RGBA")

    def local(part: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
        out = []
        for lon, lat in part:
            px, py = world_pixel(lon, lat, zoom)
            out.append(((px - ox) * SCALE, (py - oy) * SCALE))
        return out

    areas = [f for f in features if f.kind == "area"]
    streets = [f for f in features if f.kind != "area"]
    for f in areas:
        for ring in f.parts:
            pts = local(ring)
            if len(pts) >= 3:
                draw.polygon(pts, fill=AREA_FILL)
                draw.line(pts + [pts[0]], fill=AREA_LINE, width=max(1, SCALE))
    width = _street_width(zoom) * SCALE
    lines = [local(part) for f in streets for part in f.parts]
    for pts in lines:  # every casing first, so that crossing streets join cleanly
        draw.line(pts, fill=CASING, width=max(1, round(width + 2 * SCALE)), joint="curve")
    for pts in lines:
        draw.line(pts, fill=STREET, width=max(1, round(width)), joint="curve")
    _draw_labels(img, _labels(features, zoom), ox * SCALE, oy * SCALE, zoom)
    out = img.reduce(SCALE)
    buf = io.BytesIO()
    out.save(buf, "PNG", compress_level=6)
    return buf.getvalue()


def _draw_labels(img: Image.Image, labels: list[_Label], ox: float, oy: float, zoom: int) -> None:
    """Paste the labels that reach into this tile, skipping one that would cover an earlier one (the same
    world positions on every tile, so the choice agrees between neighbours)."""
    placed: list[tuple[float, float, float, float]] = []
    size = _label_size(zoom)
    span = TILE * SCALE
    for label in sorted(labels, key=lambda lb: (not lb.area, lb.x, lb.y, lb.text)):
        image = _label_image(label.text, size + (2 if label.area else 0), AREA_LABEL if label.area else LABEL)
        rotated = image.rotate(label.angle, resample=Image.Resampling.BICUBIC, expand=True) if label.angle else image
        w, h = rotated.size
        left, top = label.x - w / 2, label.y - h / 2
        rect = (left, top, left + w, top + h)
        if any(rect[0] < r[2] and r[0] < rect[2] and rect[1] < r[3] and r[1] < rect[3] for r in placed):
            continue
        placed.append(rect)
        if rect[2] < ox or rect[0] > ox + span or rect[3] < oy or rect[1] > oy + span:
            continue
        img.paste(rotated, (round(left - ox), round(top - oy)), rotated)


def tiles_covering(west: float, south: float, east: float, north: float, zoom: int) -> Iterator[tuple[int, int]]:
    x0, y0 = tile_of(west, north, zoom)
    x1, y1 = tile_of(east, south, zoom)
    for tx in range(x0, x1 + 1):
        for ty in range(y0, y1 + 1):
            yield tx, ty


def render_area(index: StreetIndex, bounds: tuple[float, float, float, float], zooms: Iterable[int]
                ) -> Iterator[tuple[int, int, int, bytes]]:
    """Every non-empty tile of ``bounds`` (west, south, east, north) at each zoom, as (zoom, x, y, png)."""
    west, south, east, north = bounds
    for zoom in zooms:
        for tx, ty in tiles_covering(west, south, east, north, zoom):
            png = render_tile(index, zoom, tx, ty)
            if png is not None:
                yield zoom, tx, ty, png


def features_from_geometry(name: str, geometry: Any) -> MapFeature | None:
    """A zone's GeoJSON geometry as a map feature: lines are streets (blockfaces), polygons areas."""
    if not isinstance(geometry, dict):
        return None
    kind = geometry.get("type")
    coords: Any = geometry.get("coordinates")
    try:
        if kind == "LineString":
            return MapFeature("street", name, (_positions(coords),))
        if kind == "MultiLineString":
            return MapFeature("street", name, tuple(_positions(line) for line in coords))
        if kind == "Polygon":
            return MapFeature("area", name, (_positions(coords[0]),))
        if kind == "MultiPolygon":
            return MapFeature("area", name, tuple(_positions(poly[0]) for poly in coords))
    except (TypeError, ValueError, IndexError):
        return None
    return None


def _positions(coords: Any) -> tuple[tuple[float, float], ...]:
    return tuple((float(p[0]), float(p[1])) for p in coords)


def street_lines(features: Iterable[MapFeature]) -> list[LineString]:
    """The street parts as shapely lines (for tests and the demo's checks)."""
    return [LineString(part) for f in features if f.kind == "street" for part in f.parts if len(part) >= 2]
