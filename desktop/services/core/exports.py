"""Any list out of the application: printed (PDF), to a spreadsheet (XLSX) or to CSV, from one piece.

A list is a `reports.data.TableData` (title, the filter it was made with, typed columns, who and when)
and its rows, an iterator read once, so a list of any length is written in constant memory:

- PDF through the printing port (``app.renderer.table_pdf``, ReportLab, page numbers, header on every
  page);
- XLSX with XlsxWriter in ``constant_memory`` mode: money, whole numbers and dates are real number and
  date cells with their formats, never text; title, filter and who/when above the header row, panes
  frozen under it. A sheet holds at most 1,048,576 rows (Excel's limit): a longer list is refused;
- CSV through ``imports.csv_writer``, which neutralises formula cells (OWASP "CSV Injection":
  https://owasp.org/www-community/attacks/CSV_Injection; a cell starting with = + - @ tab or CR gets a
  leading quote). Money is written as a decimal amount (94.00), dates as ISO 8601.

Every format is written beside its target and renamed when complete: a cancelled or failed export
leaves no file (and never a half-written one over an older file of the same name).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import xlsxwriter

from desktop.domain.errors import UserError
from desktop.services.core.context import AppContext
from desktop.services.core.imports import csv_writer
from reports.data import ColumnKind, TableData

FORMATS = ("pdf", "xlsx", "csv")
#: Excel's rows per sheet (https://support.microsoft.com/office/excel-specifications-and-limits)
XLSX_MAX_ROWS = 1_048_576
#: rows above the header in the XLSX sheet: title, filter, printed by, blank
_XLSX_TOP = 4
#: how often (in rows) the writers report progress and look at Cancel
STEP = 200

Progress = Callable[[int, int], None]
Cancel = Callable[[], bool]


class ExportCancelled(UserError):
    """The export was cancelled: no file was written."""


@dataclass(frozen=True)
class ExportResult:
    path: Path
    format: str
    rows: int


def format_of(out: Path, fmt: str | None = None) -> str:
    """The format asked for, or read from the file's extension; one sentence when it is none of ours."""
    chosen = (fmt or Path(out).suffix.lstrip(".")).lower()
    if chosen not in FORMATS:
        raise UserError(f"Cannot write a list as '{chosen or Path(out).name}': name the file .pdf (to print), "
                        ".xlsx (a spreadsheet) or .csv.")
    return chosen


def _checked(rows: Iterable[Sequence[Any]], width: int, progress: Progress | None,
             cancel: Cancel | None) -> Iterator[Sequence[Any]]:
    """The rows, with Cancel looked at and progress reported every ``STEP`` rows."""
    count = 0
    for row in rows:
        if len(row) != width:
            raise ValueError(f"a row of {len(row)} cells in a list of {width} columns")
        yield row
        count += 1
        if count % STEP == 0:
            if cancel is not None and cancel():
                raise ExportCancelled("Export cancelled; no file was written.")
            if progress is not None:
                progress(count, 0)


def _partial(out: Path) -> Path:
    return out.with_name(f".{out.name}.{os.getpid()}.partial")


