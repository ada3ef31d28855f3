"""The PySide6 work-around: thousands of signals and event-loop turns never free True, False or None."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication

import desktop.ui  # noqa: F401  - applies the fixes
from desktop.ui import pyside_fixes


class _Ticker(QObject):
    tick = Signal(object)


def test_many_emits_and_event_loop_turns_are_safe(qapp: QApplication) -> None:
    if sys.version_info < (3, 12):
        assert set(pyside_fixes.PINNED) == {True, False, None}
    ticker = _Ticker()
    seen: list[object] = []
    ticker.tick.connect(seen.append)
    for n in range(20000):
        ticker.tick.emit(None if n % 2 else n)
        if n % 10 == 0:
            qapp.processEvents()
    assert len(seen) == 20000
    assert sys.getrefcount(True) > 1000 and sys.getrefcount(None) > 1000


def test_many_label_updates_are_safe(qapp: QApplication) -> None:
    """Methods returning nothing lose a reference to None on this PySide6; 20,000 of them are fine."""
    from PySide6.QtWidgets import QLabel

    label = QLabel()
    for n in range(20000):
        label.setText(str(n))
    assert label.text() == "19999" and sys.getrefcount(None) > 1000
