"""The Devices & Sync screen's quarantine and unknown events: events the office could not apply, shown as
they were received, discarded with a reason or re-submitted corrected (supervisors); events of a type this
office does not know, kept and shown. A mixin of SyncView (desktop.ui.sync.view) and the re-submit dialog.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.errors import UserError
from desktop.services import sync as sync_service
from desktop.services.sync.quarantine import QuarantineRow
from desktop.ui.common.operations import Changes, Mutation, Query
from desktop.ui.common.screen_fit import fit_to_screen
from desktop.ui.common.widgets import WidgetMixin, row_table
from desktop.ui.context import UiContext
from desktop.ui.sync.background import SYNC_CHANGES
from desktop.ui.sync.models import QuarantineTableModel, SkippedTableModel
from desktop.ui.sync.widgets import html_text


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
        fit_to_screen(self, 760, 620)
        lay = QVBoxLayout(self)
        why = QLabel(f"<b>Quarantined because:</b> {html_text(row.reason)}")
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


class QuarantineActions(WidgetMixin):
    """The Quarantine and Unknown events tabs of SyncView: built by `_build_quarantine_tabs`, then the
    selection, the raw event and the supervisor's discard and re-submit."""

    # What SyncView provides (declared for the type checker).
    ctx: UiContext
    can_resolve: bool
    tabs: QTabWidget

    if TYPE_CHECKING:
        def refresh(self) -> None: ...

    def _build_quarantine_tabs(self, tz: Any) -> None:
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
        self.quarantine_table = row_table(self.quarantine, [120, 80, 110, 100, 90])
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
        self.skipped_table = row_table(self.skipped, [120, 80, 60, 160, 240])
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
        source = f" from {html_text(row.source)}"
        self.reason_label.setText(f"<b>Reason:</b> {html_text(row.reason)}<br><span style='color:#555'>"
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
            dialog.resubmitted.connect(lambda stats: self.ctx.info(  # the lists follow through the bus
                f"Corrected event applied ({stats.citations} citation(s) added)."))
            dialog.open()
            self.resubmit_dialog = dialog

        Query(self.ctx, self, lambda _c: sync_service.quarantine_raw(app, actor, row.id), success=open_editor).run()
