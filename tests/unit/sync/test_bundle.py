"""Dock bundle tests: a sound bundle reads back; every kind of mismatch rejects the whole bundle."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from desktop.demo.simulator import FieldSimulator
from desktop.domain.errors import UserError
from desktop.sync.bundle import BundleRejected, read_bundle, write_bundle
from desktop.sync.wire import ParsedEvent, Rejected, parse_envelope
from tests.helpers.sync_helpers import valid_event

EXPORTED = datetime(2026, 11, 24, 23, 59, 1, tzinfo=UTC)


def _photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 120, 30)).save(out, "JPEG")
    return out.getvalue()


def _events(n: int = 3) -> list[dict[str, Any]]:
    return [valid_event(event_id=f"e-{i}", seq=i) for i in range(1, n + 1)]


def _raw_bundle(directory: Path, name: str, members: dict[str, bytes], manifest: dict[str, Any] | None = None,
                events: bytes | None = None) -> Path:
    events = events if events is not None else b"".join(json.dumps(e).encode() + b"\n" for e in _events())
    if manifest is None:
        manifest = {"protocol": 1, "device_id": "HH-0042", "exported_at": "2026-11-24T23:59:01Z",
                    "event_count": len(events.splitlines()), "events_sha256": hashlib.sha256(events).hexdigest()}
    path = directory / name
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("manifest.json", json.dumps(manifest))
        archive.writestr("events.jsonl", events)
        for member, data in members.items():
            archive.writestr(member, data)
    return path


def test_written_bundle_reads_back(tmp_path: Path) -> None:
    photo = _photo()
    sha = hashlib.sha256(photo).hexdigest()
    path = write_bundle(tmp_path, "HH-0042", [*_events(), "{broken line"], {sha: photo}, exported_at=EXPORTED)
    assert path.name == "HH-0042-20261124T235901Z.zip"
    bundle = read_bundle(path)
    assert bundle.device_id == "HH-0042" and bundle.event_count == 4
    assert bundle.exported_at == EXPORTED
    lines = list(bundle.lines())
    assert [line.number for line in lines] == [1, 2, 3, 4]
    results = [parse_envelope(line.text) for line in lines]
    assert [type(r) for r in results] == [ParsedEvent, ParsedEvent, ParsedEvent, Rejected]
    assert bundle.photo_digests == {sha} and bundle.read_photo(sha) == photo
    assert dict(bundle.photos()) == {sha: photo}


def _reject(path: Path, words: str) -> None:
    with pytest.raises(BundleRejected, match=words) as caught:
        read_bundle(path)
    assert isinstance(caught.value, UserError)
    assert "Nothing from it was stored" in str(caught.value) or "does not exist" in str(caught.value)


@pytest.mark.parametrize("name", ["HH-0042.zip", "HH-0042-2026-11-24.zip", "HH-0042-20261124T235901.zip",
                                  "HH-0042-20261399T235901Z.zip", "-20261124T235901Z.zip",
                                  "HH-0042-20261124T235901Z.ZIP"])
def test_bad_file_names_are_rejected(tmp_path: Path, name: str) -> None:
    path = _raw_bundle(tmp_path, name, {})
    _reject(path, "name|date")


def test_manifest_mismatches_are_rejected(tmp_path: Path) -> None:
    events = b"".join(json.dumps(e).encode() + b"\n" for e in _events())
    good = {"protocol": 1, "device_id": "HH-0042", "exported_at": "2026-11-24T23:59:01Z", "event_count": 3,
            "events_sha256": hashlib.sha256(events).hexdigest()}
    cases = [
        ({**good, "event_count": 4}, "3 lines, the manifest says 4"),
        ({**good, "events_sha256": "0" * 64}, "does not match the digest"),
        ({**good, "device_id": "HH-0043"}, "does not match the file name"),
        ({**good, "protocol": 2}, "protocol 2"),
        ({k: v for k, v in good.items() if k != "events_sha256"}, "events_sha256 is missing"),
        ({**good, "exported_at": "2026-11-24T23:59:01"}, "exported_at"),
        ({**good, "event_count": "3"}, "event_count"),
    ]
    for n, (manifest, words) in enumerate(cases):
        folder = tmp_path / str(n)
        folder.mkdir()
        _reject(_raw_bundle(folder, "HH-0042-20261124T235901Z.zip", {}, manifest, events), words)


def test_missing_members_and_non_zip_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "HH-0042-20261124T235901Z.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("events.jsonl", b"")
    _reject(path, "no manifest.json")
    path.write_bytes(b"PK\x03\x04 this is not a zip")
    _reject(path, "not a readable ZIP")


def test_photo_named_with_the_wrong_digest_is_read_for_the_ingest_to_flag(tmp_path: Path) -> None:
    """The manifest does not cover the photos: a photo whose bytes do not match its name follows protocol
    rule 3 at the ingest (its citation flagged), it is no reason to refuse the device's whole day."""
    photo = _photo()
    bundle = read_bundle(_raw_bundle(tmp_path, "HH-0042-20261124T235901Z.zip", {f"photos/{'a' * 64}.jpg": photo}))
    assert bundle.photo_digests == {"a" * 64}
    assert bundle.read_photo("a" * 64) == photo


