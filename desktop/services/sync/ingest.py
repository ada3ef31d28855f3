"""The ingest pipeline: field events into the database, the same for an endpoint page and a dock bundle.

(Over 600 lines, knowingly: the batch loop and its accept / quarantine / hold decisions are one pass over a
batch; its rules, changes and storage are already apart.)

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

Here is the batch's loop; its pieces live next door: the rules for one event (fines,
sequence gaps, signatures) in :mod:`~desktop.services.sync.ingest_rules`, voids and
amendments in :mod:`~desktop.services.sync.ingest_changes`, the bulk writing in
:mod:`~desktop.services.sync.ingest_storage`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, cast

from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from desktop.domain.lifecycle import CaseStatus, PhotoIntegrity, evidence_status
from desktop.domain.plates import plate_search_key
from desktop.domain.roles import Permission
from desktop.persistence.bulk import insert_rows
from desktop.persistence.evidence import EvidenceStore
from desktop.persistence.failures import ConnectionLost
from desktop.persistence.models import (
    Citation,
    CitationViolation,
    CitationWarnings,
    Device,
    EvidencePhoto,
    FieldEvent,
    PatrolCheck,
    PatrolShift,
    QuarantinedEvent,
)
from desktop.services.core import audit
from desktop.services.core.audit import AuditRecord
from desktop.services.core.context import Actor, AppContext, UnitOfWork
from desktop.services.core.seal import seal_row_dicts
from desktop.services.review.checks import check_new_citations, recheck_citations
from desktop.services.sync.checks_process import Batch, ChecksProcess
from desktop.services.sync.ingest_changes import apply_change
from desktop.services.sync.ingest_rules import (
    APPLIED,
    DUPLICATE,
    QUARANTINED,
    SKIPPED,
    IngestReference,
    SeqTracker,
    check_signature,
    price_violations,
)
from desktop.services.sync.ingest_storage import (
    BatchedAudit,
    chunks,
    durability_hook,
    durable_commits,
    one_of,
    photo_rows,
    reserve_citation_ids,
    table,
)
from desktop.services.sync.photo_sources import PhotoHold, PhotoOutcome, PhotoSource, StorePhotos
from desktop.sync import wire
from desktop.sync.client import SyncCancelled
from desktop.sync.collector import collector_paused
from desktop.sync.prepared import PreparedEvent as _Item
from desktop.sync.prepared import clip as _clip
from desktop.sync.prepared import photo_refs, prepare

log = logging.getLogger(__name__)

INT64_MAX = wire.INT64_MAX

#: an empty JSON list column (observations, warnings), one object for every row so the bulk insert encodes it once
_NONE_LISTED: tuple[Any, ...] = ()


#: the data folder's folder of photos held with quarantined events (:class:`PhotoHold`)
QUARANTINE_PHOTOS = "quarantine-photos"
#: a quarantined event's text is kept whole up to this many characters; beyond, its start, size and digest
QUARANTINE_RAW_MAX = 64 * 1024
#: the review checks after each batch run on the rows it inserted (:func:`check_new_citations`); False: the
#: citations are loaded back through the ORM (:func:`recheck_citations`), the older path (tests compare them)
SET_BASED_CHECKS = True
QUARANTINE_EXCERPT = 4 * 1024


def bounded_raw(text: str) -> str:
    """What the quarantine keeps of an event's text: all of it, or for a huge one a bounded excerpt with the
    size and SHA-256 of the whole (an endpoint cannot fill the database through the quarantine)."""
    if len(text) <= QUARANTINE_RAW_MAX:
        return text
    data = text.encode("utf-8", "surrogatepass")
    return (f"{text[:QUARANTINE_EXCERPT]}\n… (cut: the event was {len(data):,} bytes, "
            f"sha256 {hashlib.sha256(data).hexdigest()})")


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


# --------------------------------------------------------------------------- the pipeline


@dataclass
class _Pending:
    """A citation row waiting for the bulk insert, with its children."""

    row: dict[str, Any]
    violations: list[dict[str, Any]]
    photos: list[dict[str, Any]]
    audit_after: dict[str, Any]
    reason: str
    #: what pricing its violations found (the fine schedule's): its first review warnings
    warnings: list[dict[str, Any]]


@dataclass
class _NewRows:
    """The citations a batch inserted, as inserted, and those a void or amendment of the same batch changed
    after (their rows no longer say what is stored: they are checked from the database)."""

    citations: list[dict[str, Any]]
    violations: list[dict[str, Any]]
    photos: list[dict[str, Any]]
    changed_numbers: set[str] = field(default_factory=set)

    def split(self) -> tuple[list[dict[str, Any]], list[int]]:
        """The rows to check as they are, and the ids to check from the database."""
        if not self.changed_numbers:
            return self.citations, []
        as_rows = [r for r in self.citations if r["citation_number"] not in self.changed_numbers]
        reread = [r["id"] for r in self.citations if r["citation_number"] in self.changed_numbers]
        return as_rows, reread


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
    #: the rows inserted for them (citations, violations, photos), for the review checks after the commit
    new_rows: _NewRows | None = None
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
        #: run the review checks on new citations once their batch is committed
        self.review_checks = review_checks
        #: where a large sync's checks are computed meanwhile (set by the sync); None: in line after each batch
        self.checks_process: ChecksProcess | None = None
        self.app = app
        self.actor = actor
        self.source = source[:200]
        self.photos = photos or StorePhotos(EvidenceStore(app.paths.evidence_dir))
        self.endpoint_label = endpoint_label
        self.expected_device = expected_device
        self.permission = permission
        self._reference: IngestReference | None = None
        #: photos of events bound for the quarantine: kept apart until a supervisor accepts the event
        self.held = PhotoHold(app.paths.data_dir / QUARANTINE_PHOTOS)
        #: signature checks made while deciding which photos to fetch, reused by the transaction (by item)
        self._signatures: dict[int, tuple[str | None, tuple[str | None, str]]] = {}

    # ------------------------------------------------------------ public

    def ingest(self, items: Sequence[Any], *, on_commit: Callable[[Session], None] | None = None,
               progress: Callable[[str, int, int], None] | None = None,
               cancelled: Callable[[], bool] | None = None) -> IngestStats:
        """Apply one batch in one transaction; ``on_commit(session)`` runs just before the commit."""
        with collector_paused():
            # the batch's objects are let go inside: the collection that resumes afterwards need not scan them
            stats, new_citation_ids, new_rows = self._ingest(items, on_commit, progress, cancelled)
        if self.review_checks and new_citation_ids:
            if SET_BASED_CHECKS and new_rows is not None:
                as_rows, reread = new_rows.split()
                batch = Batch(as_rows, new_rows.violations, new_rows.photos, reread,
                              frozenset(r["citation_number"] for r in new_rows.citations))
                if self.checks_process is not None:
                    self.checks_process.submit(batch)
                else:
                    self.run_review_checks_on_batch(batch)
            else:
                self._run_review_checks(new_citation_ids)
        return stats

    def _ingest(self, items: Sequence[Any], on_commit: Callable[[Session], None] | None,
                progress: Callable[[str, int, int], None] | None,
                cancelled: Callable[[], bool] | None) -> tuple[IngestStats, list[int], _NewRows | None]:
        prepared = [prepare(item) for item in items]
        self._signatures.clear()
        outcomes = self.fetch_photos(prepared, progress, cancelled)
        durability_hook(self.app.db.engine)
        checks = self.checks_process
        if checks is not None:
            checks.before_batch()
        for attempt in (1, 2):
            try:
                with durable_commits(), self.app.uow(self.actor, self.permission) as uow:
                    if checks is not None:
                        checks.begin(uow.session)  # the earlier batches' warnings that have come back
                    state = self._apply(uow, prepared, outcomes)
                    if on_commit is not None:
                        on_commit(uow.session)
                    if checks is not None:
                        checks.before_commit()
                    uow.commit()
                if checks is not None:
                    checks.committed()
                break
            except IntegrityError:
                # another workstation stored some of these events (or citation numbers) between our
                # reads and our writes (PostgreSQL, read committed): read again and apply what is left
                if attempt == 2:
                    raise
                log.info("concurrent ingest of the same events; applying the batch again")
                self._reference = None
            except (DBAPIError, ConnectionLost) as exc:
                # the database server ended our session (it restarted, or pg_terminate_backend): the
                # transaction went with it (or, cut during its COMMIT, went through: its events are then
                # recognised by their ids). Once more on a new connection; a second loss goes to the caller.
                if not connection_lost(exc) or attempt == 2:
                    raise
                log.warning("the database connection was lost during an ingest batch; applying it again")
                self._reference = None
        state.stats.received = len(items)
        state.stats.photo_bytes = sum(o.stored_bytes for o in outcomes.values())
        return state.stats, state.new_citation_ids, state.new_rows

    def _run_review_checks(self, citation_ids: Sequence[int]) -> None:
        """The review checks (permit, hot list, registration, zone rules, duplicates, EXIF ...) on the
        citations just stored, in their own transaction after the batch: a failure here never loses
        field data, and the reviewer's screen checks again anyway."""
        try:
            with self.app.uow(self.actor) as uow:
                recheck_citations(uow, citation_ids)
                uow.commit()
        except Exception:  # noqa: BLE001 - the data is safe; say so in the log
            log.exception("review checks after ingest failed for %d citations", len(citation_ids))

    def run_review_checks_on_batch(self, new: Batch) -> None:
        """:meth:`_run_review_checks` from the rows the batch inserted (:func:`check_new_citations`): the
        same checks on the same values, without loading every citation back through the ORM."""
        for attempt in (1, 2):
            try:
                with self.app.uow(self.actor) as uow:
                    check_new_citations(uow.session, new.rows, new.violations, new.photos,
                                        evidence_dir=self.app.paths.evidence_dir, reread=new.reread)
                    uow.commit()
                return
            except (DBAPIError, ConnectionLost) as exc:
                if connection_lost(exc) and attempt == 1:  # the server ended the session: once more
                    log.warning("the database connection was lost during the review checks; checking again")
                    continue
                log.exception("review checks after ingest failed for %d citations", len(new.numbers))
                return
            except Exception:  # noqa: BLE001 - the data is safe; say so in the log
                log.exception("review checks after ingest failed for %d citations", len(new.numbers))
                return

    def resubmit(self, text: str, replaces_event_id: str | None,
                 resolve: Callable[[UnitOfWork, IngestStats], None]) -> IngestStats:
        """Apply one corrected event; raise :class:`QuarantinedAgain` (storing nothing) if it fails again.

        The event's own earlier field_events row (kept when it was quarantined) is
        replaced instead of making the corrected event a duplicate of it.
        """
        item = prepare(text)
        self._signatures.clear()
        outcomes = self.fetch_photos([item], None, None, resubmitted=True)
        with self.app.uow(self.actor, Permission.RESOLVE_QUARANTINE) as uow:
            state = self._apply(uow, [item], outcomes, replaces=replaces_event_id, resubmitted=True)
            if state.stats.quarantined:
                raise QuarantinedAgain(state.quarantine[0]["reason"])
            resolve(uow, state.stats)
            uow.commit()
        state.stats.received = 1
        return state.stats

    def fetch_photos(self, prepared: Sequence[_Item], progress: Callable[[str, int, int], None] | None,
                     cancelled: Callable[[], bool] | None, *, resubmitted: bool = False) -> dict[str, PhotoOutcome]:
        """Fetch every photo the batch's new events reference (outside any write transaction).

        Photos of events the transaction will quarantine (unreadable, badly signed, of another device,
        a conflicting citation number) are never stored as evidence: they are kept in :attr:`held` until
        a supervisor accepts the event."""
        refs = [(it, photo_refs(it)) for it in prepared]
        # (a re-submitted event stands in for its own quarantined row: its photos are wanted all the same)
        ids = [] if resubmitted else [it.storable_id for it, listed in refs if it.storable_id and listed]
        known: set[str] = set()
        if ids:
            with self.app.db.reading() as s:
                for where in one_of(s, FieldEvent.event_id, ids):
                    known.update(s.scalars(select(FieldEvent.event_id).where(where)))
        refs = [(it, listed) for it, listed in refs if listed and it.storable_id not in known]
        bound = self._bound_for_quarantine([it for it, _ in refs], resubmitted)
        wanted: dict[str, int | None] = {}
        held: dict[str, None] = {}
        for it, listed in refs:
            for sha, declared in listed:
                if id(it) in bound:
                    held.setdefault(sha, None)
                else:
                    wanted.setdefault(sha, declared)
        hold = getattr(self.photos, "hold", None)
        if hold is not None:
            for sha in held:
                if sha not in wanted:
                    _check_cancel(cancelled)
                    hold(sha, self.held)
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

    def _bound_for_quarantine(self, items: Sequence[_Item], resubmitted: bool) -> set[int]:
        """The items (by ``id``) that the transaction will quarantine, as far as can be told beforehand."""
        if not items:
            return set()
        device_ids = sorted({it.device_id for it in items if it.device_id and len(it.device_id) <= 64})
        numbers = sorted({it.citation_number for it in items
                          if it.citation_number is not None and it.type == wire.CITATION_ISSUED})
        devices: dict[str, Device] = {}
        digests: dict[str, str | None] = {}
        with self.app.db.reading() as s:
            for where in one_of(s, Device.device_id, device_ids):
                devices.update({d.device_id: d for d in s.scalars(select(Device).where(where))})
            for where in one_of(s, Citation.citation_number, numbers):
                digests.update(s.execute(select(Citation.citation_number, Citation.content_digest).where(where)).all())
        bound: set[int] = set()
        for it in items:
            if it.reason is not None or (self.expected_device is not None and it.device_id != self.expected_device):
                bound.add(id(it))
                continue
            problem, _state = self._check_signature(it, devices.get(it.device_id or ""), resubmitted)
            if problem:
                bound.add(id(it))
            elif it.type == wire.CITATION_ISSUED and it.citation_number is not None:
                first = digests.setdefault(it.citation_number, it.digest)
                if first != it.digest:
                    bound.add(id(it))  # a conflict: the first version is kept, this one quarantined
        return bound

    def _check_signature(self, it: _Item, device: Device | None, resubmitted: bool) -> tuple[str | None, str]:
        key = device.public_key if device is not None else None
        cached = self._signatures.get(id(it))
        if cached is not None and cached[0] == key:
            return cached[1]
        result = check_signature(it, device, resubmitted)
        self._signatures[id(it)] = (key, result)
        return result

    # ------------------------------------------------------------ the transaction

    def _reference_data(self, session: Session) -> IngestReference:
        if self._reference is None:
            self._reference = IngestReference.load(session)
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
        for where in one_of(s, FieldEvent.event_id, ids):
            existing.update(s.execute(select(FieldEvent.event_id, FieldEvent.outcome).where(where)).all())
        if replaces is not None and existing.get(replaces) == QUARANTINED:
            del existing[replaces]
        idless = [bounded_raw(it.raw_text) for it in prepared if it.storable_id is None]
        known_idless: set[str] = set()
        for chunk in chunks(idless):
            # events without a usable id are recognised by their text (the quarantine is small: no index needed)
            known_idless.update(s.scalars(select(QuarantinedEvent.raw).where(QuarantinedEvent.raw.in_(chunk))))

        device_ids = {it.device_id for it in prepared if it.device_id and len(it.device_id) <= 64}
        devices: dict[str, Device] = {}
        for where in one_of(s, Device.device_id, sorted(device_ids)):
            devices.update({d.device_id: d for d in s.scalars(select(Device).where(where))})
        trackers: dict[str, SeqTracker] = {}

        numbers = {it.citation_number for it in prepared if it.citation_number is not None}
        known_numbers: dict[str, tuple[str | None, str | None]] = {}
        for where in one_of(s, Citation.citation_number, sorted(numbers)):
            for number, digest, event_id in s.execute(
                    select(Citation.citation_number, Citation.content_digest, Citation.source_event_id).where(where)):
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
                elif bounded_raw(it.raw_text) in known_idless:
                    stats.duplicates += 1
                    continue
                else:
                    known_idless.add(bounded_raw(it.raw_text))
                stats.events += 1
                self._track(s, it, devices, trackers, state)
                if it.reason is not None:
                    self._quarantine(state, it, it.reason)
                    continue
                problem, signature_state = self._check_signature(it, devices.get(it.device_id or ""), resubmitted)
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
        batched = BatchedAudit(uow, state.records)
        cases: dict[str, Citation] = {}
        later_numbers = sorted({cast(str, it.citation_number) for it, _ in state.later})
        if self.checks_process is not None:
            self.checks_process.before_changes(later_numbers, s)  # their checks' warnings first, as in line
        for where in one_of(s, Citation.citation_number, later_numbers):
            cases.update({c.citation_number: c for c in s.scalars(select(Citation).where(where).with_for_update())})
        if state.new_rows is not None and state.later:
            state.new_rows.changed_numbers.update(cast(str, it.citation_number) for it, _ in state.later)
        for it, event_row in state.later:
            outcome = apply_change(cast(UnitOfWork, batched), cases, it, outcomes, ref, now,
                                   self.app.paths.evidence_dir)
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
            insert_rows(s, table(FieldEvent), state.events)
        if state.replaced_event is not None:
            row = state.replaced_event
            s.execute(update(table(FieldEvent)).where(FieldEvent.event_id == row["event_id"]).values(
                outcome=row["outcome"], raw=row["raw"], source=row["source"], received_at=row["received_at"],
                type=row["type"], seq=row["seq"], occurred_at=row["occurred_at"], device_id=row["device_id"]))
        if state.quarantine:
            insert_rows(s, table(QuarantinedEvent), state.quarantine)
        if state.shifts:
            insert_rows(s, table(PatrolShift), state.shifts)
        if state.checks:
            insert_rows(s, table(PatrolCheck), state.checks)
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
            reason=reason, raw=bounded_raw(it.raw_text), source=self.source, received_at=state.now, status="open",
            resolved_by=None, resolved_at=None, resolution=None))
        state.records.append(AuditRecord(
            "field_event.quarantined", "field_event", _clip(it.event_id, 100) or "(no event id)",
            after={"device_id": it.device_id, "type": it.type, "source": self.source}, reason=reason))
        if it.storable_id is not None and it.storable_id != state.replaces:
            # kept so that the same event delivered again is recognised (and not quarantined twice)
            row = self._event_row(it, QUARANTINED, state.now)
            row["raw"] = bounded_raw(row["raw"])
            self._keep_event(state, row, None)

    def _track(self, s: Session, it: _Item, devices: dict[str, Device], trackers: dict[str, SeqTracker],
               state: _BatchState) -> None:
        device_id, seq = it.device_id, it.seq
        if not device_id or len(device_id) > 64 or seq is None or isinstance(seq, bool):
            return
        if seq < 0 or seq > INT64_MAX:
            return
        if self.expected_device is not None and device_id != self.expected_device:
            return  # another device's event inside a dock bundle (quarantined) makes up no device
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

    def _citation(self, it: _Item, signature_state: str, outcomes: dict[str, PhotoOutcome], ref: IngestReference,
                  now: datetime) -> _Pending:
        c = it.issued
        assert c is not None
        violations, fine, handheld, warnings = price_violations(c.violations, c.issued_at, ref, None)
        # (the evidence folder is a path built on each call: not for the many citations without photos)
        photos = photo_rows(it.photos, outcomes, now, self.app.paths.evidence_dir) if it.photos else []
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
            "signature_state": signature_state, "profile_code": ref.profile_code,
            "profile_version": ref.profile_version(day), "owner_id": None, "stage": None, "next_action": None,
            "next_action_date": None, "on_hold": False, "approved_at": None, "closed_at": None, "version": 1,
        }
        verified = sum(1 for ph in photos if ph["integrity"] == PhotoIntegrity.VERIFIED.value)
        after = {"citation_number": c.citation_number, "device_id": device_id, "event_id": it.event_id,
                 "status": row["status"], "evidence_status": status, "photos": verified,
                 "signature": signature_state}
        return _Pending(row, violations, photos, after, f"received from {device_id} via {self.source}", warnings)

    def _insert_citations(self, uow: UnitOfWork, state: _BatchState) -> None:
        if not state.pending:
            return
        s = uow.session
        ids = reserve_citation_ids(s, len(state.pending))
        state.new_citation_ids.extend(ids)
        rows = []
        for citation_id, pending in zip(ids, state.pending, strict=True):
            pending.row["id"] = citation_id
            rows.append(pending.row)
        seal_row_dicts(s, Citation, rows)  # the office key's seal of plate, fine, ... (desktop.services.core.seal)
        insert_rows(s, table(Citation), rows)
        # (in the narrow table of warnings, only the citations that have any; the checks read them from the rows)
        insert_rows(s, table(CitationWarnings), [
            {"citation_id": citation_id, "warnings": pending.warnings, "count": len(pending.warnings)}
            for citation_id, pending in zip(ids, state.pending, strict=True) if pending.warnings])
        for pending in state.pending:
            pending.row["review_warnings"] = pending.warnings or _NONE_LISTED
            pending.row["warning_count"] = len(pending.warnings)
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
        insert_rows(s, table(CitationViolation), violations)
        if photos:
            insert_rows(s, table(EvidencePhoto), photos)
        state.new_rows = _NewRows(rows, violations, photos)
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


def connection_lost(exc: BaseException) -> bool:
    """The database server ended the session: the driver's error as it comes, or as the unit of work says it
    (``failures.ConnectionLost``, raised from a commit)."""
    return isinstance(exc, ConnectionLost) or (isinstance(exc, DBAPIError) and bool(exc.connection_invalidated))


def _check_cancel(cancelled: Callable[[], bool] | None) -> None:
    if cancelled is not None and cancelled():
        raise SyncCancelled("Sync was cancelled.")
