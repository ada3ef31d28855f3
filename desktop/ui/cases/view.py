"""The Cases screen: search every case, list them (windowed) or one of the clerk's work lists, read
one in the detail panel, and run the daily escalation."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, QItemSelection, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.lifecycle import CaseStatus
from desktop.domain.roles import Permission, allowed
from desktop.services.bulk import BulkAction
from desktop.services.cases import queries as cases
from desktop.services.cases.queries import CaseFilter
from desktop.services.lists import describe_cases
from desktop.ui.cases.bulk_dialog import TITLES, BulkDialog
from desktop.ui.cases.detail import CaseDetailPanel
from desktop.ui.cases.model import CaseSource, CaseTableModel
from desktop.ui.common.list_export import ListExportBar
from desktop.ui.common.operations import Changes, initiated_by
from desktop.ui.context import UiContext

#: the list's columns from the left (the model's order is unchanged)
VISIBLE_FIRST = (CaseTableModel.CITATION, CaseTableModel.PLATE, CaseTableModel.STATUS, CaseTableModel.BALANCE,
                 CaseTableModel.OWNER, CaseTableModel.ISSUED, CaseTableModel.VIOLATION, CaseTableModel.NEXT_ACTION,
                 CaseTableModel.STATE, CaseTableModel.EVIDENCE)


class CasesView(QWidget):
    """Signals: `results(count)` when a search has been painted. Refreshes its list when cases change
    (see `_data_changed`)."""

    results = Signal(int)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        app, actor = ctx.app, ctx.actor
        source = CaseSource(
            count=lambda f: cases.count_cases(app, actor, f),
            page=lambda f, off, lim: cases.case_page(app, actor, f, off, lim),
            estimate=lambda f: cases.estimate_cases(app, actor, f),
        )
        self.model = CaseTableModel(ctx.runner, source, tz=ctx.tz, parent=self)
        self.model.loaded.connect(self._loaded)
        self.model.counted.connect(self._show_count)
        self._keep_id: int | None = None
        self._stale = False
        self.model.failed.connect(ctx.error)
        ctx.bus.subscribe(self, self._data_changed)
        self.bulk_allowed = allowed(ctx.actor.role, Permission.BULK_CHANGE)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 0)
        bar = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Citation number, plate (O/0, I/1, B/8 look-alikes found too), owner name, "
                                       "VIN or street address — Enter to search")
        self.search.setClearButtonEnabled(True)
        self.search.returnPressed.connect(self.run_search)
        bar.addWidget(self.search, 3)
        self.use_dates = QCheckBox("Issued from")
        self.date_from = QDateEdit(QDate.currentDate().addDays(-30))
        self.date_to = QDateEdit(QDate.currentDate())
        for d in (self.date_from, self.date_to):
            d.setCalendarPopup(True)
            d.setDisplayFormat("yyyy-MM-dd")
            d.setEnabled(False)
        self.use_dates.toggled.connect(self.date_from.setEnabled)
        self.use_dates.toggled.connect(self.date_to.setEnabled)
        bar.addWidget(self.use_dates)
        bar.addWidget(self.date_from)
        bar.addWidget(QLabel("to"))
        bar.addWidget(self.date_to)
        self.status = QComboBox()
        self.status.addItem("Any status", None)
        for s in CaseStatus:
            self.status.addItem(s.label, s.value)
        bar.addWidget(self.status)
        self.worklist = QComboBox()
        self.worklist.addItem("All cases", None)
        for key, label in cases.WORKLISTS.items():
            self.worklist.addItem(label, key)
        self.worklist.setToolTip("The clerk's work lists")
        self.worklist.currentIndexChanged.connect(lambda _i: self.run_search())
        bar.addWidget(self.worklist)
        go = QPushButton("Search")
        go.setDefault(True)
        go.clicked.connect(lambda _checked=False: self.run_search())
        bar.addWidget(go)
        lay.addLayout(bar)
        info = QHBoxLayout()
        self.count_label = QLabel("Loading…")
        self.count_label.setStyleSheet("color:#555")
        info.addWidget(self.count_label, 1)
        self.escalate_button = QPushButton("Run daily escalation…")
        self.escalate_button.setToolTip("Penalties, due notices, collections and the hot list, as of a day")
        self.escalate_button.setVisible(allowed(ctx.actor.role, Permission.RUN_ESCALATION))
        self.escalate_button.clicked.connect(lambda _checked=False: self.run_escalation())
        info.addWidget(self.escalate_button)
        #: the list as it was last searched (its filter goes in the printout's header)
        self.export_bar = ListExportBar(ctx, "cases", lambda: self.model.filter)
        info.addWidget(self.export_bar)
        self.bulk_button = self._bulk_button()
        info.addWidget(self.bulk_button)
        lay.addLayout(info)

        split = QSplitter(Qt.Orientation.Horizontal)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        # several rows (Ctrl/Shift+click) for a supervisor's bulk work; the detail shows the one clicked
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection
                                    if self.bulk_allowed else QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        M = CaseTableModel
        widths = {M.CITATION: 112, M.ISSUED: 118, M.PLATE: 76, M.STATE: 44, M.VIOLATION: 210, M.STATUS: 112,
                  M.OWNER: 140, M.BALANCE: 68, M.NEXT_ACTION: 170, M.EVIDENCE: 80}
        for col, width in widths.items():
            self.table.setColumnWidth(col, width)
        # What a clerk on the phone needs first is at the left, inside a laptop's 1366 pixels: the citation, the
        # plate, the status, the balance and the owner; when, what and the next step follow (the model's
        # columns keep their order: only the view's is changed)
        for visual, col in enumerate(VISIBLE_FIRST):
            header.moveSection(header.visualIndex(col), visual)
        header.setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(self._selected)
        split.addWidget(self.table)
        self.detail = CaseDetailPanel(ctx)
        # A fixed minimum: the panel's natural minimum follows the case shown (a long owner name, an address),
        # and the splitter moved with it from case to case
        self.detail.setMinimumWidth(self.detail.minimumSizeHint().width())  # its buttons, measured once, empty
        self.detail.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.table.setMinimumWidth(300)
        split.addWidget(self.detail)
        split.setChildrenCollapsible(False)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setSizes([560, 600])
        self.split = split
        lay.addWidget(split, 1)
        QShortcut(QKeySequence("Ctrl+F"), self, self.focus_search)
        QShortcut(QKeySequence("Escape"), self.search, self.clear_search)

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def clear_search(self) -> None:
        self.search.clear()
        self.run_search()

    def current_filter(self) -> CaseFilter:
        statuses: tuple[str, ...] = ()
        if self.status.currentData():
            statuses = (self.status.currentData(),)
        df = dt = None
        if self.use_dates.isChecked():
            df = date.fromisoformat(self.date_from.date().toString("yyyy-MM-dd"))
            dt = date.fromisoformat(self.date_to.date().toString("yyyy-MM-dd"))
        return CaseFilter(text=self.search.text().strip(), date_from=df, date_to=dt, statuses=statuses,
                          worklist=self.worklist.currentData())

    def run_search(self) -> None:
        self.count_label.setText("Searching…")
        self.model.set_filter(self.current_filter())

    def show_worklist(self, key: str | None) -> None:
        """Open one of the clerk's work lists (e.g. after the escalation found cases without a next action)."""
        index = self.worklist.findData(key)
        self.search.clear()
        self.status.setCurrentIndex(0)
        self.use_dates.setChecked(False)
        if index == self.worklist.currentIndex():
            self.run_search()
        else:
            self.worklist.setCurrentIndex(max(index, 0))

    def _bulk_button(self) -> QPushButton:
        button = QPushButton("Bulk")
        button.setToolTip("Supervisors: void, hold, release, move to a clerk's review queue or approve the selected "
                          "cases (Ctrl/Shift+click) or every case of the list")
        menu = QMenu(button)
        for action in BulkAction:
            act = menu.addAction(TITLES[action] + "…")
            act.triggered.connect(lambda _c=False, a=action: self.open_bulk(a))
        button.setMenu(menu)
        button.setVisible(self.bulk_allowed)
        return button

    def selected_ids(self) -> list[int]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        found = (self.model.row_at(r) for r in rows)
        return [r.id for r in found if r is not None]

    def open_bulk(self, action: BulkAction) -> BulkDialog:
        """The bulk dialog for the selected cases or the whole list (as last searched)."""
        f = self.model.filter
        dlg = BulkDialog(self.ctx, action, self.selected_ids(), f, describe_cases(f), self)
        dlg.open()
        self.bulk_dialog = dlg
        return dlg

    def run_escalation(self) -> None:
        # lazy: the dialog brings the daily run, 85 ms at start-up, and the Cases screen is the first shown
        from desktop.ui.cases.escalation_dialog import EscalationDialog

        dlg = EscalationDialog(self.ctx, self)
        dlg.show_worklist.connect(self.show_worklist)
        dlg.open()
        self.escalation_dialog = dlg

    def _data_changed(self, changes: Changes, initiator: object) -> None:
        """Cases changed: the list is read again, keeping the shown case selected. A change made here
        (the detail panel, the escalation) refreshes at once; one from another screen when this one is
        next shown."""
        if not changes.cases:
            return
        if initiated_by(initiator, self) or self.isVisible():
            self._refresh_keeping_selection()
        else:
            self._stale = True

    def _refresh_keeping_selection(self) -> None:
        self._stale = False
        shown = self.detail.detail
        if shown is not None:
            self._keep_id = shown.citation.id
        self.model.refresh()

    def activate(self) -> None:
        if self.model.rowCount() == 0:
            self.run_search()
        elif self._stale:
            self._refresh_keeping_selection()
        self.search.setFocus()

    def open_case(self, citation_id: int) -> None:
        self.detail.load(citation_id)

    def _show_count(self, count: int) -> None:
        """The count line above the list: exact, capped ("more than"), or an estimate being counted."""
        f = self.model.filter
        what = "cases" if f.is_empty else "matching cases"
        if f.worklist:
            what = f"cases in '{cases.WORKLISTS.get(f.worklist, f.worklist)}'"
        order = cases.describe_order(f)
        if self.model.capped:
            self.count_label.setText(f"More than {count:,} {what} — narrow the search (the first {count:,} are "
                                     f"listed, {order})")
        elif self.model.estimated:  # a text search's first page before its count, or a big list's estimate
            first = "At least" if cases.count_cap(f) is not None else "About"
            self.count_label.setText(f"{first} {count:,} {what}, {order} (counting…)")
        else:
            if count == 1:
                what = "case" if f.is_empty else "matching case"
                if f.worklist:
                    what = f"case in '{cases.WORKLISTS.get(f.worklist, f.worklist)}'"
            self.count_label.setText(f"{count:,} {what}, {order}" if count else "No case matches this search.")

    def _loaded(self, count: int) -> None:
        self._show_count(count)
        if not count:
            self.detail.clear("No case matches this search, so no case is shown. Check the spelling, or search "
                              "by citation number, plate, owner, VIN or address.")
        keep, self._keep_id = self._keep_id, None
        if count:
            row = 0
            if keep is not None:
                for i in range(min(count, 256)):
                    r = self.model.row_at(i)
                    if r is not None and r.id == keep:
                        row = i
                        break
                else:
                    row = -1
            if row >= 0:
                self.table.selectRow(row)
        self.results.emit(count)

    def _selected(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        rows = selected.indexes()
        if not rows:
            return
        row = self.model.row_at(rows[0].row())
        if row is not None:
            self.detail.load(row.id)
