"""The patrol plan heuristic: constraints always hold, time goes where the priority is."""

from __future__ import annotations

from desktop.domain.patrol_plan import (
    Beat,
    OfficerShift,
    PlanConstraints,
    Stop,
    ZoneInfo,
    check_beats,
    make_plan,
    retime,
    travel_minutes,
)

# A 3x3 grid of zones about 1 km apart (0.009 degrees of latitude is 1.0 km).
GRID = [ZoneInfo(f"Z{r}{c}", f"Zone {r}{c}", priority=1.0 + r * 3 + c, lat=34.0 + 0.009 * r,
                 lon=-118.0 + 0.0109 * c) for r in range(3) for c in range(3)]
BY_CODE = {z.code: z for z in GRID}


def officer(badge: str, hours: float = 8) -> OfficerShift:
    return OfficerShift(badge, f"Officer {badge}", "08:00", round(hours * 60))


def test_travel_is_street_distance_at_patrol_speed_and_unknown_without_centroid() -> None:
    a, b = BY_CODE["Z00"], BY_CODE["Z10"]  # 1.0 km apart; x1.3 detour = 1.3 km; at 15 km/h = 5.2 min
    assert travel_minutes(a, b, 15.0) == 5
    assert travel_minutes(a, b, 6.0) == 13
    assert travel_minutes(a, ZoneInfo("ZX", "No shape", 1.0), 15.0) is None


def test_every_beat_fits_its_shift_including_travel() -> None:
    result = make_plan([officer("1"), officer("2", 3), officer("3", 5.5)], GRID, PlanConstraints(visit_minutes=45))
    assert len(result.beats) == 3
    for beat in result.beats:
        assert beat.used_minutes <= beat.shift_minutes
        assert beat.used_minutes >= beat.shift_minutes - len(beat.stops)  # slack shared out (rounding only)
        assert beat.travel_minutes > 0 or len(beat.stops) == 1
        assert len(set(beat.zones)) == len(beat.zones)
    assert check_beats(result.beats, BY_CODE, PlanConstraints(visit_minutes=45)) == []


def test_priority_orders_coverage_and_time() -> None:
    # one short shift: room for two visits only -> the two highest-priority zones, highest first
    result = make_plan([officer("1", 2.2)], GRID, PlanConstraints(visit_minutes=60))
    (beat,) = result.beats
    assert beat.zones[0] == "Z22"
    assert set(beat.zones) == {"Z22", "Z21"}
    assert set(result.not_covered) == {z.code for z in GRID} - {"Z22", "Z21"}
    assert "Zone Z00 (Zone 00) does not fit: no beat has 60 minutes left for it (with travel)." in result.problems
    # plenty of officers: every zone covered, and the highest-priority zones get the most minutes
    many = make_plan([officer(str(i)) for i in range(4)], GRID, PlanConstraints(visit_minutes=60))
    minutes = {z.code: 0 for z in GRID}
    for b in many.beats:
        for s in b.stops:
            minutes[s.zone] += s.minutes
    assert all(minutes.values()) and not many.not_covered
    assert minutes["Z22"] > minutes["Z00"] and minutes["Z21"] > minutes["Z01"]


def test_must_cover_zones_come_before_higher_priorities() -> None:
    # two visits of 60 min fit in 2 h 12; the must-cover Z00 takes one, although its priority is the lowest,
    # and the other goes to the best zone still reachable from it in time (Z22 is 15 min away, Z21 12 min)
    result = make_plan([officer("1", 2.2)], GRID, PlanConstraints(must_cover=("Z00",), visit_minutes=60))
    (beat,) = result.beats
    assert sorted(beat.zones) == ["Z00", "Z21"] and beat.used_minutes <= 132
    roomier = make_plan([officer("1", 2.5)], GRID, PlanConstraints(must_cover=("Z00",), visit_minutes=60))
    assert sorted(roomier.beats[0].zones) == ["Z00", "Z22"]
    impossible = make_plan([officer("1", 0.5)], GRID, PlanConstraints(must_cover=("Z00",), visit_minutes=60))
    assert impossible.beats[0].stops == ()
    assert ("The must-cover zone Z00 (Zone 00) does not fit: no beat has 60 minutes left for it (with travel)."
            in impossible.problems)


def test_specialist_zones_only_go_to_officers_with_the_expertise() -> None:
    constraints = PlanConstraints(expertise={"2": ("Z22", "Z21")}, visit_minutes=60)
    result = make_plan([officer("1"), officer("2")], GRID, constraints)
    beats = {b.badge: b for b in result.beats}
    assert "Z22" not in beats["1"].zones and "Z21" not in beats["1"].zones
    assert {"Z22", "Z21"} <= set(beats["2"].zones)
    nobody = make_plan([officer("1")], GRID, constraints)
    assert "Z22" in nobody.not_covered
    assert any("no officer on shift has it among their zones of expertise" in p for p in nobody.problems)
    bad = Beat("1", "One", "08:00", 480, (Stop("Z22", 60),))
    assert any("specialist zone" in p for p in check_beats([bad], BY_CODE, constraints))


def test_officer_without_shift_and_zone_without_geometry_are_said_plainly() -> None:
    zones = [*GRID[:3], ZoneInfo("ZNOGEO", "Pier", priority=50.0)]
    result = make_plan([officer("1"), OfficerShift("9", "Nine", None, None)], zones, PlanConstraints())
    assert [b.badge for b in result.beats] == ["1"]
    assert "Officer 9 (Nine) has no shift on this day: no beat is planned." in result.problems
    assert "Zone ZNOGEO has no geometry: it is placed without a travel estimate." in result.problems
    beat = result.beats[0]
    at = beat.zones.index("ZNOGEO")
    legs = [beat.stops[at].travel_minutes if at else None]
    legs += [beat.stops[at + 1].travel_minutes] if at + 1 < len(beat.stops) else []
    assert legs and all(leg is None for leg in legs)  # arriving and leaving: no estimate


def test_edited_beat_over_its_shift_is_reported_and_retimed() -> None:
    beat = Beat("1", "One", "08:00", 120, (Stop("Z00", 60), Stop("Z22", 60)))
    timed = retime(beat, BY_CODE, 15.0)
    assert timed.stops[1].travel_minutes == travel_minutes(BY_CODE["Z00"], BY_CODE["Z22"], 15.0)
    problems = check_beats([timed], BY_CODE, PlanConstraints(must_cover=("Z11",)))
    assert any("needs" in p and "but the shift is 120" in p for p in problems)
    assert "The must-cover zone Z11 is in no beat." in problems
