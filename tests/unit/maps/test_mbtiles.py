"""MBTiles read as hostile input: the TMS row flip, missing tiles, and every bad file refused in one sentence."""

from __future__ import annotations

import io
import re
import sqlite3
from pathlib import Path

import pytest
from PIL import Image

from desktop.services.maps.mbtiles import MAX_TILE_BYTES, MBTiles, MBTilesError, check_mbtiles, tms_row, write_mbtiles


def png(colour: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (256, 256), colour).save(buf, "PNG")
    return buf.getvalue()


RED, BLUE = png((200, 0, 0)), png((0, 0, 200))


def raw_file(path: Path, rows: list[tuple[int, int, int, bytes]], fmt: str = "png",
             extra_sql: str = "") -> Path:
    """An MBTiles written by hand, rows stored exactly as given (zoom, column, tile_row, data)."""
    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE metadata (name TEXT, value TEXT);"
                       "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);"
                       + extra_sql)
    conn.executemany("INSERT INTO metadata VALUES (?, ?)", [("name", "test"), ("format", fmt)])
    conn.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)", rows)
    conn.commit()
    conn.close()
    return path


def test_rows_are_flipped_the_tms_way(tmp_path: Path) -> None:
    # zoom 2 has rows 0-3; XYZ row 0 (the north) is stored as TMS row 3 (spec: tile_row counts from the south)
    path = raw_file(tmp_path / "a.mbtiles", [(2, 1, 3, RED), (2, 1, 0, BLUE)])
    reader = MBTiles(path)
    assert tms_row(2, 0) == 3 and tms_row(2, 3) == 0 and tms_row(0, 0) == 0
    assert reader.tile(2, 1, 0) == (RED, "image/png")
    assert reader.tile(2, 1, 3) == (BLUE, "image/png")
    assert reader.tile(2, 2, 0) is None  # no tile there
    assert reader.tile(2, 1, 4) is None and reader.tile(-1, 0, 0) is None  # not a tile of zoom 2
    assert reader.info.format == "png" and (reader.info.min_zoom, reader.info.max_zoom) == (2, 2)


def test_written_packages_read_back(tmp_path: Path) -> None:
    path = tmp_path / "out" / "demo.mbtiles"
    assert write_mbtiles(path, {"name": "demo", "format": "png", "minzoom": "3", "maxzoom": "4",
                                "bounds": "-118.3,34.0,-118.2,34.1", "attribution": "us"},
                         [(3, 1, 2, RED), (4, 2, 5, BLUE)]) == 2
    info = check_mbtiles(path)
    assert (info.min_zoom, info.max_zoom, info.bounds, info.attribution) == (3, 4, (-118.3, 34.0, -118.2, 34.1), "us")
    reader = MBTiles(path)
    assert reader.tile(3, 1, 2) == (RED, "image/png") and reader.tile(4, 2, 5) == (BLUE, "image/png")
    stored = sqlite3.connect(path).execute("SELECT tile_row FROM tiles WHERE zoom_level = 3").fetchone()
    assert stored == (tms_row(3, 2),)
    assert not list(path.parent.glob("*.part"))  # nothing half-written left behind


@pytest.mark.parametrize(("content", "sentence"), [
    (None, "does not exist"),
    (b"", "not an MBTiles file (not an SQLite database)"),
    (b"PK\x03\x04 a zip file, not SQLite" * 10, "not an MBTiles file (not an SQLite database)"),
    (b"SQLite format 3\x00" + b"\xff" * 2000, "damaged SQLite database"),
])
def test_files_that_are_not_sqlite(tmp_path: Path, content: bytes | None, sentence: str) -> None:
    path = tmp_path / "bad.mbtiles"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(MBTilesError, match=re.escape(sentence)) as err:
        MBTiles(path)
    assert str(err.value).count(". ") <= 1 and "\n" not in str(err.value)  # one sentence a clerk can act on


def test_wrong_schemas_are_named(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE citations (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(MBTilesError, match="has no metadata and no tiles table"):
        MBTiles(other)
    lacking = tmp_path / "lacking.mbtiles"
    conn = sqlite3.connect(lacking)
    conn.executescript("CREATE TABLE metadata (name, value); CREATE TABLE tiles (zoom_level, tile_column, data);")
    conn.close()
    with pytest.raises(MBTilesError, match="lacks tile_data, tile_row"):
        MBTiles(lacking)
    with pytest.raises(MBTilesError, match="holds no tiles"):
        MBTiles(raw_file(tmp_path / "empty.mbtiles", []))
    with pytest.raises(MBTilesError, match="vector tiles"):
        MBTiles(raw_file(tmp_path / "vector.mbtiles", [(0, 0, 0, b"\x1a\x00")], fmt="pbf"))
    with pytest.raises(MBTilesError, match="unknown format"):
        MBTiles(raw_file(tmp_path / "tiff.mbtiles", [(0, 0, 0, b"II*\x00")], fmt="tiff"))


def test_a_hostile_file_does_no_harm(tmp_path: Path) -> None:
    # A huge blob, a tile that is not an image, and a file that must stay untouched.
    path = raw_file(tmp_path / "hostile.mbtiles", [
        (1, 0, 0, b"\x89PNG\r\n\x1a\n" + b"\x00" * (MAX_TILE_BYTES + 10)),
        (1, 1, 0, b"<script>alert(1)</script>"),
        (1, 0, 1, RED),
    ])
    before = path.read_bytes()
    reader = MBTiles(path)
    assert reader.tile(1, 0, 1) is None  # stored row 0: the huge blob, refused by SQLite's length limit
    assert reader.tile(1, 1, 1) is None  # not an image
    assert reader.tile(1, 0, 0) == (RED, "image/png")
    with pytest.raises(sqlite3.OperationalError):  # opened read-only
        reader._conn.execute("DELETE FROM tiles")
    reader.close()
    assert path.read_bytes() == before


def test_a_view_that_never_ends_is_stopped(tmp_path: Path) -> None:
    # "tiles" as a view over an endless recursive query: the statement budget stops it, in one sentence.
    path = tmp_path / "endless.mbtiles"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE metadata (name TEXT, value TEXT); INSERT INTO metadata VALUES ('format', 'png');"
        "CREATE VIEW tiles AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
        "SELECT 0 AS zoom_level, 0 AS tile_column, 0 AS tile_row, NULL AS tile_data FROM n WHERE i < 0;")
    conn.close()
    with pytest.raises(MBTilesError, match="takes too long to read"):
        MBTiles(path)
