"""The ingest pipeline: field events into the database, the same for an endpoint page and a dock bundle.

One call of :meth:`Ingestor.ingest` takes a batch of events exactly as received
(dicts from ``GET /v1/events`` or JSON lines from a bundle) and applies the
protocol's rules in one transaction:

1. bad input never stops the feed: an event that fails validation goes to the
   quarantine with its reason and the rest of the batch goes on;
2. idempotent: an ``event_id`` already stored is ignored; a ``citation_number``
   already stored with the same content is a duplicate, with different content a
   conflict (quarantined, the first version untouched);
3. photos are verified (digest, size, decodes) before they are stored and
   recorded as ``verified``, ``integrity_failed`` or ``missing``;
4. a device with a registered key must sign every event;
5. the caller's cursor is written in the same transaction (``on_commit``), so
   the caller acknowledges only what is committed.

Photos are fetched *before* the write transaction (downloads must not hold the
database's write lock); the evidence store is content-addressed, so a photo
stored by a batch that then failed to commit is simply found there next time.

Citations, their violations and photos, field events, the quarantine and the
``citation.received`` audit entries are written with bulk Core inserts; voids
and amendments go through :mod:`desktop.services.cases.steps` like any other case
change.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Engine, Table, event, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from desktop.domain.errors import IllegalTransition
from desktop.domain.lifecycle import CaseStatus, PhotoIntegrity, evidence_status
from desktop.domain.plates import normalize_plate, plate_search_key
from desktop.domain.roles import Permission
from desktop.persistence.bulk import insert_rows
from desktop.persistence.models import (
    Citation,
    CitationViolation,
    Device,
    EvidencePhoto,
    FieldEvent,
    JurisdictionProfileVersion,
    PatrolCheck,
    PatrolShift,
    QuarantinedEvent,
    ViolationCode,
)
from desktop.services.cases import steps as case_ops
from desktop.services.core import audit
from desktop.services.core import settings as settings_service
from desktop.services.core.audit import AuditRecord
from desktop.services.core.context import Actor, AppContext, UnitOfWork
from desktop.services.sync.photo_sources import PhotoOutcome, PhotoSource, StorePhotos
from desktop.sync import wire
from desktop.sync.prepared import PhotoLine, ViolationLine, photo_refs, prepare
from desktop.sync.prepared import PreparedEvent as _Item
from desktop.sync.prepared import clip as _clip
from desktop.sync.wire import InvalidDeviceKey

log = logging.getLogger(__name__)

INT32_MAX, INT64_MAX = wire.INT32_MAX, wire.INT64_MAX
MAX_GAP_RANGES = 500
IN_CHUNK = 500

#: What happened to a stored field event.
APPLIED, SKIPPED, QUARANTINED, DUPLICATE = "applied", "skipped", "quarantined", "duplicate"

#: an empty JSON list column (observations, warnings), one object for every row so the bulk insert encodes it once
_NONE_LISTED: tuple[Any, ...] = ()
_OPEN_FOR_AMENDMENT = (CaseStatus.RECEIVED.value, CaseStatus.PENDING_REVIEW.value)


# --------------------------------------------------------------------------- results


@dataclass
class IngestStats:
    """What a batch (or a whole sync) did. ``events`` counts new events; repeats are ``duplicates``."""

    received: int = 0
    events: int = 0
    citations: int = 0
    photos: int = 0
    photos_failed: int = 0
    photos_missing: int = 0
    photo_bytes: int = 0
    quarantined: int = 0
    duplicates: int = 0
    skipped: int = 0
    voided: int = 0
    amended: int = 0
    patrol: int = 0

    def add(self, other: IngestStats) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


# --------------------------------------------------------------------------- reference data


@dataclass(frozen=True)
class _Line:
    effective_from: date
    effective_to: date | None
    fine_cents: int
    description: str


class FineSchedule:
    """The violation codes and their fines by date, loaded once per ingest."""

    def __init__(self, lines: dict[str, list[_Line]]) -> None:
        self.lines = lines

    @classmethod
    def load(cls, session: Session) -> FineSchedule:
        lines: dict[str, list[_Line]] = {}
        for vc in session.scalars(select(ViolationCode).order_by(ViolationCode.effective_from)):
            lines.setdefault(vc.code, []).append(_Line(vc.effective_from, vc.effective_to, vc.fine_cents,
                                                       vc.description))
        return cls(lines)

    def lookup(self, code: str, day: date) -> _Line | None:
        found = None
        for line in self.lines.get(code, ()):
            if line.effective_from <= day and (line.effective_to is None or day <= line.effective_to):
                found = line
        return found


@dataclass
class _Reference:
    schedule: FineSchedule
    tz: Any
    profile_code: str
    profile_versions: list[tuple[date, int]]

    @classmethod
    def load(cls, session: Session) -> _Reference:
        try:
            tz: Any = ZoneInfo(str(settings_service.get(session, "agency.timezone")))
        except (ZoneInfoNotFoundError, ValueError):
            tz = ZoneInfo("UTC")
        code = str(settings_service.get(session, "agency.profile"))
        versions = [(row.effective_from, row.version) for row in session.scalars(
            select(JurisdictionProfileVersion).where(JurisdictionProfileVersion.code == code)
            .order_by(JurisdictionProfileVersion.effective_from, JurisdictionProfileVersion.version))]
        return cls(FineSchedule.load(session), tz, code, versions)

    def profile_version(self, day: date) -> int:
        version = 1
        for start, v in self.profile_versions:
            if start <= day:
                version = v
        return version


# --------------------------------------------------------------------------- sequence gaps


class SeqTracker:
    """A device's highest sequence number and the ranges still missing below it."""

    def __init__(self, last_seq: int | None, gaps: Iterable[Sequence[int]],
                 lowest: Callable[[], int | None] = lambda: None) -> None:
        self.last_seq = last_seq
        self.gaps: list[list[int]] = [[int(a), int(b)] for a, b in gaps]
        self._lowest = lowest
        self._low: int | None = None
        self._low_known = False
        self.changed = False

    def lowest(self) -> int | None:
        if not self._low_known:
            self._low = self._lowest()
            self._low_known = True
        return self._low

    def add(self, seq: int) -> None:
        if self.last_seq is None:
            self.last_seq = seq
            self._low, self._low_known = seq, True
            self.changed = True
            return
        if seq > self.last_seq:
            if seq > self.last_seq + 1:
                self.gaps.append([self.last_seq + 1, seq - 1])
                del self.gaps[:-MAX_GAP_RANGES]
            self.last_seq = seq
            self.changed = True
            return
        for n, (a, b) in enumerate(self.gaps):
            if a <= seq <= b:
                pieces = [[a, seq - 1]] if a <= seq - 1 else []
                pieces += [[seq + 1, b]] if seq + 1 <= b else []
                self.gaps[n:n + 1] = pieces
                self.changed = True
                return
        low = self.lowest()
        if low is not None and seq < low:
            if seq < low - 1:
                self.gaps.insert(0, [seq + 1, low - 1])
            self._low = seq
            self.changed = True

    @property
    def missing(self) -> int:
        return sum(b - a + 1 for a, b in self.gaps)


