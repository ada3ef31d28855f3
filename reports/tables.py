"""Any list on paper: a title, the filter it was made with, who printed it and when, the columns, and
the rows, with "Page N of M" on every page.

The rows are drawn straight onto the canvas as they come from the iterator, page after page, so a list
of a hundred thousand cases costs the memory of one page (platypus would hold every row as a flowable).
The total page count is known only at the end: each page draws a form XObject ("total") that is defined
after the last page, which PDF allows (ReportLab resolves forms by name when the file is saved).

Long cells are cut to their column with an ellipsis; numbers, money and dates are right-aligned. The
file is written beside its target and renamed when complete, so a cancelled or failed print leaves no
file behind.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.pagesizes import landscape, letter
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from reports.base import ACCENT, FONT, FONT_BOLD, INK, RULE, SHADE, money
from reports.data import ColumnKind, TableColumn, TableData

#: progress(rows drawn so far, 0 = total unknown)
Progress = Callable[[int, int], None]
Cancel = Callable[[], bool]

PAGE = landscape(letter)
MARGIN = 36.0
ROW_H = 12.5
BODY_SIZE = 7.6
HEAD_SIZE = 7.6
RIGHT = frozenset({ColumnKind.INT, ColumnKind.MONEY, ColumnKind.DATE, ColumnKind.DATETIME, ColumnKind.NUMBER,
                   ColumnKind.PERCENT})
PAD = 3.0


class TableCancelled(Exception):
    """The print was cancelled between rows; no file was left behind."""


def cell_text(value: Any, kind: ColumnKind, tz: ZoneInfo, symbol: str = "$") -> str:
    """A cell as printed: money from cents, a date as ISO, a time in the table's zone, None as blank."""
    if value is None:
        return ""
    if kind is ColumnKind.MONEY:
        return money(int(value), symbol)
    if kind is ColumnKind.INT:
        return f"{int(value):,}"
    if kind is ColumnKind.NUMBER:
        return f"{float(value):,.1f}"
    if kind is ColumnKind.PERCENT:
        return f"{float(value) * 100:.1f} %"
    if kind is ColumnKind.DATETIME and isinstance(value, datetime):
        local = value.astimezone(tz) if value.tzinfo else value
        return local.strftime("%Y-%m-%d %H:%M")
    if kind is ColumnKind.DATE and isinstance(value, date):
        return value.isoformat()
    return " ".join(str(value).split())


def fit(text: str, width: float, font: str = FONT, size: float = BODY_SIZE) -> str:
    """``text`` cut with an ellipsis to fit ``width`` points."""
    if stringWidth(text, font, size) <= width:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # the longest prefix that fits with the ellipsis
        mid = (lo + hi + 1) // 2
        if stringWidth(text[:mid] + "…", font, size) <= width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo] + "…"


#: the widest value a column of these kinds prints (a date or a time is never cut: "2026-12-2…" says nothing;
#: a heading neither: "St…", "Warni…")
_WIDEST = {ColumnKind.DATE: "2026-12-31", ColumnKind.DATETIME: "2026-12-31 23:59"}


def column_widths(columns: Sequence[TableColumn], width: float) -> list[float]:
    """Each column's share of ``width`` by its weight, except that a column gets at least what its heading needs,
    and a date or date-and-time column what its value needs too (the others share the rest by weight), as long as
    the page has room for that."""
    needs = [max(stringWidth(_WIDEST.get(c.kind, ""), FONT, BODY_SIZE), stringWidth(c.title, FONT_BOLD, HEAD_SIZE))
             + 2 * PAD for c in columns]
    if sum(needs) >= width:  # (a list of many dates on one page: by weight, as before)
        needs = [0.0] * len(columns)
    fixed: set[int] = set()
    while True:
        free = width - sum(needs[i] for i in fixed)
        weight = sum(c.width for i, c in enumerate(columns) if i not in fixed) or 1.0
        widths = [needs[i] if i in fixed else free * c.width / weight for i, c in enumerate(columns)]
        short = {i for i, w in enumerate(widths) if i not in fixed and w < needs[i]}
        if not short:
            return widths
        fixed |= short


