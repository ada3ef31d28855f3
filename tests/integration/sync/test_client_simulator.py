"""The real FieldClient against the real FieldSimulator over HTTP on 127.0.0.1, one fault at a time."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from desktop.demo.simulator import FieldSimulator
from desktop.domain.errors import UserError
from desktop.persistence.evidence import verify_photo
from desktop.sync.client import (
    AuthenticationFailed,
    EndpointUnavailable,
    FieldClient,
    PhotoNotFound,
    ReferenceVersionConflict,
    SyncCancelled,
)
from desktop.sync.wire import CitationIssued, ParsedEvent, Rejected, parse_envelope, verify_signature
from tests.helpers.sync_helpers import RecordingSleep, client_for

Factory = Callable[..., FieldSimulator]


def _pull_all(client: FieldClient, limit: int = 500) -> tuple[list[Any], str | None]:
    events: list[Any] = []
    cursor = None
    for page in client.iter_pages(limit=limit):
        events.extend(page.events)
        cursor = page.next
    return events, cursor


def _ids(events: list[Any]) -> set[str]:
    return {e["event_id"] for e in events if isinstance(e, dict)}


def test_clean_pull_gets_every_event_then_ack_empties_the_endpoint(simulator_factory: Factory) -> None:
    sim = simulator_factory(citations=30)
    with client_for(sim) as client:
        status = client.status()
        assert [d.device_id for d in status.devices] == ["HH-0001", "HH-0002", "HH-0003"]
        assert sum(d.pending_events or 0 for d in status.devices) == len(sim.held_events)
        events, cursor = _pull_all(client, limit=7)
        assert events == sim.held_events
        assert cursor is not None
        client.ack(cursor)
        assert sim.acked_cursor == cursor and sim.held_events == []
        assert client.events(None, 10).events == []
        assert sum(d.pending_events or 0 for d in client.status().devices) == 0


def test_dropped_connection_is_retried(simulator_factory: Factory) -> None:
    sim = simulator_factory()
    sim.queue_fault("drop", count=2, path_prefix="/v1/events")
    sleep = RecordingSleep()
    with client_for(sim, sleep=sleep) as client:
        page = client.events(None, 500)
    assert _ids(page.events) == _ids(sim.held_events)
    assert sleep.delays == [0.5, 1.0]
    assert [r.fault for r in sim.requests] == ["drop", "drop", None]


def test_429_honours_retry_after_capped(simulator_factory: Factory) -> None:
    sim = simulator_factory(retry_after_seconds=7)
    sim.queue_fault("429", path_prefix="/v1/status")
    sleep = RecordingSleep()
    with client_for(sim, sleep=sleep) as client:
        assert client.status().protocol == 1
    assert sleep.delays == [7.0]

    sim.faults.retry_after_seconds = 3600
    sim.queue_fault("429", path_prefix="/v1/status")
    capped = RecordingSleep()
    with client_for(sim, sleep=capped, max_retry_after=60) as client:
        client.status()
    assert capped.delays == [60.0]


def test_503_backs_off_exponentially_then_gives_up_with_a_user_error(simulator_factory: Factory) -> None:
    sim = simulator_factory()
    sim.queue_fault("503", count=3, path_prefix="/v1/events")
    sleep = RecordingSleep()
    with client_for(sim, sleep=sleep, backoff=0.25) as client:
        client.events(None, 5)
    assert sleep.delays == [0.25, 0.5, 1.0]

    sim.queue_fault("503", count=10, path_prefix="/v1/events")
    with client_for(sim, max_retries=2) as client, pytest.raises(EndpointUnavailable) as caught:
        client.events(None, 5)
    assert client.attempts == 3
    message = str(caught.value)
    assert sim.base_url in message and "503" in message and "\n" not in message
    assert isinstance(caught.value, UserError)


def test_401_is_not_retried_and_says_what_to_do(simulator_factory: Factory) -> None:
    sim = simulator_factory()
    sleep = RecordingSleep()
    with FieldClient(sim.base_url, "wrong-token", sleep=sleep) as client, pytest.raises(AuthenticationFailed) as caught:
        client.events(None, 10)
    assert str(caught.value) == (
        f"The field endpoint at {sim.base_url} refused the token (401). Check the token in Devices & Sync."
    )
    assert client.attempts == 1 and sleep.delays == []
    assert isinstance(caught.value, UserError)


def test_photo_download_resumes_with_range_after_a_drop(simulator_factory: Factory, tmp_path: Path) -> None:
    sim = simulator_factory(photo_size=(640, 480))
    sha = max(sim.photos, key=lambda s: len(sim.photos[s]))
    sim.queue_fault("drop", path_prefix="/v1/photos/")
    with client_for(sim) as client:
        result = client.photo(sha, tmp_path / f"{sha}.jpg")
    assert result.sha256 == sha and result.path.read_bytes() == sim.photos[sha]
    assert len(result.resumed_from) == 1 and 0 < result.resumed_from[0] < len(sim.photos[sha])
    assert [r.status for r in sim.requests] == [200, 206]
    assert not (tmp_path / f"{sha}.jpg.part").exists()


def test_photo_download_restarts_when_the_server_ignores_range(simulator_factory: Factory, tmp_path: Path) -> None:
    sim = simulator_factory(ignore_range=True)
    sha = next(iter(sim.photos))
    sim.queue_fault("drop", path_prefix="/v1/photos/")
    with client_for(sim) as client:
        result = client.photo(sha, tmp_path / "p.jpg")
    assert result.sha256 == sha and result.size == len(sim.photos[sha])
    assert [r.status for r in sim.requests] == [200, 200]


def test_missing_photo_is_a_user_error(simulator_factory: Factory, tmp_path: Path) -> None:
    sim = simulator_factory()
    with client_for(sim) as client, pytest.raises(PhotoNotFound) as caught:
        client.photo("0" * 64, tmp_path / "p.jpg")
    assert caught.value.sha256 == "0" * 64 and client.attempts == 1


def test_reference_push_and_409_on_stale_version(simulator_factory: Factory) -> None:
    sim = simulator_factory()
    items = [{"code": "80.69BS", "description": "NO PARK/STREET CLEAN", "fine_cents": 7300,
              "effective_from": "2026-01-01"}]
    with client_for(sim) as client:
        assert client.put_reference("violation-codes", 3, items) == 3
        with pytest.raises(ReferenceVersionConflict) as caught:
            client.put_reference("violation-codes", 3, items)
    assert caught.value.held_version == 3 and caught.value.version == 3
    assert "version 3 is not newer" in str(caught.value)
    assert sim.reference["violation-codes"] == (3, items)


def test_reference_push_whose_answer_was_lost_is_not_a_conflict(simulator_factory: Factory) -> None:
    sim = simulator_factory()
    sim.queue_fault("drop", path_prefix="/v1/reference/")
    with client_for(sim) as client:
        assert client.put_reference("hotlist", 5, [{"plate": "7ABC123", "jurisdiction": "CA",
                                                    "reason": "stolen", "since": "2026-11-01"}]) == 5
    assert [r.status for r in sim.requests] == [200, 409]
    assert sim.reference["hotlist"][0] == 5


def test_cancel_stops_before_the_next_request(simulator_factory: Factory) -> None:
    sim = simulator_factory(citations=30)
    cancel = threading.Event()
    with client_for(sim, cancel=cancel) as client:
        pages = client.iter_pages(limit=5)
        next(pages)
        cancel.set()
        with pytest.raises(SyncCancelled):
            next(pages)
    assert len(sim.requests) == 1 and sim.acked_cursor is None


def test_every_fault_at_once_loses_nothing(simulator_factory: Factory, tmp_path: Path) -> None:
    sim = simulator_factory(
        seed=7, devices=4, citations=40, drop_probability=0.2, repeat_probability=0.4,
        throttle_probability=0.1, unavailable_probability=0.1, truncated_photos=1, corrupted_photos=1,
        malformed_events=5, conflicting_duplicates=1, sequence_gaps=True, sign_events=True, forged_signatures=1,
    )
    with client_for(sim, max_retries=20) as client:
        events, cursor = _pull_all(client, limit=9)
        parsed = [parse_envelope(e) for e in events]
        good = {p.event_id: p for p in parsed if isinstance(p, ParsedEvent)}
        rejected = [p for p in parsed if isinstance(p, Rejected)]
        assert len(events) > len(sim.held_events)  # repeats happened
        delivered = sim.accepted_event_ids | sim.unknown_event_ids | sim.conflict_event_ids | sim.forged_event_ids
        assert set(good) == delivered - sim.withheld_event_ids
        assert {r.event_id for r in rejected} == set(sim.malformed)
        forged = {i for i, p in good.items() if not verify_signature(p.raw, sim.device_keys[p.device_id])}
        assert forged == sim.forged_event_ids
        # every device shows a gap, filled once the withheld events come
        for device in sim.devices:
            seqs = {p.seq for p in good.values() if p.device_id == device.device_id} | {
                r.seq for r in rejected if r.device_id == device.device_id and r.seq is not None}
            assert len(seqs) < max(seqs)
        assert sim.release_withheld() == len(sim.withheld_event_ids) == 4
        more = [e for page in client.iter_pages(after=cursor, limit=500) for e in page.events]
        assert _ids(more) >= sim.withheld_event_ids
        for event in more:
            result = parse_envelope(event)
            if isinstance(result, ParsedEvent):
                good[result.event_id] = result
        citations = {p.payload.citation_number for p in good.values() if isinstance(p.payload, CitationIssued)
                     and p.event_id in sim.accepted_event_ids}
        assert citations == sim.valid_citation_numbers
        failed = set()
        for sha in sorted({ref.sha256 for p in good.values() if isinstance(p.payload, CitationIssued)
                           for ref in (p.payload.photos or [])}):
            got = client.photo(sha, tmp_path / f"{sha}.jpg")
            check = verify_photo(got.path.read_bytes(), sha, len(sim.photos[sha]))
            if not check.ok:
                failed.add(sha)
        assert failed == set(sim.bad_photos)
