"""Printing PDFs on a QPrinter at 100 %: the one print path for notices, letters and receipts.

Each page is rendered by QPdfDocument into an image and painted on the printer; tested against a
PDF-file printer.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QMarginsF, QRectF, QSize, QSizeF
from PySide6.QtGui import QPageLayout, QPageSize, QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPrintSupport import QPrinter

from desktop.domain.errors import UserError

PRINT_DPI = 300  # pages are rendered at most at this resolution, whatever the printer's


def match_page_size(printer: QPrinter, doc: QPdfDocument) -> None:
    """Set the printer to the document's paper at 100 %: a window envelope needs the address and the
    barcode exactly where the page puts them, so the page is never scaled to fit other paper."""
    if doc.pageCount() < 1:
        return
    points = doc.pagePointSize(0)
    size = QPageSize(QSizeF(points.width(), points.height()), QPageSize.Unit.Point, "",
                     QPageSize.SizeMatchPolicy.FuzzyMatch)
    printer.setPageSize(size)
    printer.setPageOrientation(QPageLayout.Orientation.Portrait)
    printer.setFullPage(True)
    printer.setPageMargins(QMarginsF(0, 0, 0, 0), QPageLayout.Unit.Point)


def print_pdf(path: str | Path, printer: QPrinter, progress: Callable[[int, int], None] | None = None,
              cancelled: Callable[[], bool] | None = None, dpi: int = PRINT_DPI, set_paper: bool = True) -> int:
    """Print a PDF file on `printer`: each page rendered by QPdfDocument to an image, painted at 100 %.

    With `set_paper` the printer takes the document's paper size (Letter for US notices, A4 for England)
    and prints edge to edge. Honours the printer's page range (fromPage/toPage, 1-based, 0 = all).
    Returns the pages printed. Safe on a worker thread (QPainter on a QPrinter and QImage are; no widget
    is touched).
    """
    doc = QPdfDocument()
    error = doc.load(str(path))
    if error != QPdfDocument.Error.None_:
        raise UserError(f"The batch file {path} cannot be opened ({error.name}).")
    try:
        total = doc.pageCount()
        first = max(printer.fromPage(), 1) - 1 if printer.fromPage() else 0
        last = min(printer.toPage(), total) - 1 if printer.toPage() else total - 1
        pages = list(range(first, last + 1))
        if not pages:
            return 0
        if set_paper:
            match_page_size(printer, doc)
        painter = QPainter()
        if not painter.begin(printer):
            raise UserError("The printer could not be started; check that it is on and try again.")
        printed = 0
        try:
            device_dpi = printer.resolution()
            render_dpi = min(device_dpi, dpi)
            paper = printer.paperRect(QPrinter.Unit.DevicePixel)
            page_rect = printer.pageRect(QPrinter.Unit.DevicePixel)
            for k, page in enumerate(pages):
                if cancelled is not None and cancelled():
                    break
                if k:
                    printer.newPage()
                points = doc.pagePointSize(page)
                image = doc.render(page, QSize(round(points.width() / 72 * render_dpi),
                                               round(points.height() / 72 * render_dpi)))
                if image.isNull():
                    raise UserError(f"Page {page + 1} of {path} could not be rendered for printing.")
                # 100 %: one PDF point is 1/72 inch on paper. The painter's origin is the printable
                # area's corner unless the printer prints edge to edge.
                w, h = points.width() / 72 * device_dpi, points.height() / 72 * device_dpi
                x0 = paper.x() - page_rect.x() if not printer.fullPage() else 0.0
                y0 = paper.y() - page_rect.y() if not printer.fullPage() else 0.0
                painter.drawImage(QRectF(x0, y0, w, h), image)
                printed += 1
                if progress is not None:
                    progress(printed, len(pages))
            return printed
        finally:
            painter.end()
    finally:
        doc.close()
