"""The Payments screen's payment plans: enrol a case and check the instalments that fell due.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QDialog, QFormLayout, QHBoxLayout, QLineEdit, QPushButton, QSpinBox, QWidget

from desktop.domain.roles import Permission
from desktop.services.cases import queries as cases
from desktop.services.payments import plans as payment_plans
from desktop.ui.common.operations import Mutation, Query
from desktop.ui.common.tasks import TaskControl
from desktop.ui.common.widgets import ok_cancel
from desktop.ui.context import UiContext
from desktop.ui.payments.common import PAYMENT_CHANGES, Column, PaymentsTab, RowsModel, make_table, note_label


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
        form.addRow(ok_cancel(self.accept, self.reject))


class PlansTab(PaymentsTab):
    """Payment plans and the instalment check. Signal `loaded(count)`."""

    loaded = Signal(int)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        lay = self.summary_column()
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
        self.result = note_label("")
        lay.addWidget(self.result)

    def load(self) -> None:
        app, actor = self.ctx.app, self.ctx.actor
        Query(self.ctx, self, lambda _c: payment_plans.plans_list(app, actor), success=self._arrived).run()

    def _arrived(self, rows: list[payment_plans.PlanRow]) -> None:
        self.model.set_rows(rows, rows[0].currency if rows else None)
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

        Mutation(self.ctx, self, work, changes=PAYMENT_CHANGES,
                 success=self.then_tell(lambda pid: f"Payment plan {pid} set up.")).run()

    def _checked(self, result: payment_plans.PlanCheckResult) -> None:
        self.result.setText("<br>".join(result.lines()))  # the list follows through the operation bus

    def check(self) -> None:
        app, actor = self.ctx.app, self.ctx.actor
        Mutation(self.ctx, self, lambda _c: payment_plans.check_plans(app, actor), changes=PAYMENT_CHANGES,
                 success=self._checked).run()
