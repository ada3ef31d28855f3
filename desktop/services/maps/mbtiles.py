"""MBTiles: the standard SQLite package of map tiles (https://github.com/mapbox/mbtiles-spec, version 1.3).

A file has a ``metadata(name, value)`` table (``format`` is png, jpg, webp or pbf; ``minzoom``,
``maxzoom``, ``bounds``, ``attribution`` optional) and a ``tiles(zoom_level, tile_column, tile_row,
tile_data)`` table or view. Rows are numbered the TMS way, from the south: the XYZ row ``y`` a web map
asks for is stored as ``tile_row = 2**zoom - 1 - y`` (spec, "Content").

An MBTiles file comes from outside (the agency installs one, or a colleague sends it), so it is read as
hostile input: opened read-only (``mode=ro``), ``trusted_schema`` off (a view may not call functions
with side effects), every statement bounded in work (a view that never ends is stopped) and every value
bounded in size (SQLite's ``SQLITE_LIMIT_LENGTH``: a huge blob is refused by SQLite itself before
Python sees it); only tiles that are PNG, JPEG or WebP by their first bytes are served. Raster only:
vector (pbf) tiles need a style and a renderer in the page (MapLibre GL), which no packaged, offline,
well-kept Python distribution provides today; such a file is refused with that sentence.

``write_mbtiles`` writes a package (the demo's), atomically.
"""

from __future__ import annotations

import math
import os
import sqlite3
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from desktop.domain.errors import UserError

SQLITE_MAGIC = b"SQLite format 3\x00"
MAX_TILE_BYTES = 2 * 1024 * 1024
"""A tile bigger than this is not served (a 256-pixel PNG is 5-60 KB; a 512-pixel JPEG rarely 300 KB)."""
MAX_STEPS = 2_000_000
"""SQLite virtual-machine steps one statement may take (an indexed tile lookup takes under 100)."""
MAX_ZOOM = 24
RASTER_FORMATS = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}
REQUIRED_COLUMNS = {"zoom_level", "tile_column", "tile_row", "tile_data"}


class MBTilesError(UserError):
    """The file cannot be used as a street map (the sentence says why and what to do)."""


@dataclass(frozen=True)
class MBTilesInfo:
    path: Path
    name: str
    format: str
    min_zoom: int
    max_zoom: int
    bounds: tuple[float, float, float, float] | None
    """west, south, east, north in degrees, when the file says."""
    attribution: str

    @property
    def mime_type(self) -> str:
        return RASTER_FORMATS[self.format]


def tms_row(zoom: int, y: int) -> int:
    """The stored ``tile_row`` of the XYZ (web map) row ``y``: MBTiles counts rows from the south."""
    return (1 << zoom) - 1 - y


