"""Dock bundles through the same pipeline: imported once, rejected whole when unsound, bad lines quarantined,
the drop folder, and every shared sample photo as evidence."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from desktop.demo.simulator import FieldSimulator
from desktop.domain.errors import UserError
from desktop.domain.roles import Role
from desktop.persistence.evidence import EvidenceStore
from desktop.persistence.models import Citation, EvidencePhoto, ImportedBundle
from desktop.services import sync as sync_service
from desktop.services.core.audit import verify
from desktop.services.core.context import AppContext
from desktop.sync.bundle import BundleRejected, write_bundle
from tests.helpers.ingest_helpers import SYSTEM, citation_numbers, counts, quarantine_reasons
from tests.helpers.sync_helpers import shared_photos, valid_event

EXPORTED = datetime(2026, 11, 24, 23, 59, 1, tzinfo=UTC)


def _photo(colour: tuple[int, int, int] = (10, 120, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), colour).save(out, "JPEG")
    return out.getvalue()


def _citation_event(n: int, photos: list[bytes] | None = None, device: str = "HH-0042") -> dict[str, Any]:
    event = valid_event(event_id=f"b-{device}-{n}", device_id=device, seq=n)
    event["payload"]["citation_number"] = f"{device.replace('-', '')}-B{n:05d}"
    event["payload"]["photos"] = [{"sha256": hashlib.sha256(p).hexdigest(), "bytes": len(p), "caption": "plate",
                                   "taken_at": "2026-11-24T09:14:51-08:00"} for p in photos or []]
    return event


@pytest.fixture(autouse=True)
def registered_devices(app: AppContext) -> None:
    """The handhelds these bundles come from are the office's (an unregistered device's bundle is held:
    tests/integration/sync/test_sync_hardening.py)."""
    for device_id in ("HH-0001", "HH-0002", "HH-0003", "HH-0042", "HH-0043"):
        sync_service.add_device(app, SYSTEM, device_id)


@pytest.fixture
def fleet_bundles(tmp_path: Path) -> tuple[FieldSimulator, list[Path]]:
    sim = FieldSimulator(devices=3, citations=15, token="t", photo_size=(64, 48), malformed_events=3)
    return sim, sim.write_bundles(tmp_path / "bundles", exported_at=EXPORTED)


def test_fleet_bundles_import_once(app: AppContext, fleet_bundles: tuple[FieldSimulator, list[Path]]) -> None:
    sim, paths = fleet_bundles
    results = [sync_service.import_bundle(app, SYSTEM, p) for p in paths]
    assert set(citation_numbers(app)) == sim.valid_citation_numbers
    assert sum(r.stats.citations for r in results) == 15
    assert sum(r.stats.quarantined for r in results) == 3
    assert sum(r.stats.photos for r in results) == len(sim.photos)
    assert all("events" in r.line() for r in results)
    before = counts(app)
    assert before["bundles"] == 3
    again = [sync_service.import_bundle(app, SYSTEM, p) for p in paths]
    assert all(r.already_imported for r in again) and counts(app) == before
    assert "already imported, nothing new" in again[0].line()
    # the same events in another file (re-exported): recognised by their event ids
    renamed = paths[0].with_name(paths[0].name.replace("235901Z", "235959Z"))
    with zipfile.ZipFile(paths[0]) as src, zipfile.ZipFile(renamed, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr("extra.txt", b"a different file")
    result = sync_service.import_bundle(app, SYSTEM, renamed)
    assert result.stats.events == 0 and result.stats.duplicates > 0
    assert counts(app)["citations"] == before["citations"]
    assert verify(app.db).ok


def _write_raw(directory: Path, name: str, manifest: dict[str, Any] | None, events: bytes,
               members: dict[str, bytes] | None = None) -> Path:
    if manifest is None:
        manifest = {"protocol": 1, "device_id": name.rsplit("-", 1)[0], "exported_at": "2026-11-24T23:59:01Z",
                    "event_count": len(events.splitlines()), "events_sha256": hashlib.sha256(events).hexdigest()}
    path = directory / name
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("manifest.json", json.dumps(manifest))
        archive.writestr("events.jsonl", events)
        for member, data in (members or {}).items():
            archive.writestr(member, data)
    return path


def _lines(*events: dict[str, Any]) -> bytes:
    return b"".join(json.dumps(e).encode() + b"\n" for e in events)


REJECTIONS = {
    "digest": lambda ev: ({"protocol": 1, "device_id": "HH-0042", "exported_at": "2026-11-24T23:59:01Z",
                           "event_count": 2, "events_sha256": "0" * 64}, ev, {}),
    "count": lambda ev: ({"protocol": 1, "device_id": "HH-0042", "exported_at": "2026-11-24T23:59:01Z",
                          "event_count": 5, "events_sha256": hashlib.sha256(ev).hexdigest()}, ev, {}),
    "device": lambda ev: ({"protocol": 1, "device_id": "HH-0099", "exported_at": "2026-11-24T23:59:01Z",
                           "event_count": 2, "events_sha256": hashlib.sha256(ev).hexdigest()}, ev, {}),
    "protocol": lambda ev: ({"protocol": 2, "device_id": "HH-0042", "exported_at": "2026-11-24T23:59:01Z",
                             "event_count": 2, "events_sha256": hashlib.sha256(ev).hexdigest()}, ev, {}),
    "naive time": lambda ev: ({"protocol": 1, "device_id": "HH-0042", "exported_at": "2026-11-24T23:59:01",
                               "event_count": 2, "events_sha256": hashlib.sha256(ev).hexdigest()}, ev, {}),
    "traversal": lambda ev: (None, ev, {"../evil.jpg": b"x"}),
}


@pytest.mark.parametrize("kind", sorted(REJECTIONS))
def test_unsound_bundles_are_rejected_whole(app: AppContext, tmp_path: Path, kind: str) -> None:
    events = _lines(_citation_event(1), _citation_event(2))
    manifest, body, members = REJECTIONS[kind](events)
    path = _write_raw(tmp_path, "HH-0042-20261124T235901Z.zip", manifest, body, members)
    before = counts(app)
    with pytest.raises(BundleRejected, match="Nothing from it was stored"):
        sync_service.import_bundle(app, SYSTEM, path)
    assert counts(app) == before


def test_not_a_zip_and_a_wrong_name_are_rejected(app: AppContext, tmp_path: Path) -> None:
    junk = tmp_path / "HH-0042-20261124T235901Z.zip"
    junk.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(BundleRejected, match="not a readable ZIP"):
        sync_service.import_bundle(app, SYSTEM, junk)
    named = _write_raw(tmp_path, "bundle.zip", None, _lines(_citation_event(1)))
    with pytest.raises(BundleRejected, match="its name"):
        sync_service.import_bundle(app, SYSTEM, named)
    with pytest.raises(UserError, match="does not exist"):
        sync_service.import_bundle(app, SYSTEM, tmp_path / "HH-0042-20261124T000000Z.zip")
    assert counts(app)["events"] == 0


def test_bad_lines_in_a_good_bundle_are_quarantined_with_their_line(app: AppContext, tmp_path: Path) -> None:
    good = _citation_event(1)
    other_device = _citation_event(2, device="HH-0007")
    body = _lines(good) + b"{not json\n" + "caf\xe9".encode("latin-1") + b"\n" + _lines(other_device) + b"[1, 2]\n"
    path = _write_raw(tmp_path, "HH-0042-20261124T235901Z.zip", None, body)
    result = sync_service.import_bundle(app, SYSTEM, path)
    assert result.stats.citations == 1 and result.stats.quarantined == 4
    reasons = quarantine_reasons(app)
    assert any(r.startswith("line 2: event: unreadable JSON") for r in reasons)
    assert any(r.startswith("line 3: event: not UTF-8") for r in reasons)
    assert any("an event of HH-0007 inside the dock bundle of HH-0042" in r for r in reasons)
    assert any(r.startswith("line 5: event: must be a JSON object") for r in reasons)


def test_photos_missing_from_a_bundle_arrive_with_a_later_one(app: AppContext, tmp_path: Path) -> None:
    photo = _photo()
    sha = hashlib.sha256(photo).hexdigest()
    event = _citation_event(1, [photo])
    first = write_bundle(tmp_path, "HH-0042", [event], {}, exported_at=EXPORTED)
    result = sync_service.import_bundle(app, SYSTEM, first)
    assert result.stats.photos_missing == 1
    with app.db.reading() as s:
        assert s.scalar(select(Citation.evidence_status)) == "missing"
    later = write_bundle(tmp_path, "HH-0042", [event], {sha: photo},
                         exported_at=EXPORTED.replace(minute=58))
    result = sync_service.import_bundle(app, SYSTEM, later)
    assert result.recovered_photos == 1 and result.stats.duplicates == 1
    with app.db.reading() as s:
        c = s.scalar(select(Citation))
        assert c.evidence_status == "ok" and c.photos[0].integrity == "verified"


def test_every_shared_sample_photo_as_evidence(app: AppContext, tmp_path: Path) -> None:
    """The real-world files (GPS, no EXIF, broken EXIF, the 'invalid' and 'corrupted' samples) each on a
    citation, plus cut-short copies of some of them (a transfer that broke off)."""
    files = shared_photos()
    assert len(files) >= 25
    photos: dict[str, bytes] = {}
    events = []
    names = []
    for n, path in enumerate(files, start=1):
        data = path.read_bytes()
        name = str(path.relative_to(path.parents[1]))
        if name in ("misc/corrupted.jpg", "invalid/image00971.jpg", "gps/DSCN0010.jpg"):
            cut = data[: len(data) // 2]
            photos[hashlib.sha256(cut).hexdigest()] = cut
            events.append(_citation_event(1000 + n, [cut]))
            names.append(("cut " + name, 1000 + n))
        photos[hashlib.sha256(data).hexdigest()] = data
        events.append(_citation_event(n, [data]))
        names.append((name, n))
    bundle = write_bundle(tmp_path, "HH-0042", events, photos, exported_at=EXPORTED)
    result = sync_service.import_bundle(app, SYSTEM, bundle)
    assert result.stats.citations == len(events)
    assert result.stats.photos == len(files) and result.stats.photos_failed == 3
    store = EvidenceStore(app.paths.evidence_dir)
    with app.db.reading() as s:
        by_name = {}
        for name, n in names:
            c = s.scalar(select(Citation).where(Citation.citation_number == f"HH0042-B{n:05d}"))
            by_name[name] = (c.photos[0], c.evidence_status)
    for name, (photo, status) in by_name.items():
        if name.startswith("cut "):
            # every sample decodes (their damage is in the EXIF); cut short, they no longer do
            assert photo.integrity == "integrity_failed" and status == "integrity_failed", name
            assert "does not decode" in photo.integrity_reason, name
            assert not store.has(photo.sha256)
        else:
            assert photo.integrity == "verified" and status == "ok", name
            assert store.verify(photo.sha256) and photo.width and photo.height
            assert isinstance(photo.exif, dict)
    dscn = by_name["gps/DSCN0010.jpg"][0]
    assert dscn.gps_lat == pytest.approx(43.4674483, abs=1e-6) and dscn.gps_lon == pytest.approx(11.8851267, abs=1e-6)
    assert dscn.exif["camera_make"].startswith("NIKON")
    assert by_name["misc/iphone_hdr_NO.jpg"][0].gps_lon < 0  # western hemisphere
    assert by_name["misc/Kodak_CX7530.jpg"][0].gps_lat == pytest.approx(-0.3713, abs=1e-4)
    assert by_name["misc/Canon_40D.jpg"][0].gps_lat is None  # GPS block present but empty
    assert by_name["tests/45-gps_ifd.jpg"][0].gps_lat is None
    no_exif = by_name["misc/no_exif.jpg"][0]
    assert no_exif.exif.get("camera_make") is None and no_exif.gps_lat is None
    assert by_name["misc/landscape_6.jpg"][0].exif["orientation"] == 6
    # stored evidence never changes: importing the same photos again leaves every file as it was
    mtimes = {p: p.stat().st_mtime_ns for p in app.paths.evidence_dir.rglob("*.jpg")}
    again = write_bundle(tmp_path / "again", "HH-0042", events, photos, exported_at=EXPORTED.replace(second=2))
    assert sync_service.import_bundle(app, SYSTEM, again).stats.events == 0
    assert {p: p.stat().st_mtime_ns for p in app.paths.evidence_dir.rglob("*.jpg")} == mtimes


def test_drop_folder_imports_and_sorts_bundles(app: AppContext, tmp_path: Path) -> None:
    drop = app.paths.drop_dir
    drop.mkdir(parents=True, exist_ok=True)
    good = write_bundle(tmp_path, "HH-0042", [_citation_event(1)], {}, exported_at=EXPORTED)
    shutil.copy(good, drop / good.name)
    bad = _write_raw(drop, "HH-0043-20261124T235901Z.zip", {"protocol": 1}, _lines(_citation_event(2)))
    fresh = write_bundle(drop, "HH-0044", [_citation_event(3, device="HH-0044")], {}, exported_at=EXPORTED)
    (drop / "notes.txt").write_text("not a bundle")
    old = time.time() - 60
    for p in (drop / good.name, bad):
        os.utime(p, (old, old))
    results = sync_service.scan_drop_folder(app, SYSTEM, min_age_seconds=30)
    assert [(r.name, r.ok) for r in results] == [(good.name, True), (bad.name, False)]
    assert (drop / "imported" / good.name).is_file()
    assert (drop / "rejected" / bad.name).is_file()
    reason = (drop / "rejected" / f"{bad.name}.reason.txt").read_text()
    assert "was rejected" in reason and "manifest" in reason
    assert fresh.is_file() and (drop / "notes.txt").is_file()  # too young / not a bundle: left alone
    assert citation_numbers(app) == ["HH0042-B00001"]
    # the same bundle dropped again is recognised and filed away
    shutil.copy(good, drop / good.name)
    os.utime(drop / good.name, (old, old))
    results = sync_service.scan_drop_folder(app, SYSTEM, min_age_seconds=30)
    assert results[0].ok and "already imported" in results[0].line
    assert (drop / "imported" / good.name.replace(".zip", ".2.zip")).is_file()


def test_bundle_import_needs_sync_permission(app: AppContext, actors: dict[Role, Any], tmp_path: Path) -> None:
    path = write_bundle(tmp_path, "HH-0042", [_citation_event(1)], {}, exported_at=EXPORTED)
    with pytest.raises(UserError, match="may not sync field data"):
        sync_service.import_bundle(app, actors[Role.MAIL_OFFICE], path)
    assert sync_service.import_bundle(app, actors[Role.CLERK], path).stats.citations == 1
    with app.db.reading() as s:
        assert s.scalar(select(ImportedBundle.device_id)) == "HH-0042"
        assert s.scalar(select(EvidencePhoto)) is None
