"""The Payments screen's imports: bank statements, lockbox, NACHA ACH and processor files, with the log of
what each import matched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QPlainTextEdit, QPushButton, QSplitter, QVBoxLayout, QWidget

from desktop.domain.errors import UserError
from desktop.domain.ledger import format_cents
from desktop.domain.roles import Permission
from desktop.services.payments import imports as payment_imports
from desktop.ui.common.operations import Mutation, Query
from desktop.ui.common.progress import ProgressPanel
from desktop.ui.common.tasks import TaskControl
from desktop.ui.context import UiContext
from desktop.ui.payments.common import (
    PAYMENT_CHANGES,
    Column,
    PaymentsTab,
    RowsModel,
    make_table,
    note_label,
    selected_rows,
)

KIND_LABELS = {"bai2": "BAI2 bank", "lockbox": "Lockbox", "nacha": "NACHA ACH", "processor_csv": "Processor CSV"}


class ImportsTab(PaymentsTab):
    """Import bank, lockbox, ACH and processor files. Signals: `imported(outcome)`, `rejected(message)`."""

    imported = Signal(object)
    rejected = Signal(str)
    loaded = Signal(int)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.task: Any = None
        lay = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.import_button = QPushButton("&Import a payment file… (Ctrl+O)")
        self.import_button.clicked.connect(self.choose_file)
        self.import_button.setEnabled(self.can(Permission.IMPORT_DATA))
        #: the import's progress (each step's text on the bar), with Cancel
        self.progress_panel = ProgressPanel(text_format=True, min_total=0)
        self.progress = self.progress_panel.bar
        self.cancel_button = self.progress_panel.cancel_button
        bar.addWidget(self.import_button)
        bar.addWidget(self.progress_panel, 1)
        bar.addStretch(0)
        lay.addLayout(bar)
        lay.addWidget(note_label("BAI2 bank statements and lockbox files, NACHA ACH files (returns reverse the payments "
                            "they return) and the card processor's settlement CSV. A file is imported whole or not at "
                            "all; the same file twice adds nothing."))
        split = QSplitter(Qt.Orientation.Vertical)
        self.model = RowsModel([
            Column("Imported", lambda r: r.imported_at, "datetime", 125),
            Column("File", lambda r: r.filename, width=230),
            Column("Kind", lambda r: KIND_LABELS.get(r.kind, r.kind), width=105),
            Column("By", lambda r: r.imported_by or "", width=120),
            Column("Value date", lambda r: r.value_date, "date", 90),
            Column("Payments", lambda r: r.payment_count, width=80),
            Column("Posted", lambda r: r.total_cents, "money", 100),
            Column("Unmatched", lambda r: r.summary.get("unmatched_cents", 0), "money", 90),
            Column("Returns", lambda r: len(r.summary.get("returns_applied", [])), width=60),
        ], ctx.tz, self)
        self.table = make_table(self.model)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._show_selected())
        split.addWidget(self.table)
        self.result = QPlainTextEdit()
        self.result.setReadOnly(True)
        self.result.setPlaceholderText("The result of an import (or why a file was refused) shows here.")
        split.addWidget(self.result)
        split.setSizes([320, 220])
        lay.addWidget(split, 1)
        QShortcut(QKeySequence("Ctrl+O"), self, self.choose_file)

    def load(self) -> None:
        if not self.can(Permission.IMPORT_DATA):
            return
        app, actor = self.ctx.app, self.ctx.actor
        Query(self.ctx, self, lambda _c: payment_imports.imports_list(app, actor), success=self._arrived).run()

    def _arrived(self, rows: list[payment_imports.ImportRow]) -> None:
        self.model.set_rows(rows, rows[0].currency if rows else None)
        self.loaded.emit(len(rows))

    def _show_selected(self) -> None:
        rows = selected_rows(self.table)
        if not rows:
            return
        r = rows[0]
        s = r.summary
        lines = [(f"{r.filename} ({r.kind}), imported {r.imported_at.astimezone(self.ctx.tz):%Y-%m-%d %H:%M} by "
                  f"{r.imported_by}: {r.payment_count} payment(s) for {format_cents(r.total_cents, r.currency)}; "
                  f"{s.get('matched', 0)} matched, {s.get('unmatched', 0)} unmatched, "
                  f"{s.get('already_known', 0)} already recorded from an earlier file.")]
        lines += [f"ACH return: {t}" for t in s.get("returns_applied", [])]
        lines += [f"ACH return NOT applied: {t}" for t in s.get("returns_not_applied", [])]
        lines += [f"Deposit {format_cents(d['amount_cents'], r.currency)} ({d['category']}, type {d['type_code']}) "
                  f"kept for the daily close" for d in s.get("deposits", [])]
        lines += [f"Skipped: {t}" for t in s.get("skipped", [])]
        self.result.setStyleSheet("")
        self.result.setPlainText("\n".join(lines))

    def choose_file(self) -> None:
        if not self.import_button.isEnabled():
            return
        path, _ = QFileDialog.getOpenFileName(self, "Import a payment file", "",
                                              "Payment files (*.bai *.bai2 *.txt *.ach *.gz *.csv);;All files (*)")
        if path:
            self.import_file(Path(path))

    def import_file(self, path: Path) -> None:
        app, actor = self.ctx.app, self.ctx.actor
        self.import_button.setEnabled(False)
        self.result.setStyleSheet("")
        self.result.setPlainText(f"Importing {path.name}…")

        def work(control: TaskControl) -> payment_imports.ImportOutcome:
            return payment_imports.import_payment_file(app, actor, path, control.step)

        # a file is imported whole or not at all: nothing to announce after a failure
        self.task = Mutation(self.ctx, self, work, changes=PAYMENT_CHANGES, success=self._imported,
                             failure=self._failed).with_progress(self.progress_panel).run()

    def cancel(self) -> None:
        """As the Cancel button: the import stops and nothing of the file is kept."""
        if self.task is not None:
            self.progress_panel.cancel()

    def _finish(self) -> None:
        self.task = None
        self.import_button.setEnabled(self.can(Permission.IMPORT_DATA))

    def _imported(self, outcome: payment_imports.ImportOutcome) -> None:
        self._finish()
        self.result.setPlainText("\n".join(outcome.lines()))
        self.ctx.info(outcome.lines()[0])
        self.imported.emit(outcome)  # the list follows through the operation bus

    def _failed(self, exc: BaseException) -> None:
        self._finish()
        if isinstance(exc, UserError):
            self.result.setStyleSheet("color:#b71c1c")
            self.result.setPlainText(f"Refused: {exc}")
            self.ctx.messages.info(str(exc), 10000)
            self.rejected.emit(str(exc))
        else:
            self.result.setPlainText("The import failed; nothing was posted.")
            self.ctx.error(exc)
