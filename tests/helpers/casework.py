"""Test helpers for case processing: owners, the mail office confirming notices, escalation on a day."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select

from desktop.persistence.models import Notice, RegisteredOwner
from desktop.services.cases.escalation import EscalationResult, run_escalation
from desktop.services.cases.owners import address_fields
from desktop.services.core.context import Actor, AppContext

TZ = {"CA": "America/Los_Angeles", "NYC": "America/New_York", "ENG": "Europe/London"}


def add_owner(app: AppContext, plate: str, name: str = "GARCIA, MARIA",
              address: str = "1234 W Olympic Blvd Apt 5, Los Angeles, CA 90015", *, jurisdiction: str = "CA",
              valid_from: date = date(2015, 1, 1), valid_to: date | None = None, vin: str | None = None) -> int:
    with app.db.write_session() as s:
        o = RegisteredOwner(plate=plate, jurisdiction=jurisdiction, name=name, name_key=name.upper(),
                            valid_from=valid_from, valid_to=valid_to, vin=vin, source="test",
                            imported_at=datetime(2020, 1, 1, tzinfo=ZoneInfo("UTC")), **address_fields(address))
        s.add(o)
        s.commit()
        return o.id


def at_local(day: date, code: str = "CA", hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=ZoneInfo(TZ[code]))


def escalate(app: AppContext, clock, actor: Actor, day: date, code: str = "CA") -> EscalationResult:  # type: ignore[no-untyped-def]
    """Run the daily escalation for `day`, with the clock at 06:00 that morning (agency time)."""
    clock.now = at_local(day, code, 6)
    return run_escalation(app, actor, day)


def mail_queued(app: AppContext, day: date, code: str = "CA") -> int:
    """The mail office confirms every queued notice as mailed on `day` (another area builds the real thing)."""
    with app.db.write_session() as s:
        notices = list(s.scalars(select(Notice).where(Notice.status == "queued")))
        for n in notices:
            n.status, n.mailed_at = "mailed", at_local(day, code, 16)
        s.commit()
        return len(notices)
