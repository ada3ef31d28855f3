"""The pages of the Patrol & Reports area: (key, title, "module:Class" of the page's widget, built with the
UiContext). Each feature adds its own line; the area lists them in this order."""

from __future__ import annotations

PAGES: tuple[tuple[str, str, str], ...] = (
    ("compliance", "Compliance map", "desktop.ui.patrol.compliance:ComplianceView"),
)
