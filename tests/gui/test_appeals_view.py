"""The Appeals screen: the docket sorted by days left, the workspace, the decision flow, intake, scheduling,
letters and the packet, driven with pytest-qt on a real temporary database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPdfWriter
from sqlalchemy import select

from desktop.domain.roles import Role
from desktop.persistence.models import Appeal, Citation, Hearing
from desktop.services import appeals
from desktop.ui.appeals.view import AppealsView, AppealTableModel
from desktop.ui.appeals.widgets import PdfPreviewDialog
from desktop.ui.common.messages import MessageChannel
from desktop.ui.common.tasks import TaskRunner
from desktop.ui.context import UiContext
from tests.integration.appeals.conftest import make_case, number_of, pdf_bytes
from tests.integration.appeals.test_intake_and_decisions import request

LA = ZoneInfo("America/Los_Angeles")


def ui(app, actor, qtbot) -> UiContext:
    runner = TaskRunner()
    ctx = UiContext(app=app, actor=actor, runner=runner, messages=MessageChannel(interactive=False), tz=LA)
    return ctx


@pytest.fixture
def docket(app, actors, clock):
    """Three open appeals of different ages (one overdue) and one with photos for the workspace."""
    first = make_case(app, photos=2, zone=True)
    overdue = appeals.file_appeal(app, actors[Role.CLERK], request(app, first)).appeal_id
    clock.now += timedelta(days=20)
    second = appeals.file_appeal(app, actors[Role.CLERK], request(app, make_case(
        app, issued_at=clock.now - timedelta(days=2)))).appeal_id
    clock.now += timedelta(days=15)  # the first is now 5 days overdue
    third = appeals.file_appeal(app, actors[Role.CLERK], request(app, make_case(
        app, issued_at=clock.now - timedelta(days=1)))).appeal_id
    return {"overdue": overdue, "second": second, "third": third, "overdue_case": first}


def open_view(app, actor, qtbot, *, wait_workspace: bool = True) -> AppealsView:
    ctx = ui(app, actor, qtbot)
    view = AppealsView(ctx)
    qtbot.addWidget(view, before_close_func=lambda v: v.workspace.map.shutdown())
    view.setMinimumSize(1400, 900)  # explicit: the offscreen plugin cannot propagate size hints
    view.show()
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow)  # keyboard shortcuts need the active window
    view.workspace.preview_documents = False
    if wait_workspace:
        with qtbot.waitSignal(view.workspace.loaded, timeout=15000), qtbot.waitSignal(view.loaded, timeout=10000):
            view.activate()
    else:
        with qtbot.waitSignal(view.loaded, timeout=10000):
            view.activate()
    return view


def test_docket_sorted_by_days_left_with_overdue_in_red(app, actors, docket, qtbot, qtmodeltester) -> None:
    view = open_view(app, actors[Role.HEARING_OFFICER], qtbot)
    model = view.model
    qtmodeltester.check(model)
    assert [model.rows[i].appeal_id for i in range(3)] == [docket["overdue"], docket["second"], docket["third"]]
    first = model.index(0, AppealTableModel.DAYS)
    assert model.data(first) == "5 days OVERDUE"
    assert model.data(first, Qt.ItemDataRole.ForegroundRole).color() == QColor("#b71c1c")
    assert model.data(model.index(2, AppealTableModel.DAYS)) == "30 days"
    assert model.data(model.index(2, AppealTableModel.DAYS), Qt.ItemDataRole.ForegroundRole) is None
    assert "1 past their decision deadline" in view.summary.text()
    # the workspace shows the most urgent appeal with everything side by side
    ws = view.workspace
    assert ws.ws is not None and ws.ws.appeal_id == docket["overdue"]
    assert "5 days OVERDUE" in ws.header.text()
    qtbot.waitUntil(lambda: ws.photos.thumbs.count() == 2, timeout=10000)
    html = ws.evidence.toHtml()
    for text in ("Device signature", "verified: file matches its digest", "Photo metadata", "NIKON",
                 "Meter display flashing expired", "chalk", "No permit on file"):
        assert text in html, text
    assert "The meter was broken" in ws.appeal_text.toHtml()
    assert ws.documents.count() == 1 and ws.timeline.rowCount() >= 5
    # the same map component as Review, full size in its pane, with the citation and its photos on it
    qtbot.waitUntil(lambda: ws.map.is_ready, timeout=30000)
    assert ws.map.spec is not None and ws.map.spec.citation_lat == ws.ws.lat
    assert len(ws.map.spec.photos) == 2 and ws.map.larger_button is not None and ws.map.larger_button.isEnabled()
    assert ws.map.height() >= 200 and ws.map.width() >= 300


def test_hearing_officer_decides_from_the_workspace(app, actors, docket, qtbot) -> None:
    view = open_view(app, actors[Role.HEARING_OFFICER], qtbot)
    panel = view.workspace.decision
    assert panel.button.isEnabled()
    asked: list[str] = []
    panel.confirm = lambda text: asked.append(text) or True
    # reduce without an amount: refused, nothing recorded
    panel.reduce.setChecked(True)
    panel.reason.setPlainText("The meter fault is documented; the penalty is waived.")
    panel.decide()
    assert "new amount" in (view.ctx.messages.last_error or "")
    # dismiss, with the keyboard: Alt+D picks it, Ctrl+Return records it
    qtbot.keyClick(panel.reason, Qt.Key.Key_D, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(panel.dismiss.isChecked)  # a mnemonic clicks the button after its short animation
    assert panel.effect.text().startswith("Appeal granted: the citation is cancelled; nothing is owed.")
    panel.reason.setFocus()
    told: list[str] = []
    view.ctx.messages.notified.connect(lambda text, _ms: told.append(text))
    with qtbot.waitSignal(panel.decided, timeout=10000) as blocker:
        qtbot.keyClick(panel.reason, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: any("Appeal granted: the citation is cancelled" in t for t in told))
    assert blocker.args[0].decision == "dismissed"
    assert asked and "Appeal granted: the citation is cancelled; nothing is owed." in asked[0]
    assert blocker.args[0].outcome_text == "Appeal granted: the citation is cancelled; nothing is owed."
    with app.db.reading() as s:
        assert s.get(Citation, docket["overdue_case"]).status == "dismissed"
        assert s.get(Appeal, docket["overdue"]).decision_reason.startswith("The meter fault")
    # the docket refreshes: the decided appeal stays listed (after the open ones) with its outcome, still
    # selected, and the counts agree with the rows
    qtbot.waitUntil(lambda: view.model.row_of(docket["overdue"]) == 2, timeout=10000)
    row = view.model.row_of(docket["overdue"])
    assert view.model.data(view.model.index(row, AppealTableModel.STATUS)) == "Appeal granted (citation cancelled)"
    assert "2 open appeals" in view.summary.text() and "1 closed recently" in view.summary.text()
    qtbot.waitUntil(lambda: view.workspace.ws is not None and not view.workspace.ws.is_pending, timeout=10000)
    assert view.workspace.ws.appeal_id == docket["overdue"]
    assert "Appeal granted (citation cancelled)" in panel.effect.text()
    # "Open appeals" only: it leaves the list
    view.scope.setCurrentIndex(0)
    qtbot.waitUntil(lambda: view.model.rowCount() == 2, timeout=10000)


def test_only_a_hearing_officer_sees_the_decision_enabled(app, actors, docket, qtbot) -> None:
    for role in (Role.CLERK, Role.SUPERVISOR, Role.ADMIN):
        view = open_view(app, actors[role], qtbot)
        panel = view.workspace.decision
        assert not panel.button.isEnabled() and not panel.dismiss.isEnabled()
        assert "Only a hearing officer" in panel.effect.text()


def test_letters_and_packet_from_the_workspace(app, actors, docket, qtbot, tmp_path: Path) -> None:
    view = open_view(app, actors[Role.HEARING_OFFICER], qtbot)
    ws = view.workspace
    assert not ws.letter_buttons["decision_letter"].isEnabled()
    assert not ws.letter_buttons["hearing_notice"].isEnabled()
    with qtbot.waitSignal(ws.document_ready, timeout=10000) as letter:
        ws.letter_buttons["appeal_acknowledgement"].click()
    assert Path(letter.args[0]).read_bytes().startswith(b"%PDF")
    seen: list[int] = []
    with qtbot.waitSignal(ws.document_ready, timeout=30000) as packet:
        ws.packet_button.click()
        ws.progress.valueChanged.connect(seen.append)
    path = Path(packet.args[0])
    assert path.name.startswith("AP") and "packet" in path.name and path.stat().st_size > 20_000
    assert not ws.progress.isVisible()
    # the preview dialog shows the pages and prints them (to a PDF writer here)
    dialog = PdfPreviewDialog(path, "Evidence packet")
    qtbot.addWidget(dialog)
    assert dialog.page_count() >= 3
    writer = QPdfWriter(str(tmp_path / "printed.pdf"))
    dialog.render_to(writer)
    assert (tmp_path / "printed.pdf").stat().st_size > 10_000


def test_intake_dialog_files_an_appeal_with_a_document(app, actors, qtbot, tmp_path: Path) -> None:
    from desktop.ui.appeals.dialogs import IntakeDialog

    cid = make_case(app)
    doc = tmp_path / "receipt.pdf"
    doc.write_bytes(pdf_bytes())
    bad = tmp_path / "notes.txt"
    bad.write_text("not a document")
    ctx = ui(app, actors[Role.CLERK], qtbot)
    dialog = IntakeDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.citation.setText(number_of(app, cid))
    with qtbot.waitSignal(dialog.previewed, timeout=10000):
        qtbot.keyClick(dialog.citation, Qt.Key.Key_Return)
    assert dialog.level.currentData() == "initial_review" and not dialog.late_box.isVisibleTo(dialog)
    assert dialog.grounds.count() == 8
    dialog.add_files([doc, bad])
    qtbot.waitUntil(lambda: dialog.doc_list.count() == 1, timeout=10000)
    assert "not a PDF, JPEG or PNG" in (ctx.messages.last_error or "")
    dialog.grounds.item(0).setCheckState(Qt.CheckState.Checked)
    dialog.name.setText("Maria Garcia")
    dialog.address.setPlainText("1847 Sunset Blvd\nLos Angeles, CA 90026")
    # no statement yet: refused, the dialog keeps everything
    with qtbot.waitSignal(ctx.messages.error_shown, timeout=10000):
        dialog.file_button.click()
    assert dialog.doc_list.count() == 1 and dialog.name.text() == "Maria Garcia"
    dialog.statement.setPlainText("The meter was out of order.")
    with qtbot.waitSignal(dialog.filed, timeout=10000) as filed:
        dialog.file_button.click()
    with app.db.reading() as s:
        appeal = s.get(Appeal, filed.args[0].appeal_id)
        assert appeal.grounds == ["did_not_occur"] and appeal.channel == "counter"
        assert s.get(Citation, cid).status == "under_appeal"


def test_intake_dialog_says_the_balance_in_the_cases_profile_currency(app, actors, qtbot) -> None:
    """An English case's balance in pounds, a Californian's in dollars: the currency of the case's profile."""
    from desktop.ui.appeals.dialogs import IntakeDialog

    english = make_case(app, profile="ENG", fine_cents=7000)
    californian = make_case(app, fine_cents=6300)
    ctx = ui(app, actors[Role.CLERK], qtbot)
    for cid, balance, other in ((english, "balance £70.00", "$"), (californian, "balance $63.00", "£")):
        dialog = IntakeDialog(ctx)
        qtbot.addWidget(dialog)
        dialog.citation.setText(number_of(app, cid))
        with qtbot.waitSignal(dialog.previewed, timeout=10000):
            qtbot.keyClick(dialog.citation, Qt.Key.Key_Return)
        assert balance in dialog.case_label.text() and other not in dialog.case_label.text()
    ctx.runner.wait_all(5000)


