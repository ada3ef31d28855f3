"""Screenshots of every screen, taken from the running application on a demo office: the pictures of the
user manual (resources/manual/shots) and the layout checks at a laptop's 1366 x 768.

    QT_QPA_PLATFORM=offscreen python -m desktop.ui.screenshots --data-dir DIR --out resources/manual/shots
    (DIR holds a demo office: ``python main.py --data-dir DIR demo``; add --size 1366x768, the default)

Each screen is opened as the role that works there (Review as a clerk, Appeals as a hearing officer ...),
the window is given the size asked for, and the picture is saved once the screen's background work is done.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QCoreApplication, QEventLoop, Qt
from PySide6.QtWidgets import QApplication, QDialog, QWidget

from desktop.bootstrap import make_app_context
from desktop.paths import AppPaths
from desktop.persistence.db import Database
from desktop.services.admin import users
from desktop.services.core.context import AppContext
from desktop.ui.common.map_tiles import register_tile_scheme
from desktop.ui.common.messages import MessageChannel, set_channel
from desktop.ui.common.tasks import TaskRunner
from desktop.ui.context import UiContext
from desktop.ui.main_window import MainWindow
from desktop.ui.style import STYLESHEET


@dataclass(frozen=True)
class Shot:
    """One picture: the file name, who is signed in, which area, and what to do before it is taken (when
    that returns a window, the picture is of that window)."""

    name: str
    user: str
    area: str
    prepare: Callable[[MainWindow], Any] | None = None


def _tab(area: str, index: int) -> Callable[[MainWindow], None]:
    """Show the tab ``index`` of the area's ``tabs``."""
    def go(window: MainWindow) -> None:
        window.views[area].tabs.setCurrentIndex(index)  # type: ignore[attr-defined]
    return go


def _help(window: MainWindow) -> QWidget:
    window.help_for_screen()
    assert window.help_window is not None
    return window.help_window


SHOTS = [
    Shot("review", "clerk", "review"),
    Shot("cases", "clerk", "cases"),
    Shot("payments-counter", "clerk", "payments", _tab("payments", 0)),
    Shot("payments-unmatched", "clerk", "payments", _tab("payments", 1)),
    Shot("payments-refunds", "supervisor", "payments", _tab("payments", 2)),
    Shot("payments-imports", "clerk", "payments", _tab("payments", 3)),
    Shot("payments-plans", "clerk", "payments", _tab("payments", 4)),
    Shot("payments-close", "supervisor", "payments", _tab("payments", 5)),
    Shot("appeals", "hearing", "appeals"),
    Shot("notices", "mail", "notices"),
    Shot("notices-batches", "mail", "notices", _tab("notices", 1)),
    Shot("notices-log", "mail", "notices", _tab("notices", 2)),
    Shot("sync", "supervisor", "sync"),
    Shot("sync-bundles", "supervisor", "sync", _tab("sync", 1)),
    Shot("admin", "admin", "admin"),
    Shot("admin-users", "admin", "admin", _tab("admin", 1)),
    Shot("admin-settings", "admin", "admin", _tab("admin", 2)),
    Shot("help-appeals", "hearing", "appeals", _help),
    Shot("reports-dashboard", "supervisor", "reports"),
    Shot("reports-revenue", "supervisor", "reports", lambda w: w.views["reports"].open_page("report-revenue")),  # type: ignore[attr-defined]
    Shot("reports-review", "supervisor", "reports", lambda w: w.views["reports"].open_page("report-review")),  # type: ignore[attr-defined]
]


def settle(app: QApplication, runner: TaskRunner, quiet_ms: int = 400, limit_s: float = 30.0) -> None:
    """Run the event loop until the background work is done and nothing new started for ``quiet_ms``."""
    deadline = time.monotonic() + limit_s
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        runner.pool.waitForDone(20)
        if runner.active() or runner.pool.activeThreadCount():
            quiet_since = time.monotonic()
        elif (time.monotonic() - quiet_since) * 1000 >= quiet_ms:
            return


def open_window(app_ctx: AppContext, user: str, runner: TaskRunner, messages: MessageChannel,
                width: int, height: int) -> MainWindow:
    actor = users.actor_for(app_ctx, user)
    if actor is None:
        raise SystemExit(f"no user {user!r} in this database: build the demo office first")
    ctx = UiContext(app=app_ctx, actor=actor, runner=runner, messages=messages, tz=ZoneInfo("America/Los_Angeles"))
    window = MainWindow(ctx)
    window.resize(width, height)
    window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, False)
    window.show()
    return window


def take(shots: list[Shot], data_dir: Path, out: Path, width: int, height: int) -> list[Path]:
    """Take ``shots`` of the demo office in ``data_dir`` into ``out``; the files written."""
    if QApplication.instance() is None:
        QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
        register_tile_scheme()  # the street map's tiles, declared before the application as in desktop.ui.app
    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(qapp, QApplication)
    qapp.setStyle("Fusion")
    qapp.setStyleSheet(STYLESHEET)
    paths = AppPaths.resolve(data_dir)
    db = Database(paths.default_db_url)
    app_ctx = make_app_context(db, paths)
    messages = MessageChannel(interactive=False)
    set_channel(messages)
    runner = TaskRunner()
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for shot in shots:
        window = open_window(app_ctx, shot.user, runner, messages, width, height)
        window.show_area(shot.area)
        settle(qapp, runner)
        subject: QWidget = window
        if shot.prepare is not None:
            shown = shot.prepare(window)
            if isinstance(shown, QWidget):
                subject = shown
            settle(qapp, runner)
        path = out / f"{shot.name}.png"
        subject.grab().save(str(path))
        written.append(path)
        for w in qapp.topLevelWidgets():
            if isinstance(w, QDialog) and w.isVisible():
                w.close()
        window.close()
        window.deleteLater()
        settle(qapp, runner, quiet_ms=50)
    runner.wait_all(10000)
    db.dispose()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, type=Path, help="a folder holding a demo office")
    parser.add_argument("--out", type=Path, default=Path("resources/manual/shots"))
    parser.add_argument("--size", default="1366x768", help="window size, WIDTHxHEIGHT")
    parser.add_argument("--only", nargs="*", help="names of the shots to take (default: all)")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    chosen = [s for s in SHOTS if not args.only or s.name in args.only]
    for path in take(chosen, args.data_dir, args.out, width, height):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
