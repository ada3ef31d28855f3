"""The demo office opens with a saved plan for tomorrow and one for yesterday with shifts to compare."""

from __future__ import annotations

from datetime import date, timedelta

from desktop.demo.office import build_demo
from desktop.persistence.models import Setting
from desktop.services.admin import users
from desktop.services.core.context import AppContext
from desktop.services.patrol import actual, plans
from desktop.services.sync.reference import reference_items


def test_demo_plans_for_yesterday_and_tomorrow(app: AppContext) -> None:
    build_demo(app, 120, seed=7)
    with app.db.reading() as s:
        days = s.get(Setting, "demo.patrol_plan").value
    yesterday, tomorrow = date.fromisoformat(days["yesterday"]), date.fromisoformat(days["tomorrow"])
    assert tomorrow - yesterday == timedelta(days=2)
    sup = users.actor_for(app, "supervisor")
    plan = plans.load_plan(app, sup, tomorrow)
    assert plan is not None and len(plan.beats) == 10
    assert any("has no shift on this day" in p for p in plan.problems)  # two officers off
    assert {b.badge for b in plan.beats if "Z-CHINATOWN" in b.zones} <= set(plan.constraints.expertise)
    past = actual.plan_vs_actual(app, sup, yesterday)
    assert past.version == 1 and past.coverage is not None and 80 <= past.coverage < 100
    assert any(b.missed for b in past.beats) and any(b.extra for b in past.beats)
    pushed = [i for i in reference_items(app, "assignments") if i["date"] == tomorrow.isoformat()]
    assert len(pushed) == 10 and all(i["zones"] for i in pushed)
