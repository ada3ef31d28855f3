"""The sign-in window gives one answer to every failure (issue 14, finding 12): it does not tell a guesser
that an account exists, is disabled or is locked."""

from __future__ import annotations

from desktop.domain.roles import Role
from desktop.services.admin import users
from desktop.ui.login import LoginDialog
from tests.conftest import PASSWORDS


def test_a_disabled_account_gets_the_same_answer_as_a_wrong_password(qtbot, app, actors) -> None:
    users.set_active(app, actors[Role.ADMIN], "supervisor", False, "left the agency")
    dlg = LoginDialog(app)
    qtbot.addWidget(dlg)
    dlg.show()
    answers = []
    for username, password in (("supervisor", "not-the-password"), ("supervisor", PASSWORDS[Role.SUPERVISOR]),
                               ("nobody", "whatever-at-all"), ("clerk", "not-the-password")):
        dlg.username.setText(username)
        dlg.password.setText(password)
        dlg.sign_in.click()
        assert dlg.actor is None and dlg.isVisible()
        answers.append(dlg.error.text())
    assert set(answers) == {users.SIGN_IN_FAILED}
