"""Knowing when a window has really been painted (start-up measurement, deferred start-up work).

Kept apart from the main window so that the sign-in can use it before SQLAlchemy is imported.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget


def first_paint_hook(window: QWidget, callback: Callable[[], None]) -> None:
    """Call ``callback`` once, right after the window's next paint has been delivered."""

    class _Watcher(QObject):
        done = False

        def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
            if (event.type() == QEvent.Type.Paint and isinstance(obj, QWidget) and obj.window() is window
                    and not self.done):
                self.done = True
                QTimer.singleShot(0, finish)
            return False

    app = QApplication.instance()
    assert app is not None, "a first paint needs the application"

    def finish() -> None:
        app.removeEventFilter(watcher)
        callback()

    watcher = _Watcher(window)
    app.installEventFilter(watcher)
    if window.isVisible():
        window.update()
