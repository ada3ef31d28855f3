"""The pages of the Patrol & Reports area: (key, title, "module:Class"), each class built with the UiContext."""

from __future__ import annotations

PAGES: tuple[tuple[str, str, str], ...] = (
    ("patrol-plan", "Patrol plan", "desktop.ui.patrol.plan:PatrolPlanView"),
    ("plan-actual", "Plan vs actual", "desktop.ui.patrol.actual:PlanActualView"),
)
