"""The demo's patrol plans: one saved for tomorrow (what the handhelds get on the next sync) and one for yesterday
with the shifts the officers actually worked, so that Plan vs actual has something to say on first run: most
beats followed, one zone skipped here, an extra zone there, time over and under.

Done once (``demo.patrol_plan``); fast (two plans of a dozen beats, a hundred shift rows)."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from desktop.domain.patrol_plan import OfficerShift, PlanConstraints
from desktop.persistence.models import Officer, PatrolCheck, PatrolShift, Setting
from desktop.services.admin import users as user_service
from desktop.services.core import settings
from desktop.services.core.context import Actor, AppContext
from desktop.services.patrol import plans

ORDER = 95  # after the officers' roster is complete (desktop.demo.officers, 90)

#: Zones the supervisor wants patrolled every day, and the permit areas only trained officers enforce.
MUST_COVER = ("Z-CIVIC-CENTER", "Z-HISTORIC-CORE")
PERMIT_AREAS = ("Z-CHINATOWN", "Z-ARTS-DISTRICT")


def _roster(app: AppContext) -> tuple[tuple[OfficerShift, ...], dict[str, tuple[str, ...]]]:
    """Ten of the twelve demo officers on duty: six on the early shift, four on the late one; two off."""
    with app.db.reading() as s:
        officers = list(s.execute(select(Officer.badge, Officer.name).order_by(Officer.badge).limit(12)))
    roster = []
    for i, (badge, name) in enumerate(officers):
        if i < 6:
            roster.append(OfficerShift(badge, name, "07:00", 480))
        elif i < 10:
            roster.append(OfficerShift(badge, name, "12:00", 480))
        else:
            roster.append(OfficerShift(badge, name, None, None))  # off that day: said so in the plan
    expertise: dict[str, tuple[str, ...]] = {roster[0].badge: PERMIT_AREAS, roster[7].badge: PERMIT_AREAS} if len(roster) > 7 else {}
    return tuple(roster), expertise


def _actual_shifts(app: AppContext, draft: plans.PlanDraft, tz: ZoneInfo) -> None:
    """What the officers of yesterday's plan really did: mostly the plan, with the misses and detours of a day."""
    rnd = random.Random(18)
    shifts: list[dict[str, Any]] = []
    checks: list[dict[str, Any]] = []
    codes = sorted(draft.zones)
    for n, beat in enumerate(draft.beats):
        start = datetime.combine(draft.day, time.fromisoformat(beat.shift_start or "08:00"), tzinfo=tz)
        clock = start
        stops = list(beat.stops)
        if n % 4 == 1 and len(stops) > 2:
            stops.pop(rnd.randrange(1, len(stops)))  # a zone skipped (a call elsewhere)
        for k, stop in enumerate(stops):
            clock += timedelta(minutes=(stop.travel_minutes or 0) + rnd.randint(0, 6))
            minutes = round(stop.minutes * rnd.uniform(0.65, 1.1))
            if n % 5 == 2 and k == len(stops) - 1:
                minutes = round(minutes * 0.4)  # ended early
            vehicles = max(3, round(minutes / 60 * rnd.randint(14, 30)))
            shifts.append(dict(event_id=f"demo-plan-{draft.day.isoformat()}-{beat.badge}-{k}",
                               officer_badge=beat.badge, zone_code=stop.zone, started_at=clock,
                               ended_at=clock + timedelta(minutes=minutes), vehicles_checked=vehicles))
            for j in range(min(vehicles, 4)):
                checks.append(dict(event_id=f"demo-plan-check-{draft.day.isoformat()}-{beat.badge}-{k}-{j}",
                                   zone_code=stop.zone, checked_at=clock + timedelta(minutes=5 + j * 7),
                                   plate=f"{rnd.randint(1, 9)}{rnd.choice('ABCDEFGHJKLMNPRSTUVWXYZ')}"
                                         f"{rnd.choice('ABCDEFGHJKLMNPRSTUVWXYZ')}{rnd.choice('ABCDEFGHJKLMNPRSTUVWXYZ')}"
                                         f"{rnd.randint(100, 999)}",
                                   jurisdiction="CA", result=rnd.choice(["paid", "permit_ok", "compliant"])))
            clock += timedelta(minutes=minutes)
        if n % 3 == 0:  # a detour into a zone the plan did not give the officer
            extra = next((c for c in codes if c not in beat.zones), None)
            if extra is not None:
                shifts.append(dict(event_id=f"demo-plan-{draft.day.isoformat()}-{beat.badge}-x",
                                   officer_badge=beat.badge, zone_code=extra, started_at=clock,
                                   ended_at=clock + timedelta(minutes=25), vehicles_checked=9))
    with app.uow(Actor.system("demo")) as uow:
        uow.session.execute(insert(PatrolShift), shifts)
        uow.session.execute(insert(PatrolCheck), checks)
        uow.audit("demo.patrol_actual", "patrol_plan", draft.plan_id or 0,
                  after={"day": draft.day.isoformat(), "shifts": len(shifts), "checks": len(checks)})
        uow.commit()


def extend_demo(app: AppContext, progress: Any) -> None:
    with app.db.reading() as s:
        if s.get(Setting, "demo.patrol_plan") is not None:
            return
        anchor = s.get(Setting, "demo.anchor")
        tz = ZoneInfo(str(settings.get(s, "agency.timezone")))
    now = datetime.fromisoformat(anchor.value) if anchor is not None else app.now()
    today: date = now.astimezone(tz).date()
    progress("Patrol plans", 0, 2)
    supervisor = user_service.actor_for(app, "supervisor")
    roster, expertise = _roster(app)
    constraints = PlanConstraints(must_cover=MUST_COVER, expertise=expertise, visit_minutes=75, travel_kmh=15.0)
    yesterday = today - timedelta(days=1)
    if plans.load_plan(app, supervisor, yesterday) is None:
        draft = plans.save_plan(app, supervisor, plans.make_plan(app, supervisor, yesterday, roster, constraints),
                                reason="demo: yesterday's plan")
        _actual_shifts(app, draft, tz)
    progress("Patrol plans", 1, 2)
    tomorrow = today + timedelta(days=1)
    if plans.load_plan(app, supervisor, tomorrow) is None:
        first = plans.save_plan(app, supervisor, plans.make_plan(app, supervisor, tomorrow, roster, constraints),
                                reason="demo: tomorrow's plan")
        # the supervisor then swapped two zones between the first two beats by hand: version 2
        beats = list(first.beats)
        if len(beats) >= 2 and beats[0].stops and beats[1].stops:
            a, b = beats[0].stops[-1], beats[1].stops[-1]
            if a.zone not in beats[1].zones and b.zone not in beats[0].zones:
                beats[0] = beats[0].__class__(beats[0].badge, beats[0].name, beats[0].shift_start,
                                              beats[0].shift_minutes, (*beats[0].stops[:-1], b))
                beats[1] = beats[1].__class__(beats[1].badge, beats[1].name, beats[1].shift_start,
                                              beats[1].shift_minutes, (*beats[1].stops[:-1], a))
                edited = plans.edit_beats(first, beats)
                if not plans.blocking_problems(edited):
                    plans.save_plan(app, supervisor, edited, reason="demo: swapped the last zones of two beats")
    with app.uow(Actor.system("demo")) as uow:
        uow.session.add(Setting(key="demo.patrol_plan", value={"yesterday": yesterday.isoformat(),
                                                               "tomorrow": tomorrow.isoformat()}))
        uow.commit()
    progress("Patrol plans", 2, 2)
