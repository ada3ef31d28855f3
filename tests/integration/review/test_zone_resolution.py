"""One zone resolution for every check and every line of text: a handheld's zone code that is not a known
zone never stands beside "no zone known here", nor beside the rules of another zone, unexplained."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from desktop.domain.roles import Role
from desktop.persistence.models import Permit, PermitPlate
from desktop.services.review import queue as review
from desktop.services.review.checks import recheck_pending
from desktop.ui.review.evidence_text import facts_html
from tests.helpers.review_data import ISSUED, ZONE, add_pending, warnings_of


def test_an_unknown_handheld_zone_inside_a_known_one_uses_the_known_one(reference, actors) -> None:
    """"Z-DOWNTOWN-2" from the handheld, the location inside Z-TEST: every check (the permit too) and the
    text use Z-TEST, and the text says why."""
    cid = add_pending(reference, plate="5PRM001", zone_code="Z-DOWNTOWN-2")
    with reference.db.write_session() as s:
        good = Permit(permit_number="RPP-9", type="residential", zones=[ZONE], valid_from=ISSUED - timedelta(days=30),
                      valid_to=ISSUED + timedelta(days=300), status="active")
        good.plates.append(PermitPlate(plate="5PRM001", jurisdiction="CA"))
        s.add(good)
        s.commit()
    recheck_pending(reference)
    item = review.review_item(reference, actors[Role.CLERK], cid)
    assert item.zone_code == ZONE and [z.code for z in item.zones][:1] == [ZONE]
    assert "valid_permit" in warnings_of(reference, cid)  # the permit for Z-TEST is seen
    text = facts_html(item, ZoneInfo(item.local_tz))
    assert f"zone {ZONE}" in text and "Z-DOWNTOWN-2 is not a known zone" in text


def test_an_unknown_zone_nowhere_known_is_said_once(reference, actors) -> None:
    cid = add_pending(reference, zone_code="Z-MISSION-1", lat=37.7599, lon=-122.4148)
    item = review.review_item(reference, actors[Role.CLERK], cid)
    text = facts_html(item, ZoneInfo(item.local_tz))
    assert "no zone known here" not in text
    assert "Z-MISSION-1 is not a known zone, and no known zone holds the location" in text
