"""Plates read from evidence photos (issue 20): read the photos not read yet, store one reading per photo,
check their citations again; and the readings as the review check, the screens and plate search use them.

``read_plates(app, actor, since=None)`` is the use case behind ``main.py plates read``, the daily run and
the background reading after a sync: it reads every photo that has no reading by the current reader
version (in batches of ``BATCH``, one commit each, so an interrupted run keeps what it read), skips
photos that are missing, failed their integrity check or do not decode (a SKIPPED reading with the
reason), and checks the citations still in review again so the "Plate photo" warning appears. A missing
or damaged model makes the whole run report "check unavailable" and store nothing (the photos are read
once the install is repaired). Never slows a sync: it is never called inside one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from desktop.domain import plates
from desktop.domain.plate_reading import PhotoReading, ReadStatus
from desktop.domain.roles import Permission
from desktop.persistence.evidence import EvidenceMissing, EvidenceStore, EvidenceTampered
from desktop.persistence.models import Citation, EvidencePhoto, PlateReading
from desktop.services.core.context import Actor, AppContext
from desktop.services.review.checks import REVIEWABLE, recheck_citations
from desktop.services.review.plate_ocr import PlateReader, ReaderUnavailable, engine_status, timed_read

log = logging.getLogger(__name__)

BATCH = 25
#: photos whose file is not read (``read_photo`` skips them with the reason)
_UNTRUSTED = frozenset({"missing", "integrity_failed"})
Progress = Callable[[int, int], None]


@dataclass
class ReadRun:
    """What one reading run did."""

    photos: int = 0
    read: int = 0
    not_readable: int = 0
    skipped: int = 0
    unavailable: str = ""
    citations_checked: int = 0
    differs: set[str] = field(default_factory=set)
    """Citation numbers now carrying the "Plate photo" warning."""
    milliseconds: int = 0
    #: photos still without a reading when the run stopped at its ``max_photos``
    left: int = 0
    #: photos whose reading is that of a photo of the same bytes read earlier in the run (not read again)
    reused: int = 0
    #: the run stopped because Cancel was asked (``left`` photos wait)
    cancelled: bool = False

    def lines(self) -> list[str]:
        if self.unavailable:
            return [f"Plate photo check unavailable: {self.unavailable}. Nothing was read."]
        read_here = self.photos - self.reused
        rate = f" ({read_here / (self.milliseconds / 1000):.1f} photos/s)" if self.milliseconds and read_here else ""
        if self.reused:
            rate = rate[:-1] + "; " if rate else " ("
            rate += f"{self.reused:,} the same bytes as a photo read before: its reading is kept)"
        out = [f"{self.photos:,} photos read{rate}: {self.read:,} plates read, {self.not_readable:,} not readable, "
               f"{self.skipped:,} skipped; {self.citations_checked:,} citations in review checked again"]
        if self.left:
            some = "1 more photo waits" if self.left == 1 else f"{self.left:,} more photos wait"
            why = "stopped by Cancel" if self.cancelled else f"at most {self.photos:,} a daily run"
            out.append(f"{some} to be read ({why}): idle workstations read "
                       f"{'it' if self.left == 1 else 'them'}, or `main.py plates read`")
        if self.differs:
            numbers = sorted(self.differs)
            out.append(f"Photo plate differs from the typed plate on {len(numbers):,}: "
                       + ", ".join(numbers[:20]) + (" …" if len(numbers) > 20 else ""))
        return out


_reader: PlateReader | None = None


def shared_reader() -> PlateReader:
    """The process's reader (loaded once, ~0.1 s); ``ReaderUnavailable`` says why it cannot run."""
    global _reader
    if _reader is None:
        _reader = PlateReader(engine_status())
    return _reader


def _pending_query(version: str, since: date | None,
                   in_review_only: bool) -> Select[EvidencePhoto, PlateReading, str]:
    """The photos without a reading of this reader version (of citations issued since, or still in review),
    with the citation's typed state (its plate formats settle a letter the reader finds as likely as a digit)."""
    q = (select(EvidencePhoto, PlateReading, Citation.jurisdiction)
         .join(Citation, Citation.id == EvidencePhoto.citation_id)
         .outerjoin(PlateReading, PlateReading.photo_id == EvidencePhoto.id)
         .where(or_(PlateReading.id.is_(None), PlateReading.engine != version)))
    if since is not None:
        q = q.where(Citation.issued_at >= datetime.combine(since, time.min, tzinfo=timezone.utc))
    if in_review_only:
        q = q.where(Citation.status.in_(REVIEWABLE))
    return q