# --------------------------------------------------------------------------- the pipeline


@dataclass
class _Pending:
    """A citation row waiting for the bulk insert, with its children."""

    row: dict[str, Any]
    violations: list[dict[str, Any]]
    photos: list[dict[str, Any]]
    audit_after: dict[str, Any]
    reason: str


@dataclass
class _BatchState:
    now: datetime
    stats: IngestStats = field(default_factory=IngestStats)
    events: list[dict[str, Any]] = field(default_factory=list)
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    #: every audit entry of the batch, in order, appended in one go at the end
    records: list[AuditRecord] = field(default_factory=list)
    pending: list[_Pending] = field(default_factory=list)
    shifts: list[dict[str, Any]] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)
    later: list[tuple[_Item, dict[str, Any]]] = field(default_factory=list)
    replaced_event: dict[str, Any] | None = None
    #: the ids given to the citations this batch created
    new_citation_ids: list[int] = field(default_factory=list)
    #: the event id a re-submission stands in for (its field_events row exists already)
    replaces: str | None = None


class QuarantinedAgain(Exception):
    """A re-submitted event failed again (the reason is the message); nothing was stored."""


class Ingestor:
    """Applies batches of received events for one source (an endpoint or a bundle).

    ``source`` is stored with every event (``endpoint:GW-EAST``, ``bundle:HH-0042-...zip``).
    ``photos`` is where photo bytes come from. ``expected_device`` makes events of
    any other device a quarantine case (a dock bundle carries one device's events).
    """

    def __init__(self, app: AppContext, actor: Actor, source: str, photos: PhotoSource | None = None, *,
                 endpoint_label: str | None = None, expected_device: str | None = None,
                 permission: Permission = Permission.SYNC_FIELD_DATA, review_checks: bool = True) -> None:
        from desktop.persistence.evidence import EvidenceStore

        #: run the review checks on new citations once their batch is committed
        self.review_checks = review_checks
        self.app = app
        self.actor = actor
        self.source = source[:200]
        self.photos = photos or StorePhotos(EvidenceStore(app.paths.evidence_dir))
        self.endpoint_label = endpoint_label
        self.expected_device = expected_device
        self.permission = permission
        self._reference: _Reference | None = None

    # ------------------------------------------------------------ public

    def ingest(self, items: Sequence[Any], *, on_commit: Callable[[Session], None] | None = None,
               progress: Callable[[str, int, int], None] | None = None,
               cancelled: Callable[[], bool] | None = None) -> IngestStats:
        """Apply one batch in one transaction; ``on_commit(session)`` runs just before the commit."""
        with collector_paused():
            # the batch's objects are let go inside: the collection that resumes afterwards need not scan them
            stats, new_citation_ids = self._ingest(items, on_commit, progress, cancelled)
        if self.review_checks and new_citation_ids:
            self._run_review_checks(new_citation_ids)
        return stats

    def _ingest(self, items: Sequence[Any], on_commit: Callable[[Session], None] | None,
                progress: Callable[[str, int, int], None] | None,
                cancelled: Callable[[], bool] | None) -> tuple[IngestStats, list[int]]:
        prepared = [prepare(item) for item in items]
        outcomes = self.fetch_photos(prepared, progress, cancelled)
        _durability_hook(self.app.db.engine)
        for attempt in (1, 2):
            token = _durable.set(True)
            try:
                with self.app.uow(self.actor, self.permission) as uow:
                    state = self._apply(uow, prepared, outcomes)
                    if on_commit is not None:
                        on_commit(uow.session)
                    uow.commit()
                break
            except IntegrityError:
                # another workstation stored some of these events (or citation numbers) between our
                # reads and our writes (PostgreSQL, read committed): read again and apply what is left
                if attempt == 2:
                    raise
                log.info("concurrent ingest of the same events; applying the batch again")
                self._reference = None
            finally:
                _durable.reset(token)
        state.stats.received = len(items)
        state.stats.photo_bytes = sum(o.stored_bytes for o in outcomes.values())
        return state.stats, state.new_citation_ids

    def _run_review_checks(self, citation_ids: Sequence[int]) -> None:
        """The review checks (permit, hot list, registration, zone rules, duplicates, EXIF ...) on the
        citations just stored, in their own transaction after the batch: a failure here never loses
        field data, and the reviewer's screen checks again anyway."""
        from desktop.services.review.checks import recheck_citations

        try:
            with self.app.uow(self.actor) as uow:
                recheck_citations(uow, citation_ids)
                uow.commit()
        except Exception:  # noqa: BLE001 - the data is safe; say so in the log
            log.exception("review checks after ingest failed for %d citations", len(citation_ids))

    def resubmit(self, text: str, replaces_event_id: str | None,
                 resolve: Callable[[UnitOfWork, IngestStats], None]) -> IngestStats:
        """Apply one corrected event; raise :class:`QuarantinedAgain` (storing nothing) if it fails again.

        The event's own earlier field_events row (kept when it was quarantined) is
        replaced instead of making the corrected event a duplicate of it.
        """
        item = prepare(text)
        outcomes = self.fetch_photos([item], None, None)
        with self.app.uow(self.actor, Permission.RESOLVE_QUARANTINE) as uow:
            state = self._apply(uow, [item], outcomes, replaces=replaces_event_id, resubmitted=True)
            if state.stats.quarantined:
                raise QuarantinedAgain(state.quarantine[0]["reason"])
            resolve(uow, state.stats)
            uow.commit()
        state.stats.received = 1
        return state.stats

    def fetch_photos(self, prepared: Sequence[_Item], progress: Callable[[str, int, int], None] | None,
                     cancelled: Callable[[], bool] | None) -> dict[str, PhotoOutcome]:
        """Fetch every photo the batch's new events reference (outside any write transaction)."""
        refs = [(it, photo_refs(it)) for it in prepared]
        ids = [it.storable_id for it, listed in refs if it.storable_id and listed]
        known: set[str] = set()
        if ids:
            with self.app.db.reading() as s:
                for chunk in _chunks(ids):
                    known.update(s.scalars(select(FieldEvent.event_id).where(FieldEvent.event_id.in_(chunk))))
        wanted: dict[str, int | None] = {}
        for it, listed in refs:
            if it.storable_id in known:
                continue
            for sha, declared in listed:
                wanted.setdefault(sha, declared)
        outcomes: dict[str, PhotoOutcome] = {}
        total = len(wanted)
        workers = min(getattr(self.photos, "concurrency", 1), total)
        if workers <= 1:
            for n, (sha, declared) in enumerate(wanted.items(), start=1):
                _check_cancel(cancelled)
                outcomes[sha] = self.photos.fetch(sha, declared)
                if progress is not None:
                    progress("photos", n, total)
            return outcomes
        # downloads, fsyncs and JPEG decoding all let other threads run: a few at a time go much faster
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="photo-fetch") as pool:
            futures = {pool.submit(self.photos.fetch, sha, declared): sha for sha, declared in wanted.items()}
            try:
                for n, future in enumerate(as_completed(futures), start=1):
                    outcomes[futures[future]] = future.result()
                    if progress is not None:
                        progress("photos", n, total)
                    _check_cancel(cancelled)
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
        return outcomes

    # ------------------------------------------------------------ the transaction

    def _reference_data(self, session: Session) -> _Reference:
        if self._reference is None:
            self._reference = _Reference.load(session)
        return self._reference

    def _apply(self, uow: UnitOfWork, prepared: Sequence[_Item], outcomes: dict[str, PhotoOutcome], *,
               replaces: str | None = None, resubmitted: bool = False) -> _BatchState:
        s = uow.session
        now = self.app.now()
        ref = self._reference_data(s)
        state = _BatchState(now=now, replaces=replaces)
        stats = state.stats

        ids = [it.storable_id for it in prepared if it.storable_id]
        existing: dict[str, str] = {}
        for chunk in _chunks(ids):
            existing.update(s.execute(select(FieldEvent.event_id, FieldEvent.outcome)
                                      .where(FieldEvent.event_id.in_(chunk))).all())
        if replaces is not None and existing.get(replaces) == QUARANTINED:
            del existing[replaces]
        idless = [it.raw_text for it in prepared if it.storable_id is None]
        known_idless: set[str] = set()
        for chunk in _chunks(idless):
            # events without a usable id are recognised by their text (the quarantine is small: no index needed)
            known_idless.update(s.scalars(select(QuarantinedEvent.raw).where(QuarantinedEvent.raw.in_(chunk))))

        device_ids = {it.device_id for it in prepared if it.device_id and len(it.device_id) <= 64}
        devices: dict[str, Device] = {}
        for chunk in _chunks(sorted(device_ids)):
            devices.update({d.device_id: d for d in s.scalars(select(Device).where(Device.device_id.in_(chunk)))})
        trackers: dict[str, SeqTracker] = {}

        numbers = {it.citation_number for it in prepared if it.citation_number is not None}
        known_numbers: dict[str, tuple[str | None, str | None]] = {}
        for chunk in _chunks(sorted(numbers)):
            for number, digest, event_id in s.execute(
                    select(Citation.citation_number, Citation.content_digest, Citation.source_event_id)
                    .where(Citation.citation_number.in_(chunk))):
                known_numbers[number] = (digest, event_id)

        seen: set[str] = set()
        # the devices change with almost every event: written once after the loop, not by each query in it
        with s.no_autoflush:
            for it in prepared:
                key = it.storable_id
                if key is not None:
                    if key in existing or key in seen:
                        stats.duplicates += 1
                        continue
                    seen.add(key)
                elif it.raw_text in known_idless:
                    stats.duplicates += 1
                    continue
                else:
                    known_idless.add(it.raw_text)
                stats.events += 1
                self._track(s, it, devices, trackers, state)
                if it.reason is not None:
                    self._quarantine(state, it, it.reason)
                    continue
                problem, signature_state = self._signature(it, devices.get(it.device_id or ""), resubmitted)
                if problem:
                    self._quarantine(state, it, problem)
                    continue
                if self.expected_device is not None and it.device_id != self.expected_device:
                    self._quarantine(state, it, f"device_id: an event of {it.device_id} inside the dock bundle "
                                                f"of {self.expected_device}")
                    continue
                event_row = self._event_row(it, APPLIED, now)
                kind = it.type
                if not it.known:
                    event_row["outcome"] = SKIPPED
                    stats.skipped += 1
                elif kind == wire.CITATION_ISSUED:
                    number, digest = cast(str, it.citation_number), it.digest
                    if number in known_numbers:
                        first_digest, first_event = known_numbers[number]
                        if first_digest == digest:
                            event_row["outcome"] = DUPLICATE
                            stats.duplicates += 1
                        else:
                            self._quarantine(state, it, f"conflict: citation {number} was already received"
                                                        f"{' in event ' + first_event if first_event else ''} with "
                                                        "different content; the first version is kept")
                            continue
                    else:
                        known_numbers[number] = (digest, it.event_id)
                        state.pending.append(self._citation(it, signature_state, outcomes, ref, now))
                elif kind in (wire.CITATION_VOIDED, wire.CITATION_AMENDED):
                    state.later.append((it, event_row))
                    continue
                elif it.patrol is not None:  # a shift or a check
                    (state.shifts if kind == wire.PATROL_SHIFT else state.checks).append(it.patrol)
                    stats.patrol += 1
                self._keep_event(state, event_row, replaces)
        s.flush()

        self._insert_citations(uow, state)
        batched = _BatchedAudit(uow, state.records)
        cases: dict[str, Citation] = {}
        later_numbers = sorted({cast(str, it.citation_number) for it, _ in state.later})
        for chunk in _chunks(later_numbers):
            cases.update({c.citation_number: c for c in s.scalars(
                select(Citation).where(Citation.citation_number.in_(chunk)).with_for_update())})
        for it, event_row in state.later:
            outcome = self._apply_change(cast(UnitOfWork, batched), cases, it, outcomes, ref, now)
            if outcome.startswith("quarantine:"):
                self._quarantine(state, it, outcome.removeprefix("quarantine:"))
                continue
            event_row["outcome"] = APPLIED if outcome != DUPLICATE else DUPLICATE
            if outcome == DUPLICATE:
                stats.duplicates += 1
            elif it.type == wire.CITATION_VOIDED:
                stats.voided += 1
            else:
                stats.amended += 1
            self._keep_event(state, event_row, replaces)

        if state.events:
            insert_rows(s, _table(FieldEvent), state.events)
        if state.replaced_event is not None:
            row = state.replaced_event
            s.execute(update(_table(FieldEvent)).where(FieldEvent.event_id == row["event_id"]).values(
                outcome=row["outcome"], raw=row["raw"], source=row["source"], received_at=row["received_at"],
                type=row["type"], seq=row["seq"], occurred_at=row["occurred_at"], device_id=row["device_id"]))
        if state.quarantine:
            insert_rows(s, _table(QuarantinedEvent), state.quarantine)
        if state.shifts:
            insert_rows(s, _table(PatrolShift), state.shifts)
        if state.checks:
            insert_rows(s, _table(PatrolCheck), state.checks)
        audit.append_many(s, state.records, at=now, user_id=self.actor.user_id, username=self.actor.username)
        for device_id, tracker in trackers.items():
            device = devices[device_id]
            if tracker.changed:
                device.last_seq = tracker.last_seq
                device.seq_gaps = [list(g) for g in tracker.gaps]
        s.flush()
        return state

    # ------------------------------------------------------------ pieces

    def _event_row(self, it: _Item, outcome: str, now: datetime) -> dict[str, Any]:
        seq = it.seq if it.seq is not None and 0 <= it.seq <= INT64_MAX else None  # a bad event's seq may be anything
        return dict(event_id=it.event_id, device_id=(it.device_id or "")[:64], seq=seq,
                    type=(it.type or "")[:64], occurred_at=it.occurred_at, received_at=now,
                    source=self.source, outcome=outcome, raw=it.raw_text)

    def _keep_event(self, state: _BatchState, row: dict[str, Any], replaces: str | None) -> None:
        if replaces is not None and row["event_id"] == replaces:
            state.replaced_event = row
        else:
            state.events.append(row)

    def _quarantine(self, state: _BatchState, it: _Item, reason: str) -> None:
        state.stats.quarantined += 1
        state.quarantine.append(dict(
            event_id=_clip(it.event_id, 100), device_id=_clip(it.device_id, 64), type=_clip(it.type, 64),
            reason=reason, raw=it.raw_text, source=self.source, received_at=state.now, status="open",
            resolved_by=None, resolved_at=None, resolution=None))
        state.records.append(AuditRecord(
            "field_event.quarantined", "field_event", _clip(it.event_id, 100) or "(no event id)",
            after={"device_id": it.device_id, "type": it.type, "source": self.source}, reason=reason))
        if it.storable_id is not None and it.storable_id != state.replaces:
            # kept so that the same event delivered again is recognised (and not quarantined twice)
            row = self._event_row(it, QUARANTINED, state.now)
            self._keep_event(state, row, None)

    def _signature(self, it: _Item, device: Device | None, resubmitted: bool) -> tuple[str | None, str]:
        if resubmitted:
            return None, "resubmitted"
        key = device.public_key if device is not None else None
        if not key:
            return None, "unverified" if it.signed else "unsigned"
        if not it.signed:
            return (f"signature: missing (device {it.device_id} has a registered key, so its events must be "
                    "signed)"), "unsigned"
        parsed = it.parsed
        assert parsed is not None
        try:
            ok = wire.verify_signature(parsed.raw, key)
        except InvalidDeviceKey:
            return f"signature: the key registered for {it.device_id} is not a valid Ed25519 key", "unsigned"
        if not ok:
            return f"signature: does not verify with the key registered for {it.device_id}", "unsigned"
        return None, "verified"

    def _track(self, s: Session, it: _Item, devices: dict[str, Device], trackers: dict[str, SeqTracker],
               state: _BatchState) -> None:
        device_id, seq = it.device_id, it.seq
        if not device_id or len(device_id) > 64 or seq is None or isinstance(seq, bool):
            return
        if seq < 0 or seq > INT64_MAX:
            return
        device = devices.get(device_id)
        if device is None:
            if it.reason is not None:
                return  # an unreadable event does not make up a device
            device = Device(device_id=device_id, officer_badge=it.officer_badge,
                            endpoint_id=self.endpoint_label, seq_gaps=[], active=True)
            s.add(device)
            devices[device_id] = device
        if device.officer_badge is None and it.reason is None and it.officer_badge is not None:
            device.officer_badge = it.officer_badge  # (the wire schema keeps a badge within 32 characters)
        tracker = trackers.get(device_id)
        if tracker is None:
            def lowest(d: str = device_id) -> int | None:
                value = s.scalar(select(func.min(FieldEvent.seq)).where(FieldEvent.device_id == d))
                return int(value) if value is not None else None

            tracker = trackers[device_id] = SeqTracker(device.last_seq, device.seq_gaps or [], lowest)
        tracker.add(seq)
        if it.occurred_at is not None and (device.last_seen_at is None or it.occurred_at > device.last_seen_at):
            device.last_seen_at = it.occurred_at

    def _fines(self, violations: Sequence[wire.Violation | ViolationLine], issued_at: datetime, ref: _Reference,
               citation_id: int | None) -> tuple[list[dict[str, Any]], int, int | None, list[dict[str, Any]]]:
        day = issued_at.astimezone(ref.tz).date()
        rows: list[dict[str, Any]] = []
        warnings: list[dict[str, Any]] = []
        total = 0
        handheld_total: int | None = None
        for position, v in enumerate(violations):
            line = ref.schedule.lookup(v.code, day)
            if v.fine_cents is not None:
                handheld_total = (handheld_total or 0) + v.fine_cents
            if line is None:
                fine = v.fine_cents or 0
                description = v.description or ""
                warnings.append({"code": "fine_schedule", "severity": "warning",
                                 "text": f"Code {v.code} is not in the fine schedule on {day.isoformat()}: "
                                         f"the handheld's fine ({fine} cents) was used."})
            else:
                fine = line.fine_cents
                description = v.description or line.description
                if v.fine_cents is not None and v.fine_cents != fine:
                    warnings.append({"code": "fine_differs", "severity": "warning",
                                     "text": f"Code {v.code}: the handheld showed {v.fine_cents} cents, the "
                                             f"schedule on {day.isoformat()} says {fine} cents."})
            total += fine
            rows.append(dict(citation_id=citation_id, position=position, code=v.code, description=description[:300],
                             handheld_fine_cents=v.fine_cents, fine_cents=fine))
        return rows, min(total, INT32_MAX), handheld_total, warnings

    def _photo_rows(self, refs: Sequence[wire.PhotoRef | PhotoLine], outcomes: dict[str, PhotoOutcome], now: datetime,
                    start: int = 0, skip: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        seen: set[str] = set(skip)
        fallback: StorePhotos | None = None
        for ref in refs:
            if ref.sha256 in seen:
                continue  # the same photo listed twice is one piece of evidence
            seen.add(ref.sha256)
            outcome = outcomes.get(ref.sha256)
            if outcome is None:
                if fallback is None:
                    from desktop.persistence.evidence import EvidenceStore

                    fallback = StorePhotos(EvidenceStore(self.app.paths.evidence_dir), "not fetched")
                outcome = fallback.fetch(ref.sha256, ref.bytes)
            rows.append(dict(
                citation_id=None, position=start + len(rows), sha256=ref.sha256, declared_bytes=ref.bytes,
                taken_at=ref.taken_at, caption=ref.caption, integrity=outcome.integrity.value,
                integrity_reason=outcome.reason, attempts=outcome.attempts, exif=outcome.exif,
                gps_lat=outcome.gps_lat, gps_lon=outcome.gps_lon, width=outcome.width, height=outcome.height,
                verified_at=now if outcome.verified else None))
        return rows

    def _citation(self, it: _Item, signature_state: str, outcomes: dict[str, PhotoOutcome], ref: _Reference,
                  now: datetime) -> _Pending:
        c = it.issued
        assert c is not None
        violations, fine, handheld, warnings = self._fines(c.violations, c.issued_at, ref, None)
        photos = self._photo_rows(it.photos, outcomes, now)
        states = [PhotoIntegrity(ph["integrity"]) for ph in photos]
        observations = c.observations
        if not isinstance(observations, list) or not observations:
            observations = _NONE_LISTED
        day = c.issued_at.astimezone(ref.tz).date()
        status = evidence_status(states).value
        plate, device_id = c.plate, it.device_id
        row = {
            "citation_number": c.citation_number, "source_event_id": it.event_id, "content_digest": it.digest,
            "device_id": device_id, "officer_badge": c.officer_badge, "issued_at": c.issued_at,
            "received_at": now, "plate": plate, "plate_key": plate_search_key(plate),
            "jurisdiction": c.jurisdiction, "plate_type": c.plate_type, "make": c.make, "model": c.model,
            "color": c.color, "vin": c.vin, "registration_expiry": c.registration_expiry, "lat": c.lat,
            "lon": c.lon, "accuracy_m": c.accuracy_m, "address": c.address, "zone_code": c.zone,
            "space": c.space, "violation_code": violations[0]["code"],
            "violation_description": violations[0]["description"], "fine_cents": fine,
            "handheld_fine_cents": handheld, "observations": observations, "remarks": c.remarks,
            "status": CaseStatus.PENDING_REVIEW.value, "evidence_status": status,
            "signature_state": signature_state, "review_warnings": warnings or _NONE_LISTED,
            "warning_count": len(warnings), "profile_code": ref.profile_code,
            "profile_version": ref.profile_version(day), "owner_id": None, "stage": None, "next_action": None,
            "next_action_date": None, "on_hold": False, "approved_at": None, "closed_at": None, "version": 1,
        }
        verified = sum(1 for ph in photos if ph["integrity"] == PhotoIntegrity.VERIFIED.value)
        after = {"citation_number": c.citation_number, "device_id": device_id, "event_id": it.event_id,
                 "status": row["status"], "evidence_status": status, "photos": verified,
                 "signature": signature_state}
        return _Pending(row, violations, photos, after, f"received from {device_id} via {self.source}")

    def _insert_citations(self, uow: UnitOfWork, state: _BatchState) -> None:
        if not state.pending:
            return
        s = uow.session
        ids = _reserve_citation_ids(s, len(state.pending))
        state.new_citation_ids.extend(ids)
        rows = []
        for citation_id, pending in zip(ids, state.pending, strict=True):
            pending.row["id"] = citation_id
            rows.append(pending.row)
        insert_rows(s, _table(Citation), rows)
        violations: list[dict[str, Any]] = []
        photos: list[dict[str, Any]] = []
        records: list[AuditRecord] = []
        stats = state.stats
        for citation_id, pending in zip(ids, state.pending, strict=True):
            for v in pending.violations:
                v["citation_id"] = citation_id
                violations.append(v)
            for ph in pending.photos:
                ph["citation_id"] = citation_id
                photos.append(ph)
                self._count_photo(stats, ph)
            records.append(AuditRecord("citation.received", "citation", citation_id, after=pending.audit_after,
                                       reason=pending.reason))
        stats.citations += len(ids)
        insert_rows(s, _table(CitationViolation), violations)
        if photos:
            insert_rows(s, _table(EvidencePhoto), photos)
        state.records.extend(records)
        state.pending = []

    @staticmethod
    def _count_photo(stats: IngestStats, photo: dict[str, Any]) -> None:
        integrity = photo["integrity"]
        if integrity == PhotoIntegrity.VERIFIED.value:
            stats.photos += 1
        elif integrity == PhotoIntegrity.INTEGRITY_FAILED.value:
            stats.photos_failed += 1
        else:
            stats.photos_missing += 1

    # ------------------------------------------------------------ voids and amendments

    def _apply_change(self, uow: UnitOfWork, cases: dict[str, Citation], it: _Item,
                      outcomes: dict[str, PhotoOutcome], ref: _Reference, now: datetime) -> str:
        """Apply a void or an amendment to its case (loaded and locked with the batch's others).

        Returns APPLIED, DUPLICATE or 'quarantine:<reason>'.
        """
        assert it.parsed is not None
        p = it.parsed.payload
        assert isinstance(p, (wire.CitationVoided, wire.CitationAmended))
        case = cases.get(p.citation_number)
        what = "voids" if isinstance(p, wire.CitationVoided) else "amends"
        if case is None:
            return (f"quarantine:payload.citation_number: this event {what} citation {p.citation_number}, "
                    "which has not been received (re-submit it once the citation has arrived)")
        device = it.device_id
        if isinstance(p, wire.CitationVoided):
            if case.status == CaseStatus.VOIDED.value:
                return DUPLICATE
            reason = (f"voided on handheld {device} at {p.voided_at.isoformat()}"
                      + (f": {p.reason}" if p.reason else ""))
            try:
                case_ops.move(uow, case, CaseStatus.VOIDED, reason=reason, action="citation.voided")
            except IllegalTransition as exc:
                return f"quarantine:the handheld voided it, but {exc}"
            return APPLIED
        if case.status not in _OPEN_FOR_AMENDMENT:
            return (f"quarantine:the handheld amended citation {p.citation_number}, but the case is already "
                    f"{CaseStatus(case.status).label.lower()}: a supervisor must apply the correction")
        self._amend(uow, case, it, p, outcomes, ref, now)
        return APPLIED

    def _amend(self, uow: UnitOfWork, case: Citation, it: _Item, p: wire.CitationAmended,
               outcomes: dict[str, PhotoOutcome], ref: _Reference, now: datetime) -> None:
        c = p.changes
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}

        def change(attr: str, value: Any) -> None:
            old = getattr(case, attr)
            if old != value:
                before[attr] = old
                after[attr] = value
                setattr(case, attr, value)

        if c.officer_badge is not None:
            change("officer_badge", c.officer_badge)
        if c.issued_at is not None:
            change("issued_at", c.issued_at)
        if c.vehicle is not None:
            given = c.vehicle.model_fields_set
            for name in ("jurisdiction", "plate_type", "make", "model", "color", "vin", "registration_expiry"):
                if name in given and (getattr(c.vehicle, name) is not None or name not in ("jurisdiction",)):
                    change(name, getattr(c.vehicle, name))
            if "plate" in given and c.vehicle.plate is not None:
                plate = normalize_plate(c.vehicle.plate)
                change("plate", plate)
                change("plate_key", plate_search_key(plate))
        if c.location is not None:
            given = c.location.model_fields_set
            for name, attr in (("lat", "lat"), ("lon", "lon"), ("accuracy_m", "accuracy_m"), ("address", "address"),
                               ("zone", "zone_code"), ("space", "space")):
                value = getattr(c.location, name)
                if name in given and (value is not None or name not in ("lat", "lon")):
                    change(attr, value)
        if c.remarks is not None or "remarks" in c.model_fields_set:
            change("remarks", c.remarks)
        if c.observations is not None:
            raw_changes = it.parsed.raw["payload"]["changes"] if it.parsed else {}
            change("observations", raw_changes.get("observations") or [])
        if c.violations is not None or c.issued_at is not None:
            violations = c.violations
            if violations is None:
                violations = [wire.Violation(code=v.code, description=v.description,
                                             fine_cents=v.handheld_fine_cents) for v in case.violations]
            rows, fine, handheld, warnings = self._fines(violations, case.issued_at, ref, case.id)
            if c.violations is not None:
                before["violations"] = [{"code": v.code, "fine_cents": v.fine_cents} for v in case.violations]
                after["violations"] = [{"code": r["code"], "fine_cents": r["fine_cents"]} for r in rows]
                case.violations = [CitationViolation(**{k: v for k, v in r.items() if k != "citation_id"})
                                   for r in rows]
                change("violation_code", rows[0]["code"])
                change("violation_description", rows[0]["description"])
            change("fine_cents", fine)
            change("handheld_fine_cents", handheld)
            kept = [w for w in case.review_warnings or [] if w.get("code") not in ("fine_schedule", "fine_differs")]
            change("review_warnings", kept + warnings)
            change("warning_count", len(kept + warnings))
        if c.photos:
            have = {ph.sha256 for ph in case.photos}
            rows = self._photo_rows(c.photos, outcomes, now, start=len(case.photos), skip=frozenset(have))
            for r in rows:
                r.pop("citation_id")
                case.photos.append(EvidencePhoto(**r))
            if rows:
                after["photos_added"] = [r["sha256"] for r in rows]
                change("evidence_status",
                       evidence_status([PhotoIntegrity(ph.integrity) for ph in case.photos]).value)
        reason = f"amended on handheld {it.device_id}" + (f": {p.reason}" if p.reason else "")
        uow.audit("citation.amended", "citation", case.id, before=before, after=after, reason=reason)


