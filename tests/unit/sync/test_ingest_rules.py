"""Pieces of the ingest that need no database: sequence gaps, the fine schedule, limits on what an event may hold."""

from __future__ import annotations

import gc
import json
import threading
from datetime import date

import pytest

from desktop.services.sync.ingest_rules import FineLine, FineSchedule, SeqTracker
from desktop.sync.collector import collector_paused
from desktop.sync.prepared import photo_refs, prepare
from tests.helpers.sync_helpers import valid_event


def test_gaps_open_and_close_in_any_order() -> None:
    t = SeqTracker(None, [])
    for seq in (1, 2, 5, 6, 9):
        t.add(seq)
    assert t.last_seq == 9 and t.gaps == [[3, 4], [7, 8]] and t.missing == 4
    t.add(3)
    assert t.gaps == [[4, 4], [7, 8]]
    t.add(8)
    t.add(7)
    t.add(4)
    assert t.gaps == [] and t.missing == 0
    t.add(5)  # a repeat changes nothing
    assert t.gaps == [] and t.last_seq == 9


def test_a_gap_in_the_middle_of_a_range_splits_it() -> None:
    t = SeqTracker(10, [[3, 9]])
    t.add(6)
    assert t.gaps == [[3, 5], [7, 9]] and t.changed


def test_an_event_older_than_the_first_seen_opens_a_gap_below() -> None:
    t = SeqTracker(20, [], lowest=lambda: 15)
    t.add(11)
    assert t.gaps == [[12, 14]]
    t.add(12)
    assert t.gaps == [[13, 14]]


def test_gap_list_is_bounded() -> None:
    t = SeqTracker(None, [])
    for seq in range(0, 3000, 2):
        t.add(seq)
    assert len(t.gaps) == 500 and t.gaps[-1] == [2997, 2997]


def test_fine_schedule_picks_the_line_in_force_on_the_day() -> None:
    schedule = FineSchedule({"88.13B+": [
        FineLine(date(2024, 7, 1), date(2025, 6, 30), 5800, "METER EXP."),
        FineLine(date(2025, 7, 1), None, 6300, "METER EXP."),
    ]})
    assert schedule.lookup("88.13B+", date(2025, 6, 30)).fine_cents == 5800
    assert schedule.lookup("88.13B+", date(2025, 7, 1)).fine_cents == 6300
    assert schedule.lookup("88.13B+", date(2024, 1, 1)) is None
    assert schedule.lookup("NOPE", date(2025, 7, 1)) is None


def _reason(event: object) -> str | None:
    return prepare(event).reason


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda e: e["payload"]["vehicle"].update(plate="A" * 17), "vehicle.plate: longer than 16"),
        (lambda e: e["payload"]["vehicle"].update(plate="- -"), "vehicle.plate: has no letters or digits"),
        (lambda e: e["payload"]["vehicle"].update(make="M" * 40), "vehicle.make: longer than 32"),
        (lambda e: e["payload"].update(citation_number="N" * 65), "citation_number: longer than 64"),
        (lambda e: e.update(event_id="E" * 101), "event_id: longer than 100"),
        (lambda e: e.update(seq=2**63), "seq: too large"),
        (lambda e: e["payload"]["violations"][0].update(fine_cents=2**31), "fine_cents: too large"),
        (lambda e: e["payload"]["violations"].append({"code": "X", "fine_cents": 2**31 - 1}), "add up"),
        (lambda e: e["payload"]["location"].update(accuracy_m=float("inf")), "accuracy_m: must be a finite"),
        (lambda e: e["payload"]["photos"][0].update(bytes=2**40), "bytes: too large"),
        (lambda e: e["payload"].update(remarks="nul\x00inside"), "NUL character"),
        (lambda e: e["payload"].update(remarks="\ud800 lone"), "not valid Unicode"),
        (lambda e: e["payload"]["location"].update(address="x" * 201), "location.address: longer than 200"),
    ],
)
def test_events_that_would_not_fit_the_database_are_refused(change: object, words: str) -> None:
    event = valid_event()
    change(event)  # type: ignore[operator]
    reason = _reason(event)
    assert reason is not None and words in reason


