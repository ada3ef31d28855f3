"""The hearing officer's decision panel: uphold, dismiss or reduce, with the new amount and a written reason.

Keys: Alt+U / Alt+D / Alt+R choose uphold, dismiss or reduce and Ctrl+Return decides.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.errors import UserError
from desktop.domain.ledger import format_cents, parse_money
from desktop.domain.roles import Permission, allowed
from desktop.services import appeals
from desktop.services.appeals.packet import AppealWorkspace
from desktop.ui.appeals.deadline_text import GREY, currency_for
from desktop.ui.appeals.widgets import appeal_changes
from desktop.ui.common.operations import Mutation
from desktop.ui.common.widgets import local_time


class DecisionPanel(QGroupBox):
    """Uphold, dismiss or reduce, with the new amount and a written reason. Signal `decided(DecisionResult)`."""

    decided = Signal(object)

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__("Decision", parent)
        self.ctx = ctx
        self.ws: AppealWorkspace | None = None
        self.may_decide = allowed(ctx.actor.role, Permission.DECIDE_APPEALS)
        #: asked before a decision is recorded; tests replace it
        self.confirm = self._confirm
        lay = QVBoxLayout(self)
        row = QHBoxLayout()
        self.group = QButtonGroup(self)
        self.uphold = QRadioButton("&Uphold")
        self.dismiss = QRadioButton("&Dismiss")
        self.reduce = QRadioButton("&Reduce to")
        for i, b in enumerate((self.uphold, self.dismiss, self.reduce)):
            self.group.addButton(b, i)
            row.addWidget(b)
        self.amount = QLineEdit()
        self.amount.setPlaceholderText("e.g. 35.00")
        self.amount.setMaximumWidth(110)
        self.amount.setEnabled(False)
        self.reduce.toggled.connect(self.amount.setEnabled)
        self.reduce.toggled.connect(lambda on: on and self.amount.setFocus())
        row.addWidget(self.amount)
        row.addStretch(1)
        lay.addLayout(row)
        self.effect = QLabel()
        self.effect.setWordWrap(True)
        self.effect.setStyleSheet(f"color:{GREY}")
        lay.addWidget(self.effect)
        self.reason = QPlainTextEdit()
        self.reason.setPlaceholderText("Reasons for the decision (printed in the letter to the appellant)")
        self.reason.setTabChangesFocus(True)
        self.reason.setFixedHeight(62)
        lay.addWidget(self.reason)
        self.button = QPushButton("Record decision  (Ctrl+Return)")
        self.button.clicked.connect(self.decide)
        lay.addWidget(self.button)
        self.group.idToggled.connect(lambda _i, _on: self._explain())
        QShortcut(QKeySequence("Ctrl+Return"), self, self.decide,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.set_workspace(None)

    def set_workspace(self, ws: AppealWorkspace | None) -> None:
        self.ws = ws
        pending = ws is not None and ws.is_pending
        enabled = pending and self.may_decide
        for w in (self.uphold, self.dismiss, self.reduce, self.reason, self.button):
            w.setEnabled(enabled)
        self.amount.setEnabled(enabled and self.reduce.isChecked())
        if ws is None:
            self.effect.setText("")
            return
        if not pending:
            who = ws.decided_by_name or "—"
            self.effect.setText(f"<b>{(ws.decision or ws.status).upper()}</b> on "
                                f"{local_time(ws.decided_at, self.ctx.tz)} by {html.escape(who)}: "
                                f"{html.escape(ws.decision_reason or '')}")
            self.effect.setTextFormat(Qt.TextFormat.RichText)
            return
        if not self.may_decide:
            self.effect.setText("Only a hearing officer may decide an appeal.")
            return
        self.group.setExclusive(False)
        for b in (self.uphold, self.dismiss, self.reduce):
            b.setChecked(False)
        self.group.setExclusive(True)
        self.amount.clear()
        self.reason.clear()
        self._explain()

    def _explain(self) -> None:
        ws = self.ws
        if ws is None or not ws.is_pending:
            return
        cur = currency_for(ws.profile_code)
        owed = format_cents(ws.charges_cents, cur)
        paid = format_cents(ws.paid_cents, cur)
        nxt = (f" The appellant may then go to the {ws.next_level_if_upheld[0]} by "
               f"{ws.next_level_if_upheld[1].isoformat()}." if ws.next_level_if_upheld else "")
        text = {
            0: f"The citation stands: {owed} owed ({paid} paid); penalties and notices resume.{nxt}",
            1: f"The case is closed; charges of {owed} are cancelled"
               + (f" and {paid} is refunded." if ws.paid_cents > 0 else "."),
            2: f"Charges of {owed} are lowered to the amount given (an adjustment in the ledger); anything paid "
               f"above it is refunded.{nxt}",
        }.get(self.group.checkedId(), f"Currently owed {owed}, paid {paid}. Choose a decision.")
        self.effect.setTextFormat(Qt.TextFormat.PlainText)
        self.effect.setText(text)

    @staticmethod
    def _confirm(text: str) -> bool:
        return QMessageBox.question(None, "Record the decision", text) == QMessageBox.StandardButton.Yes

    def decide(self) -> None:
        ws = self.ws
        if ws is None or not self.button.isEnabled():
            return
        choice = {0: "upheld", 1: "dismissed", 2: "reduced"}.get(self.group.checkedId())
        try:
            if choice is None:
                raise UserError("Choose uphold, dismiss or reduce.")
            amount = None
            if choice == "reduced":
                if not self.amount.text().strip():
                    raise UserError("Give the new amount for a reduced fine.")
                amount = parse_money(self.amount.text())
        except (UserError, ValueError) as exc:
            self.ctx.error(exc if isinstance(exc, UserError) else UserError(str(exc)))
            return
        reason = self.reason.toPlainText()
        words = {"upheld": "uphold the citation", "dismissed": "dismiss the citation and close the case",
                 "reduced": f"reduce the amount to {format_cents(amount or 0, currency_for(ws.profile_code))}"}
        if not self.confirm(f"Appeal {ws.number}: {words[choice]}? This is recorded with your name and cannot "
                            f"be undone here."):
            return
        app, actor, appeal_id = self.ctx.app, self.ctx.actor, ws.appeal_id
        self.button.setEnabled(False)

        def failed(exc: BaseException) -> None:
            self.button.setEnabled(True)
            self.ctx.error(exc)

        Mutation(self.ctx, self, lambda _c: appeals.decide_appeal(app, actor, appeal_id, choice, reason, amount),
                 changes=appeal_changes(appeal_id), success=self.decided.emit, failure=failed).run()
