"""The ingest's fast paths keep every rule: events kept as received, page-level validation, conflicts by
content, bulk inserts equal to SQLAlchemy's, the audit chain and the case timeline, batched commits."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import DateTime, insert, select

from desktop.persistence.bulk import _plan, _values, insert_rows
from desktop.persistence.models import AuditEntry, Citation, FieldEvent
from desktop.persistence.types import UTCDateTime
from desktop.services.cases import queries as cases
from desktop.services.core import audit
from desktop.services.core.context import AppContext
from desktop.services.sync.ingest import Ingestor
from desktop.sync.client import split_event_page
from desktop.sync.wire import ReceivedEvent
from tests.helpers.ingest_helpers import SYSTEM, counts, fail_apply_on_call, quarantine_reasons, sync
from tests.helpers.sync_helpers import valid_event


def _event(n: int, **payload: Any) -> dict[str, Any]:
    event = valid_event(event_id=f"ev-{n}", device_id="HH-0042", seq=n)
    event["payload"]["citation_number"] = f"HH0042-{n:06d}"
    event["payload"]["photos"] = []
    event["payload"].update(payload)
    return event


def _page(events: list[Any], indent: int | None = None) -> list[ReceivedEvent]:
    """An endpoint answer as text, split the way the client splits it."""
    body = json.dumps({"more": False, "events": events, "next": "c1"}, indent=indent)
    split = split_event_page(body)
    assert split is not None
    page, texts = split
    assert page == json.loads(body)
    return [ReceivedEvent(text, value) for text, value in zip(texts, page["events"], strict=True)]


# --------------------------------------------------------------------------- the page split


@pytest.mark.parametrize("body", [
    '{"events":[1,]}', '{"events":[1],}', '{"events":{}}', "[1]", '{"events":[1]} x', '{"events":[{"a":1}]',
    "{}", '{"events":[1], "events":3}', "",
])
def test_a_page_that_cannot_be_split_is_left_to_the_ordinary_decoder(body: str) -> None:
    assert split_event_page(body) is None


def test_the_split_keeps_each_event_s_own_text() -> None:
    body = ' { "more" : true , "events" : [ {"a": [1, 2]} , {"b":"x]}\\u00e9"} ] , "next":"c1" } '
    split = split_event_page(body)
    assert split is not None
    assert split[0] == json.loads(body) and split[1] == ['{"a": [1, 2]}', '{"b":"x]}\\u00e9"}']


# --------------------------------------------------------------------------- rules on a page of received events


def test_a_page_keeps_its_good_events_quarantines_exactly_the_bad_ones_and_stores_the_text_received(
        app: AppContext) -> None:
    bad_plate = _event(2)
    del bad_plate["payload"]["vehicle"]["plate"]
    naive = _event(3, issued_at="2026-11-24T09:15:02")
    items = _page([_event(1), bad_plate, naive, "{not json", 7, _event(4)], indent=2)
    stats = Ingestor(app, SYSTEM, "endpoint:test", review_checks=False).ingest(items)
    assert stats.citations == 2 and stats.quarantined == 4
    reasons = quarantine_reasons(app)
    assert any("vehicle.plate: required field is missing" in r for r in reasons)
    assert any("time has no UTC offset" in r for r in reasons)
    assert any("unreadable JSON" in r for r in reasons)
    assert any("must be a JSON object" in r for r in reasons)
    with app.db.reading() as s:
        raw = {e.event_id: e.raw for e in s.scalars(select(FieldEvent))}
        assert sorted(s.scalars(select(Citation.citation_number))) == ["HH0042-000001", "HH0042-000004"]
    assert raw["ev-1"] == items[0].text and "\n" in raw["ev-1"]  # as received, not encoded again


def test_conflicts_are_told_by_content_whatever_the_formatting(app: AppContext) -> None:
    ingestor = Ingestor(app, SYSTEM, "endpoint:test", review_checks=False)
    ingestor.ingest(_page([_event(1)]))
    same = _event(1)
    same["event_id"] = "ev-1-again"
    same["payload"] = dict(reversed(list(same["payload"].items())))  # other key order, other spacing
    changed = _event(1, remarks="changed on the handheld")
    changed["event_id"] = "ev-1-changed"
    stats = ingestor.ingest(_page([same, changed], indent=4))
    assert stats.duplicates == 1 and stats.quarantined == 1
    assert any("conflict: citation HH0042-000001 was already received in event ev-1" in r
               for r in quarantine_reasons(app))
    with app.db.reading() as s:
        first = s.scalar(select(Citation).where(Citation.citation_number == "HH0042-000001"))
        assert first.source_event_id == "ev-1" and first.remarks == valid_event()["payload"]["remarks"]


def test_a_bulk_ingest_leaves_a_whole_audit_chain_and_each_case_shows_its_sync_entry(app: AppContext) -> None:
    stats = Ingestor(app, SYSTEM, "endpoint:test", review_checks=False).ingest(
        _page([_event(n) for n in range(1, 41)]))
    assert stats.citations == 40
    assert audit.verify(app.db).ok
    with app.db.reading() as s:
        ids = list(s.scalars(select(Citation.id).order_by(Citation.id)))
        received = {int(e.entity_id) for e in s.scalars(
            select(AuditEntry).where(AuditEntry.action == "citation.received"))}
    assert received == set(ids)
    for citation_id in (ids[0], ids[-1]):
        timeline = cases.case_detail(app, SYSTEM, citation_id).timeline
        assert any(item.kind == "sync" and "HH-0042" in item.what + item.detail for item in timeline)


# --------------------------------------------------------------------------- bulk inserts


def test_insert_rows_stores_what_sqlalchemy_s_insert_stores(app: AppContext) -> None:
    at = datetime(2026, 11, 24, 9, 15, 2, 5, tzinfo=timezone(timedelta(hours=-8)))
    rows = [dict(event_id=f"e{n}", device_id="HH-1", seq=n, type="citation.issued", occurred_at=at,
                 received_at=at + timedelta(seconds=n), source="x", outcome="applied", raw='{"a":1}')
            for n in range(4)]
    table = FieldEvent.__table__
    with app.db.write_session() as s:
        s.execute(insert(table), rows[:2])
        insert_rows(s, table, rows[2:])  # type: ignore[arg-type]
        s.commit()
    with app.db.engine.connect() as c:
        stored = c.exec_driver_sql("select event_id, occurred_at, received_at from field_events order by seq").all()
    assert stored[0][1] == stored[2][1] == "2026-11-24 17:15:02.000005"
    assert [r[2][-9:] for r in stored] == ["02.000005", "03.000005", "04.000005", "05.000005"]


def test_bulk_values_convert_a_value_shared_by_consecutive_rows_once_and_keep_every_row_s_own() -> None:
    calls: list[Any] = []

    def process(value: Any) -> str:
        calls.append(value)
        return f"<{value}>"

    now, empty = object(), ()
    rows = [{"a": now, "b": 1, "c": empty}, {"a": now, "b": 2, "c": empty}, {"a": "x", "b": 3, "c": [1]},
            {"a": now, "b": 4, "c": empty}]
    values = _values(rows, (("a", process), ("b", None), ("c", json.dumps)), ("k",))
    assert values == [(f"<{now}>", 1, "[]", "k"), (f"<{now}>", 2, "[]", "k"), ("<x>", 3, "[1]", "k"),
                      (f"<{now}>", 4, "[]", "k")]
    assert calls == [now, "x", now]
    assert _values([{"b": 5}], (("b", None),), ()) == [(5,)]


def test_insert_rows_fills_constant_defaults_and_leaves_computed_ones_to_sqlalchemy(app: AppContext) -> None:
    dialect = app.db.engine.dialect
    table = Citation.__table__
    # observations defaults to a new list (computed in Python): without it, SQLAlchemy's insert is used
    assert _plan(table, ("citation_number", "plate"), dialect) is None  # type: ignore[arg-type]
    keys = tuple(c.key for c in table.columns if c.key != "held_days")
    plan = _plan(table, keys, dialect)  # type: ignore[arg-type]
    assert plan is not None and plan[0].endswith("?)") and "held_days" in plan[0] and plan[2] == (0,)


def test_utc_datetimes_are_written_for_sqlite_as_sqlalchemy_writes_them(app: AppContext) -> None:
    dialect = app.db.engine.dialect
    fast = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    plain = DateTime().dialect_impl(dialect).bind_processor(dialect)
    assert fast is not None and plain is not None
    for value in (datetime(2026, 11, 24, 9, 15, 2, tzinfo=timezone(timedelta(hours=-8))),
                  datetime(1, 1, 1, tzinfo=UTC), datetime(2026, 3, 8, 10, 0, 0, 1, tzinfo=UTC)):
        assert fast(value) == plain(value.astimezone(UTC).replace(tzinfo=None))
    with pytest.raises(ValueError, match="naive"):
        fast(datetime(2026, 1, 1))


# --------------------------------------------------------------------------- batched commits


def test_pages_batched_into_one_commit_are_acked_only_after_it(app: AppContext, simulator_factory: Any,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    sim = simulator_factory(citations=30)
    restore = fail_apply_on_call(monkeypatch, 2)
    with pytest.raises(RuntimeError):
        sync(app, sim, page_limit=5, commit_events=10)  # two pages a transaction
    assert sim.acked_cursor == "c10" and counts(app)["events"] == 10
    restore()
    summary = sync(app, sim, page_limit=5, commit_events=10)
    assert summary.stats.events == len(sim.all_events) - 10
    assert counts(app)["events"] == len(sim.all_events) and sim.acked_cursor == f"c{len(sim.all_events)}"
    assert audit.verify(app.db).ok