def _pending(session: Session, version: str, since: date | None, limit: int,
             in_review_only: bool = False, after: int = 0) -> list[tuple[EvidencePhoto, Any, str]]:
    """The next ``limit`` photos to read, of ids above ``after`` (the last batch's last photo): each batch
    goes on from where the last one ended instead of passing again over every photo before it."""
    q = (_pending_query(version, since, in_review_only).where(EvidencePhoto.id > after)
         .order_by(EvidencePhoto.id).limit(limit))
    return [(p, r, j) for p, r, j in session.execute(q).all()]


def _first_candidate(session: Session, since: date | None, in_review_only: bool) -> int | None:
    """The lowest photo id a run of citations issued since ``since`` (or still in review) can read: the first
    photo of each such citation, by the photos' citation index (0: from the first photo; None: no citation).

    Without it the first batch walked the photos from the first one ever stored, in id order, to reach the
    recent ones (the planner's plan for ``ORDER BY id LIMIT``): 915,000 photos and 1.9 s a batch on
    PostgreSQL at a million citations, where the 82,000 photos of the last 30 days took 3,300 batches."""
    if since is None and not in_review_only:
        return 0
    first_of_case = (select(func.min(EvidencePhoto.id)).where(EvidencePhoto.citation_id == Citation.id)
                     .correlate(Citation).scalar_subquery())
    q = select(func.min(first_of_case))
    if since is not None:
        q = q.where(Citation.issued_at >= datetime.combine(since, time.min, tzinfo=timezone.utc))
    if in_review_only:
        q = q.where(Citation.status.in_(REVIEWABLE))
    first = session.scalar(q)
    return None if first is None else int(first)


def pending_count(session: Session, since: date | None = None, in_review_only: bool = False) -> int:
    """How many photos wait to be read (one counting query)."""
    q = _pending_query(engine_status().version or "?", since, in_review_only)
    return int(session.scalar(select(func.count()).select_from(q.subquery())) or 0)


def read_photo(store: EvidenceStore, photo: EvidencePhoto, reader: PlateReader,
               jurisdiction: str | None = None) -> tuple[PhotoReading, int]:
    """One photo's reading; a photo that cannot be trusted or decoded is SKIPPED with the reason."""
    if photo.integrity == "missing":
        return PhotoReading(ReadStatus.SKIPPED, reason="the photo was never received"), 0
    if photo.integrity == "integrity_failed":
        return PhotoReading(ReadStatus.SKIPPED, reason=f"the photo failed its integrity check"
                                                       f"{': ' + photo.integrity_reason if photo.integrity_reason else ''}"
                            [:480]), 0
    try:
        data = store.read_verified(photo.sha256)
    except (EvidenceTampered, EvidenceMissing) as exc:
        return PhotoReading(ReadStatus.SKIPPED, reason=str(exc)[:480]), 0
    return timed_read(reader, data, jurisdiction)


def read_plates(app: AppContext, actor: Actor, since: date | None = None, *, progress: Progress | None = None,
                reader: PlateReader | None = None, cancelled: Callable[[], bool] | None = None,
                in_review_only: bool = False, max_photos: int = 0) -> ReadRun:
    """Read every photo without a current reading (of citations issued on or after ``since``; only of
    citations still in review with ``in_review_only``), or the first ``max_photos`` of them (0: all; the
    rest are counted in ``ReadRun.left``)."""
    with app.reader(actor, Permission.REVIEW_CITATIONS) as uow:
        total = pending_count(uow.session, since, in_review_only)
        first = _first_candidate(uow.session, since, in_review_only) if total else None
    run = ReadRun()
    if first is None:
        return run
    try:
        reader = reader or shared_reader()
    except ReaderUnavailable as exc:
        run.unavailable = str(exc)
        return run
    store = EvidenceStore(app.paths.evidence_dir)
    known: dict[tuple[str, str | None], PhotoReading] = {}  # this run's readings, by the photo's bytes and state
    done = conflicts = 0
    after = first - 1
    while True:
        if cancelled is not None and cancelled():
            run.left, run.cancelled = max(total - run.photos, 0), True
            break
        if max_photos and run.photos >= max_photos:
            run.left = max(total - run.photos, 0)
            break
        part = ReadRun()
        try:
            size, last = _read_batch(app, actor, reader, store, since, in_review_only, part, after,
                                     min(BATCH, max_photos - run.photos) if max_photos else BATCH, known)
        except IntegrityError:
            # another workstation stored readings of these photos first: theirs stand, go on with the rest
            conflicts += 1
            log.info("plate readings of this batch were stored by another workstation first")
            if conflicts > 3:
                break
            continue
        if not size:
            break
        after = last
        run.photos += part.photos
        run.reused += part.reused
        run.read += part.read
        run.not_readable += part.not_readable
        run.skipped += part.skipped
        run.milliseconds += part.milliseconds
        run.citations_checked += part.citations_checked
        run.differs |= part.differs
        done += size
        if progress is not None:
            progress(min(done, total), total)
    return run


