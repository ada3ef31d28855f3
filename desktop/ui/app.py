"""Starting the GUI: the database (a demo one on first run), sign-in, then the main window."""

# Deferred imports: main.py imports this module before anything paints; Qt costs 300 ms, SQLAlchemy and
# the services 760 ms, the demo builders 90 ms, so each loads inside the function that needs it, the
# database and the services on a worker thread once the sign-in has painted.

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any, cast

log = logging.getLogger(__name__)


def _demo_accounts() -> list[tuple[str, str, str]]:
    from desktop.demo.office import DEMO_USERS

    return [(u, role.label, pw) for u, _n, role, pw in DEMO_USERS]


def _open_database(env: Any, control: Any) -> dict[str, Any]:
    """Worker thread: open (and migrate) the database; say what the sign-in needs to know."""
    # lazy, as every database import here: SQLAlchemy and the services cost ~480 ms, and the sign-in
    # paints before they are imported
    from desktop.bootstrap import make_app_context
    from desktop.domain.errors import UserError
    from desktop.persistence.db import Database
    from desktop.persistence.migrate import schema_state, upgrade
    from desktop.services.admin import users
    from desktop.services.core import settings

    db = Database(env.db_url)
    db.check_connection()
    db.check_rights()
    state = schema_state(db)
    refusal = state.refusal(db.display_name())  # a newer release's database, or another application's
    if refusal:
        db.dispose()
        raise UserError(refusal)
    if state.status == "empty":
        upgrade(db)
    app = make_app_context(db, env.paths)
    # an earlier release's schema is not upgraded here: the sign-in decides (administrators are offered it)
    older = state if state.status == "older" else None
    return {"app": app, "has_users": users.has_users(app), "is_demo": settings.is_demo_database(app),
            "older": older}


def _preload_main_window(start_area: str) -> None:
    """While the user types: import the main window and its first screen, so that the window opens
    at once on Sign in. GUI thread only: importing Qt modules on a worker thread trips PySide's
    import hook (a later first import of pydantic then failed as a circular import)."""
    import importlib

    from desktop.ui.main_window import AREAS

    for area in AREAS:
        if area.key == start_area and area.view:
            importlib.import_module(area.view.split(":")[0])


