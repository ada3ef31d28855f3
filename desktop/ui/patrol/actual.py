"""The Plan vs actual page: for a past day, each beat's planned zones against the zones its officer patrolled
(coverage, zones missed, extra zones, minutes planned and patrolled per zone); for a period, a line per officer.

Keys: F5 show again.
"""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.services.patrol import actual
from desktop.ui.common.operations import Query
from desktop.ui.context import UiContext

MISSED = QColor("#fde0dc")
EXTRA = QColor("#e3f2fd")


def _qdate(d: date) -> QDate:
    return QDate(d.year, d.month, d.day)


def _date(q: QDate) -> date:
    return date(q.year(), q.month(), q.day())


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} %"


class PlanActualView(QWidget):
    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.day_result: actual.DayActual | None = None
        self.period_result: list[actual.OfficerPeriod] | None = None
        today = ctx.app.now().astimezone(ctx.tz).date()
        lay = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.day = QDateEdit(_qdate(today - timedelta(days=1)))
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("yyyy-MM-dd")
        self.first = QDateEdit(_qdate(today - timedelta(days=28)))
        self.first.setCalendarPopup(True)
        self.first.setDisplayFormat("yyyy-MM-dd")
        self.last = QDateEdit(_qdate(today - timedelta(days=1)))
        self.last.setCalendarPopup(True)
        self.last.setDisplayFormat("yyyy-MM-dd")
        for text, widget in (("&Day", self.day), ("Period &from", self.first), ("&to", self.last)):
            label = QLabel(text)
            label.setBuddy(widget)
            bar.addWidget(label)
            bar.addWidget(widget)
        self.show_button = QPushButton("&Show")
        self.show_button.clicked.connect(self.refresh)
        bar.addWidget(self.show_button)
        bar.addStretch(1)
        lay.addLayout(bar)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        lay.addWidget(self.summary)
        self.tabs = QTabWidget()
        self.beats = QTableWidget(0, 7)
        self.beats.setHorizontalHeaderLabels(["Badge", "Officer", "Zone", "Planned min", "Patrolled min",
                                              "Vehicles checked", "Status"])
        self.beats.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.beats.horizontalHeader().setStretchLastSection(True)
        self.tabs.addTab(self.beats, "Day by beat")
        self.officers = QTableWidget(0, 8)
        self.officers.setHorizontalHeaderLabels(["Badge", "Officer", "Days", "Zones planned", "Covered",
                                                 "Coverage", "Planned min", "Patrolled min"])
        self.officers.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.officers.horizontalHeader().setStretchLastSection(True)
        self.tabs.addTab(self.officers, "Officers over the period")
        lay.addWidget(self.tabs, 1)
        QShortcut(QKeySequence("F5"), self).activated.connect(self.refresh)
        self.day.dateChanged.connect(lambda _d: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        app, actor = self.ctx.app, self.ctx.actor
        day, first, last = _date(self.day.date()), _date(self.first.date()), _date(self.last.date())
        Query(self.ctx, self, lambda _c: (actual.plan_vs_actual(app, actor, day),
                                          actual.officers_over_period(app, actor, first, last)),
              success=self._arrived).run()

    def _arrived(self, result: tuple[actual.DayActual, list[actual.OfficerPeriod]]) -> None:
        self.day_result, self.period_result = result
        day = self.day_result
        if day.version is None and not day.beats:
            self.summary.setText(f"No patrol plan is saved for {day.day.isoformat()} and no officer patrolled "
                                 "that day.")
        else:
            missed = sum(len(b.missed) for b in day.beats)
            head = (f"Plan of {day.day.isoformat()}, version {day.version}" if day.version is not None
                    else f"No plan saved for {day.day.isoformat()}")
            self.summary.setText(f"{head}: {len(day.beats)} beat(s), coverage {_pct(day.coverage)}, "
                                 f"{missed} planned zone(s) missed.")
        rows = []
        for b in day.beats:
            for x in b.lines:
                if not x.planned_minutes:
                    status = "extra (not planned)"
                elif x.zone in b.patrolled:
                    status = "covered"
                else:
                    status = "missed"
                rows.append((b.badge, b.name, x.zone, str(x.planned_minutes), str(x.actual_minutes),
                             str(x.vehicles_checked), status))
            rows.append((b.badge, b.name, "All zones", str(b.planned_minutes), str(b.actual_minutes), "",
                         f"coverage {_pct(b.coverage)}"))
        self.beats.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                item = QTableWidgetItem(text)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                if row[6] == "missed":
                    item.setBackground(MISSED)
                elif row[6].startswith("extra"):
                    item.setBackground(EXTRA)
                if row[2] == "All zones":
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.beats.setItem(r, c, item)
        people = self.period_result or []
        self.officers.setRowCount(len(people))
        for r, o in enumerate(people):
            for c, text in enumerate((o.badge, o.name, str(o.days), str(o.planned), str(o.covered), _pct(o.coverage),
                                      str(o.planned_minutes), str(o.actual_minutes))):
                item = QTableWidgetItem(text)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                self.officers.setItem(r, c, item)


__all__ = ["PlanActualView"]
