"""Sync now: pull every event an endpoint holds, store them, acknowledge them, then push reference data.

Long work reports ``progress(done, total, text)`` and stops when ``cancel`` says so, keeping
everything committed so far (every batch of pages is committed with its cursor before it is
acknowledged). Photos recorded as missing are asked for again at the end (also after a dock bundle).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from desktop.domain.errors import UserError
from desktop.domain.lifecycle import PhotoIntegrity, evidence_status
from desktop.domain.roles import Permission
from desktop.domain.wording import counted
from desktop.persistence.evidence import EvidenceStore
from desktop.persistence.failures import ConnectionLost
from desktop.persistence.models import Device, EvidencePhoto, QuarantinedEvent, SyncEndpoint
from desktop.services.core import settings as settings_service
from desktop.services.core.context import Actor, AppContext
from desktop.services.sync.checks_process import ChecksProcess
from desktop.services.sync.endpoints import TOKENS, get_endpoint
from desktop.services.sync.ingest import Ingestor, IngestStats, connection_lost
from desktop.services.sync.photo_sources import HttpPhotos, PhotoSource
from desktop.services.sync.reference import push_reference
from desktop.sync import wire
from desktop.sync.client import AnswerTooLarge, EndpointUnavailable, FieldClient, FieldEndpointError, SyncCancelled
from desktop.sync.decoder import Decoder, picklable
from desktop.sync.pages import PagePrefetcher

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
CancelHook = Callable[[], bool] | threading.Event | None

PAGE_LIMIT = 500
#: events stored in one transaction at most: whole pages are gathered up to it, so a sync of many full pages
#: makes one synced commit (and one ack) per four pages instead of one per page; a single page may exceed it
COMMIT_EVENTS = 2_000
#: a sync with at least this many events waiting fetches and prepares them on a helper process
#: (:mod:`desktop.sync.decoder`); smaller ones are not worth starting it (about half a second)
HELPER_PROCESS_FROM = 5_000
MISSING_RETRY_LIMIT = 200


def cancel_fn(cancel: CancelHook) -> Callable[[], bool]:
    """The cancel hook as a function that says whether to stop (never, for None)."""
    if cancel is None:
        return lambda: False
    if isinstance(cancel, threading.Event):
        return cancel.is_set
    return cancel


def no_progress(_done: int, _total: int, _text: str) -> None:
    """The progress report of a caller that asked for none."""
    return None


@dataclass
class SyncSummary:
    """What one sync did; ``line()`` is the one-line summary the command line prints."""

    endpoint: str
    stats: IngestStats = field(default_factory=IngestStats)
    pages: int = 0
    devices: int = 0
    devices_with_gaps: int = 0
    missing_events: int = 0
    pending_after: int | None = None
    reference: dict[str, str] = field(default_factory=dict)
    recovered_photos: int = 0
    restarted_from_oldest: bool = False
    #: runs of pages fetched and prepared on the helper process (a large sync)
    helper_runs: int = 0

    def line(self) -> str:
        s = self.stats
        text = (f"sync {self.endpoint}: {s.events:,} events, {s.citations:,} citations, {s.photos:,} photos, "
                f"{s.quarantined:,} quarantined, {s.duplicates:,} duplicates ignored")
        extra = []
        if s.photos_failed:
            extra.append(f"{counted(s.photos_failed, 'photo')} failed integrity")
        if s.photos_missing:
            extra.append(f"{counted(s.photos_missing, 'photo')} missing")
        if self.recovered_photos:
            extra.append(f"{counted(self.recovered_photos, 'missing photo')} recovered")
        if s.voided:
            extra.append(f"{s.voided} voided")
        if s.amended:
            extra.append(f"{s.amended} amended")
        if s.patrol:
            extra.append(f"{counted(s.patrol, 'patrol record')}")
        if s.skipped:
            extra.append(f"{counted(s.skipped, 'unknown event')} kept and skipped")
        if self.devices_with_gaps:
            extra.append(f"{counted(self.devices_with_gaps, 'device')} with sequence gaps "
                         f"({counted(self.missing_events, 'event')} missing)")
        pushed = [f"{k} v{v}" for k, v in self.reference.items() if v.isdigit()]
        if pushed:
            extra.append("reference pushed: " + ", ".join(pushed))
        return text + (f" ({'; '.join(extra)})" if extra else "")


def sync_now(app: AppContext, actor: Actor, endpoint_id: int, progress: Progress | None = None,
             cancel: CancelHook = None, *, token: str | None = None, page_limit: int = PAGE_LIMIT,
             push: bool = True, client_options: dict[str, Any] | None = None,
             review_checks: bool = True, commit_events: int | None = None,
             helper_process_from: int | None = HELPER_PROCESS_FROM,
             checks_process_from: int | None = HELPER_PROCESS_FROM) -> SyncSummary:
    """Pull every event the endpoint holds, a few pages at a time (each batch of whole pages, up to
    ``commit_events`` events, committed with its cursor, then acked), fetch and verify their photos,
    update the devices, then push reference data.

    ``commit_events`` defaults to :data:`COMMIT_EVENTS` for full-size pages; a smaller ``page_limit``
    (asked for on a slow link, or to see progress sooner) keeps one commit and one ack per page.

    ``review_checks`` runs the review checks on each page's new citations after its commit (the app
    always does; the ingest benchmark leaves them out and measures them on their own).

    ``helper_process_from``: with at least this many events waiting (as the endpoint's status says), pages
    are fetched and their events prepared on a helper process (None: never); ``checks_process_from``: the
    same for the review checks of the committed batches (:mod:`desktop.services.sync.checks_process`)."""
    note = progress or no_progress
    cancelled = cancel_fn(cancel)
    if commit_events is None:
        commit_events = COMMIT_EVENTS if page_limit >= PAGE_LIMIT else page_limit
    ep = get_endpoint(app, actor, endpoint_id)
    token = token or TOKENS.get(ep.url)
    if not token:
        raise UserError(f"No token for the endpoint {ep.name}: it is not in {TOKENS.where()}. "
                        "Enter it in Devices & Sync (or give --token on the command line).")
    limits = _limits(app)
    options = {**limits.client_options(), **(client_options or {})}
    client = FieldClient(ep.url, token, ca_bundle=ep.ca_bundle, cancel=cancelled, **options)
    summary = SyncSummary(ep.name)
    store = EvidenceStore(app.paths.evidence_dir)
    photos: HttpPhotos | None = None
    pages: PagePrefetcher | None = None
    checks: ChecksProcess | None = None
    try:
        note(0, 0, f"Connecting to {ep.name}…")
        status = client.status()
        label = status.endpoint_id or ep.name
        _record_status(app, actor, status, label)
        total = sum(d.pending_events or 0 for d in status.devices)
        cursor = ep.cursor
        acked = ep.acked_cursor
        if cursor and cursor != acked:
            client.ack(cursor)  # a committed page whose ack never got through
            acked = cursor
            _set_acked(app, actor, endpoint_id, cursor)
        def make_client() -> FieldClient:
            return FieldClient(ep.url, token or "", ca_bundle=ep.ca_bundle, cancel=cancelled, **options)

        photos = HttpPhotos(client, store, app.paths.data_dir / "sync-downloads", make_client=make_client)
        run_pages = max(1, commit_events // page_limit)
        decoder = None
        if helper_process_from is not None and total >= helper_process_from and picklable(options):
            # started now, it is ready after the first run or two, which this process fetches meanwhile
            try:
                decoder = Decoder(ep.url, token, ep.ca_bundle, options, page_limit, run_pages,
                                  spool_parent=app.paths.data_dir / "sync-spool")
            except Exception:  # noqa: BLE001 - a sync without it is only slower
                log.warning("could not start the sync's helper process; fetching in this process", exc_info=True)
        pages = PagePrefetcher(make_client(), page_limit, run=run_pages, decoder=decoder, cancelled=cancelled)
        ingestor = Ingestor(app, actor, f"endpoint:{ep.name}", photos, endpoint_label=label,
                            review_checks=review_checks)
        if review_checks and checks_process_from is not None and total >= checks_process_from:
            try:
                checks = ChecksProcess(app.db.url.render_as_string(hide_password=False), app.paths.evidence_dir,
                                       app.paths.data_dir / "sync-spool", ingestor.run_review_checks_on_batch)
                ingestor.checks_process = checks
            except Exception:  # noqa: BLE001 - the checks then run in line, only slower
                log.warning("could not start the review checks' helper process; checking in line", exc_info=True)
        asked: set[str | None] = {cursor}
        while True:
            if cancelled():
                raise SyncCancelled("Sync was cancelled.")
            try:
                run = pages.get(cursor)
            except AnswerTooLarge as exc:
                _quarantine_refused_page(app, actor, ep.name, cursor, exc)
                raise
            except FieldEndpointError as exc:
                if exc.status == 400 and cursor is not None and not summary.restarted_from_oldest:
                    # the endpoint no longer knows our cursor (it was reset): start from the oldest it holds;
                    # events already stored are recognised by their ids
                    log.warning("endpoint %s refused cursor %s; starting from the oldest event", ep.name, cursor)
                    cursor = None
                    asked = {None}  # (the reset endpoint's cursors may be the ones it gave before)
                    summary.restarted_from_oldest = True
                    continue
                raise
            items = run.items
            stuck: str | None = None
            for page in run.pages:
                if page.more and page.next in asked:
                    stuck = page.next  # the same cursor again: its events are stored, then the sync stops
                    break
                cursor = page.next or cursor
                asked.add(cursor)
            more = bool(run.pages[-1].more and run.pages[-1].next) and stuck is None
            too_many = more and summary.pages + len(run.pages) >= limits.max_pages
            more = more and not too_many
            if more:
                pages.prefetch(cursor)  # on its way while this run is stored
            done = summary.stats.received

            def photo_progress(_stage: str, n: int, of: int, done: int = done, size: int = len(items)) -> None:
                note(done, max(total, done + size), f"Page {summary.pages + 1}: photo {n} of {of}…")

            def on_commit(session: Session, cursor_value: str | None = cursor,
                          acked_value: str | None = acked) -> None:
                row = session.get(SyncEndpoint, endpoint_id)
                if row is not None and cursor_value is not None:
                    row.cursor = cursor_value
                    row.acked_cursor = acked_value  # the previous batch's ack, recorded with this commit

            try:
                stats = ingestor.ingest(items, on_commit=on_commit, progress=photo_progress, cancelled=cancelled)
            except (DBAPIError, ConnectionLost) as exc:
                if not connection_lost(exc):
                    raise
                raise DatabaseConnectionLost(
                    f"The connection to the database was lost twice during the sync (the database server restarted "
                    f"or ended the session), so it stopped: the {counted(summary.stats.received, 'event')} "
                    "committed before are kept and nothing of the batch in progress was saved; sync again once "
                    "the database is back for the rest.") from exc
            summary.stats.add(stats)
            summary.pages += len(run.pages)
            summary.helper_runs = pages.decoded_runs
            if cursor is not None and cursor != acked:
                client.ack(cursor)
                acked = cursor
            done = summary.stats.received
            s = summary.stats
            note(done, max(total, done),
                 f"{done:,} events received: {s.citations:,} citations, {s.photos:,} photos, "
                 f"{s.quarantined:,} quarantined")
            if stuck is not None:
                raise CursorNotAdvancing(
                    f"The field endpoint at {ep.url} gave the cursor {stuck[:40]!r} a second time, so the sync "
                    f"stopped after {counted(summary.stats.received, 'event')} (all stored). Ask the fleet administrator "
                    "to check the endpoint.")
            if too_many:
                raise TooManyPages(
                    f"The sync stopped after {summary.pages:,} pages (sync.max_pages) with the endpoint still "
                    f"saying more wait; the {counted(summary.stats.received, 'event')} received are stored. Sync again "
                    "for the rest.")
            if not more:
                break
        if acked is not None and acked != ep.acked_cursor:
            _set_acked(app, actor, endpoint_id, acked)
        summary.recovered_photos = recover_missing_photos(app, actor, photos, cancelled)
        after = client.status()
        _record_status(app, actor, after, label)
        summary.pending_after = sum(d.pending_events or 0 for d in after.devices)
        if push:
            note(summary.stats.received, max(total, summary.stats.received), "Pushing reference data…")
            summary.reference = push_reference(app, actor, endpoint_id, client=client)
        _device_gap_summary(app, summary)
        _finish(app, actor, endpoint_id, summary.line())
        return summary
    except SyncCancelled as exc:
        exc.sync_summary = summary  # type: ignore[attr-defined]
        _finish(app, actor, endpoint_id, f"cancelled after {summary.stats.received:,} events "
                                         f"({summary.stats.citations:,} citations kept)")
        raise
    except UserError as exc:
        exc.sync_summary = summary  # type: ignore[attr-defined]
        _finish(app, actor, endpoint_id, f"failed: {' '.join(str(exc).split())}")
        raise
    finally:
        if checks is not None:
            _finish_checks(app, actor, checks)
        if pages is not None:
            pages.close()
        if photos is not None:
            photos.close()
        client.close()


def _finish_checks(app: AppContext, actor: Actor, checks: ChecksProcess) -> None:
    """The review checks of the batches still on their way written (also after a failure or a cancel: their
    citations are committed). A failure here loses no field data: the citations keep the warnings they were
    stored with, and Review checks each again when it is shown."""
    def write(fn: Callable[[Session], None]) -> None:
        with app.uow(actor) as uow:
            fn(uow.session)
            uow.commit()

    try:
        checks.finish(write)
    except Exception:  # noqa: BLE001 - said in the log; nothing of the sync is undone
        log.exception("writing the last review checks of the sync failed")


class DatabaseConnectionLost(UserError):
    """The database server ended the sync's session twice in one batch (restarted, or terminated it)."""


class CursorNotAdvancing(FieldEndpointError):
    """The endpoint gave a cursor it had given before: asking again would never end."""


class TooManyPages(FieldEndpointError):
    """The sync asked for as many pages as ``sync.max_pages`` allows."""


@dataclass(frozen=True)
class SyncLimits:
    """The limits a sync holds an endpoint to (settings ``sync.*``)."""

    request_seconds: float
    deadline_minutes: float
    max_page_bytes: int
    max_photo_bytes: int
    max_pages: int

    def client_options(self) -> dict[str, Any]:
        return {"deadline": self.request_seconds, "sync_deadline_at": time.time() + self.deadline_minutes * 60,
                "max_page_bytes": self.max_page_bytes, "max_photo_bytes": self.max_photo_bytes}


def _limits(app: AppContext) -> SyncLimits:
    mb = 1024 * 1024
    with app.db.reading() as s:
        def number(key: str) -> int:
            return max(1, int(settings_service.get(s, key)))

        return SyncLimits(float(number("sync.request_seconds")), float(number("sync.deadline_minutes")),
                          number("sync.max_page_mb") * mb, number("sync.max_photo_mb") * mb,
                          number("sync.max_pages"))


def _quarantine_refused_page(app: AppContext, actor: Actor, endpoint: str, cursor: str | None,
                             exc: AnswerTooLarge) -> None:
    """An event page refused for its size: its first bytes, how much arrived and the digest of those bytes
    go to the quarantine (once), never the page itself."""
    excerpt: bytes = getattr(exc, "excerpt", b"")
    reason = (f"event page after cursor {cursor!r} refused: larger than {exc.limit:,} bytes "
              f"({exc.received:,} bytes had arrived; the first {len(excerpt):,}, sha256 "
              f"{hashlib.sha256(excerpt).hexdigest()}, are kept here)")
    raw = excerpt.decode("utf-8", "replace")
    source = f"endpoint:{endpoint}"[:200]
    with app.uow(actor, Permission.SYNC_FIELD_DATA) as uow:
        s = uow.session
        if s.scalar(select(QuarantinedEvent.id).where(QuarantinedEvent.reason == reason,
                                                      QuarantinedEvent.source == source).limit(1)) is not None:
            return
        s.add(QuarantinedEvent(event_id=None, device_id=None, type="(event page)", reason=reason, raw=raw,
                               source=source, received_at=app.now(), status="open"))
        uow.audit("field_event.quarantined", "field_event", "(event page)", after={"source": source},
                  reason=reason)
        uow.commit()


def _device_gap_summary(app: AppContext, summary: SyncSummary) -> None:
    with app.db.reading() as s:
        for gaps in s.scalars(select(Device.seq_gaps)):
            summary.devices += 1
            if gaps:
                summary.devices_with_gaps += 1
                summary.missing_events += sum(int(b) - int(a) + 1 for a, b in gaps)


def _set_acked(app: AppContext, actor: Actor, endpoint_id: int, cursor: str) -> None:
    with app.uow(actor, Permission.SYNC_FIELD_DATA) as uow:
        row = uow.session.get(SyncEndpoint, endpoint_id)
        if row is not None:
            row.acked_cursor = cursor
            uow.commit()


def _finish(app: AppContext, actor: Actor, endpoint_id: int, result: str) -> None:
    try:
        with app.uow(actor, Permission.SYNC_FIELD_DATA) as uow:
            row = uow.session.get(SyncEndpoint, endpoint_id)
            if row is not None:
                row.last_sync_at = app.now()
                row.last_result = result[:2000]
                uow.audit("sync.finished", "sync_endpoint", endpoint_id, reason=result[:2000])
                uow.commit()
    except Exception:
        log.exception("could not record the sync result")


def _record_status(app: AppContext, actor: Actor, status: wire.EndpointStatus, label: str) -> None:
    """Devices as the endpoint reports them: officer, last seen, app version, pending events."""
    with app.uow(actor, Permission.SYNC_FIELD_DATA) as uow:
        s = uow.session
        for d in status.devices:
            if len(d.device_id) > 64:
                continue
            device = s.get(Device, d.device_id)
            if device is None:
                device = Device(device_id=d.device_id, seq_gaps=[], active=True)
                s.add(device)
            if d.officer_badge and len(d.officer_badge) <= 32:
                device.officer_badge = d.officer_badge
            if d.app_version and len(d.app_version) <= 32:
                device.app_version = d.app_version
            if d.last_seen_at is not None and (device.last_seen_at is None or d.last_seen_at > device.last_seen_at):
                device.last_seen_at = d.last_seen_at
            device.pending_events = d.pending_events
            device.endpoint_id = label[:100]
        uow.commit()


def recover_missing_photos(app: AppContext, actor: Actor, source: PhotoSource,
                           cancelled: Callable[[], bool] = lambda: False,
                           limit: int = MISSING_RETRY_LIMIT) -> int:
    """Ask the source again for photos recorded as missing (a few tries each); returns how many arrived."""
    with app.db.reading() as s:
        rows = s.execute(
            select(EvidencePhoto.sha256, EvidencePhoto.declared_bytes)
            .where(EvidencePhoto.integrity == PhotoIntegrity.MISSING.value, EvidencePhoto.attempts < 4)
            .distinct().limit(limit)).all()
    recovered = 0
    for sha, declared in rows:
        if cancelled():
            break
        try:
            outcome = source.fetch(sha, declared)
        except (EndpointUnavailable, FieldEndpointError):
            break
        with app.uow(actor, Permission.SYNC_FIELD_DATA) as uow:
            photos = list(uow.session.scalars(select(EvidencePhoto).where(
                EvidencePhoto.sha256 == sha, EvidencePhoto.integrity == PhotoIntegrity.MISSING.value)))
            for photo in photos:
                photo.attempts = (photo.attempts or 0) + max(outcome.attempts, 1)
                if outcome.integrity is PhotoIntegrity.MISSING:
                    continue
                photo.integrity = outcome.integrity.value
                photo.integrity_reason = outcome.reason
                photo.width, photo.height, photo.exif = outcome.width, outcome.height, outcome.exif
                photo.gps_lat, photo.gps_lon = outcome.gps_lat, outcome.gps_lon
                photo.verified_at = app.now() if outcome.verified else None
                uow.session.flush()
                case = photo.citation
                before = case.evidence_status
                case.evidence_status = evidence_status([PhotoIntegrity(p.integrity) for p in case.photos]).value
                uow.audit("citation.evidence_arrived", "citation", case.id,
                          before={"evidence_status": before, "photo": sha},
                          after={"evidence_status": case.evidence_status, "integrity": photo.integrity},
                          reason=outcome.reason)
                if outcome.verified:
                    recovered += 1
            uow.commit()
    return recovered
