"""The Payments screen's refund queue: overpaid cases, the refund requests and a second person's approval.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QFormLayout, QHBoxLayout, QInputDialog, QLabel, QLineEdit, QPushButton, QWidget

from desktop.domain.errors import UserError
from desktop.domain.ledger import format_cents, parse_money
from desktop.domain.lifecycle import CaseStatus
from desktop.domain.roles import Permission
from desktop.services.payments import refunds
from desktop.ui.common.operations import Changes, Mutation, Query
from desktop.ui.common.tasks import TaskControl
from desktop.ui.common.widgets import ok_cancel
from desktop.ui.context import UiContext
from desktop.ui.payments.common import (
    PAYMENT_CHANGES,
    Column,
    PaymentsTab,
    RowsModel,
    make_table,
    money_text,
    note_label,
    selected_rows,
)


class RequestRefundDialog(QDialog):
    def __init__(self, row: refunds.RefundQueueRow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Refund request — {row.citation_number}")
        form = QFormLayout(self)
        form.addRow(QLabel(f"Credit held on the case: <b>{format_cents(row.credit_cents, row.currency)}</b>"))
        self.amount = QLineEdit(money_text(row.credit_cents))
        self.payee = QLineEdit(row.last_payer or row.owner_name or "")
        self.reason = QLineEdit("Overpayment")
        form.addRow("&Amount", self.amount)
        form.addRow("&Payee", self.payee)
        form.addRow("&Reason", self.reason)
        form.addRow(ok_cancel(self.accept, self.reject))


class RefundsTab(PaymentsTab):
    """The refund queue. Signal `loaded(count)`."""

    loaded = Signal(int)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        lay = self.summary_column()
        self.check = note_label("")
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
        lay.addWidget(note_label("A refund is paid only after a supervisor other than the person who requested it "
                            "approves it; approval posts the refund to the case ledger and queues a refund letter."))
        self._update_buttons()

    def load(self) -> None:
        if not self.can(Permission.REQUEST_REFUNDS):
            self.summary.setText("Your role does not handle refunds.")
            return
        app, actor = self.ctx.app, self.ctx.actor

        def work(_c: TaskControl) -> tuple[list[refunds.RefundQueueRow], list[str]]:
            return refunds.refund_queue(app, actor), refunds.unnoticed_overpayments(app, actor)

        Query(self.ctx, self, work, success=self._arrived).run()

    def _arrived(self, result: tuple[list[refunds.RefundQueueRow], list[str]]) -> None:
        rows, problems = result
        self.model.set_rows(rows, rows[0].currency if rows else None)
        waiting = sum(1 for r in rows if r.refund_id is None)
        pending = len(rows) - waiting
        total = sum(r.credit_cents for r in rows)
        self.summary.setText(f"<b>{len(rows)}</b> overpaid case(s) hold <b>{format_cents(total, rows[0].currency)}"
                             f"</b> of credit: {pending} request(s) waiting for approval, {waiting} without a request "
                             f"yet." if rows else "No case is overpaid.")
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
        Mutation(self.ctx, self, lambda _c: refunds.request_refund(app, actor, cid, amount_cents=amount,
                                                                   payee_name=payee, reason=reason),
                 changes=PAYMENT_CHANGES | Changes(citation_ids=frozenset({cid})),
                 success=self.then_tell(lambda rid: f"Refund request {rid} sent for approval.")).run()

    def approve(self) -> None:
        row = self._current()
        if row is None or row.refund_id is None:
            return
        app, actor, rid = self.ctx.app, self.ctx.actor, row.refund_id
        Mutation(self.ctx, self, lambda _c: refunds.approve_refund(app, actor, rid), changes=PAYMENT_CHANGES,
                 success=self.then_tell(lambda _r: f"Refund {rid} approved; the letter is queued.")).run()

    def reject(self) -> None:
        row = self._current()
        if row is None or row.refund_id is None:
            return
        note, ok = QInputDialog.getText(self, "Reject refund", "Why is the refund rejected?")
        if not ok:
            return
        app, actor, rid = self.ctx.app, self.ctx.actor, row.refund_id
        Mutation(self.ctx, self, lambda _c: refunds.reject_refund(app, actor, rid, note), changes=PAYMENT_CHANGES,
                 success=self.then_tell(lambda _r: f"Refund {rid} rejected.")).run()
