"""Field sync use cases: endpoints, Sync now, reference data out, dock bundles, devices and the quarantine.

The GUI (Devices & Sync) and the command line (``sync``, ``import-bundle``,
``devices add``, ``export quarantine``) call these functions. Each checks the
acting user's permission; long work reports ``progress(done, total, text)`` and
stops when ``cancel`` says so, keeping everything committed so far (every batch of pages
is committed with its cursor before it is acknowledged).

Tokens are secrets: they live in the system keyring when there is one
(``keyring``), otherwise only in this process's memory, never in the database
or a file (:class:`TokenStore`).
"""

from __future__ import annotations

import csv
import hashlib
import ipaddress
import json
import logging
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desktop.domain.errors import NotFound, UserError
from desktop.domain.lifecycle import PhotoIntegrity, evidence_status
from desktop.domain.roles import Permission
from desktop.domain.wording import counted
from desktop.persistence.evidence import EvidenceStore
from desktop.persistence.models import (
    Citation,
    Device,
    EvidencePhoto,
    FieldEvent,
    HotlistEntry,
    ImportedBundle,
    Officer,
    Permit,
    QuarantinedEvent,
    Setting,
    SyncEndpoint,
    User,
    ViolationCode,
)
from desktop.services.core.context import Actor, AppContext, UnitOfWork
from desktop.services.sync.ingest import Ingestor, IngestStats, QuarantinedAgain, collector_paused
from desktop.services.sync.photo_sources import BundlePhotos, HttpPhotos, PhotoSource, StorePhotos
from desktop.sync import wire
from desktop.sync.bundle import read_bundle
from desktop.sync.client import (
    EndpointUnavailable,
    FieldClient,
    FieldEndpointError,
    ReferenceVersionConflict,
    SyncCancelled,
)
from desktop.sync.decoder import Decoder, Run, fetch_pages, picklable

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
BUNDLE_CHUNK = 500
REFERENCE_ORDER = ("violation-codes", "permits", "hotlist", "assignments")
MISSING_RETRY_LIMIT = 200


def _cancel_fn(cancel: CancelHook) -> Callable[[], bool]:
    if cancel is None:
        return lambda: False
    if isinstance(cancel, threading.Event):
        return cancel.is_set
    return cancel


def _no_progress(_done: int, _total: int, _text: str) -> None:
    return None


# --------------------------------------------------------------------------- tokens


class TokenStore:
    """Endpoint tokens: the system keyring where available, else this process's memory only.

    A token is never written to the database or to a file: without a keyring the
    user gives it again after each start (``--token`` on the command line).
    """

    SERVICE = "Curbdesk field sync"

    def __init__(self) -> None:
        self._session: dict[str, str] = {}
        self._lock = threading.Lock()
        self._probed = False
        self._cached: Any = None

    def _backend(self) -> Any:
        """The keyring backend, or None when this computer has no usable one (probed once)."""
        if self._probed:
            return self._cached
        try:
            import keyring
            from keyring.backends import fail

            backend: Any = keyring.get_keyring()
            if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 1) <= 0:
                backend = None
        except Exception:  # noqa: BLE001 - no usable keyring is an ordinary situation
            backend = None
        self._cached, self._probed = backend, True
        return backend

    def reset(self) -> None:
        """Forget the session tokens and probe the keyring again (tests, or after installing one)."""
        with self._lock:
            self._session.clear()
        self._probed = False

    def keyring_available(self) -> bool:
        return self._backend() is not None

    def where(self) -> str:
        return "the system keyring" if self.keyring_available() else "memory only, until Curbdesk closes"

    def get(self, url: str) -> str | None:
        with self._lock:
            if url in self._session:
                return self._session[url]
        backend = self._backend()
        if backend is None:
            return None
        try:
            value = backend.get_password(self.SERVICE, url)
        except Exception as exc:  # noqa: BLE001 - a locked or broken keyring: ask the user instead
            log.warning("keyring read failed: %s", exc)
            return None
        return value or None

    def remember(self, url: str, token: str, persist: bool = True) -> str:
        """Keep the token; returns 'keyring' or 'session' (where it went)."""
        with self._lock:
            self._session[url] = token
        backend = self._backend() if persist else None
        if backend is None:
            return "session"
        try:
            backend.set_password(self.SERVICE, url, token)
        except Exception as exc:  # noqa: BLE001
            log.warning("keyring write failed: %s", exc)
            return "session"
        return "keyring"

    def forget(self, url: str) -> None:
        with self._lock:
            self._session.pop(url, None)
        backend = self._backend()
        if backend is not None:
            try:
                backend.delete_password(self.SERVICE, url)
            except Exception as exc:  # noqa: BLE001 - nothing stored is fine
                log.debug("no token to forget for %s: %s", url, exc)

    def has(self, url: str) -> bool:
        return self.get(url) is not None


