"""The Devices & Sync screen: field endpoints, Sync now with progress and Cancel, the handhelds and their
sequence gaps, the quarantine (discard with a reason, re-submit a corrected event), and dock bundles.

:class:`SyncBackground` runs the syncs (manual and automatic every N minutes) and watches the dock drop
folder; it lives as long as the window, so automatic sync and the drop folder work whichever screen is open.
All work goes through the operations API (`desktop.ui.common.operations`): the window never waits on the
network or the database, and the screen reads its lists again when the operation bus says field data changed.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import QFileSystemWatcher, QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.errors import UserError
from desktop.domain.roles import Permission, allowed
from desktop.services.sync import service as sync_service
from desktop.services.sync.service import EndpointRow, QuarantineRow, SyncSummary
from desktop.sync.client import SyncCancelled
from desktop.ui.common.operations import Changes, Mutation, Query
from desktop.ui.common.progress import ProgressPanel
from desktop.ui.common.tasks import Cancelled, Task, TaskControl
from desktop.ui.common.widgets import ok_cancel
from desktop.ui.context import UiContext
from desktop.ui.sync.models import BundleTableModel, DeviceTableModel, QuarantineTableModel, SkippedTableModel

log = logging.getLogger(__name__)

AUTO_TICK_MS = 30_000
#: what a sync, a dock bundle or a corrected event may change: field data, and new citations for review
SYNC_CHANGES = Changes(sync=True, review=True, cases=True)
DROP_SETTLE_MS = 2_500


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

    _instances: dict[int, SyncBackground] = {}

    def __init__(self, ctx: UiContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.task: Task | None = None
        self.endpoint_id: int | None = None
        self.page_limit = sync_service.PAGE_LIMIT
        self.client_options: dict[str, Any] = {}
        self.can_sync = allowed(ctx.actor.role, Permission.SYNC_FIELD_DATA)
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


# --------------------------------------------------------------------------- dialogs


def _keyring_note() -> str:
    if sync_service.TOKENS.keyring_available():
        return "The token is kept in the system keyring."
    return ("This computer has no system keyring: the token is kept only until Curbdesk closes "
            "(never on disk). Automatic sync needs it entered once per session.")


class TokenDialog(QDialog):
    """Asks for an endpoint's token (shown as dots), with the choice to keep it in the keyring."""

    def __init__(self, endpoint: EndpointRow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Token for {endpoint.name}")
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(f"The field endpoint <b>{endpoint.name}</b> ({endpoint.url}) needs its access token."))
        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("bearer token")
        lay.addWidget(self.token)
        self.remember = QCheckBox("Keep it in the system keyring")
        self.remember.setChecked(sync_service.TOKENS.keyring_available())
        self.remember.setEnabled(sync_service.TOKENS.keyring_available())
        lay.addWidget(self.remember)
        note = QLabel(_keyring_note())
        note.setWordWrap(True)
        note.setStyleSheet("color:#555")
        lay.addWidget(note)
        buttons = ok_cancel(self.accept, self.reject)
        lay.addWidget(buttons)


