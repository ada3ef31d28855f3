"""Dock bundles: one bundle imported, the drop folder scanned, the bundles already imported listed."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop.domain.errors import UserError
from desktop.domain.lifecycle import PhotoIntegrity
from desktop.domain.roles import Permission
from desktop.persistence import evidence
from desktop.persistence.evidence import EvidenceStore
from desktop.persistence.models import ImportedBundle
from desktop.services.core import settings as settings_service
from desktop.services.core.context import Actor, AppContext
from desktop.services.sync.devices import add_device, is_registered, register_device
from desktop.services.sync.ingest import Ingestor, IngestStats
from desktop.services.sync.photo_sources import BundlePhotos, PhotoOutcome, PhotoSource
from desktop.services.sync.run import CancelHook, Progress, cancel_fn, no_progress, recover_missing_photos
from desktop.sync.bundle import BUNDLE_NAME, BundleRejected, read_bundle
from desktop.sync.client import SyncCancelled

BUNDLE_CHUNK = 500
#: the data folder's folder of dock bundles held until a supervisor accepts their device
HELD_BUNDLES = "held-bundles"


@dataclass
class BundleResult:
    path: Path
    device_id: str | None = None
    stats: IngestStats = field(default_factory=IngestStats)
    already_imported: bool = False
    recovered_photos: int = 0
    #: its device is not registered here: kept aside for a supervisor to accept (nothing of it stored)
    held: bool = False

    def line(self) -> str:
        if self.already_imported:
            return f"{self.path.name}: already imported, nothing new"
        if self.held:
            return (f"{self.path.name}: held, nothing stored: device {self.device_id} is not registered here. "
                    "A supervisor can accept it in Devices & Sync (registering the device) or refuse it")
        s = self.stats
        return (f"{self.path.name}: {s.events:,} events, {s.citations:,} citations, {s.photos:,} photos, "
                f"{s.quarantined:,} quarantined, {s.duplicates:,} duplicates ignored"
                + (f", {s.photos_missing} photos missing" if s.photos_missing else "")
                + (f", {s.photos_failed} photos failed integrity" if s.photos_failed else ""))


class DeviceNotRegistered(BundleRejected):
    """A dock bundle of a device this office has not registered, refused (``sync.unregistered_devices``)."""


def import_bundle(app: AppContext, actor: Actor, path: Path, progress: Progress | None = None,
                  cancel: CancelHook = None) -> BundleResult:
    """Import one dock bundle. A bundle that does not agree with its manifest is rejected whole
    (:class:`~desktop.sync.bundle.BundleRejected`, nothing stored); the same bundle twice stores nothing new.

    A bundle of a device not registered here (anyone can write a ZIP file) stores nothing: by the setting
    ``sync.unregistered_devices`` it is held for a supervisor to accept (:func:`accept_held_bundle`) or
    refused (:class:`DeviceNotRegistered`)."""
    note = progress or no_progress
    cancelled = cancel_fn(cancel)
    path = Path(path)
    with app.reader(actor, Permission.SYNC_FIELD_DATA):
        pass  # permission first, before reading a possibly large file
    if not path.is_file():
        raise UserError(f"Dock bundle {path} does not exist.")
    digest = evidence.file_sha256(path)
    result = BundleResult(path)
    with app.db.reading() as s:
        if s.get(ImportedBundle, digest) is not None:
            result.already_imported = True
            return result
    bundle = read_bundle(path)
    result.device_id = bundle.device_id
    if not is_registered(app, bundle.device_id):
        with app.db.reading() as s:
            policy = str(settings_service.get(s, "sync.unregistered_devices")).strip().lower()
        if policy == "refuse":
            raise DeviceNotRegistered(
                f"Dock bundle {path.name} was refused: device {bundle.device_id} is not registered in this office "
                "(sync.unregistered_devices is refuse). Nothing from it was stored. Register the device in "
                "Devices & Sync and import the bundle again.")
        _hold(app, actor, path, bundle.device_id, bundle.event_count)
        result.held = True
        return result
    lines = list(bundle.lines())
    store = EvidenceStore(app.paths.evidence_dir)
    photos = BundlePhotos(bundle, store)
    ingestor = Ingestor(app, actor, f"bundle:{path.name}", photos, endpoint_label="dock",
                        expected_device=bundle.device_id)
    chunks = [lines[i:i + BUNDLE_CHUNK] for i in range(0, len(lines), BUNDLE_CHUNK)] or [[]]
    for n, chunk in enumerate(chunks):
        if cancelled():
            raise SyncCancelled("Bundle import was cancelled; the events imported so far are kept.")
        last = n == len(chunks) - 1

        def on_commit(session: Session, last: bool = last) -> None:
            if last and session.get(ImportedBundle, digest) is None:
                session.add(ImportedBundle(sha256=digest, filename=path.name[:300], device_id=bundle.device_id,
                                           imported_at=app.now(), event_count=bundle.event_count))

        result.stats.add(ingestor.ingest(chunk, on_commit=on_commit, cancelled=cancelled))
        note(min((n + 1) * BUNDLE_CHUNK, len(lines)), len(lines), f"{path.name}: {result.stats.events:,} events")
    result.recovered_photos = recover_missing_photos(app, actor, _OnlyFrom(photos, bundle.photo_digests), cancelled)
    return result


def _held_dir(app: AppContext) -> Path:
    return app.paths.data_dir / HELD_BUNDLES


def _hold(app: AppContext, actor: Actor, path: Path, device_id: str, events: int) -> None:
    """A copy of the bundle in the data folder's held bundles (complete or not at all), and an audit entry."""
    folder = _held_dir(app)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    if target.exists():
        return  # held already (the same name is the same device and export time)
    temp = target.with_name("." + target.name + ".part")
    shutil.copyfile(path, temp)
    temp.replace(target)
    with app.uow(actor, Permission.SYNC_FIELD_DATA) as uow:
        uow.audit("bundle.held", "device", device_id, after={"bundle": path.name, "events": events},
                  reason="dock bundle of a device not registered here")
        uow.commit()


