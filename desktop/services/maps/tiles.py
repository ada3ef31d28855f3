"""Which street map a map screen shows, and the tile source that serves it.

In order: the MBTiles file named by ``map.mbtiles_path`` (relative paths are under the data folder); a tile
server (``map.tile_url``); street tiles drawn from the imported zones and blockfaces; else no tiles (the
markers on a plain background). When a named MBTiles file cannot be used, the map falls back to the next
and says why in one sentence (``TileLayer.note``).

Tiles of an MBTiles file or drawn from zones are served inside the application, on the ``curbdesk-tiles``
URL scheme (``curbdesk-tiles://<source key>/{z}/{x}/{y}``): the screens register ``TileLayer.source``
with the scheme handler under its key. Sources are cached per process: an MBTiles reader per file (its
path, size and modification time), a street index per database and zone revision.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desktop.domain.roles import Permission, require
from desktop.persistence.models import Zone
from desktop.services.core import settings
from desktop.services.core.context import Actor, AppContext
from desktop.services.maps import TILE_SCHEME
from desktop.services.maps.mbtiles import MBTiles, MBTilesError, MBTilesInfo, check_mbtiles
from desktop.services.maps.street_tiles import StreetIndex, features_from_geometry, render_tile, tile_of

log = logging.getLogger(__name__)

MBTILES_SETTING = "map.mbtiles_path"
STREETS_MAX_ZOOM = 18
STREETS_ATTRIBUTION = "Streets drawn from the imported zones and blockfaces"


class TileSource(Protocol):
    """Serves tiles by XYZ number: (bytes, MIME type), or None where it has none."""

    key: str
    slow: bool
    """Tiles are drawn on request (serve them off the GUI thread)."""

    def tile(self, zoom: int, x: int, y: int) -> tuple[bytes, str] | None: ...


@dataclass(frozen=True)
class TileLayer:
    """The street map under a map: a Leaflet URL template, or none (``url`` empty)."""

    kind: str  # "mbtiles", "server", "streets" or "none"
    url: str = ""
    attribution: str = ""
    min_zoom: int = 0
    max_native_zoom: int = 19
    note: str = ""
    """One sentence when the map is not what the settings asked for (a bad MBTiles file), else ""."""
    source: TileSource | None = field(default=None, compare=False, repr=False)


class MBTilesSource:
    slow = False

    def __init__(self, reader: MBTiles, key: str) -> None:
        self.reader = reader
        self.key = key

    def tile(self, zoom: int, x: int, y: int) -> tuple[bytes, str] | None:
        return self.reader.tile(zoom, x, y)


class StreetTileSource:
    """Street tiles drawn with Pillow from an index of features (a few to 100 ms a tile), kept once drawn."""

    slow = True

    def __init__(self, index: StreetIndex, key: str, cache_tiles: int = 2048) -> None:
        self.index = index
        self.key = key
        self._cache: dict[tuple[int, int, int], bytes | None] = {}
        self._cache_tiles = cache_tiles
        self._lock = threading.Lock()

    def tile(self, zoom: int, x: int, y: int) -> tuple[bytes, str] | None:
        if not (0 <= zoom <= STREETS_MAX_ZOOM and 0 <= x < (1 << zoom) and 0 <= y < (1 << zoom)):
            return None
        k = (zoom, x, y)
        with self._lock:
            if k in self._cache:
                hit = self._cache[k]
                return (hit, "image/png") if hit is not None else None
        png = render_tile(self.index, zoom, x, y) if zoom >= 12 else None
        with self._lock:
            if len(self._cache) >= self._cache_tiles:
                self._cache.clear()
            self._cache[k] = png
        return (png, "image/png") if png is not None else None


_lock = threading.Lock()
_mbtiles: dict[tuple[str, int, int], MBTilesSource] = {}
_streets: dict[tuple[str, int], StreetTileSource | None] = {}


def _key(prefix: str, *parts: object) -> str:
    return prefix + hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:16]


def resolve_mbtiles_path(value: str, data_dir: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else Path(data_dir) / path


def open_mbtiles(path: Path) -> MBTilesSource:
    """The cached reader of an MBTiles file (opened again when the file changes); ``MBTilesError`` if unusable."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise MBTilesError(f"The map file {path} does not exist: check the map.mbtiles_path setting.") from None
    except OSError as exc:
        raise MBTilesError(f"The map file {path.name} cannot be read ({exc.strerror or exc}).") from None
    cache_key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _lock:
        hit = _mbtiles.get(cache_key)
    if hit is not None:
        return hit
    source = MBTilesSource(MBTiles(path), _key("m", *cache_key))
    with _lock:
        _mbtiles[cache_key] = source
    return source


