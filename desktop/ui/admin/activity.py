"""Administration › Activity: sign-ins, sign-outs, lockouts, payments, approvals, syncs, notice runs, escalations
and the database's backups, upgrades and restores, newest first, from the audit trail; filtered by user, kind,
outcome and dates (the agency's calendar days), a page at a time. The service
(`desktop.services.admin.activity`) lets administrators only; others see why the list is empty."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from PySide6.QtCore import QDate, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.roles import Permission, allowed
from desktop.services.admin import activity
from desktop.services.core.activity import KINDS, OUTCOMES
from desktop.ui.common.operations import Query
from desktop.ui.common.widgets import local_time

HEADERS = ["Time", "User", "Kind", "Outcome", "Action", "What"]
#: the earliest day the date boxes offer; shown as "any" (no bound)
NO_DATE = QDate(2000, 1, 1)


class ActivityTab(QWidget):
    """Signal: `loaded(rows shown)` after every page."""

    loaded = Signal(int)

    def __init__(self, ctx: Any, parent: QWidget | None = None, page_size: int = activity.PAGE_SIZE) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.page = 0
        self.page_size = page_size
        self.result: activity.ActivityPage | None = None
        self.may = allowed(ctx.actor.role, Permission.VIEW_ACTIVITY)
        lay = QVBoxLayout(self)
        filters = QHBoxLayout()
        self.user = QComboBox()
        self.user.addItem("All users", "")
        self.kind = QComboBox()
        self.kind.addItem("All kinds", "")
        for k in KINDS:
            self.kind.addItem(k.capitalize(), k)
        self.outcome = QComboBox()
        self.outcome.addItem("Any outcome", "")
        for o in OUTCOMES:
            self.outcome.addItem(o.capitalize(), o)
        self.since, self.until = self._date_box(), self._date_box()
        for label, widget in (("User", self.user), ("Kind", self.kind), ("Outcome", self.outcome),
                              ("From", self.since), ("to", self.until)):
            filters.addWidget(QLabel(label))
            filters.addWidget(widget)
        self.apply_button = QPushButton("Apply")
        self.apply_button.clicked.connect(lambda _c=False: self.refresh(0))
        filters.addWidget(self.apply_button)
        filters.addStretch(1)
        lay.addLayout(filters)
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        lay.addWidget(self.table)
        pager = QHBoxLayout()
        self.caption = QLabel("" if self.may else "Only administrators see the activity log.")
        self.previous_button = QPushButton("◀ Newer")
        self.next_button = QPushButton("Older ▶")
        self.previous_button.clicked.connect(lambda _c=False: self.refresh(self.page - 1))
        self.next_button.clicked.connect(lambda _c=False: self.refresh(self.page + 1))
        pager.addWidget(self.caption, 1)
        pager.addWidget(self.previous_button)
        pager.addWidget(self.next_button)
        lay.addLayout(pager)
        for w in (self.user, self.kind, self.outcome, self.since, self.until, self.apply_button):
            w.setEnabled(self.may)
        self.previous_button.setEnabled(False)
        self.next_button.setEnabled(False)

    @staticmethod
    def _date_box() -> QDateEdit:
        box = QDateEdit()
        box.setCalendarPopup(True)
        box.setDisplayFormat("yyyy-MM-dd")
        box.setMinimumDate(NO_DATE)
        box.setSpecialValueText("any")
        box.setDate(NO_DATE)
        return box

    def _day(self, box: QDateEdit) -> date | None:
        d = box.date()
        return None if d == NO_DATE else date(d.year(), d.month(), d.day())

    def current_filter(self) -> activity.ActivityFilter:
        """The filter as set: days are the agency's, from the first one's midnight to the end of the last."""
        since, until = self._day(self.since), self._day(self.until)
        tz = self.ctx.tz
        return activity.ActivityFilter(
            username=self.user.currentData() or "", kind=self.kind.currentData() or "",
            outcome=self.outcome.currentData() or "",
            since=datetime.combine(since, time.min, tzinfo=tz) if since else None,
            until=datetime.combine(until + timedelta(days=1), time.min, tzinfo=tz) if until else None)

    def refresh(self, page: int = 0) -> None:
        if not self.may:
            self.loaded.emit(0)
            return
        app, actor, f, size = self.ctx.app, self.ctx.actor, self.current_filter(), self.page_size
        first = self.user.count() == 1

        def work(_c: Any) -> tuple[activity.ActivityPage, list[str]]:
            names = activity.usernames(app, actor) if first else []
            return activity.list_activity(app, actor, f, max(0, page), size), names

        Query(self.ctx, self, work, success=self._show).run()

    def _show(self, result: tuple[activity.ActivityPage, list[str]]) -> None:
        shown, names = result
        for name in names:
            self.user.addItem(name, name)
        self.result = shown
        self.page = shown.page
        self.table.setRowCount(len(shown.rows))
        for i, r in enumerate(shown.rows):
            texts = [local_time(r.at, self.ctx.tz, "%Y-%m-%d %H:%M:%S"), r.username, r.kind, r.outcome, r.action,
                     r.summary]
            for col, text in enumerate(texts):
                item = QTableWidgetItem(text)
                if col == 3 and r.outcome != "ok":
                    item.setForeground(QBrush(QColor("#b71c1c")))
                self.table.setItem(i, col, item)
        self.caption.setText(shown.caption() if shown.rows else "No activity matches these filters.")
        self.previous_button.setEnabled(shown.page > 0)
        self.next_button.setEnabled(shown.capped or shown.page + 1 < shown.pages)
        self.loaded.emit(len(shown.rows))