@dataclass(frozen=True)
class HeldBundleRow:
    name: str
    device_id: str
    held_at: datetime
    size: int


def list_held_bundles(app: AppContext, actor: Actor) -> list[HeldBundleRow]:
    """Dock bundles of unregistered devices waiting for a supervisor, oldest first."""
    with app.reader(actor, Permission.SYNC_FIELD_DATA):
        pass
    folder = _held_dir(app)
    rows = []
    for path in sorted(folder.glob("*.zip")) if folder.is_dir() else []:
        match = BUNDLE_NAME.match(path.name)
        if match is None:
            continue
        stat = path.stat()
        rows.append(HeldBundleRow(path.name, match["device_id"], datetime.fromtimestamp(stat.st_mtime), stat.st_size))
    return sorted(rows, key=lambda r: r.held_at)


def _held_path(app: AppContext, name: str) -> Path:
    path = _held_dir(app) / Path(name).name
    if Path(name).name != name or not BUNDLE_NAME.match(name) or not path.is_file():
        raise UserError(f"There is no held dock bundle called {name}.")
    return path


def accept_held_bundle(app: AppContext, actor: Actor, name: str, public_key_b64: str | None = None,
                       officer_badge: str | None = None) -> BundleResult:
    """A supervisor accepts a held bundle: its device is registered (with the key the handheld shows, when
    given: then its events must be signed with it) and the bundle is imported like any other."""
    with app.reader(actor, Permission.MANAGE_DEVICES):  # the role first: no word of which bundles exist
        pass
    path = _held_path(app, name)
    match = BUNDLE_NAME.match(name)
    assert match is not None
    device_id = match["device_id"]
    if public_key_b64:
        register_device(app, actor, device_id, public_key_b64, officer_badge)
    else:
        add_device(app, actor, device_id, officer_badge)
    result = import_bundle(app, actor, path)
    with app.uow(actor, Permission.MANAGE_DEVICES) as uow:
        uow.audit("bundle.accepted", "device", device_id, after={"bundle": name, "citations": result.stats.citations},
                  reason="held dock bundle accepted")
        uow.commit()
    path.unlink(missing_ok=True)
    return result


