"""Everything that imports PySide6: the main window, views, table models, widgets, background tasks."""

import sys


def _keep_none_alive() -> None:
    """Work around PySide6 6.12 on Python 3.11: every call to a Qt method that returns nothing
    (``label.setText(...)``, ``app.processEvents()``...) gives back ``None`` without taking a
    reference to it, so each such call lowers None's reference count by one. A process starts with
    about 70,000 references; a clerk's day of clicks (or a long GUI test run) reaches zero and the
    interpreter aborts with "Fatal Python error: none_dealloc". Python 3.12 made None immortal;
    this gives 3.11 the same: a reference count no program can exhaust. Measured, not guessed:
    ``sys.getrefcount(None)`` drops by exactly 1000 after 1000 ``QLabel.setText`` calls.
    """
    if sys.version_info >= (3, 12):
        return  # None is immortal there; its count must not be touched
    import ctypes

    ctypes.c_ssize_t.from_address(id(None)).value += 1 << 40


_keep_none_alive()
