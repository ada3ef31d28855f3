"""The hearing workspace's map: the same map component as Review (street map, citation, GPS accuracy, photo
positions with their distances, the zone), built from an appeal's workspace. The evidence packet keeps
its printed schematic (``schematic.py``): a packet must not depend on anything installed on one desk."""

from __future__ import annotations

from desktop.domain import geo
from desktop.services.appeals.packet import AppealWorkspace
from desktop.services.core import settings
from desktop.services.core.context import AppContext
from desktop.services.maps.tiles import tile_layer
from desktop.services.review.map_html import MapSpec, PhotoPoint, ZoneShape


def workspace_map(app: AppContext, ws: AppealWorkspace) -> MapSpec:
    """The map of an appeal's citation; a photo farther than Review's threshold (plus the GPS accuracy) is
    drawn as far, as Review draws it."""
    with app.db.reading() as session:
        tiles = tile_layer(session, app.paths.data_dir, (ws.lat, ws.lon))
        limit = float(settings.get(session, "review.photo_metres")) + (ws.accuracy_m or 0.0)
    photos = []
    for i, p in enumerate(ws.photos, 1):
        if p.gps_lat is None or p.gps_lon is None:
            continue
        far = geo.haversine_m(ws.lat, ws.lon, p.gps_lat, p.gps_lon) > limit
        photos.append(PhotoPoint(p.gps_lat, p.gps_lon, f"Photo {i}", far))
    zones: tuple[ZoneShape, ...] = ()
    if ws.zone_geometry:
        area = ws.zone_geometry.get("type") in ("Polygon", "MultiPolygon")
        zones = (ZoneShape(ws.zone_code, ws.zone_name, ws.zone_geometry, "", area),)
    return MapSpec(ws.lat, ws.lon, ws.accuracy_m, f"{ws.citation_number} {ws.plate}", tuple(photos), zones,
                   tiles=tiles)