TOKENS = TokenStore()


# --------------------------------------------------------------------------- endpoints


@dataclass(frozen=True)
class EndpointRow:
    id: int
    name: str
    url: str
    ca_bundle: str | None
    auto_sync_minutes: int
    cursor: str | None
    acked_cursor: str | None
    last_sync_at: datetime | None
    last_result: str | None
    reference_versions: dict[str, Any]
    has_token: bool


def _endpoint_row(ep: SyncEndpoint, with_token: bool = True) -> EndpointRow:
    return EndpointRow(ep.id, ep.name, ep.url, ep.ca_bundle, ep.auto_sync_minutes or 0, ep.cursor, ep.acked_cursor,
                       ep.last_sync_at, ep.last_result, dict(ep.reference_versions or {}),
                       TOKENS.has(ep.url) if with_token else False)


def normalise_url(url: str) -> str:
    """Check an endpoint address: http(s), and plain http only on this computer (the protocol says so)."""
    url = (url or "").strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(f"'{url}' is not an endpoint address (expected https://host[:port]).")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise UserError(f"Plain http is only allowed on this computer (127.0.0.1 or localhost); "
                        f"use https for {parts.hostname}.")
    return url


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def list_endpoints(app: AppContext, actor: Actor) -> list[EndpointRow]:
    with app.reader(actor, Permission.SYNC_FIELD_DATA) as uow:
        return [_endpoint_row(ep) for ep in uow.session.scalars(select(SyncEndpoint).order_by(SyncEndpoint.name))]


def get_endpoint(app: AppContext, actor: Actor, endpoint_id: int, with_token: bool = False) -> EndpointRow:
    with app.reader(actor, Permission.SYNC_FIELD_DATA) as uow:
        ep = uow.session.get(SyncEndpoint, endpoint_id)
        if ep is None:
            raise NotFound(f"Field endpoint {endpoint_id} does not exist.")
        return _endpoint_row(ep, with_token)


def save_endpoint(app: AppContext, actor: Actor, endpoint_id: int | None, *, name: str, url: str,
                  ca_bundle: str | None = None, auto_sync_minutes: int = 0, token: str | None = None,
                  remember_token: bool = True) -> tuple[int, str | None]:
    """Add (``endpoint_id`` None) or change an endpoint. Returns its id and where the token went.

    Changing the address starts the new endpoint from its beginning (the old cursor
    and reference versions belonged to the old one); events already stored are
    recognised by their ids, so nothing is duplicated.
    """
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise UserError("Give the endpoint a name (at most 100 characters).")
    url = normalise_url(url)
    if ca_bundle:
        ca_bundle = ca_bundle.strip()
        if not Path(ca_bundle).is_file():
            raise UserError(f"The CA bundle {ca_bundle} does not exist.")
    else:
        ca_bundle = None
    if not 0 <= int(auto_sync_minutes) <= 24 * 60:
        raise UserError("Automatic sync is every 0 (off) to 1440 minutes.")
    with app.uow(actor, Permission.MANAGE_DEVICES) as uow:
        s = uow.session
        clash = s.scalar(select(SyncEndpoint.id).where(SyncEndpoint.name == name))
        if clash is not None and clash != endpoint_id:
            raise UserError(f"There is already an endpoint called {name}.")
        if endpoint_id is None:
            ep = SyncEndpoint(name=name, url=url, ca_bundle=ca_bundle, auto_sync_minutes=int(auto_sync_minutes),
                              reference_versions={})
            s.add(ep)
            s.flush()
            uow.audit("endpoint.added", "sync_endpoint", ep.id, after={"name": name, "url": url})
        else:
            found = s.get(SyncEndpoint, endpoint_id)
            if found is None:
                raise NotFound(f"Field endpoint {endpoint_id} does not exist.")
            ep = found
            before = {"name": ep.name, "url": ep.url, "ca_bundle": ep.ca_bundle,
                      "auto_sync_minutes": ep.auto_sync_minutes}
            if ep.url != url:
                TOKENS.forget(ep.url)
                ep.cursor = None
                ep.acked_cursor = None
                ep.reference_versions = {}
            ep.name, ep.url, ep.ca_bundle, ep.auto_sync_minutes = name, url, ca_bundle, int(auto_sync_minutes)
            uow.audit("endpoint.changed", "sync_endpoint", ep.id, before=before,
                      after={"name": name, "url": url, "ca_bundle": ca_bundle,
                             "auto_sync_minutes": int(auto_sync_minutes)})
        uow.commit()
        new_id = ep.id
    where = TOKENS.remember(url, token, remember_token) if token else None
    return new_id, where


