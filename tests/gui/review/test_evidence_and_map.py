"""The evidence viewer on every sample photo (good, odd and broken), and the map page in Qt WebEngine
with no network."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from desktop.services.review.map_html import MapSpec, PhotoPoint, ZoneShape
from desktop.ui.common.evidence_viewer import EvidenceViewer, adjusted_copy, decode_photo
from desktop.ui.common.map_view import CitationMapView

PHOTOS = Path("/work/shared/data/photos_exif")
ALL = sorted(p for p in PHOTOS.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg"))


def test_the_sample_folder_is_there() -> None:
    if not PHOTOS.exists():
        pytest.skip("shared data not available")
    assert len(ALL) >= 30


@pytest.mark.parametrize("path", ALL, ids=[p.name for p in ALL])
def test_every_sample_photo_opens_or_says_why(qtbot, path: Path) -> None:
    viewer = EvidenceViewer()
    qtbot.addWidget(viewer)
    viewer.resize(640, 480)
    viewer.show()
    with qtbot.waitSignal(viewer.shown, timeout=10000) as shown:
        viewer.show_file(path)
    if shown.args == [True]:
        assert viewer.stack.currentWidget() is viewer.view
        assert not viewer.view.item.pixmap().isNull()
        viewer.zoom_in()
        viewer.rotate(90)
        viewer.zoom_fit()
    else:
        text = viewer.message.text()
        assert text.startswith("cannot display: ") and len(text) > len("cannot display: ") + 5
        assert viewer.stack.currentWidget() is viewer.message


def test_broken_files_say_cannot_display(tmp_path: Path) -> None:
    good = (PHOTOS / "gps" / "DSCN0010.jpg").read_bytes()
    cases = {
        "truncated.jpg": good[:3000],  # the header and a few rows, then nothing
        "not-an-image.jpg": b"This is a parking ticket, not a photo.\n" * 20,
        "empty.jpg": b"",
        "bomb.png": _huge_png(),
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        shown = decode_photo(tmp_path / name)
        assert not shown.ok and shown.reason, name
    assert decode_photo(tmp_path / "no-such-file.jpg").reason == "the photo file is missing"
    # The damaged files in the sample folder still decode (Pillow recovers them); they must not crash.
    for path in [PHOTOS / "misc" / "corrupted.jpg", *sorted((PHOTOS / "invalid").glob("*.jpg"))]:
        shown = decode_photo(path)
        assert shown.ok or shown.reason


def _huge_png() -> bytes:
    """A tiny file claiming 40000 x 40000 pixels: decompression-bomb protection must refuse it."""
    import io
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 40000, 40000, 8, 2, 0, 0, 0)
    buf = io.BytesIO()
    buf.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 100))
              + chunk(b"IEND", b""))
    return buf.getvalue()


@pytest.mark.parametrize("name, orientation", [("landscape_6.jpg", 6), ("portrait_8.jpg", 8)])
def test_exif_orientation_is_honoured(name: str, orientation: int) -> None:
    path = PHOTOS / "misc" / name
    with Image.open(path) as raw:
        assert raw.getexif().get(0x0112) == orientation
        width, height = raw.size
    shown = decode_photo(path)
    assert shown.ok and (shown.image.width(), shown.image.height()) == (height, width)


def test_brightness_and_contrast_work_on_a_copy() -> None:
    path = PHOTOS / "gps" / "DSCN0010.jpg"
    before = path.read_bytes()
    photo = decode_photo(path)
    brighter = adjusted_copy(photo.source, 40, 0)
    original = photo.image
    x, y = original.width() // 2, original.height() // 2
    assert brighter.pixelColor(x, y).lightness() > original.pixelColor(x, y).lightness()
    flat = adjusted_copy(photo.source, 0, -100)
    assert flat.pixelColor(x, y).red() == 128
    assert path.read_bytes() == before


SPEC = MapSpec(34.0500, -118.2500, 12.0, "HH0001-000001 7ABC123",
               photos=(PhotoPoint(34.0502, -118.2501, "Photo 1"),),
               zones=(ZoneShape("Z-A", "District A", {"type": "Polygon", "coordinates": [[
                   [-118.2504, 34.0497], [-118.2496, 34.0497], [-118.2496, 34.0503], [-118.2504, 34.0503],
                   [-118.2504, 34.0497]]]}),))


def test_the_map_loads_offline_in_webengine(qtbot) -> None:
    """One WebEngine test, kept robust: wait for the page's own 'laid out' title, then for paint."""
    view = CitationMapView()
    qtbot.addWidget(view, before_close_func=lambda w: w.shutdown())
    view.resize(520, 380)
    view.show()
    with qtbot.waitSignal(view.ready, timeout=30000):
        path = view.show_spec(SPEC)
    assert path is not None and path.is_file()

    def painted() -> bool:
        image = view.grab_image()
        colours = {image.pixel(x, y) for x in range(0, image.width(), 5) for y in range(0, image.height(), 5)}
        reds = [c for c in colours if ((c >> 16) & 255) > 170 and ((c >> 8) & 255) < 90 and (c & 255) < 90]
        return len(colours) > 8 and bool(reds)  # more than the plain background, and the citation's red dot

    qtbot.waitUntil(painted, timeout=20000)
    assert view.web_view.title() == "curbdesk-map-ready:1"

    def layers() -> tuple[str, str, int]:
        results: list = []
        view.web_view.page().runJavaScript(
            "JSON.stringify([typeof L, typeof jQuery, document.querySelectorAll('.leaflet-interactive').length])",
            0, results.append)
        qtbot.waitUntil(lambda: bool(results), timeout=10000)
        leaflet, jquery, shapes = json.loads(results[0])
        return leaflet, jquery, shapes

    leaflet, jquery, shapes = layers()
    # zone, accuracy circle, photo line, photo dot, citation dot
    assert (leaflet, jquery, shapes) == ("object", "function", 5)
    # The next citation is drawn into the same page (no page load): two photos now, no zone.
    second = MapSpec(34.0600, -118.2600, 6.0, "HH0002-000002", photos=(
        PhotoPoint(34.0601, -118.2600, "Photo 1"), PhotoPoint(34.0599, -118.2601, "Photo 2")))
    with qtbot.waitSignal(view.ready, timeout=10000):
        assert view.show_spec(second) is None
    assert view.web_view.title() == "curbdesk-map-ready:2"
    assert layers()[2] == 6
