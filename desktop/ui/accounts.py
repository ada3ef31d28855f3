"""Your own account and the administrators' view of everyone's: change your password, reset another's, and
the sign-in events (failed sign-ins, lockouts, sign-outs, locked screens) from the audit trail.

The password checks (argon2id, about 0.6 s) run on the task runner; the services enforce the policy and the
permissions, these windows only ask and show the answer.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.errors import UserError
from desktop.domain.passwords import MIN_LENGTH
from desktop.domain.roles import Permission, allowed
from desktop.services.admin import users
from desktop.services.admin.listing import sign_in_events
from desktop.ui.common.operations import Changes, Mutation, Query
from desktop.ui.common.tasks import TaskRunner
from desktop.ui.common.widgets import local_time

POLICY_TEXT = (f"At least {MIN_LENGTH} characters; not your username or name, and not one of the 10,000 most "
               "common passwords. Spaces and any letters are fine: a few words make a good password.")


def _password_field() -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    return field


def _error_label() -> QLabel:
    label = QLabel("")
    label.setStyleSheet("color:#b71c1c")
    label.setWordWrap(True)
    return label


class ChangePasswordDialog(QDialog):
    """Change the password of `username`, proved by the current one (given as `current` when the sign-in
    window has just checked it: an administrator's reset that must be replaced). Signal: `changed(new)`."""

    changed = Signal(str)

    def __init__(self, app: Any, username: str, runner: TaskRunner, *, current: str | None = None,
                 reason: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.app, self.username, self.runner = app, username, runner
        self.setWindowTitle("Curbdesk — change password")
        self.setMinimumWidth(440)
        lay = QVBoxLayout(self)
        intro = QLabel(reason or f"Choose a new password for <b>{username}</b>.")
        intro.setWordWrap(True)
        lay.addWidget(intro)
        form = QFormLayout()
        self.current = _password_field()
        self.new = _password_field()
        self.again = _password_field()
        if current is None:
            form.addRow("&Current password", self.current)
        else:
            self.current.setText(current)
        form.addRow("&New password", self.new)
        form.addRow("New password &again", self.again)
        lay.addLayout(form)
        policy = QLabel(POLICY_TEXT)
        policy.setWordWrap(True)
        policy.setStyleSheet("color:#555")
        lay.addWidget(policy)
        self.error = _error_label()
        lay.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Change password")
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        (self.new if current is not None else self.current).setFocus()

    def submit(self) -> None:
        new = self.new.text()
        if new != self.again.text():
            self.error.setText("The two new passwords differ; type the new one twice.")
            return
        current = self.current.text()
        app, name = self.app, self.username
        self.ok.setEnabled(False)
        self.error.setText("")

        def failed(exc: BaseException) -> None:
            self.ok.setEnabled(True)
            self.error.setText(str(exc) if isinstance(exc, UserError) else f"Unexpected error: {exc}")

        def done(_r: object) -> None:
            self.accept()
            self.changed.emit(new)

        Query(self.runner, self, lambda _c: users.change_own_password(app, name, current, new,
                                                                       via="change password window"),
              success=done, failure=failed).run()


class ResetPasswordDialog(QDialog):
    """An administrator sets a temporary password for `username`, who must replace it at the next sign-in."""

    def __init__(self, username: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Reset the password of {username}")
        lay = QVBoxLayout(self)
        intro = QLabel(f"Give <b>{username}</b> a temporary password (tell it to them in person). They must choose "
                       "their own at their next sign-in; a lockout ends now.")
        intro.setWordWrap(True)
        lay.addWidget(intro)
        form = QFormLayout()
        self.password = _password_field()
        self.again = _password_field()
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("e.g. forgot it, phoned the help desk")
        form.addRow("Temporary password", self.password)
        form.addRow("Again", self.again)
        form.addRow("Why", self.reason)
        lay.addLayout(form)
        self.error = _error_label()
        lay.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Reset password")
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def _check(self) -> None:
        if self.password.text() != self.again.text():
            self.error.setText("The two passwords differ; type the temporary password twice.")
            return
        self.accept()


def reset_password(ctx: Any, owner: QWidget, username: str) -> None:
    """Users tab › Reset password…: ask, then reset on the task runner (the service checks the permission)."""
    dlg = ResetPasswordDialog(username, owner)
    if dlg.exec() != QDialog.DialogCode.Accepted:
        return
    new, reason = dlg.password.text(), dlg.reason.text().strip()
    Mutation(ctx, owner, lambda _c: users.reset_password(ctx.app, ctx.actor, username, new, reason),
             changes=Changes(users=True),
             success=lambda _r: ctx.info(f"Password of {username} reset; they choose a new one at their next "
                                         "sign-in.")).run()


ACTION_TEXT = {"signed_in": "signed in", "sign_in_failed": "FAILED sign-in", "locked": "LOCKED OUT",
               "unlocked": "lockout ended", "signed_out": "signed out", "screen_locked": "screen locked",
               "password_changed": "changed password", "password_reset": "password reset",
               "enabled": "account enabled", "disabled": "account disabled"}


class SignInEventsTab(QWidget):
    """Administration › Sign-ins: who signed in and out, failed sign-ins and lockouts (newest first), from
    the audit trail. Signal: `loaded(count)`."""

    loaded = Signal(int)

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        lay = QVBoxLayout(self)
        row = QHBoxLayout()
        row.addWidget(QLabel("The newest 500 sign-in events from the audit trail."))
        row.addStretch(1)
        self.failures_only = QCheckBox("Failed sign-ins and lockouts only")
        self.failures_only.toggled.connect(lambda _on: self.refresh())
        row.addWidget(self.failures_only)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(lambda _c=False: self.refresh())
        row.addWidget(refresh)
        lay.addLayout(row)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["When", "What", "Account", "By", "Details"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        lay.addWidget(self.table)
        self.may = allowed(ctx.actor.role, Permission.MANAGE_USERS)
        self.events: list[Any] = []

    def refresh(self) -> None:
        if not self.may:
            self.loaded.emit(0)
            return
        only = self.failures_only.isChecked()
        Query(self.ctx, self, lambda _c: sign_in_events(self.ctx.app, self.ctx.actor, failures_only=only),
              success=self._show).run()

    def _show(self, events: list[Any]) -> None:
        self.events = events
        self.table.setRowCount(len(events))
        for i, e in enumerate(events):
            texts = [local_time(e.at, self.ctx.tz, "%Y-%m-%d %H:%M:%S"), ACTION_TEXT.get(e.action, e.action),
                     e.account, e.by, e.detail]
            for col, text in enumerate(texts):
                item = QTableWidgetItem(text)
                if e.action in ("sign_in_failed", "locked"):
                    item.setForeground(QBrush(QColor("#b71c1c")))
                self.table.setItem(i, col, item)
        self.loaded.emit(len(events))