def delete_endpoint(app: AppContext, actor: Actor, endpoint_id: int) -> None:
    with app.uow(actor, Permission.MANAGE_DEVICES) as uow:
        ep = uow.session.get(SyncEndpoint, endpoint_id)
        if ep is None:
            raise NotFound(f"Field endpoint {endpoint_id} does not exist.")
        uow.audit("endpoint.removed", "sync_endpoint", ep.id, before={"name": ep.name, "url": ep.url})
        url = ep.url
        uow.session.delete(ep)
        uow.commit()
    TOKENS.forget(url)


def endpoint_for_url(app: AppContext, actor: Actor, url: str, ca_bundle: str | None = None) -> int:
    """The endpoint with this address, registered on first use (the command line names endpoints by URL)."""
    url = normalise_url(url)
    with app.uow(actor, Permission.SYNC_FIELD_DATA) as uow:
        s = uow.session
        found = s.scalar(select(SyncEndpoint.id).where(SyncEndpoint.url == url))
        if found is not None:
            if ca_bundle:
                s.get(SyncEndpoint, found).ca_bundle = ca_bundle  # type: ignore[union-attr]
                uow.commit()
            return int(found)
        parts = urlsplit(url)
        base = (parts.netloc + parts.path)[:90]
        name, n = base, 1
        while s.scalar(select(SyncEndpoint.id).where(SyncEndpoint.name == name)) is not None:
            n += 1
            name = f"{base} ({n})"
        ep = SyncEndpoint(name=name, url=url, ca_bundle=ca_bundle, auto_sync_minutes=0, reference_versions={})
        s.add(ep)
        s.flush()
        uow.audit("endpoint.added", "sync_endpoint", ep.id, after={"name": name, "url": url},
                  reason="first sync from the command line")
        uow.commit()
        return int(ep.id)


# --------------------------------------------------------------------------- sync now


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


