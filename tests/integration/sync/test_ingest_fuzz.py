"""Property-based: whatever a handheld sends, the ingest never raises, never stops, stores every new event
once (or quarantines it with a one-line reason), and the database (SQLite and PostgreSQL) stays consistent."""

from __future__ import annotations

import copy
import itertools
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from desktop.persistence.models import FieldEvent, QuarantinedEvent
from desktop.services.core.audit import verify
from desktop.services.core.context import AppContext
from desktop.services.sync.ingest import Ingestor
from tests.helpers.ingest_helpers import SYSTEM
from tests.helpers.sync_helpers import valid_event

_serial = itertools.count(1)

ODD_TEXT = st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(["\x00", "\ud800", "é", "✓", " "]),
                   max_size=40)
ODD_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True) | ODD_TEXT
    | st.sampled_from(["2026-11-24T09:15:02", "2026-11-24T09:15:02-08:00", "", "HH-0001", "citation.issued"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ODD_TEXT, inner, max_size=3),
    max_leaves=6,
)
PATHS = [
    ("event_id",), ("device_id",), ("seq",), ("type",), ("occurred_at",), ("payload",), ("signature",),
    ("payload", "citation_number"), ("payload", "officer_badge"), ("payload", "issued_at"),
    ("payload", "vehicle"), ("payload", "vehicle", "plate"), ("payload", "vehicle", "jurisdiction"),
    ("payload", "vehicle", "make"), ("payload", "location"), ("payload", "location", "lat"),
    ("payload", "location", "lon"), ("payload", "location", "accuracy_m"), ("payload", "location", "zone"),
    ("payload", "violations"), ("payload", "violations", 0), ("payload", "violations", 0, "code"),
    ("payload", "violations", 0, "fine_cents"), ("payload", "photos"), ("payload", "photos", 0, "sha256"),
    ("payload", "photos", 0, "bytes"), ("payload", "observations"), ("payload", "remarks"),
    ("payload", "changes"), ("payload", "voided_at"), ("payload", "zone"), ("payload", "result"),
]
TYPES = ["citation.issued", "citation.voided", "citation.amended", "patrol.shift", "patrol.check", "device.other"]


def _set(event: dict[str, Any], path: tuple[Any, ...], value: Any, delete: bool) -> None:
    target: Any = event
    for key in path[:-1]:
        if isinstance(target, dict) and key in target or isinstance(target, list) and isinstance(key, int) and key < len(target):
            target = target[key]
        else:
            return
    last = path[-1]
    if isinstance(target, dict):
        if delete:
            target.pop(last, None)
        else:
            target[last] = value
    elif isinstance(target, list) and isinstance(last, int) and last < len(target):
        if delete:
            del target[last]
        else:
            target[last] = value


@st.composite
def events(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(["mutated", "mutated", "mutated", "text", "other"]))
    if kind == "text":
        return draw(st.text(max_size=80) | st.sampled_from(["", "{", "[]", "null", '{"event_id": 1}']))
    if kind == "other":
        return draw(ODD_VALUE)
    event = copy.deepcopy(valid_event())
    n = next(_serial)
    event["event_id"] = draw(st.sampled_from([f"fz-{n}", f"fz-{n % 7}", "fz-fixed"]))
    event["seq"] = n
    event["payload"]["citation_number"] = draw(st.sampled_from([f"FZ-{n}", "FZ-SAME", "HH0042-000123"]))
    event["type"] = draw(st.sampled_from(TYPES))
    if event["type"] == "citation.voided":
        event["payload"] = {"citation_number": event["payload"]["citation_number"],
                            "voided_at": "2026-11-24T10:00:00-08:00", "reason": "moved"}
    elif event["type"] == "citation.amended":
        event["payload"] = {"citation_number": event["payload"]["citation_number"],
                            "changes": draw(st.sampled_from([{"vehicle": {"plate": "8XYZ999"}},
                                                             {"remarks": "corrected"}, {}]))}
    for _ in range(draw(st.integers(0, 3))):
        _set(event, draw(st.sampled_from(PATHS)), draw(ODD_VALUE), draw(st.booleans()))
    return event


def _check(app: AppContext, batch: list[Any]) -> None:
    with app.db.reading() as s:
        before_events = s.scalar(select(func.count()).select_from(FieldEvent))
    stats = Ingestor(app, SYSTEM, "endpoint:fuzz").ingest(batch)
    assert stats.received == len(batch)
    assert stats.events <= len(batch)
    assert stats.quarantined + stats.citations + stats.skipped + stats.patrol + stats.voided + stats.amended \
        <= stats.events
    with app.db.reading() as s:
        after_events = s.scalar(select(func.count()).select_from(FieldEvent))
        reasons = list(s.scalars(select(QuarantinedEvent.reason)))
    assert after_events >= before_events
    assert all(r and "\n" not in r for r in reasons)
    # the same batch again (a repeated page) stores nothing new
    again = Ingestor(app, SYSTEM, "endpoint:fuzz").ingest(batch)
    assert again.events == 0 and again.duplicates == len(batch)
    with app.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(FieldEvent)) == after_events
        assert s.scalar(select(func.count()).select_from(QuarantinedEvent)) == len(reasons)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(batch=st.lists(events(), min_size=1, max_size=6))
def test_any_batch_is_taken_without_stopping_the_feed(any_app: AppContext, batch: list[Any]) -> None:
    _check(any_app, batch)


def test_the_chain_holds_after_a_fuzzed_run(any_app: AppContext) -> None:
    runs = st.lists(events(), min_size=1, max_size=8)

    @settings(max_examples=40, deadline=None)
    @given(batch=runs)
    def run(batch: list[Any]) -> None:
        _check(any_app, batch)

    run()
    assert verify(any_app.db).ok
    with any_app.db.reading() as s:
        for raw in s.scalars(select(FieldEvent.raw)):
            assert isinstance(raw, str)
            if raw.startswith("{"):
                json.loads(raw)


def test_what_a_broken_event_says_about_itself_is_stored_safely(any_app: AppContext) -> None:
    """A quarantined event keeps its id for dedupe even when its other envelope fields are out of range."""
    bad = []
    for n, seq in enumerate([2**70, -5, 2**63]):
        event = copy.deepcopy(valid_event(event_id=f"odd-{n}", seq=seq))
        del event["payload"]["vehicle"]
        bad.append(event)
    bad.append({"event_id": "x" * 300, "device_id": "d" * 300, "seq": 1, "type": "t" * 300})
    stats = Ingestor(any_app, SYSTEM, "endpoint:odd").ingest(bad)
    assert stats.quarantined == 4
    again = Ingestor(any_app, SYSTEM, "endpoint:odd").ingest(bad)
    assert again.duplicates == 4 and again.quarantined == 0
