"""Dock bundles: one bundle imported, the drop folder scanned, the bundles already imported listed."""

from __future__ import annotations

import hashlib
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
from desktop.persistence.evidence import EvidenceStore
from desktop.persistence.models import ImportedBundle
from desktop.services.core.context import Actor, AppContext
from desktop.services.sync.ingest import Ingestor, IngestStats
from desktop.services.sync.photo_sources import BundlePhotos, PhotoOutcome, PhotoSource
from desktop.services.sync.run import CancelHook, Progress, cancel_fn, no_progress, recover_missing_photos
from desktop.sync.bundle import BundleRejected, read_bundle
from desktop.sync.client import SyncCancelled

BUNDLE_CHUNK = 500


@dataclass
class BundleResult:
    path: Path
    device_id: str | None = None
    stats: IngestStats = field(default_factory=IngestStats)
    already_imported: bool = False
    recovered_photos: int = 0

    def line(self) -> str:
        if self.already_imported:
            return f"{self.path.name}: already imported, nothing new"
        s = self.stats
        return (f"{self.path.name}: {s.events:,} events, {s.citations:,} citations, {s.photos:,} photos, "
                f"{s.quarantined:,} quarantined, {s.duplicates:,} duplicates ignored"
                + (f", {s.photos_missing} photos missing" if s.photos_missing else "")
                + (f", {s.photos_failed} photos failed integrity" if s.photos_failed else ""))


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def import_bundle(app: AppContext, actor: Actor, path: Path, progress: Progress | None = None,
                  cancel: CancelHook = None) -> BundleResult:
    """Import one dock bundle. A bundle that does not agree with its manifest is rejected whole
    (:class:`~desktop.sync.bundle.BundleRejected`, nothing stored); the same bundle twice stores nothing new."""
    note = progress or no_progress
    cancelled = cancel_fn(cancel)
    path = Path(path)
    with app.reader(actor, Permission.SYNC_FIELD_DATA):
        pass  # permission first, before reading a possibly large file
    if not path.is_file():
        raise UserError(f"Dock bundle {path} does not exist.")
    digest = _file_sha256(path)
    result = BundleResult(path)
    with app.db.reading() as s:
        if s.get(ImportedBundle, digest) is not None:
            result.already_imported = True
            return result
    bundle = read_bundle(path)
    result.device_id = bundle.device_id
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
        imported.mkdir(exist_ok=True)
        target = _unique(imported / path.name)
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
