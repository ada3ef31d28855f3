"""The patrol pages on their own, hosted in a window of tabs, for screenshots before the Patrol & Reports area
hosts them (``desktop.ui.reports.pages``):

    QT_QPA_PLATFORM=offscreen python -m desktop.ui.patrol.preview --data-dir DIR --out DIR/shots [--user supervisor]

DIR holds a demo office (``python main.py --data-dir DIR demo``). Without ``--out`` the window stays open.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from PySide6.QtWidgets import QApplication, QTabWidget

from desktop.bootstrap import make_app_context
from desktop.paths import AppPaths
from desktop.persistence.db import Database
from desktop.services.admin import users
from desktop.ui.common.messages import MessageChannel, set_channel
from desktop.ui.common.tasks import TaskRunner
from desktop.ui.context import UiContext
from desktop.ui.reports.pages import PAGES
from desktop.ui.screenshots import settle
from desktop.ui.style import STYLESHEET


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--user", default="supervisor")
    parser.add_argument("--size", default="1366x768")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.split("x"))
    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(qapp, QApplication)
    qapp.setStyle("Fusion")
    qapp.setStyleSheet(STYLESHEET)
    paths = AppPaths.resolve(args.data_dir)
    app = make_app_context(Database(paths.default_db_url), paths)
    messages = MessageChannel(interactive=args.out is None)
    set_channel(messages)
    runner = TaskRunner()
    ctx = UiContext(app=app, actor=users.actor_for(app, args.user), runner=runner, messages=messages,
                    tz=ZoneInfo("America/Los_Angeles"))
    window = QTabWidget()
    window.setWindowTitle("Curbdesk — patrol pages")
    for _key, title, target in PAGES:
        module, _, name = target.partition(":")
        window.addTab(getattr(importlib.import_module(module), name)(ctx), title)
    window.resize(width, height)
    window.show()
    settle(qapp, runner)
    if args.out is None:
        return qapp.exec()
    args.out.mkdir(parents=True, exist_ok=True)
    for i, (key, _title, _target) in enumerate(PAGES):
        window.setCurrentIndex(i)
        tabs: QTabWidget = getattr(window.widget(i), "tabs", QTabWidget())
        for t in range(tabs.count()):
            tabs.setCurrentIndex(t)
            settle(qapp, runner, quiet_ms=150)
            window.grab().save(str(args.out / f"{key}-{t}.png"))
    runner.wait_all(10000)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
