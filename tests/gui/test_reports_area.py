"""The Patrol & Reports area (issue 18): its pages by role, the dashboard's cards open their screens, a report
draws its chart and shows a sentence for an empty or backwards period."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from PySide6.QtCharts import QChartView
from PySide6.QtCore import QDate, Qt

from desktop.domain.roles import Role
from desktop.ui.common.messages import MessageChannel
from desktop.ui.common.tasks import TaskRunner
from desktop.ui.context import UiContext
from desktop.ui.main_window import MainWindow, start_area_for
from desktop.ui.reports.dashboard import DashboardPage, FigureCard
from desktop.ui.reports.report_page import CitationsReportPage
from desktop.ui.reports.view import ReportsView
from tests.helpers.factories import add_citation


def window_as(app, actor, qtbot) -> MainWindow:
    ctx = UiContext(app=app, actor=actor, runner=TaskRunner(), messages=MessageChannel(interactive=False),
                    tz=ZoneInfo("America/Los_Angeles"))
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    return window


def test_supervisors_start_on_the_dashboard_and_its_cards_open_their_screens(app, actors, qtbot) -> None:
    assert start_area_for(Role.SUPERVISOR) == start_area_for(Role.ADMIN) == "reports"
    window = window_as(app, actors[Role.SUPERVISOR], qtbot)
    view = window.show_area("reports")
    assert isinstance(view, ReportsView) and view.list.count() >= 8
    page = view.built["dashboard"]
    assert isinstance(page, DashboardPage)
    qtbot.waitUntil(lambda: len(page.cards) == 6, timeout=10000)
    cards = {c.figure.key: c for c in page.findChildren(FigureCard)}
    qtbot.mouseClick(cards["payments"], Qt.MouseButton.LeftButton)
    assert window.current_area() == "payments"
    window.show_area("reports")
    cards["review"].setFocus()
    qtbot.keyClick(cards["review"], Qt.Key.Key_Return)
    assert window.current_area() == "review"
    window.ctx.runner.wait_all(10000)


def test_a_clerk_sees_the_dashboard_only_with_work_figures(app, actors, qtbot) -> None:
    window = window_as(app, actors[Role.CLERK], qtbot)
    view = window.show_area("reports")
    assert [view.list.item(i).text() for i in range(view.list.count())] == ["Dashboard"]
    page = view.built["dashboard"]
    qtbot.waitUntil(lambda: len(page.cards) == 3, timeout=10000)
    assert "supervisors" in page.note.text()
    window.ctx.runner.wait_all(10000)


def test_a_report_draws_its_chart_or_says_why_not(app, actors, qtbot) -> None:
    add_citation(app, issued_at=datetime(2026, 11, 20, 20, tzinfo=timezone.utc))
    ctx = UiContext(app=app, actor=actors[Role.SUPERVISOR], runner=TaskRunner(),
                    messages=MessageChannel(interactive=False), tz=ZoneInfo("America/Los_Angeles"))
    page = CitationsReportPage(ctx)
    qtbot.addWidget(page)
    page.show()
    page.activate()
    qtbot.waitUntil(lambda: page.result is not None, timeout=10000)
    assert isinstance(page.chart_stack.currentWidget(), QChartView)
    assert page.tabs.count() == 1 and page.xlsx_button.isEnabled()
    page.date_from.setDate(QDate(2025, 1, 1))
    page.date_to.setDate(QDate(2025, 1, 31))
    page.refresh()
    qtbot.waitUntil(lambda: page.result is not None and page.result.chart is None, timeout=10000)
    assert page.chart_stack.currentWidget() is page.sentence
    assert page.sentence.text().startswith("No citations were issued between 01 January 2025")
    page.date_from.setDate(QDate(2025, 2, 1))
    page.refresh()
    assert "after it ends" in page.sentence.text() and not page.print_button.isEnabled()
    ctx.runner.wait_all(10000)


def test_an_office_taking_pounds_reads_pounds_on_the_dashboard_and_in_a_chart(app, actors, qtbot) -> None:
    """The dashboard's payments card and a money chart's bar tooltip in the office's currency."""
    from PySide6.QtCharts import QBarSeries

    from desktop.persistence.models import Payment
    from desktop.services.core import settings
    from desktop.services.core.context import Actor
    from desktop.ui.reports.chart import build_chart
    from reports.data import ChartData, ChartSeries

    settings.set_value(app, actors[Role.ADMIN], "agency.currency", "GBP")
    today = app.now().astimezone(ZoneInfo("America/Los_Angeles")).date()
    with app.uow(Actor.system("test")) as uow:
        uow.session.add(Payment(source="counter", method="cash", external_id="P1", amount_cents=7000,
                                received_at=app.now(), value_date=today, status="matched"))
        uow.commit()
    window = window_as(app, actors[Role.SUPERVISOR], qtbot)
    page = window.show_area("reports").built["dashboard"]
    qtbot.waitUntil(lambda: len(page.cards) == 6, timeout=10000)
    card = next(c for c in page.findChildren(FigureCard) if c.figure.key == "payments")
    assert card.figure.value == "£70.00 today" and "£70.00 this week" in card.figure.detail
    chart = build_chart(ChartData("bar", ("Mon",), (ChartSeries("Counter", (70.0,)),), "Day", "Amount (£)",
                                  money=True), "£")
    bars = next(s for s in chart.series() if isinstance(s, QBarSeries))
    bars.hovered.emit(True, 0, bars.barSets()[0])
    assert chart.toolTip() == "Counter, Mon: £70.00"
    window.ctx.runner.wait_all(10000)
