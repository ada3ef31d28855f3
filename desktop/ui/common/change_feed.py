"""Other workstations' changes on this workstation's operation bus (issue 16, point 6).

`ChangeFeed` runs the services' `ChangeListener` (PostgreSQL LISTEN/NOTIFY, or SQLite's data_version
poll) on the task engine's listener pool and turns each note it hears into `Changes` on the app-wide
`OperationBus`, with the feed itself as the initiator (`is_external`). So a screen refreshes the
same way whether the change was made by another screen here (a `Mutation`) or by another workstation:
it subscribes once and looks at the `Changes`.

Notes that arrive close together (a batch of bulk work, an import) are merged and delivered together
``MERGE_MS`` after the first, well inside the second the issue allows.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from desktop.persistence.db import Database
from desktop.services.core.changes import ChangeListener, ChangeNote
from desktop.ui.common.operations import Changes, OperationBus
from desktop.ui.common.tasks import Task, TaskControl, TaskRunner

log = logging.getLogger(__name__)

#: notes heard within this time are delivered as one change
MERGE_MS = 150


def changes_of(note: ChangeNote) -> Changes:
    """The bus's `Changes` for a note (ids it does not know become "any")."""
    areas = note.areas
    return Changes(cases="cases" in areas, payments="payments" in areas, appeals="appeals" in areas,
                   notices="notices" in areas, review="review" in areas,
                   citation_ids=note.citation_ids or frozenset(), appeal_ids=note.appeal_ids or frozenset())


class ChangeFeed(QObject):
    """Signals: ``heard(Changes)`` for each merged delivery (after the bus was told), ``state(text)`` when
    the listener connects or loses its connection (the main window shows it in the status bar)."""

    heard = Signal(object)
    state = Signal(str)
    _note = Signal(object)  # from the listener's thread, queued to the GUI thread

    def __init__(self, db: Database, runner: TaskRunner, bus: OperationBus, parent: QObject | None = None, *,
                 poll_seconds: float = 1.0) -> None:
        super().__init__(parent)
        self.db = db
        self.runner = runner
        self.bus = bus
        self.poll_seconds = poll_seconds
        self.pending: Changes | None = None
        self.task: Task | None = None
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(MERGE_MS)
        self.timer.timeout.connect(self._deliver)
        self._note.connect(self._received)

    def start(self) -> Task:
        listener = ChangeListener(self.db, self._note.emit, poll_seconds=self.poll_seconds,
                                  on_state=self.state.emit)

        def work(control: TaskControl) -> None:
            listener.run(control.cancel_event)

        self.task = self.runner.listen(work)
        self.task.failed.connect(lambda exc: log.warning("change listener stopped: %s", exc))
        self.destroyed.connect(self.task.cancel)
        return self.task

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def _received(self, note: ChangeNote) -> None:
        changes = changes_of(note)
        self.pending = changes if self.pending is None else self.pending | changes
        if not self.timer.isActive():
            self.timer.start()

    def _deliver(self) -> None:
        changes, self.pending = self.pending, None
        if changes:
            self.bus.notify(changes, self)
            self.heard.emit(changes)


def is_external(initiator: object) -> bool:
    """Whether a change on the bus came from another workstation or program (through a `ChangeFeed`)."""
    return isinstance(initiator, ChangeFeed)


def start_change_feed(ctx: Any) -> ChangeFeed:
    """Started by the main window after it opens (``BACKGROUND``) with its `UiContext`; stops when the window's runner stops
    its work (closing the window). Losing and regaining the connection is told in the status bar."""
    feed = ChangeFeed(ctx.app.db, ctx.runner, ctx.bus)
    said: list[str] = []

    def tell(text: str) -> None:
        if said:  # the first "listening" is not news; a lost or regained connection is
            ctx.messages.info(text, 15000)
        said.append(text)

    feed.state.connect(tell)
    feed.start()
    return feed
