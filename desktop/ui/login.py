"""Signing in, and creating the first administrator on a new database."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from desktop.domain.errors import UserError
from desktop.ui.common.tasks import TaskRunner

if TYPE_CHECKING:  # imported lazily: the sign-in window paints before SQLAlchemy loads
    from desktop.services.core.context import Actor, AppContext


class LoginDialog(QDialog):
    """Asks for a username and password; `actor` holds the signed-in user after accept().

    It can be shown before the database is open (`app=None`): Sign in stays disabled and a
    line says so until `set_app` hands it the opened database.
    """

    def __init__(self, app: AppContext | None, demo_accounts: list[tuple[str, str, str]] | None = None,
                 parent: QWidget | None = None, *, runner: TaskRunner | None = None,
                 locked_for: str | None = None) -> None:
        super().__init__(parent)
        self.app = app
        self.actor: Actor | None = None
        #: runs the password change an administrator's reset asks for (made on first need when not given)
        self.runner = runner
        self.locked_for = locked_for
        self.change_dialog: QDialog | None = None
        self.setWindowTitle("Curbdesk — locked" if locked_for else "Curbdesk — sign in")
        lay = QVBoxLayout(self)
        title = QLabel("<h2 style='margin:0'>Curbdesk</h2><span style='color:#555'>Parking enforcement back office</span>")
        lay.addWidget(title)
        if locked_for:
            note = QLabel(f"<b>The screen is locked.</b> {locked_for} signs in again to carry on where they were; "
                          "anyone else who signs in here gets a fresh window (the locked work is closed).")
            note.setWordWrap(True)
            lay.addWidget(note)
        form = QFormLayout()
        self.username = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("&Username", self.username)
        form.addRow("&Password", self.password)
        lay.addLayout(form)
        self.error = QLabel("")
        self.error.setStyleSheet("color:#b71c1c")
        self.error.setWordWrap(True)
        lay.addWidget(self.error)
        self.hint = QLabel("")
        self.hint.setTextFormat(Qt.TextFormat.RichText)
        self.hint.setStyleSheet("background:#fff8e1; border:1px solid #e0c068; padding:6px;")
        self.hint.setVisible(False)
        lay.addWidget(self.hint)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.sign_in = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.sign_in.setText("Sign in")
        buttons.accepted.connect(self.try_login)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.cancel_button = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        if locked_for is not None:  # between two users of a workstation, Cancel leaves Curbdesk
            self.between_users()
        self.username.setFocus()
        if locked_for:
            self.username.setText(locked_for)
            self.password.setFocus()
        self.pending = False
        #: the database has an earlier release's schema: check the password only (nothing is written)
        self.any_schema = False
        if app is None:
            self.error.setStyleSheet("color:#555")
            self.error.setText("Opening the database…")
        self.show_demo_accounts(demo_accounts)

    def between_users(self) -> None:
        """A workstation's sign-in after a sign-out or at a locked screen: Cancel leaves Curbdesk."""
        self.setMinimumWidth(420)
        self.cancel_button.setText("Quit Curbdesk")

    def show_demo_accounts(self, demo_accounts: list[tuple[str, str, str]] | None) -> None:
        if not demo_accounts:
            return
        if not self.windowTitle().endswith("DEMO"):
            self.setWindowTitle(self.windowTitle() + " — DEMO")
        rows = "".join(f"<tr><td><code>{u}</code></td><td>{role}</td><td><code>{pw}</code></td></tr>"
                       for u, role, pw in demo_accounts)
        self.hint.setText(f"<b>Demo database.</b> Accounts:<table cellspacing=4>{rows}</table>")
        self.hint.setVisible(True)

    def set_app(self, app: AppContext, demo_accounts: list[tuple[str, str, str]] | None = None) -> None:
        self.app = app
        self.error.setText("")
        self.error.setStyleSheet("color:#b71c1c")
        self.show_demo_accounts(demo_accounts)
        if self.pending:
            self.pending = False
            self.try_login()

    def try_login(self) -> None:
        if self.app is None:  # typed faster than the database opened: sign in as soon as it is open
            self.pending = True
            self.error.setText("Signing in as soon as the database is open…")
            return
        # lazy: the services (SQLAlchemy) cost 650 ms at start-up, before the sign-in could paint
        from desktop.services.admin import users

        username, password = self.username.text().strip(), self.password.text()
        via = "unlocked the screen" if self.locked_for and username == self.locked_for else None
        try:
            if self.any_schema:
                self.actor = users.check_password_any_schema(self.app, username, password)
            else:
                self.actor = users.login(self.app, username, password, via=via)
        except users.PasswordChangeRequired as exc:
            self.error.setText(str(exc))
            self._change_password(username, password, str(exc))
            return
        except UserError as exc:
            self.error.setText(str(exc))
            self.password.selectAll()
            self.password.setFocus()
            return
        self.accept()


    def _change_password(self, username: str, current: str, reason: str) -> None:
        """An administrator reset this password: the user chooses their own, then is signed in with it."""
        from desktop.ui.accounts import ChangePasswordDialog  # lazy: needed only after a reset, 40 ms

        if self.runner is None:
            self.runner = TaskRunner(self)
        assert self.app is not None
        dlg = ChangePasswordDialog(self.app, username, self.runner, current=current, reason=reason, parent=self)
        self.change_dialog = dlg

        def changed(new: str) -> None:
            self.password.setText(new)
            self.try_login()

        dlg.changed.connect(changed)
        dlg.open()


class FirstAdminDialog(QDialog):
    """A new, empty database: create the first administrator account."""

    def __init__(self, app: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.app = app
        self.setWindowTitle("Curbdesk — first run")
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("<h3>Welcome to Curbdesk</h3>This database has no accounts yet. "
                             "Create the first administrator; they can add everyone else."))
        form = QFormLayout()
        self.username = QLineEdit("admin")
        self.full_name = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.again = QLineEdit()
        self.again.setEchoMode(QLineEdit.EchoMode.Password)
        self.role = QComboBox()
        self.role.addItem("Administrator", "admin")
        self.role.setEnabled(False)
        form.addRow("Username", self.username)
        form.addRow("Full name", self.full_name)
        form.addRow("Password", self.password)
        form.addRow("Password again", self.again)
        form.addRow("Role", self.role)
        lay.addLayout(form)
        self.error = QLabel("")
        self.error.setStyleSheet("color:#b71c1c")
        self.error.setWordWrap(True)
        lay.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create account")
        buttons.accepted.connect(self.create_account)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def create_account(self) -> None:
        if self.password.text() != self.again.text():
            self.error.setText("The two passwords differ.")
            return
        if not self.full_name.text().strip():
            self.error.setText("Enter the administrator's full name.")
            return
        # lazy: the services (SQLAlchemy) cost 650 ms at start-up, before the sign-in could paint
        from desktop.services.admin import users
        from desktop.services.core.context import Actor  # lazy: loaded with the line above, 760 ms cold

        try:
            users.add_user(self.app, Actor.system("first-run"), self.username.text().strip(),
                           self.full_name.text().strip(), "admin", self.password.text())
        except UserError as exc:
            self.error.setText(str(exc))
            return
        self.accept()
