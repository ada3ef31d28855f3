"""The demo's patrols (issue 18, point 8): shifts and checks for every zone that has citations, downtown
less compliant than the quiet edges, one zone never patrolled, one patrolled without a shape; once only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from desktop.demo import office
from desktop.demo.patrol import add_patrols
from desktop.persistence.models import PatrolCheck, PatrolShift, Zone
from desktop.services.admin import users
from desktop.services.core.clock import agency_date
from desktop.services.core.context import AppContext
from desktop.services.patrol import stats


def test_the_demo_office_has_believable_patrols(app: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    # the demo's citations alone (the other screens' extensions take a minute and are tested on their own)
    monkeypatch.setattr(office, "run_extensions", lambda _app, _note: None)
    office.build_demo(app, 600, seed=7)
    assert add_patrols(app, lambda *_a: None)[0] > 0
    with app.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(PatrolShift)) > 100
        checks = s.scalar(select(func.count()).select_from(PatrolCheck))
        today = agency_date(s, app.now())
        # a zone with a shape has the centre the patrol plan measures travel from (the importer's centroid)
        park = s.get_one(Zone, "Z-ELYSIAN-PARK")
        assert park.centroid_lat == pytest.approx(34.072) and park.centroid_lon == pytest.approx(-118.2395)
        assert s.get_one(Zone, "Z-UNION-STATION").centroid_lat is None
    assert add_patrols(app, lambda *_a: None) == (0, 0)  # done once
    supervisor = users.actor_for(app, "supervisor")
    assert supervisor is not None
    rows = {z.zone_code: z for z in stats.zone_stats(app, supervisor, today - timedelta(days=27), today)}
    assert rows["Z-ELYSIAN-PARK"].violations_per_hour is None and not rows["Z-ELYSIAN-PARK"].patrolled
    assert rows["Z-UNION-STATION"].patrolled and not rows["Z-UNION-STATION"].has_geometry
    busy = rows["Z-FINANCIAL"].compliance_rate
    quiet = rows["Z-CHINATOWN"].compliance_rate
    assert busy is not None and quiet is not None and busy + 0.1 < quiet
    # lunch downtown on weekdays is less compliant than the same zone's early morning
    grid = stats.hour_of_week(app, supervisor, today - timedelta(days=41), today, zone="Z-FINANCIAL",
                              measure="compliance")
    lunch = [grid.cells[d][h] for d in range(5) for h in (11, 12, 13) if grid.cells[d][h] is not None]
    other = [grid.cells[d][h] for d in range(5) for h in (15, 16, 17) if grid.cells[d][h] is not None]
    assert lunch and other and sum(lunch) / len(lunch) + 0.1 < sum(other) / len(other)
    assert checks and checks > 600
