"""Print / Export… on the lists (issue 16, point 4): the case list exported with the filter it was
searched with, off the GUI thread, and printed on a (PDF-file) printer."""

from __future__ import annotations

import csv
from pathlib import Path

from pypdf import PdfReader
from PySide6.QtPrintSupport import QPrinter

from desktop.ui.cases.view import CasesView
from desktop.ui.common.list_export import ListExportBar
from tests.helpers.factories import add_citation


def _cases(qtbot, ui_ctx) -> CasesView:  # type: ignore[no-untyped-def]
    view = CasesView(ui_ctx)
    qtbot.addWidget(view)
    view.resize(1366, 700)
    view.show()
    with qtbot.waitSignal(view.results, timeout=5000):
        view.activate()
    return view


def test_the_case_list_exports_as_searched(qtbot, ui_ctx, app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    add_citation(app, number="LIST-OPEN", plate="7LST001")
    add_citation(app, number="LIST-PAID", plate="7LST002", status="paid")
    view = _cases(qtbot, ui_ctx)
    view.status.setCurrentIndex(view.status.findData("open"))
    with qtbot.waitSignal(view.results, timeout=5000):
        view.run_search()
    out = tmp_path / "open.csv"
    bar = view.export_bar
    bar.choose_path = lambda _title, _name, _filter: str(out)
    assert bar.button.isVisible() and [a.text() for a in bar.menu.actions() if a.text()][:2] == [
        "&Print…", "Save as &PDF…"]
    with qtbot.waitSignal(bar.exported, timeout=10000) as done:
        bar.actions_by_format["csv"].trigger()
    assert done.args[0].rows == 1
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert [r[0] for r in rows[1:]] == ["LIST-OPEN"]


def test_print_sends_the_list_to_the_printer(qtbot, ui_ctx, app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    add_citation(app, number="PRINT-1")
    printed = tmp_path / "printer-output.pdf"

    def printer(_parent):  # type: ignore[no-untyped-def]
        p = QPrinter(QPrinter.PrinterMode.HighResolution)
        p.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        p.setOutputFileName(str(printed))
        return p

    bar = ListExportBar(ui_ctx, "cases", lambda: None, choose_printer=printer)
    qtbot.addWidget(bar)
    with qtbot.waitSignal(bar.exported, timeout=20000) as done:
        bar.print_action.trigger()
    assert done.args[0].path.parent == app.paths.print_dir / "lists"
    assert printed.exists() and len(PdfReader(printed).pages) == 1
