"""The one way to run blocking work (database, HTTP, PDF) off the GUI thread: the engine.

Screens do not call it directly: they use the operations API on top (`desktop.ui.common.operations`).
`TaskRunner.run(fn, ...)` runs `fn(control, *args)` on a worker thread and calls
`on_done(result)` or `on_error(exc)` back on the GUI thread. The work function gets a
`TaskControl` to report progress and to see whether the user pressed Cancel; it never
touches widgets. Nothing else in the UI creates threads.
"""

from __future__ import annotations

import gc
import logging
import threading
import weakref
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QRunnable, QThreadPool, QTimer, Signal, Slot

log = logging.getLogger(__name__)


class Cancelled(Exception):
    """Raised inside a work function when the user cancelled it."""


class TaskControl:
    """Handed to a work function: report progress, check for cancellation."""

    def __init__(self, signals: _TaskSignals) -> None:
        self._signals = signals
        self._cancel = threading.Event()

    def progress(self, done: int, total: int, text: str = "") -> None:
        self._signals.progress.emit(done, total, text)

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        if self._cancel.is_set():
            raise Cancelled()

    def wait(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for Cancel (a listener's pause between polls); True once cancelled."""
        return self._cancel.wait(seconds)

    @property
    def cancel_event(self) -> threading.Event:
        """Set when Cancel was asked: for a long-running listener's own loop (``TaskRunner.listen``)."""
        return self._cancel

    def step(self, done: int, total: int, text: str = "") -> None:
        """Progress from work that may stop here: raises Cancelled once Cancel was asked, else reports."""
        self.check()
        self.progress(done, total, text)


class _TaskSignals(QObject):
    done = Signal(object)
    failed = Signal(object)
    progress = Signal(int, int, str)


class Task(QObject):
    """A running task. Signals: `finished(result)`, `failed(exception)`, `progress(done, total, text)`."""

    finished = Signal(object)
    failed = Signal(object)
    progress = Signal(int, int, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._signals = _TaskSignals()
        self.control = TaskControl(self._signals)
        self._signals.done.connect(self.finished)
        self._signals.failed.connect(self.failed)
        self._signals.progress.connect(self.progress)
        self.running = True
        self.finished.connect(self._stop)
        self.failed.connect(self._stop)

    @Slot()
    def _stop(self, *_a: Any) -> None:
        self.running = False

    def cancel(self) -> None:
        self.control.cancel()


class _Runnable(QRunnable):
    def __init__(self, task: Task, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        super().__init__()
        self.task = task
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.setAutoDelete(True)

    def run(self) -> None:
        signals = self.task._signals
        try:
            result = self.fn(self.task.control, *self.args, **self.kwargs)
        except BaseException as exc:  # delivered to the GUI thread, never lost
            self._deliver(signals.failed, exc)
        else:
            self._deliver(signals.done, result)

    @staticmethod
    def _deliver(signal: Any, value: Any) -> None:
        try:
            signal.emit(value)
        except RuntimeError:
            # The application closed while this work ran: nobody is left to tell.
            log.debug("task result dropped: its receiver is gone")


class MainThreadGC(QObject):
    """Python's cyclic garbage collector, run only on the GUI thread.

    Left to itself, the collector runs on whichever thread happens to allocate, and a collection on a
    worker thread that frees Qt wrappers crashes the process (seen here as a segfault in a worker's
    database query). So automatic collection is turned off and the same generational thresholds are
    checked from a timer on the GUI thread, and whenever work is handed to the pool (Anki does the same).
    """

    def __init__(self, parent: QObject, interval_ms: int = 500) -> None:
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(interval_ms)

    def check(self) -> None:
        g0, g1, g2 = gc.get_count()
        if g0 > self.threshold[0]:
            gc.collect(0)
            if g1 > self.threshold[1]:
                gc.collect(1)
                if g2 > self.threshold[2]:
                    gc.collect(2)


_gc_guard: MainThreadGC | None = None

_quit_hooked = threading.Event()

#: Every live runner: what ``stop_all_runners`` waits for before the application (or the test session) ends.
_RUNNERS: weakref.WeakSet[TaskRunner] = weakref.WeakSet()


def live_runners() -> list[TaskRunner]:
    return [r for r in list(_RUNNERS) if shiboken6.isValid(r)]


def stop_all_runners(msecs: int = 10000, only: list[TaskRunner] | None = None) -> bool:
    """Cancel and wait for every runner's work and listeners (or those in ``only``).

    A pool thread still running Python when the interpreter finalizes crashes the process (a segfault
    after the last line of output): Qt's threads are not Python's, and CPython ends a thread that asks for
    the interpreter during finalization in a way C++ frames do not survive. Everything that ends the
    application (``aboutToQuit``) or a test session calls this first.
    """
    ok = True
    for runner in (only if only is not None else live_runners()):
        if shiboken6.isValid(runner):
            ok = runner.wait_all(msecs) and ok
    return ok


def install_main_thread_gc() -> MainThreadGC | None:
    """Install the GUI-thread collector once per application (called by every TaskRunner)."""
    global _gc_guard
    app = QCoreApplication.instance()
    if app is None:
        return None
    if _gc_guard is None or not shiboken6.isValid(_gc_guard):
        _gc_guard = MainThreadGC(app)
    return _gc_guard


class TaskRunner(QObject):
    """Runs work functions on a small thread pool and keeps each Task alive until it ends."""

    def __init__(self, parent: QObject | None = None, max_threads: int = 4) -> None:
        super().__init__(parent)
        self.gc_guard = install_main_thread_gc()
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        #: long-lived listeners (``listen``), apart from the work pool
        self.listeners = QThreadPool(self)
        self.listeners.setMaxThreadCount(2)
        self._tasks: set[Task] = set()
        _RUNNERS.add(self)
        app = QCoreApplication.instance()
        if app is not None and not _quit_hooked.is_set():
            _quit_hooked.set()
            app.aboutToQuit.connect(stop_all_runners)

    def run(self, fn: Callable[..., Any], *args: Any, on_done: Callable[[Any], None] | None = None,
            on_error: Callable[[BaseException], None] | None = None,
            on_progress: Callable[[int, int, str], None] | None = None, **kwargs: Any) -> Task:
        """Run `fn(control, *args, **kwargs)` on a worker thread.

        The engine under `desktop.ui.common.operations`: screens use its `Query` and `Mutation`, which
        add the owner guard, the error channel, progress and the change notice.
        """
        if self.gc_guard is not None:
            self.gc_guard.check()  # collect here, on the GUI thread, rather than on a worker
        task = Task(self)
        if on_done:
            task.finished.connect(on_done)
        if on_error:
            task.failed.connect(on_error)
        if on_progress:
            task.progress.connect(on_progress)
        self._tasks.add(task)
        task.finished.connect(lambda _r, t=task: self._tasks.discard(t))
        task.failed.connect(lambda _e, t=task: self._tasks.discard(t))
        self.pool.start(_Runnable(task, fn, args, kwargs))
        return task

    def listen(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Task:
        """Run a long-lived listener, ``fn(control, ...)``, until it is cancelled (the change feed's
        LISTEN loop): on a pool of its own, so it never takes a worker the screens' work needs. It
        reports through its own signals (or ``control.progress``) and must return soon after Cancel."""
        task = Task(self)
        self._tasks.add(task)
        task.finished.connect(lambda _r, t=task: self._tasks.discard(t))
        task.failed.connect(lambda _e, t=task: self._tasks.discard(t))
        self.listeners.start(_Runnable(task, fn, args, kwargs))
        return task

    def active(self) -> int:
        return len(self._tasks)

    def wait_all(self, msecs: int = 30000) -> bool:
        for t in list(self._tasks):
            t.cancel()
        done = self.pool.waitForDone(msecs)
        return self.listeners.waitForDone(msecs) and done
