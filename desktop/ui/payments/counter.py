"""The Payments counter: a payment in a few keystrokes, the receipt, the cashier's drawer.

Keyboard only: type a citation number or a plate, Enter; the amount is prefilled with
what is owed and selected, Enter posts it in cash (or pick Cheque/Card with F3/F4 first; Enter
walks to the field still missing); the receipt appears, Enter closes it and the cursor is back in
the lookup box for the next motorist.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.errors import ConcurrencyConflict, OverpaymentNotConfirmed, UserError
from desktop.domain.ledger import format_cents, parse_money
from desktop.domain.lifecycle import CaseStatus
from desktop.domain.roles import Permission, allowed
from desktop.services.payments import daily_close
from desktop.services.payments import posting as payments
from desktop.services.payments.posting import CounterCase, CounterResult
from desktop.ui.common.operations import Changes, Mutation, Query, initiated_by
from desktop.ui.common.printing import print_pdf
from desktop.ui.common.tasks import TaskControl
from desktop.ui.context import UiContext
from desktop.ui.payments.common import PAYMENT_CHANGES, Column, RowsModel, make_table, money_text, read_money
from reports.data import ReceiptData


def print_receipt(ctx: UiContext, payment_id: int, number: str, parent: QWidget) -> None:
    """Render the receipt (ReportLab, on a worker), ask for the printer, print it at 100 %."""
    app, actor = ctx.app, ctx.actor
    target = app.paths.print_dir / "receipts" / f"receipt-{number}.pdf"

    def render(_c: TaskControl) -> Path:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        receipt = ReceiptData.from_plain(payments.receipt_data(app, actor, payment_id))
        partial.write_bytes(app.renderer.receipt(receipt))
        partial.replace(target)
        return target

    def rendered(path: Path) -> None:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        if QPrintDialog(printer, parent).exec() != QDialog.DialogCode.Accepted:
            ctx.info(f"Receipt saved as {path}; not printed.")
            return
        Query(ctx, parent, lambda _c: print_pdf(path, printer),
              success=lambda n: ctx.info(f"Receipt {number} printed ({n} page{'s' if n != 1 else ''}).")).run()

    Query(ctx, parent, render, success=rendered).run()


class ReceiptDialog(QDialog):
    """Shows the receipt; Print renders the ReportLab receipt and prints it. Enter closes it.

    The counter keeps one and shows each payment's receipt in it (``show_receipt``): a new dialog a payment
    cost a few milliseconds of the clerk's click and stayed in memory for the rest of the day."""

    def __init__(self, text: str, on_print: Callable[[], None] | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Receipt")
        self._on_print = on_print
        lay = QVBoxLayout(self)
        self.text = QPlainTextEdit(text)
        self.text.setReadOnly(True)
        font = QFont("DejaVu Sans Mono")
        font.setStyleHint(QFont.StyleHint.Monospace)
        font.setPointSize(10)
        self.text.setFont(font)
        self.text.setMinimumSize(460, 460)
        lay.addWidget(self.text)
        buttons = QDialogButtonBox()
        self.close_button = buttons.addButton("Close (Enter)", QDialogButtonBox.ButtonRole.AcceptRole)
        self.close_button.setDefault(True)
        self.print_button = buttons.addButton("&Print", QDialogButtonBox.ButtonRole.ActionRole)
        self.print_button.clicked.connect(self._print)
        self.print_button.setVisible(on_print is not None)
        buttons.accepted.connect(self.accept)
        lay.addWidget(buttons)
        self.close_button.setFocus()

    def show_receipt(self, text: str, on_print: Callable[[], None] | None) -> None:
        """Another payment's receipt in the same dialog (then ``open()`` it)."""
        self.text.setPlainText(text)
        self._on_print = on_print
        self.print_button.setVisible(on_print is not None)
        self.close_button.setFocus()

    def _print(self) -> None:
        if self._on_print is not None:
            self._on_print()


class CounterTab(QWidget):
    """Take a payment. Signals: `cases_loaded(count)`, `posted(result)`."""

    cases_loaded = Signal(int)
    posted = Signal(object)

    CASE_COLUMNS: ClassVar[list[Column]] = [
        Column("Pay", lambda r: "✔" if r[1] else "", width=34),
        Column("Citation", lambda r: r[0].citation_number, width=118),
        Column("Issued", lambda r: r[0].issued_at, "date", 86),
        Column("Plate", lambda r: f"{r[0].plate} {r[0].jurisdiction}", width=86),
        Column("Balance", lambda r: r[0].balance_cents, "money", 76),
        Column("Status", lambda r: CaseStatus(r[0].status).label, width=66),
        Column("Violation", lambda r: r[0].violation, width=150),
        Column("Owner", lambda r: r[0].owner_name or "", width=150),
    ]

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.request_id = uuid.uuid4().hex
        self.receipt_dialog: ReceiptDialog | None = None
        self._busy = False
        #: the office's currency, as the last cases, drawer or payment read said it (None before any)
        self.currency: str | None = None
        ctx.bus.subscribe(self, self._data_changed)
        lay = QHBoxLayout(self)
        left = QVBoxLayout()
        lay.addLayout(left, 3)

        find = QHBoxLayout()
        label = QLabel("&Citation or plate")
        self.lookup = QLineEdit()
        self.lookup.setPlaceholderText("Type a citation number or a plate, then Enter")
        self.lookup.setClearButtonEnabled(True)
        label.setBuddy(self.lookup)
        self.lookup.returnPressed.connect(self.find_cases)
        find.addWidget(label)
        find.addWidget(self.lookup, 1)
        left.addLayout(find)

        self.case_model = RowsModel(self.CASE_COLUMNS, ctx.tz, self)
        self.cases_table = make_table(self.case_model)
        self.cases_table.doubleClicked.connect(lambda index: self.toggle(index.row()))
        QShortcut(QKeySequence("Space"), self.cases_table, self._toggle_current)
        left.addWidget(self.cases_table, 1)
        hint = QLabel("Space ticks or unticks a case. Money goes to the oldest case first; anything paid beyond "
                      "the balance is a credit for the refund queue.")
        hint.setStyleSheet("color:#555")
        hint.setWordWrap(True)
        left.addWidget(hint)

        box = QGroupBox("Payment")
        form = QFormLayout(box)
        self.amount = QLineEdit()
        self.amount.setPlaceholderText("0.00")
        self.amount.returnPressed.connect(self.submit)
        self.amount.textChanged.connect(self._update_change)
        self.method = QComboBox()
        self.method.addItem("Cash (F2)", "cash")
        self.method.addItem("Cheque (F3)", "check")
        self.method.addItem("Card (F4)", "card")
        self.method.currentIndexChanged.connect(self._method_changed)
        self.tendered = QLineEdit()
        self.tendered.setPlaceholderText("optional: cash handed over")
        self.tendered.returnPressed.connect(self.submit)
        self.tendered.textChanged.connect(self._update_change)
        self.change = QLabel("")
        self.cheque_number = QLineEdit()
        self.cheque_number.returnPressed.connect(self.submit)
        self.card_reference = QLineEdit()
        self.card_reference.setPlaceholderText("terminal reference / authorisation")
        self.card_reference.returnPressed.connect(self.submit)
        self.card_last4 = QLineEdit()
        self.card_last4.setMaxLength(4)
        self.card_last4.setInputMask("9999;_")
        self.card_last4.setPlaceholderText("last four digits only")
        self.card_last4.returnPressed.connect(self.submit)
        self.payer = QLineEdit()
        self.payer.setPlaceholderText("optional")
        self.payer.returnPressed.connect(self.submit)
        form.addRow("&Amount", self.amount)
        form.addRow("&Method", self.method)
        form.addRow("&Tendered", self.tendered)
        form.addRow("", self.change)
        form.addRow("C&heque number", self.cheque_number)
        form.addRow("Card &reference", self.card_reference)
        form.addRow("Card last &4", self.card_last4)
        form.addRow("Pa&yer", self.payer)
        self.owed = QLabel("")
        form.addRow("Owed", self.owed)
        self.post_button = QPushButton("&Post payment (Enter)")
        self.post_button.clicked.connect(lambda _checked=False: self.submit())
        form.addRow(self.post_button)
        for row in range(form.rowCount()):  # a little room after each label: "Tendered" lost its last letter
            item = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            form_label = item.widget() if item is not None else None
            if isinstance(form_label, QLabel):
                form_label.setMinimumWidth(form_label.sizeHint().width() + 6)

        right_widget = QWidget()
        right_widget.setMaximumWidth(470)
        right = QVBoxLayout(right_widget)
        right.setContentsMargins(0, 0, 0, 0)
        right.addWidget(box)
        drawer_box = QGroupBox("My drawer today")
        drawer_lay = QVBoxLayout(drawer_box)
        self.drawer_label = QLabel("No payment taken yet today.")
        self.drawer_label.setWordWrap(True)
        drawer_lay.addWidget(self.drawer_label)
        float_row = QHBoxLayout()
        self.float_edit = QLineEdit()
        self.float_edit.setPlaceholderText("opening float, e.g. 150.00")
        self.float_button = QPushButton("Set &float")
        self.float_button.clicked.connect(self.set_float)
        float_row.addWidget(self.float_edit)
        float_row.addWidget(self.float_button)
        drawer_lay.addLayout(float_row)
        right.addWidget(drawer_box)
        self.reverse_button = QPushButton("Bounced cheque: re&verse a payment…")
        self.reverse_button.setToolTip("A supervisor reverses a payment by its receipt number, id or cheque number")
        self.reverse_button.clicked.connect(self.reverse_payment)
        self.reverse_button.setEnabled(allowed(ctx.actor.role, Permission.REVERSE_PAYMENTS))
        right.addWidget(self.reverse_button)
        right.addStretch(1)
        lay.addWidget(right_widget, 2)

        for key, index in (("F2", 0), ("F3", 1), ("F4", 2)):
            QShortcut(QKeySequence(key), self, lambda i=index: self._pick_method(i))
        QShortcut(QKeySequence("Escape"), self, self.reset)
        self._method_changed()
        can_post = allowed(ctx.actor.role, Permission.POST_PAYMENTS)
        self.post_button.setEnabled(can_post)
        self.float_button.setEnabled(can_post and ctx.actor.user_id is not None)

    # ------------------------------------------------------------- lookup
    def find_cases(self) -> None:
        text = self.lookup.text().strip()
        if not text:
            return
        app, actor = self.ctx.app, self.ctx.actor
        self.owed.setText("Looking up…")
        Query(self.ctx, self, lambda _c: payments.counter_lookup(app, actor, text),
              success=self._cases_arrived, failure=self._lookup_failed).run()

    def _lookup_failed(self, exc: BaseException) -> None:
        self.owed.setText("")
        self.case_model.set_rows([])
        self.ctx.error(exc)
        self.lookup.setFocus()
        self.lookup.selectAll()

    def _cases_arrived(self, rows: list[CounterCase]) -> None:
        self.request_id = uuid.uuid4().hex
        if rows:
            self.currency = rows[0].currency
        self.case_model.set_rows([(row, row.primary) for row in rows], self.currency)
        self._refresh_amount()
        if rows:
            self.cases_table.selectRow(0)
        self.amount.setFocus()
        self.amount.selectAll()
        self.cases_loaded.emit(len(rows))

    def toggle(self, row: int) -> None:
        item = self.case_model.row_at(row)
        if item is None:
            return
        rows = list(self.case_model.rows)
        rows[row] = (item[0], not item[1])
        self.case_model.set_rows(rows)
        self.cases_table.selectRow(row)
        self._refresh_amount()

    def _toggle_current(self) -> None:
        self.toggle(self.cases_table.currentIndex().row())

    def chosen(self) -> list[CounterCase]:
        return [case for case, ticked in self.case_model.rows if ticked]

    def _refresh_amount(self) -> None:
        owed = sum(max(c.balance_cents, 0) for c in self.chosen())
        self.amount.setText(money_text(owed) if owed else "")
        if self.currency is not None:  # (set by the cases that were looked up)
            self.owed.setText(f"{format_cents(owed, self.currency)} on {len(self.chosen())} case(s)")

    # ------------------------------------------------------------- method
    def _pick_method(self, index: int) -> None:
        self.method.setCurrentIndex(index)
        {0: self.tendered, 1: self.cheque_number, 2: self.card_reference}[index].setFocus()

    def _method_changed(self) -> None:
        method = self.method.currentData()
        self.tendered.setEnabled(method == "cash")
        self.cheque_number.setEnabled(method == "check")
        self.card_reference.setEnabled(method == "card")
        self.card_last4.setEnabled(method == "card")
        self._update_change()

    def _update_change(self) -> None:
        try:
            if self.method.currentData() != "cash" or not self.tendered.text().strip() or self.currency is None:
                self.change.setText("")
                return
            change = parse_money(self.tendered.text()) - parse_money(self.amount.text())
            self.change.setText(f"Change due: {format_cents(change, self.currency)}" if change >= 0
                                else "Not enough tendered")
        except UserError:
            self.change.setText("")

    # ------------------------------------------------------------- posting
    def submit(self, confirmed_overpaid_cents: int | None = None) -> None:
        """Enter anywhere in the form: go to the field still missing, or post. An overpayment over the
        agency's limits is refused by the service; the clerk is then asked once (`_post_failed`)."""
        if self._busy:
            return
        chosen = self.chosen()
        if not chosen:
            self.ctx.error(UserError("Look up a case first: type a citation number or plate and press Enter."))
            self.lookup.setFocus()
            return
        method = self.method.currentData()
        missing: QLineEdit | None = None
        if method == "check" and not self.cheque_number.text().strip():
            missing = self.cheque_number
        elif method == "card" and not self.card_reference.text().strip():
            missing = self.card_reference
        elif method == "card" and not self.card_last4.text().strip():
            missing = self.card_last4
        if missing is not None:
            missing.setFocus()
            return
        try:
            amount = read_money(self.amount, "amount received")
            tendered = parse_money(self.tendered.text()) if method == "cash" and self.tendered.text().strip() else None
        except UserError as exc:
            self.ctx.error(exc)
            self.amount.setFocus()
            return
        app, actor = self.ctx.app, self.ctx.actor
        ids = [c.id for c in chosen]
        versions = {c.id: c.version for c in chosen}
        request = self.request_id
        kwargs: dict[str, Any] = {
            "payer_name": self.payer.text(), "cheque_number": self.cheque_number.text() or None,
            "card_reference": self.card_reference.text() or None,
            "card_last4": self.card_last4.text().strip() or None, "request_id": request,
            "expected_versions": versions, "tendered_cents": tendered,
            "confirmed_overpaid_cents": confirmed_overpaid_cents}
        self._busy = True
        self.post_button.setEnabled(False)

        def work(_c: TaskControl) -> tuple[CounterResult, str]:
            result = payments.post_counter_payment(app, actor, ids, amount, method, **kwargs)
            text = payments.receipt_text(payments.receipt_data(app, actor, result.payment_id,
                                                               tendered_cents=tendered))
            return result, text

        Mutation(self.ctx, self, work, changes=PAYMENT_CHANGES | Changes(citation_ids=frozenset(ids)),
                 success=self._posted, failure=self._post_failed).run()

    def _post_failed(self, exc: BaseException) -> None:
        self._busy = False
        self.post_button.setEnabled(True)
        if isinstance(exc, OverpaymentNotConfirmed):
            self._confirm_overpayment(exc)
            return
        self.ctx.error(exc)

        if isinstance(exc, ConcurrencyConflict):
            self.find_cases()  # show the new balance; the clerk checks the amount and posts again
        else:
            self.amount.setFocus()

    def _confirm_overpayment(self, exc: OverpaymentNotConfirmed) -> None:
        """Ask once, naming the refund the payment creates; Yes posts it, No goes back to the amount."""
        refund = format_cents(exc.overpaid_cents, exc.currency)
        answer = QMessageBox.question(
            self, "Overpayment", f"{exc}\n\nTake it and put {refund} in the refund queue?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        if answer == QMessageBox.StandardButton.Yes:
            self.submit(confirmed_overpaid_cents=exc.overpaid_cents)
            return
        self.ctx.info(f"Not posted: the amount is {refund} more than owed. Correct it and press Enter.")
        self.amount.setFocus()
        self.amount.selectAll()

    def _posted(self, outcome: tuple[CounterResult, str]) -> None:
        result, text = outcome
        self._busy = False
        self.post_button.setEnabled(True)
        self.request_id = uuid.uuid4().hex
        self.currency = result.currency
        self.posted.emit(result)
        note = (f"Payment of {format_cents(result.amount_cents, result.currency)} posted, receipt "
                f"{result.receipt_number}")
        if result.overpaid_cents:
            note += f"; {format_cents(result.overpaid_cents, result.currency)} overpaid is in the refund queue"
        self.ctx.info(note + ".")  # the drawer, the case and the queues follow through the operation bus
        pid = result.payment_id

        def print_it() -> None:
            print_receipt(self.ctx, pid, result.receipt_number or str(pid), self)

        if self.receipt_dialog is None:
            self.receipt_dialog = ReceiptDialog(text, print_it, self)
            self.receipt_dialog.finished.connect(lambda _r: self.reset())
        else:
            self.receipt_dialog.show_receipt(text, print_it)
        self.receipt_dialog.open()

    def reset(self) -> None:
        for edit in (self.amount, self.tendered, self.cheque_number, self.card_reference, self.card_last4,
                     self.payer):
            edit.clear()
        self.case_model.set_rows([])
        self.owed.setText("")
        self.method.setCurrentIndex(0)
        # After the receipt dialog has handed focus back (to the amount field), not before.
        QTimer.singleShot(0, self._focus_lookup)

    def _focus_lookup(self) -> None:
        self.lookup.setFocus()
        self.lookup.selectAll()

    # ------------------------------------------------------------- reversal
    def reverse_payment(self) -> None:
        text, ok = QInputDialog.getText(self, "Reverse a payment", "Receipt number, payment id or cheque number:")
        if not ok or not text.strip():
            return
        app, actor = self.ctx.app, self.ctx.actor
        Query(self.ctx, self, lambda _c: payments.find_payment(app, actor, text), success=self._confirm_reversal).run()

    def _confirm_reversal(self, row: payments.PaymentRow) -> None:
        if row.status == "reversed":
            self.ctx.error(UserError(f"Payment {row.id} was already reversed ({row.reversal_reason})."))
            return
        what = (f"{payments.method_label(row.method)} payment {row.receipt_number or row.id} of "
                f"{format_cents(row.amount_cents, row.currency)} on {row.value_date:%Y-%m-%d}"
                + (f" for {', '.join(row.citation_numbers)}" if row.citation_numbers else ""))
        reason, ok = QInputDialog.getText(self, "Reverse a payment", f"{what}.\nWhy is it reversed?",
                                          text="cheque returned unpaid")
        if not ok:
            return
        app, actor, pid = self.ctx.app, self.ctx.actor, row.id

        def done(result: payments.ReversalResult) -> None:
            reopened = f"; reopened {', '.join(result.reopened)}" if result.reopened else ""
            self.ctx.info(f"Payment {pid} reversed: {format_cents(result.reinstated_cents, result.currency)} "
                          f"reinstated{reopened}; {result.letters_queued} letter(s) queued.")

        Mutation(self.ctx, self, lambda _c: payments.reverse_payment(app, actor, pid, reason), changes=PAYMENT_CHANGES,
                 success=done).run()

    # ------------------------------------------------------------- drawer
    def refresh_drawer(self) -> None:
        if self.ctx.actor.user_id is None or not allowed(self.ctx.actor.role, Permission.POST_PAYMENTS):
            self.drawer_label.setText("Counter payments are taken by a clerk signed in as themselves.")
            return
        app, actor = self.ctx.app, self.ctx.actor
        Query(self.ctx, self, lambda _c: daily_close.my_drawer(app, actor), success=self._show_drawer).run()

    def _data_changed(self, changes: Changes, initiator: object) -> None:
        """Payments changed: the drawer is read again if the change was made here or the tab is showing
        (it is read whenever the tab is shown anyway). A case on the counter changed elsewhere (another
        screen, another workstation): its balance is read again, keeping the ticks and what was typed."""
        if changes.payments and (initiated_by(initiator, self) or self.isVisible()):
            self.refresh_drawer()
        listed = [case for case, _ticked in self.case_model.rows]
        if listed and not initiated_by(initiator, self) and any(changes.touches_citation(c.id) for c in listed):
            self._reread_listed(listed)

    def _reread_listed(self, listed: list[CounterCase]) -> None:
        app, actor = self.ctx.app, self.ctx.actor
        text = self.lookup.text().strip() or listed[0].citation_number
        ticked = {case.id for case in self.chosen()}
        typed_owed = self.amount.text() == money_text(sum(max(c.balance_cents, 0) for c in self.chosen()))

        def arrived(rows: list[CounterCase]) -> None:
            if [c.id for c, _t in self.case_model.rows] != [c.id for c in listed]:
                return  # the clerk has looked up something else meanwhile
            self.currency = rows[0].currency if rows else self.currency
            self.case_model.set_rows([(row, row.id in ticked) for row in rows], self.currency)
            if typed_owed:
                self._refresh_amount()  # the amount was the balance owed: it follows the new balance
            self.ctx.info("A case on the counter was changed elsewhere: its balance was read again.")

        def failed(exc: BaseException) -> None:
            if not isinstance(exc, UserError):
                self.ctx.error(exc)
            elif [c.id for c, _t in self.case_model.rows] == [c.id for c in listed]:
                self.case_model.set_rows([])  # nothing is owed any more: said in one sentence
                self.owed.setText("")
                self.ctx.info(f"Changed elsewhere: {exc}")

        Query(self.ctx, self, lambda _c: payments.counter_lookup(app, actor, text), success=arrived,
              failure=failed).run()

    def _show_drawer(self, drawer: daily_close.DrawerSummary | None) -> None:
        if drawer is None:
            self.drawer_label.setText("No payment taken yet today; the drawer opens with the default float on the "
                                      "first one (or set the float now).")
            return
        state = "closed" if drawer.is_closed else "open"
        self.currency = drawer.currency

        def money(cents: int) -> str:
            return format_cents(cents, drawer.currency)

        self.drawer_label.setText(
            f"<b>{drawer.business_date:%A %d %B}</b> ({state})<br>"
            f"Float {money(drawer.opening_float_cents)} · {drawer.payment_count} payment(s)<br>"
            f"Cash {money(drawer.cash_cents)} · Cheques {money(drawer.cheques_cents)} · "
            f"Cards {money(drawer.card_cents)}<br>"
            f"Expected in the drawer: <b>{money(drawer.expected_cash_cents)}</b> cash and "
            f"<b>{money(drawer.expected_cheques_cents)}</b> in cheques")
        if not self.float_edit.hasFocus():
            self.float_edit.setText(money_text(drawer.opening_float_cents))

    def set_float(self) -> None:
        try:
            cents = read_money(self.float_edit, "opening float")
        except UserError as exc:
            self.ctx.error(exc)
            return
        app, actor = self.ctx.app, self.ctx.actor
        Mutation(self.ctx, self, lambda _c: daily_close.open_drawer(app, actor, cents), changes=Changes(payments=True),
                 success=self._show_drawer).run()
