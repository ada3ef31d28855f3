"""``copy_rows``: PostgreSQL's COPY writes the same rows an INSERT would (the demo's million-citation office is
written this way): UTC datetimes, JSON as JSON, the columns' constant defaults, booleans and NULLs."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from desktop.persistence.bulk import advance_id_sequences, copy_rows, insert_rows
from desktop.persistence.models import Citation, FieldEvent
from desktop.services.cases.queries import plate_key
from desktop.services.core.context import AppContext
from tests.helpers.factories import add_citation

pytestmark = pytest.mark.postgres


def test_copy_writes_what_an_insert_would(any_app: AppContext) -> None:
    issued = datetime(2026, 11, 20, 9, 30, tzinfo=timezone(timedelta(hours=-8)))
    rows = [dict(id=1000 + n, citation_number=f"CP-{n}", source_event_id=f"cp-{n}", device_id="HH-0001",
                 officer_badge="1234", issued_at=issued, received_at=issued + timedelta(minutes=5),
                 plate=f"7COP{n:03d}", plate_key=plate_key(f"7COP{n:03d}"), jurisdiction="CA", plate_type="PAS",
                 make="TOYT", lat=34.05, lon=-118.25, violation_code="88.13B+", violation_description="METER EXP.",
                 fine_cents=6300, handheld_fine_cents=6300,
                 observations=[{"kind": "chalk", "first_seen_at": issued.isoformat()}] if n == 0 else [],
                 status="open", evidence_status="ok", on_hold=False, remarks=None, version=1)
            for n in range(3)]
    with any_app.db.write_session() as s:
        copy_rows(s, Citation, rows)
        advance_id_sequences(s, Citation.__tablename__)
        s.commit()
    with any_app.db.reading() as s:
        got = {c.citation_number: c for c in s.scalars(select(Citation).where(Citation.citation_number.like("CP-%")))}
    first = got["CP-0"]
    assert first.issued_at == issued and first.issued_at.utcoffset() == timedelta(0)
    assert first.observations == [{"kind": "chalk", "first_seen_at": issued.isoformat()}]
    assert got["CP-1"].observations == []
    assert first.held_days == 0 and first.signature_state == "unsigned" and first.on_hold is False  # the defaults
    assert first.remarks is None and first.id == 1000
    assert add_citation(any_app) > 1002  # the sequence moved past the copied ids


def test_insert_rows_copies_what_an_insert_would_and_a_duplicate_key_is_an_integrity_error(
        any_app: AppContext) -> None:
    """The ingest's bulk inserts (COPY on PostgreSQL): the same rows SQLAlchemy's INSERT stores, and a key
    stored already raised as SQLAlchemy raises it (the ingest retries a batch on IntegrityError), leaving the
    session usable after its rollback."""
    at = datetime(2026, 11, 24, 9, 15, 2, 5, tzinfo=timezone(timedelta(hours=-8)))
    rows = [dict(event_id=f"e{n}", device_id="HH-1", seq=n, type="citation.issued", occurred_at=at,
                 received_at=at + timedelta(seconds=n), source="x", outcome="applied", raw='{"a":1}')
            for n in range(4)]
    table = FieldEvent.__table__
    with any_app.db.write_session() as s:
        s.execute(insert(table), rows[:2])
        insert_rows(s, table, rows[2:])  # type: ignore[arg-type]
        s.commit()
        with pytest.raises(IntegrityError):
            insert_rows(s, table, [dict(rows[0], seq=9)])  # type: ignore[arg-type]
        s.rollback()
        insert_rows(s, table, [dict(rows[0], event_id="e9", seq=9)])  # type: ignore[arg-type]
        s.commit()
    with any_app.db.reading() as s:
        stored = s.execute(select(FieldEvent.event_id, FieldEvent.occurred_at, FieldEvent.received_at)
                           .order_by(FieldEvent.seq)).all()
    assert [r[0] for r in stored] == ["e0", "e1", "e2", "e3", "e9"]
    assert {r[1] for r in stored} == {at} and stored[3][2] == at + timedelta(seconds=3)
