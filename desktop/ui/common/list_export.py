"""Print / Export… for every list (issue 16, point 4): one button a screen puts beside its list.

`ListExportBar` holds a "Print / Export…" button with a menu (Print…, Save as PDF…, Spreadsheet
(XLSX)…, CSV…) and a progress bar with Cancel. It asks the screen for its current filter (a callable),
and runs `desktop.services.lists.export_list` off the GUI thread: the service reads the rows through
the screen's own list service and permission, so what is exported is what the user may see. Print
writes the PDF into the data folder's ``print/lists`` and sends it to the printer chosen in the print
dialog, at 100 %.

Signals: ``exported(ExportResult)`` when a file was written (and printed, for Print).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QDialog, QFileDialog, QHBoxLayout, QMenu, QPushButton, QWidget

from desktop.services import lists
from desktop.services.core.context import Actor, AppContext
from desktop.services.core.exports import ExportCancelled, ExportResult
from desktop.ui.common.operations import OpsHost, Query
from desktop.ui.common.printing import print_pdf
from desktop.ui.common.progress import ProgressPanel
from desktop.ui.common.tasks import TaskControl


class ExportHost(OpsHost, Protocol):
    """What the bar needs of the UI context (`desktop.ui.context.UiContext` is one)."""

    app: AppContext
    actor: Actor

    def info(self, text: str) -> None: ...

    def error(self, exc: BaseException) -> None: ...


#: (menu text, format, file filter)
CHOICES = (("Save as &PDF…", "pdf", "PDF files (*.pdf)"), ("&Spreadsheet (XLSX)…", "xlsx", "Excel workbooks (*.xlsx)"),
           ("&CSV…", "csv", "CSV files (*.csv)"))

#: asks where to save: (title, suggested file name, file filter) -> path, or "" when the user gave up
ChoosePath = Callable[[str, str, str], str]
#: asks for a printer: None when the user gave up
ChoosePrinter = Callable[[QWidget], QPrinter | None]


def _ask_printer(parent: QWidget) -> QPrinter | None:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    return printer if QPrintDialog(printer, parent).exec() == QDialog.DialogCode.Accepted else None


class ListExportBar(QWidget):
    """The Print / Export… button of one list, and its progress with Cancel."""

    exported = Signal(object)

    def __init__(self, ctx: ExportHost, key: str, current_filter: Callable[[], Any], parent: QWidget | None = None, *,
                 choose_path: ChoosePath | None = None, choose_printer: ChoosePrinter | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.key = key
        self.source = lists.source(key)
        self.current_filter = current_filter
        self.choose_path = choose_path or self._ask_path
        self.choose_printer = choose_printer or _ask_printer
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.button = QPushButton("Print / Export")
        self.button.setToolTip(f"Print the {self.source.title.lower()} as listed (with its filter), or save it as "
                               "PDF, XLSX or CSV")
        self.menu = QMenu(self.button)
        self.print_action = QAction("&Print…", self)
        self.print_action.triggered.connect(lambda _c=False: self.print_list())
        self.menu.addAction(self.print_action)
        self.menu.addSeparator()
        self.actions_by_format: dict[str, QAction] = {}
        for text, fmt, _filter in CHOICES:
            act = QAction(text, self)
            act.triggered.connect(lambda _c=False, f=fmt: self.export(f))
            self.menu.addAction(act)
            self.actions_by_format[fmt] = act
        self.button.setMenu(self.menu)
        lay.addWidget(self.button)
        self.progress_panel = ProgressPanel(text_format=True, min_total=0)
        self.progress_panel.bar.setMaximumWidth(160)
        lay.addWidget(self.progress_panel)

    def _ask_path(self, title: str, suggested: str, file_filter: str) -> str:
        path, _ = QFileDialog.getSaveFileName(self, title, str(Path.home() / suggested), file_filter)
        return path

    def _suggested(self, fmt: str) -> str:
        stamp = datetime.now().strftime("%Y-%m-%d")
        return f"{self.source.title.lower().replace(' ', '-')}-{stamp}.{fmt}"

    def export(self, fmt: str) -> None:
        """Ask where, then write the list as ``fmt``."""
        _text, _fmt, file_filter = next(c for c in CHOICES if c[1] == fmt)
        path = self.choose_path(f"Export the {self.source.title.lower()}", self._suggested(fmt), file_filter)
        if not path:
            return
        out = Path(path)
        if not out.suffix:
            out = out.with_suffix(f".{fmt}")
        self._run(out, fmt, None)

    def print_list(self) -> None:
        """Choose a printer, write the PDF into the data folder, and print it."""
        printer = self.choose_printer(self)
        if printer is None:
            return
        folder = self.ctx.app.paths.print_dir / "lists"
        folder.mkdir(parents=True, exist_ok=True)
        out = folder / f"{self.key}-{datetime.now().strftime('%Y%m%d-%H%M%S')}.pdf"
        self._run(out, "pdf", printer)

    def _run(self, out: Path, fmt: str, printer: QPrinter | None) -> None:
        app, actor, key, flt = self.ctx.app, self.ctx.actor, self.key, self.current_filter()

        def work(control: TaskControl) -> ExportResult:
            def progress(done: int, total: int) -> None:
                control.progress(done, total, f"{done:,} rows")

            result = lists.export_list(app, actor, key, flt, out, fmt, progress=progress,
                                       cancel=lambda: control.cancelled)
            if printer is not None:
                control.progress(0, 0, "Printing…")
                print_pdf(result.path, printer, cancelled=lambda: control.cancelled)
            return result

        def done(result: ExportResult) -> None:
            what = "printed" if printer is not None else f"written to {result.path}"
            self.ctx.info(f"{self.source.title}: {result.rows:,} rows {what}.")
            self.exported.emit(result)

        def failed(exc: BaseException) -> None:
            if isinstance(exc, ExportCancelled):
                self.ctx.info(str(exc))
            else:
                self.ctx.error(exc)

        verb = "Printing" if printer is not None else "Exporting"
        Query(self.ctx, self, work, success=done, failure=failed) \
            .with_progress(self.progress_panel, f"{verb} the {self.source.title.lower()}…").run()
