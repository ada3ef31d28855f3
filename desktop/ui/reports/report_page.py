"""One management report on screen (issue 18, point 4): the period and filter on top, the chart, its summary,
and its tables in tabs; Print…, Save PDF…, Spreadsheet (XLSX)… and CSV… write exactly what is shown.

The report is counted off the GUI thread (`Query`); a backwards period is refused before anything is read; a
period with nothing in it shows a sentence where the chart would be.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.errors import UserError
from desktop.services.core.exports import ExportResult
from desktop.services.reports.catalog import report, run_report
from desktop.services.reports.model import GROUPS, ReportFilter, ReportResult
from desktop.services.reports.output import write_report
from desktop.ui.common.operations import Query
from desktop.ui.common.printing import print_pdf
from desktop.ui.common.tasks import TaskControl
from desktop.ui.context import UiContext
from desktop.ui.reports.chart import chart_view
from reports.data import ColumnKind, ReportTable
from reports.tables import cell_text

#: the period a report opens on: the last 90 days, today included
DEFAULT_DAYS = 90


class ReportPage(QWidget):
    """The screen of report ``KEY``."""

    KEY = ""

    def __init__(self, ctx: UiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.rep = report(self.KEY)
        self.result: ReportResult | None = None
        self.loaded = False
        today = ctx.app.now().astimezone(ctx.tz).date()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 0, 0, 0)
        title = QLabel(f"<h2>{self.rep.title}</h2><span style='color:#555'>{self.rep.what.capitalize()}.</span>")
        top = QHBoxLayout()
        top.addWidget(title, 1)
        lay.addLayout(top)
        bar = QHBoxLayout()
        self.date_from = QDateEdit(QDate(*(today - timedelta(days=DEFAULT_DAYS - 1)).timetuple()[:3]))
        self.date_to = QDateEdit(QDate(*today.timetuple()[:3]))
        for edit in (self.date_from, self.date_to):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        bar.addWidget(QLabel("From"))
        bar.addWidget(self.date_from)
        bar.addWidget(QLabel("To"))
        bar.addWidget(self.date_to)
        self.zone, self.officer, self.code, self.profile = (QLineEdit() for _ in range(4))
        line_edit: QLineEdit
        for line_edit, hint, width in ((self.zone, "any zone", 150), (self.officer, "any officer (badge)", 150),
                                  (self.code, "any code", 100), (self.profile, "any profile", 100)):
            line_edit.setPlaceholderText(hint)
            line_edit.setMaximumWidth(width)
            line_edit.setClearButtonEnabled(True)
            line_edit.returnPressed.connect(self.refresh)
            bar.addWidget(line_edit)
        self.group = QComboBox()
        for key, name in GROUPS.items():
            self.group.addItem(f"by {name}", key)
        self.group.setVisible(self.KEY == "citations")
        self.group.currentIndexChanged.connect(lambda _i: self.refresh())
        bar.addWidget(self.group)
        self.show_button = QPushButton("Show")
        self.show_button.setToolTip("Count the report for this period and filter (F5)")
        self.show_button.clicked.connect(self.refresh)
        bar.addWidget(self.show_button)
        bar.addStretch(1)
        self.print_button = QPushButton("Print…")
        self.print_button.setToolTip("Print the report as shown, its chart and tables (Ctrl+P)")
        self.print_button.clicked.connect(self.print_report)
        self.pdf_button = QPushButton("Save PDF…")
        self.pdf_button.clicked.connect(lambda: self.export("pdf"))
        self.xlsx_button = QPushButton("Spreadsheet (XLSX)…")
        self.xlsx_button.clicked.connect(lambda: self.export("xlsx"))
        self.csv_button = QPushButton("CSV…")
        self.csv_button.clicked.connect(lambda: self.export("csv"))
        for b in (self.print_button, self.pdf_button, self.xlsx_button, self.csv_button):
            b.setEnabled(False)
            top.addWidget(b, 0, Qt.AlignmentFlag.AlignBottom)
        lay.addLayout(bar)
        split = QSplitter(Qt.Orientation.Vertical)
        self.chart_stack = QStackedWidget()
        self.sentence = QLabel("Choose a period and press Show.")
        self.sentence.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.sentence.setWordWrap(True)
        self.sentence.setStyleSheet("font-size: 14px; color: #444; padding: 24px")
        self.chart_stack.addWidget(self.sentence)
        upper = QWidget()
        up = QVBoxLayout(upper)
        up.setContentsMargins(0, 0, 0, 0)
        up.addWidget(self.chart_stack, 1)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        up.addWidget(self.summary)
        split.addWidget(upper)
        self.tabs = QTabWidget()
        split.addWidget(self.tabs)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        lay.addWidget(split, 1)
        QShortcut(QKeySequence("F5"), self, self.refresh)
        QShortcut(QKeySequence("Ctrl+P"), self, self.print_report)

    # ------------------------------------------------------------------ filter
    def current_filter(self) -> ReportFilter:
        def day(edit: QDateEdit) -> date:
            q = edit.date()
            return date(q.year(), q.month(), q.day())

        return ReportFilter(day(self.date_from), day(self.date_to), self.zone.text(), self.officer.text(),
                            self.code.text(), self.profile.text(), str(self.group.currentData() or "day"))

    def activate(self) -> None:
        if not self.loaded:
            self.loaded = True
            self.refresh()

    def refresh(self) -> None:
        try:
            flt = self.current_filter().checked()
        except UserError as exc:
            self.show_sentence(str(exc))
            return
        app, actor, key = self.ctx.app, self.ctx.actor, self.KEY
        self.show_button.setEnabled(False)
        self.sentence.setText("Counting…")

        def done(result: ReportResult) -> None:
            self.show_button.setEnabled(True)
            self.show_result(result)

        def failed(exc: BaseException) -> None:
            self.show_button.setEnabled(True)
            if isinstance(exc, UserError):
                self.show_sentence(str(exc))
            else:
                self.ctx.error(exc)

        Query(self.ctx, self, lambda _c: run_report(app, actor, key, flt), success=done, failure=failed).run()

    # ------------------------------------------------------------------ showing
    def show_sentence(self, text: str) -> None:
        self.result = None
        self.sentence.setText(text)
        self.chart_stack.setCurrentWidget(self.sentence)
        self.summary.setText("")
        self.tabs.clear()
        for b in (self.print_button, self.pdf_button, self.xlsx_button, self.csv_button):
            b.setEnabled(False)

    def show_result(self, result: ReportResult) -> None:
        self.result = result
        while self.chart_stack.count() > 1:
            old = self.chart_stack.widget(1)
            if old is None:
                break
            self.chart_stack.removeWidget(old)
            old.deleteLater()
        if result.chart is not None:
            view = chart_view(result.chart, result.currency_symbol)
            self.chart_stack.addWidget(view)
            self.chart_stack.setCurrentWidget(view)
        else:
            self.sentence.setText(result.empty)
            self.chart_stack.setCurrentWidget(self.sentence)
        self.summary.setText(" ".join(result.summary))
        self.tabs.clear()
        for table in result.tables:
            self.tabs.addTab(self._table(table, result), table.title)
        for b in (self.print_button, self.pdf_button, self.xlsx_button, self.csv_button):
            b.setEnabled(True)

    def _table(self, table: ReportTable, result: ReportResult) -> QTableWidget:
        from zoneinfo import ZoneInfo  # lazy: loaded already by the services (0 ms)

        tz = ZoneInfo(result.timezone_name)
        w = QTableWidget(len(table.rows), len(table.columns))
        w.setHorizontalHeaderLabels([c.title for c in table.columns])
        w.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        w.setAlternatingRowColors(True)
        w.verticalHeader().setVisible(False)
        right = {ColumnKind.INT, ColumnKind.MONEY, ColumnKind.NUMBER, ColumnKind.PERCENT, ColumnKind.DATE}
        for r, row in enumerate(table.rows):
            for c, (value, col) in enumerate(zip(row, table.columns, strict=True)):
                item = QTableWidgetItem(cell_text(value, col.kind, tz, result.currency_symbol))
                if col.kind in right:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                w.setItem(r, c, item)
        w.resizeColumnsToContents()
        w.horizontalHeader().setStretchLastSection(True)
        return w

    # ------------------------------------------------------------------ out
    def export(self, fmt: str, path: str | None = None) -> None:
        if self.result is None:
            return
        if path is None:
            stamp = datetime.now().strftime("%Y-%m-%d")
            filters = {"pdf": "PDF files (*.pdf)", "xlsx": "Excel workbooks (*.xlsx)", "csv": "CSV files (*.csv)"}
            path, _ = QFileDialog.getSaveFileName(self, f"Save the {self.rep.title.lower()} report",
                                                  str(Path.home() / f"{self.KEY}-report-{stamp}.{fmt}"), filters[fmt])
            if not path:
                return
        out = Path(path)
        if not out.suffix:
            out = out.with_suffix(f".{fmt}")
        self._write(out, fmt, None)

    def print_report(self) -> None:
        if self.result is None:
            return
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        if QPrintDialog(printer, self).exec() != QDialog.DialogCode.Accepted:
            return
        folder = self.ctx.app.paths.print_dir / "reports"
        folder.mkdir(parents=True, exist_ok=True)
        self._write(folder / f"{self.KEY}-{datetime.now().strftime('%Y%m%d-%H%M%S')}.pdf", "pdf", printer)

    def _write(self, out: Path, fmt: str, printer: QPrinter | None) -> None:
        app, actor, result = self.ctx.app, self.ctx.actor, self.result
        assert result is not None

        def work(control: TaskControl) -> ExportResult:
            written = write_report(app, actor, result, out, fmt)
            if printer is not None:
                control.progress(0, 0, "Printing…")
                print_pdf(written.path, printer, cancelled=lambda: control.cancelled)
            return written

        def done(written: ExportResult) -> None:
            what = "printed" if printer is not None else f"written to {written.path}"
            self.ctx.info(f"{self.rep.title} report {what}.")

        Query(self.ctx, self, work, success=done).run()


class CitationsReportPage(ReportPage):
    KEY = "citations"


class ReviewReportPage(ReportPage):
    KEY = "review"


class RevenueReportPage(ReportPage):
    KEY = "revenue"


class AgeingReportPage(ReportPage):
    KEY = "ageing"


class NoticesReportPage(ReportPage):
    KEY = "notices"


class AppealsReportPage(ReportPage):
    KEY = "appeals"


class PlansReportPage(ReportPage):
    KEY = "plans"