def test_late_intake_needs_a_supervisor_to_sign_in(app, actors, qtbot, clock) -> None:
    from desktop.ui.appeals.dialogs import IntakeDialog
    from tests.conftest import PASSWORDS

    cid = make_case(app)
    clock.now = datetime(2026, 12, 20, 18, 0, tzinfo=UTC)
    ctx = ui(app, actors[Role.CLERK], qtbot)
    dialog = IntakeDialog(ctx, number_of(app, cid))
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.preview is not None, timeout=10000)
    assert dialog.late_box.isVisibleTo(dialog) and "9 days late" in dialog.late_text.text()
    dialog.grounds.item(0).setCheckState(Qt.CheckState.Checked)
    dialog.name.setText("Maria Garcia")
    dialog.statement.setPlainText("I was in hospital.")
    dialog.late_reason.setText("Hospital letter seen")
    dialog.supervisor_user.setText("supervisor")
    dialog.supervisor_password.setText("wrong")
    with qtbot.waitSignal(ctx.messages.error_shown, timeout=10000):
        dialog.file_button.click()
    assert "Wrong username or password" in ctx.messages.last_error
    dialog.supervisor_password.setText(PASSWORDS[Role.SUPERVISOR])
    with qtbot.waitSignal(dialog.filed, timeout=10000) as filed:
        dialog.file_button.click()
    assert filed.args[0].late


