"""The main window: every area opens; unbuilt areas say so; the crash channel catches bugs."""

from __future__ import annotations

import dataclasses

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QLabel, QMessageBox
from sqlalchemy import select

from desktop.domain.errors import UserError
from desktop.domain.roles import Role
from desktop.persistence.models import AuditEntry
from desktop.ui.common.messages import crash_report
from desktop.ui.common.widgets import PlaceholderPage
from desktop.ui.main_window import AREAS, MainWindow
from tests.helpers.factories import add_citation


def test_every_area_opens(qtbot, ui_ctx) -> None:
    add_citation(ui_ctx.app, number="W-1")
    window = MainWindow(ui_ctx)
    qtbot.addWidget(window)
    window.show()
    for area in AREAS:
        view = window.show_area(area.key)
        assert window.stack.currentWidget() is view
        if area.view is None:
            assert isinstance(view, PlaceholderPage)
            texts = " ".join(label.text() for label in view.findChildren(QLabel))
            assert "not built yet" in texts or "command line" in texts
    window.close()


def test_go_menu_shortcuts_switch_areas(qtbot, ui_ctx) -> None:
    window = MainWindow(ui_ctx)
    qtbot.addWidget(window)
    window.show()
    go = [m for m in window.menuBar().actions() if m.text() == "&Go"][0].menu()
    shortcuts = {a.shortcut().toString(): a for a in go.actions()}
    assert set(shortcuts) >= {"Ctrl+1", "Ctrl+2", "Ctrl+8"}
    shortcuts["Ctrl+2"].trigger()
    assert window.areas[window.nav.currentRow()].key == "cases"


def test_user_errors_and_bugs_take_the_right_path(qtbot, ui_ctx) -> None:
    ch = ui_ctx.messages
    with qtbot.waitSignal(ch.error_shown) as sig:
        ch.error(UserError("The file has no header line."))
    assert sig.args == ["The file has no header line."]
    try:
        raise KeyError("boom")
    except KeyError as exc:
        with qtbot.waitSignal(ch.error_shown) as sig:
            ch.error(exc)
    assert "KeyError" in sig.args[0] and "Traceback" in sig.args[0]


def test_crash_report_is_copyable(qtbot) -> None:
    from PySide6.QtGui import QGuiApplication

    from desktop.ui.common.messages import CrashDialog

    try:
        raise RuntimeError("unexpected state")
    except RuntimeError as exc:
        report = crash_report(exc)
    dlg = CrashDialog(report)
    qtbot.addWidget(dlg)
    dlg.copy_report()
    assert "RuntimeError: unexpected state" in QGuiApplication.clipboard().text()


def test_background_failure_reaches_the_channel(qtbot, ui_ctx) -> None:
    def work(_control):
        raise UserError("The bank file is empty.")

    with qtbot.waitSignal(ui_ctx.messages.error_shown) as sig:
        ui_ctx.runner.run(work, on_error=ui_ctx.error)
    assert sig.args == ["The bank file is empty."]


def test_garbage_is_collected_on_the_gui_thread_only(qtbot, ui_ctx) -> None:
    """Workers never run the cyclic collector (a collection there that frees Qt wrappers crashes)."""
    import gc
    import threading

    assert not gc.isenabled()
    seen: list[str] = []

    def callback(phase: str, _info: dict) -> None:
        if phase == "start":
            seen.append(threading.current_thread().name)

    gc.callbacks.append(callback)
    try:
        for _ in range(3000):  # enough allocations of containers to pass generation 0's threshold
            ui_ctx.runner.run(lambda _c: [[] for _ in range(50)])
        qtbot.waitUntil(lambda: ui_ctx.runner.active() == 0, timeout=20000)
        ui_ctx.runner.gc_guard.check()
    finally:
        gc.callbacks.remove(callback)
    assert seen and set(seen) == {threading.main_thread().name}


def test_backup_and_audit_check_from_the_menu_go_through_the_services(qtbot, ui_ctx, actors, tmp_path,
                                                                     monkeypatch) -> None:
    """A clerk is refused by the service (not by a role cached in the window); an administrator's backup
    is written and audited; the audit check's outcome is shown and audited."""
    target = tmp_path / "menu-backup.sqlite3"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), "")))
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "information", staticmethod(lambda _p, _t, text: shown.append(text)))
    clerk_window = MainWindow(ui_ctx)
    qtbot.addWidget(clerk_window)
    with qtbot.waitSignal(ui_ctx.messages.error_shown, timeout=20000) as refused:
        clerk_window.backup()
    assert "may not back up the database" in refused.args[0]
    assert not target.exists()

    admin_ctx = dataclasses.replace(ui_ctx, actor=actors[Role.ADMIN])
    window = MainWindow(admin_ctx)
    qtbot.addWidget(window)
    with qtbot.waitSignal(admin_ctx.messages.notified, timeout=20000) as told:
        window.backup()
    assert told.args[0] == f"Backup written to {target}" and target.exists()
    window.verify_audit()
    qtbot.waitUntil(lambda: bool(shown), timeout=20000)
    assert shown[0].startswith("Audit trail intact")
    with ui_ctx.app.db.reading() as s:
        actions = s.execute(select(AuditEntry.action, AuditEntry.username)
                            .order_by(AuditEntry.id.desc()).limit(2)).all()
    assert [tuple(a) for a in actions] == [("audit.verified", "admin"), ("database.backed_up", "admin")]


def test_the_window_never_opens_larger_than_the_screen(qtbot, ui_ctx) -> None:  # type: ignore[no-untyped-def]
    """A 1366 x 768 laptop lost the right edge of every screen to a fixed 1440 x 880 window."""
    window = MainWindow(ui_ctx)
    qtbot.addWidget(window)
    room = QGuiApplication.primaryScreen().availableGeometry()
    assert window.width() <= room.width() and window.height() <= room.height()
    assert window.width() == min(1440, room.width())
