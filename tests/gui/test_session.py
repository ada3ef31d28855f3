"""A shared workstation (issue 17, point 4): sign out and switch user without quitting, the screen that locks
after the idle time (a simulated clock, no waiting), unlocking by the same user with the work kept, another
user at a locked screen getting a fresh window, changing your own password and replacing a reset one."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from desktop.domain.roles import Role
from desktop.persistence.models import AuditEntry
from desktop.services.admin import users
from desktop.services.core import settings
from desktop.ui.accounts import ChangePasswordDialog
from desktop.ui.context import UiContext
from desktop.ui.login import LoginDialog
from desktop.ui.main_window import MainWindow
from desktop.ui.session import IdleMonitor, WorkstationSession
from tests.conftest import PASSWORDS


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _session(qtbot, ui_ctx, clock=None) -> tuple[WorkstationSession, list]:  # type: ignore[no-untyped-def]
    opened: list = []

    def open_window(actor):  # type: ignore[no-untyped-def]
        ctx = UiContext(app=ui_ctx.app, actor=actor, runner=ui_ctx.runner, messages=ui_ctx.messages,
                        tz=ZoneInfo("America/Los_Angeles"))
        window = MainWindow(ctx)
        qtbot.addWidget(window)
        window.show_area("admin")
        opened.append(window)
        return window

    session = WorkstationSession(ui_ctx.app, ui_ctx.runner, open_window, idle_clock=clock or Clock(),
                                 idle_check_ms=20)
    return session, opened


def _sign_in(qtbot, dlg: LoginDialog, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    dlg.username.setText(username)
    dlg.password.setText(password)
    dlg.sign_in.click()


def _actions(app) -> list[str]:  # type: ignore[no-untyped-def]
    with app.db.reading() as s:
        return list(s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_sign_out_shows_the_sign_in_and_the_next_user_gets_a_fresh_window(qtbot, ui_ctx, actors) -> None:
    session, opened = _session(qtbot, ui_ctx)
    first = session.start(actors[Role.CLERK])
    assert first.isVisible() and "Clerk" in first.windowTitle()
    sign_out = next(a for a in first.findChildren(type(first.menuBar().actions()[0]))
                    if a.text() == "&Sign out / switch user")
    assert sign_out.shortcut().toString() == "Ctrl+Shift+Q"
    sign_out.trigger()
    dlg = session.dialog
    assert dlg is not None and dlg.isVisible() and not first.isVisible()
    assert dlg.username.text() == "" and dlg.cancel_button.text() == "Quit Curbdesk"
    with qtbot.waitSignal(session.window_opened, timeout=5000) as opened_signal:
        _sign_in(qtbot, dlg, "supervisor", PASSWORDS[Role.SUPERVISOR])
    second = opened_signal.args[0]
    assert second is not first and second.ctx.actor.username == "supervisor"
    assert "Supervisor" in second.windowTitle()
    qtbot.waitUntil(lambda: "user.signed_out" in _actions(ui_ctx.app), timeout=5000)


def test_the_idle_clock_locks_the_screen_and_the_same_user_unlocks_with_the_work_kept(qtbot, ui_ctx, actors) -> None:
    settings.set_value(ui_ctx.app, actors[Role.ADMIN], "security.idle_lock_minutes", 2)
    clock = Clock()
    session, opened = _session(qtbot, ui_ctx, clock)
    window = session.start(actors[Role.CLERK])
    qtbot.waitUntil(lambda: session.idle.timeout_s == 120 and session.idle.timer.isActive(), timeout=5000)
    # the main window's own QWindow is watched, never the whole application (a Python filter on the
    # QApplication sees WebEngine's internal objects and crashed the real application on the Review map)
    assert session.idle.watched is window.windowHandle() is not None
    window.show_area("cases")
    clock.now += 119  # input just before the limit starts the idle time again
    QApplication.sendEvent(window.windowHandle(), QMouseEvent(QEvent.Type.MouseMove, QPointF(5, 5), QPointF(5, 5),
                                               Qt.MouseButton.NoButton, Qt.MouseButton.NoButton,
                                               Qt.KeyboardModifier.NoModifier))
    clock.now += 119
    session.idle.check()
    assert not session.is_locked
    with qtbot.waitSignal(session.locked, timeout=5000):
        clock.now += 1
    assert not window.isVisible()
    dlg = session.dialog
    assert dlg is not None and dlg.windowTitle() == "Curbdesk — locked" and dlg.username.text() == "clerk"
    _sign_in(qtbot, dlg, "clerk", "not-the-password")
    assert session.is_locked and dlg.isVisible() and dlg.error.text()
    with qtbot.waitSignal(session.unlocked, timeout=5000):
        _sign_in(qtbot, dlg, "clerk", PASSWORDS[Role.CLERK])
    assert window.isVisible() and opened == [window]
    assert window.stack.currentWidget() is window.views["cases"]  # the work on screen is kept
    qtbot.waitUntil(lambda: "user.screen_locked" in _actions(ui_ctx.app), timeout=5000)  # audited off the GUI thread
    assert sorted(_actions(ui_ctx.app)[-3:]) == ["user.screen_locked", "user.sign_in_failed", "user.signed_in"]


def test_another_user_at_a_locked_screen_gets_a_fresh_window(qtbot, ui_ctx, actors) -> None:
    session, opened = _session(qtbot, ui_ctx)
    window = session.start(actors[Role.CLERK])
    lock = next(a for a in window.findChildren(type(window.menuBar().actions()[0])) if a.text() == "&Lock screen")
    assert lock.shortcut().toString() == "Ctrl+L"
    lock.trigger()
    assert session.is_locked and session.dialog is not None
    with qtbot.waitSignal(session.window_opened, timeout=5000) as fresh:
        _sign_in(qtbot, session.dialog, "supervisor", PASSWORDS[Role.SUPERVISOR])
    assert fresh.args[0] is not window and fresh.args[0].ctx.actor.username == "supervisor"
    assert not session.is_locked
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=2000)


def test_idle_lock_off_when_the_setting_is_zero(qtbot) -> None:
    clock = Clock()
    monitor = IdleMonitor(0, clock=clock, check_ms=10)
    fired: list[bool] = []
    monitor.idle.connect(lambda: fired.append(True))
    clock.now += 10**6
    monitor.check()
    assert fired == []
    monitor.timeout_s = 60
    monitor.check()
    monitor.check()
    assert fired == [True]  # once, until there is input again


def test_a_reset_password_is_replaced_in_the_sign_in_window(qtbot, app, actors) -> None:
    users.reset_password(app, actors[Role.ADMIN], "clerk", "temporary-pass-77")
    dlg = LoginDialog(app)
    qtbot.addWidget(dlg)
    dlg.show()
    _sign_in(qtbot, dlg, "clerk", "temporary-pass-77")
    change = dlg.change_dialog
    assert change is not None and change.isVisible() and dlg.actor is None
    assert "reset the password" in dlg.error.text()
    change.new.setText("qwertyuiop")
    change.again.setText("qwertyuiop")
    change.ok.click()
    qtbot.waitUntil(lambda: "most common" in change.error.text(), timeout=5000)
    change.new.setText("my own choice 42")
    change.again.setText("my own choice 42")
    with qtbot.waitSignal(dlg.accepted, timeout=5000):
        change.ok.click()
    assert dlg.actor is not None and dlg.actor.username == "clerk"
    dlg.runner.wait_all(5000)


def test_change_your_own_password_from_the_file_menu(qtbot, ui_ctx, actors) -> None:
    window = MainWindow(ui_ctx)
    qtbot.addWidget(window)
    window.change_password()
    dlg = window.findChild(ChangePasswordDialog)
    assert dlg is not None and dlg.isVisible()
    dlg.current.setText(PASSWORDS[Role.CLERK])
    dlg.new.setText("a new one for me")
    dlg.again.setText("a new one for me!")
    dlg.ok.click()
    assert "differ" in dlg.error.text()
    dlg.again.setText("a new one for me")
    with qtbot.waitSignal(dlg.changed, timeout=5000):
        dlg.ok.click()
    assert users.login(ui_ctx.app, "clerk", "a new one for me").username == "clerk"