class EndpointDialog(QDialog):
    """Add or change a field endpoint: name, address, CA bundle, automatic sync, token."""

    saved = Signal(int)

    def __init__(self, ctx: UiContext, endpoint: EndpointRow | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.endpoint = endpoint
        self.setWindowTitle("Field endpoint" if endpoint is None else f"Field endpoint — {endpoint.name}")
        self.setMinimumWidth(520)
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.name = QLineEdit(endpoint.name if endpoint else "")
        self.url = QLineEdit(endpoint.url if endpoint else "https://")
        self.url.setPlaceholderText("https://fleet-gateway.example.org (plain http only for 127.0.0.1)")
        self.ca = QLineEdit(endpoint.ca_bundle or "" if endpoint else "")
        self.ca.setPlaceholderText("optional: PEM file of the CA that signed the gateway's certificate")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        ca_row = QHBoxLayout()
        ca_row.addWidget(self.ca, 1)
        ca_row.addWidget(browse)
        self.minutes = QSpinBox()
        self.minutes.setRange(0, 1440)
        self.minutes.setSuffix(" min")
        self.minutes.setSpecialValueText("off")
        self.minutes.setValue(endpoint.auto_sync_minutes if endpoint else 0)
        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("unchanged" if endpoint else "bearer token")
        self.remember = QCheckBox("Keep the token in the system keyring")
        self.remember.setChecked(sync_service.TOKENS.keyring_available())
        self.remember.setEnabled(sync_service.TOKENS.keyring_available())
        form.addRow("&Name", self.name)
        form.addRow("&Address", self.url)
        form.addRow("&CA bundle", ca_row)
        form.addRow("Automatic &sync every", self.minutes)
        form.addRow("&Token", self.token)
        form.addRow("", self.remember)
        lay.addLayout(form)
        note = QLabel(_keyring_note())
        note.setWordWrap(True)
        note.setStyleSheet("color:#555")
        lay.addWidget(note)
        self.error = QLabel("")
        self.error.setStyleSheet("color:#b71c1c")
        self.error.setWordWrap(True)
        lay.addWidget(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)

    def save(self) -> None:
        """Save through the task runner; the dialog closes only when the endpoint was saved."""
        values = self.values()
        app, actor = self.ctx.app, self.ctx.actor
        endpoint_id = self.endpoint.id if self.endpoint else None
        self.buttons.setEnabled(False)
        self.error.setText("Saving…")

        def failed(exc: BaseException) -> None:
            self.buttons.setEnabled(True)
            if isinstance(exc, UserError):
                self.error.setText(str(exc))
            else:
                self.error.setText("")
                self.ctx.error(exc)

        def done(result: tuple[int, str | None]) -> None:
            self.saved.emit(result[0])
            self.accept()

        Mutation(self.ctx, self, lambda _c: sync_service.save_endpoint(app, actor, endpoint_id, **values),
                 changes=Changes(sync=True), success=done, failure=failed).run()

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "CA bundle", "", "Certificates (*.pem *.crt *.cer);;All (*)")
        if path:
            self.ca.setText(path)

    def values(self) -> dict[str, Any]:
        return {"name": self.name.text().strip(), "url": self.url.text().strip(),
                "ca_bundle": self.ca.text().strip() or None, "auto_sync_minutes": self.minutes.value(),
                "token": self.token.text() or None, "remember_token": self.remember.isChecked()}


