"""Starting the GUI: the database (a demo one on first run), sign-in, then the main window."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

log = logging.getLogger(__name__)


def _demo_accounts() -> list[tuple[str, str, str]]:
    from desktop.services.demo import DEMO_USERS

    return [(u, role.label, pw) for u, _n, role, pw in DEMO_USERS]


def run_gui(env: Any) -> int:
    from PySide6.QtWidgets import QApplication, QDialog, QProgressDialog

    from desktop.persistence.db import Database
    from desktop.persistence.migrate import upgrade
    from desktop.services import users
    from desktop.services.context import AppContext
    from desktop.ui.messages import MessageChannel, install_excepthook, set_channel
    from desktop.ui.style import STYLESHEET

    from PySide6.QtCore import QCoreApplication, Qt

    # Qt WebEngine (the review map, imported later and only when needed) requires this before the
    # application object exists.
    if QApplication.instance() is None:
        QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    qapp = QApplication.instance() or QApplication(sys.argv)
    qapp.setApplicationName("Curbdesk")
    qapp.setOrganizationName("Curbdesk")
    qapp.setStyle("Fusion")
    qapp.setStyleSheet(STYLESHEET)
    messages = MessageChannel()
    set_channel(messages)
    install_excepthook()

    env.paths.ensure()
    configured = bool(env.args.db or os.environ.get("CURBDESK_DB"))
    first_demo = not configured and not os.path.exists(env.paths.data_dir / "curbdesk.sqlite3")
    try:
        db = Database(env.db_url)
        db.check_connection()
        upgrade(db)
    except Exception as exc:  # noqa: BLE001 - shown through the one channel
        messages.error(exc)
        return 2
    app = AppContext(db=db, paths=env.paths)

    from desktop.ui.tasks import TaskRunner

    runner = TaskRunner()
    if first_demo:
        from desktop.services.demo import build_demo

        dlg = QProgressDialog("Creating the demo office (first run)…", "Cancel", 0, 100)
        dlg.setWindowTitle("Curbdesk")
        dlg.setMinimumDuration(0)
        outcome: dict[str, Any] = {}

        def work(control):  # type: ignore[no-untyped-def]
            def prog(stage: str, done: int, total: int) -> None:
                control.check()
                control.progress(done, total, stage)
            return build_demo(app, 2000, progress=prog)

        task = runner.run(work, on_done=lambda r: outcome.update(ok=r), on_error=lambda e: outcome.update(err=e),
                          on_progress=lambda d, t, s: (dlg.setMaximum(max(t, 1)), dlg.setValue(d),
                                                       dlg.setLabelText(f"Creating the demo office: {s}…")))
        dlg.canceled.connect(task.cancel)
        while task.running:
            qapp.processEvents()
            runner.pool.waitForDone(30)
        qapp.processEvents()
        dlg.close()
        if "err" in outcome:
            messages.error(outcome["err"])
            return 2

    from desktop.ui.login import FirstAdminDialog, LoginDialog

    if not users.has_users(app):
        if FirstAdminDialog(app).exec() != QDialog.DialogCode.Accepted:
            return 0
    actor = _auto_login(app)
    if actor is None:
        with db.reading() as s:
            from desktop.persistence.models import Setting

            is_demo = s.get(Setting, "demo.anchor") is not None
        login = LoginDialog(app, _demo_accounts() if is_demo else None)
        if login.exec() != QDialog.DialogCode.Accepted or login.actor is None:
            return 0
        actor = login.actor

    window = open_main_window(app, actor, runner, messages, os.environ.get("CURBDESK_START_AREA", "cases"))
    window.show()
    code = qapp.exec()
    runner.wait_all(5000)
    db.dispose()
    return int(code)


def _auto_login(app: Any) -> Any:
    """CURBDESK_DEMO_LOGIN=user signs in without a password, on the demo database only."""
    from desktop.persistence.models import Setting
    from desktop.services import users

    who = os.environ.get("CURBDESK_DEMO_LOGIN")
    if not who:
        return None
    with app.db.reading() as s:
        if s.get(Setting, "demo.anchor") is None:
            log.warning("CURBDESK_DEMO_LOGIN ignored: not a demo database")
            return None
    return users.actor_for(app, who)


def agency_timezone(app: Any) -> Any:
    from zoneinfo import ZoneInfo

    from desktop.persistence.models import Setting

    with app.db.reading() as s:
        row = s.get(Setting, "agency.timezone")
    return ZoneInfo(row.value if row else "America/Los_Angeles")


def open_main_window(app: Any, actor: Any, runner: Any, messages: Any, start_area: str = "cases") -> Any:
    from desktop.ui.context import UiContext
    from desktop.ui.main_window import MainWindow

    ctx = UiContext(app=app, actor=actor, runner=runner, messages=messages, tz=agency_timezone(app))
    window = MainWindow(ctx)
    window.show_area(start_area)
    return window