def refuse_held_bundle(app: AppContext, actor: Actor, name: str, reason: str) -> None:
    """A supervisor refuses a held bundle: it is filed under ``refused/`` and nothing of it is stored."""
    with app.reader(actor, Permission.MANAGE_DEVICES):  # the role first: no word of which bundles exist
        pass
    reason = (reason or "").strip()
    if not reason:
        raise UserError("Give a reason for refusing the bundle.")
    path = _held_path(app, name)
    with app.uow(actor, Permission.MANAGE_DEVICES) as uow:
        uow.audit("bundle.refused", "device", BUNDLE_NAME.match(name)["device_id"],  # type: ignore[index]
                  after={"bundle": name}, reason=reason)
        uow.commit()
    refused = path.parent / "refused"
    refused.mkdir(exist_ok=True)
    shutil.move(str(path), _unique(refused / path.name))


class _OnlyFrom:
    """A photo source restricted to the digests it actually holds (no 'missing' answers for the others)."""

    def __init__(self, source: PhotoSource, digests: set[str]) -> None:
        self.source = source
        self.digests = digests

    def fetch(self, sha256: str, declared_bytes: int | None) -> Any:
        if sha256 not in self.digests:
            return PhotoOutcome(sha256, PhotoIntegrity.MISSING, "not in this bundle", attempts=0)
        return self.source.fetch(sha256, declared_bytes)


@dataclass(frozen=True)
class DropResult:
    name: str
    ok: bool
    line: str
    moved_to: Path


def _unique(target: Path) -> Path:
    if not target.exists():
        return target
    stem, suffix = target.stem, target.suffix
    n = 2
    while (target.with_name(f"{stem}.{n}{suffix}")).exists():
        n += 1
    return target.with_name(f"{stem}.{n}{suffix}")


def scan_drop_folder(app: AppContext, actor: Actor, progress: Progress | None = None, cancel: CancelHook = None,
                     min_age_seconds: float = 2.0) -> list[DropResult]:
    """Import every bundle dropped in the drop folder; move each to ``imported/`` or ``rejected/``
    (with ``<name>.reason.txt``). Files younger than ``min_age_seconds`` may still be copying: left for later."""
    folder = app.paths.drop_dir
    folder.mkdir(parents=True, exist_ok=True)
    imported, rejected = folder / "imported", folder / "rejected"
    results: list[DropResult] = []
    now = time.time()
    candidates = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".zip"
                        and not p.name.startswith("."))
    for path in candidates:
        try:
            if now - path.stat().st_mtime < min_age_seconds:
                continue
        except OSError:
            continue
        try:
            result = import_bundle(app, actor, path, progress, cancel)
        except BundleRejected as exc:
            rejected.mkdir(exist_ok=True)
            target = _unique(rejected / path.name)
            shutil.move(str(path), target)
            target.with_name(target.name + ".reason.txt").write_text(str(exc) + "\n", encoding="utf-8")
            results.append(DropResult(path.name, False, str(exc), target))
            continue
        filed = folder / "held" if result.held else imported
        filed.mkdir(exist_ok=True)
        target = _unique(filed / path.name)
        shutil.move(str(path), target)
        results.append(DropResult(path.name, True, result.line(), target))
    return results


@dataclass(frozen=True)
class ImportedBundleRow:
    filename: str
    device_id: str
    imported_at: datetime
    event_count: int


def list_imported_bundles(app: AppContext, actor: Actor, limit: int = 200) -> list[ImportedBundleRow]:
    with app.reader(actor, Permission.SYNC_FIELD_DATA) as uow:
        return [ImportedBundleRow(b.filename, b.device_id, b.imported_at, b.event_count)
                for b in uow.session.scalars(select(ImportedBundle).order_by(ImportedBundle.imported_at.desc())
                                             .limit(limit))]
