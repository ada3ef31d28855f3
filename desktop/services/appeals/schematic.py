"""A static, honest schematic map of a citation for the hearing workspace and the evidence packet.

No tiles and no street map (office networks block tile servers, and a packet must not depend on one):
the citation's recorded position with its GPS accuracy circle, each photo's GPS position with a dashed
line and the distance to the citation, the enforcement zone's polygon, a scale bar and a north arrow,
drawn with Pillow in a local equirectangular projection (accurate to centimetres over the few hundred
metres that matter). The caption says what it is. The lead may swap in a WebEngine render later; the
inputs (``MapInput``) stay the same.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from desktop.domain.geo import EARTH_RADIUS_M, haversine_m

SCALE = 2  # drawn at twice the size, then downsampled: smooth lines without an antialiasing library
MIN_SPAN_M = 160.0
BACKGROUND = (246, 244, 238)
GRID = (226, 222, 212)
ZONE_FILL = (47, 111, 179, 40)
ZONE_LINE = (47, 111, 179, 255)
CITATION = (183, 28, 28)
PHOTO = (29, 79, 145)
INK = (34, 34, 34)
MUTED = (110, 110, 110)


@dataclass(frozen=True)
class MapPoint:
    lat: float
    lon: float
    label: str


@dataclass(frozen=True)
class MapInput:
    """What the map shows. ``zone_rings``: outer rings as [(lon, lat), ...] (GeoJSON order)."""

    citation: MapPoint
    accuracy_m: float | None = None
    photos: tuple[MapPoint, ...] = ()
    zone_code: str = ""
    zone_name: str = ""
    zone_rings: tuple[tuple[tuple[float, float], ...], ...] = field(default_factory=tuple)


def zone_rings(geometry: dict[str, Any] | None) -> tuple[tuple[tuple[float, float], ...], ...]:
    """Outer rings of a GeoJSON Polygon or MultiPolygon (holes are not drawn); () for anything else."""
    if not isinstance(geometry, dict):
        return ()
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    polygons: list[Any] = []
    if kind == "Polygon" and isinstance(coords, list):
        polygons = [coords]
    elif kind == "MultiPolygon" and isinstance(coords, list):
        polygons = coords
    out = []
    for polygon in polygons:
        try:
            ring = tuple((float(p[0]), float(p[1])) for p in polygon[0])
        except (TypeError, ValueError, IndexError):
            continue
        if len(ring) >= 3:
            out.append(ring)
    return tuple(out)


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType
        return ImageFont.load_default()


def _nice(length: float) -> float:
    """A round length (1, 2 or 5 times a power of ten) not above ``length``."""
    if length <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(length))
    for step in (5, 2, 1):
        if step * power <= length:
            return float(step * power)
    return float(power)


def distance_text(metres: float) -> str:
    return f"{metres / 1000:.2f} km" if metres >= 1000 else f"{metres:.0f} m"


class _Projection:
    def __init__(self, lat0: float, lon0: float, width: int, height: int, span_x: float, span_y: float,
                 cx: float, cy: float) -> None:
        self.lat0, self.lon0 = lat0, lon0
        self.cos0 = math.cos(math.radians(lat0))
        self.scale = min(width / span_x, height / span_y)  # pixels per metre
        self.width, self.height = width, height
        self.cx, self.cy = cx, cy

    def metres(self, lon: float, lat: float) -> tuple[float, float]:
        x = math.radians(lon - self.lon0) * self.cos0 * EARTH_RADIUS_M
        y = math.radians(lat - self.lat0) * EARTH_RADIUS_M
        return x, y

    def pixel(self, lon: float, lat: float) -> tuple[float, float]:
        x, y = self.metres(lon, lat)
        return (self.width / 2 + (x - self.cx) * self.scale, self.height / 2 - (y - self.cy) * self.scale)


def _dashed(draw: ImageDraw.ImageDraw, a: tuple[float, float], b: tuple[float, float], fill: tuple[int, ...],
            width: int, dash: float) -> None:
    length = math.dist(a, b)
    if length == 0:
        return
    steps = max(1, int(length // dash))
    for i in range(0, steps, 2):
        t0, t1 = i / steps, min(1.0, (i + 1) / steps)
        draw.line([(a[0] + (b[0] - a[0]) * t0, a[1] + (b[1] - a[1]) * t0),
                   (a[0] + (b[0] - a[0]) * t1, a[1] + (b[1] - a[1]) * t1)], fill=fill, width=width)


def render_map(data: MapInput, size: tuple[int, int] = (960, 600)) -> Image.Image:
    """The schematic as an RGB image of ``size`` pixels."""
    w, h = size[0] * SCALE, size[1] * SCALE
    margin = 60 * SCALE
    c = data.citation
    proj0 = _Projection(c.lat, c.lon, 1, 1, 1, 1, 0, 0)
    pts = [proj0.metres(c.lon, c.lat)] + [proj0.metres(p.lon, p.lat) for p in data.photos]
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    min_x, max_x, min_y, max_y = min(xs), max(xs), min(ys), max(ys)
    zone_pts = [proj0.metres(lon, lat) for ring in data.zone_rings for lon, lat in ring]
    if zone_pts:
        zx = [p[0] for p in zone_pts]
        zy = [p[1] for p in zone_pts]
        zspan = max(max(zx) - min(zx), max(zy) - min(zy))
        if zspan <= 3 * max(MIN_SPAN_M, max_x - min_x, max_y - min_y):
            min_x, max_x = min(min_x, min(zx)), max(max_x, max(zx))
            min_y, max_y = min(min_y, min(zy)), max(max_y, max(zy))
    span_x = max(max_x - min_x, MIN_SPAN_M) * 1.3
    span_y = max(max_y - min_y, MIN_SPAN_M * 0.6) * 1.3
    proj = _Projection(c.lat, c.lon, w - 2 * margin, h - 2 * margin - 40 * SCALE, span_x, span_y,
                       (min_x + max_x) / 2, (min_y + max_y) / 2)

    def px(lon: float, lat: float) -> tuple[float, float]:
        x, y = proj.pixel(lon, lat)
        return x + margin, y + margin + 30 * SCALE

    # An RGB canvas drawn in RGBA mode blends translucent fills (an RGBA canvas would not).
    img = Image.new("RGB", (w, h), BACKGROUND)
    draw = ImageDraw.Draw(img, "RGBA")
    # grid at the scale bar's step
    step_m = _nice((w - 2 * margin) / proj.scale / 5)
    step_px = step_m * proj.scale
    ox, oy = px(c.lon, c.lat)
    k = -math.ceil(ox / step_px)
    while ox + k * step_px < w:
        x = ox + k * step_px
        draw.line([(x, 0), (x, h)], fill=GRID, width=1 * SCALE)
        k += 1
    k = -math.ceil(oy / step_px)
    while oy + k * step_px < h:
        y = oy + k * step_px
        draw.line([(0, y), (w, y)], fill=GRID, width=1 * SCALE)
        k += 1
    # the zone
    for ring in data.zone_rings:
        poly = [px(lon, lat) for lon, lat in ring]
        draw.polygon(poly, fill=ZONE_FILL)
        draw.line(poly + [poly[0]], fill=ZONE_LINE, width=2 * SCALE)
    cx, cy = px(c.lon, c.lat)
    if data.accuracy_m:
        r = data.accuracy_m * proj.scale
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=CITATION + (28,), outline=CITATION + (150,),
                     width=1 * SCALE)
    small, label_font = _font(14 * SCALE), _font(15 * SCALE)
    r = 13 * SCALE
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=CITATION, outline="white", width=2 * SCALE)
    draw.text((cx, cy), "C", fill="white", font=label_font, anchor="mm")
    # photo points, each joined to the citation with its distance (labels first, markers on top)
    spots = [px(p.lon, p.lat) for p in data.photos]
    for p, (x, y) in zip(data.photos, spots, strict=True):
        _dashed(draw, (x, y), (cx, cy), PHOTO + (200,), 2 * SCALE, 7 * SCALE)
        if math.dist((x, y), (cx, cy)) > 70 * SCALE:  # short lines: the distance is in the legend
            mx, my = (x + cx) / 2, (y + cy) / 2
            text = distance_text(haversine_m(c.lat, c.lon, p.lat, p.lon))
            box = draw.textbbox((mx, my), text, font=small, anchor="mm")
            draw.rectangle([box[0] - 3 * SCALE, box[1] - 2 * SCALE, box[2] + 3 * SCALE, box[3] + 2 * SCALE],
                           fill=(255, 255, 255, 220))
            draw.text((mx, my), text, fill=PHOTO, font=small, anchor="mm")
    r = 11 * SCALE
    placed: list[tuple[float, float]] = [(cx, cy)]
    for i, (x, y) in enumerate(spots, 1):
        if any(math.dist((x, y), q) < 2 * r for q in placed):
            # Too close to another mark to read: a dot at the true spot, the number set off beside it.
            draw.ellipse([x - 3 * SCALE, y - 3 * SCALE, x + 3 * SCALE, y + 3 * SCALE], fill=PHOTO)
            tx, ty = x - 26 * SCALE * i, y - 30 * SCALE
            draw.line([(x, y), (tx, ty)], fill=PHOTO, width=1 * SCALE)
            x, y = tx, ty
        placed.append((x, y))
        draw.ellipse([x - r, y - r, x + r, y + r], fill=PHOTO, outline="white", width=2 * SCALE)
        draw.text((x, y), str(i), fill="white", font=label_font, anchor="mm")
    # title, north arrow, scale bar, legend
    draw.text((margin // 2, 16 * SCALE), "Schematic map: no street map. Positions as recorded by the handheld "
              "and in the photos' GPS.", fill=MUTED, font=small)
    nx, ny = w - margin // 2 - 10 * SCALE, 44 * SCALE
    draw.polygon([(nx, ny - 16 * SCALE), (nx - 8 * SCALE, ny + 8 * SCALE), (nx, ny + 3 * SCALE),
                  (nx + 8 * SCALE, ny + 8 * SCALE)], fill=INK)
    draw.text((nx, ny + 20 * SCALE), "N", fill=INK, font=label_font, anchor="mm")
    bar_px = step_m * proj.scale
    bx, by = margin // 2, h - 22 * SCALE
    draw.rectangle([bx, by - 6 * SCALE, bx + bar_px, by], fill="white", outline=INK, width=1 * SCALE)
    draw.rectangle([bx, by - 6 * SCALE, bx + bar_px / 2, by], fill=INK)
    draw.text((bx, by - 9 * SCALE), "0", fill=INK, font=small, anchor="ms")
    draw.text((bx + bar_px, by - 9 * SCALE), distance_text(step_m), fill=INK, font=small, anchor="ms")
    legend = [(CITATION, "C", f"Citation {c.label}"
               + (f" (GPS accuracy {data.accuracy_m:.0f} m)" if data.accuracy_m else ""))]
    legend += [(PHOTO, str(i), f"Photo {i}: {p.label}, {distance_text(d)} from C")
               for i, (p, d) in enumerate(zip(data.photos, photo_distances(c, data.photos), strict=True), 1)]
    if data.zone_rings:
        legend.append((ZONE_LINE[:3], "", f"Zone {data.zone_code} {data.zone_name}".strip()))
    lx = w - margin // 2 - 440 * SCALE
    ly = h - (len(legend) * 21 + 14) * SCALE
    draw.rectangle([lx - 8 * SCALE, ly - 8 * SCALE, w - margin // 4, h - 8 * SCALE],
                   fill=(255, 255, 255, 225), outline=(200, 200, 200))
    for colour, mark, text in legend:
        if mark:
            draw.ellipse([lx, ly, lx + 14 * SCALE, ly + 14 * SCALE], fill=colour)
            draw.text((lx + 7 * SCALE, ly + 7 * SCALE), mark, fill="white", font=small, anchor="mm")
        else:
            draw.rectangle([lx, ly + 2 * SCALE, lx + 14 * SCALE, ly + 12 * SCALE], fill=ZONE_FILL,
                           outline=colour, width=2 * SCALE)
        draw.text((lx + 22 * SCALE, ly + 7 * SCALE), text[:60], fill=INK, font=small, anchor="lm")
        ly += 21 * SCALE
    return img.resize(size, Image.Resampling.LANCZOS)


def write_map_png(data: MapInput, dest: Path, size: tuple[int, int] = (960, 600)) -> Path:
    """Render and write atomically (temporary name, then rename)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    image = render_map(data, size)
    fd, tmp = tempfile.mkstemp(prefix=".map-", suffix=".png", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            image.save(fh, "PNG", optimize=True)
        os.replace(tmp, dest)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return dest


def photo_distances(citation: MapPoint, photos: Sequence[MapPoint]) -> list[float]:
    return [haversine_m(citation.lat, citation.lon, p.lat, p.lon) for p in photos]
