"""The case panel's next-action line for a citation that is still waiting for review: it says the
review comes next, not that the case is closed."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from desktop.domain.roles import Role
from desktop.ui.common.messages import MessageChannel
from desktop.ui.common.tasks import TaskRunner
from desktop.ui.context import UiContext
from tests.helpers.factories import add_citation


def test_pending_review_case_says_review_comes_next(qtbot, app, actors) -> None:  # type: ignore[no-untyped-def]
    from desktop.ui.cases.view import CasesView

    add_citation(app, plate="7PND001", number="HH0001-000901", status="pending_review")
    runner = TaskRunner()
    view = CasesView(UiContext(app=app, actor=actors[Role.CLERK], runner=runner,
                               messages=MessageChannel(interactive=False), tz=ZoneInfo("America/Los_Angeles")))
    qtbot.addWidget(view)
    view.search.setText("HH0001-000901")
    with qtbot.waitSignal(view.detail.shown, timeout=10000):
        view.run_search()
    text = view.detail.next_box.text()
    assert "Review the citation" in text and "Closed" not in text
    runner.wait_all(5000)
