"""The compliance map (issue 18, point 1): each zone's compliance and demand over a period, on the offline
map (zones coloured by the chosen measure, with a legend), in a table, and as an hour-of-week heat table;
clicking a zone (on the map or in the table) shows its figures and its week-by-week trend.

Everything is read off the GUI thread (``Query``); the figures come from
``desktop.services.patrol.stats`` and ``compliance_map``, which refuse a clerk (``REPORTS_VIEW``). What is
missing is said in words: a period with no data, a zone not patrolled, a zone with no shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from PySide6.QtCharts import QChart, QChartView, QDateTimeAxis, QLineSeries, QValueAxis
from PySide6.QtCore import QDate, QDateTime, Qt, QTime, Signal
from PySide6.QtGui import QBrush, QColor, QKeySequence, QPainter, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.services.patrol import stats as stats_service
from desktop.services.patrol.compliance_map import NO_DATA, ComplianceMap, compliance_map, no_value_text
from desktop.services.patrol.stats import DAYS, MEASURES, HourGrid, WeekPoint, ZoneStats
from desktop.ui.common.map_view import MapView
from desktop.ui.common.operations import Query
from desktop.ui.context import UiContext

PERIODS = (("Last 7 days", 7), ("Last 28 days", 28), ("Last 90 days", 90), ("Last 365 days", 365))
ZONE_COLUMNS = ("Zone", "Checked", "Compliant", "Rate", "Citations", "Voids", "Dismissed", "Hours", "Per hour")


@dataclass(frozen=True)
class Loaded:
    map: ComplianceMap
    start: date
    end: date


def _fmt(measure: str, value: float | None) -> str:
    if value is None:
        return ""
    if measure == "compliance":
        return f"{value * 100:.0f}"
    if measure in ("violations_per_hour", "hours"):
        return f"{value:.1f}" if value < 10 else f"{value:.0f}"
    return f"{value:,.0f}"


def heat_colour(value: float | None, peak: float, higher_better: bool, rate: bool = False) -> QColor:
    """Grey for no value; a rate from red (40 % or less) through yellow to green (95 % or more); a count
    from white to a strong red (the bad end: citations, voids) or green (checks, hours) at the peak."""
    if value is None:
        return QColor("#eeeeee")
    if rate:
        return QColor.fromHsvF(0.33 * max(0.0, min(1.0, (value - 0.4) / 0.55)), 0.55, 0.97)
    share = max(0.0, min(1.0, value / peak)) if peak else 0.0
    return QColor.fromHsvF(0.33 if higher_better else 0.0, 0.06 + 0.7 * share, 0.98 - 0.12 * share)


def _page(heading: QLabel, body: QWidget) -> QWidget:
    """A tab's page: its heading above a widget that takes the rest of the height."""
    page = QWidget()
    layout = QVBoxLayout(page)
    layout.setContentsMargins(4, 4, 4, 4)
    layout.addWidget(heading)
    layout.addWidget(body, 1)
    return page


