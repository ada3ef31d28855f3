"""Every owner lookup is recorded with its real purpose (Driver's Privacy Protection Act, 18 U.S.C. 2721(b)):
the daily run's automatic lookups say so, and an automatic job cannot record a clerk's enquiry."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from desktop.domain.errors import UserError
from desktop.domain.roles import Role
from desktop.persistence.models import OwnerLookup
from desktop.services.cases import owners
from desktop.services.cases import queries as cases
from desktop.services.core.context import Actor
from tests.conftest import seed_users
from tests.helpers.casework import add_owner, escalate
from tests.helpers.factories import add_citation

LA = ZoneInfo("America/Los_Angeles")


def test_the_daily_runs_lookup_says_it_was_automatic_for_a_notice(app, clock) -> None:
    actors = seed_users(app)
    add_owner(app, "7ABC123")
    cid = add_citation(app, issued_at=datetime(2024, 1, 10, 9, tzinfo=LA))
    escalate(app, clock, actors[Role.SUPERVISOR], date(2024, 1, 31))
    with app.db.reading() as s:
        (lookup,) = s.scalars(select(OwnerLookup).where(OwnerLookup.citation_id == cid))
    assert lookup.purpose.startswith("notice mailing: automatic lookup by the daily run")
    assert "2721(b)(4)" in lookup.purpose
    (item,) = [t for t in cases.case_detail(app, actors[Role.CLERK], cid).timeline if t.kind == "owner"]
    assert "automatic lookup by the daily run" in item.detail and "clerk enquiry" not in item.detail


def test_an_automatic_job_cannot_record_a_clerks_enquiry(app) -> None:
    seed_users(app)
    add_owner(app, "7ABC123")
    add_citation(app, issued_at=datetime(2024, 1, 10, 9, tzinfo=LA))
    clerk_enquiry = next(p for p in owners.PURPOSES if p.startswith("clerk enquiry"))
    with pytest.raises(UserError, match="automatic"):
        owners.assign_owners(app, Actor.system("demo"), clerk_enquiry, statuses=None)
    with app.db.reading() as s:
        assert s.scalars(select(OwnerLookup)).all() == []
