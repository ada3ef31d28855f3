"""An English case's amounts are in pounds on the case screens (its profile's currency), a Californian
case's in dollars: the list's balance, the panel's header, its fines, its ledger and its timeline."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt

from desktop.domain.roles import Role
from desktop.services.cases import queries
from desktop.ui.cases.model import CaseTableModel
from desktop.ui.common.messages import MessageChannel
from desktop.ui.common.tasks import TaskRunner
from desktop.ui.context import UiContext
from tests.helpers.factories import add_citation


def test_each_case_shows_money_in_its_profiles_currency(qtbot, app, actors) -> None:  # type: ignore[no-untyped-def]
    from desktop.ui.cases.view import CasesView

    add_citation(app, plate="LB07SEO", number="AV80419001", jurisdiction="GB", profile_code="ENG",
                 profile_version=1, fine_cents=7000)
    add_citation(app, plate="7USD001", number="HH0001-000801", fine_cents=6300)
    # the service says which currency each listed case is in
    rows = {r.citation_number: r.currency for r in queries.case_page(app, actors[Role.CLERK],
                                                                      queries.CaseFilter(), 0, 50)}
    assert rows == {"AV80419001": "GBP", "HH0001-000801": "USD"}
    # a case of a profile this office does not have (a broken import, say) is listed, in the default currency
    add_citation(app, plate="7ZZZ001", number="ZZ0001-000001", profile_code="ZZ", profile_version=1)
    for _ in range(2):  # the second page read remembers the version is not stored
        listed = queries.case_page(app, actors[Role.CLERK], queries.CaseFilter(text="ZZ0001-000001"), 0, 50)
        assert [(r.citation_number, r.currency) for r in listed] == [("ZZ0001-000001", "USD")]

    runner = TaskRunner()
    view = CasesView(UiContext(app=app, actor=actors[Role.CLERK], runner=runner,
                               messages=MessageChannel(interactive=False), tz=ZoneInfo("Europe/London")))
    qtbot.addWidget(view)
    for number, money in (("AV80419001", "£70.00"), ("HH0001-000801", "$63.00")):
        view.search.setText(number)
        with qtbot.waitSignal(view.detail.shown, timeout=10000):
            view.run_search()
        listed = view.model.data(view.model.index(0, CaseTableModel.BALANCE), Qt.ItemDataRole.DisplayRole)
        assert listed == money
        header = view.detail.header.text()
        assert f"Balance <b>{money}</b>" in header
        ledger = view.detail.ledger
        assert [ledger.item(r, 2).text() for r in range(ledger.rowCount())] == [money, money]  # the fine, the total
        other = "$" if money.startswith("£") else "£"
        timeline = [view.detail.timeline.item(r, c).text() for r in range(view.detail.timeline.rowCount())
                    for c in range(view.detail.timeline.columnCount()) if view.detail.timeline.item(r, c)]
        assert any(f"Fine +{money}" in t for t in timeline) and not any(f"Fine +{other}" in t for t in timeline)
    runner.wait_all(5000)
