"""Where the ingest gets evidence photos from: the field endpoint, a dock bundle, or the store itself.

Every source answers :meth:`PhotoSource.fetch` with a :class:`PhotoOutcome`:
``verified`` (the bytes passed protocol rule 3 and are in the evidence store),
``integrity_failed`` (wrong digest, wrong size or not an image, on both tries) or
``missing`` (the source does not hold it). A photo already in the store is
never fetched again: the store names files by their digest, so a file there is
the photo. Transport failures (endpoint unreachable, cancelled) are *raised*,
not recorded: the page is then not committed and not acknowledged, and the
next sync asks again.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from PIL import Image

from desktop.domain.lifecycle import PhotoIntegrity
from desktop.persistence.evidence import EvidenceStore, read_exif, verify_photo
from desktop.sync.bundle import Bundle, BundleRejected
from desktop.sync.client import AnswerTooLarge, FieldClient, PhotoNotFound

log = logging.getLogger(__name__)


@dataclass
class PhotoOutcome:
    """What became of one photo: its integrity state, why, and what we learnt from the file."""

    sha256: str
    integrity: PhotoIntegrity
    reason: str | None = None
    attempts: int = 0
    size: int | None = None
    width: int | None = None
    height: int | None = None
    exif: dict[str, Any] | None = None
    gps_lat: float | None = None
    gps_lon: float | None = None
    #: bytes written to the evidence store by this fetch (0 when it was already there)
    stored_bytes: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def verified(self) -> bool:
        return self.integrity is PhotoIntegrity.VERIFIED


class PhotoSource(Protocol):
    def fetch(self, sha256: str, declared_bytes: int | None) -> PhotoOutcome: ...


def _exif_summary(path: Path) -> tuple[dict[str, Any], float | None, float | None]:
    info = read_exif(path)
    summary: dict[str, Any] = {}
    if info.captured_at is not None:
        summary["captured_at"] = info.captured_at.isoformat()
        summary["captured_at_naive"] = info.captured_at_naive
    for key in ("camera_make", "camera_model", "orientation", "altitude_m", "error", "gps_error"):
        value = getattr(info, key)
        if value is not None:
            summary[key] = value
    return summary, info.latitude, info.longitude


def outcome_from_store(store: EvidenceStore, sha256: str, declared_bytes: int | None,
                       attempts: int = 0, stored_bytes: int = 0) -> PhotoOutcome | None:
    """The outcome for a photo already in the evidence store (None when it is not there)."""
    path = store.path_for(sha256)
    try:
        size = path.stat().st_size
    except OSError:
        return None
    if declared_bytes is not None and size != declared_bytes:
        # the digest matches (the file is named by it) but the event declared another size
        return PhotoOutcome(sha256, PhotoIntegrity.INTEGRITY_FAILED, attempts=attempts, size=size,
                            reason=f"size is {size} bytes, the event declared {declared_bytes}")
    width = height = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
    except Exception:  # stored files passed verification; a header we cannot read again is not fatal
        log.warning("stored photo %s: size not readable", sha256)
    exif, lat, lon = _exif_summary(path)
    return PhotoOutcome(sha256, PhotoIntegrity.VERIFIED, attempts=attempts, size=size, width=width,
                        height=height, exif=exif, gps_lat=lat, gps_lon=lon, stored_bytes=stored_bytes)


def _accept(store: EvidenceStore, data: bytes, sha256: str, declared_bytes: int | None,
            attempts: int) -> tuple[PhotoOutcome | None, str]:
    """Verify bytes; store them when good. Returns (outcome or None, reason of the failure)."""
    check = verify_photo(data, sha256, declared_bytes)
    if not check.ok:
        return None, check.reason
    stored = store.put(data, sha256)
    outcome = outcome_from_store(store, sha256, declared_bytes, attempts,
                                 stored_bytes=len(data) if stored.created else 0)
    assert outcome is not None
    return outcome, ""


class PhotoHold:
    """Photos of quarantined events, kept apart from the evidence store (a folder of the data folder) until
    a supervisor accepts their event: only then are they checked again and stored as evidence. What the
    endpoint deletes after the ack is thus not lost, and nothing of a refused event is ever evidence."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def path_for(self, sha256: str) -> Path:
        return self.folder / f"{sha256}.held"

    def holds(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def put(self, data: bytes, sha256: str) -> bool:
        """Keep the bytes when they are the photo named (anything else is not worth keeping)."""
        if hashlib.sha256(data).hexdigest() != sha256:
            return False
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.path_for(sha256)
        temp = target.with_name(target.name + ".part")
        temp.write_bytes(data)
        os.replace(temp, target)
        return True

    def release(self, store: EvidenceStore, sha256: str, declared_bytes: int | None) -> PhotoOutcome | None:
        """The held photo checked and moved into the evidence store (its event was accepted); None if not held."""
        path = self.path_for(sha256)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        outcome, reason = _accept(store, data, sha256, declared_bytes, 1)
        path.unlink(missing_ok=True)
        return outcome or PhotoOutcome(sha256, PhotoIntegrity.INTEGRITY_FAILED, reason, attempts=1)


class StorePhotos:
    """Photos only from the evidence store, or held with a quarantined event (a re-submitted event: nothing to
    download)."""

    def __init__(self, store: EvidenceStore, missing_reason: str = "never received",
                 held: PhotoHold | None = None) -> None:
        self.store = store
        self.missing_reason = missing_reason
        self.held = held

    def fetch(self, sha256: str, declared_bytes: int | None) -> PhotoOutcome:
        found = outcome_from_store(self.store, sha256, declared_bytes)
        if found is None and self.held is not None:
            found = self.held.release(self.store, sha256, declared_bytes)
        return found or PhotoOutcome(sha256, PhotoIntegrity.MISSING, self.missing_reason)


class HttpPhotos:
    """Photos from the field endpoint: download (resuming with Range), verify, fetch once more on a mismatch.

    ``concurrency`` downloads run at once, each thread with its own HTTP session (``make_client``).
    """

    def __init__(self, client: FieldClient, store: EvidenceStore, work_dir: Path,
                 make_client: Callable[[], FieldClient] | None = None, concurrency: int = 4) -> None:
        self.client = client
        self.store = store
        self.work_dir = Path(work_dir)
        self.make_client = make_client
        self.concurrency = concurrency if make_client is not None else 1
        self._local = threading.local()
        self._clients: list[FieldClient] = []
        self._lock = threading.Lock()

    def _client(self) -> FieldClient:
        if self.make_client is None or threading.current_thread() is threading.main_thread():
            return self.client
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self.make_client()
            with self._lock:
                self._clients.append(client)
        return client

    def close(self) -> None:
        with self._lock:
            for client in self._clients:
                client.close()
            self._clients.clear()

    def fetch(self, sha256: str, declared_bytes: int | None) -> PhotoOutcome:
        found = outcome_from_store(self.store, sha256, declared_bytes)
        if found is not None:
            return found
        self.work_dir.mkdir(parents=True, exist_ok=True)
        dest = self.work_dir / f"{sha256}.download"
        part = dest.with_name(dest.name + ".part")
        reason = ""
        for attempt in (1, 2):
            if attempt == 2:  # the second try starts from nothing: the first bytes may be the bad ones
                part.unlink(missing_ok=True)
            try:
                self._client().photo(sha256, dest, durable=False)
            except PhotoNotFound:
                dest.unlink(missing_ok=True)
                part.unlink(missing_ok=True)
                return PhotoOutcome(sha256, PhotoIntegrity.MISSING, "the endpoint does not hold it (404)",
                                    attempts=attempt)
            except AnswerTooLarge as exc:
                dest.unlink(missing_ok=True)
                part.unlink(missing_ok=True)
                return PhotoOutcome(sha256, PhotoIntegrity.INTEGRITY_FAILED,
                                    f"larger than the limit of {exc.limit:,} bytes (refused as it arrived)",
                                    attempts=attempt)
            data = dest.read_bytes()
            dest.unlink(missing_ok=True)
            outcome, reason = _accept(self.store, data, sha256, declared_bytes, attempt)
            if outcome is not None:
                return outcome
            log.info("photo %s failed its check (%s), attempt %d", sha256[:12], reason, attempt)
        return PhotoOutcome(sha256, PhotoIntegrity.INTEGRITY_FAILED, f"{reason} (fetched twice)", attempts=2)

    def hold(self, sha256: str, held: PhotoHold) -> None:
        """Download a quarantined event's photo into ``held`` (never the evidence store)."""
        if held.holds(sha256) or self.store.path_for(sha256).is_file():
            return
        self.work_dir.mkdir(parents=True, exist_ok=True)
        dest = self.work_dir / f"{sha256}.held-download"
        try:
            self._client().photo(sha256, dest, durable=False)
            held.put(dest.read_bytes(), sha256)
        except (PhotoNotFound, AnswerTooLarge):
            pass  # nothing to keep
        finally:
            dest.unlink(missing_ok=True)
            dest.with_name(dest.name + ".part").unlink(missing_ok=True)


class BundlePhotos:
    """Photos from a dock bundle, checked here like any other (protocol rule 3): a photo whose bytes do not
    match its name fails integrity, and only its citation is flagged."""

    def __init__(self, bundle: Bundle, store: EvidenceStore) -> None:
        self.bundle = bundle
        self.store = store

    def fetch(self, sha256: str, declared_bytes: int | None) -> PhotoOutcome:
        found = outcome_from_store(self.store, sha256, declared_bytes)
        if found is not None:
            return found
        if sha256 not in self.bundle.photo_members:
            return PhotoOutcome(sha256, PhotoIntegrity.MISSING, "not in the dock bundle", attempts=1)
        try:
            data = self.bundle.read_photo(sha256)
        except BundleRejected as exc:  # (inflates past its declared size: a damaged member)
            return PhotoOutcome(sha256, PhotoIntegrity.INTEGRITY_FAILED, f"unreadable in the bundle ({exc})",
                                attempts=1)
        outcome, reason = _accept(self.store, data, sha256, declared_bytes, 1)
        if outcome is not None:
            return outcome
        return PhotoOutcome(sha256, PhotoIntegrity.INTEGRITY_FAILED, reason, attempts=1)


    def hold(self, sha256: str, held: PhotoHold) -> None:
        """Keep a quarantined event's photo from the bundle in ``held`` (never the evidence store)."""
        if sha256 not in self.bundle.photo_members or held.holds(sha256):
            return
        try:
            held.put(self.bundle.read_photo(sha256), sha256)
        except BundleRejected:
            pass


def verified_at(outcome: PhotoOutcome, now: datetime) -> datetime | None:
    return now if outcome.verified else None
