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


def test_pyside_import_hook_leaves_module_getattr_alone(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """PySide6's import hook no longer asks a newly imported module for ``__wrapped__`` (that ran
    pydantic's module ``__getattr__`` mid-import and broke its first import on the Review screen), and
    still tells modules that use PySide6 from those that do not."""
    import sys

    from desktop.ui import pyside_fixes

    assert pyside_fixes.FEATURE_PROBE_QUIET
    (tmp_path / "curbdesk_lazy_probe.py").write_text(
        "LOOKED_UP = []\n"
        "def __getattr__(name):\n"
        "    LOOKED_UP.append(name)\n"
        "    raise ImportError('a lazy attribute imported a half-initialised module')\n")
    (tmp_path / "curbdesk_qt_probe.py").write_text("import PySide6.QtCore  # uses PySide6\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    # an import statement goes through builtins.__import__, where PySide6 hooks in (importlib does not)
    lazy = __import__("curbdesk_lazy_probe")
    __import__("curbdesk_qt_probe")
    assert lazy.LOOKED_UP == []
    features = sys.modules["shibokensupport.feature"].pyside_feature_dict
    assert features["curbdesk_lazy_probe"] == -1 and features["curbdesk_qt_probe"] == 0
