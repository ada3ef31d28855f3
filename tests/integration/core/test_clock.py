"""The agency clock: the agency's calendar day follows the ``agency.timezone`` setting, read in one place."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from desktop.domain.roles import Role
from desktop.services.core import settings
from desktop.services.core.clock import agency_date, agency_zone, read_agency_zone
from desktop.services.core.context import AppContext


def test_the_agency_day_is_the_local_day_of_the_configured_zone(app: AppContext, actors) -> None:  # type: ignore[no-untyped-def]
    late_evening_in_la = datetime(2026, 11, 25, 5, 30, tzinfo=UTC)  # 21:30 on the 24th in Los Angeles
    with app.db.reading() as s:
        assert agency_zone(s) == ZoneInfo("America/Los_Angeles")  # the declared default
        assert agency_date(s, late_evening_in_la) == date(2026, 11, 24)
    settings.set_value(app, actors[Role.ADMIN], "agency.timezone", "Europe/London")
    with app.db.reading() as s:
        assert agency_date(s, late_evening_in_la) == date(2026, 11, 25)
    assert read_agency_zone(app) == ZoneInfo("Europe/London")
