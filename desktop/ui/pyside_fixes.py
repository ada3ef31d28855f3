"""Work-arounds for defects of the PySide6 release we ship with, applied once when `desktop.ui` is imported.

PySide6 6.12 returns some singletons without taking a reference to them: `SignalInstance.emit()`
returns `True` and every method returning nothing (`setText`, `processEvents` ...) returns `None` that way. Every signal
emitted from Python (progress reports, table reloads) and every `processEvents()` call (modal
loops, pytest-qt's waits) lowers a reference count by one; after a few thousand CPython frees
the singleton and the application aborts ("bool_dealloc" / "none_dealloc"). Probes measure both
defects at start-up; when present, the singletons are pinned (CPython 3.12+ makes them immortal).
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QCoreApplication, QObject, Signal

_PIN = 1 << 40


class _Probe(QObject):
    ping = Signal()


def emit_loses_references() -> bool:
    """Whether emitting a signal from Python drops a reference to True."""
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(8):
        probe.ping.emit()
    return sys.getrefcount(True) < before


def process_events_loses_references() -> bool:
    """Whether `QCoreApplication.processEvents()` drops a reference to None (needs no application)."""
    before = sys.getrefcount(None)
    for _ in range(8):
        QCoreApplication.processEvents()
    return sys.getrefcount(None) < before


def apply() -> tuple[object, ...]:
    """Pin the singletons this PySide6 loses references to; returns those pinned."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return ()
    # None is always pinned: every Qt method returning nothing (setText, processEvents ...) loses a
    # reference to it on this PySide6 (measured: -1000 after 1000 QLabel.setText calls), and pinning
    # an object no code frees is harmless where the defect is absent.
    pinned: list[object] = [None]
    if emit_loses_references():
        pinned += [True, False]
    for value in pinned:
        ctypes.c_ssize_t.from_address(id(value)).value += _PIN
    return tuple(pinned)


PINNED = apply()
