"""The sign-in window: it paints before the database is open, and a user who types fast is not
held back (Sign in pressed early signs in as soon as the database is open)."""

from __future__ import annotations

from desktop.domain.roles import Role
from desktop.ui.login import LoginDialog
from tests.conftest import PASSWORDS


def test_sign_in_pressed_before_the_database_opens_completes_when_it_opens(qtbot, app, actors) -> None:
    dlg = LoginDialog(None)
    qtbot.addWidget(dlg)
    dlg.show()
    assert dlg.error.text() == "Opening the database…"
    dlg.username.setText("clerk")
    dlg.password.setText(PASSWORDS[Role.CLERK])
    dlg.sign_in.click()
    assert dlg.pending and dlg.actor is None
    assert "as soon as the database is open" in dlg.error.text()
    with qtbot.waitSignal(dlg.accepted, timeout=5000):
        dlg.set_app(app)
    assert dlg.actor is not None and dlg.actor.username == "clerk"


def test_wrong_password_says_so_and_keeps_the_window(qtbot, app, actors) -> None:
    dlg = LoginDialog(app)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.username.setText("clerk")
    dlg.password.setText("not-the-password")
    dlg.sign_in.click()
    assert dlg.actor is None and dlg.isVisible()
    assert dlg.error.text()
    assert dlg.password.selectedText() == "not-the-password"
