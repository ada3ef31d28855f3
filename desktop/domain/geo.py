"""Plain-Python geometry for citation locations, zones and photo GPS.

Coordinates follow GeoJSON order: ``(longitude, latitude)`` in WGS84 degrees.
Distances are in metres on a spherical Earth (haversine), which is within
0.5 % of the ellipsoid: plenty for "is the photo near the citation" checks.
Point-to-segment distances use a local equirectangular projection around the
point, accurate to centimetres over the few hundred metres that matter here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius (IUGG), metres."""

Position = tuple[float, float]
"""(longitude, latitude) in degrees, GeoJSON order."""
Ring = Sequence[Position]
PolygonCoords = Sequence[Ring]
"""An outer ring followed by zero or more holes."""


@dataclass(frozen=True)
class BoundingBox:
    """The smallest lon/lat rectangle holding a geometry."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    def contains(self, lon: float, lat: float) -> bool:
        return self.min_lon <= lon <= self.max_lon and self.min_lat <= lat <= self.max_lat

    def expanded(self, metres: float) -> BoundingBox:
        """The box grown by ``metres`` on every side (for a cheap pre-filter)."""
        dlat = math.degrees(metres / EARTH_RADIUS_M)
        mid_lat = math.radians((self.min_lat + self.max_lat) / 2)
        dlon = dlat / max(math.cos(mid_lat), 1e-6)
        return BoundingBox(self.min_lon - dlon, self.min_lat - dlat, self.max_lon + dlon, self.max_lat + dlat)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two (lat, lon) points in degrees."""
    p1 = math.radians(lat1)
    p2 = math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def _project(lon: float, lat: float, lon0: float, lat0: float) -> tuple[float, float]:
    """Equirectangular projection to metres around (lon0, lat0)."""
    x = math.radians(lon - lon0) * math.cos(math.radians(lat0)) * EARTH_RADIUS_M
    y = math.radians(lat - lat0) * EARTH_RADIUS_M
    return x, y


def point_segment_distance_m(lon: float, lat: float, a: Position, b: Position) -> float:
    """Distance in metres from a point to the segment a-b."""
    ax, ay = _project(a[0], a[1], lon, lat)
    bx, by = _project(b[0], b[1], lon, lat)
    dx, dy = bx - ax, by - ay
    seg2 = dx * dx + dy * dy
    if seg2 == 0.0:
        return math.hypot(ax, ay)
    t = max(0.0, min(1.0, -(ax * dx + ay * dy) / seg2))
    return math.hypot(ax + t * dx, ay + t * dy)


def distance_to_line_m(lon: float, lat: float, line: Sequence[Position]) -> float:
    """Distance in metres from a point to a polyline (a street segment)."""
    if not line:
        raise ValueError("empty line")
    if len(line) == 1:
        return haversine_m(lat, lon, line[0][1], line[0][0])
    return min(point_segment_distance_m(lon, lat, line[i], line[i + 1]) for i in range(len(line) - 1))


def _point_in_ring(lon: float, lat: float, ring: Ring) -> bool:
    """Even-odd ray casting; the ring may or may not repeat its first position."""
    inside = False
    n = len(ring)
    j = n - 1
    for i in range(n):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > lat) != (yj > lat):
            x_cross = (xj - xi) * (lat - yi) / (yj - yi) + xi
            if lon < x_cross:
                inside = not inside
        j = i
    return inside


def point_in_polygon(lon: float, lat: float, polygon: PolygonCoords) -> bool:
    """True when the point is inside the outer ring and outside every hole."""
    if not polygon:
        return False
    if not _point_in_ring(lon, lat, polygon[0]):
        return False
    return not any(_point_in_ring(lon, lat, hole) for hole in polygon[1:])


def point_in_multipolygon(lon: float, lat: float, polygons: Sequence[PolygonCoords]) -> bool:
    return any(point_in_polygon(lon, lat, p) for p in polygons)


def point_in_geometry(lon: float, lat: float, geometry_type: str, coordinates: object) -> bool:
    """Point-in-polygon for a GeoJSON ``Polygon`` or ``MultiPolygon`` (other types: False)."""
    if geometry_type == "Polygon":
        return point_in_polygon(lon, lat, coordinates)  # type: ignore[arg-type]
    if geometry_type == "MultiPolygon":
        return point_in_multipolygon(lon, lat, coordinates)  # type: ignore[arg-type]
    return False


def distance_to_polygon_edge_m(lon: float, lat: float, polygon: PolygonCoords) -> float:
    """Distance in metres from a point to the nearest edge of any ring of the polygon.

    Zero only when the point lies on an edge; use ``point_in_polygon`` to know the side.
    """
    return min(distance_to_line_m(lon, lat, ring) for ring in polygon)


def _ring_area_centroid(ring: Ring) -> tuple[float, float, float]:
    """Signed shoelace area (deg^2) and centroid of one ring."""
    area2 = 0.0
    cx = 0.0
    cy = 0.0
    n = len(ring)
    for i in range(n):
        x0, y0 = ring[i][0], ring[i][1]
        x1, y1 = ring[(i + 1) % n][0], ring[(i + 1) % n][1]
        cross = x0 * y1 - x1 * y0
        area2 += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if area2 == 0.0:
        xs = [p[0] for p in ring]
        ys = [p[1] for p in ring]
        return 0.0, sum(xs) / len(xs), sum(ys) / len(ys)
    return area2 / 2, cx / (3 * area2), cy / (3 * area2)


def polygon_centroid(polygon: PolygonCoords) -> Position:
    """Area-weighted centroid (lon, lat) of a polygon with holes.

    Planar in degrees, which is fine for city-sized zones.
    """
    total = 0.0
    sx = 0.0
    sy = 0.0
    for index, ring in enumerate(polygon):
        area, cx, cy = _ring_area_centroid(ring)
        area = abs(area) if index == 0 else -abs(area)
        total += area
        sx += cx * area
        sy += cy * area
    if total == 0.0:
        _, cx, cy = _ring_area_centroid(polygon[0])
        return cx, cy
    return sx / total, sy / total


def multipolygon_centroid(polygons: Sequence[PolygonCoords]) -> Position:
    total = 0.0
    sx = 0.0
    sy = 0.0
    for polygon in polygons:
        area = abs(_ring_area_centroid(polygon[0])[0]) - sum(abs(_ring_area_centroid(h)[0]) for h in polygon[1:])
        cx, cy = polygon_centroid(polygon)
        total += area
        sx += cx * area
        sy += cy * area
    if total == 0.0:
        return polygon_centroid(polygons[0])
    return sx / total, sy / total


def bounding_box(positions: Sequence[Position]) -> BoundingBox:
    """Bounding box of a flat list of positions."""
    if not positions:
        raise ValueError("no positions")
    lons = [p[0] for p in positions]
    lats = [p[1] for p in positions]
    return BoundingBox(min(lons), min(lats), max(lons), max(lats))


def flatten_positions(coordinates: object) -> list[Position]:
    """All positions of any GeoJSON coordinates array, however nested."""
    out: list[Position] = []

    def walk(node: object) -> None:
        if isinstance(node, (list, tuple)) and node and isinstance(node[0], (int, float)):
            out.append((float(node[0]), float(node[1])))
        elif isinstance(node, (list, tuple)):
            for child in node:
                walk(child)

    walk(coordinates)
    return out


def geometry_bounding_box(coordinates: object) -> BoundingBox:
    return bounding_box(flatten_positions(coordinates))
