"""At start-up, a database of an earlier release: administrators are offered the upgrade (a backup is taken
first, by the upgrade use case), everybody else is told to ask an administrator and the application ends.

The sign-in before this prompt checked the password only (`users.check_password_any_schema`: the older
schema may lack the columns a full sign-in writes); once upgraded, the administrator is signed in for real
(audited) with the password still in the sign-in window. The permission to upgrade is the service's
(`maintenance.upgrade_database`), not this dialog's: the dialog only spares a clerk a question they cannot
answer.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QDialog, QLabel, QMessageBox, QVBoxLayout, QWidget

from desktop.domain.roles import Permission, allowed
from desktop.ui.common.operations import Query
from desktop.ui.common.progress import ProgressPanel

TITLE = "Curbdesk — database upgrade"


def ask(parent: QWidget | None, text: str) -> bool:
    """Yes/No; replaced in tests."""
    answer = QMessageBox.question(parent, TITLE, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def tell(parent: QWidget | None, text: str) -> None:
    """An information box; replaced in tests."""
    QMessageBox.information(parent, TITLE, text)


def offer_upgrade(qapp: Any, runner: Any, app: Any, state: Any, login: Any, messages: Any) -> Any:
    """The signed-in actor after the upgrade, or None when the application must end (not an administrator,
    declined, or the upgrade failed: its one sentence shown, the database as it was)."""
    # lazy: the services are loaded on the worker that opened the database (~480 ms), never before the sign-in
    from desktop.services.admin import maintenance, users

    actor = login.actor
    where = app.db.display_name()
    if not allowed(actor.role, Permission.UPGRADE_DATABASE):
        tell(None, state.older_message(where) + " Ask an administrator to sign in here and upgrade it; "
                   "until then Curbdesk cannot open it.")
        return None
    if not ask(None, state.older_message(where) + "\n\nUpgrade it now? Other workstations should be "
                     "signed out meanwhile."):
        return None
    outcome = _run_with_progress(qapp, runner, lambda _c: maintenance.upgrade_database(app, actor),
                                 "Upgrading the database (a backup first)…")
    if "err" in outcome:
        messages.error(outcome["err"])
        return None
    done = outcome["ok"]
    tell(None, f"The database was upgraded from {done.before} to {done.after}."
               + (f" The backup taken first is at {done.backup}." if done.backup else ""))
    login.any_schema = False
    return users.login(app, actor.username, login.password.text(), via="sign-in after the upgrade")


def _run_with_progress(qapp: Any, runner: Any, work: Any, text: str) -> dict[str, Any]:
    """Run `work` on the task runner behind a small window with a busy bar; the GUI keeps painting."""
    # the sign-in window is closed by now (accepted): the progress window owns the work, so that its outcome
    # arrives (`operations.owner_alive` drops the callbacks of a closed window's work)
    dlg = QDialog(None)
    dlg.setWindowTitle(TITLE)
    lay = QVBoxLayout(dlg)
    lay.addWidget(QLabel(text))
    panel = ProgressPanel(dlg, hide_when_idle=False)
    panel.bar.setMinimumWidth(320)
    panel.cancel_button.setVisible(False)  # a migration runs in one transaction: it is not cut short
    lay.addWidget(panel)
    outcome: dict[str, Any] = {}
    dlg.show()
    task = Query(runner, dlg, work, success=lambda r: outcome.update(ok=r),
                 failure=lambda e: outcome.update(err=e)).with_progress(panel).run()
    while task.running:
        qapp.processEvents()
        runner.pool.waitForDone(30)
    qapp.processEvents()
    dlg.close()
    return outcome