def image_type(data: bytes) -> str | None:
    """The MIME type of a raster tile by its first bytes, None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


class _BoundedConnection(sqlite3.Connection):
    """A connection whose every statement may take at most ``MAX_STEPS`` steps (``reset_steps`` before each)."""

    steps = 0

    def reset_steps(self) -> None:
        self.steps = 0

    def over_budget(self) -> int:  # called every 1,000 steps; a non-zero answer interrupts the statement
        self.steps += 1000
        return 1 if self.steps > MAX_STEPS else 0


def _connect(path: Path) -> _BoundedConnection:
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=1.0, factory=_BoundedConnection)
    assert isinstance(conn, _BoundedConnection)
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_TILE_BYTES + 1024)
    conn.setlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH, 10_000)
    conn.set_progress_handler(conn.over_budget, 1000)
    conn.execute("PRAGMA trusted_schema = OFF")
    conn.execute("PRAGMA query_only = ON")
    return conn


class MBTiles:
    """One MBTiles file, opened read-only and checked. ``tile(z, x, y)`` gives (bytes, MIME type) or None.

    Thread-safe: the screens' tile requests and a background check may share one reader."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn = self._open_checked()
        self.info = self._read_info()

    # ----------------------------------------------------------------- opening
    def _open_checked(self) -> _BoundedConnection:
        name = self.path.name
        try:
            with open(self.path, "rb") as fh:
                head = fh.read(len(SQLITE_MAGIC))
        except FileNotFoundError:
            raise MBTilesError(f"The map file {self.path} does not exist: check the map.mbtiles_path setting.") from None
        except OSError as exc:
            raise MBTilesError(f"The map file {name} cannot be read ({exc.strerror or exc}).") from None
        if head != SQLITE_MAGIC:
            raise MBTilesError(f"The map file {name} is not an MBTiles file (not an SQLite database).")
        try:
            conn = _connect(self.path)
            self._run(conn, "SELECT 1 FROM sqlite_master LIMIT 1")
        except sqlite3.Error as exc:
            raise MBTilesError(f"The map file {name} is a damaged SQLite database ({exc}).") from None
        try:
            self._check_schema(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    @staticmethod
    def _run(conn: _BoundedConnection, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        conn.reset_steps()
        return conn.execute(sql, params).fetchall()

    def _check_schema(self, conn: _BoundedConnection) -> None:
        name = self.path.name
        try:
            objects = {str(r[0]).lower() for r in self._run(
                conn, "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
            missing = [t for t in ("metadata", "tiles") if t not in objects]
            if missing:
                raise MBTilesError(f"The map file {name} is not an MBTiles file: it has no {' and no '.join(missing)} "
                                   "table.")
            columns = {str(r[1]).lower() for r in self._run(conn, "PRAGMA table_info(tiles)")}
            if not REQUIRED_COLUMNS <= columns:
                lacking = ", ".join(sorted(REQUIRED_COLUMNS - columns))
                raise MBTilesError(f"The map file {name} is not an MBTiles file: its tiles table lacks {lacking}.")
            meta_cols = {str(r[1]).lower() for r in self._run(conn, "PRAGMA table_info(metadata)")}
            if not {"name", "value"} <= meta_cols:
                raise MBTilesError(f"The map file {name} is not an MBTiles file: its metadata table has no name "
                                   "and value columns.")
            if not self._run(conn, "SELECT 1 FROM tiles LIMIT 1"):
                raise MBTilesError(f"The map file {name} holds no tiles.")
        except sqlite3.OperationalError as exc:
            if "interrupt" in str(exc).lower():
                raise MBTilesError(f"The map file {name} takes too long to read (its tiles are not indexed, "
                                   "or it is not a plain MBTiles file).") from None
            raise MBTilesError(f"The map file {name} cannot be read as MBTiles ({exc}).") from None
        except sqlite3.Error as exc:
            raise MBTilesError(f"The map file {name} cannot be read as MBTiles ({exc}).") from None

    def _read_info(self) -> MBTilesInfo:
        name = self.path.name
        try:
            rows = self._run(self._conn, "SELECT name, value FROM metadata LIMIT 200")
        except sqlite3.Error as exc:
            raise MBTilesError(f"The map file {name}'s metadata cannot be read ({exc}).") from None
        meta = {str(k).strip().lower(): str(v).strip() for k, v in rows if k is not None and v is not None}
        fmt = meta.get("format", "").lower()
        if not fmt:  # spec 1.3 requires it; older files name the format only through their tiles
            sample = self._run(self._conn, "SELECT tile_data FROM tiles LIMIT 1")
            kind = image_type(bytes(sample[0][0])) if sample and isinstance(sample[0][0], bytes) else None
            fmt = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}.get(kind or "", "")
        if fmt == "pbf":
            raise MBTilesError(f"The map file {name} holds vector tiles (pbf); Curbdesk shows raster tiles (PNG, "
                               "JPEG or WebP): install a raster MBTiles of the area.")
        if fmt not in RASTER_FORMATS:
            raise MBTilesError(f"The map file {name} holds tiles of an unknown format ({fmt[:20] or 'none given'}); "
                               "Curbdesk shows PNG, JPEG or WebP tiles.")
        min_zoom, max_zoom = _int(meta.get("minzoom")), _int(meta.get("maxzoom"))
        if min_zoom is None or max_zoom is None:
            try:
                lo, hi = self._run(self._conn, "SELECT min(zoom_level), max(zoom_level) FROM tiles")[0]
            except sqlite3.Error:
                lo, hi = 0, 18
            min_zoom = min_zoom if min_zoom is not None else _int(lo) or 0
            max_zoom = max_zoom if max_zoom is not None else _int(hi) or 18
        min_zoom = max(0, min(MAX_ZOOM, min_zoom))
        max_zoom = max(min_zoom, min(MAX_ZOOM, max_zoom))
        return MBTilesInfo(self.path, meta.get("name", name)[:200], fmt, min_zoom, max_zoom,
                           _bounds(meta.get("bounds")), meta.get("attribution", "")[:300])

    # ----------------------------------------------------------------- reading
    def tile(self, zoom: int, x: int, y: int) -> tuple[bytes, str] | None:
        """The tile at XYZ ``zoom/x/y`` as (bytes, MIME type); None when the file has none there, or the
        one it has is too big, not an image, or cannot be read."""
        if not (0 <= zoom <= MAX_ZOOM and 0 <= x < (1 << zoom) and 0 <= y < (1 << zoom)):
            return None
        with self._lock:
            try:
                rows = self._run(self._conn, "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? "
                                 "AND tile_row = ? LIMIT 1", (zoom, x, tms_row(zoom, y)))
            except (sqlite3.Error, OverflowError):
                return None  # a value over SQLITE_LIMIT_LENGTH, a statement stopped for taking too long
        if not rows or not isinstance(rows[0][0], bytes) or len(rows[0][0]) > MAX_TILE_BYTES:
            return None
        data = rows[0][0]
        kind = image_type(data)
        return (data, kind) if kind is not None else None

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _int(value: object) -> int | None:
    try:
        return int(float(str(value)))
    except (TypeError, ValueError, OverflowError):
        return None


def _bounds(text: str | None) -> tuple[float, float, float, float] | None:
    try:
        w, s, e, n = (float(v) for v in str(text).split(","))
    except (TypeError, ValueError):
        return None
    if not all(math.isfinite(v) for v in (w, s, e, n)) or not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        return None
    return w, s, e, n


def check_mbtiles(path: str | Path) -> MBTilesInfo:
    """What an MBTiles file holds; ``MBTilesError`` (one sentence) when it cannot be used."""
    reader = MBTiles(path)
    try:
        return reader.info
    finally:
        reader.close()


def write_mbtiles(path: Path, metadata: dict[str, str], tiles: Iterable[tuple[int, int, int, bytes]]) -> int:
    """Write an MBTiles file from XYZ ``(zoom, x, y, data)`` tiles (rows stored the TMS way), atomically:
    built under a temporary name beside ``path``, then renamed over it. Returns the number of tiles."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    count = 0
    try:
        conn = sqlite3.connect(tmp)
        try:
            conn.execute("PRAGMA journal_mode = OFF")
            conn.execute("PRAGMA synchronous = OFF")
            conn.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
            conn.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, "
                         "tile_data BLOB)")
            conn.executemany("INSERT INTO metadata VALUES (?, ?)", sorted(metadata.items()))
            batch: list[tuple[int, int, int, bytes]] = []
            for zoom, x, y, data in tiles:
                batch.append((zoom, x, tms_row(zoom, y), data))
                count += 1
                if len(batch) >= 500:
                    conn.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)", batch)
                    batch.clear()
            conn.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)", batch)
            conn.execute("CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row)")
            conn.commit()
        finally:
            conn.close()
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return count
