"""Dock bundles: the ZIP file a docked handheld exports, read and checked before anything is stored.

A bundle is ``<device_id>-<YYYYMMDDTHHMMSSZ>.zip`` holding ``manifest.json``,
``events.jsonl`` and ``photos/<sha256>.jpg``. :func:`read_bundle` rejects the
whole bundle (:class:`BundleRejected`, with the reason) when its name,
manifest, event digest, event count or device do not agree, when a photo is not
named ``photos/<sha256>.jpg``, or when it looks like a zip bomb or tries path
traversal. Bad *lines* are not a rejection: they are handed to the ingest one
by one, which quarantines them; nor is a photo whose bytes do not match its
name: it fails integrity when the ingest checks it, and only its citation is
flagged (protocol rule 3).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from desktop.domain.errors import UserError
from desktop.sync.wire import WireTime

BUNDLE_NAME = re.compile(r"^(?P<device_id>[A-Za-z0-9][A-Za-z0-9._-]*)-(?P<stamp>\d{8}T\d{6}Z)\.zip$")
PHOTO_NAME = re.compile(r"^photos/(?P<sha>[0-9a-f]{64})\.jpg$")

MAX_MEMBERS = 200_000
MAX_MANIFEST_BYTES = 1024 * 1024
MAX_EVENTS_BYTES = 512 * 1024 * 1024
MAX_PHOTO_BYTES = 64 * 1024 * 1024
MAX_TOTAL_BYTES = 16 * 1024 * 1024 * 1024
MAX_RATIO = 200  # uncompressed / compressed, beyond which a member is treated as a bomb


class BundleRejected(UserError):
    """The bundle does not agree with itself; nothing of it may be stored."""


class _Manifest(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    protocol: int
    device_id: str = Field(min_length=1)
    exported_at: WireTime
    event_count: int = Field(ge=0)
    events_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class BundleLine:
    """One line of ``events.jsonl`` as text (1-based ``number``); ``utf8_error`` when it was not UTF-8."""

    number: int
    text: str
    utf8_error: str | None = None


@dataclass
class Bundle:
    """A checked bundle: its manifest, its event lines, and access to its photos by digest."""

    path: Path
    device_id: str
    exported_at: datetime
    event_count: int
    events_sha256: str
    manifest: dict[str, Any]
    events_bytes: bytes
    photo_members: dict[str, str] = field(default_factory=dict)  # sha -> member name

    @property
    def photo_digests(self) -> set[str]:
        return set(self.photo_members)

    def lines(self) -> Iterator[BundleLine]:
        """Every line of events.jsonl (blank ones too: they are bad lines for the ingest to quarantine)."""
        for number, raw in enumerate(self.events_bytes.splitlines(), start=1):
            try:
                yield BundleLine(number, raw.decode("utf-8"))
            except UnicodeDecodeError as exc:
                yield BundleLine(number, raw.decode("utf-8", "replace"), f"not UTF-8 at byte {exc.start}")

    def read_photo(self, sha256: str) -> bytes:
        member = self.photo_members.get(sha256)
        if member is None:
            raise KeyError(sha256)
        with zipfile.ZipFile(self.path) as archive:
            return _read_member(archive, archive.getinfo(member), MAX_PHOTO_BYTES)

    def photos(self) -> Iterator[tuple[str, bytes]]:
        with zipfile.ZipFile(self.path) as archive:
            for sha, member in sorted(self.photo_members.items()):
                yield sha, _read_member(archive, archive.getinfo(member), MAX_PHOTO_BYTES)


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """Read one member, refusing to inflate past ``limit`` or past its declared size."""
    cap = min(limit, info.file_size)
    chunks: list[bytes] = []
    total = 0
    with archive.open(info) as handle:
        while True:
            chunk = handle.read(1024 * 1024)
            if not chunk:
                break
            total += len(chunk)
            if total > cap:
                raise BundleRejected(f"{info.filename} inflates beyond its declared size.")
            chunks.append(chunk)
    return b"".join(chunks)


def _reject(path: Path, reason: str) -> BundleRejected:
    return BundleRejected(f"Dock bundle {path.name} was rejected: {reason}. Nothing from it was stored.")


def read_bundle(path: Path) -> Bundle:
    """Open and check a dock bundle; raise :class:`BundleRejected` with the reason if it is not sound."""
    path = Path(path)
    match = BUNDLE_NAME.match(path.name)
    if not match:
        raise _reject(path, "its name is not <device_id>-<YYYYMMDDTHHMMSSZ>.zip")
    try:
        datetime.strptime(match["stamp"], "%Y%m%dT%H%M%SZ")
    except ValueError:
        raise _reject(path, f"the time {match['stamp']} in its name is not a real date") from None
    if not path.is_file():
        raise BundleRejected(f"Dock bundle {path} does not exist.")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _reject(path, f"it is not a readable ZIP file ({exc})") from None
    try:
        return _check(path, match["device_id"], archive)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError,
            RuntimeError) as exc:
        raise _reject(path, f"the ZIP file is damaged ({str(exc)[:100]})") from None
    finally:
        archive.close()


def _check(path: Path, device_id: str, archive: zipfile.ZipFile) -> Bundle:
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise _reject(path, f"it holds {len(infos)} files, more than {MAX_MEMBERS}")
    names: set[str] = set()
    photo_members: dict[str, str] = {}
    total = 0
    for info in infos:
        name = info.filename
        pure = PurePosixPath(name)
        if (
            "\\" in name
            or name.startswith("/")
            or ".." in pure.parts
            or re.match(r"^[A-Za-z]:", name)
            or "\x00" in name
        ):
            raise _reject(path, f"it holds an unsafe file name {name!r}")
        if name in names:
            raise _reject(path, f"it holds {name!r} twice")
        names.add(name)
        if info.flag_bits & 0x1:
            raise _reject(path, f"{name} is encrypted")
        total += info.file_size
        if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise _reject(path, f"{name} is compressed suspiciously well (a zip bomb?)")
        if name.endswith("/"):
            continue
        if name.startswith("photos/"):
            photo = PHOTO_NAME.match(name)
            if not photo:
                raise _reject(path, f"photo file {name!r} is not named photos/<sha256>.jpg")
            if info.file_size > MAX_PHOTO_BYTES:
                raise _reject(path, f"photo {name} is larger than {MAX_PHOTO_BYTES // (1024 * 1024)} MB")
            photo_members[photo["sha"]] = name
    if total > MAX_TOTAL_BYTES:
        raise _reject(path, "its contents are too large")
    for required in ("manifest.json", "events.jsonl"):
        if required not in names:
            raise _reject(path, f"it has no {required}")

    manifest_info = archive.getinfo("manifest.json")
    if manifest_info.file_size > MAX_MANIFEST_BYTES:
        raise _reject(path, "manifest.json is too large")
    try:
        manifest_raw = json.loads(_read_member(archive, manifest_info, MAX_MANIFEST_BYTES).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise _reject(path, "manifest.json is not readable JSON") from None
    if not isinstance(manifest_raw, dict):
        raise _reject(path, "manifest.json is not a JSON object")
    try:
        manifest = _Manifest.model_validate(manifest_raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        what = "is missing" if first["type"] == "missing" else first["msg"].replace("Value error, ", "")
        raise _reject(path, f"manifest {where} {what}") from None
    if manifest.protocol != 1:
        raise _reject(path, f"manifest protocol {manifest.protocol} is not supported (expected 1)")
    if manifest.device_id != device_id:
        raise _reject(path, f"manifest device_id {manifest.device_id} does not match the file name ({device_id})")

    events_info = archive.getinfo("events.jsonl")
    if events_info.file_size > MAX_EVENTS_BYTES:
        raise _reject(path, "events.jsonl is too large")
    events_bytes = _read_member(archive, events_info, MAX_EVENTS_BYTES)
    digest = hashlib.sha256(events_bytes).hexdigest()
    if digest != manifest.events_sha256:
        raise _reject(path, "events.jsonl does not match the digest in the manifest")
    line_count = len(events_bytes.splitlines())
    if line_count != manifest.event_count:
        raise _reject(path, f"events.jsonl has {line_count} lines, the manifest says {manifest.event_count}")

    # the manifest does not cover the photos: one whose bytes do not match its name follows protocol rule 3
    # when the ingest reads it (its citation is flagged "evidence failed integrity"; the rest is imported)

    return Bundle(
        path=path,
        device_id=device_id,
        exported_at=manifest.exported_at,
        event_count=manifest.event_count,
        events_sha256=manifest.events_sha256,
        manifest=manifest_raw,
        events_bytes=events_bytes,
        photo_members=photo_members,
    )


def bundle_name(device_id: str, exported_at: datetime) -> str:
    return f"{device_id}-{exported_at.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}.zip"


def write_bundle(
    path_dir: Path,
    device_id: str,
    events: Iterable[Mapping[str, Any] | str],
    photos: Mapping[str, bytes],
    *,
    exported_at: datetime | None = None,
) -> Path:
    """Write a bundle as a handheld would (events as dicts, or raw strings for a deliberately bad line).

    The file appears complete or not at all (written to a temp file, then renamed).
    """
    exported = (exported_at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    lines = []
    for event in events:
        if isinstance(event, str):
            lines.append(event)
        else:
            lines.append(json.dumps(event, ensure_ascii=False, separators=(",", ":")))
    events_bytes = "".join(line + "\n" for line in lines).encode("utf-8")
    manifest = {
        "protocol": 1,
        "device_id": device_id,
        "exported_at": exported.isoformat().replace("+00:00", "Z"),
        "event_count": len(lines),
        "events_sha256": hashlib.sha256(events_bytes).hexdigest(),
    }
    directory = Path(path_dir)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / bundle_name(device_id, exported)
    fd, temp_name = tempfile.mkstemp(dir=directory, prefix=".bundle-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w") as archive:
            archive.writestr("manifest.json", json.dumps(manifest, indent=2), zipfile.ZIP_DEFLATED)
            archive.writestr("events.jsonl", events_bytes, zipfile.ZIP_DEFLATED)
            for sha, data in sorted(photos.items()):
                archive.writestr(f"photos/{sha}.jpg", data, zipfile.ZIP_STORED)
        os.replace(temp_name, target)
    finally:
        if os.path.exists(temp_name):
            os.unlink(temp_name)
    return target
