"""The ingest pipeline against the field simulator over real HTTP on loopback, one fault at a time and all at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select

from desktop.demo.simulator import FieldSimulator
from desktop.domain.errors import UserError
from desktop.domain.plates import plate_search_key
from desktop.domain.roles import Role
from desktop.persistence.evidence import EvidenceStore
from desktop.persistence.models import (
    AuditEntry,
    Citation,
    Device,
    EvidencePhoto,
    FieldEvent,
    PatrolCheck,
    SyncEndpoint,
)
from desktop.services import sync as sync_service
from desktop.services.core.audit import verify
from desktop.services.core.context import AppContext
from desktop.services.sync import ingest as ingest_module
from desktop.sync.client import AuthenticationFailed, EndpointUnavailable, SyncCancelled
from desktop.sync.wire import content_fingerprint
from tests.helpers.ingest_helpers import (
    SYSTEM,
    add_schedule,
    citation_numbers,
    counts,
    endpoint_for,
    fail_apply_on_call,
    outcomes,
    quarantine_reasons,
    sync,
)
from tests.helpers.sync_helpers import valid_event

Factory = Callable[..., FieldSimulator]


def _assert_complete(app: AppContext, sim: FieldSimulator) -> None:
    """Every valid citation present exactly once, nothing else, and the audit chain intact."""
    numbers = citation_numbers(app)
    assert len(numbers) == len(set(numbers))
    assert set(numbers) == sim.valid_citation_numbers
    assert verify(app.db).ok


def test_clean_sync_stores_everything_acks_and_is_idempotent(app: AppContext, simulator_factory: Factory) -> None:
    sim = simulator_factory(citations=24, devices=3)
    add_schedule(app, [("88.13B+", "METER EXP.", 6300), ("80.56E4+", "RED ZONE", 9300)])
    summary = sync(app, sim)
    _assert_complete(app, sim)
    total = len(sim.all_events)
    assert summary.stats.events == total and summary.stats.citations == 24
    assert summary.stats.duplicates == 0 and summary.stats.quarantined == 0
    assert summary.stats.photos == len(sim.photos)
    assert sim.held_events == [] and sim.acked_cursor == f"c{total}"
    with app.db.reading() as s:
        ep = s.scalar(select(SyncEndpoint))
        assert ep.cursor == ep.acked_cursor == sim.acked_cursor
        assert "24 citations" in ep.last_result
        cases = list(s.scalars(select(Citation)))
        assert {c.status for c in cases} <= {"pending_review", "voided"}
        assert all(c.evidence_status == "ok" and c.signature_state == "unsigned" for c in cases)
        c = next(c for c in cases if c.violation_code == "88.13B+")
        assert c.fine_cents == 6300 and c.handheld_fine_cents == 6300 and c.warning_count == 0
        other = next((c for c in cases if c.violation_code not in ("88.13B+", "80.56E4+")), None)
        if other is not None:  # not in the schedule: the handheld's fine, flagged
            assert other.review_warnings[0]["code"] == "fine_schedule"
            assert other.fine_cents == other.handheld_fine_cents
        received = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "citation.received")))
        assert len(received) == 24 and received[0].username == "system:sync-test"
        photo = s.scalar(select(EvidencePhoto))
        assert photo.integrity == "verified" and photo.width == 320 and photo.gps_lat is not None
        assert EvidenceStore(app.paths.evidence_dir).verify(photo.sha256)
        devices = list(s.scalars(select(Device).order_by(Device.device_id)))
        assert [d.device_id for d in devices] == ["HH-0001", "HH-0002", "HH-0003"]
        assert all(d.seq_gaps == [] and d.pending_events == 0 and d.last_seq for d in devices)
        assert s.scalar(select(PatrolCheck)) is not None
    before = counts(app)
    again = sync(app, sim)
    assert counts(app) == before and again.stats.events == 0


def test_every_event_is_kept_as_received_with_its_outcome(app: AppContext, simulator_factory: Factory) -> None:
    sim = simulator_factory(citations=12, unknown_events=2)
    sync(app, sim)
    with app.db.reading() as s:
        rows = {e.event_id: e for e in s.scalars(select(FieldEvent))}
    assert set(rows) == sim.accepted_event_ids | sim.unknown_event_ids
    for event_id in sim.unknown_event_ids:
        assert rows[event_id].outcome == "skipped" and '"device.' in rows[event_id].raw
    assert outcomes(app)["skipped"] == 2


@pytest.mark.parametrize("fault", ["drop", "429", "503", "500", "stall"])
def test_transport_faults_are_retried_without_loss(app: AppContext, simulator_factory: Factory, fault: str) -> None:
    sim = simulator_factory(citations=15)
    sim.queue_fault(fault, count=2, path_prefix="/v1/events")
    sim.queue_fault(fault, count=1, path_prefix="/v1/photos/")
    sim.queue_fault(fault, count=1, path_prefix="/v1/ack")
    sync(app, sim, page_limit=7)
    _assert_complete(app, sim)
    assert sim.held_events == []


def test_repeated_events_and_stepped_back_cursors_are_stored_once(app: AppContext,
                                                                  simulator_factory: Factory) -> None:
    sim = simulator_factory(citations=30, repeat_probability=0.9, seed=3)
    summary = sync(app, sim, page_limit=6)
    _assert_complete(app, sim)
    assert summary.stats.duplicates > 0
    assert counts(app)["events"] == len(sim.all_events)


def test_truncated_and_corrupted_photos_are_fetched_twice_then_flagged(app: AppContext,
                                                                         simulator_factory: Factory) -> None:
    sim = simulator_factory(citations=20, truncated_photos=2, corrupted_photos=2)
    summary = sync(app, sim)
    _assert_complete(app, sim)
    assert summary.stats.photos_failed == 4
    store = EvidenceStore(app.paths.evidence_dir)
    with app.db.reading() as s:
        bad = list(s.scalars(select(EvidencePhoto).where(EvidencePhoto.sha256.in_(sim.bad_photos))))
        assert len(bad) == 4
        for photo in bad:
            assert photo.integrity == "integrity_failed" and photo.attempts == 2
            assert "fetched twice" in photo.integrity_reason
            assert photo.citation.evidence_status == "integrity_failed"
            assert not store.has(photo.sha256)  # bad bytes never become evidence
    photo_requests = [r for r in sim.requests if r.path.startswith("/v1/photos/")]
    for sha in sim.bad_photos:
        assert sum(1 for r in photo_requests if r.path.endswith(sha)) == 2


def test_a_photo_the_endpoint_never_had_is_missing(app: AppContext, simulator_factory: Factory) -> None:
    sim = simulator_factory(citations=3)
    event = valid_event(event_id="ev-missing-photo", device_id="HH-0001", seq=900)
    sim.add_events([event])
    summary = sync(app, sim)
    assert summary.stats.photos_missing == 1
    with app.db.reading() as s:
        c = s.scalar(select(Citation).where(Citation.citation_number == "HH0042-000123"))
        assert c.evidence_status == "missing"
        assert c.photos[0].integrity == "missing" and "404" in c.photos[0].integrity_reason
    # it turns up later at the endpoint: the next sync fetches it and the case's evidence is complete
    sim.add_photo(b"photo")  # the digest the event declared; not a decodable image
    sync(app, sim)
    with app.db.reading() as s:
        c = s.scalar(select(Citation).where(Citation.citation_number == "HH0042-000123"))
        assert c.photos[0].integrity == "integrity_failed" and c.evidence_status == "integrity_failed"


def test_malformed_events_are_quarantined_with_reasons_and_the_feed_goes_on(app: AppContext,
                                                                             simulator_factory: Factory) -> None:
    sim = simulator_factory(citations=20, malformed_events=5)
    summary = sync(app, sim, page_limit=4)
    _assert_complete(app, sim)
    assert summary.stats.quarantined == 5
    reasons = quarantine_reasons(app)
    assert any("vehicle.plate: required field is missing" in r for r in reasons)
    assert any("time has no UTC offset" in r for r in reasons)
    assert any("location.lat" in r for r in reasons)
    assert any("fine_cents" in r for r in reasons)
    assert any("unreadable JSON" in r for r in reasons)
    before = counts(app)
    sync(app, sim)  # nothing quarantined twice
    assert counts(app) == before


def test_conflicting_citation_number_is_quarantined_and_the_first_kept(app: AppContext,
                                                                       simulator_factory: Factory) -> None:
    sim = simulator_factory(citations=15, conflicting_duplicates=2)
    sync(app, sim)
    _assert_complete(app, sim)
    reasons = [r for r in quarantine_reasons(app) if r.startswith("conflict:")]
    assert len(reasons) == 2 and "the first version is kept" in reasons[0]
    with app.db.reading() as s:
        for event_id in sim.conflict_event_ids:
            conflict = next(e for e in sim.all_events if isinstance(e, dict) and e["event_id"] == event_id)
            c = s.scalar(select(Citation).where(
                Citation.citation_number == conflict["payload"]["citation_number"]))
            assert c.source_event_id != event_id
            assert c.content_digest != content_fingerprint(conflict["payload"])


def test_identical_resend_under_a_new_event_id_is_a_duplicate(app: AppContext, simulator_factory: Factory) -> None:
    sim = simulator_factory(citations=3)
    sync(app, sim)
    first = next(e for e in sim.all_events if e["type"] == "citation.issued")
    resend = dict(first, event_id="resend-1", seq=first["seq"] + 1000)
    sim.add_events([resend])
    summary = sync(app, sim)
    assert summary.stats.duplicates == 1 and summary.stats.quarantined == 0
    assert outcomes(app)["duplicate"] == 1
    assert citation_numbers(app).count(first["payload"]["citation_number"]) == 1


def test_sequence_gaps_are_tracked_and_closed(app: AppContext, simulator_factory: Factory) -> None:
    sim = simulator_factory(citations=18, sequence_gaps=True)
    summary = sync(app, sim)
    assert summary.devices_with_gaps == 3 and summary.missing_events == 3
    rows = {d.device_id: d for d in sync_service.list_devices(app, SYSTEM)}
    assert all(len(d.gaps) == 1 and d.missing == 1 for d in rows.values())
    assert "1 missing" in rows["HH-0001"].gaps_text()
    sim.release_withheld()
    summary = sync(app, sim)
    assert summary.devices_with_gaps == 0
    assert all(d.gaps == [] for d in sync_service.list_devices(app, SYSTEM))
    _assert_complete(app, sim)


def test_signatures_are_required_once_a_key_is_registered(app: AppContext, simulator_factory: Factory) -> None:
    sim = simulator_factory(citations=18, sign_events=True, forged_signatures=2)
    for device_id, key in sim.device_keys.items():
        sync_service.register_device(app, SYSTEM, device_id, key, officer_badge="1234")
    sync(app, sim)
    _assert_complete(app, sim)
    reasons = [r for r in quarantine_reasons(app) if r.startswith("signature:")]
    assert len(reasons) == 2 and all("does not verify" in r for r in reasons)
    with app.db.reading() as s:
        assert {c.signature_state for c in s.scalars(select(Citation))} == {"verified"}


def test_unsigned_events_of_a_keyed_device_are_quarantined(app: AppContext, simulator_factory: Factory) -> None:
    sim = simulator_factory(citations=6, devices=2)
    signer = FieldSimulator(devices=2, citations=1, sign_events=True, photo_size=(32, 24))
    sync_service.register_device(app, SYSTEM, "HH-0001", signer.device_keys["HH-0001"])
    sync(app, sim)
    reasons = quarantine_reasons(app)
    assert reasons and all(r.startswith("signature: missing") for r in reasons)
    with app.db.reading() as s:
        devices = {c.device_id for c in s.scalars(select(Citation))}
    assert devices == {"HH-0002"}


def test_voids_and_amendments_are_applied_to_the_case_with_audit(app: AppContext,
                                                                 simulator_factory: Factory) -> None:
    sim = simulator_factory(citations=40, devices=2, seed=5)
    voids = [e for e in sim.all_events if e["type"] == "citation.voided"]
    amends = [e for e in sim.all_events if e["type"] == "citation.amended"]
    assert voids and amends
    summary = sync(app, sim)
    assert summary.stats.voided == len(voids) and summary.stats.amended == len(amends)
    with app.db.reading() as s:
        for v in voids:
            c = s.scalar(select(Citation).where(Citation.citation_number == v["payload"]["citation_number"]))
            assert c.status == "voided" and c.closed_at is not None
            entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "citation.voided",
                                                      AuditEntry.entity_id == str(c.id)))
            assert entry.before == {"status": "pending_review"} and "voided on handheld" in entry.reason
        for a in amends:
            c = s.scalar(select(Citation).where(Citation.citation_number == a["payload"]["citation_number"]))
            entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "citation.amended",
                                                      AuditEntry.entity_id == str(c.id)))
            assert entry is not None and "Officer correction" in entry.reason
            plate = a["payload"]["changes"].get("vehicle", {}).get("plate")
            if plate:
                assert c.plate == plate and c.plate_key == plate_search_key(plate)
                assert entry.before["plate"] != plate and entry.after["plate"] == plate
    assert verify(app.db).ok


def test_void_of_an_approved_case_or_unknown_citation_is_quarantined(app: AppContext,
                                                                      simulator_factory: Factory) -> None:
    sim = simulator_factory(citations=2, devices=1)
    sync(app, sim)
    number = sorted(sim.valid_citation_numbers)[0]
    with app.db.write_session() as s:
        s.scalar(select(Citation).where(Citation.citation_number == number)).status = "open"
        s.commit()
    sim.add_events([
        {"event_id": "void-open", "device_id": "HH-0001", "seq": 501, "type": "citation.voided",
         "occurred_at": "2026-11-24T10:00:00-08:00",
         "payload": {"citation_number": number, "voided_at": "2026-11-24T10:00:00-08:00", "reason": "x"}},
        {"event_id": "void-unknown", "device_id": "HH-0001", "seq": 502, "type": "citation.voided",
         "occurred_at": "2026-11-24T10:00:00-08:00",
         "payload": {"citation_number": "NOPE-1", "voided_at": "2026-11-24T10:00:00-08:00"}},
        {"event_id": "amend-open", "device_id": "HH-0001", "seq": 503, "type": "citation.amended",
         "occurred_at": "2026-11-24T10:00:00-08:00",
         "payload": {"citation_number": number, "changes": {"remarks": "late"}}},
    ])
    summary = sync(app, sim)
    assert summary.stats.quarantined == 3
    reasons = quarantine_reasons(app)
    assert any("cannot go to voided" in r for r in reasons)
    assert any("NOPE-1, which has not been received" in r for r in reasons)
    assert any("already open: a supervisor must apply the correction" in r for r in reasons)


def test_a_401_stores_nothing_and_says_so(app: AppContext, simulator_factory: Factory) -> None:
    sim = simulator_factory(citations=4)
    with pytest.raises(AuthenticationFailed, match="refused the token"):
        sync(app, sim, token="wrong")
    assert counts(app)["events"] == 0
    with app.db.reading() as s:
        assert s.scalar(select(SyncEndpoint.last_result)).startswith("failed: ")


def test_failure_mid_sync_keeps_committed_pages_and_the_next_sync_completes(app: AppContext,
                                                                            simulator_factory: Factory) -> None:
    sim = simulator_factory(citations=30)
    original = sim.page
    calls = [0]

    def flaky(after: str | None, limit: int) -> dict[str, Any]:
        calls[0] += 1
        if calls[0] == 3:
            sim.queue_fault("503", count=20, path_prefix="/v1/events")
        return original(after, limit)

    sim.page = flaky  # type: ignore[method-assign]
    with pytest.raises(EndpointUnavailable) as caught:
        sync(app, sim, page_limit=5, client_options={"max_retries": 2})
    kept = caught.value.sync_summary  # type: ignore[attr-defined]
    assert kept.pages == 3
    committed = counts(app)["events"]
    assert committed == 15
    with app.db.reading() as s:
        assert s.scalar(select(SyncEndpoint.cursor)) == sim.acked_cursor == "c15"
    sim.page = original  # type: ignore[method-assign]
    sim._queued.clear()
    sync(app, sim)
    _assert_complete(app, sim)


def test_ack_only_after_commit(app: AppContext, simulator_factory: Factory, monkeypatch: pytest.MonkeyPatch) -> None:
    sim = simulator_factory(citations=20)
    restore = fail_apply_on_call(monkeypatch, 2)
    with pytest.raises(RuntimeError):
        sync(app, sim, page_limit=8)
    assert sim.acked_cursor == "c8" and counts(app)["events"] == 8
    restore()
    sync(app, sim)
    _assert_complete(app, sim)


def test_cancel_keeps_what_was_committed_and_resumes(app: AppContext, simulator_factory: Factory) -> None:
    sim = simulator_factory(citations=30)
    cancel = threading.Event()
    seen = []

    def progress(done: int, total: int, text: str) -> None:
        seen.append((done, total, text))
        if done >= 10:
            cancel.set()

    with pytest.raises(SyncCancelled):
        sync(app, sim, progress=progress, cancel=cancel, page_limit=5)
    assert 10 <= counts(app)["events"] < len(sim.all_events)
    assert any("events received" in t for _, _, t in seen)
    with app.db.reading() as s:
        assert s.scalar(select(SyncEndpoint.last_result)).startswith("cancelled after")
    sync(app, sim)
    _assert_complete(app, sim)


def test_a_reset_endpoint_that_refuses_our_cursor_is_read_from_its_oldest_event(
        app: AppContext, simulator_factory: Factory) -> None:
    sim = simulator_factory(citations=5)
    endpoint_id = endpoint_for(app, sim)
    with app.db.write_session() as s:
        s.get(SyncEndpoint, endpoint_id).cursor = "not-a-cursor"
        s.get(SyncEndpoint, endpoint_id).acked_cursor = "not-a-cursor"
        s.commit()
    summary = sync(app, sim)
    assert summary.restarted_from_oldest
    _assert_complete(app, sim)


def test_every_fault_at_once_loses_and_duplicates_nothing(any_app: AppContext, simulator_factory: Factory) -> None:
    sim = simulator_factory(
        seed=11, devices=4, citations=40, drop_probability=0.15, repeat_probability=0.4,
        throttle_probability=0.05, unavailable_probability=0.05, truncated_photos=1, corrupted_photos=1,
        malformed_events=5, conflicting_duplicates=2, sequence_gaps=True, sign_events=True, forged_signatures=1,
    )
    for device_id, key in sim.device_keys.items():
        sync_service.register_device(any_app, SYSTEM, device_id, key)
    sync(any_app, sim, page_limit=9, client_options={"max_retries": 30})
    sim.release_withheld()
    sync(any_app, sim, page_limit=9, client_options={"max_retries": 30})
    _assert_complete(any_app, sim)
    with any_app.db.reading() as s:
        stored = set(s.scalars(select(FieldEvent.event_id)))
    expected = (sim.accepted_event_ids | sim.unknown_event_ids | sim.conflict_event_ids | sim.forged_event_ids
                | {k for k in sim.malformed if k is not None})
    assert stored == expected
    assert counts(any_app)["quarantine"] == 5 + 2 + 1 + sum(
        1 for e in sim.all_events if isinstance(e, dict) and e["type"] in ("citation.voided", "citation.amended")
        and e["payload"]["citation_number"] not in sim.valid_citation_numbers)
    before = counts(any_app)
    sync(any_app, sim)
    assert counts(any_app) == before


def test_reference_data_is_pushed_with_increasing_versions_and_a_409_is_handled(
        app: AppContext, simulator_factory: Factory) -> None:
    sim = simulator_factory(citations=1)
    add_schedule(app, [("88.13B+", "METER EXP.", 6300)])
    summary = sync(app, sim)
    assert summary.reference == {"violation-codes": "1", "permits": "1", "hotlist": "1", "assignments": "1"}
    assert sim.reference["violation-codes"][0] == 1
    assert sim.reference["violation-codes"][1][0]["code"] == "88.13B+"
    assert set(sync(app, sim).reference.values()) == {"unchanged"}
    add_schedule(app, [("80.56E4+", "RED ZONE", 9300)])
    sim.reference["violation-codes"] = (7, [])  # another office pushed meanwhile
    endpoint_id = endpoint_for(app, sim)
    result = sync_service.push_reference(app, SYSTEM, endpoint_id, token=sim.token)
    assert result["violation-codes"] == "8" and sim.reference["violation-codes"][0] == 8
    forced = sync_service.push_reference(app, SYSTEM, endpoint_id, token=sim.token, force=True)
    assert forced["violation-codes"] == "9" and forced["hotlist"] == "2"
    with app.db.reading() as s:
        versions = s.scalar(select(SyncEndpoint.reference_versions))
    assert versions["violation-codes"]["version"] == 9 and versions["violation-codes"]["items"] == 2


def test_permissions(app: AppContext, actors: dict[Role, Any], simulator_factory: Factory) -> None:
    sim = simulator_factory(citations=2)
    endpoint_id = endpoint_for(app, sim)
    with pytest.raises(UserError, match="may not sync field data"):
        sync_service.sync_now(app, actors[Role.MAIL_OFFICE], endpoint_id, token=sim.token)
    assert counts(app)["events"] == 0
    with pytest.raises(UserError, match="may not manage devices"):
        sync_service.register_device(app, actors[Role.CLERK], "HH-0001", next(iter(sim.device_keys.values())))
    summary = sync(app, sim, actor=actors[Role.CLERK])
    assert summary.stats.citations == 2


def test_two_workstations_ingesting_the_same_events_store_them_once(pg_app: AppContext) -> None:
    """Two offices' sync runs deliver the same page at the same moment (PostgreSQL, read committed)."""
    sim = FieldSimulator(devices=3, citations=40, photos_per_citation=0, seed=9)
    events = sim.all_events
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        try:
            barrier.wait()
            ingest_module.Ingestor(pg_app, SYSTEM, "endpoint:concurrent").ingest(events)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    with pg_app.db.reading() as s:
        assert len(list(s.scalars(select(FieldEvent.event_id)))) == len(events)
    assert sorted(citation_numbers(pg_app)) == sorted(sim.valid_citation_numbers)
    assert verify(pg_app.db).ok


def test_ingest_commits_are_synced_to_disk_on_sqlite(app: AppContext) -> None:
    """An ack lets the endpoint delete the events: their commit runs with synchronous=FULL, others stay NORMAL."""
    levels: list[int] = []

    def record(conn: Any) -> None:
        levels.append(conn.exec_driver_sql("PRAGMA synchronous").scalar())

    sim = FieldSimulator(devices=1, citations=2, photos_per_citation=0)
    ingest_module.Ingestor(app, SYSTEM, "endpoint:x").ingest(sim.all_events)  # installs the hook
    sa_event.listen(app.db.engine, "commit", record)
    try:
        sim2 = FieldSimulator(devices=1, citations=2, photos_per_citation=0, seed=8, first_device=5)
        ingest_module.Ingestor(app, SYSTEM, "endpoint:x").ingest(sim2.all_events)
        with app.db.write_session() as s:
            s.execute(select(FieldEvent.event_id)).all()
            s.commit()
    finally:
        sa_event.remove(app.db.engine, "commit", record)
    assert levels[0] == 2 and levels[-1] == 1  # FULL for the ingest, back to NORMAL afterwards