class ResubmitDialog(QDialog):
    """Edit a quarantined event and send it through the pipeline again. Closes only when it was applied.

    Signal ``resubmitted(stats)``.
    """

    resubmitted = Signal(object)

    def __init__(self, ctx: UiContext, row: QuarantineRow, raw: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.row = row
        self.setWindowTitle(f"Re-submit a corrected event — {row.type or 'unreadable event'}")
        self.resize(760, 620)
        lay = QVBoxLayout(self)
        why = QLabel(f"<b>Quarantined because:</b> {_html(row.reason)}")
        why.setWordWrap(True)
        why.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(why)
        hint = QLabel("Correct the event below (JSON). It is applied whole or not at all; a correction needs no "
                      "device signature, and the audit trail records you as its author.")
        hint.setWordWrap(True)
        hint.setStyleSheet("color:#555")
        lay.addWidget(hint)
        self.editor = QPlainTextEdit(raw)
        self.editor.setFont(QFont("monospace", 9))
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        lay.addWidget(self.editor, 1)
        self.note = QLineEdit()
        self.note.setPlaceholderText("what you corrected (kept with the quarantine record)")
        lay.addWidget(self.note)
        self.error = QLabel("")
        self.error.setStyleSheet("color:#b71c1c")
        self.error.setWordWrap(True)
        lay.addWidget(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.submit = self.buttons.addButton("Re-submit", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.run)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)

    def run(self) -> None:
        text, note = self.editor.toPlainText(), self.note.text().strip() or None
        app, actor, qid = self.ctx.app, self.ctx.actor, self.row.id
        self.submit.setEnabled(False)
        self.error.setText("Applying…")
        Mutation(self.ctx, self, lambda _c: sync_service.resubmit_quarantined(app, actor, qid, text, note),
                 changes=SYNC_CHANGES, success=self._done, failure=self._failed).run()

    def _done(self, stats: Any) -> None:
        self.resubmitted.emit(stats)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.submit.setEnabled(True)
        if isinstance(exc, UserError):
            self.error.setText(str(exc))
        else:
            self.error.setText("")
            self.ctx.error(exc)


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _table(model: Any) -> QTableView:
    table = QTableView()
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setAlternatingRowColors(True)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(24)
    table.setWordWrap(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    table.horizontalHeader().setStretchLastSection(True)
    return table


# --------------------------------------------------------------------------- the screen


class SyncView(QWidget):
    """Devices & Sync. Signals: ``loaded()`` after every refresh, ``quarantine_loaded(count)``,
    ``devices_loaded(count)`` when the device list is read again during a sync."""

    loaded = Signal()
    quarantine_loaded = Signal(int)
    devices_loaded = Signal(int)
    #: during a sync the device list is read again after a committed batch, at most this often
    DEVICES_EVERY_SECONDS = 2.0

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        role = ctx.actor.role
        self.can_sync = allowed(role, Permission.SYNC_FIELD_DATA)
        self.can_manage = allowed(role, Permission.MANAGE_DEVICES)
        self.can_resolve = allowed(role, Permission.RESOLVE_QUARANTINE)
        self.endpoints: list[EndpointRow] = []
        self._select_after_refresh: int | None = None
        self._devices_reading = False
        self._devices_read_at = float("-inf")
        self._refreshes = 0  # full refreshes started: a device read begun before the latest one is stale
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 4)
        if not self.can_sync:
            msg = QLabel(f"<h3>Devices &amp; Sync</h3>Your role ({role.label.lower()}) does not use field sync. "
                         "Ask a clerk or a supervisor.")
            msg.setTextFormat(Qt.TextFormat.RichText)
            msg.setAlignment(Qt.AlignmentFlag.AlignCenter)
            lay.addWidget(msg)
            self.background = None
            return
        self.background = SyncBackground.instance(ctx)
        self._build_header(lay)
        self._build_tabs(lay)
        bg = self.background
        bg.progress.connect(self._sync_progress)
        bg.busy_changed.connect(self._busy)
        bg.finished.connect(self._finished)
        bg.failed.connect(self._failed)
        bg.bundles_imported.connect(self._bundles_imported)
        bg.auto_note.connect(lambda text: self.ctx.messages.info(text, 15000))
        self._busy(bg.running)
        ctx.bus.subscribe(self, self._data_changed)

    # ------------------------------------------------------------ building

    def _build_header(self, lay: QVBoxLayout) -> None:
        bar = QHBoxLayout()
        bar.addWidget(QLabel("<b>Field endpoint</b>"))
        self.endpoint_box = QComboBox()
        self.endpoint_box.setMinimumWidth(260)
        self.endpoint_box.currentIndexChanged.connect(self._endpoint_changed)
        bar.addWidget(self.endpoint_box)
        self.add_button = QPushButton("Add…")
        self.add_button.clicked.connect(lambda: self.edit_endpoint(None))
        self.edit_button = QPushButton("Edit…")
        self.edit_button.clicked.connect(lambda: self.edit_endpoint(self.current_endpoint()))
        for b in (self.add_button, self.edit_button):
            b.setEnabled(self.can_manage)
            if not self.can_manage:
                b.setToolTip("Only a supervisor or an administrator manages endpoints.")
            bar.addWidget(b)
        bar.addSpacing(16)
        self.sync_button = QPushButton("Sync now")
        self.sync_button.setDefault(True)
        self.sync_button.setShortcut("F5")
        self.sync_button.setToolTip("Pull every waiting event and photo, then push reference data (F5)")
        self.sync_button.clicked.connect(self.sync_now)
        self.cancel_button = QPushButton("Cancel")
        bar.addWidget(self.sync_button)
        bar.addWidget(self.cancel_button)
        self.progress = QProgressBar()
        self.progress.setMinimumWidth(240)
        self.progress.setTextVisible(True)
        bar.addWidget(self.progress, 1)
        #: drives the bar and Cancel for the background sync (an unknown total stays indeterminate)
        self.progress_panel = ProgressPanel(self, hide_when_idle=False, busy_format="%v / %m events",
                                            idle_format="idle", min_total=0, bar=self.progress,
                                            cancel_button=self.cancel_button)
        self.progress_panel.cancelled.connect(self._cancelling)
        bar.addSpacing(12)
        bar.addWidget(QLabel("Automatic sync every"))
        self.auto_minutes = QSpinBox()
        self.auto_minutes.setRange(0, 1440)
        self.auto_minutes.setSuffix(" min")
        self.auto_minutes.setSpecialValueText("off")
        self.auto_minutes.setEnabled(self.can_manage)
        self.auto_minutes.editingFinished.connect(self._save_auto_minutes)
        bar.addWidget(self.auto_minutes)
        lay.addLayout(bar)
        self.status = QLabel("Loading…")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setStyleSheet("background:#f6f8fa; border:1px solid #dde2e7; padding:6px;")
        lay.addWidget(self.status)

    def _build_tabs(self, lay: QVBoxLayout) -> None:
        self.tabs = QTabWidget()
        lay.addWidget(self.tabs, 1)
        tz = self.ctx.tz
        self.devices = DeviceTableModel(tz, self)
        self.device_table = _table(self.devices)
        for col, width in enumerate([100, 150, 130, 80, 240, 70, 100]):
            self.device_table.setColumnWidth(col, width)
        self.tabs.addTab(self.device_table, "Devices")

        page = QWidget()
        qlay = QVBoxLayout(page)
        qlay.setContentsMargins(4, 4, 4, 4)
        qbar = QHBoxLayout()
        self.quarantine_filter = QComboBox()
        self.quarantine_filter.addItem("Open", "open")
        self.quarantine_filter.addItem("Discarded", "discarded")
        self.quarantine_filter.addItem("Re-submitted", "resubmitted")
        self.quarantine_filter.addItem("All", None)
        self.quarantine_filter.currentIndexChanged.connect(lambda _i: self.refresh())
        qbar.addWidget(QLabel("Show"))
        qbar.addWidget(self.quarantine_filter)
        qbar.addStretch(1)
        self.discard_button = QPushButton("Discard…")
        self.discard_button.clicked.connect(self.discard_selected)
        self.resubmit_button = QPushButton("Re-submit corrected…")
        self.resubmit_button.clicked.connect(self.resubmit_selected)
        for b in (self.discard_button, self.resubmit_button):
            b.setEnabled(False)
            qbar.addWidget(b)
        if not self.can_resolve:
            note = QLabel("Only a supervisor can discard or re-submit.")
            note.setStyleSheet("color:#777")
            qbar.addWidget(note)
        qlay.addLayout(qbar)
        split = QSplitter(Qt.Orientation.Horizontal)
        self.quarantine = QuarantineTableModel(tz, self)
        self.quarantine_table = _table(self.quarantine)
        for col, width in enumerate([120, 80, 110, 100, 90]):
            self.quarantine_table.setColumnWidth(col, width)
        self.quarantine_table.selectionModel().selectionChanged.connect(lambda *_a: self._quarantine_selected())
        split.addWidget(self.quarantine_table)
        viewer = QWidget()
        vlay = QVBoxLayout(viewer)
        vlay.setContentsMargins(0, 0, 0, 0)
        self.reason_label = QLabel("Select an event to see it as it was received.")
        self.reason_label.setWordWrap(True)
        self.reason_label.setTextFormat(Qt.TextFormat.RichText)
        vlay.addWidget(self.reason_label)
        self.raw_view = QPlainTextEdit()
        self.raw_view.setReadOnly(True)
        self.raw_view.setFont(QFont("monospace", 9))
        self.raw_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        vlay.addWidget(self.raw_view, 1)
        split.addWidget(viewer)
        split.setSizes([760, 480])
        qlay.addWidget(split, 1)
        self.tabs.addTab(page, "Quarantine")

        split = QSplitter(Qt.Orientation.Horizontal)
        self.skipped = SkippedTableModel(tz, self)
        self.skipped_table = _table(self.skipped)
        for col, width in enumerate([120, 80, 60, 160, 240]):
            self.skipped_table.setColumnWidth(col, width)
        self.skipped_table.selectionModel().selectionChanged.connect(lambda *_a: self._skipped_selected())
        split.addWidget(self.skipped_table)
        skipped_side = QWidget()
        slay = QVBoxLayout(skipped_side)
        slay.setContentsMargins(0, 0, 0, 0)
        note = QLabel("Events of a type this office does not know (newer handheld software): kept exactly as "
                      "received and shown here; nothing was applied.")
        note.setWordWrap(True)
        note.setStyleSheet("color:#555")
        slay.addWidget(note)
        self.skipped_raw = QPlainTextEdit()
        self.skipped_raw.setReadOnly(True)
        self.skipped_raw.setFont(QFont("monospace", 9))
        self.skipped_raw.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        slay.addWidget(self.skipped_raw, 1)
        split.addWidget(skipped_side)
        split.setSizes([760, 480])
        self.tabs.addTab(split, "Unknown events")

        page = QWidget()
        blay = QVBoxLayout(page)
        bbar = QHBoxLayout()
        folder = self.ctx.app.paths.drop_dir
        self.drop_label = QLabel(f"Drop folder (watched): <code>{_html(str(folder))}</code> — bundles copied "
                                 "there are imported and moved to <code>imported/</code> or <code>rejected/</code>.")
        self.drop_label.setTextFormat(Qt.TextFormat.RichText)
        self.drop_label.setWordWrap(True)
        bbar.addWidget(self.drop_label, 1)
        open_folder = QPushButton("Open folder")
        open_folder.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))))
        bbar.addWidget(open_folder)
        self.import_button = QPushButton("Import bundle…")
        self.import_button.clicked.connect(self.import_bundles)
        bbar.addWidget(self.import_button)
        blay.addLayout(bbar)
        self.bundles = BundleTableModel(tz, self)
        self.bundle_table = _table(self.bundles)
        self.bundle_table.setColumnWidth(0, 320)
        self.bundle_table.setColumnWidth(2, 140)
        blay.addWidget(self.bundle_table, 1)
        self.bundle_log = QLabel("")
        self.bundle_log.setWordWrap(True)
        self.bundle_log.setTextFormat(Qt.TextFormat.RichText)
        blay.addWidget(self.bundle_log)
        self.tabs.addTab(page, "Dock bundles")

    # ------------------------------------------------------------ data

    def activate(self) -> None:
        if self.can_sync:
            self.refresh()

    def refresh(self) -> None:
        self._refreshes += 1
        app, actor = self.ctx.app, self.ctx.actor
        status = self.quarantine_filter.currentData()

        def work(_c: TaskControl) -> tuple[Any, ...]:
            return (sync_service.list_endpoints(app, actor), sync_service.list_devices(app, actor),
                    sync_service.list_quarantine(app, actor, status), sync_service.count_open_quarantine(app, actor),
                    sync_service.list_imported_bundles(app, actor), sync_service.list_skipped_events(app, actor))

        started = self._refreshes

        def loaded(data: tuple[Any, ...]) -> None:
            if started == self._refreshes:  # a refresh begun since (a change announced meanwhile) shows newer data
                self._loaded(data)

        Query(self.ctx, self, work, success=loaded).run()

    def _loaded(self, data: tuple[Any, ...]) -> None:
        endpoints, devices, quarantine, open_count, bundles, skipped = data
        current = self.current_endpoint()
        keep = self._select_after_refresh or (current.id if current else None)
        self._select_after_refresh = None
        self.endpoints = endpoints
        self.endpoint_box.blockSignals(True)
        self.endpoint_box.clear()
        for ep in endpoints:
            self.endpoint_box.addItem(f"{ep.name}  ({ep.url})", ep.id)
        if keep is not None:
            index = self.endpoint_box.findData(keep)
            self.endpoint_box.setCurrentIndex(max(index, 0))
        self.endpoint_box.blockSignals(False)
        self._endpoint_changed()
        self._show_devices(devices)
        selected = self._selected_quarantine()
        self.quarantine.set_rows(quarantine)
        self.tabs.setTabText(1, f"Quarantine ({open_count} open)")
        if selected is not None:
            for n, row in enumerate(quarantine):
                if row.id == selected.id:
                    self.quarantine_table.selectRow(n)
        self._quarantine_selected()
        self.skipped.set_rows(skipped)
        self.tabs.setTabText(2, f"Unknown events ({len(skipped)})")
        self.bundles.set_rows(bundles)
        self.tabs.setTabText(3, f"Dock bundles ({len(bundles)})")
        self.loaded.emit()
        self.quarantine_loaded.emit(len(quarantine))

    def _show_devices(self, devices: list[Any]) -> None:
        self.devices.set_rows(devices)
        gaps = sum(1 for d in devices if d.gaps)
        self.tabs.setTabText(0, f"Devices ({len(devices)}{', ' + str(gaps) + ' with gaps' if gaps else ''})")

    def _devices_during_sync(self) -> None:
        """A long sync fills the device list as its batches are committed (read at most every few seconds,
        one read at a time, beside the sync: readers do not wait for its writes)."""
        now = time.monotonic()
        if self._devices_reading or now - self._devices_read_at < self.DEVICES_EVERY_SECONDS:
            return
        self._devices_reading = True
        self._devices_read_at = now
        app, actor = self.ctx.app, self.ctx.actor
        started = self._refreshes

        def done(devices: list[Any]) -> None:
            self._devices_reading = False
            if started != self._refreshes:
                return  # the refresh at the end of the sync has read them since
            self._show_devices(devices)
            self.devices_loaded.emit(len(devices))

        def failed(exc: BaseException) -> None:
            self._devices_reading = False
            log.debug("device list during a sync: %s", exc)

        Query(self.ctx, self, lambda _c: sync_service.list_devices(app, actor), success=done, failure=failed).run()

    def current_endpoint(self) -> EndpointRow | None:
        endpoint_id = self.endpoint_box.currentData() if hasattr(self, "endpoint_box") else None
        return next((ep for ep in self.endpoints if ep.id == endpoint_id), None)

    def _endpoint_changed(self, *_a: Any) -> None:
        ep = self.current_endpoint()
        self.edit_button.setEnabled(self.can_manage and ep is not None)
        self.auto_minutes.blockSignals(True)
        self.auto_minutes.setValue(ep.auto_sync_minutes if ep else 0)
        self.auto_minutes.blockSignals(False)
        self._busy(self.background.running if self.background else False)
        if ep is None:
            self.status.setText("No field endpoint yet. " + ("Add one with <b>Add…</b>." if self.can_manage
                                                           else "Ask a supervisor to add one."))
            return
        when = ep.last_sync_at.astimezone(self.ctx.tz).strftime("%Y-%m-%d %H:%M") if ep.last_sync_at else "never"
        token = "Token: at hand." if ep.has_token else "Token: needed (asked at Sync now)."
        self.status.setText(f"<b>Last sync:</b> {when} — {_html(ep.last_result or 'not synced yet')}<br>"
                            f"<span style='color:#555'>{token} {_keyring_note()}</span>")

    # ------------------------------------------------------------ endpoints

    def edit_endpoint(self, endpoint: EndpointRow | None) -> None:
        dialog = EndpointDialog(self.ctx, endpoint, self)

        def saved(endpoint_id: int) -> None:  # the list follows through the operation bus
            self._select_after_refresh = endpoint_id
            self.ctx.info(f"Endpoint {dialog.values()['name']} saved.")

        dialog.saved.connect(saved)
        dialog.open()
        self.endpoint_dialog = dialog

    def _save_auto_minutes(self) -> None:
        ep = self.current_endpoint()
        if ep is None or ep.auto_sync_minutes == self.auto_minutes.value():
            return
        app, actor, minutes = self.ctx.app, self.ctx.actor, self.auto_minutes.value()
        Mutation(self.ctx, self,
                 lambda _c: sync_service.save_endpoint(app, actor, ep.id, name=ep.name, url=ep.url,
                                                       ca_bundle=ep.ca_bundle, auto_sync_minutes=minutes),
                 changes=Changes(sync=True),
                 success=lambda _r: self.ctx.info(
                     f"Automatic sync of {ep.name}: {'every ' + str(minutes) + ' min' if minutes else 'off'}.")).run()

    def _data_changed(self, changes: Changes, _initiator: object) -> None:
        """Field data, endpoints or the quarantine changed (here, by a sync in the background, or by
        another screen): the lists are read again."""
        if changes.sync:
            self.refresh()

    # ------------------------------------------------------------ syncing

    def sync_now(self) -> None:
        ep = self.current_endpoint()
        if ep is None or self.background is None:
            self.ctx.info("Add a field endpoint first.")
            return
        token = None
        if not sync_service.TOKENS.has(ep.url):
            dialog = TokenDialog(ep, self)
            if dialog.exec() != QDialog.DialogCode.Accepted or not dialog.token.text():
                return
            token = dialog.token.text()
            sync_service.TOKENS.remember(ep.url, token, dialog.remember.isChecked())
        self.status.setText(f"Syncing with <b>{_html(ep.name)}</b>…")
        self.background.sync(ep.id, token)

    def cancel_sync(self) -> None:
        """As the Cancel button: the sync stops after the page being stored."""
        if self.background is not None:
            self.progress_panel.cancel()

    def _cancelling(self) -> None:
        self.status.setText("Cancelling… (the page being stored is finished first)")

    def _busy(self, busy: bool) -> None:
        self.sync_button.setEnabled(not busy and self.current_endpoint() is not None)
        bg = self.background
        if busy and not self.progress_panel.busy and bg is not None:
            self.progress_panel.begin(cancel=bg.cancel)
        elif not busy and self.progress_panel.busy:
            self.progress_panel.end()

    def _sync_progress(self, done: int, total: int, text: str) -> None:
        self.progress_panel.report(done, total)
        self._progress(done, total, text)

    def _progress(self, _done: int, _total: int, text: str) -> None:
        """The status line, and the device list while batches are committed."""
        if text:
            self.status.setText(_html(text))
        if "events received" in text:  # a batch was committed
            self._devices_during_sync()

    def _finished(self, summary: SyncSummary) -> None:
        self.ctx.messages.info(summary.line(), 12000)  # the lists follow through the operation bus

    def _failed(self, exc: BaseException) -> None:
        kept = getattr(exc, "sync_summary", None)
        if isinstance(exc, (SyncCancelled, Cancelled)):
            text = "Sync cancelled."
            if kept is not None:
                text += f" Kept: {kept.stats.events:,} events, {kept.stats.citations:,} citations."
            self.ctx.messages.info(text, 12000)
        elif not (self.background is not None and self.background.automatic and isinstance(exc, UserError)):
            self.ctx.error(exc)  # an automatic sync's failure is shown on the screen, without a dialog

    # ------------------------------------------------------------ the quarantine

    def _selected_quarantine(self) -> QuarantineRow | None:
        if not hasattr(self, "quarantine_table"):
            return None
        rows = self.quarantine_table.selectionModel().selectedRows()
        return self.quarantine.row_at(rows[0].row()) if rows else None

    def _quarantine_selected(self) -> None:
        row = self._selected_quarantine()
        is_open = row is not None and row.status == "open"
        self.discard_button.setEnabled(self.can_resolve and is_open)
        self.resubmit_button.setEnabled(self.can_resolve and is_open)
        if row is None:
            self.reason_label.setText("Select an event to see it as it was received.")
            self.raw_view.setPlainText("")
            return
        source = f" from {_html(row.source)}"
        self.reason_label.setText(f"<b>Reason:</b> {_html(row.reason)}<br><span style='color:#555'>"
                                  f"{row.type or 'unreadable'} · device {row.device_id or '?'}{source}</span>")
        app, actor, qid = self.ctx.app, self.ctx.actor, row.id
        Query(self.ctx, self, lambda _c: sync_service.quarantine_raw(app, actor, qid),
              success=self._show_raw(qid)).run()

    def _show_raw(self, qid: int) -> Any:
        def show(raw: str) -> None:
            current = self._selected_quarantine()
            if current is not None and current.id == qid:
                self.raw_view.setPlainText(raw)
        return show

    def _skipped_selected(self) -> None:
        rows = self.skipped_table.selectionModel().selectedRows()
        row = self.skipped.row_at(rows[0].row()) if rows else None
        if row is None:
            self.skipped_raw.setPlainText("")
            return
        app, actor, event_id = self.ctx.app, self.ctx.actor, row.event_id

        def show(raw: str) -> None:
            current = self.skipped_table.selectionModel().selectedRows()
            if current and self.skipped.row_at(current[0].row()) is row:
                self.skipped_raw.setPlainText(raw)

        Query(self.ctx, self, lambda _c: sync_service.field_event_raw(app, actor, event_id), success=show).run()

    def discard_selected(self) -> None:
        row = self._selected_quarantine()
        if row is None:
            return
        reason, ok = QInputDialog.getMultiLineText(
            self, "Discard quarantined event",
            f"Why is this event of no use? (It stays on record.)\n\n{row.reason}")
        if not ok:
            return
        app, actor = self.ctx.app, self.ctx.actor
        Mutation(self.ctx, self, lambda _c: sync_service.discard_quarantined(app, actor, row.id, reason),
                 changes=Changes(sync=True), success=lambda _r: self.ctx.info("Event discarded.")).run()

    def resubmit_selected(self) -> None:
        row = self._selected_quarantine()
        if row is None:
            return
        app, actor = self.ctx.app, self.ctx.actor

        def open_editor(raw: str) -> None:
            dialog = ResubmitDialog(self.ctx, row, raw, self)
            dialog.resubmitted.connect(lambda stats: self.ctx.info(
                f"Corrected event applied ({stats.citations} citation(s) added)."))
            dialog.open()
            self.resubmit_dialog = dialog

        Query(self.ctx, self, lambda _c: sync_service.quarantine_raw(app, actor, row.id), success=open_editor).run()

    # ------------------------------------------------------------ bundles

    def import_bundles(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Import dock bundles", "", "Dock bundles (*.zip)")
        if files:
            self.import_files([Path(f) for f in files])

    def import_files(self, files: list[Path]) -> None:
        app, actor = self.ctx.app, self.ctx.actor

        def work(control: TaskControl) -> list[tuple[str, bool, str]]:
            out = []
            for n, path in enumerate(files, start=1):
                control.check()
                control.progress(n - 1, len(files), f"Importing {path.name}…")
                try:
                    result = sync_service.import_bundle(app, actor, path, cancel=lambda: control.cancelled)
                    out.append((path.name, True, result.line()))
                except UserError as exc:
                    out.append((path.name, False, str(exc)))
            return out

        Mutation(self.ctx, self, work, changes=SYNC_CHANGES, partial=True, success=self._imported) \
            .with_progress(self.progress_panel, cancellable=False, bar_format="%v / %m bundles") \
            .on_progress(self._progress).run()

    def _imported(self, results: list[tuple[str, bool, str]]) -> None:
        lines = [(f"<span style='color:{'#2e7d32' if ok else '#b71c1c'}'>{'✔' if ok else '✖'}</span> "
                  f"{_html(text)}") for _name, ok, text in results]
        self.bundle_log.setText("<br>".join(lines))
        self.tabs.setCurrentIndex(3)
        self.ctx.info(f"{sum(ok for _n, ok, _t in results)} of {len(results)} bundles imported.")

    def _bundles_imported(self, results: list[sync_service.DropResult]) -> None:
        self._imported([(r.name, r.ok, r.line) for r in results])
