"""The Permits screen: search permits by plate, number or holder; add, change or revoke one; import
the permit office's CSV.

Opened from the Review screen (Ctrl+P, with the plate under review already searched), because that
is where a clerk needs it: a "valid permit" warning, or a motorist's "I had a permit". Everyone who
reviews may search; only supervisors and administrators (manage permits) may change permits, and
the service checks that again.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any, ClassVar

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.roles import Permission, allowed
from desktop.services.review import permits as permit_service
from desktop.services.review.permits import PermitRow
from desktop.ui.common.operations import Changes, Mutation, Query
from desktop.ui.common.screen_fit import fit_to_screen
from desktop.ui.context import UiContext

#: a permit saved or imported: the permits lists, and the review checks that look permits up
PERMIT_CHANGES = Changes(permits=True, review=True)


class PermitsView(QWidget):
    """Signals: `results(count)` after a search is shown; `saved(permit_id)` after a save."""

    results = Signal(int)
    saved = Signal(int)

    COLUMNS: ClassVar[list[str]] = ["Permit", "Type", "Plates", "Zones", "Valid from", "Valid to", "Status", "Holder"]

    def __init__(self, ctx: UiContext, initial: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.rows: list[PermitRow] = []
        self.editing: PermitRow | None = None
        self.can_edit = allowed(ctx.actor.role, Permission.MANAGE_PERMITS)
        lay = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.search = QLineEdit(initial)
        self.search.setPlaceholderText("Plate (one look-alike off is found too), permit number or holder — Enter")
        self.search.setClearButtonEnabled(True)
        self.search.returnPressed.connect(self.run_search)
        bar.addWidget(self.search, 1)
        self.valid_only = QCheckBox("Valid now only")
        self.valid_only.toggled.connect(self.run_search)
        bar.addWidget(self.valid_only)
        go = QPushButton("Search")
        go.clicked.connect(self.run_search)
        bar.addWidget(go)
        self.import_button = QPushButton("Import CSV…")
        self.import_button.clicked.connect(self.import_csv)
        self.import_button.setEnabled(self.can_edit)
        bar.addWidget(self.import_button)
        lay.addLayout(bar)
        self.count = QLabel("")
        self.count.setStyleSheet("color:#555")
        lay.addWidget(self.count)

        split = QSplitter(Qt.Orientation.Horizontal)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._selected)
        split.addWidget(self.table)

        form_box = QWidget()
        fl = QVBoxLayout(form_box)
        self.form_title = QLabel("<b>New permit</b>")
        fl.addWidget(self.form_title)
        form = QFormLayout()
        self.number = QLineEdit()
        self.kind = QComboBox()
        self.kind.setEditable(True)
        self.kind.addItems(["residential", "business", "visitor", "disabled", "government"])
        self.holder = QLineEdit()
        self.plates = QLineEdit()
        self.plates.setPlaceholderText("7ABC123:CA;8XYZ999:CA")
        self.zones = QLineEdit()
        self.zones.setPlaceholderText("Z-CHINATOWN;Z-ARTS-DISTRICT")
        self.valid_from = QDateEdit()
        self.valid_to = QDateEdit()
        for d in (self.valid_from, self.valid_to):
            d.setCalendarPopup(True)
            d.setDisplayFormat("yyyy-MM-dd")
        self.status = QComboBox()
        self.status.addItems(list(permit_service.STATUSES))
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("why it changes (needed to change a permit)")
        for label, widget in (("Permit &number", self.number), ("&Type", self.kind), ("&Holder", self.holder),
                              ("&Plates", self.plates), ("&Zones", self.zones), ("Valid &from", self.valid_from),
                              ("Valid &to (last day)", self.valid_to), ("&Status", self.status),
                              ("&Reason", self.reason)):
            form.addRow(label, widget)
        fl.addLayout(form)
        buttons = QHBoxLayout()
        self.new_button = QPushButton("&New")
        self.new_button.clicked.connect(self.new_permit)
        self.save_button = QPushButton("&Save")
        self.save_button.clicked.connect(self.save)
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.save_button)
        buttons.addStretch(1)
        fl.addLayout(buttons)
        self.note = QLabel("" if self.can_edit else
                           "Read-only: supervisors and administrators manage permits.")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color:#555")
        fl.addWidget(self.note)
        fl.addStretch(1)
        for w in (self.number, self.kind, self.holder, self.plates, self.zones, self.valid_from, self.valid_to,
                  self.status, self.reason, self.new_button, self.save_button):
            w.setEnabled(self.can_edit)
        split.addWidget(form_box)
        split.setSizes([720, 360])
        lay.addWidget(split, 1)
        QShortcut(QKeySequence("Ctrl+F"), self, self.search.setFocus)
        self.new_permit()
        self.run_search()
        ctx.bus.subscribe(self, self._data_changed)

    # ----------------------------------------------------------- search
    def run_search(self) -> None:
        text, valid_only = self.search.text().strip(), self.valid_only.isChecked()
        self.count.setText("Searching…")
        Query(self.ctx, self,
              lambda _c: permit_service.search_permits(self.ctx.app, self.ctx.actor, text, valid_only=valid_only),
              success=self._show_rows).run()

    def _show_rows(self, rows: list[PermitRow]) -> None:
        self.rows = rows
        now = self.ctx.app.now()
        self.table.setRowCount(len(rows))
        for r, p in enumerate(rows):
            valid = p.valid_at(now)
            last_day = (p.valid_to - timedelta(seconds=1)).astimezone(self.ctx.tz).date() if self.ctx.tz else \
                p.valid_to.date()
            values = [p.permit_number, p.type, p.plates_text, p.zones_text,
                      p.valid_from.astimezone(self.ctx.tz).date().isoformat() if self.ctx.tz else str(p.valid_from),
                      last_day.isoformat(), p.status + ("" if valid or p.status != "active" else " (not valid now)"),
                      p.holder_name or ""]
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                if not valid:
                    item.setForeground(Qt.GlobalColor.darkGray)
                self.table.setItem(r, c, item)
        shown = len(rows)
        self.count.setText(f"{shown:,} permit(s)" + (" (first 500 shown)" if shown >= 500 else ""))
        self.results.emit(shown)
        if rows:
            self.table.selectRow(0)

    def _selected(self) -> None:
        indexes = self.table.selectionModel().selectedRows()
        if not indexes:
            return
        row = indexes[0].row()
        if 0 <= row < len(self.rows):
            self.edit(self.rows[row])

    # ----------------------------------------------------------- editing
    def new_permit(self) -> None:
        self.editing = None
        self.form_title.setText("<b>New permit</b>")
        today = date.today()
        for w in (self.number, self.holder, self.plates, self.zones, self.reason):
            w.clear()
        self.kind.setCurrentText("residential")
        self.valid_from.setDate(QDate(today.year, today.month, today.day))
        end = today + timedelta(days=364)
        self.valid_to.setDate(QDate(end.year, end.month, end.day))
        self.status.setCurrentText("active")

    def edit(self, p: PermitRow) -> None:
        self.editing = p
        self.form_title.setText(f"<b>Permit {p.permit_number}</b>")
        self.number.setText(p.permit_number)
        self.kind.setCurrentText(p.type)
        self.holder.setText(p.holder_name or "")
        self.plates.setText(p.plates_text)
        self.zones.setText(p.zones_text)
        start = p.valid_from.astimezone(self.ctx.tz).date() if self.ctx.tz else p.valid_from.date()
        last = (p.valid_to - timedelta(seconds=1)).astimezone(self.ctx.tz).date() if self.ctx.tz else p.valid_to.date()
        self.valid_from.setDate(QDate(start.year, start.month, start.day))
        self.valid_to.setDate(QDate(last.year, last.month, last.day))
        self.status.setCurrentText(p.status)
        self.reason.clear()

    def values(self) -> dict[str, str]:
        return {"permit_number": self.number.text(), "type": self.kind.currentText(),
                "holder_name": self.holder.text(), "plates": self.plates.text(), "zones": self.zones.text(),
                "valid_from": self.valid_from.date().toString("yyyy-MM-dd"),
                "valid_to": self.valid_to.date().toString("yyyy-MM-dd"), "status": self.status.currentText()}

    def save(self) -> None:
        values = self.values()
        permit_id = self.editing.id if self.editing else None
        reason = self.reason.text().strip()

        def done(pid: int) -> None:
            self.ctx.info(f"Permit {values['permit_number']} saved.")
            self.saved.emit(pid)
            self.search.setText(values["permit_number"])  # the list follows through the operation bus

        Mutation(self.ctx, self,
                 lambda _c: permit_service.save_permit(self.ctx.app, self.ctx.actor, values, permit_id, reason),
                 changes=PERMIT_CHANGES, success=done).run()

    def import_csv(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import permits", "", "CSV files (*.csv);;All files (*)")
        if not path:
            return
        self.import_file(Path(path))

    def import_file(self, path: Path) -> None:
        self.count.setText(f"Importing {path.name}…")

        def done(result: Any) -> None:
            self.ctx.info(f"{result.permits:,} permits imported from {path.name}: {result.added:,} added, "
                          f"{result.updated:,} updated.")

        def failed(exc: BaseException) -> None:
            self.count.setText("")
            self.ctx.error(exc)

        Mutation(self.ctx, self, lambda _c: permit_service.import_permits(self.ctx.app, self.ctx.actor, path),
                 changes=PERMIT_CHANGES, success=done, failure=failed).run()

    def _data_changed(self, changes: Changes, _initiator: object) -> None:
        if changes.permits:  # saved or imported here, or in another permits window
            self.run_search()


class PermitsDialog(QDialog):
    """The permits screen in its own window (non-modal), opened from the Review screen."""

    def __init__(self, ctx: UiContext, initial: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Permits")
        fit_to_screen(self, 1100, 560)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.view = PermitsView(ctx, initial, self)
        lay.addWidget(self.view)