class _Pages:
    """Runs of event pages from the endpoint (up to ``run`` pages, one transaction's worth), the next run
    already requested while the current one is stored.

    By default one helper thread with its own HTTP session fetches them (never two requests at once on
    it). A large sync also has a :class:`~desktop.sync.decoder.Decoder`: once its process is ready it
    fetches the runs and prepares their events as well, on the second core; until then, and if it fails,
    the thread fetches them. An error of the first page of a run fetched ahead comes out when that run is
    asked for, exactly as if it had been fetched then; an error further into a run ends the run there, and
    comes out when the run that starts with that page is asked for.
    """

    def __init__(self, client: FieldClient, limit: int, run: int = 1, decoder: Decoder | None = None,
                 cancelled: Callable[[], bool] = lambda: False) -> None:
        self.client = client
        self.limit = limit
        self.run = max(1, run)
        self.decoder = decoder
        self.cancelled = cancelled
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="page-prefetch")
        #: the cursor asked for ahead, and the thread's future (None: the decoder's stream prepares it)
        self.pending: tuple[str | None, Future[Run] | None] | None = None
        self.decoded_runs = 0

    def prefetch(self, cursor: str | None) -> None:
        self._settle()
        if self.decoder is not None and self.decoder.ready():
            self.decoder.start(cursor)  # (a stream going on is already preparing it)
            self.pending = (cursor, None)
        else:
            self.pending = (cursor, self.pool.submit(self._fetch_run, cursor))

    def get(self, cursor: str | None) -> Run:
        if self.pending is not None and self.pending[0] == cursor and self.pending[1] is not None:
            future = self.pending[1]
            self.pending = None
            return future.result()
        self._settle()
        if self.decoder is not None and self.decoder.ready():
            with collector_paused():  # unpickling a run makes many objects (see there)
                run = self.decoder.get(cursor, self.cancelled)
            if run is not None:
                self.decoded_runs += 1
                return run
            self.decoder.close()
            self.decoder = None  # it failed (logged): fetch here from now on
        return self._fetch_run(cursor)

    def _fetch_run(self, cursor: str | None) -> Run:
        with collector_paused():  # decoding a run's events sets off no collection either (see there)
            pages = fetch_pages(self.client, cursor, self.limit, self.run)
            # prepared by the ingest, in the caller's thread (here they would take turns on the lock)
            return Run(pages, [event for page in pages for event in page.received()])

    def _settle(self) -> None:
        """Let a request still on its way finish (its answer is not wanted any more)."""
        if self.pending is not None:
            future = self.pending[1]
            self.pending = None
            if future is None:
                pass  # the decoder's stream: runs not wanted are dropped by the decoder
            elif not future.cancel():
                try:
                    future.result()
                except BaseException:  # noqa: BLE001 - an unwanted page's error does not matter
                    log.debug("an unused prefetched page failed", exc_info=True)

    def close(self) -> None:
        self._settle()
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.client.close()
        if self.decoder is not None:
            self.decoder.close()


def sync_now(app: AppContext, actor: Actor, endpoint_id: int, progress: Progress | None = None,
             cancel: CancelHook = None, *, token: str | None = None, page_limit: int = PAGE_LIMIT,
             push: bool = True, client_options: dict[str, Any] | None = None,
             review_checks: bool = True, commit_events: int | None = None,
             helper_process_from: int | None = HELPER_PROCESS_FROM) -> SyncSummary:
    """Pull every event the endpoint holds, a few pages at a time (each batch of whole pages, up to
    ``commit_events`` events, committed with its cursor, then acked), fetch and verify their photos,
    update the devices, then push reference data.

    ``commit_events`` defaults to :data:`COMMIT_EVENTS` for full-size pages; a smaller ``page_limit``
    (asked for on a slow link, or to see progress sooner) keeps one commit and one ack per page.

    ``review_checks`` runs the review checks on each page's new citations after its commit (the app
    always does; the ingest benchmark leaves them out and measures them on their own).

    ``helper_process_from``: with at least this many events waiting (as the endpoint's status says), pages
    are fetched and their events prepared on a helper process (None: never)."""
    note = progress or _no_progress
    cancelled = _cancel_fn(cancel)
    if commit_events is None:
        commit_events = COMMIT_EVENTS if page_limit >= PAGE_LIMIT else page_limit
    ep = get_endpoint(app, actor, endpoint_id)
    token = token or TOKENS.get(ep.url)
    if not token:
        raise UserError(f"No token for the endpoint {ep.name}: it is not in {TOKENS.where()}. "
                        "Enter it in Devices & Sync (or give --token on the command line).")
    options = dict(client_options or {})
    client = FieldClient(ep.url, token, ca_bundle=ep.ca_bundle, cancel=cancelled, **options)
    summary = SyncSummary(ep.name)
    store = EvidenceStore(app.paths.evidence_dir)
    photos: HttpPhotos | None = None
    pages: _Pages | None = None
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
        pages = _Pages(make_client(), page_limit, run=run_pages, decoder=decoder, cancelled=cancelled)
        ingestor = Ingestor(app, actor, f"endpoint:{ep.name}", photos, endpoint_label=label,
                            review_checks=review_checks)
        while True:
            if cancelled():
                raise SyncCancelled("Sync was cancelled.")
            try:
                run = pages.get(cursor)
            except FieldEndpointError as exc:
                if exc.status == 400 and cursor is not None and not summary.restarted_from_oldest:
                    # the endpoint no longer knows our cursor (it was reset): start from the oldest it holds;
                    # events already stored are recognised by their ids
                    log.warning("endpoint %s refused cursor %s; starting from the oldest event", ep.name, cursor)
                    cursor = None
                    summary.restarted_from_oldest = True
                    continue
                raise
            items = run.items
            for page in run.pages:
                cursor = page.next or cursor
            more = bool(run.pages[-1].more and run.pages[-1].next)
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

            stats = ingestor.ingest(items, on_commit=on_commit, progress=photo_progress, cancelled=cancelled)
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
        if pages is not None:
            pages.close()
        if photos is not None:
            photos.close()
        client.close()


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


