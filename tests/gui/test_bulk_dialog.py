"""Bulk work from the Cases screen (issue 16, point 5): a supervisor selects cases by hand, voids them
with one confirmation naming the count, and sees the refused case with why; a clerk has no Bulk button
(and the service refuses a clerk anyway)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from desktop.domain.roles import Role
from desktop.services.bulk import BulkAction
from desktop.ui.cases.view import CasesView
from desktop.ui.common.messages import MessageChannel
from desktop.ui.common.tasks import TaskRunner
from desktop.ui.context import UiContext
from tests.helpers.factories import add_citation


def _view(qtbot, app, actor) -> CasesView:  # type: ignore[no-untyped-def]
    ctx = UiContext(app=app, actor=actor, runner=TaskRunner(), messages=MessageChannel(interactive=False),
                    tz=ZoneInfo("America/Los_Angeles"))
    view = CasesView(ctx)
    qtbot.addWidget(view)
    view.resize(1366, 700)
    view.show()
    with qtbot.waitSignal(view.results, timeout=5000):
        view.activate()
    return view


def test_supervisor_bulk_voids_five_selected_citations(qtbot, app, actors) -> None:  # type: ignore[no-untyped-def]
    for i in range(5):
        add_citation(app, status="pending_review", number=f"BULK-{i}")
    add_citation(app, status="paid", number="BULK-PAID")
    view = _view(qtbot, app, actors[Role.SUPERVISOR])
    assert view.bulk_button.isVisible()
    view.table.selectAll()
    assert len(view.selected_ids()) == 6
    dlg = view.open_bulk(BulkAction.VOID)
    asked: list[str] = []
    dlg.confirm = lambda _parent, question: asked.append(question) is None
    dlg.code.setCurrentIndex(dlg.code.findData("DUPLICATE"))
    dlg.reason.setText("entered twice by the handheld")
    with qtbot.waitSignal(dlg.finished_bulk, timeout=10000) as finished:
        dlg.ok_button.click()
    assert asked == ["Void 6 citations (DUPLICATE: entered twice by the handheld)?"]
    outcome = finished.args[0]
    assert len(outcome.done) == 5 and outcome.refused[0][0] == "BULK-PAID"
    assert "refused BULK-PAID: it is paid" in dlg.result_text.toPlainText()
    # the list is read again (a change made here): every voided row now says so
    qtbot.waitUntil(lambda: sum(1 for i in range(view.model.rowCount())
                                if (r := view.model.row_at(i)) is not None and r.status == "voided") == 5,
                    timeout=3000)
    view.ctx.runner.wait_all(5000)


def test_a_clerk_has_no_bulk_button(qtbot, app, actors) -> None:  # type: ignore[no-untyped-def]
    view = _view(qtbot, app, actors[Role.CLERK])
    assert not view.bulk_button.isVisible()
    view.ctx.runner.wait_all(5000)
