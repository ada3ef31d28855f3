"""The Appeals screen: the docket of open appeals sorted by the days left to decide (overdue in red), above
the hearing officer's workspace (desktop.ui.appeals.workspace).

Keys: Ctrl+N new appeal, Ctrl+H schedule (or adjourn) the hearing, Ctrl+D print a day's docket,
Ctrl+P evidence packet, Ctrl+F filter, F5 refresh.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.appeals import PENDING_STATUSES, HearingMode
from desktop.domain.roles import Permission, allowed
from desktop.domain.wording import counted
from desktop.services import appeals
from desktop.services.appeals.packet import render_docket
from desktop.services.lists import AppealsFilter
from desktop.ui.appeals.deadline_text import AMBER, GREY, RED, days_left_text
from desktop.ui.appeals.decision import decided_words
from desktop.ui.appeals.dialogs import DocketDialog, IntakeDialog
from desktop.ui.appeals.widgets import APPEAL_CHANGES, PdfPreviewDialog
from desktop.ui.appeals.workspace import HearingWorkspace
from desktop.ui.common.list_export import ListExportBar
from desktop.ui.common.list_model import Index, ListTableModel
from desktop.ui.common.operations import Changes, Mutation, Query, initiated_by
from desktop.ui.common.widgets import local_time

#: the docket's scopes: (label, days a closed appeal stays listed; None: only open ones; -1: all)
SCOPES: list[tuple[str, int | None]] = [("Open appeals", None), ("Open and closed in the last 7 days", 7),
                                        ("All appeals", -1)]


class AppealTableModel(ListTableModel):
    """The docket rows (a few thousand at most: loaded whole). Role ROW_ROLE gives the AppealRow."""

    DAYS, DECIDE_BY, APPEAL, CITATION, PLATE, PROFILE, LEVEL, APPELLANT, STATUS, HEARING = range(10)
    HEADERS: ClassVar[list[str]] = ["Days left", "Decide by", "Appeal", "Citation", "Plate", "Rules", "Level",
                                    "Appellant", "Status", "Hearing"]

    def __init__(self, tz: Any = None, due_soon_days: int = 7, parent: Any = None) -> None:
        super().__init__(parent)
        self.tz = tz
        self.due_soon_days = due_soon_days

    def row_of(self, appeal_id: int) -> int:
        for i, r in enumerate(self.rows):
            if r.appeal_id == appeal_id:
                return i
        return -1

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        r = self.rows[index.row()]
        col = index.column()
        if role == self.ROW_ROLE:
            return r
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(r, col)
        if role == Qt.ItemDataRole.ForegroundRole:
            if r.overdue:
                return QBrush(QColor(RED))
            if col == self.DAYS and r.days_left is not None and r.days_left <= self.due_soon_days:
                return QBrush(QColor(AMBER))
            if r.status not in PENDING_STATUSES:
                return QBrush(QColor(GREY))
        if role == Qt.ItemDataRole.BackgroundRole and r.overdue:
            return QBrush(QColor("#fdecea"))
        if role == Qt.ItemDataRole.FontRole and col == self.DAYS and r.overdue:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and col == self.DAYS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == self.DAYS and r.deemed_rule and r.status in PENDING_STATUSES:
                return "Deemed accepted by law if not decided by this date (England, 56 days)."
            if col == self.DECIDE_BY:
                return ("the jurisdiction profile's decision deadline" if r.statutory
                        else "the agency's own target (the profile sets no limit)")
        return None

    def _display(self, r: appeals.AppealRow, col: int) -> str:
        if col == self.DAYS:
            return days_left_text(r.days_left, r.status, r.deemed_rule)
        if col == self.DECIDE_BY:
            return (r.decide_by.isoformat() if r.decide_by else "—") + ("" if r.statutory else " (target)")
        if col == self.APPEAL:
            return r.number
        if col == self.CITATION:
            return r.citation_number
        if col == self.PLATE:
            return r.plate
        if col == self.PROFILE:
            return r.profile_code
        if col == self.LEVEL:
            return r.level_name
        if col == self.APPELLANT:
            return r.appellant_name
        if col == self.STATUS:
            return decided_words(r.status, r.decision) if r.status not in PENDING_STATUSES else r.status
        if col == self.HEARING:
            if r.hearing_at is None:
                return ""
            mode = HearingMode(r.hearing_mode).label if r.hearing_mode else ""
            return f"{local_time(r.hearing_at, self.tz, '%a %d %b %H:%M')} {mode}"
        return ""


class AppealsView(QWidget):
    """The Appeals area. Signal `loaded(count)` when the docket has been painted."""

    loaded = Signal(int)

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        role = ctx.actor.role
        self.model = AppealTableModel(ctx.tz, parent=self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 4)
        bar = QHBoxLayout()
        self.new_button = QPushButton("&New appeal…")
        self.new_button.setToolTip("Take in an appeal (Ctrl+N)")
        self.new_button.clicked.connect(self.new_appeal)
        self.new_button.setEnabled(allowed(role, Permission.FILE_APPEALS))
        bar.addWidget(self.new_button)
        self.docket_button = QPushButton("Print doc&ket…")
        self.docket_button.setToolTip("A day's hearings as a PDF (Ctrl+D)")
        self.docket_button.clicked.connect(self.print_docket)
        bar.addWidget(self.docket_button)
        self.deadlines_button = QPushButton("Run deadline rules")
        self.deadlines_button.setToolTip("Apply the decision deadlines now (England: deemed acceptance after 56 "
                                         "days). The daily run does this every night.")
        self.deadlines_button.clicked.connect(self.run_deadlines)
        self.deadlines_button.setVisible(allowed(role, Permission.RUN_ESCALATION))
        bar.addWidget(self.deadlines_button)
        bar.addSpacing(12)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by citation, plate or appellant — Enter (Ctrl+F)")
        self.filter.setClearButtonEnabled(True)
        self.filter.returnPressed.connect(self.refresh)
        bar.addWidget(self.filter, 1)
        self.scope = QComboBox()
        for text, value in SCOPES:
            self.scope.addItem(text, value)
        self.scope.setCurrentIndex(1)  # decided appeals stay in view a week: the outcome of one just decided
        self.scope.setToolTip("Which appeals the docket lists")
        self.scope.currentIndexChanged.connect(lambda _i: self.refresh())
        bar.addWidget(self.scope)
        refresh = QPushButton("Refresh")
        refresh.setToolTip("F5")
        refresh.clicked.connect(self.refresh)
        bar.addWidget(refresh)
        self.export_bar = ListExportBar(ctx, "appeals", self._export_filter)
        bar.addWidget(self.export_bar)
        lay.addLayout(bar)
        self.summary = QLabel("Loading…")
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        # never wider than the screen: a long summary is cut at the right (its whole text is the tooltip)
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        lay.addWidget(self.summary)

        split = QSplitter(Qt.Orientation.Vertical)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setWordWrap(False)
        for col, width in enumerate([130, 100, 80, 115, 75, 42, 150, 135, 200]):
            self.table.setColumnWidth(col, width)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        split.addWidget(self.table)
        self.workspace = HearingWorkspace(ctx)
        split.addWidget(self.workspace)
        # the docket shows five rows; the workspace below gets the rest of a laptop's 768 pixels (it needs about
        # 470 to show the decision and the letters without scrolling)
        split.setChildrenCollapsible(False)
        self.table.setMinimumHeight(22 * 3 + 26)
        split.setSizes([22 * 5 + 28, 700])
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        lay.addWidget(split, 1)
        self._pending_select: int | None = None
        ctx.bus.subscribe(self, self._data_changed)
        for key, slot in (("Ctrl+N", self.new_appeal), ("Ctrl+H", self.workspace.schedule),
                          ("Ctrl+D", self.print_docket), ("Ctrl+P", self.workspace.make_packet),
                          ("F5", self.refresh), ("Ctrl+F", self.focus_filter)):
            QShortcut(QKeySequence(key), self, slot, context=Qt.ShortcutContext.WidgetWithChildrenShortcut)

    def activate(self) -> None:
        self.refresh()
        self.table.setFocus()

    def focus_filter(self) -> None:
        self.filter.setFocus()
        self.filter.selectAll()

    def _export_filter(self) -> AppealsFilter:
        scope = self.scope.currentData()
        return AppealsFilter(pending_only=scope != -1, text=self.filter.text(),
                             decided_within_days=scope if scope != -1 else None)

    def refresh(self) -> None:
        app, actor = self.ctx.app, self.ctx.actor
        text, scope = self.filter.text(), self.scope.currentData()
        current = self.workspace.ws.appeal_id if self.workspace.ws is not None else None
        if self._pending_select is None:
            self._pending_select = current
        Query(self.ctx, self, lambda _c: appeals.list_appeals(
            app, actor, pending_only=scope != -1, text=text, decided_within_days=scope if scope != -1 else None),
            success=self._rows).run()

    def _data_changed(self, changes: Changes, initiator: object) -> None:
        """Appeals changed: the list is read again now if the change was made here or the screen is
        showing; otherwise when it is next opened (it always is, see `activate`)."""
        if changes.appeals and (initiated_by(initiator, self) or self.isVisible()):
            self.refresh()

    def _rows(self, rows: list[appeals.AppealRow]) -> None:
        self.model.set_rows(rows)
        pending = [r for r in rows if r.status in PENDING_STATUSES]
        closed = len(rows) - len(pending)
        overdue = sum(1 for r in pending if r.overdue and not r.deemed_rule)
        deemed = sum(1 for r in pending if r.overdue and r.deemed_rule)
        soon = sum(1 for r in pending if r.days_left is not None and 0 <= r.days_left <= self.model.due_soon_days)
        hearings = sum(1 for r in pending if r.hearing_at is not None)
        # counted from the rows listed, so that the count and the list never disagree
        parts = [f"<b>{counted(len(pending), 'open appeal')}</b>" + (", most urgent first" if pending else "")]
        if closed:
            parts.append(f"{closed} closed recently" if self.scope.currentData() not in (None, -1)
                         else f"{closed} closed")
        if overdue:
            parts.append(f"<span style='color:{RED}'><b>{overdue} past their decision deadline</b></span>")
        if deemed:
            parts.append(f"<span style='color:{RED}'><b>{deemed} deemed accepted by law</b> (recorded by the next "
                         f"daily run)</span>")
        if soon:
            parts.append(f"<span style='color:{AMBER}'>{soon} due within {self.model.due_soon_days} days</span>")
        parts.append(f"{hearings} with a hearing booked")
        self.summary.setText(" · ".join(parts))
        self.summary.setToolTip(self.summary.text())
        target = self._pending_select
        self._pending_select = None
        row = self.model.row_of(target) if target is not None else -1
        if rows:
            self.table.selectRow(max(row, 0))
        else:
            self.workspace.clear()
        self.loaded.emit(len(rows))

    def select_appeal(self, appeal_id: int) -> None:
        row = self.model.row_of(appeal_id)
        if row >= 0:
            self.table.selectRow(row)
        else:
            self._pending_select = appeal_id
            self.refresh()

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        r = self.model.data(current, AppealTableModel.ROW_ROLE) if current.isValid() else None
        if r is not None and (self.workspace.ws is None or self.workspace.ws.appeal_id != r.appeal_id):
            self.workspace.load(r.appeal_id)

    def new_appeal(self) -> None:
        if not self.new_button.isEnabled():
            return

        dialog = IntakeDialog(self.ctx, parent=self)
        dialog.filed.connect(self._filed)
        self.intake_dialog = dialog
        dialog.open()

    def _filed(self, filed: appeals.FiledAppeal) -> None:
        self.ctx.info(f"Appeal {filed.number} filed ({filed.level_name}); decide by {filed.decide_by}. The "
                      f"case is on hold and the acknowledgement is queued for mailing.")
        self._pending_select = filed.appeal_id  # selected when the list follows through the operation bus

    def print_docket(self) -> None:
        dialog = DocketDialog(self.ctx, self)
        if dialog.exec() != DocketDialog.DialogCode.Accepted:
            return
        day, officer = dialog.choice()
        app, actor = self.ctx.app, self.ctx.actor
        def done(path: Path) -> None:
            self.workspace._show_dialog(PdfPreviewDialog(path, f"Hearing docket {day.isoformat()}", self))

        Query(self.ctx, self, lambda _c: render_docket(app, actor, day, None, officer), success=done).run()

    def run_deadlines(self) -> None:
        app, actor = self.ctx.app, self.ctx.actor

        def done(summary: appeals.DeadlineSummary) -> None:
            n = len(summary.deemed_accepted)
            self.ctx.info(f"Deadline rules applied: {n} deemed accepted, {len(summary.overdue)} overdue, "
                          f"{len(summary.due_soon)} due soon.")
            if n:
                QMessageBox.information(self, "Deadline rules", "\n".join(summary.lines()))

        Mutation(self.ctx, self, lambda _c: appeals.apply_appeal_deadlines(app, actor), changes=APPEAL_CHANGES,
                 success=done).run()


__all__ = ["AppealTableModel", "AppealsView"]