# --------------------------------------------------------------------------- reference data out


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _permits(session: Session, now: datetime) -> list[dict[str, Any]]:
    items = []
    for p in session.scalars(select(Permit).where(Permit.status == "active", Permit.valid_to >= now)
                             .order_by(Permit.permit_number)):
        items.append({"permit_number": p.permit_number, "type": p.type,
                      "plates": [{"plate": pp.plate, "jurisdiction": pp.jurisdiction} for pp in p.plates],
                      "zones": list(p.zones or []), "valid_from": _iso(p.valid_from), "valid_to": _iso(p.valid_to)})
    return items


def _hotlist(session: Session, now: datetime) -> list[dict[str, Any]]:
    return [{"plate": h.plate, "jurisdiction": h.jurisdiction, "reason": h.reason, "since": _iso(h.since)}
            for h in session.scalars(select(HotlistEntry).where(HotlistEntry.active.is_(True))
                                     .order_by(HotlistEntry.plate, HotlistEntry.id))]


def _violation_codes(session: Session, now: datetime) -> list[dict[str, Any]]:
    today = now.date()
    return [{"code": v.code, "description": v.description, "fine_cents": v.fine_cents,
             "effective_from": _iso(v.effective_from)}
            for v in session.scalars(select(ViolationCode).where(
                (ViolationCode.effective_to.is_(None)) | (ViolationCode.effective_to >= today))
                .order_by(ViolationCode.code, ViolationCode.effective_from))]


def _assignments(session: Session, now: datetime) -> list[dict[str, Any]]:
    row = session.get(Setting, "patrol.assignments")
    value = row.value if row is not None else []
    items = []
    for a in value if isinstance(value, list) else []:
        if isinstance(a, dict) and a.get("officer_badge") and a.get("date"):
            items.append({"officer_badge": str(a["officer_badge"]), "date": str(a["date"]),
                          "zones": list(a.get("zones") or []), "priority": a.get("priority", 0)})
    return items


#: Where each kind of reference data comes from; another area (patrol planning) may replace a provider.
REFERENCE_PROVIDERS: dict[str, Callable[[Session, datetime], list[dict[str, Any]]]] = {
    "permits": _permits, "hotlist": _hotlist, "violation-codes": _violation_codes, "assignments": _assignments,
}


def reference_items(app: AppContext, kind: str) -> list[dict[str, Any]]:
    with app.db.reading() as s:
        return REFERENCE_PROVIDERS[kind](s, app.now())


def push_reference(app: AppContext, actor: Actor, endpoint_id: int, *, client: FieldClient | None = None,
                   token: str | None = None, kinds: tuple[str, ...] = REFERENCE_ORDER,
                   force: bool = False) -> dict[str, str]:
    """``PUT /v1/reference/<kind>`` for each kind whose content changed since the last push (all with ``force``).

    Versions only grow: each push is the last accepted version + 1. A ``409`` means
    the endpoint holds a version we did not know about: we push once more with its
    version + 1. Returns kind -> accepted version (as text) or 'unchanged'.
    """
    ep = get_endpoint(app, actor, endpoint_id)
    own_client = client is None
    if client is None:
        token = token or TOKENS.get(ep.url)
        if not token:
            raise UserError(f"No token for the endpoint {ep.name}.")
        client = FieldClient(ep.url, token, ca_bundle=ep.ca_bundle)
    results: dict[str, str] = {}
    try:
        for kind in kinds:
            items = reference_items(app, kind)
            digest = hashlib.sha256(json.dumps(items, sort_keys=True, separators=(",", ":"),
                                               ensure_ascii=False).encode("utf-8")).hexdigest()
            versions = get_endpoint(app, actor, endpoint_id).reference_versions
            found = versions.get(kind)
            held: dict[str, Any] = found if isinstance(found, dict) else {}
            if not force and held.get("digest") == digest:
                results[kind] = "unchanged"
                continue
            version = int(held.get("version", 0)) + 1
            try:
                accepted = client.put_reference(kind, version, items)
            except ReferenceVersionConflict as conflict:
                version = max(conflict.held_version or version, version) + 1
                accepted = client.put_reference(kind, version, items)
            with app.uow(actor, Permission.SYNC_FIELD_DATA) as uow:
                row = uow.session.get(SyncEndpoint, endpoint_id)
                if row is None:
                    raise NotFound(f"Field endpoint {endpoint_id} does not exist.")
                current = dict(row.reference_versions or {})
                current[kind] = {"version": accepted, "digest": digest, "items": len(items),
                                 "pushed_at": app.now().isoformat()}
                row.reference_versions = current
                uow.audit("reference.pushed", "sync_endpoint", endpoint_id,
                          after={"kind": kind, "version": accepted, "items": len(items)})
                uow.commit()
            results[kind] = str(accepted)
    finally:
        if own_client:
            client.close()
    return results