def _read_batch(app: AppContext, actor: Actor, reader: PlateReader, store: EvidenceStore, since: date | None,
                in_review_only: bool, run: ReadRun, after: int, limit: int,
                known: dict[tuple[str, str | None], PhotoReading] | None = None) -> tuple[int, int]:
    """Read one batch of photos of ids above ``after``, store the readings, check their citations again,
    commit; its size (0: none) and its last photo id.

    The photos are read (40-60 ms each) outside any write transaction: on SQLite a write transaction holds
    the database's one write lock, so a batch read inside it kept every clerk's save waiting for up to a
    second at a time while a workstation read plates in the background. Photos of the same bytes and state
    (``known``: the run's readings by SHA-256 and typed state) are read once: the reader's answer depends on
    nothing else. A photo another workstation read meanwhile keeps that reading."""
    with app.reader(actor, Permission.REVIEW_CITATIONS) as uow:
        batch = _pending(uow.session, reader.version, since, limit, in_review_only, after)
    if not batch:
        return 0, after
    known = {} if known is None else known
    results: list[tuple[EvidencePhoto, PhotoReading, int, bool]] = []
    for photo, _existing, jurisdiction in batch:
        key = (photo.sha256, jurisdiction)
        reused = photo.integrity not in _UNTRUSTED and key in known
        if reused:
            result, ms = known[key], 0
        else:
            try:
                result, ms = read_photo(store, photo, reader, jurisdiction)
            except Exception as exc:  # noqa: BLE001 - one odd photo must not stop the run
                log.exception("plate reading failed for photo %s", photo.id)
                result, ms = PhotoReading(ReadStatus.SKIPPED, reason=f"the reader failed: {exc}"[:480]), 0
            if result.status is not ReadStatus.SKIPPED:  # (a missing or damaged file is looked at each time)
                known[key] = result
        results.append((photo, result, ms, reused))
    with app.uow(actor, Permission.REVIEW_CITATIONS) as uow:
        s = uow.session
        stored = {r.photo_id: r for r in s.scalars(
            select(PlateReading).where(PlateReading.photo_id.in_([photo.id for photo, *_ in results])))}
        touched: set[int] = set()
        for photo, result, ms, reused in results:
            existing = stored.get(photo.id)
            if existing is not None and existing.engine == reader.version:
                continue  # read by another workstation meanwhile: its reading stands
            _store(s, photo, existing, result, reader.version, ms, app.now())
            run.photos += 1
            run.reused += reused
            run.milliseconds += ms
            if result.status is ReadStatus.READ:
                run.read += 1
            elif result.status is ReadStatus.NOT_READABLE:
                run.not_readable += 1
            else:
                run.skipped += 1
            touched.add(photo.citation_id)
        s.flush()
        counts = recheck_citations(uow, touched)
        run.citations_checked += len(counts)
        for c in s.scalars(select(Citation).where(Citation.id.in_(counts))):
            if any(isinstance(w, dict) and w.get("code") == "plate_photo" for w in c.review_warnings or ()):
                run.differs.add(c.citation_number)
        uow.commit()
        return len(batch), batch[-1][0].id


def _store(s: Session, photo: EvidencePhoto, existing: PlateReading | None, result: PhotoReading, version: str,
           ms: int, now: datetime) -> None:
    row = existing or PlateReading(photo_id=photo.id, citation_id=photo.citation_id, sha256=photo.sha256)
    row.status = result.status.value
    row.plate = result.plate
    row.plate_key = plates.plate_search_key(result.plate) if result.plate else None
    row.confidence = result.confidence
    row.box = list(result.box) if result.box else None
    row.engine = version[:120]
    row.reason = result.reason[:500] or None
    row.read_at = now
    row.milliseconds = ms
    if existing is None:
        s.add(row)


__all__ = ["read_plates", "ReadRun", "shared_reader", "read_photo", "pending_count"]
