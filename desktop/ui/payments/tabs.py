"""The Payments screen's queues and the daily close: unmatched payments, refunds, imports, plans.

Every database call runs through the TaskRunner; the work functions never touch widgets.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.errors import UserError
from desktop.domain.ledger import format_cents, parse_money
from desktop.domain.lifecycle import CaseStatus
from desktop.domain.roles import Permission, allowed
from desktop.services.cases import queries as cases
from desktop.services.payments import daily_close, refunds
from desktop.services.payments import imports as payment_imports
from desktop.services.payments import plans as payment_plans
from desktop.services.payments import posting as payments
from desktop.services.payments.posting import method_label, source_label
from desktop.ui.common.tasks import TaskControl
from desktop.ui.common.widgets import ok_cancel
from desktop.ui.context import UiContext
from desktop.ui.payments.view import Column, RowsModel, make_table, money_text, read_money, selected_rows

KIND_LABELS = {"bai2": "BAI2 bank", "lockbox": "Lockbox", "nacha": "NACHA ACH", "processor_csv": "Processor CSV"}


class _Tab(QWidget):
    """A tab that reloads when shown (if something changed since)."""

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._stale = True

    def mark_stale(self) -> None:
        self._stale = True

    def refresh(self) -> None:
        self._stale = False
        self.load()

    def load(self) -> None:
        raise NotImplementedError

    def can(self, permission: Permission) -> bool:
        return allowed(self.ctx.actor.role, permission)

    def then_reload(self, message: Callable[[Any], str]) -> Callable[[Any], None]:
        """An `on_done` that tells the user what happened and reloads the tab."""
        def done(result: Any) -> None:
            self.ctx.info(message(result))
            self.load()
        return done


def _note(text: str, colour: str = "#555") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet(f"color:{colour}")
    return label


# --------------------------------------------------------------------------- unmatched


class UnmatchedTab(_Tab):
    """The unmatched queue: pick a payment, find the case, assign. Signal `loaded(count)`, `matched(id)`."""

    loaded = Signal(int)
    matched = Signal(int)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        lay = QVBoxLayout(self)
        self.summary = _note("Loading…")
        lay.addWidget(self.summary)
        split = QSplitter(Qt.Orientation.Horizontal)
        self.model = RowsModel([
            Column("Value date", lambda r: r.value_date, "date", 90),
            Column("Source", lambda r: source_label(r.source), width=110),
            Column("Amount", lambda r: r.amount_cents, "money", 90),
            Column("Payer", lambda r: r.payer_name or "", width=150),
            Column("Reference", lambda r: r.reference or "", width=200),
            Column("Why it is here", lambda r: r.match_note or "", width=300),
        ], ctx.tz, self)
        self.table = make_table(self.model)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._payment_chosen())
        split.addWidget(self.table)

        side = QWidget()
        side_lay = QVBoxLayout(side)
        side_lay.addWidget(QLabel("<b>Find the case</b>"))
        self.search = QLineEdit()
        self.search.setPlaceholderText("Citation number, plate or owner name, then Enter")
        self.search.returnPressed.connect(self.find_case)
        side_lay.addWidget(self.search)
        self.case_model = RowsModel([
            Column("Citation", lambda r: r.citation_number, width=112),
            Column("Plate", lambda r: r.plate, width=72),
            Column("Balance", lambda r: r.balance_cents, "money", 72),
            Column("Status", lambda r: CaseStatus(r.status).label, width=66),
            Column("Owner", lambda r: r.owner_name or "", width=140),
        ], ctx.tz, self)
        self.case_table = make_table(self.case_model, multi=True)
        side_lay.addWidget(self.case_table, 1)
        self.note_edit = QLineEdit()
        self.note_edit.setPlaceholderText("note (e.g. 'payer phoned: plate on the cheque')")
        side_lay.addWidget(self.note_edit)
        buttons = QHBoxLayout()
        self.assign_button = QPushButton("&Assign to the selected case(s)")
        self.assign_button.clicked.connect(self.assign)
        self.assign_button.setEnabled(self.can(Permission.MATCH_PAYMENTS))
        self.reverse_button = QPushButton("Re&verse…")
        self.reverse_button.setToolTip("Return the money (e.g. the payment is not for this agency)")
        self.reverse_button.clicked.connect(self.reverse)
        self.reverse_button.setEnabled(self.can(Permission.REVERSE_PAYMENTS))
        buttons.addWidget(self.assign_button)
        buttons.addWidget(self.reverse_button)
        side_lay.addLayout(buttons)
        split.addWidget(side)
        split.setSizes([760, 480])
        lay.addWidget(split, 1)
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=self.assign)

    def load(self) -> None:
        app, actor = self.ctx.app, self.ctx.actor
        if not self.can(Permission.MATCH_PAYMENTS):
            self.summary.setText("Your role does not match payments.")
            return
        self.ctx.runner.run(lambda _c: payments.unmatched_payments(app, actor), on_done=self._arrived,
                            on_error=self.ctx.error)

    def _arrived(self, rows: list[payments.PaymentRow]) -> None:
        self.model.set_rows(rows)
        total = sum(r.amount_cents for r in rows)
        self.summary.setText(
            f"<b>{len(rows)}</b> payment(s) for <b>{format_cents(total)}</b> wait to be matched. Select one, find its "
            f"case on the right (Enter), select the case(s) and press Ctrl+Enter." if rows else
            "The unmatched queue is empty: every payment received is applied to a case.")
        if rows:
            self.table.selectRow(0)
        self.loaded.emit(len(rows))

    def _payment_chosen(self) -> None:
        rows = selected_rows(self.table)
        if rows and not self.search.text():
            self.search.setPlaceholderText(f"Find the case for {format_cents(rows[0].amount_cents)} "
                                           f"({rows[0].reference or 'no reference'})")

    def find_case(self) -> None:
        text = self.search.text().strip()
        if not text:
            return
        app, actor = self.ctx.app, self.ctx.actor
        self.ctx.runner.run(lambda _c: cases.search_cases(app, actor, text, 100),
                            on_done=self._cases_arrived, on_error=self.ctx.error)

    def _cases_arrived(self, rows: list[cases.CaseRow]) -> None:
        self.case_model.set_rows(rows)
        if rows:
            self.case_table.selectRow(0)
            self.case_table.setFocus()
        else:
            self.ctx.info("No case matches that search.")

    def assign(self) -> None:
        pay = selected_rows(self.table)
        chosen = selected_rows(self.case_table)
        if not pay or not chosen:
            self.ctx.error(UserError("Select a payment on the left and its case(s) on the right."))
            return
        app, actor = self.ctx.app, self.ctx.actor
        pid, ids, note = pay[0].id, [c.id for c in chosen], self.note_edit.text()

        def done(allocations: list[payments.Allocation]) -> None:
            self.ctx.info(f"Payment {pid} applied to " + ", ".join(
                f"{a.citation_number} ({format_cents(a.applied_cents)})" for a in allocations) + ".")
            self.note_edit.clear()
            self.case_model.set_rows([])
            self.search.clear()
            self.matched.emit(pid)
            self.load()

        self.ctx.runner.run(lambda _c: payments.match_by_hand(app, actor, pid, ids, note), on_done=done,
                            on_error=self.ctx.error)

    def reverse(self) -> None:
        pay = selected_rows(self.table)
        if not pay:
            return
        reason, ok = QInputDialog.getText(self, "Reverse payment",
                                          f"Why is payment {pay[0].id} of {format_cents(pay[0].amount_cents)} "
                                          f"reversed?")
        if not ok:
            return
        app, actor, pid = self.ctx.app, self.ctx.actor, pay[0].id
        self.ctx.runner.run(lambda _c: payments.reverse_payment(app, actor, pid, reason),
                            on_done=self.then_reload(lambda _r: f"Payment {pid} reversed."),
                            on_error=self.ctx.error)


# --------------------------------------------------------------------------- refunds


class RequestRefundDialog(QDialog):
    def __init__(self, row: refunds.RefundQueueRow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Refund request — {row.citation_number}")
        form = QFormLayout(self)
        form.addRow(QLabel(f"Credit held on the case: <b>{format_cents(row.credit_cents)}</b>"))
        self.amount = QLineEdit(money_text(row.credit_cents))
        self.payee = QLineEdit(row.last_payer or row.owner_name or "")
        self.reason = QLineEdit("Overpayment")
        form.addRow("&Amount", self.amount)
        form.addRow("&Payee", self.payee)
        form.addRow("&Reason", self.reason)
        buttons = ok_cancel(self.accept, self.reject)
        form.addRow(buttons)


class RefundsTab(_Tab):
    """The refund queue. Signal `loaded(count)`."""

    loaded = Signal(int)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        lay = QVBoxLayout(self)
        self.summary = _note("Loading…")
        lay.addWidget(self.summary)
        self.check = _note("")
        lay.addWidget(self.check)
        self.model = RowsModel([
            Column("Citation", lambda r: r.citation_number, width=125),
            Column("Plate", lambda r: r.plate, width=80),
            Column("Case", lambda r: CaseStatus(r.status).label, width=80),
            Column("Credit", lambda r: r.credit_cents, "money", 85),
            Column("Last paid", lambda r: r.last_payment_on, "date", 90),
            Column("Payer", lambda r: r.last_payer or r.owner_name or "", width=150),
            Column("Request", lambda r: r.refund_cents, "money", 85),
            Column("Requested by", lambda r: r.requested_by or "", width=120),
            Column("Reason", lambda r: r.reason or "", width=220),
            Column("Earlier decision", lambda r: r.last_decision or "", width=200),
        ], ctx.tz, self)
        self.table = make_table(self.model)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        lay.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        self.request_button = QPushButton("Re&quest refund…")
        self.request_button.clicked.connect(self.request)
        self.approve_button = QPushButton("A&pprove")
        self.approve_button.clicked.connect(self.approve)
        self.reject_button = QPushButton("Re&ject…")
        self.reject_button.clicked.connect(self.reject)
        for b in (self.request_button, self.approve_button, self.reject_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        lay.addLayout(buttons)
        lay.addWidget(_note("A refund is paid only after a supervisor other than the person who requested it "
                            "approves it; approval posts the refund to the case ledger and queues a refund letter."))
        self._update_buttons()

    def load(self) -> None:
        if not self.can(Permission.REQUEST_REFUNDS):
            self.summary.setText("Your role does not handle refunds.")
            return
        app, actor = self.ctx.app, self.ctx.actor

        def work(_c: TaskControl) -> tuple[list[refunds.RefundQueueRow], list[str]]:
            return refunds.refund_queue(app, actor), refunds.unnoticed_overpayments(app, actor)

        self.ctx.runner.run(work, on_done=self._arrived, on_error=self.ctx.error)

    def _arrived(self, result: tuple[list[refunds.RefundQueueRow], list[str]]) -> None:
        rows, problems = result
        self.model.set_rows(rows)
        waiting = sum(1 for r in rows if r.refund_id is None)
        pending = len(rows) - waiting
        total = sum(r.credit_cents for r in rows)
        self.summary.setText(f"<b>{len(rows)}</b> overpaid case(s) hold <b>{format_cents(total)}</b> of credit: "
                             f"{pending} request(s) waiting for approval, {waiting} without a request yet."
                             if rows else "No case is overpaid.")
        if problems:
            self.check.setStyleSheet("color:#b71c1c")
            self.check.setText("Check failed: " + " ".join(problems))
        else:
            self.check.setStyleSheet("color:#2e7d32")
            self.check.setText("Check passed: every overpaid case in the ledger is in this queue, and no request "
                               "asks for more than its case holds.")
        if rows:
            self.table.selectRow(0)
        self._update_buttons()
        self.loaded.emit(len(rows))

    def _current(self) -> refunds.RefundQueueRow | None:
        rows = selected_rows(self.table)
        return rows[0] if rows else None

    def _update_buttons(self) -> None:
        row = self._current()
        self.request_button.setEnabled(row is not None and row.refund_id is None
                                       and self.can(Permission.REQUEST_REFUNDS))
        decide = (row is not None and row.refund_id is not None and self.can(Permission.APPROVE_REFUNDS)
                  and row.requested_by_id != self.ctx.actor.user_id)
        self.approve_button.setEnabled(decide)
        self.reject_button.setEnabled(decide)
        if row is not None and row.refund_id is not None and row.requested_by_id == self.ctx.actor.user_id:
            self.approve_button.setToolTip("You requested this refund: another supervisor approves it.")

    def request(self) -> None:
        row = self._current()
        if row is None:
            return
        dialog = RequestRefundDialog(row, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        try:
            amount = parse_money(dialog.amount.text())
        except UserError as exc:
            self.ctx.error(exc)
            return
        app, actor = self.ctx.app, self.ctx.actor
        payee, reason, cid = dialog.payee.text(), dialog.reason.text(), row.citation_id
        self.ctx.runner.run(lambda _c: refunds.request_refund(app, actor, cid, amount_cents=amount, payee_name=payee,
                                                              reason=reason),
                            on_done=self.then_reload(lambda rid: f"Refund request {rid} sent for approval."),
                            on_error=self.ctx.error)

    def approve(self) -> None:
        row = self._current()
        if row is None or row.refund_id is None:
            return
        app, actor, rid = self.ctx.app, self.ctx.actor, row.refund_id
        self.ctx.runner.run(lambda _c: refunds.approve_refund(app, actor, rid),
                            on_done=self.then_reload(lambda _r: f"Refund {rid} approved; the letter is queued."),
                            on_error=self.ctx.error)

    def reject(self) -> None:
        row = self._current()
        if row is None or row.refund_id is None:
            return
        note, ok = QInputDialog.getText(self, "Reject refund", "Why is the refund rejected?")
        if not ok:
            return
        app, actor, rid = self.ctx.app, self.ctx.actor, row.refund_id
        self.ctx.runner.run(lambda _c: refunds.reject_refund(app, actor, rid, note),
                            on_done=self.then_reload(lambda _r: f"Refund {rid} rejected."),
                            on_error=self.ctx.error)


# --------------------------------------------------------------------------- imports


class ImportsTab(_Tab):
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
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel)
        bar.addWidget(self.import_button)
        bar.addWidget(self.progress, 1)
        bar.addWidget(self.cancel_button)
        bar.addStretch(0)
        lay.addLayout(bar)
        lay.addWidget(_note("BAI2 bank statements and lockbox files, NACHA ACH files (returns reverse the payments "
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
        QShortcut(QKeySequence("Ctrl+O"), self, activated=self.choose_file)

    def load(self) -> None:
        if not self.can(Permission.IMPORT_DATA):
            return
        app, actor = self.ctx.app, self.ctx.actor
        self.ctx.runner.run(lambda _c: payment_imports.imports_list(app, actor), on_done=self._arrived,
                            on_error=self.ctx.error)

    def _arrived(self, rows: list[payment_imports.ImportRow]) -> None:
        self.model.set_rows(rows)
        self.loaded.emit(len(rows))

    def _show_selected(self) -> None:
        rows = selected_rows(self.table)
        if not rows:
            return
        r = rows[0]
        s = r.summary
        lines = [(f"{r.filename} ({r.kind}), imported {r.imported_at.astimezone(self.ctx.tz):%Y-%m-%d %H:%M} by "
                  f"{r.imported_by}: {r.payment_count} payment(s) for {format_cents(r.total_cents)}; "
                  f"{s.get('matched', 0)} matched, {s.get('unmatched', 0)} unmatched, "
                  f"{s.get('already_known', 0)} already recorded from an earlier file.")]
        lines += [f"ACH return: {t}" for t in s.get("returns_applied", [])]
        lines += [f"ACH return NOT applied: {t}" for t in s.get("returns_not_applied", [])]
        lines += [f"Deposit {format_cents(d['amount_cents'])} ({d['category']}, type {d['type_code']}) kept for the "
                  f"daily close" for d in s.get("deposits", [])]
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
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.cancel_button.setVisible(True)
        self.result.setStyleSheet("")
        self.result.setPlainText(f"Importing {path.name}…")

        def work(control: TaskControl) -> payment_imports.ImportOutcome:
            def progress(done: int, total: int, text: str) -> None:
                control.check()
                control.progress(done, total, text)
            return payment_imports.import_payment_file(app, actor, path, progress)

        def on_progress(done: int, total: int, text: str) -> None:
            self.progress.setRange(0, max(total, 0))
            self.progress.setValue(done)
            self.progress.setFormat(text or "%p%")

        self.task = self.ctx.runner.run(work, on_done=self._imported, on_error=self._failed, on_progress=on_progress)

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def _finish(self) -> None:
        self.task = None
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        self.import_button.setEnabled(self.can(Permission.IMPORT_DATA))

    def _imported(self, outcome: payment_imports.ImportOutcome) -> None:
        self._finish()
        self.result.setPlainText("\n".join(outcome.lines()))
        self.ctx.info(outcome.lines()[0])
        self.imported.emit(outcome)
        self.load()

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


# --------------------------------------------------------------------------- plans


class EnrolDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Put a case on a payment plan")
        form = QFormLayout(self)
        self.citation = QLineEdit()
        self.kind = QComboBox()
        self.kind.addItem("Indigent plan (California VC 40220: at most $25 a month, late fees waived)", "indigent")
        self.kind.addItem("Agency plan (fixed monthly amount)", "agency")
        self.months = QSpinBox()
        self.months.setRange(1, 36)
        self.months.setValue(12)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("e.g. proof of public benefits seen")
        form.addRow("&Citation number", self.citation)
        form.addRow("&Plan", self.kind)
        form.addRow("&Months", self.months)
        form.addRow("&Reason", self.reason)
        buttons = ok_cancel(self.accept, self.reject)
        form.addRow(buttons)


class PlansTab(_Tab):
    """Payment plans and the instalment check. Signal `loaded(count)`."""

    loaded = Signal(int)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        lay = QVBoxLayout(self)
        self.summary = _note("Loading…")
        lay.addWidget(self.summary)
        self.model = RowsModel([
            Column("Plan", lambda r: r.id, width=50),
            Column("Citation", lambda r: r.citation_number, width=125),
            Column("Kind", lambda r: r.kind, width=80),
            Column("Status", lambda r: r.status + (f" ({r.missed} missed)" if r.missed else ""), width=120),
            Column("Start", lambda r: r.start_date, "date", 90),
            Column("Monthly", lambda r: r.monthly_cents, "money", 80),
            Column("Months", lambda r: r.months, width=60),
            Column("Fees waived", lambda r: r.waived_cents, "money", 90),
            Column("Financed", lambda r: r.financed_cents, "money", 85),
            Column("Paid", lambda r: r.paid_cents, "money", 85),
            Column("Balance", lambda r: r.balance_cents, "money", 85),
            Column("Next due", lambda r: r.next_due, "date", 90),
        ], ctx.tz, self)
        self.table = make_table(self.model)
        lay.addWidget(self.table, 1)
        bar = QHBoxLayout()
        self.enrol_button = QPushButton("&New plan…")
        self.enrol_button.clicked.connect(self.enrol)
        self.enrol_button.setEnabled(self.can(Permission.EDIT_CASES))
        self.check_button = QPushButton("Check &instalments now")
        self.check_button.setToolTip("What the daily escalation does: missed instalments, defaults (late fees "
                                     "reinstated)")
        self.check_button.clicked.connect(self.check)
        self.check_button.setEnabled(self.can(Permission.RUN_ESCALATION))
        bar.addWidget(self.enrol_button)
        bar.addWidget(self.check_button)
        bar.addStretch(1)
        lay.addLayout(bar)
        self.result = _note("")
        lay.addWidget(self.result)

    def load(self) -> None:
        app, actor = self.ctx.app, self.ctx.actor
        self.ctx.runner.run(lambda _c: payment_plans.plans_list(app, actor), on_done=self._arrived,
                            on_error=self.ctx.error)

    def _arrived(self, rows: list[payment_plans.PlanRow]) -> None:
        self.model.set_rows(rows)
        current = [r for r in rows if r.status == "current"]
        behind = sum(1 for r in current if r.missed)
        self.summary.setText(f"<b>{len(current)}</b> current plan(s), {behind} behind on instalments; "
                             f"{len(rows) - len(current)} completed, defaulted or cancelled." if rows else
                             "No payment plans yet.")
        self.loaded.emit(len(rows))

    def enrol(self) -> None:
        dialog = EnrolDialog(self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        app, actor = self.ctx.app, self.ctx.actor
        number, kind, months, reason = (dialog.citation.text(), dialog.kind.currentData(), dialog.months.value(),
                                        dialog.reason.text())

        def work(_c: TaskControl) -> int:
            cid = cases.find_case_id(app, actor, number)
            return payment_plans.enrol_plan(app, actor, cid, kind, months=months, reason=reason)

        self.ctx.runner.run(work, on_done=self.then_reload(lambda pid: f"Payment plan {pid} set up."),
                            on_error=self.ctx.error)

    def _checked(self, result: payment_plans.PlanCheckResult) -> None:
        self.result.setText("<br>".join(result.lines()))
        self.load()

    def check(self) -> None:
        app, actor = self.ctx.app, self.ctx.actor
        self.ctx.runner.run(lambda _c: payment_plans.check_plans(app, actor),
                            on_done=self._checked,
                            on_error=self.ctx.error)


# --------------------------------------------------------------------------- daily close


class CloseTab(_Tab):
    """Drawers, the reconciliation of a day, the differences, and the exports. Signal `loaded(result)`."""

    loaded = Signal(object)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        lay = QVBoxLayout(self)
        bar = QHBoxLayout()
        day_label = QLabel("Business &day")
        today = ctx.app.now().astimezone(ctx.tz).date() if ctx.tz else ctx.app.now().date()
        self.day = QDateEdit(QDate(today.year, today.month, today.day))
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("yyyy-MM-dd")
        self.day.dateChanged.connect(lambda _d: self.load())
        day_label.setBuddy(self.day)
        bar.addWidget(day_label)
        bar.addWidget(self.day)
        refresh = QPushButton("Re&fresh (F5)")
        refresh.clicked.connect(self.load)
        bar.addWidget(refresh)
        self.verdict = QLabel("")
        bar.addWidget(self.verdict, 1)
        self.gl_button = QPushButton("Export &GL…")
        self.gl_button.clicked.connect(self.export_gl)
        self.export_button = QPushButton("Export &payments…")
        self.export_button.clicked.connect(self.export_payments)
        for b in (self.gl_button, self.export_button):
            b.setEnabled(self.can(Permission.EXPORT_DATA))
            bar.addWidget(b)
        lay.addLayout(bar)
        QShortcut(QKeySequence("F5"), self, activated=self.load)

        top = QHBoxLayout()
        count_box = QGroupBox("Count my drawer")
        count = QFormLayout(count_box)
        self.counted_cash = QLineEdit()
        self.counted_cash.setPlaceholderText("cash in the drawer, float included")
        self.counted_cheques = QLineEdit()
        self.counted_cheques.setPlaceholderText("total of the cheques")
        self.counted_cheques.returnPressed.connect(self.close_my_drawer)
        self.close_button = QPushButton("Close my dra&wer")
        self.close_button.clicked.connect(self.close_my_drawer)
        self.close_button.setEnabled(self.can(Permission.CLOSE_DAY) and ctx.actor.user_id is not None)
        count.addRow("Counted c&ash", self.counted_cash)
        count.addRow("Counted c&heques", self.counted_cheques)
        count.addRow(self.close_button)
        top.addWidget(count_box, 1)
        self.drawer_model = RowsModel([
            Column("Clerk", lambda d: d.clerk, width=130),
            Column("Status", lambda d: "closed" if d.is_closed else "open", width=60),
            Column("Float", lambda d: d.opening_float_cents, "money", 80),
            Column("Cash", lambda d: d.cash_cents, "money", 80),
            Column("Cheques", lambda d: d.cheques_cents, "money", 80),
            Column("Cards", lambda d: d.card_cents, "money", 80),
            Column("Expected", lambda d: d.expected_cash_cents + d.expected_cheques_cents, "money", 85),
            Column("Counted", lambda d: None if d.counted_cash_cents is None else
                   d.counted_cash_cents + (d.counted_cheques_cents or 0), "money", 85),
            Column("Difference", lambda d: d.difference_cents, "money", 85),
        ], ctx.tz, self)
        drawers = make_table(self.drawer_model)
        drawers.setMinimumHeight(110)
        top.addWidget(drawers, 3)
        lay.addLayout(top)

        self.line_model = RowsModel([
            Column("Source", lambda r: r.label, width=130),
            Column("Payments", lambda r: r.count, width=80),
            Column("Received", lambda r: r.received_cents, "money", 100),
            Column("Applied to cases", lambda r: r.applied_cents, "money", 125),
            Column("Unmatched", lambda r: r.unmatched_cents, "money", 95),
            Column("Reversed", lambda r: r.reversed_cents, "money", 95),
            Column("Files / drawers say", lambda r: r.reported_cents, "money", 140),
            Column("Difference", lambda r: r.difference_cents, "money", 95),
        ], ctx.tz, self)
        lines = make_table(self.line_model)
        lines.setMaximumHeight(170)
        lay.addWidget(lines)
        self.deposits = _note("")
        lay.addWidget(self.deposits)
        lay.addWidget(QLabel("<b>Differences to explain</b>"))
        self.diff_model = RowsModel([
            Column("Kind", lambda d: d.kind.replace("_", " "), width=130),
            Column("Source", lambda d: d.source, width=80),
            Column("Amount", lambda d: d.amount_cents or None, "money", 90),
            Column("What", lambda d: d.text, width=900),
        ], ctx.tz, self)
        diffs = make_table(self.diff_model)
        lay.addWidget(diffs, 1)

    def selected_day(self) -> date:
        return date.fromisoformat(self.day.date().toString("yyyy-MM-dd"))

    def load(self) -> None:
        if not self.can(Permission.CLOSE_DAY):
            self.verdict.setText("Your role does not close the day.")
            return
        app, actor, day = self.ctx.app, self.ctx.actor, self.selected_day()
        self.ctx.runner.run(lambda _c: daily_close.daily_close(app, actor, day), on_done=self._arrived,
                            on_error=self.ctx.error)

    def _arrived(self, result: daily_close.DailyClose) -> None:
        self.drawer_model.set_rows(result.drawers)
        self.line_model.set_rows(result.lines)
        self.diff_model.set_rows(result.differences)
        seen = [f"{e['what']} {format_cents(int(str(e['amount_cents'])))}: "
                + (f"in {e['seen_in']}" if e.get("seen_in") else "<b>not in any bank statement yet</b>")
                for e in result.deposits_expected]
        self.deposits.setText("<b>Deposits</b> — " + "; ".join(seen) if seen else
                              "<b>Deposits</b> — none expected yet (no closed drawer, lockbox or card file).")
        total = format_cents(result.received_cents)
        if not result.differences:
            self.verdict.setText(f"<span style='color:#2e7d32'><b>{total} received; every cent is explained.</b>"
                                 f"</span>")
        else:
            self.verdict.setText(f"<span style='color:#8a5a00'><b>{total} received; {len(result.differences)} "
                                 f"difference(s) to look at.</b></span>")
        self.loaded.emit(result)

    def close_my_drawer(self) -> None:
        try:
            cash = read_money(self.counted_cash, "cash counted")
            cheques = parse_money(self.counted_cheques.text()) if self.counted_cheques.text().strip() else 0
        except UserError as exc:
            self.ctx.error(exc)
            return
        app, actor, day = self.ctx.app, self.ctx.actor, self.selected_day()

        def done(summary: daily_close.DrawerSummary) -> None:
            diff = summary.difference_cents or 0
            self.ctx.info("Drawer closed: " + ("it balances." if diff == 0 else
                                               f"{'over' if diff > 0 else 'short'} by {format_cents(abs(diff))}."))
            self.counted_cash.clear()
            self.counted_cheques.clear()
            self.load()

        self.ctx.runner.run(lambda _c: daily_close.close_drawer(app, actor, cash, cheques, day=day), on_done=done,
                            on_error=self.ctx.error)

    def export_gl(self) -> None:
        day = self.selected_day()
        path, _ = QFileDialog.getSaveFileName(self, "Export the general ledger", f"gl-{day:%Y-%m-%d}.csv",
                                              "CSV files (*.csv)")
        if not path:
            return
        app, actor = self.ctx.app, self.ctx.actor
        self.ctx.runner.run(lambda _c: daily_close.export_gl(app, actor, day, Path(path)),
                            on_done=lambda lines: self.ctx.info(f"{len(lines)} journal lines written to {path}."),
                            on_error=self.ctx.error)

    def export_payments(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export payments", "payments.csv", "CSV files (*.csv)")
        if not path:
            return
        app, actor = self.ctx.app, self.ctx.actor
        self.ctx.runner.run(lambda _c: payments.export_payments(app, actor, Path(path)),
                            on_done=lambda n: self.ctx.info(f"{n:,} payments written to {path}."),
                            on_error=self.ctx.error)


__all__ = ["CloseTab", "ImportsTab", "PlansTab", "RefundsTab", "UnmatchedTab", "method_label"]
