"""The operations API of the screens: queries and mutations run on the task engine.

Screens never call `TaskRunner.run` themselves. They say what to run and what to do with the result:

    Query(ctx, self, lambda _c: cases.case_detail(app, actor, cid), success=self._show).run()
    Mutation(ctx, self, lambda _c: payments.post(app, actor, ...), changes=Changes(payments=True, cases=True,
             citation_ids=frozenset({cid})), success=lambda r: ctx.info("Posted.")).run()

and get, always:

- the owner guard: no callback (success, failure, progress) runs once the owner has been destroyed or
  its window closed (`owner_alive`); a destroyed owner also cancels its work;
- errors through the one message channel (`messages.MessageChannel.error`): a `UserError` as the
  clerk-readable message, anything else to the crash dialog and the log; `failure=` replaces this;
- optional progress and Cancel on a `progress.ProgressPanel` (`with_progress`);
- for a mutation, its `Changes` emitted on the app-wide `OperationBus` after the success callback,
  even when the owner is gone (the data did change). Screens subscribe (`bus.subscribe(self,
  handler)`) and decide whether a change concerns them; the handler is told which object started the
  operation, so a screen can recognise its own change (`initiated_by`). A query emits nothing; a
  mutation that commits as it goes (`partial=True`: a sync, a bundle import) announces its changes after
  a failure or a Cancel too.

Modelled on Anki's `CollectionOp`, `QueryOp` and `operation_did_execute` (aqt/operations).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QWidget

from desktop.ui.common.messages import MessageChannel, channel
from desktop.ui.common.progress import ProgressPanel
from desktop.ui.common.tasks import Task, TaskControl, TaskRunner

T = TypeVar("T")


@dataclass(frozen=True)
class Changes:
    """What a mutation changed: one flag per area of data, and the ids touched when they are known.

    Empty id sets mean "not known" (any record of a flagged area may have changed), not "none".
    """

    cases: bool = False
    payments: bool = False
    appeals: bool = False
    notices: bool = False
    review: bool = False
    permits: bool = False
    sync: bool = False
    settings: bool = False
    profiles: bool = False
    users: bool = False
    citation_ids: frozenset[int] = frozenset()
    appeal_ids: frozenset[int] = frozenset()

    def __or__(self, other: Changes) -> Changes:
        merged: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            merged[f.name] = a | b
        return Changes(**merged)

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in dataclasses.fields(self) if f.type == "bool")

    def touches_citation(self, citation_id: int | None) -> bool:
        """Whether the case of ``citation_id`` may have changed."""
        return citation_id is not None and self.cases and (
            not self.citation_ids or citation_id in self.citation_ids)

    def touches_appeal(self, appeal_id: int | None) -> bool:
        return appeal_id is not None and self.appeals and (not self.appeal_ids or appeal_id in self.appeal_ids)


ChangeHandler = Callable[[Changes, object], None]


def initiated_by(initiator: object, screen: QObject) -> bool:
    """Whether a change's initiator is ``screen`` or one of its children (its panel, its dialog)."""
    obj = initiator if isinstance(initiator, QObject) else None
    while obj is not None:
        if obj is screen:
            return True
        obj = obj.parent()
    return False


class OperationBus(QObject):
    """The app-wide notice that data changed. Signal: ``changed(Changes, initiator)``, where the
    initiator is the object that started the mutation (a screen, a dialog), or None."""

    changed = Signal(object, object)

    def notify(self, changes: Changes, initiator: object | None = None) -> None:
        self.changed.emit(changes, initiator)

    def subscribe(self, owner: QObject, handler: ChangeHandler) -> None:
        """Call ``handler(changes, initiator)`` on every change while ``owner`` lives (and is not closed)."""
        def deliver(changes: Changes, initiator: object) -> None:
            if owner_alive(owner):
                handler(changes, initiator)

        self.changed.connect(deliver)

        def drop(*_a: object) -> None:
            try:
                self.changed.disconnect(deliver)
            except (RuntimeError, TypeError):
                pass  # the bus went first

        owner.destroyed.connect(drop)


class OpsHost(Protocol):
    """What an operation needs from the UI context (`desktop.ui.context.UiContext` is one)."""

    runner: TaskRunner
    messages: MessageChannel
    bus: OperationBus


def owner_alive(owner: QObject) -> bool:
    """Whether ``owner`` still wants callbacks: not destroyed, and, for a widget, its window not closed
    (shown once and hidden since: closed, or a dialog accepted or rejected; showing it again revives it).
    A widget never shown (built by a test, or not yet on screen) counts as alive.

    Deliberately no event filter: a Python event filter on every screen makes PySide load event classes
    while workers import, which leaves its import hook swapped (seen as a broken `__import__` hook).
    """
    if not shiboken6.isValid(owner):
        return False
    if isinstance(owner, QWidget):
        window = owner.window()
        if window.testAttribute(Qt.WidgetAttribute.WA_WState_ExplicitShowHide) and window.isHidden():
            return False
    return True