class TablePrinter:
    """Draws one list onto a canvas, page by page."""

    def __init__(self, table: TableData) -> None:
        self.table = table
        self.tz = ZoneInfo(table.timezone_name)
        self.widths = column_widths(table.columns, PAGE[0] - 2 * MARGIN)
        self.x = [MARGIN + sum(self.widths[:i]) for i in range(len(self.widths))]
        self.page = 0

    # ------------------------------------------------------------ page furniture
    def _header(self, canvas: Canvas) -> float:
        t = self.table
        w, h = PAGE
        y = h - MARGIN
        canvas.setFillColor(ACCENT)
        canvas.setFont(FONT_BOLD, 13)
        canvas.drawString(MARGIN, y - 10, fit(t.title, w - 2 * MARGIN - 200, FONT_BOLD, 13))
        canvas.setFont(FONT, 8)
        canvas.setFillColor(INK)
        if t.agency_name:
            canvas.drawRightString(w - MARGIN, y - 10, fit(t.agency_name, 200, FONT, 8))
        made = t.made_at.astimezone(self.tz).strftime("%Y-%m-%d %H:%M %Z")
        canvas.drawString(MARGIN, y - 24, fit(f"Filter: {t.filter_text or 'none (every row)'}", w - 2 * MARGIN, FONT, 8))
        canvas.drawString(MARGIN, y - 35, f"Printed by {t.made_by} on {made}")
        y -= 44
        canvas.setFillColor(SHADE)
        canvas.rect(MARGIN, y - ROW_H + 3, w - 2 * MARGIN, ROW_H, stroke=0, fill=1)
        canvas.setFillColor(ACCENT)
        canvas.setFont(FONT_BOLD, HEAD_SIZE)
        for col, x, cw in zip(t.columns, self.x, self.widths, strict=True):
            label = fit(col.title, cw - 2 * PAD, FONT_BOLD, HEAD_SIZE)
            if col.kind in RIGHT:
                canvas.drawRightString(x + cw - PAD, y - 6, label)
            else:
                canvas.drawString(x + PAD, y - 6, label)
        canvas.setFillColor(INK)
        return y - ROW_H

    def _footer(self, canvas: Canvas) -> None:
        w = PAGE[0]
        canvas.setStrokeColor(RULE)
        canvas.line(MARGIN, MARGIN - 6, w - MARGIN, MARGIN - 6)
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(INK)
        canvas.drawString(MARGIN, MARGIN - 16, fit(self.table.title, 400, FONT, 7.5))
        canvas.drawRightString(w - MARGIN - 22, MARGIN - 16, f"Page {self.page} of")
        canvas.doForm("total")

    # ------------------------------------------------------------ rows
    def draw(self, canvas: Canvas, rows: Iterable[Sequence[Any]], progress: Progress | None = None,
             cancel: Cancel | None = None) -> int:
        """Every row onto ``canvas``; returns how many were drawn."""
        count = self.draw_pages(canvas, rows, progress, cancel)
        canvas.beginForm("total")
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(INK)
        canvas.drawString(PAGE[0] - MARGIN - 19, MARGIN - 16, str(self.page))
        canvas.endForm()
        if progress is not None:
            progress(count, count)
        return count

    def draw_pages(self, canvas: Canvas, rows: Iterable[Sequence[Any]], progress: Progress | None = None,
                   cancel: Cancel | None = None) -> int:
        """Every row onto ``canvas``, its pages numbered on from ``self.page``, each footer drawing the form
        "total" (the caller defines it once the last page is known); returns how many rows were drawn."""
        t = self.table
        kinds = [c.kind for c in t.columns]
        count = 0
        y = 0.0
        bottom = MARGIN + 4
        started = False
        for row in rows:
            if not started or y - ROW_H < bottom:
                if started:
                    self._footer(canvas)
                    canvas.showPage()
                self.page += 1
                y = self._header(canvas)
                canvas.setFont(FONT, BODY_SIZE)
                started = True
            if count % 2:
                canvas.setFillColor(colors.HexColor("#f6f8fa"))
                canvas.rect(MARGIN, y - ROW_H + 3.5, PAGE[0] - 2 * MARGIN, ROW_H, stroke=0, fill=1)
                canvas.setFillColor(INK)
            for value, kind, x, cw in zip(row, kinds, self.x, self.widths, strict=True):
                text = fit(cell_text(value, kind, self.tz, t.currency_symbol), cw - 2 * PAD)
                if kind in RIGHT:
                    canvas.drawRightString(x + cw - PAD, y - 6, text)
                else:
                    canvas.drawString(x + PAD, y - 6, text)
            y -= ROW_H
            count += 1
            if count % 200 == 0:
                if cancel is not None and cancel():
                    raise TableCancelled()
                if progress is not None:
                    progress(count, 0)
        if not started:
            self.page += 1
            y = self._header(canvas)
            canvas.setFont(FONT, 9)
            canvas.drawString(MARGIN + PAD, y - 10, "Nothing matches this filter.")
        canvas.setFont(FONT, 8)
        canvas.drawString(MARGIN + PAD, max(y - 14, bottom), f"{count:,} rows")
        self._footer(canvas)
        canvas.showPage()
        return count


def write_table_pdf(table: TableData, rows: Iterable[Sequence[Any]], out_path: Path,
                    progress: Progress | None = None, cancel: Cancel | None = None) -> int:
    """The list as a PDF at ``out_path`` (written beside it, then renamed); returns the number of rows.
    Raises `TableCancelled` when ``cancel()`` answered True (no file is left)."""
    out_path = Path(out_path)
    tmp = out_path.with_name(f".{out_path.name}.{os.getpid()}.partial")
    canvas = Canvas(str(tmp), pagesize=PAGE, pageCompression=1)
    canvas.setTitle(table.title)
    canvas.setAuthor(table.made_by)
    canvas.setSubject(table.filter_text)
    try:
        count = TablePrinter(table).draw(canvas, rows, progress, cancel)
        canvas.save()
        tmp.replace(out_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return count
