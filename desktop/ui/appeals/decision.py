"""The hearing officer's decision panel: uphold, dismiss or reduce, with the new amount and a written reason;
what the choice means for the motorist is said in plain words before and in the confirmation.

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
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop.domain import appeals as rules
from desktop.domain.errors import UserError
from desktop.domain.ledger import format_cents, parse_money
from desktop.domain.roles import Permission, allowed
from desktop.services import appeals
from desktop.services.appeals.packet import AppealWorkspace
from desktop.ui.appeals.deadline_text import GREY, RED
from desktop.ui.appeals.widgets import appeal_changes
from desktop.ui.common.operations import Mutation
from desktop.ui.common.widgets import local_time

#: the choices, in the services' vocabulary (the citation is upheld, dismissed or reduced), each naming both
#: what happens to the appeal and to the citation so that "dismiss" cannot be read as "dismiss the appeal"
CHOICES = (
    ("upheld", "&Uphold: the citation stands (appeal rejected)"),
    ("dismissed", "&Dismiss: cancel the citation (appeal granted)"),
    ("reduced", "&Reduce the fine (appeal partly granted) to"),
)
#: lines the explanation always reserves, so that choosing an option never moves the buttons under the mouse
EFFECT_LINES = 2


class DecisionPanel(QGroupBox):
    """Uphold, dismiss or reduce, with the new amount and a written reason. Signal `decided(DecisionResult)`.

    What the choice means runs across the top in a fixed height of two lines, so that choosing an option
    never moves the options, the reasons or the button (a click meant for one landed on another).
    """

    decided = Signal(object)

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__("Decision", parent)
        self.ctx = ctx
        self.ws: AppealWorkspace | None = None
        self.may_decide = allowed(ctx.actor.role, Permission.DECIDE_APPEALS)
        #: asked before a decision is recorded; tests replace it
        self.confirm = self._confirm
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 2, 8, 6)
        outer.setSpacing(3)
        self.effect = QLabel()
        self.effect.setWordWrap(True)
        self.effect.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.effect.setStyleSheet(f"color:{GREY}")
        self.effect.setFixedHeight(self.effect.fontMetrics().lineSpacing() * EFFECT_LINES + 2)
        self.effect.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        outer.addWidget(self.effect)
        lay = QHBoxLayout()
        outer.addLayout(lay)
        choices = QVBoxLayout()
        choices.setSpacing(2)
        self.group = QButtonGroup(self)
        buttons = [QRadioButton(text) for _key, text in CHOICES]
        self.uphold, self.dismiss, self.reduce = buttons
        for i, b in enumerate(buttons):
            self.group.addButton(b, i)
            if b is not self.reduce:
                choices.addWidget(b)
        reduce_row = QHBoxLayout()
        reduce_row.addWidget(self.reduce)
        self.amount = QLineEdit()
        self.amount.setPlaceholderText("e.g. 35.00")
        self.amount.setMaximumWidth(90)
        self.amount.setEnabled(False)
        self.reduce.toggled.connect(self.amount.setEnabled)
        self.reduce.toggled.connect(lambda on: on and self.amount.setFocus())
        self.amount.textChanged.connect(lambda _t: self._explain())
        reduce_row.addWidget(self.amount)
        reduce_row.addStretch(1)
        choices.addLayout(reduce_row)
        lay.addLayout(choices)
        self.reason = QPlainTextEdit()
        self.reason.setPlaceholderText("Reasons for the decision (printed in the letter to the appellant)")
        self.reason.setTabChangesFocus(True)
        self.reason.setMinimumWidth(140)
        self.reason.setFixedHeight(self.reason.fontMetrics().lineSpacing() * 3 + 12)
        lay.addWidget(self.reason, 1)
        self.button = QPushButton("Record\ndecision\n(Ctrl+Return)")
        self.button.setToolTip("Record the decision (Ctrl+Return); you are asked to confirm it first")
        self.button.clicked.connect(self.decide)
        self.button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        self.button.setFixedHeight(self.reason.height())
        # its height is its content's: the space above it goes to the evidence and the appeal, not here
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        lay.addWidget(self.button)
        self.group.idToggled.connect(lambda _i, _on: self._explain())
        QShortcut(QKeySequence("Ctrl+Return"), self, self.decide,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.set_workspace(None)

    def set_workspace(self, ws: AppealWorkspace | None) -> None:
        self.ws = ws
        pending = ws is not None and ws.is_pending
        deemed = ws is not None and deemed_by_law(ws)
        enabled = pending and self.may_decide and not deemed
        for w in (self.uphold, self.dismiss, self.reduce, self.reason, self.button):
            w.setEnabled(enabled)
        self.amount.setEnabled(enabled and self.reduce.isChecked())
        self.effect.setTextFormat(Qt.TextFormat.RichText)
        # the choices show this appeal's decision, or none: never the previous appeal's
        self._show_choice(ws.decision if ws is not None and not pending else None,
                          ws.reduced_fine_cents if ws is not None else None,
                          (ws.decision_reason or "") if ws is not None and not pending else "")
        if ws is None:
            self.effect.setText("")
            return
        cur = ws.currency
        if not pending:
            who = ws.decided_by_name or "—"
            if ws.decision == "dismissed":
                now_owed = "the citation is cancelled; nothing is owed."
            elif ws.balance_cents > 0:
                now_owed = f"the motorist now owes {format_cents(ws.balance_cents, cur)}."
            else:
                now_owed = "nothing more is owed."
            self.effect.setText(f"<b>{html.escape(decided_words(ws.status, ws.decision))}</b> on "
                                f"{local_time(ws.decided_at, self.ctx.tz)} by {html.escape(who)}: {now_owed} "
                                f"<i>{html.escape(ws.decision_reason or '')}</i>")
            self.effect.setToolTip(ws.decision_reason or "")
            return
        if deemed and ws.decide_by is not None:
            self.effect.setText(
                f"<b style='color:{RED}'>Deemed accepted by law on "
                f"{rules.deemed_accepted_on(ws.decide_by).isoformat()}</b>: not decided by "
                f"{ws.decide_by.isoformat()}. The citation is cancelled at the next daily run; a decision can no "
                f"longer be recorded.")
            return
        if not self.may_decide:
            self.effect.setText("Only a hearing officer may decide an appeal.")
            return
        self._explain()

    def _show_choice(self, decision: str | None, reduced_cents: int | None, reason: str) -> None:
        self.group.setExclusive(False)
        for (key, _text), b in zip(CHOICES, (self.uphold, self.dismiss, self.reduce), strict=True):
            b.setChecked(key == decision)
        self.group.setExclusive(True)
        self.amount.setText(f"{reduced_cents / 100:.2f}" if decision == "reduced" and reduced_cents else "")
        self.reason.setPlainText(reason)

    def _choice(self) -> str | None:
        checked = self.group.checkedId()
        return CHOICES[checked][0] if 0 <= checked < len(CHOICES) else None

    def _amount(self) -> int | None:
        """The reduced amount typed so far, or None while it is empty or not an amount."""
        try:
            return parse_money(self.amount.text()) if self.amount.text().strip() else None
        except (UserError, ValueError):
            return None

    def outcome(self) -> str:
        """The chosen decision's outcome for the motorist, in plain words (empty while none is chosen)."""
        ws, choice = self.ws, self._choice()
        if ws is None or choice is None:
            return ""
        try:
            return rules.outcome_text(choice, ws.charges_cents, ws.paid_cents, ws.currency,
                                   self._amount() if choice == "reduced" else None)
        except UserError as exc:  # a reduction to more than is owed: say so in place of the outcome
            return str(exc)

    def _explain(self) -> None:
        ws = self.ws
        if ws is None or not ws.is_pending or deemed_by_law(ws):
            return
        cur = ws.currency
        choice = self._choice()
        nxt = (f" The appellant may then go to the {ws.next_level_if_upheld[0]} by "
               f"{ws.next_level_if_upheld[1].isoformat()}." if ws.next_level_if_upheld else "")
        if choice is None:
            text = (f"Currently owed {format_cents(ws.balance_cents, cur)} (charges "
                    f"{format_cents(ws.charges_cents, cur)}, paid {format_cents(ws.paid_cents, cur)}). "
                    f"Choose a decision.")
        elif choice == "dismissed":
            text = self.outcome() + " The case is closed."
        elif choice == "reduced" and self._amount() is None:
            text = (f"Type the new amount (below {format_cents(ws.charges_cents, cur)}); anything paid above it is "
                    f"refunded.{nxt}")
        else:
            text = self.outcome() + " Penalties and notices resume." + nxt
        self.effect.setTextFormat(Qt.TextFormat.PlainText)
        self.effect.setText(text)
        self.effect.setToolTip(text)

    @staticmethod
    def _confirm(text: str) -> bool:
        return QMessageBox.question(None, "Record the decision", text) == QMessageBox.StandardButton.Yes

    def decide(self) -> None:
        ws = self.ws
        if ws is None or not self.button.isEnabled():
            return
        choice = self._choice()
        try:
            if choice is None:
                raise UserError("Choose uphold, dismiss or reduce.")
            amount = None
            if choice == "reduced":
                if not self.amount.text().strip():
                    raise UserError("Give the new amount for a reduced fine.")
                amount = parse_money(self.amount.text())
            outcome = rules.outcome_text(choice, ws.charges_cents, ws.paid_cents, ws.currency,
                                      amount)
        except (UserError, ValueError) as exc:
            self.ctx.error(exc if isinstance(exc, UserError) else UserError(str(exc)))
            return
        reason = self.reason.toPlainText()
        if not self.confirm(f"Appeal {ws.number} on citation {ws.citation_number}:\n\n{outcome}\n\n"
                            f"This is recorded with your name and cannot be undone here."):
            return
        app, actor, appeal_id = self.ctx.app, self.ctx.actor, ws.appeal_id
        self.button.setEnabled(False)

        def failed(exc: BaseException) -> None:
            self.button.setEnabled(True)
            self.ctx.error(exc)

        Mutation(self.ctx, self, lambda _c: appeals.decide_appeal(app, actor, appeal_id, choice, reason, amount),
                 changes=appeal_changes(appeal_id), success=self.decided.emit, failure=failed).run()


def deemed_by_law(ws: AppealWorkspace) -> bool:
    """A pending contest whose deadline makes it accepted by law already (England, day 57 on): shown so,
    with the decision controls off; the service refuses a decision too."""
    return (ws.is_pending and ws.deemed_rule and ws.days_left is not None and ws.days_left < 0)


def decided_words(status: str, decision: str | None) -> str:
    """How a closed appeal is named on screen: "Appeal rejected", "Appeal granted", "Deemed accepted" ..."""
    if status == "deemed_accepted":
        return "Deemed accepted by law"
    if status == "withdrawn":
        return "Withdrawn"
    return {"upheld": "Appeal rejected (citation upheld)", "dismissed": "Appeal granted (citation cancelled)",
            "reduced": "Appeal partly granted (fine reduced)"}.get(decision or "", status.replace("_", " "))
