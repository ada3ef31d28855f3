"""The compliance map page (issue 18, point 1): it paints the zones with a legend, lists the zone with no
shape in a sentence, shows a zone's figures and trend when clicked, says so when a period has no data,
and shows a clerk the refusal in words."""

from __future__ import annotations

import json
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from desktop.domain.roles import Role
from desktop.services.core.context import AppContext
from desktop.ui.common.messages import MessageChannel
from desktop.ui.common.tasks import TaskRunner
from desktop.ui.context import UiContext
from desktop.ui.patrol.compliance import ComplianceView
from desktop.ui.reports.pages import PAGES
from tests.helpers.patrol import MON, SUN, seed_week


def _view(qtbot, app: AppContext, actor) -> ComplianceView:  # type: ignore[no-untyped-def]
    ctx = UiContext(app=app, actor=actor, runner=TaskRunner(), messages=MessageChannel(interactive=False),
                    tz=ZoneInfo("America/Los_Angeles"))
    view = ComplianceView(ctx)
    qtbot.addWidget(view, before_close_func=lambda w: (w.map.shutdown(), ctx.runner.wait_all(10000)))
    view.resize(1180, 700)
    view.show()
    return view


@pytest.fixture
def week(app: AppContext, actors):  # type: ignore[no-untyped-def]
    seed_week(app)
    return app, actors


def test_the_page_is_registered_for_the_reports_area() -> None:
    assert ("compliance", "Compliance map", "desktop.ui.patrol.compliance:ComplianceView") in PAGES


def test_the_map_paints_zones_with_a_legend_and_a_zone_shows_its_trend(qtbot, week) -> None:  # type: ignore[no-untyped-def]
    app, actors = week
    view = _view(qtbot, app, actors[Role.SUPERVISOR])
    with qtbot.waitSignal(view.loaded, timeout=20000), qtbot.waitSignal(view.map.ready, timeout=60000), \
            qtbot.waitSignal(view.grid_shown, timeout=20000):
        view.set_period(MON, SUN)
    assert view.zones.rowCount() == 3
    assert "Z-C" in view.unshaped.text() and "no shape" in view.unshaped.text()
    assert "Not patrolled: Z-B" in view.summary.text()
    results: list[str] = []
    view.map.layout_info(results.append)
    qtbot.waitUntil(lambda: bool(results), timeout=10000)
    layout = json.loads(results[0])
    assert layout["legend"]["right"] > layout["legend"]["left"]  # the legend is on the page
    legend: list[str] = []
    view.map.web_view.page().runJavaScript("document.getElementById('cd-legend').innerText", 0, legend.append)
    qtbot.waitUntil(lambda: bool(legend), timeout=10000)
    assert "Compliance rate: 60% to under 70%" in legend[0] and "no vehicle checked" in legend[0]
    # the heat table: Monday 09:00 in the Compliance measure
    assert view.heat.item(0, 9).text() == "67"
    # a zone clicked in the table: its sentence and its weekly trend
    with qtbot.waitSignal(view.zone_shown, timeout=20000):
        view.zones.selectRow(next(r for r in range(3) if view.zones.item(r, 0).text() == "Z-A"))
    assert "10 vehicles checked" in view.detail.text() and view.tabs.tabText(view.tabs.currentIndex()) == "Zone &detail"
    assert len(view.trend.points) == 1 and view.trend.chart().series()
    assert view.heat.grid is not None and view.heat.grid.zone == "Z-A" and view.all_zones_button.isEnabled()
    # a click on the map reports the zone the same way
    with qtbot.waitSignal(view.zone_shown, timeout=20000) as shown:
        view.map.picked.emit("Z-B")
    assert shown.args == ["Z-B"] and "was not patrolled" in view.detail.text()


def test_a_period_with_no_data_says_so(qtbot, week) -> None:  # type: ignore[no-untyped-def]
    app, actors = week
    view = _view(qtbot, app, actors[Role.ADMIN])
    with qtbot.waitSignal(view.loaded, timeout=20000), qtbot.waitSignal(view.grid_shown, timeout=20000):
        view.set_period(date(2025, 1, 6), date(2025, 1, 12))
    assert view.summary.text().startswith("No patrol data")
    assert "nothing recorded in this period" in view.heat_title.text()
    with qtbot.waitSignal(view.loaded, timeout=20000):
        view.measure.setCurrentIndex(view.measure.findData("violations_per_hour"))
    assert all(view.zones.item(r, 8).text() == "not patrolled" for r in range(view.zones.rowCount()))


def test_a_clerk_is_told_in_words(qtbot, week) -> None:  # type: ignore[no-untyped-def]
    app, actors = week
    view = _view(qtbot, app, actors[Role.CLERK])
    qtbot.waitUntil(lambda: "not allowed" in view.summary.text() or "may not" in view.summary.text()
                    or "permission" in view.summary.text().lower(), timeout=20000)
    assert view.zones.rowCount() == 0
