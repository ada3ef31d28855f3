"""The sync client against a hostile or broken endpoint (a small misbehaving HTTP server on 127.0.0.1), and
dock bundles that should not be trusted: issue 14, finding 8.

Each attack ends with one sentence a clerk can act on, within the limits the settings declare, keeping what
was committed: a server dripping a byte at a time, an endless ``more: true``, a cursor that does not move,
an oversized page (memory measured with tracemalloc), JSON nested 100,000 deep (sync, zones, profiles), a
redirect to another host, a bundle of a device never registered, a bundle with one damaged photo.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from desktop.domain.errors import UserError
from desktop.domain.roles import Role
from desktop.persistence.evidence import EvidenceStore
from desktop.persistence.models import Citation, Device, FieldEvent, QuarantinedEvent
from desktop.services import sync as sync_service
from desktop.services.admin.profiles import validate_definition
from desktop.services.core import settings as settings_service
from desktop.services.core.context import AppContext
from desktop.services.review.zone_imports import import_zones
from desktop.sync.bundle import write_bundle
from desktop.sync.client import AnswerTooLarge, FieldClient, RedirectRefused
from tests.helpers.ingest_helpers import SYSTEM, counts, sync
from tests.helpers.sync_helpers import valid_event

DEEP = 100_000


# --------------------------------------------------------------------------- a misbehaving endpoint


class Hostile:
    """What the server does for ``GET /v1/events`` (``events``), and what it saw."""

    def __init__(self) -> None:
        self.events: Callable[[BaseHTTPRequestHandler, dict[str, str]], None] = _page([], None, False)
        self.status: Callable[[BaseHTTPRequestHandler], None] | None = None
        self.requests: list[str] = []
        self.stop = threading.Event()


def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    handler.end_headers()
    handler.wfile.write(body)


def _page(events: list[Any], next_cursor: str | None, more: bool) -> Callable[..., None]:
    def answer(handler: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        _send(handler, 200, json.dumps({"events": events, "next": next_cursor, "more": more}).encode())
    return answer


@pytest.fixture
def hostile() -> Iterator[tuple[Hostile, str]]:
    state = Hostile()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            state.requests.append(self.path)
            path, _, query = self.path.partition("?")
            params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
            if path == "/v1/status":
                if state.status is not None:
                    state.status(self)
                else:
                    _send(self, 200, json.dumps({"protocol": 1, "endpoint_id": "HOSTILE", "devices": []}).encode())
            elif path == "/v1/events":
                state.events(self, params)
            else:
                _send(self, 404, b'{"error": "not_found"}')

        def do_POST(self) -> None:
            state.requests.append(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        state.stop.set()
        server.shutdown()
        server.server_close()


def _sync(app: AppContext, url: str, **options: Any) -> sync_service.SyncSummary:
    endpoint_id, _ = sync_service.save_endpoint(app, SYSTEM, None, name="Hostile", url=url)
    options.setdefault("sleep", lambda _s: None)
    return sync_service.sync_now(app, SYSTEM, endpoint_id, token="t", push=False, client_options=options,
                                 helper_process_from=None)


def _one_sentence(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and "Traceback" not in text and text.endswith("."), text
    return text


# --------------------------------------------------------------------------- deadlines


def test_a_server_dripping_a_byte_at_a_time_is_cut_off_at_the_request_deadline(
        app: AppContext, hostile: tuple[Hostile, str]) -> None:
    state, url = hostile

    def drip(handler: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", "100000")
        handler.end_headers()
        try:
            for _ in range(60):  # a byte every 0.25 s for 15 s: each read well inside the read timeout
                handler.wfile.write(b" ")
                handler.wfile.flush()
                if state.stop.wait(0.25):
                    return
        except OSError:
            return

    state.events = drip
    started = time.monotonic()
    with pytest.raises(UserError) as caught:
        _sync(app, url, deadline=1.0, max_retries=1, timeout=(5, 30))
    elapsed = time.monotonic() - started
    assert elapsed < 6, f"the sync took {elapsed:.1f} s"
    assert "did not answer properly after 2 attempts (last: no complete answer within 1 s)" in _one_sentence(
        caught.value)


def test_the_whole_sync_ends_at_its_deadline_with_one_sentence(app: AppContext, hostile: tuple[Hostile, str]) -> None:
    state, url = hostile
    cursor = iter(range(10**9))

    def slow_pages(handler: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        state.stop.wait(0.3)  # each page is quick enough, the whole is not
        _page([], f"c{next(cursor)}", True)(handler, query)

    state.events = slow_pages
    started = time.monotonic()
    with pytest.raises(UserError) as caught:
        _sync(app, url, sync_deadline_at=time.time() + 2.0)
    assert time.monotonic() - started < 6
    text = _one_sentence(caught.value)
    assert "past its time limit" in text and "sync.deadline_minutes" in text


# --------------------------------------------------------------------------- pages


def test_endless_more_ends_at_the_page_limit(app: AppContext, hostile: tuple[Hostile, str]) -> None:
    state, url = hostile
    counter = iter(range(10**9))
    event = valid_event(event_id="endless-1", seq=1)

    def endless(handler: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        n = next(counter)
        _page([event] if n == 0 else [], f"c{n + 1}", True)(handler, query)

    state.events = endless
    settings_service.set_value(app, SYSTEM, "sync.max_pages", 20)
    with pytest.raises(UserError) as caught:
        _sync(app, url)
    text = _one_sentence(caught.value)
    assert "stopped after 20 pages (sync.max_pages)" in text
    assert sum(1 for r in state.requests if r.startswith("/v1/events")) <= 21
    assert counts(app)["citations"] == 1  # what arrived is kept (committed and acknowledged)
    with app.db.reading() as s:
        assert s.scalar(select(Citation.citation_number)) == event["payload"]["citation_number"]


def test_a_cursor_that_does_not_advance_ends_the_sync(app: AppContext, hostile: tuple[Hostile, str]) -> None:
    state, url = hostile
    event = valid_event(event_id="stuck-1", seq=1)
    state.events = _page([event], "same", True)
    with pytest.raises(UserError) as caught:
        _sync(app, url)
    text = _one_sentence(caught.value)
    assert "gave the cursor 'same' a second time" in text and "after 2 events (all stored)" in text
    assert sum(1 for r in state.requests if r.startswith("/v1/events")) <= 3
    assert counts(app)["citations"] == 1


def test_an_oversized_page_is_refused_as_it_arrives(app: AppContext, hostile: tuple[Hostile, str]) -> None:
    state, url = hostile
    size = 40 * 1024 * 1024

    def huge(handler: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Connection", "close")  # no length: the client cannot refuse it up front
        handler.end_headers()
        handler.wfile.write(b'{"events": [{"junk": "')
        chunk = b"x" * (1024 * 1024)
        try:
            for _ in range(size // len(chunk)):
                handler.wfile.write(chunk)
        except OSError:
            return  # the client hung up: what it should do
        handler.wfile.write(b'"}], "next": "n", "more": false}')
        handler.close_connection = True

    state.events = huge
    settings_service.set_value(app, SYSTEM, "sync.max_page_mb", 2)
    before = app.paths.data_dir.joinpath("curbdesk.sqlite3")
    db_size = before.stat().st_size if before.exists() else 0
    tracemalloc.start()
    try:
        with pytest.raises(AnswerTooLarge) as caught:
            _sync(app, url, max_retries=0)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 12 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB while refusing a 40 MB page"
    assert "larger than 2 MB" in _one_sentence(caught.value)
    with app.db.reading() as s:
        row = s.scalar(select(QuarantinedEvent).where(QuarantinedEvent.type == "(event page)"))
        assert row is not None and len(row.raw) <= 4096 and "sha256" in row.reason
    if db_size:
        assert before.stat().st_size - db_size < 1024 * 1024


def test_an_oversized_photo_fails_integrity_without_being_held_whole(tmp_path: Path,
                                                                     hostile: tuple[Hostile, str]) -> None:
    state, url = hostile
    client = FieldClient(url, "t", max_photo_bytes=64 * 1024, max_retries=0)

    def big_photo(handler: BaseHTTPRequestHandler) -> None:
        _send(handler, 200, b"\xff" * (1024 * 1024))

    state.status = big_photo  # (any path will do for the client call below)
    client._url = lambda path: f"{url}/v1/status"  # type: ignore[method-assign]
    with pytest.raises(AnswerTooLarge, match="larger than 65,536 bytes"):
        client.photo("a" * 64, tmp_path / "p.jpg")
    assert not list(tmp_path.iterdir())


# --------------------------------------------------------------------------- JSON nested too deeply


def test_a_deeply_nested_page_is_refused_with_one_sentence(app: AppContext, hostile: tuple[Hostile, str]) -> None:
    state, url = hostile
    body = b'{"events": [' + b"[" * DEEP + b"]" * DEEP + b'], "next": "n", "more": false}'

    def deep(handler: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        _send(handler, 200, body)

    state.events = deep
    with pytest.raises(UserError) as caught:
        _sync(app, url)
    assert "nested more than 64 levels deep" in _one_sentence(caught.value)


def test_a_deeply_nested_zone_file_and_profile_are_refused(app: AppContext, tmp_path: Path) -> None:
    path = tmp_path / "zones.geojson"
    path.write_text('{"type": "FeatureCollection", "features": ' + "[" * DEEP + "]" * DEEP + "}")
    with pytest.raises(UserError) as caught:
        import_zones(app, SYSTEM, path)
    assert "more than 64 levels deep" in _one_sentence(caught.value)
    with pytest.raises(UserError) as caught:
        validate_definition('{"code": "CA", "stages": ' + "[" * DEEP + "]" * DEEP + "}")
    assert "more than 64 levels deep" in _one_sentence(caught.value)


# --------------------------------------------------------------------------- redirects


def test_a_redirect_to_another_host_is_refused(app: AppContext, hostile: tuple[Hostile, str]) -> None:
    state, url = hostile
    elsewhere: list[str] = []

    class Elsewhere(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            elsewhere.append(self.path)
            _send(self, 200, json.dumps({"protocol": 1, "devices": []}).encode())

    other = ThreadingHTTPServer(("127.0.0.1", 0), Elsewhere)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        target = f"http://localhost:{other.server_address[1]}/v1/status"
        state.status = lambda handler: _send(handler, 302, b"", {"Location": target})
        with pytest.raises(RedirectRefused) as caught:
            _sync(app, url)
        assert "redirected the request to localhost:" in _one_sentence(caught.value)
        assert elsewhere == []
    finally:
        other.shutdown()
        other.server_close()


# --------------------------------------------------------------------------- dock bundles


def _photo(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), colour).save(out, "JPEG")
    return out.getvalue()


def _citation(n: int, photo: bytes, device: str) -> dict[str, Any]:
    event = valid_event(event_id=f"h-{device}-{n}", device_id=device, seq=n)
    event["payload"]["citation_number"] = f"{device.replace('-', '')}-H{n:05d}"
    event["payload"]["photos"] = [{"sha256": hashlib.sha256(photo).hexdigest(), "bytes": len(photo),
                                   "caption": "plate", "taken_at": "2026-11-24T09:14:51-08:00"}]
    return event


def test_a_bundle_of_an_unregistered_device_is_held_until_a_supervisor_accepts_it(
        app: AppContext, actors: dict[Role, Any], tmp_path: Path) -> None:
    photo = _photo((200, 10, 10))
    sha = hashlib.sha256(photo).hexdigest()
    path = write_bundle(tmp_path, "HH-0099", [_citation(1, photo, "HH-0099")], {sha: photo})
    before = counts(app)
    result = sync_service.import_bundle(app, SYSTEM, path)
    assert result.held and "held, nothing stored: device HH-0099 is not registered" in result.line()
    assert counts(app) == before
    store = EvidenceStore(app.paths.evidence_dir)
    with app.db.reading() as s:
        assert s.get(Device, "HH-0099") is None
    assert not store.has(sha)
    held = sync_service.list_held_bundles(app, SYSTEM)
    assert [(h.name, h.device_id) for h in held] == [(path.name, "HH-0099")]
    # a clerk may not accept it (accepting registers a device)
    with pytest.raises(UserError):
        sync_service.accept_held_bundle(app, actors[Role.CLERK], path.name)
    accepted = sync_service.accept_held_bundle(app, actors[Role.SUPERVISOR], path.name)
    assert accepted.stats.citations == 1 and accepted.stats.photos == 1
    with app.db.reading() as s:
        assert s.get(Device, "HH-0099") is not None
    assert store.has(sha)
    assert sync_service.list_held_bundles(app, SYSTEM) == []


def test_a_bundle_of_an_unregistered_device_is_refused_by_the_setting(app: AppContext, tmp_path: Path) -> None:
    settings_service.set_value(app, SYSTEM, "sync.unregistered_devices", "refuse")
    photo = _photo((10, 10, 200))
    path = write_bundle(tmp_path, "HH-0098", [_citation(1, photo, "HH-0098")],
                        {hashlib.sha256(photo).hexdigest(): photo})
    before = counts(app)
    with pytest.raises(sync_service.DeviceNotRegistered) as caught:
        sync_service.import_bundle(app, SYSTEM, path)
    assert "device HH-0098 is not registered" in _one_sentence(caught.value)
    assert counts(app) == before
    with app.db.reading() as s:
        assert s.get(Device, "HH-0098") is None


def test_one_damaged_photo_flags_its_citation_and_the_rest_is_imported(app: AppContext, tmp_path: Path) -> None:
    good, damaged = _photo((20, 200, 20)), _photo((20, 20, 200))
    named = hashlib.sha256(damaged).hexdigest()
    photos = {hashlib.sha256(good).hexdigest(): good, named: damaged[:-40] + b"\x00" * 40}
    events = [_citation(1, good, "HH-0042"), _citation(2, damaged, "HH-0042")]
    sync_service.add_device(app, SYSTEM, "HH-0042")
    result = sync_service.import_bundle(app, SYSTEM, write_bundle(tmp_path, "HH-0042", events, photos))
    assert result.stats.citations == 2 and result.stats.photos == 1 and result.stats.photos_failed == 1
    with app.db.reading() as s:
        status = dict(s.execute(select(Citation.citation_number, Citation.evidence_status)).all())
    assert status == {"HH0042-H00001": "ok", "HH0042-H00002": "integrity_failed"}
    assert not EvidenceStore(app.paths.evidence_dir).has(named)


# --------------------------------------------------------------------------- quarantined events' photos


def test_photos_of_quarantined_events_are_not_evidence(app: AppContext, simulator_factory: Any) -> None:
    sim = simulator_factory(citations=12, devices=2, sign_events=True, forged_signatures=3, seed=4)
    for device_id, key in sim.device_keys.items():
        sync_service.register_device(app, SYSTEM, device_id, key)
    sync(app, sim)
    store = EvidenceStore(app.paths.evidence_dir)
    with app.db.reading() as s:
        forged = {e.event_id for e in s.scalars(select(FieldEvent).where(FieldEvent.outcome == "quarantined"))}
        stored = set(s.scalars(select(Citation.source_event_id)))
    assert forged
    forged_photos = {ph["sha256"] for e in sim.all_events if isinstance(e, dict) and e.get("event_id") in forged
                     for ph in e.get("payload", {}).get("photos", [])}
    good_photos = {ph["sha256"] for e in sim.all_events if isinstance(e, dict) and e.get("event_id") in stored
                   for ph in e.get("payload", {}).get("photos", [])}
    only_forged = forged_photos - good_photos
    assert only_forged
    assert not any(store.has(sha) for sha in only_forged)
    held = app.paths.data_dir / "quarantine-photos"
    assert {p.name.removesuffix(".held") for p in held.glob("*.held")} >= only_forged
