"""A management report on paper (issue 18): its title, period and filter, the chart drawn with
``reportlab.graphics`` (bars, stacked bars or a line, with axis titles and units), the summary sentences, then
each of its tables with the list printer of `reports.tables` ("Page N of M" on every page).

A report with nothing to chart prints its sentence where the chart would be.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from reportlab.graphics import renderPDF
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, Group, String
from reportlab.lib import colors
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from reports.base import ACCENT, FONT, FONT_BOLD, INK
from reports.data import ChartData, ReportDocData, TableData
from reports.tables import MARGIN, PAGE, TablePrinter, fit

#: the series colours (print legibly in grey too: dark, mid, light, ...)
PALETTE = ("#1f4e79", "#e07b00", "#7aa6c2", "#5b8c3a", "#b03a2e", "#8e6bb0", "#444444", "#c9a227")


def nice_ceiling(top: float) -> float:
    """The top of the value axis: the first of 1, 2, 2.5, 5 x 10^n at or above ``top`` (+5 %)."""
    import math  # lazy: a builtin module, loaded already (0 ms)

    top = max(top * 1.05, 1.0)
    scale = 10 ** math.floor(math.log10(top))
    return next(m * scale for m in (1, 2, 2.5, 5, 10) if m * scale >= top)


def chart_drawing(chart: ChartData, width: float, height: float) -> Drawing:
    """The chart as a ReportLab drawing ``width`` x ``height`` points."""
    d = Drawing(width, height)
    legend_h = 16 if len(chart.series) > 1 else 0
    many = len(chart.categories) > 12
    bottom = 70 if many else 40
    plot = HorizontalLineChart() if chart.kind == "line" else VerticalBarChart()
    plot.x, plot.y = 58, bottom
    plot.width, plot.height = width - 75, height - bottom - 20 - legend_h
    plot.data = [list(s.values) for s in chart.series]
    plot.categoryAxis.categoryNames = [fit(c, 70, FONT, 7) for c in chart.categories]
    plot.categoryAxis.labels.fontName = FONT
    plot.categoryAxis.labels.fontSize = 7
    if many:
        plot.categoryAxis.labels.angle = 45
        plot.categoryAxis.labels.boxAnchor = "ne"
        plot.categoryAxis.labels.dx, plot.categoryAxis.labels.dy = 4, -2
    plot.valueAxis.labels.fontName = FONT
    plot.valueAxis.labels.fontSize = 7
    plot.valueAxis.valueMin = 0
    top = max((sum(vals) for vals in zip(*plot.data, strict=True)) if chart.kind == "stacked"
              else (max(s.values, default=0) for s in chart.series), default=0)
    plot.valueAxis.valueMax = nice_ceiling(top)
    plot.valueAxis.labelTextFormat = (lambda v: f"{v:,.0f}")
    plot.valueAxis.visibleGrid = True
    plot.valueAxis.gridStrokeColor = colors.HexColor("#dddddd")
    for i in range(len(chart.series)):
        colour = colors.HexColor(PALETTE[i % len(PALETTE)])
        if chart.kind == "line":
            plot.lines[i].strokeColor = colour
            plot.lines[i].strokeWidth = 1.5
        else:
            plot.bars[i].fillColor = colour
            plot.bars[i].strokeColor = None
    if chart.kind == "stacked" and isinstance(plot, VerticalBarChart):
        plot.categoryAxis.style = "stacked"
    d.add(plot)
    y_title = Group(String(0, 0, chart.y_title, fontName=FONT_BOLD, fontSize=8, fillColor=INK, textAnchor="middle"))
    y_title.translate(10, plot.y + plot.height / 2)
    y_title.rotate(90)
    d.add(y_title)
    d.add(String(plot.x + plot.width / 2, 4, chart.x_title, fontName=FONT_BOLD, fontSize=8, fillColor=INK,
                 textAnchor="middle"))
    if legend_h:
        legend = Legend()
        legend.x, legend.y = plot.x, height - 6
        legend.fontName, legend.fontSize = FONT, 7.5
        legend.alignment = "right"
        legend.columnMaximum = 1
        legend.dx, legend.dy, legend.deltax = 8, 8, 70
        legend.colorNamePairs = [(colors.HexColor(PALETTE[i % len(PALETTE)]), s.name)
                                 for i, s in enumerate(chart.series)]
        d.add(legend)
    return d


def write_report_pdf(doc: ReportDocData, out_path: Path) -> int:
    """The report as a PDF at ``out_path``; returns the number of table rows printed."""
    tz = ZoneInfo(doc.timezone_name)
    canvas = Canvas(str(out_path), pagesize=PAGE, pageCompression=1)
    canvas.setTitle(doc.title)
    canvas.setAuthor(doc.made_by)
    canvas.setSubject(doc.filter_text)
    w, h = PAGE
    y = h - MARGIN
    canvas.setFillColor(ACCENT)
    canvas.setFont(FONT_BOLD, 15)
    canvas.drawString(MARGIN, y - 12, fit(doc.title, w - 2 * MARGIN - 200, FONT_BOLD, 15))
    canvas.setFont(FONT, 8)
    canvas.setFillColor(INK)
    if doc.agency_name:
        canvas.drawRightString(w - MARGIN, y - 12, fit(doc.agency_name, 200, FONT, 8))
    made = doc.made_at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
    canvas.setFont(FONT, 9)
    canvas.drawString(MARGIN, y - 28, fit(f"Period and filter: {doc.filter_text}", w - 2 * MARGIN, FONT, 9))
    canvas.drawString(MARGIN, y - 40, f"Printed by {doc.made_by} on {made}")
    y -= 52
    # each summary sentence wrapped to the page's width (a long one is never cut at the edge)
    lines = [part for line in doc.summary for part in simpleSplit(line, FONT, 9, w - 2 * MARGIN)]
    chart_h = y - MARGIN - 14 * len(lines) - 20
    if doc.chart is not None:
        drawing = chart_drawing(doc.chart, w - 2 * MARGIN, chart_h)
        renderPDF.draw(drawing, canvas, MARGIN, y - chart_h)
        y -= chart_h + 8
    else:
        canvas.setFont(FONT, 11)
        canvas.drawString(MARGIN, y - 30, fit(doc.empty_text or "Nothing to show.", w - 2 * MARGIN, FONT, 11))
        y -= 50
    canvas.setFont(FONT, 9)
    for line in lines:
        canvas.drawString(MARGIN, y - 10, line)
        y -= 14
    pages = 1
    count = 0
    printers = []
    for table in doc.tables:
        printers.append(TablePrinter(TableData(f"{doc.title}: {table.title}", doc.filter_text, table.columns,
                                               doc.made_by, doc.made_at, doc.timezone_name, doc.agency_name,
                                               doc.currency_symbol)))
    # page 1's footer, then every table from a new page; the page numbers run on across them
    canvas.setFont(FONT, 7.5)
    canvas.drawString(MARGIN, MARGIN - 16, fit(doc.title, 400, FONT, 7.5))
    canvas.drawRightString(w - MARGIN - 22, MARGIN - 16, "Page 1 of")
    canvas.doForm("total")
    canvas.showPage()
    for printer, table in zip(printers, doc.tables, strict=True):
        printer.page = pages
        count += printer.draw_pages(canvas, table.rows)
        pages = printer.page
    canvas.beginForm("total")
    canvas.setFont(FONT, 7.5)
    canvas.setFillColor(INK)
    canvas.drawString(w - MARGIN - 19, MARGIN - 16, str(pages))
    canvas.endForm()
    canvas.save()
    return count
