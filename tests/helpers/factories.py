"""Building citations and cases in tests without going through field sync."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from desktop.persistence.models import Citation, CitationViolation, LedgerEntry
from desktop.services.cases.queries import plate_key
from desktop.services.core.context import AppContext

_counter = [0]


def add_citation(app: AppContext, *, plate: str = "7ABC123", status: str = "open", fine_cents: int = 6300,
                 issued_at: datetime | None = None, number: str | None = None, with_fine: bool = True,
                 **extra: Any) -> int:
    """Insert one citation directly (test set-up only); returns its id."""
    _counter[0] += 1
    issued = issued_at or datetime(2026, 11, 20, 17, 15, tzinfo=timezone.utc)
    with app.db.write_session() as s:
        c = Citation(
            citation_number=number or f"T{_counter[0]:07d}", device_id="HH-0001", officer_badge=extra.pop("officer_badge", "1234"),
            issued_at=issued, received_at=issued + timedelta(minutes=10), plate=plate, plate_key=plate_key(plate),
            jurisdiction=extra.pop("jurisdiction", "CA"), make=extra.pop("make", "TOYT"), lat=34.05, lon=-118.25,
            violation_code=extra.pop("violation_code", "88.13B+"), violation_description="METER EXP.", fine_cents=fine_cents,
            handheld_fine_cents=fine_cents, status=status, evidence_status="ok", observations=[],
            review_warnings=[], **extra,
        )
        c.violations.append(CitationViolation(code="88.13B+", description="METER EXP.", fine_cents=fine_cents,
                                              handheld_fine_cents=fine_cents))
        s.add(c)
        s.flush()
        if with_fine and status not in ("pending_review", "received", "voided"):
            s.add(LedgerEntry(citation_id=c.id, kind="fine", amount_cents=fine_cents, at=issued,
                              effective_date=issued.date(), dedupe_key="fine"))
        s.commit()
        return c.id