class HeatTable(QTableWidget):
    """7 days x 24 hours, each cell coloured by its value (the value in it, its sentence as tooltip)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(7, 24, parent)
        self.setHorizontalHeaderLabels([f"{h:02d}" for h in range(24)])
        self.setVerticalHeaderLabels(list(DAYS))
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.setMinimumHeight(170)
        self.setAccessibleName("Hour-of-week heat table")
        self.grid: HourGrid | None = None
        font = self.font()
        font.setPointSizeF(max(7.0, font.pointSizeF() - 1.5))
        self.setFont(font)

    def show_grid(self, grid: HourGrid) -> None:
        self.grid = grid
        label, unit, higher_better = MEASURES[grid.measure]
        peak = 1.0 if grid.measure == "compliance" else grid.peak
        for d in range(7):
            for h in range(24):
                value = grid.cells[d][h]
                item = QTableWidgetItem(_fmt(grid.measure, value))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                item.setBackground(QBrush(heat_colour(value, peak, higher_better, grid.measure == "compliance")))
                shown = (f"{value:.0%}" if grid.measure == "compliance" else f"{value:,.2f} {unit}") \
                    if value is not None else no_value_text(grid.measure)
                item.setToolTip(f"{DAYS[d]} {h:02d}:00-{h:02d}:59: {label}: {shown}")
                self.setItem(d, h, item)


class TrendChart(QChartView):
    """A zone's week-by-week compliance rate (%) and violations per hour patrolled."""

    def __init__(self, parent: QWidget | None = None) -> None:
        chart = QChart()
        chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
        chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        chart.setMargins(chart.margins() * 0)
        super().__init__(chart, parent)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setMinimumHeight(180)
        self.points: list[WeekPoint] = []

    def show_points(self, zone: str, points: list[WeekPoint]) -> None:
        self.points = points
        chart = self.chart()
        chart.removeAllSeries()
        for axis in chart.axes():
            chart.removeAxis(axis)
        chart.setTitle(f"{zone}: week by week")
        rate = QLineSeries()
        rate.setName("Compliance %")
        vph = QLineSeries()
        vph.setName("Violations per hour")
        top_vph = 1.0
        for p in points:
            x = QDateTime(QDate(p.week_start.year, p.week_start.month, p.week_start.day), QTime(0, 0))
            ms = float(x.toMSecsSinceEpoch())
            if p.compliance_rate is not None:
                rate.append(ms, p.compliance_rate * 100)
            if p.violations_per_hour is not None:
                vph.append(ms, p.violations_per_hour)
                top_vph = max(top_vph, p.violations_per_hour)
        chart.addSeries(rate)
        chart.addSeries(vph)
        axis_x = QDateTimeAxis()
        axis_x.setFormat("dd MMM")
        axis_x.setTickCount(min(8, max(2, len(points))))
        if points:
            first, last = points[0].week_start, points[-1].week_start
            axis_x.setRange(QDateTime(QDate(first.year, first.month, first.day), QTime(0, 0)),
                            QDateTime(QDate(last.year, last.month, last.day), QTime(0, 0)))
        axis_rate = QValueAxis()
        axis_rate.setRange(0, 100)
        axis_rate.setLabelFormat("%d %%")
        axis_vph = QValueAxis()
        axis_vph.setRange(0, round(top_vph * 1.2 + 0.5))
        axis_vph.setLabelFormat("%.1f")
        chart.addAxis(axis_x, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(axis_rate, Qt.AlignmentFlag.AlignLeft)
        chart.addAxis(axis_vph, Qt.AlignmentFlag.AlignRight)
        for series, axis in ((rate, axis_rate), (vph, axis_vph)):
            series.attachAxis(axis_x)
            series.attachAxis(axis)


class ComplianceView(QWidget):
    """The compliance map page. Signals: ``loaded()`` once a period's figures are shown (map may still be
    painting: ``map.ready``), ``grid_shown()`` once the hour-of-week table is, ``zone_shown(str)`` once a
    zone's detail and trend are shown."""

    loaded = Signal()
    grid_shown = Signal()
    zone_shown = Signal(str)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.data: Loaded | None = None
        self.zone: str | None = None
        today = ctx.app.now().astimezone(ctx.tz).date()

        self.period = QComboBox()
        self.period.setAccessibleName("Period")
        for text, days in PERIODS:
            self.period.addItem(text, days)
        self.period.addItem("Chosen dates", 0)
        self.period.setCurrentIndex(1)
        self.start = QDateEdit(QDate(today.year, today.month, today.day).addDays(-27))
        self.end = QDateEdit(QDate(today.year, today.month, today.day))
        for edit in (self.start, self.end):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("dd MMM yyyy")
        self.measure = QComboBox()
        self.measure.setAccessibleName("Measure")
        for key, (label, _unit, _better) in MEASURES.items():
            self.measure.addItem(label, key)
        self.refresh_button = QPushButton("&Refresh")
        self.refresh_button.setToolTip("Read the figures again for the period (F5)")
        self.all_zones_button = QPushButton("&All zones")
        self.all_zones_button.setToolTip("Show the hour-of-week table of every zone together")
        self.all_zones_button.setEnabled(False)

        bar = QHBoxLayout()
        bar.addWidget(QLabel("Period:"))
        bar.addWidget(self.period)
        bar.addWidget(QLabel("From"))
        bar.addWidget(self.start)
        bar.addWidget(QLabel("to"))
        bar.addWidget(self.end)
        bar.addSpacing(12)
        bar.addWidget(QLabel("Measure:"))
        bar.addWidget(self.measure)
        bar.addStretch(1)
        bar.addWidget(self.all_zones_button)
        bar.addWidget(self.refresh_button)

        self.summary = QLabel("Choose a period.")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.map = MapView(self, expandable=True)
        self.map.setMinimumWidth(360)
        self.zones = QTableWidget(0, len(ZONE_COLUMNS))
        self.zones.setHorizontalHeaderLabels(list(ZONE_COLUMNS))
        self.zones.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.zones.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.zones.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.zones.verticalHeader().setVisible(False)
        self.zones.setSortingEnabled(True)
        self.zones.setAccessibleName("Zones and their figures")
        self.unshaped = QLabel("")
        self.unshaped.setWordWrap(True)
        self.unshaped.setStyleSheet("color:#8a5a00;")
        zones_page = QWidget()
        zl = QVBoxLayout(zones_page)
        zl.setContentsMargins(0, 0, 0, 0)
        zl.addWidget(self.zones, 1)
        zl.addWidget(self.unshaped)

        self.detail = QLabel("Click a zone on the map or in the table to see its figures and trend.")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.trend = TrendChart()
        detail_page = _page(self.detail, self.trend)

        self.heat_title = QLabel("")
        self.heat_title.setWordWrap(True)
        self.heat = HeatTable()
        heat_page = _page(self.heat_title, self.heat)

        self.tabs = QTabWidget()
        self.tabs.addTab(zones_page, "&Zones")
        self.tabs.addTab(heat_page, "&Hour of week")
        self.tabs.addTab(detail_page, "Zone &detail")

        body = QSplitter(Qt.Orientation.Horizontal)
        body.addWidget(self.map)
        body.addWidget(self.tabs)
        body.setStretchFactor(0, 1)
        body.setStretchFactor(1, 1)
        body.setSizes([480, 700])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(bar)
        layout.addWidget(self.summary)
        layout.addWidget(body, 1)

        self.period.currentIndexChanged.connect(self._period_chosen)
        self.start.dateChanged.connect(self._dates_edited)
        self.end.dateChanged.connect(self._dates_edited)
        self.measure.currentIndexChanged.connect(lambda _i: self.refresh())
        self.refresh_button.clicked.connect(self.reload)
        self.all_zones_button.clicked.connect(lambda: self.show_zone(None))
        self.zones.itemSelectionChanged.connect(self._row_chosen)
        self.map.picked.connect(self.show_zone)
        QShortcut(QKeySequence("F5"), self, self.reload)
        self._choosing = False
        # the latest requests (period, zone): an older answer arriving late is dropped
        self._asked = 0
        self._asked_zone = 0
        #: the hour-of-week tables of every measure for the (period, zone) shown last
        self._grids: dict[tuple[date, date, str | None], dict[str, HourGrid]] = {}
        self.refresh()

    # ----------------------------------------------------------- the period
    def period_dates(self) -> tuple[date, date]:
        return self.start.date().toPython(), self.end.date().toPython()  # type: ignore[return-value]

    def set_period(self, start: date, end: date) -> None:
        """Show the figures of the local days ``start`` to ``end`` (as "Chosen dates")."""
        self._choosing = True
        self.period.setCurrentIndex(self.period.count() - 1)
        self.start.setDate(QDate(start.year, start.month, start.day))
        self.end.setDate(QDate(end.year, end.month, end.day))
        self._choosing = False
        self.refresh()

    def _period_chosen(self, _index: int) -> None:
        days = int(self.period.currentData() or 0)
        if not days or self._choosing:
            return
        self._choosing = True
        end = self.end.date()
        self.start.setDate(end.addDays(-(days - 1)))
        self._choosing = False
        self.refresh()

    def _dates_edited(self, _d: QDate) -> None:
        if self._choosing:
            return
        self._choosing = True
        self.period.setCurrentIndex(self.period.count() - 1)
        self._choosing = False
        self.refresh()

    def measure_key(self) -> str:
        return str(self.measure.currentData())

    # ----------------------------------------------------------- loading
    def reload(self) -> None:
        """Refresh (F5): read everything again (the hour-of-week tables too, kept while the period stays)."""
        self._grids = {}
        self.refresh()

    def refresh(self) -> None:
        app, actor = self.ctx.app, self.ctx.actor
        start, end = self.period_dates()
        measure = self.measure_key()

        def work(_c: Any) -> Loaded:
            return Loaded(compliance_map(app, actor, start, end, measure), start, end)

        self._asked += 1
        asked = self._asked
        self.summary.setText(f"Reading {start:%d %b %Y} to {end:%d %b %Y}…")
        Query(self.ctx, self, work, success=lambda r: self._show(r) if asked == self._asked else None,
              failure=self._failed).run()

    def _failed(self, exc: BaseException) -> None:
        self.summary.setText(str(exc))
        self.ctx.error(exc)

    def _show(self, loaded: Loaded) -> None:
        self.data = loaded
        built = loaded.map
        self.summary.setText(stats_service.describe_period(built.stats, loaded.start, loaded.end))
        if built.spec is not None:
            self.map.show_spec(built.spec)
        else:
            self.map.show_message("No zone has a shape to draw: the figures are in the table. Import the zones' "
                                  "shapes in Admin, Zones to see them on the map.")
        self.unshaped.setText(built.unshaped_sentence())
        self.unshaped.setVisible(bool(built.unshaped))
        self._fill_zones(built)
        # the zone's detail and the hour-of-week table next (a second query: the map is not kept waiting)
        self.show_zone(self.zone)
        self.loaded.emit()

    def _fill_zones(self, built: ComplianceMap) -> None:
        self.zones.setSortingEnabled(False)
        self.zones.blockSignals(True)
        self.zones.setRowCount(len(built.stats))
        for row, s in enumerate(built.stats):
            rate = f"{s.compliance_rate:.0%}" if s.compliance_rate is not None else "no check"
            vph = f"{s.violations_per_hour:.1f}" if s.violations_per_hour is not None else "not patrolled"
            cells: list[tuple[str, float | None]] = [
                (s.zone_code, None), (f"{s.checks:,}", s.checks),
                (f"{s.compliant:,}", s.compliant), (rate, s.compliance_rate), (f"{s.citations:,}", s.citations),
                (f"{s.voids:,}", s.voids), (f"{s.dismissals:,}", s.dismissals),
                (f"{s.hours_patrolled:,.1f}", s.hours_patrolled), (vph, s.violations_per_hour)]
            for col, (text, number) in enumerate(cells):
                item = _SortItem(text, number)
                if col >= 1:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                item.setToolTip((s.zone_name or "A zone the office has not set up (named by the field data)")
                                + ". " + s.sentence()
                                + ("" if s.has_geometry else " Not on the map: no shape imported."))
                if col == 0:
                    item.setData(Qt.ItemDataRole.UserRole, s.zone_code)
                    item.setBackground(QBrush(QColor(built.colours.get(s.zone_code, NO_DATA)).lighter(150)))
                self.zones.setItem(row, col, item)
        self.zones.resizeColumnsToContents()
        self.zones.blockSignals(False)
        self.zones.setSortingEnabled(True)

    def _show_grid(self, grid: HourGrid) -> None:
        label = MEASURES[grid.measure][0]
        where = grid.zone or "all zones"
        self.heat.show_grid(grid)
        if grid.empty:
            self.heat_title.setText(f"Hour of week, {where}: nothing recorded in this period, so the table is "
                                    "blank. Choose a longer period or another zone.")
        else:
            unit = " (%)" if grid.measure == "compliance" else ""
            self.heat_title.setText(f"Hour of week, {label.lower()}{unit}, {where} (local time; grey: no value)")
        self.all_zones_button.setEnabled(grid.zone is not None)

    # ----------------------------------------------------------- a zone
    def _row_chosen(self) -> None:
        rows = self.zones.selectionModel().selectedRows()
        if rows:
            item = self.zones.item(rows[0].row(), 0)
            if item is not None:
                self.show_zone(str(item.data(Qt.ItemDataRole.UserRole)))

    def stats_of(self, zone: str) -> ZoneStats | None:
        if self.data is None:
            return None
        return next((s for s in self.data.map.stats if s.zone_code == zone), None)

    def show_zone(self, zone: str | None) -> None:
        """Show a zone's figures, trend and hour-of-week table (None: back to every zone's table)."""
        self.zone = zone
        app, actor = self.ctx.app, self.ctx.actor
        start, end = self.period_dates()
        measure = self.measure_key()

        key = (start, end, zone)
        grids = self._grids.get(key)
        if grids is not None and zone is None:  # the same period: nothing to read again
            self._show_grid(grids[measure])
            self.grid_shown.emit()
            return

        def work(_c: Any) -> tuple[dict[str, HourGrid], list[WeekPoint] | None]:
            read = grids if grids is not None else stats_service.hour_of_week_all(app, actor, start, end, zone=zone)
            trend = stats_service.zone_trend(app, actor, zone, start, end) if zone is not None else None
            return read, trend

        self._asked_zone += 1
        asked = self._asked_zone

        def done(result: tuple[dict[str, HourGrid], list[WeekPoint] | None]) -> None:
            if asked != self._asked_zone:
                return
            read, trend = result
            self._grids = {key: read}  # the latest only: a refresh after a sync reads them again
            self._show_grid(read[measure])
            self.grid_shown.emit()
            if zone is None or trend is None:
                return
            s = self.stats_of(zone)
            text = s.sentence() if s is not None else f"{zone}: nothing recorded in this period."
            if s is not None and not s.has_geometry:
                text += " This zone has no shape, so it is not on the map."
            if not any(p.checks or p.hours_patrolled for p in trend):
                text += " No week of the period has anything to chart."
            self.detail.setText(text)
            self.trend.show_points(zone, trend)
            if self.tabs.currentIndex() == 0:
                self.tabs.setCurrentIndex(2)
            self.zone_shown.emit(zone)

        Query(self.ctx, self, work, success=done, failure=self._failed).run()


class _SortItem(QTableWidgetItem):
    """A table cell that sorts by its number (when it has one), not its text."""

    def __init__(self, text: str, number: float | None) -> None:
        super().__init__(text)
        self.number = number

    def __lt__(self, other: QTableWidgetItem) -> bool:
        if isinstance(other, _SortItem) and (self.number is not None or other.number is not None):
            return (self.number if self.number is not None else -1.0) < (
                other.number if other.number is not None else -1.0)
        return self.text() < other.text()  # (QTableWidgetItem's own __lt__ calls back here)
