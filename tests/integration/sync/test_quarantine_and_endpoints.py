"""The quarantine (discard with a reason, re-submit a corrected event), endpoints, tokens and devices."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from sqlalchemy import select

from desktop.demo.simulator import FieldSimulator
from desktop.domain.errors import UserError
from desktop.domain.roles import Role
from desktop.persistence.models import AuditEntry, Citation, Device, FieldEvent, QuarantinedEvent, SyncEndpoint
from desktop.services import sync as sync_service
from desktop.services.core.audit import verify
from desktop.services.core.context import AppContext
from desktop.sync.wire import InvalidDeviceKey
from tests.helpers.ingest_helpers import SYSTEM, citation_numbers, counts, sync

Factory = Callable[..., FieldSimulator]


@pytest.fixture
def quarantined(app: AppContext, simulator_factory: Factory) -> FieldSimulator:
    sim = simulator_factory(citations=10, devices=2, malformed_events=5, conflicting_duplicates=1)
    sync(app, sim)
    return sim


def _row(app: AppContext, words: str) -> sync_service.QuarantineRow:
    return next(q for q in sync_service.list_quarantine(app, SYSTEM) if words in q.reason)


def test_quarantine_list_and_raw_viewer(app: AppContext, quarantined: FieldSimulator) -> None:
    rows = sync_service.list_quarantine(app, SYSTEM)
    assert len(rows) == 6 and all(r.status == "open" and r.reason for r in rows)
    assert sync_service.count_open_quarantine(app, SYSTEM) == 6
    plate = _row(app, "vehicle.plate")
    raw = sync_service.quarantine_raw(app, SYSTEM, plate.id)
    assert json.loads(raw)["event_id"] == plate.event_id and "\n  " in raw  # pretty-printed
    broken = _row(app, "unreadable JSON")
    assert broken.event_id is None
    assert sync_service.quarantine_raw(app, SYSTEM, broken.id).startswith('{"event_id"')


def test_supervisor_discards_with_a_reason_and_nothing_is_deleted(app: AppContext, actors: dict[Role, Any],
                                                                  quarantined: FieldSimulator) -> None:
    row = _row(app, "unreadable JSON")
    with pytest.raises(UserError, match="may not resolve quarantined events"):
        sync_service.discard_quarantined(app, actors[Role.CLERK], row.id, "junk")
    with pytest.raises(UserError, match="Give a reason"):
        sync_service.discard_quarantined(app, actors[Role.SUPERVISOR], row.id, "  ")
    sync_service.discard_quarantined(app, actors[Role.SUPERVISOR], row.id, "half a line: the handheld crashed")
    with pytest.raises(UserError, match="already discarded"):
        sync_service.discard_quarantined(app, actors[Role.SUPERVISOR], row.id, "again")
    assert sync_service.count_open_quarantine(app, SYSTEM) == 5
    done = next(q for q in sync_service.list_quarantine(app, SYSTEM, status=None) if q.id == row.id)
    assert done.status == "discarded" and done.resolved_by == "supervisor"
    assert done.resolution == "half a line: the handheld crashed"
    with app.db.reading() as s:
        assert s.get(QuarantinedEvent, row.id).raw  # kept
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "quarantine.discarded"))
        assert entry.username == "supervisor" and entry.reason == "half a line: the handheld crashed"


def test_resubmitting_a_corrected_event_applies_it(app: AppContext, actors: dict[Role, Any],
                                                   quarantined: FieldSimulator) -> None:
    row = _row(app, "vehicle.plate")
    event = json.loads(sync_service.quarantine_raw(app, SYSTEM, row.id))
    with pytest.raises(UserError, match="may not resolve"):
        sync_service.resubmit_quarantined(app, actors[Role.CLERK], row.id, json.dumps(event))
    # still broken: refused with the reason, nothing changes
    with pytest.raises(UserError, match="still not acceptable: payload.vehicle.plate: required field"):
        sync_service.resubmit_quarantined(app, actors[Role.SUPERVISOR], row.id, json.dumps(event))
    with pytest.raises(UserError, match="still not acceptable: event: unreadable JSON"):
        sync_service.resubmit_quarantined(app, actors[Role.SUPERVISOR], row.id, "{oops")
    assert sync_service.count_open_quarantine(app, SYSTEM) == 6
    event["payload"]["vehicle"]["plate"] = "7abc 123"
    stats = sync_service.resubmit_quarantined(app, actors[Role.SUPERVISOR], row.id, json.dumps(event),
                                              note="plate read from the photo")
    assert stats.citations == 1
    number = event["payload"]["citation_number"]
    assert number in citation_numbers(app)
    with app.db.reading() as s:
        c = s.scalar(select(Citation).where(Citation.citation_number == number))
        assert c.plate == "7ABC123" and c.signature_state == "resubmitted" and c.status == "pending_review"
        fe = s.get(FieldEvent, event["event_id"])
        assert fe.outcome == "applied" and "7abc 123" in fe.raw
        q = s.get(QuarantinedEvent, row.id)
        assert q.status == "resubmitted" and q.resolution == "plate read from the photo"
        assert s.scalar(select(AuditEntry).where(AuditEntry.action == "quarantine.resubmitted")) is not None
    with pytest.raises(UserError, match="already resubmitted"):
        sync_service.resubmit_quarantined(app, actors[Role.SUPERVISOR], row.id, json.dumps(event))
    assert verify(app.db).ok


def test_resubmitting_a_conflict_with_a_new_number(app: AppContext, quarantined: FieldSimulator) -> None:
    row = _row(app, "conflict:")
    event = json.loads(sync_service.quarantine_raw(app, SYSTEM, row.id))
    with pytest.raises(UserError, match="still not acceptable: conflict"):
        sync_service.resubmit_quarantined(app, SYSTEM, row.id, json.dumps(event))
    event["payload"]["citation_number"] += "-R"
    sync_service.resubmit_quarantined(app, SYSTEM, row.id, json.dumps(event))
    assert event["payload"]["citation_number"] in citation_numbers(app)
    with app.db.reading() as s:
        c = s.scalar(select(Citation).where(Citation.citation_number == event["payload"]["citation_number"]))
        # its photos (the original's) were already in the evidence store
        assert c.evidence_status == "ok"


def test_resubmitting_an_event_already_stored_is_refused(app: AppContext, quarantined: FieldSimulator) -> None:
    row = _row(app, "vehicle.plate")
    stored = next(e for e in quarantined.all_events if isinstance(e, dict) and e["type"] == "patrol.check")
    with pytest.raises(UserError, match="already stored"):
        sync_service.resubmit_quarantined(app, SYSTEM, row.id, json.dumps(stored))
    assert sync_service.count_open_quarantine(app, SYSTEM) == 6


def test_export_quarantine_csv(app: AppContext, actors: dict[Role, Any], quarantined: FieldSimulator,
                               tmp_path: Path) -> None:
    row = _row(app, "unreadable JSON")
    sync_service.discard_quarantined(app, SYSTEM, row.id, "junk")
    out = tmp_path / "q.csv"
    assert sync_service.export_quarantine(app, actors[Role.CLERK], out) == 6
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0]) == sync_service.QUARANTINE_COLUMNS
    assert {"event_id", "device_id", "type", "reason", "received_at", "status"} <= set(rows[0])
    assert sum(r["status"] == "discarded" for r in rows) == 1
    assert all(r["reason"] and r["received_at"] for r in rows)
    with pytest.raises(UserError, match="may not export data"):
        sync_service.export_quarantine(app, actors[Role.HEARING_OFFICER], tmp_path / "x.csv")


# --------------------------------------------------------------------------- endpoints and tokens


class MemoryKeyring(KeyringBackend):
    priority = 10  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


@pytest.fixture
def tokens() -> Any:
    sync_service.TOKENS.reset()
    yield sync_service.TOKENS
    sync_service.TOKENS.reset()


def test_without_a_keyring_the_token_stays_in_memory_only(app: AppContext, actors: dict[Role, Any],
                                                          tokens: Any, simulator_factory: Factory) -> None:
    keyring.set_keyring(fail.Keyring())
    tokens.reset()  # probe again now: a thread left by an earlier test may have probed the keyring in between
    sim = simulator_factory(citations=2)
    endpoint_id, where = sync_service.save_endpoint(app, actors[Role.SUPERVISOR], None, name="East gateway",
                                                    url=sim.base_url, token="secret-token-1")
    assert where == "session" and not tokens.keyring_available()
    assert "memory only" in tokens.where()
    db_file = Path(app.db.url.database)
    assert b"secret-token-1" not in db_file.read_bytes()
    assert not any(b"secret-token-1" in p.read_bytes() for p in app.paths.data_dir.rglob("*") if p.is_file())
    sim.token = "secret-token-1"
    assert sync_service.sync_now(app, actors[Role.CLERK], endpoint_id).stats.citations == 2
    tokens.reset()  # a new start of the application
    with pytest.raises(UserError, match="No token for the endpoint East gateway"):
        sync_service.sync_now(app, actors[Role.CLERK], endpoint_id)


def test_with_a_keyring_the_token_is_kept_there(app: AppContext, actors: dict[Role, Any], tokens: Any,
                                                simulator_factory: Factory) -> None:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    tokens.reset()  # probe the keyring set here, whatever an earlier test's thread probed meanwhile
    try:
        sim = simulator_factory(citations=1)
        endpoint_id, where = sync_service.save_endpoint(app, actors[Role.SUPERVISOR], None, name="East",
                                                        url=sim.base_url, token=sim.token)
        assert where == "keyring"
        assert backend.store[(tokens.SERVICE, sim.base_url)] == sim.token
        tokens.reset()
        assert sync_service.list_endpoints(app, actors[Role.CLERK])[0].has_token
        assert sync_service.sync_now(app, actors[Role.CLERK], endpoint_id).stats.citations == 1
        sync_service.delete_endpoint(app, actors[Role.SUPERVISOR], endpoint_id)
        assert backend.store == {}
    finally:
        keyring.set_keyring(fail.Keyring())


def test_endpoint_rules(app: AppContext, actors: dict[Role, Any], tokens: Any, tmp_path: Path) -> None:
    sup = actors[Role.SUPERVISOR]
    with pytest.raises(UserError, match="may not manage devices"):
        sync_service.save_endpoint(app, actors[Role.CLERK], None, name="x", url="https://gw.example.org")
    with pytest.raises(UserError, match="Plain http is only allowed on this computer"):
        sync_service.save_endpoint(app, sup, None, name="x", url="http://gw.example.org")
    with pytest.raises(UserError, match="not an endpoint address"):
        sync_service.save_endpoint(app, sup, None, name="x", url="ftp://gw")
    with pytest.raises(UserError, match="CA bundle"):
        sync_service.save_endpoint(app, sup, None, name="x", url="https://gw.example.org",
                                   ca_bundle=str(tmp_path / "none.pem"))
    endpoint_id, _ = sync_service.save_endpoint(app, sup, None, name="East", url="https://gw.example.org/",
                                                auto_sync_minutes=15)
    with pytest.raises(UserError, match="already an endpoint called East"):
        sync_service.save_endpoint(app, sup, None, name="East", url="https://other.example.org")
    with app.db.write_session() as s:
        ep = s.get(SyncEndpoint, endpoint_id)
        ep.cursor, ep.acked_cursor, ep.reference_versions = "c9", "c9", {"hotlist": {"version": 3}}
        s.commit()
    sync_service.save_endpoint(app, sup, endpoint_id, name="East", url="https://gw2.example.org",
                               auto_sync_minutes=15)
    row = sync_service.get_endpoint(app, sup, endpoint_id)
    assert row.url == "https://gw2.example.org" and row.cursor is None and row.reference_versions == {}
    assert row.auto_sync_minutes == 15


def test_device_registration(app: AppContext, actors: dict[Role, Any]) -> None:
    sim = FieldSimulator(devices=1, citations=1, photo_size=(32, 24))
    key = sim.device_keys["HH-0001"]
    with pytest.raises(InvalidDeviceKey):
        sync_service.register_device(app, actors[Role.SUPERVISOR], "HH-0001", "bm90IGEga2V5")
    fingerprint = sync_service.register_device(app, actors[Role.SUPERVISOR], "HH-0001", key, officer_badge="4321")
    assert len(fingerprint) == 16
    with app.db.reading() as s:
        device = s.get(Device, "HH-0001")
        assert device.public_key == key and device.officer_badge == "4321"
    row = sync_service.list_devices(app, SYSTEM)[0]
    assert row.has_key and row.officer_badge == "4321"
    assert counts(app)["citations"] == 0


def test_a_forged_event_resubmitted_as_is_keeps_its_photos(app: AppContext, simulator_factory: Factory) -> None:
    """Photos of a quarantined citation are fetched before the ack, so a re-submission still has them."""
    sim = simulator_factory(citations=12, devices=2, sign_events=True, forged_signatures=3, seed=4)
    for device_id, key in sim.device_keys.items():
        sync_service.register_device(app, SYSTEM, device_id, key)
    sync(app, sim)
    assert sim.held_events == []  # acked: the endpoint has deleted the photos
    forged = [q for q in sync_service.list_quarantine(app, SYSTEM) if q.reason.startswith("signature:")
              and q.type == "citation.issued"]
    assert forged
    row = forged[0]
    raw = sync_service.quarantine_raw(app, SYSTEM, row.id, pretty=False)
    sync_service.resubmit_quarantined(app, SYSTEM, row.id, raw, note="key rotated on the handheld")
    number = json.loads(raw)["payload"]["citation_number"]
    with app.db.reading() as s:
        c = s.scalar(select(Citation).where(Citation.citation_number == number))
        assert c.evidence_status == "ok" and c.photos and all(p.integrity == "verified" for p in c.photos)
        assert c.signature_state == "resubmitted"
