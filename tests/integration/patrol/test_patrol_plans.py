"""Patrol plans through the services: priorities from history, saving (versioned, audited, refused when
stale), permissions, printing, the push to the handhelds over HTTP, and plan against actual."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from desktop.demo.simulator import FieldSimulator
from desktop.domain.errors import ConcurrencyConflict, PermissionDenied, UserError
from desktop.domain.patrol_plan import Beat, OfficerShift, PlanConstraints, Stop
from desktop.domain.roles import Role
from desktop.persistence.models import AuditEntry, PatrolPlanVersion, Setting
from desktop.services import sync as sync_service
from desktop.services.core.context import Actor, AppContext
from desktop.services.patrol import actual, plans
from tests.conftest import seed_users
from tests.helpers.ingest_helpers import SYSTEM, endpoint_for
from tests.helpers.patrol_plan import BADGES, TODAY, TOMORROW, ZONES, add_citations, add_shift, seed_office

Factory = Callable[..., FieldSimulator]


@pytest.fixture
def office(app: AppContext) -> dict[Role, Actor]:
    seed_office(app)
    return seed_users(app)


def _roster(hours: float = 8, badges: list[str] = BADGES) -> list[OfficerShift]:
    return [OfficerShift(b, f"Officer {b}", "08:00", round(hours * 60)) for b in badges]


def test_priority_follows_violations_per_patrol_hour_on_the_same_weekday_and_hours(
        app: AppContext, office: dict[Role, Actor]) -> None:
    sup = office[Role.SUPERVISOR]
    for week in (1, 2, 3):  # Tuesdays before: Z-C busy, Z-B a little; Z-D's citations came at night
        day = TOMORROW - timedelta(days=7 * week)
        add_citations(app, "Z-C", day, 10, 6, start_id=week * 100)
        add_citations(app, "Z-B", day, 11, 2, start_id=week * 100 + 50)
        add_citations(app, "Z-D", day, 22, 9, start_id=week * 100 + 70)
        add_citations(app, "Z-A", day + timedelta(days=1), 10, 9, start_id=week * 100 + 80)  # another weekday
    # Z-B was patrolled a lot at those hours: its citations came from many hours of patrol
    add_shift(app, "1001", "Z-B", TOMORROW - timedelta(days=7), "08:00", 480)
    draft = plans.make_plan(app, sup, TOMORROW, _roster(8, ["1001"]), PlanConstraints(visit_minutes=300))
    z = draft.zones
    assert (z["Z-C"].citations, z["Z-B"].citations, z["Z-D"].citations, z["Z-A"].citations) == (18, 6, 0, 0)
    assert z["Z-B"].patrol_hours == 8.0
    # (18+1)/(0+1) x (1 + thinness 1) = 38 for Z-C; Z-B (6+1)/(8+1) x (1 + 0) = 0.778; the rest (0+1)/1 x 2 = 2
    assert z["Z-C"].priority == 38.0 and z["Z-B"].priority == pytest.approx(0.778) and z["Z-A"].priority == 2.0
    # one visit of 5 hours fits in the shift: it goes to Z-C; the zones that do not fit are named
    assert [b.zones for b in draft.beats] == [["Z-C"]]
    assert set(draft.not_covered) == {"Z-A", "Z-B", "Z-D", "Z-E"}
    assert any(p.startswith("Zone Z-B (Zone B) does not fit: no beat has 300 minutes left") for p in draft.problems)


def test_save_versions_and_a_stale_save_is_refused_with_nothing_lost(app: AppContext,
                                                                      office: dict[Role, Actor]) -> None:
    sup, admin = office[Role.SUPERVISOR], office[Role.ADMIN]
    draft = plans.make_plan(app, sup, TOMORROW, _roster(), PlanConstraints(must_cover=("Z-E",)))
    assert draft.version is None and all(b.used_minutes <= 480 for b in draft.beats)
    v1 = plans.save_plan(app, sup, draft)
    assert v1.version == 1
    # two supervisors open version 1; the administrator moves a zone and saves first
    mine, theirs = plans.load_plan(app, sup, TOMORROW), plans.load_plan(app, admin, TOMORROW)
    assert mine is not None and theirs is not None and mine.version == theirs.version == 1
    beats = list(theirs.beats)
    moved = beats[0].stops[-1]  # the last zone of the first beat goes to the second beat, for 30 minutes
    beats[0] = replace(beats[0], stops=beats[0].stops[:-1])
    second = tuple(s for s in beats[1].stops if s.zone != moved.zone)
    beats[1] = replace(beats[1], stops=(*(replace(s, minutes=max(30, s.minutes - 30)) for s in second),
                                        replace(moved, minutes=30)))
    edited = plans.edit_beats(theirs, beats)
    assert plans.blocking_problems(edited) == []
    v2 = plans.save_plan(app, admin, edited, reason="moved a zone")
    assert v2.version == 2
    with pytest.raises(ConcurrencyConflict, match=r"admin saved version 2 of the patrol plan of 2026-11-25 at "
                                                  r"\d\d:\d\d while you were editing it"):
        plans.save_plan(app, sup, mine)
    now = plans.load_plan(app, sup, TOMORROW)
    assert now is not None and now.version == 2 and now.beats == v2.beats  # theirs kept
    history = plans.plan_history(app, sup, TOMORROW)
    assert [(h.version, h.saved_by) for h in history] == [(2, "admin"), (1, "supervisor")]
    assert plans.version_content(app, sup, TOMORROW, 1)["beats"][0]["stops"][-1]["zone"] == moved.zone
    # the supervisor reloads, saves on top: version 3
    assert plans.save_plan(app, sup, now).version == 3
    with app.db.reading() as s:
        saved = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "patrol_plan.saved")
                               .order_by(AuditEntry.id)))
    assert [a.username for a in saved] == ["supervisor", "admin", "supervisor"]
    assert saved[1].before == {"version": 1} and saved[1].after["version"] == 2 and saved[1].reason == "moved a zone"


def test_a_plan_over_its_shift_or_against_expertise_is_not_saved(app: AppContext, office: dict[Role, Actor]) -> None:
    sup = office[Role.SUPERVISOR]
    constraints = PlanConstraints(expertise={"1002": ("Z-A",)})
    draft = plans.make_plan(app, sup, TOMORROW, _roster(2), constraints)
    assert all("Z-A" not in b.zones for b in draft.beats if b.badge != "1002")
    too_long = [Beat("1001", "Officer 1001", "08:00", 120, (Stop("Z-B", 90), Stop("Z-C", 60)))]
    with pytest.raises(UserError, match=r"not saved: Beat of 1001 needs 15\d minutes \(patrol and travel\) but the "
                                        r"shift is 120"):
        plans.save_plan(app, sup, plans.edit_beats(draft, too_long))
    wrong = [Beat("1001", "Officer 1001", "08:00", 120, (Stop("Z-A", 60),))]
    with pytest.raises(UserError, match="Z-A is a specialist zone and 1001 does not have it"):
        plans.save_plan(app, sup, plans.edit_beats(draft, wrong))
    assert plans.load_plan(app, sup, TOMORROW) is None


def test_officer_without_shift_and_zone_without_geometry(app: AppContext) -> None:
    seed_office(app, no_geometry=True)
    sup = seed_users(app)[Role.SUPERVISOR]
    roster = [*_roster(8, BADGES[:2]), OfficerShift("1003", "Officer 1003", None, None)]
    draft = plans.make_plan(app, sup, TOMORROW, roster, PlanConstraints())
    assert "Officer 1003 (Officer 1003) has no shift on this day: no beat is planned." in draft.problems
    assert "Zone Z-E has no geometry: it is placed without a travel estimate." in draft.problems
    assert [b.badge for b in draft.beats] == ["1001", "1002"]
    saved = plans.save_plan(app, sup, draft)  # a warning, not a refusal
    assert saved.version == 1 and any("Z-E" in b.zones for b in saved.beats)


def test_clerk_may_not_make_or_save_a_plan(app: AppContext, office: dict[Role, Actor]) -> None:
    clerk, sup = office[Role.CLERK], office[Role.SUPERVISOR]
    with pytest.raises(PermissionDenied, match=r"clerk \(clerk\) may not make and change patrol plans"):
        plans.make_plan(app, clerk, TOMORROW)
    draft = plans.make_plan(app, sup, TOMORROW)
    with pytest.raises(PermissionDenied, match="may not make and change patrol plans"):
        plans.save_plan(app, clerk, draft)
    with pytest.raises(PermissionDenied, match="may not see the management reports"):
        plans.load_plan(app, clerk, TOMORROW)  # clerks see the dashboard's work figures only (issue 18, point 7)
    with app.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(PatrolPlanVersion)) == 0


def test_default_roster_is_the_officers_with_handhelds_on_the_default_shift(app: AppContext,
                                                                             office: dict[Role, Actor]) -> None:
    draft = plans.make_plan(app, office[Role.SUPERVISOR], TOMORROW)
    assert [(o.badge, o.shift_start, o.shift_minutes) for o in draft.roster] == [(b, "08:00", 480) for b in BADGES]
    assert {z for b in draft.beats for z in b.zones} == set(ZONES)


def test_printed_plan_has_one_page_per_beat(app: AppContext, office: dict[Role, Actor], tmp_path: Path) -> None:
    sup = office[Role.SUPERVISOR]
    with pytest.raises(UserError, match="No patrol plan is saved for 2026-11-25"):
        plans.print_plan(app, sup, TOMORROW, tmp_path / "p.pdf")
    plans.save_plan(app, sup, plans.make_plan(app, sup, TOMORROW, _roster(4, BADGES[:3]), PlanConstraints()))
    data = plans.print_data(app, sup, TOMORROW)
    assert len(data.beats) == 3 and data.version == 1
    first = data.beats[0]
    assert first.stops[0].arrive == "08:00" and first.stops[0].travel_minutes == 0
    second = first.stops[1]
    assert second.arrive == f"{8 + (first.stops[0].minutes + (second.travel_minutes or 0)) // 60:02d}:" \
                            f"{(first.stops[0].minutes + (second.travel_minutes or 0)) % 60:02d}"
    out = plans.print_plan(app, sup, TOMORROW, tmp_path / "plan.pdf")
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") >= 3


def test_saved_plan_is_pushed_to_the_simulator_as_assignments(app: AppContext, office: dict[Role, Actor],
                                                              simulator_factory: Factory) -> None:
    sup = office[Role.SUPERVISOR]
    with app.uow(Actor.system("test")) as uow:  # the hand-written fallback, for tomorrow and the day after
        uow.session.add(Setting(key="patrol.assignments", value=[
            {"officer_badge": "1001", "date": "2026-11-25", "zones": ["Z-A"], "priority": 1},
            {"officer_badge": "1001", "date": "2026-11-26", "zones": ["Z-B"], "priority": 2}]))
        uow.commit()
    saved = plans.save_plan(app, sup, plans.make_plan(app, sup, TOMORROW, _roster(), PlanConstraints()))
    plans.save_plan(app, sup, plans.make_plan(app, sup, TODAY - timedelta(days=1), _roster(), PlanConstraints()))
    sim = simulator_factory(citations=2)
    result = sync_service.push_reference(app, SYSTEM, endpoint_for(app, sim), token=sim.token)
    assert result["assignments"] == "1"
    version, items = sim.reference["assignments"]
    assert version == 1
    pushed = {(i["officer_badge"], i["date"]): i for i in items}
    assert set(pushed) == {(b, "2026-11-25") for b in BADGES} | {("1001", "2026-11-26")}  # not yesterday's
    for beat in saved.beats:
        item = pushed[(beat.badge, "2026-11-25")]
        assert item["zones"] == beat.zones and item["priority"] in (1, 2, 3)
    assert pushed[("1001", "2026-11-26")]["zones"] == ["Z-B"]  # the setting, for the day with no plan
    # a new version of the plan is pushed on the next sync; an unchanged one is not
    again = sync_service.push_reference(app, SYSTEM, endpoint_for(app, sim), token=sim.token)
    assert again["assignments"] == "unchanged"
    beats = list(saved.beats)
    beats[0] = replace(beats[0], stops=beats[0].stops[:1])
    plans.save_plan(app, sup, plans.edit_beats(saved, beats))
    third = sync_service.push_reference(app, SYSTEM, endpoint_for(app, sim), token=sim.token)
    assert third["assignments"] == "2"
    items = {(i["officer_badge"], i["date"]): i for i in sim.reference["assignments"][1]}
    assert items[(beats[0].badge, "2026-11-25")]["zones"] == [beats[0].stops[0].zone]


def test_plan_against_actual_hand_checked(app: AppContext, office: dict[Role, Actor]) -> None:
    sup = office[Role.SUPERVISOR]
    day = TODAY - timedelta(days=1)
    draft = plans.make_plan(app, sup, day, _roster(8, BADGES[:2]), PlanConstraints())
    beats = [Beat("1001", "Officer 1001", "08:00", 480, (Stop("Z-A", 120), Stop("Z-B", 120), Stop("Z-C", 60))),
             Beat("1002", "Officer 1002", "08:00", 480, (Stop("Z-D", 200), Stop("Z-E", 200)))]
    plans.save_plan(app, sup, plans.edit_beats(draft, beats))
    add_shift(app, "1001", "Z-A", day, "08:00", 100, vehicles=12)
    add_shift(app, "1001", "Z-A", day, "13:00", 30, vehicles=3, key="b")
    add_shift(app, "1001", "Z-D", day, "10:00", 45, vehicles=5)  # not planned for 1001
    add_shift(app, "1002", "Z-D", day, "08:00", 210, vehicles=40)
    add_shift(app, "1002", "Z-E", day, "12:00", 150, vehicles=20)
    add_shift(app, "1003", "Z-C", day, "09:00", 60, vehicles=8)  # on patrol without a beat
    add_shift(app, "1001", "Z-B", TODAY, "08:00", 60)  # another day: not counted
    result = actual.plan_vs_actual(app, sup, day)
    assert result.version == 1
    b1, b2, b3 = result.beats
    assert (b1.badge, b1.planned, b1.patrolled) == ("1001", ("Z-A", "Z-B", "Z-C"), ("Z-A", "Z-D"))
    assert b1.coverage == pytest.approx(100 / 3) and b1.missed == ("Z-B", "Z-C") and b1.extra == ("Z-D",)
    lines = {x.zone: (x.planned_minutes, x.actual_minutes, x.vehicles_checked) for x in b1.lines}
    assert lines == {"Z-A": (120, 130, 15), "Z-B": (120, 0, 0), "Z-C": (60, 0, 0), "Z-D": (0, 45, 5)}
    assert b2.coverage == 100.0 and b2.planned_minutes == 400 and b2.actual_minutes == 360
    assert b3.badge == "1003" and b3.planned == () and b3.coverage is None and b3.extra == ("Z-C",)
    assert result.coverage == pytest.approx(100 * 3 / 5)  # 1 of 3 and 2 of 2
    period = actual.officers_over_period(app, sup, day - timedelta(days=3), TOMORROW)
    assert [(o.badge, o.days, o.planned, o.covered, o.planned_minutes, o.actual_minutes, o.extra_zones)
            for o in period] == [("1001", 1, 3, 1, 300, 130, 1), ("1002", 1, 2, 2, 400, 360, 0)]
    table = actual.actual_table(result)
    assert table[1][:5] == ["1001", "Officer 1001", "3", "2", "33 %"] and table[1][5] == "Z-B, Z-C"


def test_two_supervisors_saving_at_once_on_postgresql(pg_app: AppContext) -> None:
    """Two sessions on the real server save their edits of version 1 at the same moment: one wins, the other is
    told who saved first, and both the original and the winner are kept."""
    seed_office(pg_app)
    actors = seed_users(pg_app)
    sup, admin = actors[Role.SUPERVISOR], actors[Role.ADMIN]
    base = plans.save_plan(pg_app, sup, plans.make_plan(pg_app, sup, TOMORROW, _roster(), PlanConstraints()))
    drafts = {}
    for who, actor in (("a", sup), ("b", admin)):
        loaded = plans.load_plan(pg_app, actor, TOMORROW)
        assert loaded is not None
        beats = list(loaded.beats)
        beats[0] = replace(beats[0], stops=beats[0].stops[:-1] if who == "a" else beats[0].stops[:1])
        drafts[who] = (actor, plans.edit_beats(loaded, beats))
    barrier = threading.Barrier(2)
    outcomes: dict[str, Any] = {}

    def save(who: str) -> None:
        actor, draft = drafts[who]
        barrier.wait()
        try:
            outcomes[who] = plans.save_plan(pg_app, actor, draft).version
        except ConcurrencyConflict as exc:
            outcomes[who] = exc

    threads = [threading.Thread(target=save, args=(w,)) for w in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    winners = [w for w, o in outcomes.items() if o == 2]
    losers = [w for w, o in outcomes.items() if isinstance(o, ConcurrencyConflict)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    winner_name = drafts[winners[0]][0].username
    assert f"{winner_name} saved version 2" in str(outcomes[losers[0]])
    final = plans.load_plan(pg_app, sup, TOMORROW)
    assert final is not None and final.version == 2 and final.beats == drafts[winners[0]][1].beats
    assert [h.version for h in plans.plan_history(pg_app, sup, TOMORROW)] == [2, 1]
    assert plans.version_content(pg_app, sup, TOMORROW, 1)["beats"] == plans.content_plain(base)["beats"]


def test_two_first_plans_of_a_day_at_once_on_postgresql(pg_app: AppContext) -> None:
    seed_office(pg_app)
    actors = seed_users(pg_app)
    drafts = [(a, plans.make_plan(pg_app, a, TOMORROW, _roster(), PlanConstraints()))
              for a in (actors[Role.SUPERVISOR], actors[Role.ADMIN])]
    barrier = threading.Barrier(2)
    outcomes: list[Any] = []

    def save(actor: Actor, draft: plans.PlanDraft) -> None:
        barrier.wait()
        try:
            outcomes.append(plans.save_plan(pg_app, actor, draft).version)
        except ConcurrencyConflict as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=save, args=d) for d in drafts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(str(o) for o in outcomes if o == 1) == ["1"]
    (conflict,) = [o for o in outcomes if isinstance(o, ConcurrencyConflict)]
    assert "saved version 1 of the patrol plan of 2026-11-25" in str(conflict)
