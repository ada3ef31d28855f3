"""The case screen (timeline, next action, ledger, notices, hold from the panel), the escalation action
with its progress and cancel, and the Administration profiles tab."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtWidgets import QDialog
from sqlalchemy import func, select

from desktop.domain.roles import Role
from desktop.persistence.models import Citation, Hold, JurisdictionProfileVersion, LedgerEntry
from desktop.services.core.context import AppContext
from desktop.ui.common.messages import MessageChannel
from desktop.ui.common.tasks import TaskRunner
from desktop.ui.context import UiContext
from tests.conftest import seed_users
from tests.helpers.casework import add_owner, escalate, mail_queued
from tests.helpers.factories import add_citation

LA = ZoneInfo("America/Los_Angeles")


@pytest.fixture
def runner(qtbot):  # type: ignore[no-untyped-def]
    r = TaskRunner()
    yield r
    r.wait_all(5000)


def _ctx(app: AppContext, actor, runner: TaskRunner) -> UiContext:  # type: ignore[no-untyped-def]
    return UiContext(app=app, actor=actor, runner=runner, messages=MessageChannel(interactive=False), tz=LA)


def _escalated_case(app: AppContext, clock) -> tuple[dict, int]:  # type: ignore[no-untyped-def]
    actors = seed_users(app)
    add_owner(app, "7ABC123", "GARCIA, MARIA")
    cid = add_citation(app, plate="7ABC123", number="HH0001-000777",
                       issued_at=datetime(2026, 9, 1, 10, tzinfo=LA))
    escalate(app, clock, actors[Role.SUPERVISOR], date(2026, 9, 22))
    mail_queued(app, date(2026, 9, 23))
    escalate(app, clock, actors[Role.SUPERVISOR], date(2026, 10, 23))
    clock.now = datetime(2026, 10, 23, 12, tzinfo=LA)
    return actors, cid


def test_case_screen_shows_timeline_next_action_ledger_and_notices(qtbot, app: AppContext, clock, runner) -> None:  # type: ignore[no-untyped-def]
    from desktop.ui.cases.view import CasesView

    actors, cid = _escalated_case(app, clock)
    view = CasesView(_ctx(app, actors[Role.CLERK], runner))
    qtbot.addWidget(view)
    view.search.setText("7ABC123")
    with qtbot.waitSignal(view.detail.shown, timeout=10000):
        view.run_search()
    detail = view.detail
    assert detail.detail is not None and detail.detail.citation.id == cid
    whats = [detail.timeline.item(r, 2).text() for r in range(detail.timeline.rowCount())]
    assert any("Fine +$63.00" in w for w in whats)
    assert any("Penalty +$63.00" in w for w in whats)
    assert any("Notice queued: notice of delinquent violation" in w for w in whats)
    assert any("Notice mailed: notice of delinquent violation" in w for w in whats)
    assert any("Notice queued: final notice" in w for w in whats)
    assert any("Owner lookup: found" in w for w in whats)
    whos = {detail.timeline.item(r, 1).text() for r in range(detail.timeline.rowCount())}
    assert {"daily escalation", "mail office"} <= whos
    assert "Mail the final notice" in detail.next_box.text() and "2026-10-23" in detail.next_box.text()
    ledger = detail.ledger
    assert ledger.item(ledger.rowCount() - 1, 1).text() == "Balance"
    assert ledger.item(ledger.rowCount() - 1, 2).text() == "$126.00"
    assert detail.notices.rowCount() == 2
    assert detail.tabs.tabText(detail.SCHEDULE) == "Schedule (CA)"
    # The list shows the next action in words, with its date.
    row = view.model.row_at(0)
    assert row is not None
    assert view.model.data(view.model.index(0, view.model.NEXT_ACTION)) == "2026-10-23  Mail the final notice"
    # A clerk may not place holds: the button is off.
    assert not detail.hold_button.isEnabled() and detail.lookup_button.isEnabled()


def test_supervisor_places_and_releases_a_hold_from_the_panel(qtbot, app: AppContext, clock, runner,  # type: ignore[no-untyped-def]
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop.ui.cases import detail as panel_module
    from desktop.ui.cases.view import CasesView

    actors, cid = _escalated_case(app, clock)
    view = CasesView(_ctx(app, actors[Role.SUPERVISOR], runner))
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.detail.shown, timeout=10000):
        view.run_search()
    assert view.detail.hold_button.isEnabled()
    answers = iter(["Owner in hospital", "", "Back home"])
    monkeypatch.setattr(panel_module.TextDialog, "exec", lambda self: QDialog.DialogCode.Accepted)
    monkeypatch.setattr(panel_module.TextDialog, "value",
                        lambda self: self.choice.currentText() if self.choice.count() else next(answers))
    with qtbot.waitSignal(view.detail.shown, timeout=10000):
        view.detail.place_hold()
    assert "On hold (supervisor)" in view.detail.next_box.text()
    assert view.detail.release_button.isEnabled() and not view.detail.hold_button.isEnabled()
    next(answers)  # the choice dialog of the release takes no text
    clock.now = datetime(2026, 11, 2, 12, tzinfo=LA)  # ten days later
    view.detail.release_hold()

    def released() -> bool:
        with app.db.reading() as s:
            return s.get(Citation, cid).held_days == 10

    # wait on the database, not on `shown`: a reload from the placing may still be arriving
    qtbot.waitUntil(released, timeout=10000)
    with app.db.reading() as s:
        c = s.get(Citation, cid)
        assert c.held_days == 10 and not c.on_hold
        assert s.scalars(select(Hold)).one().ended_at is not None
    def whats() -> list[str]:
        t = view.detail.timeline
        return [t.item(r, 2).text() for r in range(t.rowCount()) if t.item(r, 2) is not None]

    # the panel may be showing a load that started before the release; the reload follows
    qtbot.waitUntil(lambda: any("Dates moved" in w for w in whats()), timeout=10000)
    assert any("Hold placed (supervisor)" in w for w in whats())


def test_escalation_action_runs_with_progress_and_can_be_cancelled(qtbot, app: AppContext, clock, runner) -> None:  # type: ignore[no-untyped-def]
    from desktop.ui.cases.escalation_dialog import EscalationDialog

    actors = seed_users(app)
    for i in range(5):
        add_citation(app, plate=f"7ABC12{i}", issued_at=datetime(2026, 9, 1 + i, 10, tzinfo=LA))
    clock.now = datetime(2026, 10, 1, 14, tzinfo=LA)
    dlg = EscalationDialog(_ctx(app, actors[Role.SUPERVISOR], runner))
    qtbot.addWidget(dlg)
    assert dlg.chosen_day() == date(2026, 10, 1)
    # Cancel at once: the run is one transaction, nothing changes.
    dlg.start()
    dlg.cancel()
    qtbot.waitUntil(lambda: dlg.task is None, timeout=10000)
    assert "Cancelled" in dlg.report.toPlainText()
    assert "no case was escalated" in dlg.report.toPlainText()
    with app.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "penalty")) == 0
        assert s.scalar(select(func.count()).select_from(Citation).where(Citation.stage.is_not(None))) == 0
    progress: list[tuple[int, int]] = []
    with qtbot.waitSignal(dlg.finished_run, timeout=20000) as done:
        dlg.start()
        dlg.task.progress.connect(lambda d, t, _s: progress.append((d, t)))
    result = done.args[0]
    assert result.penalties == 5 and result.notices_held == 5 and result.without_next_action == 0
    assert "5 penalties posted" in dlg.report.toPlainText()
    assert progress and progress[-1][0] <= progress[-1][1]
    assert not dlg.missing_button.isVisible()


@pytest.mark.qt_log_ignore("propagateSizeHints")  # the offscreen platform cannot size a shown dialog
def test_main_window_menu_opens_the_escalation(qtbot, app: AppContext, clock, runner) -> None:  # type: ignore[no-untyped-def]
    from desktop.ui.main_window import MainWindow

    actors = seed_users(app)
    window = MainWindow(_ctx(app, actors[Role.SUPERVISOR], runner))
    qtbot.addWidget(window)
    window.escalation_action.trigger()
    view = window.views["cases"]
    assert view.escalation_dialog.isVisible()
    view.escalation_dialog.reject()


def test_admin_saves_a_new_profile_version_from_the_form(qtbot, app: AppContext, clock, runner) -> None:  # type: ignore[no-untyped-def]
    from desktop.ui.admin.view import AdminView

    actors = seed_users(app)
    view = AdminView(_ctx(app, actors[Role.ADMIN], runner))
    qtbot.addWidget(view)
    tab = view.profiles
    with qtbot.waitSignal(tab.loaded, timeout=10000):
        view.activate()
    nyc = next(i for i, v in enumerate(tab.versions) if v.code == "NYC")
    tab.list.selectRow(nyc)
    assert tab.current.code == "NYC" and tab.form.rowCount() == 5
    penalty_col = [k for k, _t in __import__("desktop.ui.admin.view", fromlist=["FORM_COLUMNS"]).FORM_COLUMNS].index(
        "penalty.fixed_cents")
    assert tab.form.item(1, penalty_col).text() == "$10.00"  # money, not cents
    tab.form.item(1, penalty_col).setText("$15.00")
    with qtbot.waitSignal(tab.validated, timeout=5000) as checked:
        tab.validate()
    assert checked.args[0] is True and "1000 -> 1500" in checked.args[1]
    tab.form.item(1, penalty_col).setText("ten")
    with qtbot.waitSignal(tab.validated, timeout=5000) as checked:
        tab.validate()
    assert checked.args[0] is False and "not an amount of money" in checked.args[1]
    tab.form.item(1, penalty_col).setText("15.00")
    tab.reason.setText("Council resolution 2026-12")
    with qtbot.waitSignal(tab.saved, timeout=10000) as saved:
        tab.save()
    assert saved.args[0].version == 2
    with app.db.reading() as s:
        row = s.scalars(select(JurisdictionProfileVersion).where(JurisdictionProfileVersion.code == "NYC",
                                                                 JurisdictionProfileVersion.version == 2)).one()
        assert row.definition["stages"][1]["penalty"] == {"fixed_cents": 1500}
    # A clerk sees the profiles read-only.
    clerk_view = AdminView(_ctx(app, actors[Role.CLERK], runner))
    qtbot.addWidget(clerk_view)
    assert not clerk_view.profiles.save_button.isEnabled()