# --------------------------------------------------------------------------- devices


@dataclass(frozen=True)
class DeviceRow:
    device_id: str
    officer_badge: str | None
    officer_name: str | None
    last_seen_at: datetime | None
    last_seq: int | None
    gaps: list[list[int]]
    pending_events: int | None
    has_key: bool
    app_version: str | None
    endpoint_id: str | None

    @property
    def missing(self) -> int:
        return sum(int(b) - int(a) + 1 for a, b in self.gaps)

    def gaps_text(self, limit: int = 3) -> str:
        if not self.gaps:
            return ""
        parts = [f"{a}" if a == b else f"{a}–{b}" for a, b in self.gaps[:limit]]
        more = f" +{len(self.gaps) - limit} more" if len(self.gaps) > limit else ""
        return f"{self.missing} missing: " + ", ".join(parts) + more


def list_devices(app: AppContext, actor: Actor) -> list[DeviceRow]:
    with app.reader(actor, Permission.SYNC_FIELD_DATA) as uow:
        rows = uow.session.execute(
            select(Device, Officer.name).outerjoin(Officer, Officer.badge == Device.officer_badge)
            .order_by(Device.device_id)).all()
        return [DeviceRow(d.device_id, d.officer_badge, name, d.last_seen_at, d.last_seq,
                          [list(g) for g in d.seq_gaps or []], d.pending_events, bool(d.public_key),
                          d.app_version, d.endpoint_id) for d, name in rows]


def register_device(app: AppContext, actor: Actor, device_id: str, public_key_b64: str,
                    officer_badge: str | None = None) -> str:
    """Register a handheld's Ed25519 key; from now on its unsigned or wrongly signed events are quarantined.

    Returns the key's fingerprint (first 16 hex digits of the SHA-256 of the raw key).
    """
    device_id = (device_id or "").strip()
    if not device_id or len(device_id) > 64:
        raise UserError("A device id is 1 to 64 characters (e.g. HH-0042).")
    key = wire.load_public_key(public_key_b64)
    canonical = wire.public_key_b64(key)
    fingerprint = hashlib.sha256(canonical.encode("ascii")).hexdigest()[:16]
    if officer_badge is not None and (not officer_badge.strip() or len(officer_badge) > 32):
        raise UserError("An officer badge is 1 to 32 characters.")
    with app.uow(actor, Permission.MANAGE_DEVICES) as uow:
        s = uow.session
        device = s.get(Device, device_id)
        before = None
        if device is None:
            device = Device(device_id=device_id, seq_gaps=[], active=True)
            s.add(device)
        else:
            before = {"key": hashlib.sha256(device.public_key.encode("ascii")).hexdigest()[:16]
                      if device.public_key else None, "officer_badge": device.officer_badge}
        device.public_key = canonical
        if officer_badge is not None:
            device.officer_badge = officer_badge.strip()
        uow.audit("device.key_registered", "device", device_id, before=before,
                  after={"key": fingerprint, "officer_badge": device.officer_badge})
        uow.commit()
    return fingerprint


# --------------------------------------------------------------------------- the quarantine


