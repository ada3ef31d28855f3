"""The review checks a sync runs after each batch: the set-based path (from the rows the batch inserted) leaves
exactly the review queue the per-citation path (each citation loaded back through the ORM) leaves.

The input is real and messy: NYC "Parking Violations Issued" rows (plates like ``BLANKPLATE``, plates stored
as floats, state ``99``) replayed as citations in the test zone with the fines of LA's own citations
(``sample_data.csv``: some differ from the schedule), repeats of the same plate a few minutes apart
(duplicates across batch boundaries), a registered owner whose car changed; and the simulator's own
citations with photos, voids and amendments (some land in the batch that created the citation).
"""

from __future__ import annotations

import csv
import itertools
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import desktop.services.sync.ingest as ingest_module
from desktop.demo.simulator import FieldSimulator
from desktop.persistence.models import Citation, EvidencePhoto
from desktop.services.core.context import AppContext
from desktop.services.sync import checks_process
from tests.conftest import FixedClock, make_app
from tests.helpers.ingest_helpers import sync
from tests.helpers.review_data import ISSUED, LAT, LON, SCHEDULE, seed_reference


def _data_dir(shared_data: Path) -> Path:
    return shared_data / "citations"


def _real_events(folder: Path, count: int) -> list[dict[str, Any]]:
    """citation.issued events from real rows: NYC plates, states and makes; LA fines for the LA codes; every
    15th, from the 45th on, a void or an amendment of the citation 45 events before (in an earlier batch)."""
    with (folder / "sample_data.csv").open(encoding="utf-8", newline="") as fh:
        la_fines = [int(float(r["fine_amount"]) * 100) for r in itertools.islice(csv.DictReader(fh), 3000)
                    if r["fine_amount"]]
    with (folder / "Parking_Violations.csv").open(encoding="utf-8", newline="") as fh:
        nyc = list(csv.DictReader(fh))
    events = []
    for n in range(count):
        row = nyc[n % len(nyc)]
        code, description, _fine, _old, _kind = SCHEDULE[n % len(SCHEDULE)]
        plate = (row["Plate ID"] or "").strip() or "NONE"
        state = (row["Registration State"] or "").strip() or "99"
        make = (row["Vehicle Make"] or "").strip() or None
        if n % 11 == 0:
            plate, state, make = "7ABC123", "CA", "HOND"  # the owner's car changed: the make differs
        if n % 7 == 3 and n >= 7:
            plate = (nyc[(n - 3) % len(nyc)]["Plate ID"] or "").strip() or "NONE"  # the same car again
        issued = ISSUED + timedelta(minutes=3 * (n // 3), seconds=n)
        lat = LAT + ((n % 13) - 6) * 0.0004
        lon = LON + ((n % 17) - 8) * 0.0004
        events.append({
            "event_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"real-{n}")), "device_id": "HH-0901",
            "type": "citation.issued", "occurred_at": issued.isoformat(),
            "payload": {
                "citation_number": f"HH0901-{n:06d}", "officer_badge": "4411", "issued_at": issued.isoformat(),
                "vehicle": {"plate": plate[:16], "jurisdiction": state[:2], "plate_type": row["Plate Type"] or None,
                            "make": make, "model": None, "color": row["Vehicle Color"] or None, "vin": None,
                            "registration_expiry": None},
                "location": {"lat": lat, "lon": lon, "accuracy_m": 5.0 + n % 40,
                             "address": (row.get("Violation Location") or "").strip()[:200] or None,
                             "zone": "Z-TEST" if n % 5 else None, "space": None},
                "violations": [{"code": code, "description": description,
                                "fine_cents": la_fines[n % len(la_fines)]}],
                "observations": [], "photos": [], "remarks": None,
            },
        })
        if n >= 45 and n % 15 == 0:
            # a later event about a citation of an earlier batch: its warnings must be there before it applies
            target = f"HH0901-{n - 45:06d}"
            at = (issued + timedelta(seconds=30)).isoformat()
            if n % 60 == 0:
                payload: dict[str, Any] = {"citation_number": target, "voided_at": at, "reason": "wrong car"}
                kind = "citation.voided"
            else:
                other = SCHEDULE[(n + 1) % len(SCHEDULE)]
                payload = {"citation_number": target, "reason": "code corrected",
                           "changes": {"violations": [{"code": other[0], "description": other[1],
                                                       "fine_cents": la_fines[(n + 7) % len(la_fines)]}]}}
                kind = "citation.amended"
            events.append({"event_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"real-change-{n}")),
                           "device_id": "HH-0901", "type": kind, "occurred_at": at, "payload": payload})
    for seq, event in enumerate(events, start=1):
        event["seq"] = seq
    return events


def _run(tmp_path: Path, url: str, events: list[dict[str, Any]], set_based: bool,
         monkeypatch: pytest.MonkeyPatch, clock: FixedClock, checks_process: bool = False) -> dict[str, Any]:
    app: AppContext = make_app(url, tmp_path, clock, migrate=False)  # one clock: the same arrival delays
    try:
        seed_reference(app)
        sim = FieldSimulator(devices=3, citations=60, token="t", photo_size=(160, 120), seed=5)
        sim.add_events(events)
        sim.start()
        try:
            monkeypatch.setattr(ingest_module, "SET_BASED_CHECKS", set_based)
            split = ingest_module._NewRows.split
            reread: list[int] = []

            def counting(self: Any) -> tuple[list[dict[str, Any]], list[int]]:
                as_rows, ids = split(self)
                reread.extend(ids)
                return as_rows, ids

            monkeypatch.setattr(ingest_module._NewRows, "split", counting)
            summary = sync(app, sim, page_limit=40, push=False, helper_process_from=None,
                           checks_process_from=0 if checks_process else None)
        finally:
            sim.stop()
        with app.db.reading() as s:
            cases = {c.citation_number: (c.status, c.review_warnings, c.warning_count, c.version)
                     for c in s.scalars(select(Citation))}
            exif = sorted((p.citation.citation_number, p.sha256, repr(p.exif)) for p in s.scalars(select(EvidencePhoto)))
        return {"cases": cases, "exif": exif, "summary": summary, "reread": reread}
    finally:
        app.db.dispose()


def _copy(template: Path, folder: Path) -> str:
    import shutil

    folder.mkdir()
    shutil.copyfile(template, folder / "db.sqlite3")
    return f"sqlite:///{folder / 'db.sqlite3'}"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_set_based_checks_leave_the_same_review_queue(backend: str, tmp_path: Path, shared_data: Path,
                                                      sqlite_template: Path, monkeypatch: pytest.MonkeyPatch,
                                                      request: pytest.FixtureRequest, clock: FixedClock) -> None:
    events = _real_events(_data_dir(shared_data), 600)
    urls = []
    for name in ("old", "new"):
        if backend == "sqlite":
            urls.append(_copy(sqlite_template, tmp_path / f"db-{name}"))
        else:
            urls.append(request.getfixturevalue("pg_url") if name == "old" else _second_pg(request))
    old = _run(tmp_path / "old", urls[0], events, False, monkeypatch, clock)
    new = _run(tmp_path / "new", urls[1], events, True, monkeypatch, clock)
    _same_queue(old, new)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_checks_on_a_helper_process_leave_the_same_review_queue(
        backend: str, tmp_path: Path, shared_data: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch,
        request: pytest.FixtureRequest, clock: FixedClock) -> None:
    """The checks computed on their own process (each batch on a snapshot taken right after its commit, the
    results written by the sync; voids and amendments of citations whose checks are on their way wait for
    them) leave exactly the queue of the checks run in line after each batch: 20 batches of 40 events, with
    duplicates, voids and amendments across their boundaries."""
    events = _real_events(_data_dir(shared_data), 600)
    urls = []
    for name in ("inline", "helper"):
        if backend == "sqlite":
            urls.append(_copy(sqlite_template, tmp_path / f"db-{name}"))
        else:
            urls.append(request.getfixturevalue("pg_url") if name == "inline" else _second_pg(request))
    made: list[Any] = []
    original = checks_process.ChecksProcess.__init__

    def spy(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(checks_process.ChecksProcess, "__init__", spy)
    # the results are taken only where they must be (the longest lag the helper could have)
    monkeypatch.setattr(checks_process.ChecksProcess, "receive_eagerly", False)
    inline = _run(tmp_path / "inline", urls[0], events, True, monkeypatch, clock)
    assert not made
    helper = _run(tmp_path / "helper", urls[1], events, True, monkeypatch, clock, checks_process=True)
    assert len(made) == 1 and made[0].helper_batches > 10 and made[0].inline_batches == 0
    _same_queue(inline, helper)


def _same_queue(old: dict[str, Any], new: dict[str, Any]) -> None:
    assert old["summary"].stats.citations == new["summary"].stats.citations > 600
    assert old["summary"].stats.voided > 0 and old["summary"].stats.amended > 0
    assert new["reread"]  # citations voided or amended in their own batch were read back as stored
    assert new["cases"] == old["cases"]
    assert new["exif"] == old["exif"]
    fired = Counter(w["code"] for _s, warnings, _n, _v in new["cases"].values() for w in warnings)
    # the checks really fired, several kinds of them, on most of the real rows
    assert len(fired) >= 5, fired
    assert sum(1 for _s, w, _n, _v in new["cases"].values() if w) > 400
    assert any(v > 1 for _s, _w, _n, v in new["cases"].values())  # rows whose warnings changed were updated


def _second_pg(request: pytest.FixtureRequest) -> str:
    """A second fresh database from the same template (pg_url gives one per test)."""
    import psycopg

    from tests.conftest import _pg_admin

    server = request.getfixturevalue("pg_server")
    template = request.getfixturevalue("pg_template")
    name = f"curbdesk_t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_pg_admin(server), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')

    def drop() -> None:
        with psycopg.connect(_pg_admin(server), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    request.addfinalizer(drop)
    return f"{server.rsplit('/', 1)[0]}/{name}"


def test_a_checks_helper_that_dies_mid_sync_leaves_every_citation_checked(
        tmp_path: Path, shared_data: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch,
        clock: FixedClock) -> None:
    """The helper killed (as by the system) after a few batches: the batches whose results did not come back
    and every later one are checked in the sync's own process; the queue is the in-line checks' queue."""
    events = _real_events(_data_dir(shared_data), 600)
    inline = _run(tmp_path / "inline", _copy(sqlite_template, tmp_path / "db-inline"), events, True, monkeypatch,
                  clock)
    made: list[Any] = []
    submit = checks_process.ChecksProcess.submit

    def killing(self: Any, batch: Any) -> None:
        submit(self, batch)
        made.append(self)
        if len(made) == 3:
            self._process.kill()
            self._process.join()

    monkeypatch.setattr(checks_process.ChecksProcess, "submit", killing)
    helper = _run(tmp_path / "helper", _copy(sqlite_template, tmp_path / "db-helper"), events, True, monkeypatch,
                  clock, checks_process=True)
    process = made[0]
    assert process.inline_batches >= len(made) - 3 > 5 and process.helper_batches <= 3
    _same_queue(inline, helper)
