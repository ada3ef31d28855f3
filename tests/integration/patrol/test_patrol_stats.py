"""Compliance and demand per zone (issue 18, point 1): the figures against hand-computed data, the zone
not patrolled, the zone with no shape, the period with no data, the clerk refused; on SQLite and
PostgreSQL alike."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone

import pytest

from desktop.domain.errors import PermissionDenied, UserError
from desktop.domain.roles import Role
from desktop.services.core.context import AppContext
from desktop.services.patrol import stats
from desktop.services.patrol.compliance_map import NO_DATA, build_map, compliance_map
from tests.conftest import seed_users
from tests.helpers.factories import add_citation
from tests.helpers.patrol import LA, MON, SUN, add_check, add_shift, add_zones, seed_week


@pytest.fixture
def office(any_app: AppContext):  # type: ignore[no-untyped-def]
    """Z-A patrolled on Monday (6 hours in the period), Z-B never, Z-C (no shape) checked but no shift."""
    actors = seed_users(any_app)
    seed_week(any_app)
    return any_app, actors


def test_zone_figures_match_the_hand_count(office) -> None:  # type: ignore[no-untyped-def]
    app, actors = office
    rows = {z.zone_code: z for z in stats.zone_stats(app, actors[Role.SUPERVISOR], MON, SUN)}
    assert set(rows) == {"Z-A", "Z-B", "Z-C"}
    a = rows["Z-A"]
    assert (a.checks, a.compliant, a.citations, a.voids, a.dismissals) == (10, 6, 4, 1, 1)
    assert a.hours_patrolled == pytest.approx(6.0)
    assert a.compliance_rate == pytest.approx(0.6)
    assert a.violations_per_hour == pytest.approx(4 / 6)
    assert a.zone_name == "Alpha" and a.has_geometry


def test_a_zone_not_patrolled_has_no_rate_and_says_so(office) -> None:  # type: ignore[no-untyped-def]
    app, actors = office
    rows = {z.zone_code: z for z in stats.zone_stats(app, actors[Role.ADMIN], MON, SUN)}
    b, c = rows["Z-B"], rows["Z-C"]
    assert b.checks == 0 and b.compliance_rate is None and b.violations_per_hour is None
    assert "was not patrolled in this period" in b.sentence()
    # checked but no shift: a compliance rate, no rate per hour, and no shape
    assert c.compliance_rate == pytest.approx(1.0) and c.violations_per_hour is None and not c.has_geometry
    assert "No patrol shift recorded" in c.sentence()


def test_only_the_zones_asked_for(office) -> None:  # type: ignore[no-untyped-def]
    app, actors = office
    rows = stats.zone_stats(app, actors[Role.SUPERVISOR], MON, SUN, zones=["Z-A"])
    assert [r.zone_code for r in rows] == ["Z-A"] and rows[0].citations == 4


def test_hour_of_week_in_local_time(office) -> None:  # type: ignore[no-untyped-def]
    app, actors = office
    sup = actors[Role.SUPERVISOR]
    cit = stats.hour_of_week(app, sup, MON, SUN, measure="citations")
    assert len(cit.cells) == 7 and all(len(r) == 24 for r in cit.cells)
    assert cit.cells[0][9] == 3 and cit.cells[0][10] == 1
    assert sum(v or 0 for r in cit.cells for v in r) == 4
    rate = stats.hour_of_week(app, sup, MON, SUN, zone="Z-A", measure="compliance")
    assert rate.cells[0][9] == pytest.approx(6 / 9) and rate.cells[0][10] == pytest.approx(0.0)
    assert rate.cells[3][12] is None  # Thursday noon: nothing to divide by
    hours = stats.hour_of_week(app, sup, MON, SUN, zone="Z-A", measure="hours")
    assert [hours.cells[0][h] for h in (0, 1, 2, 8, 9, 10, 11, 12)] == pytest.approx([1, 1, 0, 1, 1, 1, 1, 0])
    assert hours.cells[6][22] == 0  # the Sunday evening part of the shift is before the period
    checks = stats.hour_of_week(app, sup, MON, SUN, zone="Z-C", measure="checks")
    assert checks.cells[6][7] == 2


def test_weekly_trend(office) -> None:  # type: ignore[no-untyped-def]
    app, actors = office
    points = stats.zone_trend(app, actors[Role.SUPERVISOR], "Z-A", MON - timedelta(days=7), SUN)
    assert [p.week_start for p in points] == [MON - timedelta(days=7), MON]
    last = points[1]
    assert (last.checks, last.compliant, last.citations) == (10, 6, 4)
    assert last.hours_patrolled == pytest.approx(6.0) and last.compliance_rate == pytest.approx(0.6)
    first = points[0]  # the Sunday-night citation and the 2 hours of that shift before midnight
    assert first.citations == 1 and first.hours_patrolled == pytest.approx(2.0)


def test_a_clerk_is_refused(office) -> None:  # type: ignore[no-untyped-def]
    app, actors = office
    with pytest.raises(PermissionDenied):
        stats.zone_stats(app, actors[Role.CLERK], MON, SUN)
    with pytest.raises(PermissionDenied):
        stats.hour_of_week(app, actors[Role.CLERK], MON, SUN)
    with pytest.raises(PermissionDenied):
        compliance_map(app, actors[Role.CLERK], MON, SUN)


def test_bad_periods_are_refused_in_a_sentence(office) -> None:  # type: ignore[no-untyped-def]
    app, actors = office
    with pytest.raises(UserError, match="before it starts"):
        stats.zone_stats(app, actors[Role.SUPERVISOR], SUN, MON)
    with pytest.raises(UserError, match="at most"):
        stats.zone_trend(app, actors[Role.SUPERVISOR], "Z-A", date(2020, 1, 1), SUN)


def test_a_period_with_no_data(office) -> None:  # type: ignore[no-untyped-def]
    app, actors = office
    empty = stats.zone_stats(app, actors[Role.SUPERVISOR], date(2025, 1, 6), date(2025, 1, 12))
    assert all(z.checks == 0 and z.compliance_rate is None for z in empty)
    assert stats.describe_period(empty, date(2025, 1, 6), date(2025, 1, 12)).startswith("No patrol data")
    grid = stats.hour_of_week(app, actors[Role.SUPERVISOR], date(2025, 1, 6), date(2025, 1, 12))
    assert grid.empty


def test_the_map_colours_shaped_zones_and_lists_the_others(office) -> None:  # type: ignore[no-untyped-def]
    app, actors = office
    built = compliance_map(app, actors[Role.SUPERVISOR], MON, SUN, "compliance")
    assert built.spec is not None and not built.spec.marker
    keys = {o.key: o for o in built.spec.overlays}
    assert set(keys) == {"Z-A", "Z-B"}
    assert keys["Z-B"].colour == NO_DATA and "no vehicle checked" in keys["Z-B"].legend
    assert keys["Z-A"].colour == "#ef6c00"  # 60 %: the second class (60 % to under 70 %)
    assert built.unshaped == ("Z-C",) and "Z-C" in built.unshaped_sentence()
    per_hour = compliance_map(app, actors[Role.SUPERVISOR], MON, SUN, "violations_per_hour")
    assert {o.key: o for o in per_hour.spec.overlays}["Z-B"].legend.endswith("not patrolled in the period")  # type: ignore[union-attr]


def test_no_zone_with_a_shape_gives_no_map() -> None:
    built = build_map([stats.make_stats("Z-X", None, 1, 1, 0, 0, 1.0, has_geometry=False)], {}, "compliance", None)
    assert built.spec is None and built.unshaped == ("Z-X",)


def test_the_figures_agree_with_the_raw_rows(any_app: AppContext) -> None:
    """Random rows across zones, statuses, days and midnight-crossing shifts: every figure is what counting
    the rows one by one gives."""
    actors = seed_users(any_app)
    add_zones(any_app)
    rnd = random.Random(5)
    start, end = date(2026, 11, 2), date(2026, 11, 15)
    lo = datetime(2026, 11, 2, tzinfo=LA).astimezone(timezone.utc)
    hi = datetime(2026, 11, 16, tzinfo=LA).astimezone(timezone.utc)
    expect: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    with any_app.db.write_session() as s:
        for _ in range(300):
            zone = rnd.choice(["Z-A", "Z-B", "Z-C", "Z-NEW"])
            at = lo + timedelta(minutes=rnd.randint(-3000, 23000))
            add_check(s, zone, at)
            if lo <= at < hi:
                expect[zone]["compliant"] += 1
        for _ in range(40):
            zone = rnd.choice(["Z-A", "Z-C", "Z-NEW"])
            a = lo + timedelta(minutes=rnd.randint(-600, 21000))
            b = a + timedelta(minutes=rnd.randint(30, 600))
            add_shift(s, zone, a, b)
            expect[zone]["hours"] += max(0.0, (min(b, hi) - max(a, lo)).total_seconds() / 3600)
        s.commit()
    for _ in range(120):
        zone = rnd.choice(["Z-A", "Z-B", "Z-C", "Z-NEW"])
        status = rnd.choice(["open", "voided", "dismissed", "paid"])
        at = lo + timedelta(minutes=rnd.randint(-3000, 23000))
        add_citation(any_app, status=status, zone_code=zone, issued_at=at, with_fine=False)
        if lo <= at < hi:
            expect[zone]["citations"] += 1
            expect[zone]["voids"] += status == "voided"
            expect[zone]["dismissals"] += status == "dismissed"
    rows = {z.zone_code: z for z in stats.zone_stats(any_app, actors[Role.SUPERVISOR], start, end)}
    assert rows["Z-NEW"].zone_name is None and not rows["Z-NEW"].has_geometry
    for zone, e in expect.items():
        z = rows[zone]
        assert (z.compliant, z.citations, z.voids, z.dismissals) == (
            e["compliant"], e["citations"], e["voids"], e["dismissals"]), zone
        assert z.hours_patrolled == pytest.approx(e["hours"], abs=1e-3), zone
    # the hour-of-week table adds up to the same totals
    sup = actors[Role.SUPERVISOR]
    total = sum(v for r in stats.hour_of_week(any_app, sup, start, end, measure="citations").cells for v in r if v)
    assert total == sum(e["citations"] for e in expect.values())
    hours = sum(v for r in stats.hour_of_week(any_app, sup, start, end, measure="hours").cells for v in r if v)
    assert hours == pytest.approx(sum(e["hours"] for e in expect.values()), abs=1e-2)
    trend = stats.zone_trend(any_app, sup, "Z-A", start, end)
    assert sum(p.compliant for p in trend) == expect["Z-A"]["compliant"]
