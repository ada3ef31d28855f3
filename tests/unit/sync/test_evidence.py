"""Evidence store tests over every shared sample photo, and the store's write-once rules."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest
from PIL import Image

from desktop.persistence.evidence import (
    EvidenceStore,
    EvidenceTampered,
    EvidenceUnreadable,
    ExifInfo,
    open_for_display,
    read_exif,
    verify_photo,
)
from tests.helpers.sync_helpers import PHOTOS_EXIF, shared_photos

ALL_PHOTOS = shared_photos()


def _jpeg(size: tuple[int, int] = (64, 48), color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    return out.getvalue()


def test_the_shared_sample_folder_is_all_there() -> None:
    assert len(ALL_PHOTOS) == 30


@pytest.mark.parametrize("path", ALL_PHOTOS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_read_exif_never_raises_and_open_for_display_never_raises(path: Path) -> None:
    info = read_exif(path)
    assert isinstance(info, ExifInfo)
    if info.latitude is not None:
        assert -90 <= info.latitude <= 90 and info.longitude is not None and -180 <= info.longitude <= 180
    image, reason = open_for_display(path)
    assert (image is None) == bool(reason)


@pytest.mark.parametrize("path", ALL_PHOTOS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_verify_photo_checks_digest_and_size_for_every_sample(path: Path) -> None:
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    check = verify_photo(data, digest, len(data))
    assert check.sha256 == digest and check.size == len(data)
    assert check.ok == (check.reason == "")
    assert not verify_photo(data, digest, len(data) + 1).ok
    assert "SHA-256" in verify_photo(data, "0" * 64, len(data)).reason


@pytest.mark.parametrize(
    ("name", "lat", "lon"),
    [
        ("gps/DSCN0010.jpg", 43.4674483, 11.8851267),
        ("misc/iphone_hdr_NO.jpg", 40.4469722, -3.7247528),  # W: negative longitude
        ("misc/Kodak_CX7530.jpg", -0.3713, 36.0564167),  # S, decimal minutes, zero degrees
        ("tests/87_OSError.jpg", 43.7855944, 11.2346194),  # decimal minutes
        ("tests/67-0_length_string.jpg", 51.025, 7.5919444),
    ],
)
def test_gps_positions_in_decimal_degrees(name: str, lat: float, lon: float) -> None:
    info = read_exif(PHOTOS_EXIF / name)
    assert info.latitude == pytest.approx(lat, abs=1e-6)
    assert info.longitude == pytest.approx(lon, abs=1e-6)
    assert info.gps_error is None


@pytest.mark.parametrize("name", ["misc/Canon_40D.jpg", "tests/32-lens_data.jpeg", "tests/45-gps_ifd.jpg",
                                  "misc/no_exif.jpg"])
def test_empty_or_broken_gps_blocks_give_no_position(name: str) -> None:
    info = read_exif(PHOTOS_EXIF / name)
    assert info.latitude is None and info.longitude is None


def test_capture_time_camera_and_altitude() -> None:
    iphone = read_exif(PHOTOS_EXIF / "misc/iphone_hdr_NO.jpg")
    assert iphone.captured_at is not None and iphone.captured_at.year == 2015
    assert iphone.captured_at_naive and iphone.captured_at.tzinfo is None
    assert iphone.camera_make == "Apple"
    assert iphone.altitude_m == pytest.approx(639.59, abs=0.01)
    nikon = read_exif(PHOTOS_EXIF / "gps/DSCN0010.jpg")
    assert nikon.captured_at is not None and nikon.captured_at.isoformat() == "2008-10-22T16:28:39"


def test_capture_time_with_offset_is_aware(tmp_path: Path) -> None:
    exif = Image.Exif()
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = "2026:11:24 09:14:51"
    sub[0x9011] = "-08:00"
    path = tmp_path / "x.jpg"
    Image.new("RGB", (8, 8)).save(path, "JPEG", exif=exif)
    info = read_exif(path)
    assert info.captured_at is not None and not info.captured_at_naive
    assert info.captured_at.utcoffset() is not None and info.captured_at.utcoffset().total_seconds() == -8 * 3600


def test_orientation_is_applied_for_display() -> None:
    for name, stored_size in (("misc/landscape_6.jpg", (450, 600)), ("misc/portrait_8.jpg", (600, 450))):
        path = PHOTOS_EXIF / name
        with Image.open(path) as raw:
            assert raw.size == stored_size
        image, reason = open_for_display(path)
        assert reason == "" and image is not None
        assert image.size == (stored_size[1], stored_size[0])
    assert read_exif(PHOTOS_EXIF / "misc/landscape_6.jpg").orientation == 6


def test_unreadable_files_report_instead_of_raising(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.jpg"
    garbage.write_bytes(b"\xff\xd8\xff\xe1 not really a jpeg")
    assert read_exif(garbage).error
    image, reason = open_for_display(garbage)
    assert image is None and reason
    assert read_exif(tmp_path / "missing.jpg").error
    assert open_for_display(tmp_path / "missing.jpg") == (None, "the photo file is missing")


def test_truncated_jpeg_fails_decoding() -> None:
    data = (PHOTOS_EXIF / "gps/DSCN0010.jpg").read_bytes()[:60_000]
    check = verify_photo(data, hashlib.sha256(data).hexdigest(), len(data))
    assert not check.ok and "decode" in check.reason


def test_decompression_bomb_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _jpeg((400, 400))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100 * 100)  # 400x400 is > 1x but < 2x: a warning
    check = verify_photo(data, hashlib.sha256(data).hexdigest(), len(data))
    assert not check.ok and "decompression bomb" in check.reason


def test_store_is_content_addressed_and_write_once(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "evidence")
    data = _jpeg()
    first = store.put(data)
    digest = hashlib.sha256(data).hexdigest()
    assert first.created and first.sha256 == digest
    assert first.path == tmp_path / "evidence" / digest[:2] / digest[2:4] / f"{digest}.jpg"
    assert first.path.read_bytes() == data
    mtime = first.path.stat().st_mtime_ns
    again = store.put(data, sha256=digest)
    assert not again.created and again.path.stat().st_mtime_ns == mtime
    assert store.has(digest) and store.verify(digest)
    assert not list(first.path.parent.glob("*.tmp"))
    with pytest.raises(ValueError):
        store.put(data, sha256="0" * 64)


def test_store_refuses_to_paper_over_an_altered_file(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    data = _jpeg()
    stored = store.put(data)
    os.chmod(stored.path, 0o644)
    stored.path.write_bytes(data + b"x")
    assert not store.verify(stored.sha256)
    with pytest.raises(EvidenceTampered):
        store.put(data)
    assert stored.path.read_bytes() == data + b"x"  # kept as found, for investigation


def test_thumbnail_is_made_once(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    stored = store.put((PHOTOS_EXIF / "misc/landscape_6.jpg").read_bytes())
    thumb = store.thumbnail(stored.sha256, size=120)
    with Image.open(thumb) as image:
        assert max(image.size) == 120 and image.width > image.height  # rotated upright
    mtime = thumb.stat().st_mtime_ns
    assert store.thumbnail(stored.sha256, size=120) == thumb and thumb.stat().st_mtime_ns == mtime


def test_thumbnail_of_missing_or_broken_photo_is_a_user_error(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    with pytest.raises(EvidenceUnreadable):
        store.thumbnail("a" * 64)
    broken = store.put(b"\xff\xd8 broken")
    with pytest.raises(EvidenceUnreadable):
        store.thumbnail(broken.sha256)
