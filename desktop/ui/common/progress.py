"""The one progress display of the screens: a bar and its Cancel button, driven by operations.

A screen places a `ProgressPanel` where its progress belongs (a status bar, a dialog, a toolbar) and
hands it to an operation (`Query(...).with_progress(panel, "Importing…")`); the operation calls
`begin`, `report` and `end`. Work that is not one operation (the background field sync) drives the
same panel through the same three calls. The panel's `bar` and `cancel_button` are ordinary widgets,
so tests can read them.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QWidget


class ProgressPanel(QWidget):
    """A progress bar with a Cancel button.

    Idle, the bar and the button are hidden (``hide_when_idle``), or shown with the button disabled
    and the bar at ``idle_format``. Busy, the bar starts indeterminate, then follows ``report(done,
    total, text)``; Cancel calls the running work's cancel once and disables itself.

    Signals: ``message(text)`` with the label at `begin` and each non-empty progress text (the main
    window shows them in its status bar); ``cancelled()`` when Cancel asked the work to stop.
    """

    message = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None, *, hide_when_idle: bool = True,
                 busy_format: str | None = None, idle_format: str | None = None,
                 label_format: bool = False, text_format: bool = False, min_total: int = 1,
                 cancel_button: QPushButton | None = None, bar: QProgressBar | None = None) -> None:
        """``busy_format``: the bar's text while busy (None leaves Qt's "%p%"); ``label_format``: show
        the label given to `begin` on the bar; ``text_format``: show each progress text on the bar (or
        "%p%" when there is none); ``min_total``: a total below it is raised to it (1 keeps an empty run
        from reading as "busy", 0 keeps an unknown total indeterminate). ``cancel_button`` and ``bar``
        may be widgets placed elsewhere in the screen; otherwise the panel makes and lays out its own."""
        super().__init__(parent)
        self.hide_when_idle = hide_when_idle
        self.busy_format = busy_format
        self.idle_format = idle_format
        self.label_format = label_format
        self.text_format = text_format
        self.min_total = min_total
        self.bar = bar if bar is not None else QProgressBar()
        self.cancel_button = cancel_button if cancel_button is not None else QPushButton("Cancel")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        if bar is None:
            lay.addWidget(self.bar, 1)
        if cancel_button is None:
            lay.addWidget(self.cancel_button)
        if bar is not None and cancel_button is not None:
            self.hide()  # nothing of its own to show: it only drives widgets placed elsewhere
        self.cancel_button.clicked.connect(self.cancel)
        self._cancel: Callable[[], None] | None = None
        self.busy = False
        self._idle()

    # ----------------------------------------------------------- driven by the work
    def begin(self, label: str = "", cancel: Callable[[], None] | None = None, *,
              bar_format: str | None = None) -> None:
        """Work started: an indeterminate bar, and Cancel calling ``cancel`` (none: no Cancel);
        ``bar_format`` overrides the panel's busy format for this work."""
        self.busy = True
        self._cancel = cancel
        self.bar.setRange(0, 0)
        if bar_format is not None:
            self.bar.setFormat(bar_format)
        elif self.label_format and label:
            self.bar.setFormat(label)
        elif self.busy_format is not None:
            self.bar.setFormat(self.busy_format)
        self.bar.setVisible(True)
        self.cancel_button.setVisible(cancel is not None or not self.hide_when_idle)
        self.cancel_button.setEnabled(cancel is not None)
        if label:
            self.message.emit(label)

    def report(self, done: int, total: int, text: str = "") -> None:
        top = max(total, self.min_total)
        self.bar.setRange(0, top)
        self.bar.setValue(min(done, top) if top > 0 else done)
        if self.text_format:
            self.bar.setFormat(text or "%p%")
        if text:
            self.message.emit(text)

    def end(self, *, completed: bool = False) -> None:
        """Work ended: idle again; ``completed`` leaves a full bar (when the panel stays visible)."""
        self.busy = False
        self._cancel = None
        self._idle()
        if completed:
            self.bar.setValue(self.bar.maximum())

    def cancel(self) -> None:
        """Cancel pressed: ask the work to stop."""
        self.cancel_button.setEnabled(False)
        if self._cancel is not None:
            cancel, self._cancel = self._cancel, None
            cancel()
            self.cancelled.emit()

    # ----------------------------------------------------------- helpers
    def _idle(self) -> None:
        self.cancel_button.setEnabled(False)
        if self.hide_when_idle:  # hidden as it stands: the last value stays until the next begin
            self.bar.setVisible(False)
            self.cancel_button.setVisible(False)
            return
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        if self.idle_format is not None:
            self.bar.setFormat(self.idle_format)
