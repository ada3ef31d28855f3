"""``copy_rows``: PostgreSQL's COPY writes the same rows an INSERT would (the demo's million-citation office is
written this way): UTC datetimes, JSON as JSON, the columns' constant defaults, booleans and NULLs."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from desktop.persistence.bulk import advance_id_sequences, copy_rows
from desktop.persistence.models import Citation
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
                 review_warnings=[], status="open", evidence_status="ok", on_hold=False, remarks=None, version=1)
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
    assert got["CP-1"].observations == [] and first.review_warnings == []
    assert first.held_days == 0 and first.signature_state == "unsigned" and first.on_hold is False  # the defaults
    assert first.remarks is None and first.id == 1000
    assert add_citation(any_app) > 1002  # the sequence moved past the copied ids