@contextmanager
def written_whole(out: Path) -> Iterator[Path]:
    """Write to the path yielded; when the block ends, it becomes ``out`` in one rename. A failure leaves no
    half-written file (and ``out`` as it was): an OSError is one sentence naming the file."""
    tmp = _partial(out)
    try:
        yield tmp
        tmp.replace(out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UserError(f"Cannot write {out}: {exc.strerror or exc}.") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _plain(value: Any, kind: ColumnKind, tz: ZoneInfo) -> Any:
    """A CSV cell: money as a decimal amount, times in the list's zone, ISO dates."""
    if value is None:
        return ""
    if kind is ColumnKind.MONEY:
        return Decimal(int(value)).scaleb(-2)
    if kind is ColumnKind.DATETIME and isinstance(value, datetime):
        return (value.astimezone(tz) if value.tzinfo else value).isoformat(timespec="seconds")
    if kind is ColumnKind.DATE and isinstance(value, date):
        return value.isoformat()
    if kind is ColumnKind.NUMBER:
        return f"{float(value):.1f}"
    if kind is ColumnKind.PERCENT:
        return f"{float(value) * 100:.1f}"
    return value


def write_csv(table: TableData, rows: Iterable[Sequence[Any]], out: Path) -> int:
    tz = ZoneInfo(table.timezone_name)
    kinds = [c.kind for c in table.columns]
    count = 0
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv_writer(fh)
        w.writerow([c.title for c in table.columns])
        for row in rows:
            w.writerow([_plain(v, k, tz) for v, k in zip(row, kinds, strict=True)])
            count += 1
    return count


def write_xlsx(table: TableData, rows: Iterable[Sequence[Any]], out: Path) -> int:
    tz = ZoneInfo(table.timezone_name)
    book = xlsxwriter.Workbook(str(out), {"constant_memory": True, "strings_to_formulas": False,
                                          "strings_to_urls": False, "strings_to_numbers": False})
    try:
        sheet = book.add_worksheet((table.title[:31] or "List").translate(str.maketrans("[]:*?/\\", "       ")))
        bold = book.add_format({"bold": True})
        head = book.add_format({"bold": True, "bg_color": "#EEF1F5", "bottom": 1})
        formats = xlsx_formats(book, table.currency_symbol)
        made = table.made_at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
        sheet.write_string(0, 0, table.title, bold)
        sheet.write_string(1, 0, f"Filter: {table.filter_text or 'none (every row)'}")
        sheet.write_string(2, 0, f"Made by {table.made_by} on {made}")
        for col, c in enumerate(table.columns):
            sheet.write_string(_XLSX_TOP, col, c.title, head)
            sheet.set_column(col, col, max(10, min(48, int(12 * c.width))), formats.get(c.kind))
        sheet.freeze_panes(_XLSX_TOP + 1, 0)
        kinds = [c.kind for c in table.columns]
        r = _XLSX_TOP
        for row in rows:
            r += 1
            if r >= XLSX_MAX_ROWS:
                raise UserError(f"The list has more than {XLSX_MAX_ROWS - _XLSX_TOP - 1:,} rows, more than a "
                                "spreadsheet holds: narrow the filter, or export it as CSV.")
            for col, (value, kind) in enumerate(zip(row, kinds, strict=True)):
                xlsx_cell(sheet, r, col, value, kind, formats, tz)
        count = r - _XLSX_TOP
    except BaseException:
        book.close()
        raise
    book.close()
    return count


def xlsx_formats(book: Any, currency_symbol: str) -> dict[ColumnKind, Any]:
    """The cell format of each typed column kind in ``book`` (money with the agency's currency sign)."""
    symbol = currency_symbol.replace('"', "")
    return {
        ColumnKind.MONEY: book.add_format({"num_format": f'"{symbol}"#,##0.00;-"{symbol}"#,##0.00'}),
        ColumnKind.INT: book.add_format({"num_format": "#,##0"}),
        ColumnKind.DATE: book.add_format({"num_format": "yyyy-mm-dd"}),
        ColumnKind.DATETIME: book.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
        ColumnKind.NUMBER: book.add_format({"num_format": "#,##0.0"}),
        ColumnKind.PERCENT: book.add_format({"num_format": "0.0%"}),
    }


def xlsx_cell(sheet: Any, r: int, col: int, value: Any, kind: ColumnKind, formats: dict[ColumnKind, Any],
               tz: ZoneInfo) -> None:
    if value is None or value == "":
        return
    if kind is ColumnKind.MONEY:
        # a spreadsheet number is a binary double: cents/100 is exact to the cent for any real amount
        sheet.write_number(r, col, int(value) / 100, formats[kind])
    elif kind is ColumnKind.INT:
        sheet.write_number(r, col, int(value), formats[kind])
    elif kind in (ColumnKind.NUMBER, ColumnKind.PERCENT):
        sheet.write_number(r, col, float(value), formats[kind])
    elif kind is ColumnKind.DATETIME and isinstance(value, datetime):
        local = value.astimezone(tz) if value.tzinfo else value
        sheet.write_datetime(r, col, local.replace(tzinfo=None), formats[kind])
    elif kind is ColumnKind.DATE and isinstance(value, date):
        sheet.write_datetime(r, col, datetime(value.year, value.month, value.day), formats[kind])
    else:
        # text is always text: never turned into a formula, a number or a link
        sheet.write_string(r, col, " ".join(str(value).split()))


def export_table(app: AppContext, table: TableData, rows: Iterable[Sequence[Any]], out: Path | str,
                 fmt: str | None = None, *, progress: Progress | None = None,
                 cancel: Cancel | None = None) -> ExportResult:
    """Write ``table`` with ``rows`` to ``out`` as PDF, XLSX or CSV (by ``fmt`` or the file's extension).

    The caller has checked that the user may see these rows (the list services do, with the permission
    of the screen that shows them). Raises `ExportCancelled` when ``cancel()`` answered True."""
    out = Path(out)
    chosen = format_of(out, fmt)
    if not out.parent.is_dir():
        raise UserError(f"There is no folder {out.parent} to write {out.name} in.")
    checked = _checked(rows, len(table.columns), progress, cancel)
    with written_whole(out) as tmp:
        if chosen == "pdf":
            count = app.renderer.table_pdf(table, checked, tmp)
        elif chosen == "xlsx":
            count = write_xlsx(table, checked, tmp)
        else:
            count = write_csv(table, checked, tmp)
    if progress is not None:
        progress(count, count)
    return ExportResult(out, chosen, count)