def test_schedule_dialog_books_a_free_time(app, actors, docket, qtbot, clock) -> None:
    from desktop.ui.appeals.dialogs import ScheduleDialog

    officer = actors[Role.HEARING_OFFICER].user_id
    day = (clock.now + timedelta(days=2)).astimezone(LA).date()
    appeals.add_slot(app, actors[Role.SUPERVISOR], officer, datetime.combine(day, datetime.min.time(), LA)
                     .replace(hour=9), datetime.combine(day, datetime.min.time(), LA).replace(hour=10))
    ctx = ui(app, actors[Role.HEARING_OFFICER], qtbot)
    dialog = ScheduleDialog(ctx, docket["second"], "AP")
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.times_loaded, timeout=10000):  # the officers, then tomorrow's free times
        pass
    assert dialog.officer.count() == 1
    with qtbot.waitSignal(dialog.times_loaded, timeout=10000) as loaded:
        dialog.day.setDate(dialog.day.date().fromString(day.isoformat(), "yyyy-MM-dd"))
    assert loaded.args[0] == 3  # 09:00, 09:20, 09:40
    dialog.times.setCurrentRow(1)
    dialog.mode.setCurrentIndex(dialog.mode.findData("video"))
    with qtbot.waitSignals([dialog.booked], timeout=10000, raising=False) as booked:
        dialog.ok.click()
    assert booked.signal_triggered, ctx.messages.last_error
    with app.db.reading() as s:
        h = s.scalar(select(Hearing))
        assert h.mode == "video" and h.scheduled_at.astimezone(LA).strftime("%H:%M") == "09:20"
