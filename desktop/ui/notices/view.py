"""The Notices screen: the day's queue and the clerk's list, print runs, batch preview and printing,
confirming a batch mailed, and the mail log (reprint, returned mail).

(Over 600 lines, knowingly: the three tabs (queue, print batches, mail log) share the print and reprint
actions and their state.)

Everything blocking (the run, printing, the queries) goes through the TaskRunner; the preview is Qt's PDF
viewer over the batch file. `print_pdf` renders each page with QPdfDocument into a QImage and paints it
on the QPrinter: the one print path, used by the Print button and tested against a PDF-file printer.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.roles import Permission, allowed
from desktop.services.notices import runs as nr
from desktop.services.notices.documents import DOCUMENT_KINDS, kind_label
from desktop.ui.common.list_export import ListExportBar
from desktop.ui.common.operations import Changes, Mutation, Query, initiated_by
from desktop.ui.common.printing import PRINT_DPI, match_page_size, print_pdf  # noqa: F401
from desktop.ui.common.progress import ProgressPanel
from desktop.ui.common.tasks import Task, TaskControl
from desktop.ui.common.widgets import local_time, ok_cancel, row_table
from desktop.ui.context import UiContext
from desktop.ui.notices.models import ROW_ROLE, STATUS_COLOURS, Column, MailLogModel, RowsModel

RETURN_REASONS = ["Moved, left no address", "Attempted - not known", "No such number", "Insufficient address",
                  "Vacant", "Refused", "Unable to forward", "Deceased"]


def _selected(table: QTableView) -> Any:
    rows = table.selectionModel().selectedRows() if table.selectionModel() else []
    if not rows:
        return None
    return table.model().data(rows[0], ROW_ROLE)


class ConfirmMailedDialog(QDialog):
    """Asks for the posting date of a batch."""

    def __init__(self, batch: nr.BatchRow, today: date, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Confirm batch {batch.id} mailed")
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(f"<b>{batch.pieces:,} pieces</b> ({batch.kinds}). Confirm only when the batch has "
                             f"been printed, folded and handed to the post office:<br>the mailing date starts "
                             f"the legal clocks of every piece."))
        form = QFormLayout()
        self.date = QDateEdit(QDate(today.year, today.month, today.day))
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("yyyy-MM-dd")
        self.date.setMaximumDate(QDate(today.year, today.month, today.day))
        form.addRow("Posted on", self.date)
        lay.addLayout(form)
        buttons = ok_cancel(self.accept, self.reject, "Confirm mailed")
        lay.addWidget(buttons)

    def mailed_on(self) -> date:
        return date.fromisoformat(self.date.date().toString("yyyy-MM-dd"))


#: what the screen's actions change: notice pieces and batches, and so the cases' notices and stages
NOTICE_CHANGES = Changes(notices=True, cases=True)


class NoticesView(QWidget):
    """Signals: `refreshed()` when the queue, lists and batches are on screen; `run_finished(result)`;
    `preview_loaded(batch_id, pages)`; `printed(pages)`; `log_loaded(count)`. The lists are read again
    when notices or cases change (see `_data_changed`)."""

    refreshed = Signal()
    run_finished = Signal(object)
    preview_loaded = Signal(int, int)
    printed = Signal(int)
    log_loaded = Signal(int)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.role = ctx.actor.role
        self.task: Task | None = None
        self.preview_batch: int | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 4)
        head = QHBoxLayout()
        self.summary = QLabel("Loading…")
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        head.addWidget(self.summary, 1)
        refresh = QPushButton("Refresh")
        refresh.setShortcut("F5")
        refresh.clicked.connect(self.refresh)
        head.addWidget(refresh)
        lay.addLayout(head)
        self.tabs = QTabWidget()
        lay.addWidget(self.tabs, 1)
        self.tabs.addTab(self._queue_tab(), "Queue && clerk's list")
        self.tabs.addTab(self._batches_tab(), "Print batches")
        self.tabs.addTab(self._log_tab(), "Mail log")
        self._loaded_once = False
        self._stale = False
        ctx.bus.subscribe(self, self._data_changed)

    # ------------------------------------------------------------------ tabs
    def _queue_tab(self) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
        due_box = QGroupBox("Due to print")
        due_lay = QVBoxLayout(due_box)
        self.due_model = RowsModel([
            Column("Document", lambda r: r.label),
            Column("Pieces", lambda r: f"{r.count:,}", right=True),
            Column("Queued since", lambda r: local_time(r.oldest, self.ctx.tz)),
        ], self)
        self.due_table = row_table(self.due_model, [280, 80, 140])
        self.due_table.setMaximumHeight(130)
        due_lay.addWidget(self.due_table)
        row = QHBoxLayout()
        self.run_button = QPushButton("Run notices")
        self.run_button.setToolTip("Print every due piece as batches of mail.batch_size (one PDF each); "
                                   "pieces that cannot be mailed are held with the reason")
        self.run_button.clicked.connect(self.run_notices)
        self.run_button.setEnabled(allowed(self.role, Permission.RUN_NOTICES))
        row.addWidget(self.run_button)
        #: the run's and the printing's progress, with the run's Cancel
        self.progress_panel = ProgressPanel()
        self.progress_panel.message.connect(self._progress_text)
        self.progress_panel.cancelled.connect(self._cancelling)
        self.progress = self.progress_panel.bar
        self.progress.setTextVisible(True)
        self.cancel_button = self.progress_panel.cancel_button
        row.addWidget(self.progress_panel, 1)
        self.run_status = QLabel("")
        self.run_status.setStyleSheet("color:#555")
        self.run_status.setWordWrap(True)
        row.addWidget(self.run_status, 2)
        due_lay.addLayout(row)
        lay.addWidget(due_box)

        split = QSplitter(Qt.Orientation.Vertical)
        held_box = QGroupBox("Held notices: the clerk's list")
        held_lay = QVBoxLayout(held_box)
        self.held_model = RowsModel([
            Column("Citation", lambda r: r.citation_number),
            Column("Plate", lambda r: r.plate),
            Column("Document", lambda r: kind_label(r.kind)),
            Column("Owner", lambda r: r.owner_name),
            Column("Held since", lambda r: local_time(r.since, self.ctx.tz)),
            Column("Why", lambda r: r.reason, colour=lambda _r: "#8a4b00"),
        ], self)
        self.held_table = row_table(self.held_model, [110, 70, 150, 130, 110])
        # the reason is the point of the list: wrapped in its cell, the row as tall as it needs
        self.held_table.setWordWrap(True)
        self.held_table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        held_lay.addWidget(self.held_table)
        hrow = QHBoxLayout()
        self.release_button = QPushButton("Put back in the queue")
        self.release_button.setToolTip("After the address or the photo is fixed: the next run checks it again")
        self.release_button.clicked.connect(self.release_held)
        self.release_button.setEnabled(allowed(self.role, Permission.EDIT_CASES))
        hrow.addWidget(self.release_button)
        hrow.addStretch(1)
        self.held_export = ListExportBar(self.ctx, "held-notices", lambda: None)
        hrow.addWidget(self.held_export)
        held_lay.addLayout(hrow)
        split.addWidget(held_box)
        lookup_box = QGroupBox("Cases waiting for a new owner lookup (returned mail)")
        lookup_lay = QVBoxLayout(lookup_box)
        self.lookup_model = RowsModel([
            Column("Citation", lambda r: r.citation_number),
            Column("Plate", lambda r: r.plate),
            Column("Owner", lambda r: r.owner_name),
            Column("Since", lambda r: local_time(r.since, self.ctx.tz)),
            Column("Why", lambda r: r.reason),
        ], self)
        self.lookup_table = row_table(self.lookup_model, [130, 80, 200, 120])
        lookup_lay.addWidget(self.lookup_table)
        split.addWidget(lookup_box)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        lay.addWidget(split, 1)
        return page

    def _batches_tab(self) -> QWidget:
        page = QWidget()
        lay = QHBoxLayout(page)
        split = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        llay = QVBoxLayout(left)
        llay.setContentsMargins(0, 0, 0, 0)
        self.batch_model = RowsModel([
            Column("Batch", lambda r: str(r.id), right=True),
            Column("Printed", lambda r: local_time(r.created_at, self.ctx.tz)),
            Column("Documents", lambda r: r.kinds),
            Column("Pieces", lambda r: f"{r.pieces:,}", right=True),
            Column("Pages", lambda r: f"{r.pages:,}", right=True),
            Column("Status", lambda r: {"rendered": "Printed, not mailed", "mailed": "Mailed",
                                        "cancelled": "Withdrawn"}.get(r.status, r.status),
                   colour=lambda r: STATUS_COLOURS.get(r.status)),
            Column("Mailed on", lambda r: local_time(r.mailed_at, self.ctx.tz, "%Y-%m-%d") if r.mailed_at else ""),
            Column("Confirmed by", lambda r: r.confirmed_by),
        ], self)
        self.batch_table = row_table(self.batch_model, [50, 115, 190, 55, 50, 125, 80])
        self.batch_table.selectionModel().selectionChanged.connect(lambda *_: self._batch_selected())
        llay.addWidget(self.batch_table, 1)
        brow = QHBoxLayout()
        self.print_button = QPushButton("Print…")
        self.print_button.clicked.connect(self.print_selected)
        self.save_button = QPushButton("Save as PDF…")
        self.save_button.clicked.connect(self.save_selected)
        self.confirm_button = QPushButton("Confirm mailed…")
        self.confirm_button.clicked.connect(lambda: self.confirm_selected())
        self.withdraw_button = QPushButton("Withdraw…")
        self.withdraw_button.setToolTip("The batch will not be posted (spoiled): its pieces go back in the queue")
        self.withdraw_button.clicked.connect(self.withdraw_selected)
        for b in (self.print_button, self.save_button, self.confirm_button, self.withdraw_button):
            brow.addWidget(b)
        brow.addStretch(1)
        llay.addLayout(brow)
        split.addWidget(left)
        right = QWidget()
        rlay = QVBoxLayout(right)
        rlay.setContentsMargins(0, 0, 0, 0)
        self.preview_label = QLabel("Select a batch to preview it.")
        self.preview_label.setStyleSheet("color:#555")
        self.preview_label.setMinimumWidth(100)
        rlay.addWidget(self.preview_label)
        self.pdf = QPdfDocument(self)
        self.pdf_view = QPdfView(self)
        self.pdf_view.setDocument(self.pdf)
        self.pdf_view.setPageMode(QPdfView.PageMode.MultiPage)
        self.pdf_view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        rlay.addWidget(self.pdf_view, 1)
        split.addWidget(right)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setSizes([760, 620])
        lay.addWidget(split)
        self._batch_buttons()
        return page

    def _log_tab(self) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
        bar = QHBoxLayout()
        self.log_search = QLineEdit()
        self.log_search.setPlaceholderText("Citation number, plate, serial or piece number — Enter to search")
        self.log_search.setClearButtonEnabled(True)
        self.log_search.returnPressed.connect(self.search_log)
        bar.addWidget(self.log_search, 2)
        self.log_status = QComboBox()
        self.log_status.addItem("Any status", "")
        for s in nr.STATUSES:
            self.log_status.addItem(nr.STATUS_LABELS[s], s)
        self.log_status.currentIndexChanged.connect(self.search_log)
        bar.addWidget(self.log_status)
        self.log_kind = QComboBox()
        self.log_kind.addItem("Any document", "")
        for key, dk in DOCUMENT_KINDS.items():
            if key not in ("violation", "delinquent", "final"):
                self.log_kind.addItem(dk.label, key)
        self.log_kind.currentIndexChanged.connect(self.search_log)
        bar.addWidget(self.log_kind)
        self.log_export = ListExportBar(self.ctx, "mail-log", lambda: self.log_model.filter)
        bar.addWidget(self.log_export)
        lay.addLayout(bar)
        self.log_count = QLabel("")
        self.log_count.setStyleSheet("color:#555")
        lay.addWidget(self.log_count)
        app, actor = self.ctx.app, self.ctx.actor
        self.log_model = MailLogModel(self.ctx.runner, lambda f: nr.count_mail_log(app, actor, f),
                                      lambda f, off, lim: nr.mail_log(app, actor, f, off, lim), self.ctx.tz, self)
        self.log_model.loaded.connect(self._log_loaded)
        self.log_model.failed.connect(self.ctx.error)
        self.log_table = row_table(self.log_model, [55, 120, 270, 70, 50, 60, 160, 55, 85, 85, 85, 85])
        self.log_table.selectionModel().selectionChanged.connect(lambda *_: self._log_buttons())
        lay.addWidget(self.log_table, 1)
        row = QHBoxLayout()
        self.reprint_button = QPushButton("Reprint…")
        self.reprint_button.setToolTip("Print a duplicate marked REPRINT (to the case's current owner address)")
        self.reprint_button.clicked.connect(lambda: self.reprint_selected())
        self.returned_button = QPushButton("Record returned mail…")
        self.returned_button.clicked.connect(lambda: self.record_returned_selected())
        self.open_batch_button = QPushButton("Show its batch")
        self.open_batch_button.clicked.connect(self.show_batch_of_selected)
        for b in (self.reprint_button, self.returned_button, self.open_batch_button):
            row.addWidget(b)
        row.addStretch(1)
        lay.addLayout(row)
        self._log_buttons()
        return page

    # ------------------------------------------------------------------ loading
    def activate(self) -> None:
        if not self._loaded_once:
            self._loaded_once = True
            self._stale = False
            self.refresh()
            self.search_log()
        elif self._stale:
            self._reload()

    def _data_changed(self, changes: Changes, initiator: object) -> None:
        """Notices or cases changed: a change made here is shown at once, one from elsewhere at once if
        the screen is showing, else when it is next shown."""
        if not (changes.notices or changes.cases) or not self._loaded_once:
            return
        if initiated_by(initiator, self) or self.isVisible():
            self._reload()
        else:
            self._stale = True

    def _reload(self) -> None:
        self._stale = False
        self.refresh()
        self.log_model.refresh()

    def refresh(self) -> None:
        app, actor = self.ctx.app, self.ctx.actor

        def work(_c: TaskControl) -> tuple[Any, ...]:
            return (nr.due_summary(app, actor), nr.held_notices(app, actor),
                    nr.cases_needing_owner_lookup(app, actor), nr.batch_list(app, actor))

        Query(self.ctx, self, work, success=self._refreshed).run()

    def _refreshed(self, result: tuple[Any, ...]) -> None:
        due, held, lookups, batches = result
        self.due_model.set_rows(due)
        self.held_model.set_rows(held)
        self.lookup_model.set_rows(lookups)
        keep = self.preview_batch
        self.batch_model.set_rows(batches)
        pieces = sum(r.count for r in due)
        waiting = sum(1 for b in batches if b.status == "rendered")
        self.summary.setText(
            f"<b>{pieces:,}</b> piece{'s' if pieces != 1 else ''} due to print &nbsp;·&nbsp; "
            f"<b style='color:#8a4b00'>{len(held):,}</b> held &nbsp;·&nbsp; "
            f"<b>{len(lookups):,}</b> case{'s' if len(lookups) != 1 else ''} waiting for an owner lookup "
            f"&nbsp;·&nbsp; <b>{waiting}</b> batch{'es' if waiting != 1 else ''} printed but not confirmed mailed")
        self.run_button.setEnabled(allowed(self.role, Permission.RUN_NOTICES) and pieces > 0 and self.task is None)
        if keep is not None:
            self.select_batch(keep)
        self._batch_buttons()
        self.refreshed.emit()

    # ------------------------------------------------------------------ the run
    def run_notices(self) -> None:
        if self.task is not None:
            return
        app, actor = self.ctx.app, self.ctx.actor

        def work(control: TaskControl) -> nr.RunResult:
            return nr.run_notices(app, actor, None, lambda d, t, s: control.progress(d, t, s),
                                  lambda: control.cancelled)

        self.run_button.setEnabled(False)
        self.run_status.setText("Starting the run…")
        self.task = Mutation(self.ctx, self, work, changes=NOTICE_CHANGES, success=self._run_done,
                             failure=self._run_failed).with_progress(self.progress_panel).run()

    def cancel_run(self) -> None:
        """As the Cancel button: the batch being printed is discarded, finished batches stay."""
        if self.task is not None:
            self.progress_panel.cancel()

    def _cancelling(self) -> None:
        self.run_status.setText("Cancelling: the batch being printed is discarded, finished batches stay…")

    def _progress_text(self, text: str) -> None:
        if self.task is not None:  # the run's progress; printing reports in the status bar
            self.run_status.setText(text)

    def _run_ended(self) -> None:
        self.task = None

    def _run_done(self, result: nr.RunResult) -> None:
        self._run_ended()
        self.run_status.setText(("Cancelled. " if result.cancelled else "Done: ")
                                + result.summary().split(": /")[0].replace("cancelled: ", ""))
        self.ctx.info(result.summary().split(": /")[0])
        if result.batches:
            self.preview_batch = result.batches[0].batch_id
            self.tabs.setCurrentIndex(1)
        self.run_finished.emit(result)  # the lists follow through the operation bus

    def _run_failed(self, exc: BaseException) -> None:
        self._run_ended()
        self.run_status.setText("The run stopped; nothing half-done was kept.")
        self.ctx.error(exc)
        self.refresh()

    def release_held(self) -> None:
        row = _selected(self.held_table)
        if row is None:
            self.ctx.info("Select a held notice first.")
            return
        app, actor = self.ctx.app, self.ctx.actor
        def done(_r: object) -> None:
            self.ctx.info(f"Notice {row.notice_id} is back in the queue.")

        Mutation(self.ctx, self, lambda _c: nr.release_held(app, actor, row.notice_id), success=done,
                 changes=NOTICE_CHANGES).run()

    # ------------------------------------------------------------------ batches
    def selected_batch(self) -> nr.BatchRow | None:
        row: nr.BatchRow | None = _selected(self.batch_table)
        return row

    def select_batch(self, batch_id: int) -> None:
        for i, r in enumerate(self.batch_model.rows):
            if r.id == batch_id:
                self.batch_table.selectRow(i)
                return

    def _batch_buttons(self) -> None:
        b = self.selected_batch()
        has_file = b is not None and bool(b.file_path) and Path(b.file_path).exists()
        self.print_button.setEnabled(has_file and b is not None and b.status != "cancelled")
        self.save_button.setEnabled(has_file)
        self.confirm_button.setEnabled(b is not None and b.status == "rendered"
                                       and allowed(self.role, Permission.CONFIRM_MAILING))
        self.withdraw_button.setEnabled(b is not None and b.status == "rendered"
                                        and allowed(self.role, Permission.RUN_NOTICES))

    def _batch_selected(self) -> None:
        self._batch_buttons()
        b = self.selected_batch()
        if b is None:
            return
        self.preview_batch = b.id
        if not b.file_path or not Path(b.file_path).exists():
            self.pdf.close()
            self.preview_label.setText(f"Batch {b.id}: its file {b.file_path or ''} is not on this computer.")
            return
        error = self.pdf.load(b.file_path)
        if error != QPdfDocument.Error.None_:
            self.preview_label.setText(f"Batch {b.id} cannot be shown ({error.name}).")
            return
        pages = self.pdf.pageCount()
        self.preview_label.setText(f"<b>Batch {b.id}</b> — {b.pieces:,} piece{'s' if b.pieces != 1 else ''}, "
                                   f"{pages:,} page{'s' if pages != 1 else ''} — {Path(b.file_path).name}")
        self.preview_label.setToolTip(b.file_path)
        self.preview_label.setTextFormat(Qt.TextFormat.RichText)
        self.preview_loaded.emit(b.id, self.pdf.pageCount())

    def print_selected(self) -> None:
        b = self.selected_batch()
        if b is None:
            return
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName(Path(b.file_path).name)
        doc = QPdfDocument()
        if doc.load(b.file_path) == QPdfDocument.Error.None_:
            match_page_size(printer, doc)  # the dialog shows the batch's paper
        doc.close()
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle(f"Print batch {b.id}")
        dialog.setMinMax(1, max(b.pages, 1))
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        self.print_batch(b, printer)

    def print_batch(self, b: nr.BatchRow, printer: QPrinter) -> Task:
        """Print a batch on a configured printer in the background, with progress in the run bar."""

        def work(control: TaskControl) -> int:
            return print_pdf(b.file_path, printer, lambda d, t: control.progress(d, t, f"Printing page {d} of {t}"),
                             lambda: control.cancelled)

        def done(pages: int) -> None:
            self.ctx.info(f"Batch {b.id}: {pages:,} pages sent to {printer.printerName() or printer.outputFileName()}."
                          f" Confirm it mailed once it is posted.")
            self.printed.emit(pages)

        task = Query(self.ctx, self, work, success=done) \
            .with_progress(self.progress_panel, cancellable=False).run()
        self.progress_panel.report(0, max(b.pages, 1))
        return task

    def save_selected(self) -> None:
        b = self.selected_batch()
        if b is None:
            return
        target, _ = QFileDialog.getSaveFileName(self, f"Save batch {b.id} as PDF", Path(b.file_path).name,
                                                "PDF files (*.pdf)")
        if not target:
            return
        Query(self.ctx, self, lambda _c: shutil.copyfile(b.file_path, target),
              success=lambda _r: self.ctx.info(f"Batch {b.id} saved to {target}")).run()

    def confirm_selected(self, mailed_on: date | None = None) -> None:
        """Confirm the selected batch mailed; asks for the date unless given."""
        b = self.selected_batch()
        if b is None:
            return
        if mailed_on is None:
            today = self.ctx.app.now().astimezone(self.ctx.tz).date() if self.ctx.tz else date.today()
            dialog = ConfirmMailedDialog(b, today, self)
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return
            mailed_on = dialog.mailed_on()
        app, actor, day = self.ctx.app, self.ctx.actor, mailed_on

        def done(r: nr.ConfirmResult) -> None:
            self.ctx.info(f"Batch {r.batch_id}: {r.pieces:,} pieces confirmed mailed on {r.mailed_on:%Y-%m-%d}.")

        Mutation(self.ctx, self, lambda _c: nr.confirm_mailed(app, actor, b.id, day), success=done,
                 changes=NOTICE_CHANGES).run()

    def withdraw_selected(self) -> None:
        b = self.selected_batch()
        if b is None:
            return
        reason, ok = QInputDialog.getText(self, f"Withdraw batch {b.id}",
                                          "Why will this batch not be posted? Its pieces go back in the queue.")
        if not ok or not reason.strip():
            return
        app, actor = self.ctx.app, self.ctx.actor
        def done(n: int) -> None:
            self.ctx.info(f"Batch {b.id} withdrawn; {n:,} pieces are due again.")

        Mutation(self.ctx, self, lambda _c: nr.cancel_batch(app, actor, b.id, reason), success=done,
                 changes=NOTICE_CHANGES).run()

    # ------------------------------------------------------------------ mail log
    def search_log(self) -> None:
        self.log_count.setText("Searching…")
        self.log_model.set_filter(nr.MailLogFilter(text=self.log_search.text().strip(),
                                                   status=self.log_status.currentData() or "",
                                                   kind=self.log_kind.currentData() or ""))

    def _log_loaded(self, count: int) -> None:
        self.log_count.setText(f"{count:,} piece{'s' if count != 1 else ''}, newest first" if count
                               else "No piece matches.")
        self._log_buttons()
        self.log_loaded.emit(count)

    def selected_piece(self) -> nr.MailLogRow | None:
        row: nr.MailLogRow | None = _selected(self.log_table)
        return row

    def _log_buttons(self) -> None:
        r = self.selected_piece()
        self.reprint_button.setEnabled(r is not None and r.status in ("printed", "mailed", "returned")
                                       and allowed(self.role, Permission.RUN_NOTICES))
        self.returned_button.setEnabled(r is not None and r.status == "mailed"
                                        and allowed(self.role, Permission.RECORD_RETURNED_MAIL))
        self.open_batch_button.setEnabled(r is not None and r.batch_id is not None)

    def reprint_selected(self, reason: str | None = None) -> None:
        r = self.selected_piece()
        if r is None:
            return
        if reason is None:
            reason, ok = QInputDialog.getText(self, f"Reprint piece {r.id}",
                                              f"Why is the {kind_label(r.kind).lower()} for {r.citation_number} "
                                              f"reprinted?")
            if not ok:
                return
        app, actor, why = self.ctx.app, self.ctx.actor, reason

        def done(got: nr.ReprintResult) -> None:
            run = got.run
            if run is not None and run.batches:
                self.ctx.info(f"Reprint of piece {r.id} printed in batch {run.batches[0].batch_id}.")
                self.preview_batch = run.batches[0].batch_id
                self.tabs.setCurrentIndex(1)
            elif run is not None and run.held:
                self.ctx.info(f"The reprint is held: {run.held[0].reason}")

        Mutation(self.ctx, self, lambda _c: nr.reprint(app, actor, r.id, why), success=done,
                 changes=NOTICE_CHANGES).run()

    def record_returned_selected(self, reason: str | None = None) -> None:
        r = self.selected_piece()
        if r is None:
            return
        if reason is None:
            reason, ok = QInputDialog.getItem(self, f"Returned mail: piece {r.id}",
                                              f"What did the post office mark on the {kind_label(r.kind).lower()} "
                                              f"for {r.citation_number}?", RETURN_REASONS, 0, True)
            if not ok:
                return
        app, actor, why = self.ctx.app, self.ctx.actor, reason

        def done(got: nr.ReturnedResult) -> None:
            self.ctx.info(f"Piece {got.notice_id} recorded as returned: the address is marked bad, "
                          f"{got.held_pieces} queued piece(s) held, the case is on the owner-lookup list.")

        Mutation(self.ctx, self, lambda _c: nr.record_returned(app, actor, r.id, why), success=done,
                 changes=NOTICE_CHANGES).run()

    def show_batch_of_selected(self) -> None:
        r = self.selected_piece()
        if r is None or r.batch_id is None:
            return
        self.tabs.setCurrentIndex(1)
        self.select_batch(r.batch_id)


__all__ = ["NoticesView", "print_pdf"]