class Query(Generic[T]):
    """Read-only work for ``owner``: ``work(control)`` on a worker thread, ``success(result)`` back on
    the GUI thread while the owner lives. Emits no change notification.

    ``host`` is the UI context; a bare `TaskRunner` does for infrastructure (a paged table model)
    that reports its own failures and never mutates.
    """

    def __init__(self, host: OpsHost | TaskRunner, owner: QObject, work: Callable[[TaskControl], T], *,
                 success: Callable[[T], object] | None = None,
                 failure: Callable[[BaseException], object] | None = None) -> None:
        if isinstance(host, TaskRunner):
            self.runner, self.messages, self.bus = host, channel(), None
        else:
            self.runner, self.messages, self.bus = host.runner, host.messages, host.bus
        self.owner = owner
        self.work = work
        self._success = success
        self._failure = failure
        self._progress: Callable[[int, int, str], object] | None = None
        self._panel: ProgressPanel | None = None
        self._label = ""
        self._cancellable = True
        self._bar_format: str | None = None
        self.task: Task | None = None

    def success(self, fn: Callable[[T], object]) -> Query[T]:
        self._success = fn
        return self

    def failure(self, fn: Callable[[BaseException], object]) -> Query[T]:
        """Handle errors here instead of the message channel."""
        self._failure = fn
        return self

    def on_progress(self, fn: Callable[[int, int, str], object]) -> Query[T]:
        self._progress = fn
        return self

    def with_progress(self, panel: ProgressPanel, label: str = "", *, cancellable: bool = True,
                      bar_format: str | None = None) -> Query[T]:
        """Show the work on ``panel`` (indeterminate, then what the work reports), with Cancel unless
        ``cancellable`` is False; ``bar_format`` is the bar's text for this work ("%v / %m files")."""
        self._panel = panel
        self._label = label
        self._cancellable = cancellable
        self._bar_format = bar_format
        return self

    # ----------------------------------------------------------- running
    def run(self) -> Task:
        """Start the work; the returned task can be cancelled and watched (``progress`` signal)."""
        owner = self.owner

        def alive() -> bool:
            return owner_alive(owner)

        task = self.runner.run(self.work)
        self.task = task
        self.owner.destroyed.connect(task.cancel)
        panel = self._panel
        if panel is not None:
            panel.begin(self._label, task.cancel if self._cancellable else None, bar_format=self._bar_format)

        def end_panel() -> None:
            if panel is not None and shiboken6.isValid(panel) and panel.busy:
                panel.end()

        def progressed(done: int, total: int, text: str) -> None:
            if not alive():
                return
            if panel is not None and shiboken6.isValid(panel):
                panel.report(done, total, text)
            if self._progress is not None:
                self._progress(done, total, text)

        def finished(result: Any) -> None:
            try:
                if alive():
                    end_panel()
                    if self._success is not None:
                        self._success(result)
            finally:
                self._finished(result)

        def failed(exc: BaseException) -> None:
            try:
                if alive():
                    end_panel()
                    if self._failure is not None:
                        self._failure(exc)
                    else:
                        self.messages.error(exc)
            finally:
                self._failed(exc)

        task.progress.connect(progressed)
        task.finished.connect(finished)
        task.failed.connect(failed)
        return task

    def _finished(self, result: Any) -> None:
        """After the success callback (whether or not the owner still lives)."""

    def _failed(self, exc: BaseException) -> None:
        """After the failure callback (whether or not the owner still lives)."""


class Mutation(Query[T]):
    """Work that changes data: a `Query` that, on success, emits ``changes`` (or ``changes(result)``)
    on the operation bus with ``initiator`` (the owner unless given) after the success callback.

    ``partial=True`` is for work that commits as it goes (a sync, an import in batches): its static
    ``changes`` are emitted after a failure or a Cancel too, since what was committed stays.
    """

    def __init__(self, host: OpsHost, owner: QObject, work: Callable[[TaskControl], T], *,
                 changes: Changes | Callable[[T], Changes],
                 success: Callable[[T], object] | None = None,
                 failure: Callable[[BaseException], object] | None = None,
                 initiator: object | None = None, partial: bool = False) -> None:
        super().__init__(host, owner, work, success=success, failure=failure)
        if partial and callable(changes):
            raise TypeError("a partial mutation names its changes up front (there is no result after a failure)")
        self.changes = changes
        self.partial = partial
        self.initiator = owner if initiator is None else initiator

    def _finished(self, result: Any) -> None:
        changes = self.changes(result) if callable(self.changes) else self.changes
        self._notify(changes)

    def _failed(self, exc: BaseException) -> None:
        if self.partial and isinstance(self.changes, Changes):
            self._notify(self.changes)

    def _notify(self, changes: Changes) -> None:
        if changes and self.bus is not None:
            self.bus.notify(changes, self.initiator)


__all__ = ["ChangeHandler", "Changes", "Mutation", "OperationBus", "OpsHost", "Query", "initiated_by", "owner_alive"]