_durable: ContextVar[bool] = ContextVar("curbdesk_durable_commit", default=False)
_hooked: set[int] = set()


def _durability_hook(engine: Engine) -> None:
    """SQLite runs with ``synchronous=NORMAL`` (fast, but a commit may be lost on power failure). An ingest
    commit is followed by an ack that lets the endpoint delete the events, so it must survive a power cut:
    transactions begun while ``_durable`` is set run with ``synchronous=FULL`` (the WAL is synced at commit)."""
    if engine.dialect.name != "sqlite" or id(engine) in _hooked:
        return
    _hooked.add(id(engine))

    @event.listens_for(engine, "checkout")
    def _synchronous(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        # at checkout no transaction is open yet (the level cannot change inside one)
        want = "FULL" if _durable.get() else "NORMAL"
        if record.info.get("curbdesk_synchronous", "NORMAL") != want:
            dbapi_connection.execute(f"PRAGMA synchronous={want}")
            record.info["curbdesk_synchronous"] = want


_pause_lock = threading.Lock()
_pauses = 0  # threads inside collector_paused()
_disabled_here = False  # whether the first of them turned the collector off (so the last turns it on again)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic collector held off while a batch is read, checked or stored, and left as it was after.

    A batch allocates hundreds of thousands of objects (decoded events, models, rows) that form no cycles,
    yet they set off the automatic collector again and again, each time over the whole heap (about a
    quarter of an ingest's time). Collection resumes when the last thread inside is done (at once if the
    counts say so), so what a batch leaves behind is collected as before; where collection is already off
    (the app runs it from the GUI thread, :class:`desktop.ui.common.tasks.MainThreadGC`) nothing changes."""
    global _pauses, _disabled_here
    with _pause_lock:
        if _pauses == 0:
            _disabled_here = gc.isenabled()
            if _disabled_here:
                gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pauses -= 1
            if _pauses == 0 and _disabled_here:
                gc.enable()
                _disabled_here = False


def _check_cancel(cancelled: Callable[[], bool] | None) -> None:
    if cancelled is not None and cancelled():
        from desktop.sync.client import SyncCancelled

        raise SyncCancelled("Sync was cancelled.")


def _table(model: type[Any]) -> Table:
    """The Core table of a mapped class (bulk inserts go through Core, not the ORM)."""
    return cast(Table, model.__table__)


def _reserve_citation_ids(session: Session, count: int) -> list[int]:
    """Ids for a bulk insert without RETURNING (which SQLite would run one row at a time).

    PostgreSQL hands them out from the table's sequence; on SQLite the write transaction
    holds the database lock (BEGIN IMMEDIATE), so the next ids after the highest are ours.
    """
    if session.get_bind().dialect.name == "postgresql":
        return list(session.scalars(text(
            "SELECT nextval(pg_get_serial_sequence('citations', 'id')) FROM generate_series(1, :n)"),
            {"n": count}))
    first = int(session.scalar(select(func.coalesce(func.max(Citation.id), 0))) or 0) + 1
    return list(range(first, first + count))


class _BatchedAudit:
    """The unit of work as :func:`case_ops.move` sees it, with its audit entries collected for one bulk append.

    The entries keep their order and their content; only the writing is batched.
    """

    def __init__(self, uow: UnitOfWork, records: list[AuditRecord]) -> None:
        self.app = uow.app
        self.actor = uow.actor
        self.session = uow.session
        self._records = records

    def audit(self, action: str, entity_type: str, entity_id: str | int, *, before: dict[str, Any] | None = None,
              after: dict[str, Any] | None = None, reason: str | None = None) -> None:
        self._records.append(AuditRecord(action, entity_type, entity_id, before, after, reason))


def _chunks(values: Sequence[str], size: int = IN_CHUNK) -> Iterable[list[str]]:
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]
