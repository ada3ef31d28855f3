"""The agency clock: the agency's time zone (the ``agency.timezone`` setting) and its calendar day.

"Today" for the daily run, a cash drawer's business date, the work list of cases due, the day a
permit starts: every one of them is the agency's local date of a moment, read here and nowhere else.
The moment itself comes from the caller (``AppContext.now()``), so tests can fix the clock.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from desktop.services.core import settings
from desktop.services.core.context import AppContext


def agency_zone(session: Session) -> ZoneInfo:
    """The agency's time zone."""
    return ZoneInfo(str(settings.get(session, "agency.timezone")))


def agency_date(session: Session, at: datetime) -> date:
    """The agency's local calendar day of the moment ``at`` (with ``app.now()``: the agency's today)."""
    return at.astimezone(agency_zone(session)).date()


def read_agency_zone(app: AppContext) -> ZoneInfo:
    """The agency's time zone, read in a session of its own (for a screen that keeps it)."""
    with app.db.reading() as session:
        return agency_zone(session)
