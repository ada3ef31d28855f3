"""A prepared event crosses to another process as plain values and comes back the same; its typed
event is parsed again from its text only where the ingest asks for it."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from desktop.sync.prepared import PreparedEvent, prepare
from tests.helpers.sync_helpers import valid_event


def _events() -> list[Any]:
    issued = valid_event()
    issued["payload"]["violations"].append({"code": "5204A", "description": None, "fine_cents": None})
    shift = valid_event(event_id="e-shift", type="patrol.shift",
                        payload={"officer_badge": "1234", "zone": "Z-1", "started_at": "2026-11-24T07:00:00Z",
                                 "ended_at": None, "vehicles_checked": 12})
    check = valid_event(event_id="e-check", type="patrol.check",
                        payload={"zone": "Z-1", "checked_at": "2026-11-24T07:30:00Z", "plate": "7 abc-123",
                                 "jurisdiction": "CA", "result": "paid"})
    voided = valid_event(event_id="e-void", type="citation.voided",
                         payload={"citation_number": "HH0042-000123", "voided_at": "2026-11-24T09:20:00Z"})
    amended = valid_event(event_id="e-amend", type="citation.amended",
                          payload={"citation_number": "HH0042-000123", "changes": {"remarks": "corrected"}})
    unknown = valid_event(event_id="e-new", type="meter.reading", payload={"meter": "M-1"})
    refused = valid_event(event_id="e-bad")
    del refused["payload"]["vehicle"]["plate"]
    return [issued, shift, check, voided, amended, unknown, refused, "not json", {"event_id": "x" * 101}]


def _values(item: PreparedEvent) -> dict[str, Any]:
    return {k: v for k, v in vars(item).items() if k != "_parsed"}


@pytest.mark.parametrize("event", _events(), ids=lambda e: e["type"] if isinstance(e, dict) and "type" in e
                         else "odd")
def test_plain_values_rebuild_the_same_prepared_event(event: Any) -> None:
    item = prepare(event)
    wire = pickle.loads(pickle.dumps(item.plain(), pickle.HIGHEST_PROTOCOL))
    back = PreparedEvent.from_plain(wire)
    assert _values(back) == _values(item)
    assert back._parsed is None  # parsed again only when asked
    if item.reason is None:
        assert back.parsed is not None and back.parsed.envelope == item.parsed.envelope
    else:
        assert back.parsed is None


def test_what_the_ingest_reads_is_reduced_to_plain_values() -> None:
    issued, shift, check = (prepare(e) for e in _events()[:3])
    c = issued.issued
    assert c is not None and c.plate == "7ABC123" and c.issued_at.utcoffset().total_seconds() == 0
    assert [(v.code, v.fine_cents) for v in c.violations] == [("80.69BS", 7300), ("5204A", None)]
    assert issued.digest is not None and len(issued.digest) == 64 and issued.officer_badge == "1234"
    assert [p.bytes for p in issued.photos] == [183234]
    assert shift.patrol == {"event_id": "e-shift", "officer_badge": "1234", "zone_code": "Z-1",
                            "started_at": shift.patrol["started_at"], "ended_at": None, "vehicles_checked": 12}
    assert check.patrol is not None and check.patrol["plate"] == "7ABC123"
