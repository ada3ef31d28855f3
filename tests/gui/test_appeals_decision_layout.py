"""The decision panel at a laptop's size (issue 16): nothing moves when a choice is made, both outcomes are
named, England's deemed acceptance disables the decision, previews fit the screen, a hearing officer starts
on Appeals."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QPoint
from PySide6.QtGui import QGuiApplication

from desktop.domain.roles import Role
from desktop.services import appeals
from desktop.ui.appeals.view import AppealTableModel
from desktop.ui.appeals.widgets import PdfPreviewDialog
from desktop.ui.main_window import start_area_for
from tests.gui.test_appeals_view import docket, open_view  # noqa: F401  (docket is a fixture)
from tests.helpers.layout import assert_visible
from tests.integration.appeals.conftest import make_case, pdf_bytes
from tests.integration.appeals.test_intake_and_decisions import request


def positions(view, *widgets) -> list[QPoint]:
    return [w.mapTo(view, QPoint(0, 0)) for w in widgets]


def test_choosing_a_decision_moves_no_button(app, actors, docket, qtbot) -> None:  # noqa: F811
    view = open_view(app, actors[Role.HEARING_OFFICER], qtbot)
    view.setMinimumSize(0, 0)
    view.resize(1366 - 168, 768 - 60)  # the main window's content at 1366 x 768 less the menu and status bars
    panel = view.workspace.decision
    watched = (panel.uphold, panel.dismiss, panel.reduce, panel.reason, panel.button,
               view.workspace.letter_buttons["decision_letter"], view.workspace.packet_button)
    before = positions(view, *watched)
    texts = []
    for choice in (panel.uphold, panel.dismiss, panel.reduce, panel.uphold):
        choice.click()
        qtbot.waitUntil(lambda c=choice: c.isChecked())
        texts.append(panel.effect.text())
        assert positions(view, *watched) == before, f"the buttons moved when {choice.text()!r} was chosen"
    assert texts[0].startswith("Appeal rejected: the citation stands; the motorist owes $63.00.")
    assert texts[1].startswith("Appeal granted: the citation is cancelled")
    panel.reduce.click()
    panel.amount.setText("35.00")
    assert panel.effect.text().startswith("Appeal partly granted: the fine is reduced to $35.00; the motorist owes "
                                          "$35.00.")
    assert positions(view, *watched) == before
    assert_visible(view.window(), *watched)


def test_both_outcomes_are_named_on_the_choices(app, actors, docket, qtbot) -> None:  # noqa: F811
    panel = open_view(app, actors[Role.HEARING_OFFICER], qtbot).workspace.decision
    assert "citation stands" in panel.uphold.text() and "appeal rejected" in panel.uphold.text()
    assert "cancel the citation" in panel.dismiss.text() and "appeal granted" in panel.dismiss.text()


def test_the_confirmation_names_the_outcome_for_the_motorist(app, actors, docket, qtbot) -> None:  # noqa: F811
    view = open_view(app, actors[Role.HEARING_OFFICER], qtbot)
    panel = view.workspace.decision
    asked: list[str] = []
    panel.confirm = lambda text: asked.append(text) or False  # declined: nothing is recorded
    panel.uphold.click()
    panel.reason.setPlainText("The photographs show the meter expired; no fault found.")
    panel.decide()
    assert "Appeal rejected: the citation stands; the motorist owes $63.00." in asked[0]
    assert appeals.list_appeals(app, actors[Role.CLERK])[0].status == "open"


def test_an_english_appeal_past_its_56_days_is_shown_deemed_accepted_with_the_decision_off(
        app, actors, qtbot, clock) -> None:
    cid = make_case(app, profile="ENG", fine_cents=7000, issued_at=datetime(2026, 9, 1, 10, 0, tzinfo=UTC),
                    notice_mailed=datetime(2026, 11, 10, 9, 0, tzinfo=UTC))
    appeals.file_appeal(app, actors[Role.CLERK], request(app, cid, grounds=["procedural_impropriety"]))
    clock.now = datetime(2027, 1, 28, 12, 0, tzinfo=UTC)  # past the last posting day 2027-01-14; no daily run since
    view = open_view(app, actors[Role.HEARING_OFFICER], qtbot)
    panel = view.workspace.decision
    assert not panel.button.isEnabled() and not panel.uphold.isEnabled() and not panel.reason.isEnabled()
    assert "Deemed accepted by law on 2027-01-15" in panel.effect.text()
    assert "DEEMED ACCEPTED" in view.workspace.header.text() and "OVERDUE" not in view.workspace.header.text()
    assert view.model.data(view.model.index(0, AppealTableModel.DAYS)) == "deemed accepted"
    assert "1 deemed accepted by law" in view.summary.text()


def test_pdf_previews_fit_the_screen(app, actors, qtbot, tmp_path: Path) -> None:
    path = tmp_path / "letter.pdf"
    path.write_bytes(pdf_bytes(pages=2))
    dialog = PdfPreviewDialog(path, "Letter")
    qtbot.addWidget(dialog)
    room = QGuiApplication.primaryScreen().availableGeometry()
    assert dialog.height() <= room.height() and dialog.width() <= room.width()


def test_each_role_starts_on_its_own_screen() -> None:
    assert start_area_for(Role.HEARING_OFFICER) == "appeals"
    assert start_area_for(Role.MAIL_OFFICE) == "notices"
    assert start_area_for(Role.CLERK) == "cases"


def test_a_decided_appeal_shows_its_own_decision_not_the_last_choice_made(app, actors, docket, qtbot) -> None:  # noqa: F811
    appeals.decide_appeal(app, actors[Role.HEARING_OFFICER], docket["third"], "reduced",
                          "Mitigating circumstances accepted; the fine is halved.", 3150)
    view = open_view(app, actors[Role.HEARING_OFFICER], qtbot)
    panel = view.workspace.decision
    panel.dismiss.click()  # on the open appeal shown first
    with qtbot.waitSignal(view.workspace.loaded, timeout=10000):
        view.select_appeal(docket["third"])
    assert panel.reduce.isChecked() and not panel.dismiss.isChecked() and not panel.button.isEnabled()
    assert panel.amount.text() == "31.50" and panel.reason.toPlainText().startswith("Mitigating")
    assert "Appeal partly granted (fine reduced)" in panel.effect.text()
    assert "the motorist now owes $31.50" in panel.effect.text()


def test_a_hearing_officer_signs_in_to_the_appeals_screen(app, actors, qtbot) -> None:
    from desktop.ui.app import open_main_window
    from desktop.ui.common.messages import MessageChannel
    from desktop.ui.common.tasks import TaskRunner

    runner = TaskRunner()
    window = open_main_window(app, actors[Role.HEARING_OFFICER], runner, MessageChannel(interactive=False))
    qtbot.addWidget(window)
    assert window.current_area() == "appeals"
    clerk_window = open_main_window(app, actors[Role.CLERK], runner, MessageChannel(interactive=False))
    qtbot.addWidget(clerk_window)
    assert clerk_window.current_area() == "cases"
    runner.wait_all(10000)