@dataclass(frozen=True)
class QuarantineRow:
    id: int
    received_at: datetime
    event_id: str | None
    device_id: str | None
    type: str | None
    reason: str
    status: str
    source: str
    resolved_by: str | None
    resolved_at: datetime | None
    resolution: str | None


def list_quarantine(app: AppContext, actor: Actor, status: str | None = "open",
                    limit: int = 5000) -> list[QuarantineRow]:
    with app.reader(actor, Permission.SYNC_FIELD_DATA) as uow:
        q = (select(QuarantinedEvent, User.username).outerjoin(User, User.id == QuarantinedEvent.resolved_by)
             .order_by(QuarantinedEvent.id.desc()).limit(limit))
        if status:
            q = q.where(QuarantinedEvent.status == status)
        return [QuarantineRow(e.id, e.received_at, e.event_id, e.device_id, e.type, e.reason, e.status, e.source,
                              who, e.resolved_at, e.resolution) for e, who in uow.session.execute(q).all()]


def count_open_quarantine(app: AppContext, actor: Actor) -> int:
    with app.reader(actor, Permission.SYNC_FIELD_DATA) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(QuarantinedEvent)
                                      .where(QuarantinedEvent.status == "open")) or 0)


def quarantine_raw(app: AppContext, actor: Actor, quarantine_id: int, pretty: bool = True) -> str:
    """The event as received (pretty-printed when it is readable JSON)."""
    with app.reader(actor, Permission.SYNC_FIELD_DATA) as uow:
        row = uow.session.get(QuarantinedEvent, quarantine_id)
        if row is None:
            raise NotFound(f"Quarantined event {quarantine_id} does not exist.")
        raw = row.raw
    if pretty:
        try:
            return json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
        except (ValueError, RecursionError):
            return raw
    return raw


def _open_row(uow: UnitOfWork, quarantine_id: int) -> QuarantinedEvent:
    row = uow.session.get(QuarantinedEvent, quarantine_id, with_for_update=True)
    if row is None:
        raise NotFound(f"Quarantined event {quarantine_id} does not exist.")
    if row.status != "open":
        raise UserError(f"Quarantined event {quarantine_id} was already {row.status}.")
    return row


def discard_quarantined(app: AppContext, actor: Actor, quarantine_id: int, reason: str) -> None:
    """A supervisor decides the event is of no use; it stays on record (nothing is deleted)."""
    reason = (reason or "").strip()
    if not reason:
        raise UserError("Give a reason for discarding the event.")
    with app.uow(actor, Permission.RESOLVE_QUARANTINE) as uow:
        row = _open_row(uow, quarantine_id)
        row.status = "discarded"
        row.resolved_by = actor.user_id
        row.resolved_at = app.now()
        row.resolution = reason
        uow.audit("quarantine.discarded", "field_event", row.event_id or f"quarantine:{row.id}",
                  before={"status": "open", "reason": row.reason}, after={"status": "discarded"}, reason=reason)
        uow.commit()


def resubmit_quarantined(app: AppContext, actor: Actor, quarantine_id: int, corrected: str,
                         note: str | None = None) -> IngestStats:
    """Run a corrected event through the pipeline. It is applied whole or not at all: if it still
    fails, nothing changes and the reason is shown. A re-submitted event is the supervisor's word,
    so the device signature (which a correction necessarily breaks) is not asked for."""
    with app.reader(actor, Permission.RESOLVE_QUARANTINE) as uow:
        row = uow.session.get(QuarantinedEvent, quarantine_id)
        if row is None:
            raise NotFound(f"Quarantined event {quarantine_id} does not exist.")
        if row.status != "open":
            raise UserError(f"Quarantined event {quarantine_id} was already {row.status}.")
        original_event_id = row.event_id
    if not (corrected or "").strip():
        raise UserError("The corrected event is empty.")

    def resolve(uow: UnitOfWork, stats: IngestStats) -> None:
        q = _open_row(uow, quarantine_id)
        if stats.events == 0:
            raise UserError("An event with that event_id is already stored: nothing new would be applied. "
                            "Discard this one instead, or give the corrected event a new event_id.")
        q.status = "resubmitted"
        q.resolved_by = actor.user_id
        q.resolved_at = app.now()
        q.resolution = (note or "re-submitted with corrections").strip()
        uow.audit("quarantine.resubmitted", "field_event", q.event_id or f"quarantine:{q.id}",
                  before={"status": "open", "reason": q.reason},
                  after={"status": "resubmitted", "citations": stats.citations, "duplicates": stats.duplicates},
                  reason=q.resolution)

    ingestor = Ingestor(app, actor, f"resubmitted:quarantine {quarantine_id}",
                        StorePhotos(EvidenceStore(app.paths.evidence_dir), "not received before the re-submission"),
                        permission=Permission.RESOLVE_QUARANTINE)
    try:
        return ingestor.resubmit(corrected, original_event_id, resolve)
    except QuarantinedAgain as exc:
        raise UserError(f"The corrected event is still not acceptable: {exc}") from None


