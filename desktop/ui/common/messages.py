"""One channel for everything the user must be told: notices, user errors, and bugs.

User errors (`UserError`) show their clerk-readable message; anything else is a bug and
opens the crash dialog with a copyable report, and goes to the log.
"""

from __future__ import annotations

import logging
import platform
import sys
import traceback
from types import TracebackType

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from desktop import __version__
from desktop.domain.errors import UserError
from desktop.ui.common.tasks import Cancelled

log = logging.getLogger(__name__)


class CrashDialog(QDialog):
    """Shows an unexpected error with a report the user can copy to the help desk."""

    def __init__(self, report: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Curbdesk: unexpected error")
        self.report = report
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(
            "<b>Something went wrong inside Curbdesk.</b><br>Your committed work is safe. "
            "Copy the report below and send it to your help desk."))
        self.text = QPlainTextEdit(report)
        self.text.setReadOnly(True)
        self.text.setMinimumSize(640, 280)
        lay.addWidget(self.text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = buttons.addButton("Copy report", QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(self.copy_report)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def copy_report(self) -> None:
        QGuiApplication.clipboard().setText(self.report)


def crash_report(exc: BaseException) -> str:
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return (f"Curbdesk {__version__} on Python {platform.python_version()}, {platform.platform()}\n\n{tb}")


class MessageChannel(QObject):
    """Emits `notified(text, timeout_ms)` for the status bar; shows dialogs for errors."""

    notified = Signal(str, int)
    error_shown = Signal(str)

    def __init__(self, parent: QObject | None = None, *, interactive: bool = True) -> None:
        super().__init__(parent)
        self.interactive = interactive
        self.last_error: str | None = None

    def info(self, text: str, timeout_ms: int = 6000) -> None:
        self.notified.emit(text, timeout_ms)

    def error(self, exc: BaseException, parent: QWidget | None = None) -> None:
        if isinstance(exc, Cancelled):
            self.info("Cancelled.")
            return
        if isinstance(exc, UserError):
            self.last_error = str(exc)
            self.error_shown.emit(str(exc))
            self.notified.emit(str(exc), 10000)
            if self.interactive:
                QMessageBox.warning(parent or QApplication.activeWindow(), "Curbdesk", str(exc))
            return
        report = crash_report(exc)
        log.error("unexpected error\n%s", report)
        self.last_error = report
        self.error_shown.emit(report)
        if self.interactive:
            CrashDialog(report, parent or QApplication.activeWindow()).exec()


_channel: MessageChannel | None = None


def channel() -> MessageChannel:
    global _channel
    if _channel is None:
        _channel = MessageChannel()
    return _channel


def set_channel(ch: MessageChannel) -> None:
    global _channel
    _channel = ch


def install_excepthook() -> None:
    """Uncaught exceptions in slots reach the crash dialog instead of killing the app silently."""

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        exc.__traceback__ = tb
        channel().error(exc)

    sys.excepthook = hook
