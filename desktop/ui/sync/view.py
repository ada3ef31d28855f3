"""The Devices & Sync screen: field endpoints, Sync now with progress and Cancel, the handhelds and their
sequence gaps, the quarantine (discard with a reason, re-submit a corrected event; desktop.ui.sync.quarantine),
and dock bundles.

The syncs themselves, manual and automatic, and the drop folder run in desktop.ui.sync.background, which
lives as long as the window. All work goes through the operations API (`desktop.ui.common.operations`):
the window never waits on the network or the database, and the screen reads its lists again when the
operation bus says field data changed.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.errors import UserError
from desktop.domain.roles import Permission, allowed
from desktop.services import sync as sync_service
from desktop.services.sync.endpoints import EndpointRow
from desktop.services.sync.run import SyncSummary
from desktop.sync.client import AuthenticationFailed, SyncCancelled
from desktop.ui.common.operations import Changes, Mutation, Query
from desktop.ui.common.progress import ProgressPanel
from desktop.ui.common.tasks import Cancelled, TaskControl
from desktop.ui.common.widgets import rich_label, row_table
from desktop.ui.context import UiContext
from desktop.ui.sync.background import SYNC_CHANGES, SyncBackground
from desktop.ui.sync.endpoint_dialogs import EndpointDialog, TokenDialog, keyring_note
from desktop.ui.sync.models import BundleTableModel, DeviceTableModel
from desktop.ui.sync.quarantine import QuarantineActions
from desktop.ui.sync.widgets import html_text

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- the screen


class SyncView(QuarantineActions, QWidget):
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
        #: the endpoint of the sync a clerk started with Sync now (None: none running, or an automatic one)
        self._sync_url: str | None = None
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
        self.endpoint_box.setMinimumWidth(220)
        # sized by a fixed number of characters, not by the longest endpoint name and URL (which pushed the
        # window past a 1366-pixel screen); the whole name shows in the open list and the tooltip
        self.endpoint_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.endpoint_box.setMinimumContentsLength(24)
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
        #: the background sync's bar, and its Cancel beside Sync now (an unknown total stays indeterminate)
        self.progress_panel = ProgressPanel(self, hide_when_idle=False, busy_format="%v / %m events",
                                            idle_format="idle", min_total=0, cancel_button=self.cancel_button)
        self.progress = self.progress_panel.bar
        self.progress.setMinimumWidth(140)
        self.progress.setTextVisible(True)
        bar.addWidget(self.progress_panel, 1)
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
        self.status = rich_label("Loading…")
        self.status.setWordWrap(True)
        self.status.setStyleSheet("background:#f6f8fa; border:1px solid #dde2e7; padding:6px;")
        lay.addWidget(self.status)

    def _build_tabs(self, lay: QVBoxLayout) -> None:
        self.tabs = QTabWidget()
        lay.addWidget(self.tabs, 1)
        tz = self.ctx.tz
        self.devices = DeviceTableModel(tz, self)
        self.device_table = row_table(self.devices, [100, 150, 130, 80, 240, 70, 100])
        self.tabs.addTab(self.device_table, "Devices")
        self._build_quarantine_tabs(tz)

        page = QWidget()
        blay = QVBoxLayout(page)
        bbar = QHBoxLayout()
        folder = self.ctx.app.paths.drop_dir
        self.drop_label = QLabel(f"Drop folder (watched): <code>{html_text(str(folder))}</code> — bundles copied "
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
        self.bundle_table = row_table(self.bundles)
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
        self.status.setText(f"<b>Last sync:</b> {when} — {html_text(ep.last_result or 'not synced yet')}<br>"
                            f"<span style='color:#555'>{token} {keyring_note()}</span>")

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
        self.status.setText(f"Syncing with <b>{html_text(ep.name)}</b>…")
        self._sync_url = ep.url
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
            self.status.setText(html_text(text))
        if "events received" in text:  # a batch was committed
            self._devices_during_sync()

    def _finished(self, summary: SyncSummary) -> None:
        self._sync_url = None
        self.ctx.messages.info(summary.line(), 12000)  # the lists follow through the operation bus

    def _failed(self, exc: BaseException) -> None:
        manual_url, self._sync_url = self._sync_url, None
        kept = getattr(exc, "sync_summary", None)
        if isinstance(exc, (SyncCancelled, Cancelled)):
            text = "Sync cancelled."
            if kept is not None:
                text += f" Kept: {kept.stats.events:,} events, {kept.stats.citations:,} citations."
            self.status.setText(html_text(text))
            self.ctx.messages.info(text, 12000)
            return
        # the status line ends with what went wrong, never on "Connecting…"
        said = str(exc) if isinstance(exc, UserError) else "an unexpected error (details in the report)"
        automatic = self.background is not None and self.background.automatic
        if isinstance(exc, AuthenticationFailed) and exc.status == 401 and manual_url and not automatic:
            # a refused token is of no use kept: forgotten (also from the keyring), so that Sync now asks for it
            # again instead of sending the same one (a mistyped token was otherwise changed only through Edit…)
            sync_service.TOKENS.forget(manual_url)
            said += " Sync now asks for the token again."
        self.status.setText(f"<b style='color:#b71c1c'>Sync failed:</b> {html_text(said)}")
        if not (self.background is not None and self.background.automatic and isinstance(exc, UserError)):
            self.ctx.error(exc)  # an automatic sync's failure is shown on the screen, without a dialog

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
                  f"{html_text(text)}") for _name, ok, text in results]
        self.bundle_log.setText("<br>".join(lines))
        self.tabs.setCurrentIndex(3)
        self.ctx.info(f"{sum(ok for _n, ok, _t in results)} of {len(results)} bundles imported.")

    def _bundles_imported(self, results: list[sync_service.DropResult]) -> None:
        self._imported([(r.name, r.ok, r.line) for r in results])
