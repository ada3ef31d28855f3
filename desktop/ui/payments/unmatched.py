"""The Payments screen's unmatched queue: pick a payment that matched no case, find the case, assign it
(or reverse the payment).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QInputDialog, QLabel, QLineEdit, QPushButton, QSplitter, QVBoxLayout, QWidget

from desktop.domain.errors import UserError
from desktop.domain.ledger import format_cents
from desktop.domain.lifecycle import CaseStatus
from desktop.domain.roles import Permission
from desktop.services.cases import queries as cases
from desktop.services.core import settings
from desktop.services.payments import posting as payments
from desktop.services.payments.posting import source_label
from desktop.ui.common.operations import Changes, Mutation, Query
from desktop.ui.common.tasks import TaskControl
from desktop.ui.context import UiContext
from desktop.ui.payments.common import PAYMENT_CHANGES, Column, PaymentsTab, RowsModel, make_table, selected_rows


class UnmatchedTab(PaymentsTab):
    """The unmatched queue: pick a payment, find the case, assign. Signal `loaded(count)`, `matched(id)`."""

    loaded = Signal(int)
    matched = Signal(int)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        lay = self.summary_column()
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
        QShortcut(QKeySequence("Ctrl+Return"), self, self.assign)

    def load(self) -> None:
        app, actor = self.ctx.app, self.ctx.actor
        if not self.can(Permission.MATCH_PAYMENTS):
            self.summary.setText("Your role does not match payments.")
            return
        Query(self.ctx, self, lambda _c: payments.unmatched_payments(app, actor), success=self._arrived).run()

    def _arrived(self, rows: list[payments.PaymentRow]) -> None:
        self.model.set_rows(rows, rows[0].currency if rows else None)
        total = sum(r.amount_cents for r in rows)
        self.summary.setText(
            f"<b>{len(rows)}</b> payment(s) for <b>{format_cents(total, rows[0].currency)}</b> wait to be matched. "
            f"Select one, find its case on the right (Enter), select the case(s) and press Ctrl+Enter." if rows else
            "The unmatched queue is empty: every payment received is applied to a case.")
        if rows:
            self.table.selectRow(0)
        self.loaded.emit(len(rows))

    def _payment_chosen(self) -> None:
        rows = selected_rows(self.table)
        if rows and not self.search.text():
            self.search.setPlaceholderText(f"Find the case for {format_cents(rows[0].amount_cents, rows[0].currency)} "
                                           f"({rows[0].reference or 'no reference'})")

    def find_case(self) -> None:
        text = self.search.text().strip()
        if not text:
            return
        app, actor = self.ctx.app, self.ctx.actor

        def work(_c: TaskControl) -> tuple[list[cases.CaseRow], str]:
            # The balances in the office's currency, as the payments they are matched to (not in each case
            # profile's, as the case screens show them: the office takes one currency, nothing is converted).
            return cases.search_cases(app, actor, text, 100), settings.read_office_currency(app)

        Query(self.ctx, self, work, success=self._cases_arrived).run()

    def _cases_arrived(self, found: tuple[list[cases.CaseRow], str]) -> None:
        rows, currency = found
        self.case_model.set_rows(rows, currency)
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
        pid, ids, note, currency = pay[0].id, [c.id for c in chosen], self.note_edit.text(), pay[0].currency

        def done(allocations: list[payments.Allocation]) -> None:
            self.ctx.info(f"Payment {pid} applied to " + ", ".join(
                f"{a.citation_number} ({format_cents(a.applied_cents, currency)})" for a in allocations) + ".")
            self.note_edit.clear()
            self.case_model.set_rows([])
            self.search.clear()
            self.matched.emit(pid)  # the queue follows through the operation bus

        Mutation(self.ctx, self, lambda _c: payments.match_by_hand(app, actor, pid, ids, note),
                 changes=PAYMENT_CHANGES | Changes(citation_ids=frozenset(ids)), success=done).run()

    def reverse(self) -> None:
        pay = selected_rows(self.table)
        if not pay:
            return
        reason, ok = QInputDialog.getText(self, "Reverse payment",
                                          f"Why is payment {pay[0].id} of "
                                          f"{format_cents(pay[0].amount_cents, pay[0].currency)} "
                                          f"reversed?")
        if not ok:
            return
        app, actor, pid = self.ctx.app, self.ctx.actor, pay[0].id
        Mutation(self.ctx, self, lambda _c: payments.reverse_payment(app, actor, pid, reason), changes=PAYMENT_CHANGES,
                 success=self.then_tell(lambda _r: f"Payment {pid} reversed.")).run()
