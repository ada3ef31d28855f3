"""A shared workstation's sign-ins: sign out and switch user without quitting, and the screen that locks
itself after `security.idle_lock_minutes` without input.

`WorkstationSession` owns the signed-in user's main window. Sign out (File menu, Ctrl+Shift+Q) closes it and
shows the sign-in window; whoever signs in next gets a fresh window. Lock (File menu, Ctrl+L, or the idle
timer) hides the window, its work kept as it was, behind a sign-in window with the user's name filled in:
the same user's password shows the window again; another user signing in there ends the locked session
and gets a fresh window. Every step is audited by the services (user.signed_out, user.screen_locked,
user.signed_in with "unlocked the screen").

`IdleMonitor` watches the application's input events; its clock can be replaced (tests move it forward
instead of waiting).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer, Signal

from desktop.services.admin import users
from desktop.services.core import settings
from desktop.ui.common.operations import Query
from desktop.ui.common.tasks import TaskRunner
from desktop.ui.login import LoginDialog

log = logging.getLogger(__name__)

#: the input that counts as someone at the desk
ACTIVITY = frozenset({QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove,
                      QEvent.Type.Wheel, QEvent.Type.TouchBegin})


class IdleMonitor(QObject):
    """Emits `idle` once when no input arrived for `timeout_s` seconds (0: never); input starts it again.

    `clock` gives seconds (time.monotonic); the check runs every `check_ms` milliseconds."""

    idle = Signal()

    def __init__(self, timeout_s: float, *, clock: Callable[[], float] = time.monotonic, check_ms: int = 5000,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.timeout_s = timeout_s
        self.clock = clock
        self.last_input = clock()
        self.fired = False
        self.watched: QObject | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(check_ms)
        self.timer.timeout.connect(self.check)

    def start(self, window: QObject | None = None) -> None:
        """Watch `window` (the main window's QWindow: every key, click and move on it arrives there first).

        Not an application-wide filter: a Python filter on the QApplication is called for the internal
        objects of Qt WebEngine's map too, and PySide6 6.12 crashes the process making wrappers for them
        (seen on the Review screen: a segmentation fault within seconds)."""
        if window is not self.watched:
            self._unwatch()
            if window is not None:
                window.installEventFilter(self)
            self.watched = window
        self.touch()
        self.timer.start()

    def _unwatch(self) -> None:
        if self.watched is not None:
            try:
                self.watched.removeEventFilter(self)
            except RuntimeError:  # the window is already gone
                pass
        self.watched = None

    def stop(self) -> None:
        self.timer.stop()
        self._unwatch()

    def touch(self) -> None:
        self.last_input = self.clock()
        self.fired = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() in ACTIVITY:
            self.last_input = self.clock()
            self.fired = False
        return False

    def check(self) -> None:
        if self.timeout_s > 0 and not self.fired and self.clock() - self.last_input >= self.timeout_s:
            self.fired = True
            self.idle.emit()


class WorkstationSession(QObject):
    """The signed-in user's window, sign-out and the locked screen.

    Signals: `window_opened(window)` for every fresh main window; `locked()` when the screen locks;
    `unlocked()` when the same user is back; `ended()` when nobody signs in again (the application quits)."""

    window_opened = Signal(object)
    locked = Signal()
    unlocked = Signal()
    ended = Signal()

    def __init__(self, app: Any, runner: TaskRunner, open_window: Callable[[Any], Any], *,
                 idle_clock: Callable[[], float] = time.monotonic, idle_check_ms: int = 5000,
                 demo_accounts: list[tuple[str, str, str]] | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        #: the demo's accounts, shown again on the sign-in after a sign-out (None for a real office)
        self.demo_accounts = demo_accounts
        self.app = app
        self.runner = runner
        self.open_window = open_window
        self.window: Any = None
        self.actor: Any = None
        self.dialog: LoginDialog | None = None
        self.is_locked = False
        self._closing = False
        self.idle = IdleMonitor(0, clock=idle_clock, check_ms=idle_check_ms, parent=self)
        self.idle.idle.connect(self.lock)

    # ----------------------------------------------------------- signing in
    def start(self, actor: Any) -> Any:
        """Open a fresh main window for `actor`."""
        self.actor = actor
        self.is_locked = False
        window = self.open_window(actor)
        self.window = window
        for name, slot in (("sign_out_requested", self.sign_out), ("lock_requested", self.lock)):
            signal = getattr(window, name, None)
            if signal is not None:
                signal.connect(slot)
        window.installEventFilter(self)
        window.show()
        self._arm_idle_lock()
        self.window_opened.emit(window)
        return window

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        """The user closed the window (File › Quit, the title bar): the session ends."""
        if watched is self.window and event.type() == QEvent.Type.Close and not self._closing:
            self.idle.stop()
            QTimer.singleShot(0, self.ended.emit)
        return False

    def _input_window(self) -> QObject | None:
        """The QWindow the main window's input arrives at (None before it is shown)."""
        return self.window.windowHandle() if self.window is not None else None

    def _arm_idle_lock(self) -> None:
        app = self.app

        def minutes(_c: Any) -> int:
            return max(0, int(settings.read(app, "security.idle_lock_minutes")))

        def arm(m: int) -> None:
            self.idle.timeout_s = m * 60
            self.idle.start(self._input_window())

        Query(self.runner, self, minutes, success=arm).run()

    # ----------------------------------------------------------- sign out
    def sign_out(self) -> None:
        """File › Sign out: the window closes (its work ends with it) and the sign-in window asks who is next."""
        if self.window is None:
            return
        actor = self.actor
        self.idle.stop()
        self._audit(actor, "signed out")
        self._ask(None)
        self._close_window()

    # ----------------------------------------------------------- lock
    def lock(self) -> None:
        """Hide the window (kept as it is) behind a sign-in window for the same user."""
        if self.window is None or self.is_locked:
            return
        self.is_locked = True
        self.idle.stop()
        self._audit(self.actor, "screen locked")
        self._ask(self.actor.username)
        self.window.hide()
        self.locked.emit()

    # ----------------------------------------------------------- the sign-in window
    def _ask(self, locked_for: str | None) -> None:
        dlg = LoginDialog(self.app, runner=self.runner, locked_for=locked_for)
        if locked_for is None:  # after a sign-out: the next user starts from an empty window
            dlg.between_users()
            dlg.show_demo_accounts(self.demo_accounts)
        self.dialog = dlg
        dlg.accepted.connect(lambda: self._signed_in(dlg))
        dlg.rejected.connect(lambda: self._gave_up(dlg))
        dlg.show()

    def _signed_in(self, dlg: LoginDialog) -> None:
        actor = dlg.actor
        self.dialog = None
        dlg.deleteLater()
        if actor is None:
            return
        if self.is_locked and self.window is not None and actor.user_id == self.actor.user_id:
            self.is_locked = False
            self.window.show()
            self.window.activateWindow()
            self.idle.touch()
            self.idle.start(self._input_window())
            self.unlocked.emit()
            return
        if self.window is not None:  # someone else at a locked screen: the locked session ends
            self._close_window()
        self.start(actor)

    def _gave_up(self, dlg: LoginDialog) -> None:
        """Cancel on the sign-in window: quit (a locked window's work ends with it)."""
        self.dialog = None
        dlg.deleteLater()
        if self.window is not None:
            self._close_window()
        self.ended.emit()

    def _close_window(self) -> None:
        window, self.window = self.window, None
        if window is None:
            return
        # the screens' database work finishes first (closeEvent); nothing of theirs then arrives at a closed window
        self._closing = True
        try:
            window.close()
        finally:
            self._closing = False
        window.deleteLater()

    def _audit(self, actor: Any, how: str) -> None:
        app = self.app
        Query(self.runner, self, lambda _c: users.sign_out(app, actor, how),
              failure=lambda exc: log.warning("could not audit %s of %s: %s", how, actor.username, exc)).run()


__all__ = ["IdleMonitor", "WorkstationSession"]
