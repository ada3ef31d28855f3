"""Help › About shows the one version number (desktop.__version__, also `main.py --version` and the packages')."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox

import desktop
from desktop.ui.main_window import MainWindow


def test_help_about_shows_the_version(qtbot, ui_ctx, monkeypatch) -> None:
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "about", lambda _parent, _title, text: shown.append(text))
    window = MainWindow(ui_ctx)
    qtbot.addWidget(window)
    help_menu = [m for m in window.menuBar().actions() if m.text() == "&Help"][0].menu()
    [a for a in help_menu.actions() if a.text() == "&About Curbdesk"][0].trigger()
    assert f"Curbdesk {desktop.__version__}" in shown[0]
