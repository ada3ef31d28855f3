"""Windows no larger than the screen they open on: a 1366 x 768 laptop, or a 1920 x 1080 one at 125 % or
150 % scaling (Qt then reports 1536 x 864 or 1280 x 720 device-independent pixels)."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

#: room left around a dialog for the window frame and title bar the window manager adds
FRAME_MARGIN = 48


def available_geometry(widget: QWidget | None = None) -> QRect | None:
    """The usable part (no task bar) of the screen ``widget`` (or its parent window) is on, else the primary."""
    screen = None
    if widget is not None:
        anchor = widget.parentWidget() or widget
        screen = anchor.window().screen() if anchor.window() is not None else None
    screen = screen or QGuiApplication.primaryScreen()
    return screen.availableGeometry() if screen is not None else None


def fit_to_screen(widget: QWidget, width: int, height: int, margin: int = FRAME_MARGIN) -> None:
    """Resize ``widget`` to ``width`` x ``height``, but never beyond the available screen less ``margin``."""
    room = available_geometry(widget)
    if room is not None:
        width = min(width, room.width() - margin)
        height = min(height, room.height() - margin)
    widget.resize(max(width, 200), max(height, 150))