def run_gui(env: Any) -> int:
    """Sign-in paints at once; the database opens on a worker thread meanwhile."""
    from PySide6.QtCore import QCoreApplication, Qt, QTimer
    from PySide6.QtWidgets import QApplication, QDialog

    from desktop.ui.common.map_tiles import register_tile_scheme
    from desktop.ui.common.messages import MessageChannel, install_excepthook, set_channel
    from desktop.ui.common.operations import Query
    from desktop.ui.common.tasks import TaskRunner
    from desktop.ui.style import STYLESHEET

    # Qt WebEngine (the review map, imported later and only when needed) requires this before the
    # application object exists.
    if QApplication.instance() is None:
        QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
        register_tile_scheme()  # the street map's tiles (curbdesk-tiles://), declared before the application
    # instance() is typed as the core application; the one that exists here is always a QApplication
    qapp = cast(QApplication, QApplication.instance() or QApplication(sys.argv))
    qapp.setApplicationName("Curbdesk")
    qapp.setOrganizationName("Curbdesk")
    qapp.setStyle("Fusion")
    qapp.setStyleSheet(STYLESHEET)
    messages = MessageChannel()
    set_channel(messages)
    install_excepthook()
    runner = TaskRunner()
    auto = os.environ.get("CURBDESK_DEMO_LOGIN")
    start_area = os.environ.get("CURBDESK_START_AREA")  # unset: the signed-in role's own screen
    probe = os.environ.get("CURBDESK_EXIT_AFTER_PAINT")
    if probe:  # a measurement or smoke test: an error ends the process with a non-zero code
        messages.interactive = False
        messages.error_shown.connect(lambda text: (print("error: " + text.strip().splitlines()[-1], flush=True),
                                                   qapp.exit(3)))
    try:
        env.paths.ensure()
    except OSError as exc:  # a read-only or missing share: one sentence, nothing created
        from desktop.domain.errors import UserError

        messages.error(UserError(f"The data folder {env.paths.data_dir} cannot be written ({exc.strerror}): "
                                 "start Curbdesk with one you may write to (--data-dir or CURBDESK_DATA_DIR)."))
        return 2
    configured = bool(env.args.db or os.environ.get("CURBDESK_DB"))
    profile = None if configured else _connection_profile(messages)
    if profile is not None:
        configured = True
        if not _database_password(profile):
            return 0
        env.db_url = _profile_url(profile)
    first_demo = not configured and not os.path.exists(env.paths.data_dir / "curbdesk.sqlite3")
    if first_demo and not (auto or probe):  # a first run: set up a real agency, join one, or try the demo
        chosen = _first_run_wizard(env, runner)
        if chosen is None:
            runner.wait_all(2000)
            return 0
        if chosen != "demo":
            env.db_url = chosen
            first_demo = False

    from desktop.ui.login import LoginDialog
    from desktop.ui.paint import first_paint_hook

    login = LoginDialog(None, runner=runner)
    state: dict[str, Any] = {}

    def opened(result: dict[str, Any]) -> None:
        state.update(result)
        app = result["app"]
        if first_demo:
            if not _build_first_demo(qapp, runner, app, messages, login):
                login.reject()
                return
            result["has_users"] = result["is_demo"] = True
            state.update(result)  # the main window reads it: a demo built here says DEMO like any other
        if not result["has_users"]:
            from desktop.ui.login import FirstAdminDialog

            login.hide()
            if FirstAdminDialog(app, login).exec() != QDialog.DialogCode.Accepted:
                login.reject()
                return
            login.show()
        if auto and result.get("older") is None:
            actor = _auto_login(app)
            if actor is not None:
                login.actor = actor
                login.accept()
                return
        login.any_schema = result.get("older") is not None  # sign-in reads only what every release has
        login.set_app(app, _demo_accounts() if result["is_demo"] else None)
        if login.actor is None:  # still typing: load the main window meanwhile
            QTimer.singleShot(0, lambda: _preload_main_window(start_area or "cases"))

    def failed(exc: BaseException) -> None:
        state["failed"] = True
        login.hide()
        messages.error(exc)
        login.reject()

    if probe and not auto:
        _exit_after_first_paint(login.reject, login)
    # The database opens once the sign-in has painted: importing SQLAlchemy on a worker would
    # otherwise compete with the first paint for the interpreter lock.
    started: list[bool] = []

    def open_database() -> None:
        if not started:
            started.append(True)
            Query(runner, login, lambda control: _open_database(env, control), success=opened, failure=failed).run()

    first_paint_hook(login, open_database)
    QTimer.singleShot(1000, open_database)  # in case no paint is ever delivered (a hidden session)
    accepted = login.exec() == QDialog.DialogCode.Accepted
    if state.get("failed"):
        runner.wait_all(2000)
        return 2
    if not accepted or login.actor is None:
        runner.wait_all(2000)
        return 0
    app = state["app"]
    if state.get("older") is not None:
        from desktop.ui.upgrade_prompt import offer_upgrade

        actor = offer_upgrade(qapp, runner, app, state["older"], login, messages)
        if actor is None:
            runner.wait_all(2000)
            app.db.dispose()
            return 2
        login.actor = actor
    signed_in_at = time.perf_counter()
    from desktop.ui.session import WorkstationSession

    # Sign out and a locked screen leave no main window open for a while: the application quits when the
    # session ends (Quit, or Cancel on the sign-in window), not when the last window closes.
    qapp.setQuitOnLastWindowClosed(False)
    demo = bool(state.get("is_demo"))
    session = WorkstationSession(
        app, runner, lambda actor: open_main_window(app, actor, runner, messages, start_area, demo=demo),
        demo_accounts=_demo_accounts() if demo else None)
    session.ended.connect(qapp.quit)
    window = session.start(login.actor)
    if probe:
        window.signed_in_at = signed_in_at
        _exit_after_first_paint(qapp.quit, window)
    code = qapp.exec()
    runner.wait_all(5000)
    app.db.dispose()
    return int(code)


def _connection_profile(messages: Any) -> Any:
    """This user's connection profile (the office's database), or None."""
    from desktop.persistence.connections import load_profile  # lazy: 30 ms, only without --db

    try:
        return load_profile()
    except Exception as exc:  # noqa: BLE001 - an unreadable profile: said once, then the default database
        messages.error(exc)
        return None


def _profile_url(profile: Any) -> str:
    from desktop.persistence.connections import profile_url  # lazy: as above, 30 ms

    return str(profile_url(profile))


def _database_password(profile: Any) -> bool:
    """A PostgreSQL profile whose password is neither in the keyring nor in PGPASSWORD nor replaced by a client
    certificate: ask for it (kept in memory until Curbdesk closes). False when the user cancels."""
    from PySide6.QtWidgets import QInputDialog, QLineEdit

    from desktop.persistence.connections import PASSWORDS  # lazy: as above, 30 ms

    if profile.kind != "postgresql" or profile.sslcert or os.environ.get("PGPASSWORD") or PASSWORDS.has(profile.key):
        return True
    password, ok = QInputDialog.getText(None, "Curbdesk — database password",
                                        f"Password of {profile.user} for {profile.database} on {profile.host}:",
                                        QLineEdit.EchoMode.Password)
    if not ok:
        return False
    PASSWORDS.remember(profile.key, password, persist=False)
    return True


