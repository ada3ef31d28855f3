"""Run in a child process with QT_SCALE_FACTOR set (it must be set before Qt starts): open every screen of
``desktop.ui.screenshots.SHOTS`` at a window size in device-independent pixels and print, per screen, the
window's size and its least size, one line each: ``name width height least_width least_height``.

    QT_SCALE_FACTOR=1.5 python -m tests.helpers.scaled_probe DB_URL DATA_DIR 1280 720
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QApplication

from desktop.bootstrap import make_app_context
from desktop.paths import AppPaths
from desktop.persistence.db import Database
from desktop.ui import screenshots
from desktop.ui.common.map_tiles import register_tile_scheme
from desktop.ui.common.messages import MessageChannel, set_channel
from desktop.ui.common.tasks import TaskRunner


def main(url: str, data_dir: str, width: int, height: int) -> None:
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    register_tile_scheme()
    qapp = QApplication(sys.argv[:1])
    app = make_app_context(Database(url), AppPaths(Path(data_dir)))
    messages = MessageChannel(interactive=False)
    set_channel(messages)
    runner = TaskRunner()
    for shot in screenshots.SHOTS:
        if shot.name.startswith("help"):
            continue
        window = screenshots.open_window(app, shot.user, runner, messages, width, height)
        window.show_area(shot.area)
        screenshots.settle(qapp, runner, quiet_ms=100)
        if shot.prepare is not None:
            shot.prepare(window)
            screenshots.settle(qapp, runner, quiet_ms=100)
        least = window.minimumSizeHint()
        print(shot.name, window.width(), window.height(), least.width(), least.height(), flush=True)
        window.close()
        window.deleteLater()
        screenshots.settle(qapp, runner, quiet_ms=20)
    runner.wait_all(10000)
    app.db.dispose()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    sys.stdout.flush()
    # Qt WebEngine can crash while the process tears down after the map views (seen: a segfault at exit
    # after every line was printed); the answer is out, so leave without the teardown
    os._exit(0)
