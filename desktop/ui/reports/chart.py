"""A report's chart on screen with QtCharts: bars, stacked bars or a line over the categories, the axis
titles with their units, a legend when there are several series, values on hover."""

from __future__ import annotations

import math

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QChart,
    QChartView,
    QLineSeries,
    QStackedBarSeries,
    QValueAxis,
)
from PySide6.QtCore import QMargins, Qt
from PySide6.QtGui import QColor, QFont, QPainter

from reports.data import ChartData

#: the series colours, the printed report's (reports.management.PALETTE)
PALETTE = ("#1f4e79", "#e07b00", "#7aa6c2", "#5b8c3a", "#b03a2e", "#8e6bb0", "#444444", "#c9a227")


def nice_ceiling(top: float) -> float:
    top = max(top * 1.05, 1.0)
    scale = 10 ** math.floor(math.log10(top))
    return next(m * scale for m in (1, 2, 2.5, 5, 10) if m * scale >= top)


def build_chart(data: ChartData, symbol: str) -> QChart:
    chart = QChart()
    chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
    chart.setMargins(QMargins(4, 4, 4, 4))
    chart.legend().setVisible(len(data.series) > 1)
    chart.legend().setAlignment(Qt.AlignmentFlag.AlignTop)
    cats = QBarCategoryAxis()
    cats.append(list(data.categories))
    cats.setTitleText(data.x_title)
    small = QFont()
    small.setPointSizeF(8)
    cats.setLabelsFont(small)
    if len(data.categories) > 10:
        cats.setLabelsAngle(-45)
    values = QValueAxis()
    values.setTitleText(data.y_title)
    values.setLabelFormat("%.0f")
    values.setLabelsFont(small)
    if data.kind == "stacked":
        top = max((sum(v) for v in zip(*(s.values for s in data.series), strict=True)), default=0.0)
    else:
        top = max((max(s.values, default=0.0) for s in data.series), default=0.0)
    values.setRange(0, nice_ceiling(top))
    values.applyNiceNumbers()
    chart.addAxis(cats, Qt.AlignmentFlag.AlignBottom)
    chart.addAxis(values, Qt.AlignmentFlag.AlignLeft)
    if data.kind == "line":
        for i, s in enumerate(data.series):
            line = QLineSeries()
            line.setName(s.name)
            for x, v in enumerate(s.values):
                line.append(x, v)
            line.setColor(QColor(PALETTE[i % len(PALETTE)]))
            chart.addSeries(line)
            line.attachAxis(values)
        hidden = QValueAxis()  # the line's x positions; the category axis shows their names
        hidden.setRange(0, max(len(data.categories) - 1, 1))
        hidden.setVisible(False)
        chart.addAxis(hidden, Qt.AlignmentFlag.AlignBottom)
        for series in chart.series():
            series.attachAxis(hidden)
        return chart
    bars = QStackedBarSeries() if data.kind == "stacked" else QBarSeries()
    for i, s in enumerate(data.series):
        bar_set = QBarSet(s.name)
        bar_set.append([float(v) for v in s.values])
        bar_set.setColor(QColor(PALETTE[i % len(PALETTE)]))
        bar_set.setBorderColor(QColor(PALETTE[i % len(PALETTE)]))
        bars.append(bar_set)
    bars.setBarWidth(0.7)
    chart.addSeries(bars)
    bars.attachAxis(cats)
    bars.attachAxis(values)

    def hovered(status: bool, index: int, bar_set: QBarSet) -> None:
        value = bar_set.at(index)
        amount = f"{symbol}{value:,.2f}" if data.money else f"{value:,.0f}"
        text = f"{bar_set.label()}, {data.categories[index]}: {amount}"
        chart.setToolTip(text if status else "")

    bars.hovered.connect(hovered)
    return chart


def chart_view(data: ChartData, symbol: str) -> QChartView:
    """The chart of a report whose money (if any) is in the currency of sign ``symbol`` (its bars' tooltips)."""
    view = QChartView(build_chart(data, symbol))
    view.setRenderHint(QPainter.RenderHint.Antialiasing)
    view.setMinimumHeight(240)
    return view