def test_a_valid_event_passes_and_its_raw_text_round_trips() -> None:
    event = valid_event()
    event["payload"]["remarks"] = "café ✓"
    item = prepare(event)
    assert item.reason is None and item.parsed is not None
    assert json.loads(item.raw_text) == event and "café ✓" in item.raw_text
    assert photo_refs(item) == [(event["payload"]["photos"][0]["sha256"], 183234)]


def test_raw_text_of_odd_items_is_storable() -> None:
    assert prepare("\x00broken").raw_text == "\ufffdbroken"
    lone = prepare({"event_id": "\ud800"})
    lone.raw_text.encode("utf-8")
    assert lone.reason is not None


def test_photos_of_a_quarantined_event_are_still_listed() -> None:
    event = valid_event()
    del event["payload"]["vehicle"]["plate"]
    item = prepare(event)
    assert item.parsed is None
    assert photo_refs(item) == [(event["payload"]["photos"][0]["sha256"], 183234)]


@pytest.mark.parametrize(
    ("event_type", "payload", "reason"),
    [
        ("citation.amended", {"citation_number": "A1", "changes": {"vehicle": {"make": "M" * 33}}},
         "payload.changes.vehicle.make: longer than 32 characters (33)"),
        ("citation.amended", {"citation_number": "A1", "changes": {"vehicle": {"plate": "P" * 17}}},
         "payload.changes.vehicle.plate: longer than 16 characters (17)"),
        ("citation.amended", {"citation_number": "A1", "changes": {"violations": [
            {"code": "X", "fine_cents": 2**31 - 1}, {"code": "Y", "fine_cents": 1}]}},
         "payload.changes.violations: the fines add up to more than 2147483647 cents"),
        ("citation.amended", {"citation_number": "A1", "changes": {"location": {"accuracy_m": float("nan")}}},
         "payload.changes.location.accuracy_m: must be a finite number"),
        ("citation.voided", {"citation_number": "V" * 65, "voided_at": "2026-11-24T10:00:00Z"},
         "payload.citation_number: longer than 64 characters (65)"),
        ("patrol.shift", {"officer_badge": "1234", "zone": "Z-1", "started_at": "2026-11-24T07:00:00Z",
                          "vehicles_checked": 2**31}, "payload.vehicles_checked: too large (2147483648)"),
        ("patrol.check", {"zone": "Z-1", "checked_at": "2026-11-24T07:10:00Z", "plate": "..",
                          "jurisdiction": "CA", "result": "paid"}, "payload.plate: has no letters or digits ('..')"),
        ("patrol.check", {"zone": "Z-1", "checked_at": "2026-11-24T07:10:00Z", "plate": "7ABC123",
                          "jurisdiction": "CALIFORNIA", "result": "paid"},
         "payload.jurisdiction: longer than 8 characters (10)"),
        ("x" * 65, {}, "type: longer than 64 characters (65)"),
    ],
)
def test_every_event_type_is_held_to_the_column_widths_with_a_clerk_readable_reason(
        event_type: str, payload: dict[str, object], reason: str) -> None:
    assert _reason(valid_event(type=event_type, payload=payload)) == reason


def test_a_lat_out_of_range_keeps_pydantics_own_words() -> None:
    """Only the columns' integer maxima read "too large"; a latitude says what its range is."""
    event = valid_event()
    event["payload"]["location"]["lat"] = 91.0
    assert "less than or equal to 90" in (_reason(event) or "")


def test_the_collector_is_paused_inside_and_left_as_it_was() -> None:
    was = gc.isenabled()
    try:
        gc.enable()
        with collector_paused():
            assert not gc.isenabled()
        assert gc.isenabled()
        with pytest.raises(RuntimeError), collector_paused():
            raise RuntimeError("a failed batch")
        assert gc.isenabled()
        gc.disable()  # as the app's GUI-thread collector keeps it
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
        # two threads inside at once: the collector comes back only when the last one leaves
        gc.enable()
        inside, leave = threading.Event(), threading.Event()

        def other() -> None:
            with collector_paused():
                inside.set()
                leave.wait(5)

        worker = threading.Thread(target=other)
        worker.start()
        inside.wait(5)
        with collector_paused():
            leave.set()
            worker.join(5)
            assert not gc.isenabled()
        assert gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()
