"""A management report out of the application (issue 18, point 6): printed (PDF with its chart, through the
printing port), as a spreadsheet (XLSX: one sheet per table, real number, money, percent and date cells) or as
CSV (its tables one after the other, each under its title).

The cells are written by `desktop.services.core.exports` (the same typed cells and formula-safe CSV as every
list); each file is written beside its target and renamed when complete, and the export is audited.
"""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import xlsxwriter

from desktop.domain.errors import UserError
from desktop.domain.roles import Permission
from desktop.services.core import exports
from desktop.services.core.context import Actor, AppContext
from desktop.services.core.imports import csv_writer
from desktop.services.reports.catalog import run_report
from desktop.services.reports.model import ReportFilter, ReportResult
from reports.data import ColumnKind, ReportDocData

#: rows above a sheet's first table: title, period and filter, who and when, the summary, blank
_TOP = 3


def document(result: ReportResult, made_by: str) -> ReportDocData:
    """The printable data of a report."""
    return ReportDocData(result.title, result.filter.describe(), made_by, result.made_at, result.timezone_name,
                         result.agency_name, result.chart, result.tables, result.summary, result.empty,
                         result.currency_symbol)


def write_csv(doc: ReportDocData, out: Path) -> int:
    from zoneinfo import ZoneInfo  # lazy: already loaded by then (0 ms); keeps the module's imports short

    tz = ZoneInfo(doc.timezone_name)
    count = 0
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv_writer(fh)
        w.writerow([doc.title])
        w.writerow([f"Period and filter: {doc.filter_text}"])
        for line in doc.summary or ((doc.empty_text,) if doc.empty_text else ()):
            w.writerow([line])
        for table in doc.tables:
            w.writerow([])
            w.writerow([table.title])
            w.writerow([c.title + (" (%)" if c.kind is ColumnKind.PERCENT else "") for c in table.columns])
            for row in table.rows:
                w.writerow([exports._plain(v, c.kind, tz) for v, c in zip(row, table.columns, strict=True)])
                count += 1
    return count


def write_xlsx(doc: ReportDocData, out: Path) -> int:
    from zoneinfo import ZoneInfo  # lazy: already loaded by then (0 ms)

    tz = ZoneInfo(doc.timezone_name)
    book = xlsxwriter.Workbook(str(out), {"strings_to_formulas": False, "strings_to_urls": False,
                                          "strings_to_numbers": False})
    count = 0
    try:
        formats = exports.xlsx_formats(book, doc.currency_symbol)
        bold = book.add_format({"bold": True})
        head = book.add_format({"bold": True, "bg_color": "#EEF1F5", "bottom": 1})
        made = doc.made_at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
        tables = doc.tables or ()
        if not tables:
            sheet = book.add_worksheet("Report")
            sheet.write_string(0, 0, doc.title, bold)
            sheet.write_string(1, 0, f"Period and filter: {doc.filter_text}")
            sheet.write_string(2, 0, doc.empty_text)
        used: set[str] = set()
        for table in tables:
            name = table.title[:31].translate(str.maketrans("[]:*?/\\", "       "))
            while name in used:
                name = name[:29] + f"{len(used)}"
            used.add(name)
            sheet = book.add_worksheet(name)
            sheet.write_string(0, 0, f"{doc.title}: {table.title}", bold)
            sheet.write_string(1, 0, f"Period and filter: {doc.filter_text}; made by {doc.made_by} on {made}")
            top = _TOP + 1
            for i, line in enumerate(doc.summary):
                sheet.write_string(2 + i, 0, line)
                top = 3 + i + 1
            for col, c in enumerate(table.columns):
                sheet.write_string(top, col, c.title, head)
                sheet.set_column(col, col, max(12, min(48, int(14 * c.width))), formats.get(c.kind))
            sheet.freeze_panes(top + 1, 0)
            for r, row in enumerate(table.rows, start=top + 1):
                for col, (value, c) in enumerate(zip(row, table.columns, strict=True)):
                    exports.xlsx_cell(sheet, r, col, value, c.kind, formats, tz)
                count += 1
    except BaseException:
        book.close()
        raise
    book.close()
    return count


def format_of_report(out: Path) -> str:
    """The format of ``out`` by its extension; one sentence when it is not .pdf, .xlsx or .csv."""
    return exports.format_of(Path(out))


def export_report(app: AppContext, actor: Actor, key: str, flt: ReportFilter, out: Path | str,
                  fmt: str | None = None) -> exports.ExportResult:
    """Report ``key`` for ``flt`` to ``out`` as PDF, XLSX or CSV (by ``fmt`` or the file's extension)."""
    out = Path(out)
    chosen = exports.format_of(out, fmt)
    if not out.parent.is_dir():
        raise UserError(f"There is no folder {out.parent} to write {out.name} in.")
    result = run_report(app, actor, key, flt)
    return write_report(app, actor, result, out, chosen)


def write_report(app: AppContext, actor: Actor, result: ReportResult, out: Path, fmt: str) -> exports.ExportResult:
    """A report already run (what the screen shows) to ``out``; audited."""
    who = f"{actor.full_name} ({actor.username})" if actor.full_name else actor.username
    doc = document(result, who)
    with exports.written_whole(out) as tmp:
        if fmt == "pdf":
            count = app.renderer.report_pdf(doc, tmp)
        elif fmt == "xlsx":
            count = write_xlsx(doc, tmp)
        else:
            count = write_csv(doc, tmp)
    with app.uow(actor, Permission.REPORTS_VIEW) as uow:
        uow.audit("report.exported", "report", result.key, after={
            "filter": result.filter.describe(), "format": fmt, "rows": count, "file": out.name,
            "at": result.made_at.astimezone(UTC).isoformat(timespec="seconds")})
        uow.commit()
    return exports.ExportResult(out, fmt, count)