def street_source(session: Session, revision_key: str,
                  features_of: Callable[[Session], StreetIndex] | None = None) -> StreetTileSource | None:
    """Street tiles over the zones of this database (None when it has none), built once per zone revision."""
    revision = int(settings.get(session, "zones.revision") or 0)
    count = int(session.scalar(select(func.count()).select_from(Zone)) or 0)
    cache_key = (revision_key, revision * 1_000_003 + count)
    with _lock:
        if cache_key in _streets:
            return _streets[cache_key]
    index = (features_of or zone_index)(session)
    source = StreetTileSource(index, _key("s", *cache_key)) if len(index) else None
    with _lock:
        _streets[cache_key] = source
    return source


def zone_index(session: Session) -> StreetIndex:
    features = []
    for name, geometry in session.execute(select(Zone.name, Zone.geometry).order_by(Zone.code)):
        made = features_from_geometry(name or "", geometry)
        if made is not None:
            features.append(made)
    return StreetIndex(features)


def tile_layer(session: Session, data_dir: Path, at: tuple[float, float] | None = None) -> TileLayer:
    """The street map the settings and the data give, with its source (see the module's docstring).

    ``at`` (lat, lon): the spot the map is about. Outside the MBTiles file's area the streets drawn from the
    zones are shown instead when there are any, else the MBTiles layer with a note saying so."""
    note = ""
    configured = str(settings.get(session, MBTILES_SETTING) or "").strip()
    outside: TileLayer | None = None
    if configured:
        try:
            source = open_mbtiles(resolve_mbtiles_path(configured, data_dir))
        except MBTilesError as exc:
            note = f"{exc} The map falls back to the streets Curbdesk holds."
            log.warning("map: %s", exc)
        else:
            info = source.reader.info
            layer = TileLayer("mbtiles", f"{TILE_SCHEME}://{source.key}/{{z}}/{{x}}/{{y}}",
                              info.attribution or info.name, info.min_zoom, info.max_zoom, "", source)
            if at is None or info.bounds is None:
                return layer
            if not _inside(at, info.bounds):
                note, background = f"Outside the installed street map ({info.name}).", " Plain background."
            elif source.reader.tile(info.max_zoom, *tile_of(at[1], at[0], info.max_zoom)) is None:
                # within its bounds but with no tile at the spot: a file of several areas (the demo's)
                note, background = f"The installed street map ({info.name}) has no streets at this spot.", ""
            else:
                return layer
            outside = TileLayer(layer.kind, layer.url, layer.attribution, layer.min_zoom, layer.max_native_zoom,
                                note + background, source)
    url = str(settings.get(session, "map.tile_url") or "").strip()
    if url:
        return TileLayer("server", url, str(settings.get(session, "map.tile_attribution") or "Map tiles"), 0, 19, note)
    bind = session.get_bind()
    streets = street_source(session, str(getattr(bind, "url", bind)))
    if streets is not None and (at is None or _near(at, streets.index)):
        return TileLayer("streets", f"{TILE_SCHEME}://{streets.key}/{{z}}/{{x}}/{{y}}", STREETS_ATTRIBUTION, 0,
                         STREETS_MAX_ZOOM, note + (" Streets from the imported zones." if note else ""), streets)
    if outside is not None:
        return outside
    if streets is not None:
        return TileLayer("none", note=note or "No imported street or zone lies near this spot: plain background.")
    return TileLayer("none", note=note or "No street map installed and no zones imported: plain background.")


def _inside(at: tuple[float, float], bounds: tuple[float, float, float, float]) -> bool:
    lat, lon = at
    west, south, east, north = bounds
    return south <= lat <= north and west <= lon <= east


def _near(at: tuple[float, float], index: StreetIndex, degrees: float = 0.01) -> bool:
    """Whether any imported street or zone lies within about a kilometre of the spot."""
    lat, lon = at
    return bool(index.query(lon - degrees, lat - degrees, lon + degrees, lat + degrees))


def forget_sources() -> None:
    """Drop every cached source (tests; a settings change is picked up by the file's stamp anyway)."""
    with _lock:
        for source in _mbtiles.values():
            source.reader.close()
        _mbtiles.clear()
        _streets.clear()


def use_mbtiles(app: AppContext, actor: Actor, path: Path) -> MBTilesInfo:
    """Check an MBTiles file and make it the office's street map (``map.mbtiles_path``; administrators).
    ``MBTilesError`` (one sentence) when the file cannot be used: the setting is then left as it was."""
    require(actor.role, Permission.MANAGE_SETTINGS, actor.username)  # before the file is even opened
    info = check_mbtiles(resolve_mbtiles_path(str(path), app.paths.data_dir))
    settings.set_value(app, actor, MBTILES_SETTING, str(path))
    return info


def configured_mbtiles(app: AppContext) -> tuple[Path | None, MBTilesInfo | None, str]:
    """The MBTiles file the settings name (None when none), what it holds, or why it cannot be used."""
    value = str(settings.read(app, MBTILES_SETTING) or "").strip()
    if not value:
        return None, None, ""
    path = resolve_mbtiles_path(value, app.paths.data_dir)
    try:
        return path, check_mbtiles(path), ""
    except MBTilesError as exc:
        return path, None, str(exc)
