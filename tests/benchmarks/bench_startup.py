"""Benchmark: cold start to the first painted window, on the million-citation office, against a bare
PySide6 window started the same way.

Each round starts a new process: ``main.py`` with ``CURBDESK_EXIT_AFTER_PAINT=1`` prints the
milliseconds from its start to the first paint of the main window and quits (``=cases`` waits for
the case list's first page). The benchmark times the whole process from spawn to that line, so the
interpreter's own start is counted too. Goal: 500 ms. Heavy modules (folium, ReportLab, WebEngine)
must stay out of the start-up path; ``test_startup_imports_stay_lazy`` checks it.

Run with ``pytest tests/benchmarks/bench_startup.py --benchmark-only -p no:randomly``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.benchmarks.casework_db import ROOT, demo_office

GOAL_MS = 500.0
BARE_WINDOW = """
import time, sys
t0 = time.perf_counter()
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow
app = QApplication(sys.argv)
w = QMainWindow(); w.setCentralWidget(QLabel("Curbdesk")); w.resize(1440, 880)
class Watch(QObject):
    def eventFilter(self, obj, ev):
        if ev.type() == QEvent.Type.Paint and not getattr(self, "done", False):
            self.done = True
            QTimer.singleShot(0, lambda: (print(f"first paint (bare) after {(time.perf_counter() - t0) * 1000:.0f} ms",
                                                flush=True), app.quit()))
        return False
watch = Watch(); app.installEventFilter(watch)
w.show(); app.exec()
"""


def _env(data: Path, what: str) -> dict[str, str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CURBDESK_DEMO_LOGIN="clerk",
               CURBDESK_EXIT_AFTER_PAINT=what, CURBDESK_DATA_DIR=str(data))
    env.pop("CURBDESK_DB", None)
    return env


def _spawn(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    wall = (time.perf_counter() - started) * 1000
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("first paint")), "")
    assert line, f"no first paint reported: {done.stdout[-500:]} {done.stderr[-2000:]}"
    return wall, line


@pytest.fixture(scope="module")
def office() -> Path:
    return demo_office()


@pytest.mark.benchmark(group="startup")
def test_baseline_bare_pyside6_window(benchmark) -> None:  # type: ignore[no-untyped-def]
    lines: list[str] = []
    benchmark.pedantic(lambda: lines.append(_spawn([sys.executable, "-c", BARE_WINDOW], dict(
        os.environ, QT_QPA_PLATFORM="offscreen"))[1]), rounds=5, iterations=1)
    benchmark.extra_info["reported"] = lines[-1]


@pytest.mark.benchmark(group="startup")
@pytest.mark.parametrize("what", ["1", "cases"])
def test_cold_start_to_first_paint(benchmark, office: Path, what: str) -> None:  # type: ignore[no-untyped-def]
    lines: list[str] = []
    benchmark.pedantic(lambda: lines.append(_spawn([sys.executable, str(ROOT / "main.py")], _env(office, what))[1]),
                       rounds=5, iterations=1)
    benchmark.extra_info.update(reported=lines[-1], goal_ms=GOAL_MS)


@pytest.fixture(scope="module")
def small_office(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo office: this check runs in the normal suite, not only with the benchmarks."""
    data = tmp_path_factory.mktemp("small-office")
    subprocess.run([sys.executable, str(ROOT / "main.py"), "--data-dir", str(data), "demo", "--citations", "30"],
                   check=True, cwd=ROOT, capture_output=True)
    return data


def test_startup_imports_stay_lazy(small_office: Path) -> None:
    """folium, ReportLab and Qt WebEngine are not imported before the first paint."""
    office = small_office
    probe = ("import runpy, sys\n"
             "sys.argv = ['main.py']\n"
             "import atexit\n"
             "atexit.register(lambda: print('HEAVY', sorted(m for m in sys.modules if m.split('.')[0] in "
             "('folium', 'reportlab', 'branca') or m.startswith('PySide6.QtWebEngine')), flush=True))\n"
             "runpy.run_path('main.py', run_name='__main__')\n")
    done = subprocess.run([sys.executable, "-c", probe], env=_env(office, "1"), cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)
    heavy = next((ln for ln in done.stdout.splitlines() if ln.startswith("HEAVY")), "HEAVY ?")
    assert heavy == "HEAVY []", heavy
