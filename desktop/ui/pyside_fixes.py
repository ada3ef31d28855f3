"""Work-arounds for defects of the PySide6 release we ship with, applied once when `desktop.ui` is imported.

PySide6 6.12 returns some singletons without taking a reference to them: `SignalInstance.emit()`
returns `True` and every method returning nothing (`setText`, `processEvents` ...) returns `None` that way. Every signal
emitted from Python (progress reports, table reloads) and every `processEvents()` call (modal
loops, pytest-qt's waits) lowers a reference count by one; after a few thousand CPython frees
the singleton and the application aborts ("bool_dealloc" / "none_dealloc"). Probes measure both
defects at start-up; when present, the singletons are pinned (CPython 3.12+ makes them immortal).

PySide6's import hook (``shibokensupport.feature``) asks ``inspect.getsource`` of every module imported
after it, to see whether the source mentions PySide6; ``inspect`` first asks the module for
``__wrapped__``, which runs a module-level ``__getattr__``. pydantic's ``errors`` module has one that
imports ``pydantic._internal._validators``: when that module is what is importing ``errors``, the
lookup meets it half-initialised and the first ``from pydantic import ...`` fails as a circular import
(seen on the Review screen). ``quiet_feature_probe`` makes the hook read the file instead.
"""

from __future__ import annotations

import ctypes
import sys
import types

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


def quiet_feature_probe() -> bool:
    """Let PySide6's import hook decide "does this module use PySide6?" from the module's file, never by
    looking attributes up on the module (which runs its ``__getattr__``). Same answer for a module with a
    ``.py`` file; anything else goes to PySide6's own probe. Returns whether the hook was found."""
    feature = sys.modules.get("shibokensupport.feature")
    original = getattr(feature, "_mod_uses_pyside", None)
    if original is None:
        return False
    if getattr(original, "curbdesk", False):
        return True

    def uses_pyside(module: object) -> bool:
        path = vars(module).get("__file__") if isinstance(module, types.ModuleType) else None
        if isinstance(path, str) and path.endswith(".py"):
            try:
                with open(path, "rb") as source:
                    return b"PySide6" in source.read()
            except OSError:
                return False
        return bool(original(module))

    uses_pyside.curbdesk = True  # type: ignore[attr-defined]
    feature._mod_uses_pyside = uses_pyside  # type: ignore[union-attr]
    return True


PINNED = apply()
FEATURE_PROBE_QUIET = quiet_feature_probe()
