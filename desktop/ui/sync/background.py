"""The field syncs that run whichever screen is open: :class:`SyncBackground` runs the syncs (manual and
automatic every N minutes) and watches the dock drop folder; it lives as long as the window. All work goes
through the operations API: the window never waits on the network or the database, and what a sync or a
dock bundle stored is announced on the operation bus (`SYNC_CHANGES`), committed batches included.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, ClassVar

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from desktop.domain.roles import Permission, allowed
from desktop.services import sync as sync_service
from desktop.services.review.plates import ReadRun, read_plates
from desktop.services.sync.endpoints import EndpointRow
from desktop.services.sync.run import SyncSummary
from desktop.sync.client import SyncCancelled
from desktop.ui.common.operations import Changes, Mutation, Query
from desktop.ui.common.tasks import Cancelled, Task, TaskControl
from desktop.ui.context import UiContext

log = logging.getLogger(__name__)

AUTO_TICK_MS = 30_000
#: an idle workstation reads the plates no one read yet (photos of citations in review) this often
PLATES_IDLE_MS = 300_000
DROP_SETTLE_MS = 2_500
#: what a sync, a dock bundle or a corrected event may change: field data, and new citations for review
SYNC_CHANGES = Changes(sync=True, review=True, cases=True)


# --------------------------------------------------------------------------- background


class SyncBackground(QObject):
    """Runs syncs one at a time, the automatic ones every N minutes, and imports bundles from the drop folder.

    Signals: ``started(endpoint_id)``, ``progress(done, total, text)``, ``finished(SyncSummary)``,
    ``failed(exception)``, ``busy_changed(bool)``, ``bundles_imported(list[DropResult])``,
    ``auto_note(text)``, ``auto_checked(started)`` after each check of the automatic schedule.
    """

    started = Signal(int)
    progress = Signal(int, int, str)
    finished = Signal(object)
    failed = Signal(object)
    busy_changed = Signal(bool)
    bundles_imported = Signal(object)
    auto_note = Signal(str)
    auto_checked = Signal(bool)
    plates_read = Signal(object)

    _instances: ClassVar[dict[int, SyncBackground]] = {}

    def __init__(self, ctx: UiContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.task: Task | None = None
        self.endpoint_id: int | None = None
        self.page_limit = sync_service.PAGE_LIMIT
        self.client_options: dict[str, Any] = {}
        self.can_sync = allowed(ctx.actor.role, Permission.SYNC_FIELD_DATA)
        self.can_review = allowed(ctx.actor.role, Permission.REVIEW_CITATIONS)
        self.plates_task: Task | None = None
        #: whether the last sync was started by the timer (its failure goes to the status bar, not a dialog)
        self.automatic = False
        self._noted: set[int] = set()
        self._scanning = False
        self.auto_timer = QTimer(self)
        self.auto_timer.setInterval(AUTO_TICK_MS)
        self.auto_timer.timeout.connect(self.check_automatic)
        self.drop_timer = QTimer(self)
        self.drop_timer.setSingleShot(True)
        self.drop_timer.setInterval(DROP_SETTLE_MS)
        self.drop_timer.timeout.connect(self.scan_drop_folder)
        self.watcher: Any = None
        if self.can_sync:
            self.auto_timer.start()
        self.plates_timer = QTimer(self)
        self.plates_timer.setInterval(PLATES_IDLE_MS)
        self.plates_timer.timeout.connect(lambda: None if self.running else self.read_plates())
        if self.can_review:
            self.plates_timer.start()
            self._watch_drop_folder()

    @classmethod
    def instance(cls, ctx: UiContext) -> SyncBackground:
        """The one background of this window's context (made on first use)."""
        found = cls._instances.get(id(ctx))
        if found is None or found.ctx is not ctx:
            found = cls(ctx, ctx.runner)
            cls._instances[id(ctx)] = found
        return found

    @property
    def running(self) -> bool:
        return self.task is not None and self.task.running

    # ------------------------------------------------------------ syncing

    def sync(self, endpoint_id: int, token: str | None = None, automatic: bool = False) -> bool:
        """Start a sync in the background; False if one is already running."""
        if self.running:
            return False
        self.automatic = automatic
        app, actor = self.ctx.app, self.ctx.actor
        limit, options = self.page_limit, dict(self.client_options)

        def work(control: TaskControl) -> SyncSummary:
            return sync_service.sync_now(app, actor, endpoint_id, control.progress, lambda: control.cancelled,
                                         token=token, page_limit=limit, client_options=options)

        self.endpoint_id = endpoint_id
        # committed page by page: what arrived before a failure or a Cancel is kept, and announced
        self.task = Mutation(self.ctx, self, work, changes=SYNC_CHANGES, partial=True, success=self._done,
                             failure=self._failed).on_progress(self.progress.emit).run()
        self.started.emit(endpoint_id)
        self.busy_changed.emit(True)
        return True

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def _done(self, summary: SyncSummary) -> None:
        self.task = None
        self.busy_changed.emit(False)
        self.finished.emit(summary)
        if summary.stats.photos:
            self.read_plates()

    def read_plates(self) -> None:
        """After a sync (and every PLATES_IDLE_MS while no sync runs): read the plates in the photos of citations
        in review not read yet, in the background (never inside a sync, never slowing it); a sync that starts
        meanwhile cancels the reading.
        Announces ``plates_read(ReadRun)``; an unavailable reader is said once in the status bar."""
        if self.plates_task is not None or not self.can_review:
            return
        app, actor = self.ctx.app, self.ctx.actor

        def work(control: TaskControl) -> ReadRun:
            return read_plates(app, actor, progress=lambda d, t: control.progress(d, t, "Reading plates…"),
                               cancelled=lambda: control.cancelled or self.running, in_review_only=True)

        def done(run: ReadRun) -> None:
            self.plates_task = None
            self.plates_read.emit(run)

        def failed(exc: BaseException) -> None:
            self.plates_task = None
            log.warning("plate reading after the sync failed: %s", exc)

        self.plates_task = Mutation(self.ctx, self, work, changes=Changes(review=True), partial=True, success=done,
                                    failure=failed).run()

    def _failed(self, exc: BaseException) -> None:
        self.task = None
        self.busy_changed.emit(False)
        self.failed.emit(exc)

    def check_automatic(self) -> None:
        """Start the automatic sync of the first endpoint that is due (every N minutes, token at hand)."""
        if self.running or not self.can_sync:
            return
        app, actor = self.ctx.app, self.ctx.actor
        Query(self.ctx, self, lambda _c: sync_service.list_endpoints(app, actor), success=self._auto_due,
              failure=lambda exc: log.warning("automatic sync check failed: %s", exc)).run()

    def _auto_due(self, endpoints: list[EndpointRow]) -> None:
        started = self._start_due(endpoints)
        self.auto_checked.emit(started)

    def _start_due(self, endpoints: list[EndpointRow]) -> bool:
        if self.running:
            return False
        now = self.ctx.app.now()
        for ep in endpoints:
            if ep.auto_sync_minutes <= 0:
                continue
            if ep.last_sync_at is not None and now - ep.last_sync_at < timedelta(minutes=ep.auto_sync_minutes):
                continue
            if not ep.has_token:
                if ep.id not in self._noted:
                    self._noted.add(ep.id)
                    self.auto_note.emit(f"Automatic sync of {ep.name} is waiting for its token: press Sync now once.")
                continue
            return self.sync(ep.id, automatic=True)
        return False

    # ------------------------------------------------------------ the drop folder

    def _watch_drop_folder(self) -> None:
        folder = self.ctx.app.paths.drop_dir
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            log.warning("drop folder %s unavailable: %s", folder, exc)
            return
        self.watcher = QFileSystemWatcher([str(folder)], self)
        self.watcher.directoryChanged.connect(lambda _path: self.drop_timer.start())
        self.drop_timer.start()  # bundles dropped while the application was closed

    def scan_drop_folder(self) -> None:
        if self._scanning or not self.can_sync:
            return
        folder = self.ctx.app.paths.drop_dir
        if not any(p.suffix.lower() == ".zip" for p in folder.glob("*") if p.is_file()):
            return
        self._scanning = True
        app, actor = self.ctx.app, self.ctx.actor

        def work(control: TaskControl) -> list[sync_service.DropResult]:
            return sync_service.scan_drop_folder(app, actor, control.progress, lambda: control.cancelled)

        def done(results: list[sync_service.DropResult]) -> None:
            self._scanning = False
            if results:
                self.bundles_imported.emit(results)
                self.read_plates()
            if any(p.suffix.lower() == ".zip" for p in folder.glob("*") if p.is_file()):
                self.drop_timer.start()  # files still being copied: look again shortly

        def failed(exc: BaseException) -> None:
            self._scanning = False
            self.ctx.error(exc)

        Mutation(self.ctx, self, work, changes=SYNC_CHANGES, partial=True, success=done, failure=failed).run()


def start_background(ctx: UiContext) -> SyncBackground | None:
    """Started with the main window: automatic sync and the drop folder, whichever screen is open.
    What they did is told in the status bar."""
    if not allowed(ctx.actor.role, Permission.SYNC_FIELD_DATA):
        return None
    background = SyncBackground.instance(ctx)

    def failed(exc: BaseException) -> None:
        if background.automatic and not isinstance(exc, (SyncCancelled, Cancelled)):
            ctx.messages.info(f"Automatic sync failed: {' '.join(str(exc).split())}", 30000)

    background.finished.connect(lambda summary: ctx.messages.info(summary.line(), 15000))
    background.failed.connect(failed)
    background.bundles_imported.connect(lambda results: ctx.messages.info(
        "Dock bundles: " + "; ".join(r.line for r in results), 20000))
    return background