QUARANTINE_COLUMNS = ["event_id", "device_id", "type", "reason", "received_at", "status", "source",
                      "resolved_by", "resolved_at", "resolution"]


def export_quarantine(app: AppContext, actor: Actor, out: Path) -> int:
    """The quarantine as CSV (every status), written to a temporary file and renamed when complete."""
    out = Path(out)
    tmp = out.with_name(out.name + ".partial")
    with app.reader(actor, Permission.EXPORT_DATA) as uow:
        rows = uow.session.execute(
            select(QuarantinedEvent, User.username).outerjoin(User, User.id == QuarantinedEvent.resolved_by)
            .order_by(QuarantinedEvent.id)).all()
        try:
            with tmp.open("w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh)
                w.writerow(QUARANTINE_COLUMNS)
                for e, who in rows:
                    w.writerow([e.event_id or "", e.device_id or "", e.type or "", e.reason,
                                e.received_at.isoformat(), e.status, e.source, who or "",
                                e.resolved_at.isoformat() if e.resolved_at else "", e.resolution or ""])
            tmp.replace(out)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise UserError(f"Cannot write {out}: {exc.strerror}.") from exc
    return len(rows)


# --------------------------------------------------------------------------- dock bundles


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
    note = progress or _no_progress
    cancelled = _cancel_fn(cancel)
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
            from desktop.services.sync.photo_sources import PhotoOutcome

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
    from desktop.sync.bundle import BundleRejected

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


@dataclass(frozen=True)
class SkippedEventRow:
    """An event of a type this office does not know: kept as received and shown, not applied."""

    event_id: str
    received_at: datetime
    device_id: str
    seq: int | None
    type: str
    source: str


def list_skipped_events(app: AppContext, actor: Actor, limit: int = 2000) -> list[SkippedEventRow]:
    with app.reader(actor, Permission.SYNC_FIELD_DATA) as uow:
        return [SkippedEventRow(e.event_id, e.received_at, e.device_id, e.seq, e.type, e.source)
                for e in uow.session.scalars(select(FieldEvent).where(FieldEvent.outcome == "skipped")
                                             .order_by(FieldEvent.received_at.desc()).limit(limit))]


def field_event_raw(app: AppContext, actor: Actor, event_id: str) -> str:
    """A stored field event as received, pretty-printed."""
    with app.reader(actor, Permission.SYNC_FIELD_DATA) as uow:
        row = uow.session.get(FieldEvent, event_id)
        if row is None:
            raise NotFound(f"Field event {event_id} does not exist.")
        raw = row.raw
    try:
        return json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        return raw


def field_event_counts(app: AppContext, actor: Actor) -> dict[str, int]:
    """How many field events of each outcome are stored (for the screen's header)."""
    with app.reader(actor, Permission.SYNC_FIELD_DATA) as uow:
        return {outcome: int(n) for outcome, n in uow.session.execute(
            select(FieldEvent.outcome, func.count()).group_by(FieldEvent.outcome))}


def citations_from_field(app: AppContext) -> int:
    with app.db.reading() as s:
        return int(s.scalar(select(func.count()).select_from(Citation).where(Citation.source_event_id.is_not(None)))
                   or 0)


__all__ = [
    "TOKENS",
    "SyncSummary",
    "TokenStore",
    "discard_quarantined",
    "endpoint_for_url",
    "export_quarantine",
    "import_bundle",
    "list_devices",
    "list_endpoints",
    "list_quarantine",
    "push_reference",
    "register_device",
    "resubmit_quarantined",
    "save_endpoint",
    "scan_drop_folder",
    "sync_now",
]