def _first_run_wizard(env: Any, runner: Any) -> str | None:
    """The first-run wizard: "demo", the URL of the office set up or joined, or None when cancelled."""
    from PySide6.QtWidgets import QDialog

    from desktop.bootstrap import make_app_context  # lazy: 760 ms, only at a first run
    from desktop.ui.setup_wizard import SetupWizard

    wizard = SetupWizard(runner, env.paths, lambda db: make_app_context(db, env.paths))
    if wizard.exec() != QDialog.DialogCode.Accepted:
        return None
    return "demo" if wizard.outcome == "demo" else wizard.db_url


def _build_first_demo(qapp: Any, runner: Any, app: Any, messages: Any, parent: Any) -> bool:
    """First run without a configured database: create the demo office, with progress and Cancel."""
    from PySide6.QtWidgets import QDialog, QLabel, QVBoxLayout

    from desktop.demo.office import build_demo
    from desktop.ui.common.operations import Query
    from desktop.ui.common.progress import ProgressPanel

    dlg = QDialog(parent)
    dlg.setWindowTitle("Curbdesk")
    lay = QVBoxLayout(dlg)
    label = QLabel("Creating the demo office (first run)…")
    lay.addWidget(label)
    panel = ProgressPanel(dlg, hide_when_idle=False)
    panel.bar.setMinimumWidth(320)
    panel.message.connect(lambda stage: label.setText(f"Creating the demo office: {stage}…"))
    lay.addWidget(panel)
    dlg.rejected.connect(panel.cancel)  # closing the window cancels, as its Cancel button does
    outcome: dict[str, Any] = {}

    def work(control: Any) -> Any:
        def prog(stage: str, done: int, total: int) -> None:
            control.check()
            control.progress(done, total, stage)
        return build_demo(app, 2000, progress=prog)

    # The sign-in (``parent``) owns the work: the progress window may be closed to cancel it, and the
    # outcome must still arrive.
    task = Query(runner, parent, work, success=lambda r: outcome.update(ok=r),
                 failure=lambda e: outcome.update(err=e)).with_progress(panel).run()
    dlg.show()
    while task.running:
        qapp.processEvents()
        runner.pool.waitForDone(30)
    qapp.processEvents()
    dlg.close()
    if "err" in outcome:
        messages.error(outcome["err"])
        return False
    return True


def _exit_after_first_paint(quit_: Any, window: Any) -> None:
    """CURBDESK_EXIT_AFTER_PAINT=1: print the milliseconds from start to the first painted window (the
    sign-in, or the main window with the demo auto-login), then quit: the start-up benchmark and the
    installer's smoke test. With CURBDESK_EXIT_AFTER_PAINT=cases it waits for the case list's first page,
    with =review for the first citation on the Review screen (start there with CURBDESK_START_AREA=review)."""
    import time

    import desktop
    from desktop.ui.paint import first_paint_hook

    def report(what: str) -> None:
        ms = (time.perf_counter() - desktop.STARTED_AT) * 1000
        signed_in = getattr(window, "signed_in_at", None)
        since = f" ({(time.perf_counter() - signed_in) * 1000:.0f} ms after sign-in)" if signed_in else ""
        print(f"first paint ({what}) after {ms:.0f} ms{since}", flush=True)
        quit_()

    views = getattr(window, "views", None)
    if views is None:
        first_paint_hook(window, lambda: report("sign-in"))
        return
    what = os.environ["CURBDESK_EXIT_AFTER_PAINT"]
    if what == "cases" and views.get("cases") is not None:
        views["cases"].model.loaded.connect(lambda _n: first_paint_hook(window, lambda: report("case list")))
        return
    if what == "review" and views.get("review") is not None:
        views["review"].citation_shown.connect(lambda _id: first_paint_hook(window, lambda: report("review")))
        return
    first_paint_hook(window, lambda: report("window"))


def _auto_login(app: Any) -> Any:
    """CURBDESK_DEMO_LOGIN=user signs in without a password, on the demo database only."""
    from desktop.services.admin import users  # lazy: see _open_database
    from desktop.services.core import settings  # lazy: see _open_database

    who = os.environ.get("CURBDESK_DEMO_LOGIN")
    if not who:
        return None
    if not settings.is_demo_database(app):
        log.warning("CURBDESK_DEMO_LOGIN ignored: not a demo database")
        return None
    return users.actor_for(app, who)


def agency_timezone(app: Any) -> Any:
    from desktop.services.core.clock import read_agency_zone  # lazy: see _open_database

    return read_agency_zone(app)


def open_main_window(app: Any, actor: Any, runner: Any, messages: Any, start_area: str | None = None, *,
                     demo: bool = False) -> Any:
    """The main window on ``start_area``, or on the signed-in role's own screen (Appeals for a hearing officer)."""
    from desktop.ui.context import UiContext
    from desktop.ui.main_window import MainWindow, start_area_for

    ctx = UiContext(app=app, actor=actor, runner=runner, messages=messages, tz=agency_timezone(app), demo=demo)
    window = MainWindow(ctx)
    window.show_area(start_area or start_area_for(actor.role))
    return window