def test_photo_with_a_bad_name_is_rejected(tmp_path: Path) -> None:
    _reject(_raw_bundle(tmp_path, "HH-0042-20261124T235901Z.zip", {"photos/plate.jpg": _photo()}),
            "not named photos/<sha256>.jpg")


@pytest.mark.parametrize("member", ["../evil.txt", "/etc/passwd", "photos/../../x.jpg", "C:/x.jpg", "a\\b.jpg"])
def test_path_traversal_is_rejected(tmp_path: Path, member: str) -> None:
    _reject(_raw_bundle(tmp_path, "HH-0042-20261124T235901Z.zip", {member: b"x"}), "unsafe file name")


def test_zip_bomb_is_rejected_without_inflating_it(tmp_path: Path) -> None:
    path = tmp_path / "HH-0042-20261124T235901Z.zip"
    events = b"".join(json.dumps(e).encode() + b"\n" for e in _events())
    manifest = {"protocol": 1, "device_id": "HH-0042", "exported_at": "2026-11-24T23:59:01Z", "event_count": 3,
                "events_sha256": hashlib.sha256(events).hexdigest()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest))
        archive.writestr("events.jsonl", events)
        archive.writestr("padding.bin", b"\0" * (50 * 1024 * 1024))
    assert path.stat().st_size < 200_000
    _reject(path, "zip bomb")


def test_bad_lines_are_yielded_not_rejected(tmp_path: Path) -> None:
    events = json.dumps(valid_event()).encode() + b"\n\n\xff\xfe not utf8\n{\"truncated\": \n"
    path = _raw_bundle(tmp_path, "HH-0042-20261124T235901Z.zip", {}, events=events)
    lines = list(read_bundle(path).lines())
    assert len(lines) == 4
    assert lines[2].utf8_error and lines[0].utf8_error is None
    assert [isinstance(parse_envelope(line.text), Rejected) for line in lines] == [False, True, True, True]


def test_simulator_bundles_are_sound(tmp_path: Path) -> None:
    sim = FieldSimulator(devices=2, citations=6, photo_size=(160, 120), malformed_events=2, truncated_photos=1)
    paths = sim.write_bundles(tmp_path, exported_at=EXPORTED)
    assert len(paths) == 2
    ids = set()
    for path in paths:
        bundle = read_bundle(path)
        for line in bundle.lines():
            result = parse_envelope(line.text)
            if isinstance(result, ParsedEvent):
                ids.add(result.event_id)
        assert not bundle.photo_digests & set(sim.bad_photos)
    assert sim.accepted_event_ids <= ids
