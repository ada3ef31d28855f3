"""The Patrol plan page: a day's officers and shifts, the supervisor's constraints, Make plan, the beats as lists
to drag zones between (or a table to edit), Save (versioned: a stale save is refused and the beats stay on
screen), Print (the PDF, one page per beat with its map).

Keys: Ctrl+M make the plan, Ctrl+S save, Ctrl+P print, F5 reload the saved plan.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDateEdit,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.errors import ConcurrencyConflict
from desktop.domain.patrol_plan import Beat, OfficerShift, PlanConstraints, Stop
from desktop.domain.roles import Permission, allowed
from desktop.services.patrol import plans
from desktop.ui.appeals.widgets import PdfPreviewDialog
from desktop.ui.common.operations import Changes, Mutation, Query
from desktop.ui.common.tasks import TaskControl
from desktop.ui.context import UiContext

ZONE_ROLE = Qt.ItemDataRole.UserRole
MINUTES_ROLE = Qt.ItemDataRole.UserRole + 1
PATROL_CHANGES = Changes(sync=True)  # the saved plan is what the next sync pushes to the handhelds


def _hours(minutes: int) -> str:
    return f"{minutes // 60} h {minutes % 60:02d}"


class BeatList(QListWidget):
    """One beat's zones in visiting order; zones are dragged between beats (moved) and within one (reordered)."""

    def __init__(self, badge: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.badge = badge
        self.setObjectName(f"beat-{badge}")
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setMinimumWidth(200)
        self.setMinimumHeight(160)
        self.setAlternatingRowColors(True)
        self.setSpacing(1)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)


class PatrolPlanView(QWidget):
    """Signals: ``shown(draft)`` whenever a plan is on screen (loaded, made, edited or saved)."""

    shown = Signal(object)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.draft: plans.PlanDraft | None = None
        self.dirty = False
        self._rebuilding = False
        self.may_edit = allowed(ctx.actor.role, Permission.PATROL_PLAN)
        lay = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.date = QDateEdit()
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("yyyy-MM-dd")
        today = ctx.app.now().astimezone(ctx.tz).date()
        self.date.setDate(QDate(today.year, today.month, today.day).addDays(1))
        self.date.dateChanged.connect(lambda _d: self.reload())
        day_label = QLabel("&Day")
        day_label.setBuddy(self.date)
        bar.addWidget(day_label)
        bar.addWidget(self.date)
        self.make_button = QPushButton("&Make plan")
        self.make_button.clicked.connect(self.make)
        self.save_button = QPushButton("&Save")
        self.save_button.clicked.connect(self.save)
        self.print_button = QPushButton("&Print…")
        self.print_button.clicked.connect(self.print_plan)
        self.reload_button = QPushButton("&Reload")
        self.reload_button.clicked.connect(self.reload)
        for b in (self.make_button, self.save_button, self.print_button, self.reload_button):
            bar.addWidget(b)
        self.make_button.setEnabled(self.may_edit)
        self.save_button.setEnabled(False)
        self.print_button.setEnabled(False)
        bar.addStretch(1)
        self.version_label = QLabel("")
        self.version_label.setObjectName("version")
        bar.addWidget(self.version_label)
        lay.addLayout(bar)

        self.tabs = QTabWidget()
        lay.addWidget(self.tabs, 1)
        # --- beats as lists
        beats_page = QWidget()
        bl = QVBoxLayout(beats_page)
        bl.addWidget(QLabel("Drag zones between beats, or up and down within one, to change the plan. "
                            "Travel and times follow the new order."))
        self.beats_scroll = QScrollArea()
        self.beats_scroll.setWidgetResizable(True)
        self.beats_host = QWidget()
        self.beats_row = QHBoxLayout(self.beats_host)
        self.beats_row.setAlignment(Qt.AlignmentFlag.AlignLeft)
        self.beats_scroll.setWidget(self.beats_host)
        bl.addWidget(self.beats_scroll, 1)
        self.tabs.addTab(beats_page, "Beats")
        self.lists: list[BeatList] = []
        self.headers: list[QLabel] = []
        # --- the same as a table
        table_page = QWidget()
        tl = QVBoxLayout(table_page)
        tl.addWidget(QLabel("One line per stop: change the badge to move a stop to another beat, the order to "
                            "reorder it, the minutes to lengthen or shorten it; then Apply table."))
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["Badge", "Order", "Zone", "Minutes", "Travel"])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        tl.addWidget(self.table, 1)
        self.apply_button = QPushButton("&Apply table")
        self.apply_button.clicked.connect(self.apply_table)
        tl.addWidget(self.apply_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.tabs.addTab(table_page, "Table")
        # --- officers and shifts
        roster_page = QWidget()
        rl = QVBoxLayout(roster_page)
        rl.addWidget(QLabel("Officers on duty and their shifts. Untick an officer who is off; Make plan uses "
                            "this list."))
        self.roster = QTableWidget(0, 5)
        self.roster.setHorizontalHeaderLabels(["On duty", "Badge", "Officer", "Shift start", "Hours"])
        self.roster.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        rl.addWidget(self.roster, 1)
        self.tabs.addTab(roster_page, "Officers && shifts")
        # --- constraints
        cons_page = QWidget()
        cl = QVBoxLayout(cons_page)
        form = QFormLayout()
        self.visit = QSpinBox()
        self.visit.setRange(10, 480)
        self.visit.setSuffix(" min")
        self.speed = QDoubleSpinBox()
        self.speed.setRange(2.0, 80.0)
        self.speed.setSuffix(" km/h")
        self.visit.setMaximumWidth(120)
        self.speed.setMaximumWidth(120)
        form.addRow("Shortest &visit of a zone", self.visit)
        form.addRow("Travel &speed between zones", self.speed)
        cl.addLayout(form)
        cl.addWidget(QLabel("Zones: tick those that must be covered every day; in Expertise, the badges of the "
                            "only officers who may patrol a zone (empty: anyone)."))
        self.zone_table = QTableWidget(0, 8)
        self.zone_table.setHorizontalHeaderLabels(["Must cover", "Zone", "Name", "Priority", "Citations", "Checks",
                                                   "Patrol hours", "Expertise (badges)"])
        self.zone_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.zone_table.horizontalHeader().setStretchLastSection(True)
        cl.addWidget(self.zone_table, 1)
        self.tabs.addTab(cons_page, "Constraints && zones")

        self.problems = QLabel("")
        self.problems.setWordWrap(True)
        self.problems.setObjectName("problems")
        self.problems.setFrameShape(QFrame.Shape.StyledPanel)
        lay.addWidget(self.problems)

        for key, slot in (("Ctrl+M", self.make), ("Ctrl+S", self.save), ("Ctrl+P", self.print_plan),
                          ("F5", self.reload)):
            QShortcut(QKeySequence(key), self).activated.connect(slot)
        self.reload()

    # ------------------------------------------------------------------ data in
    def day(self) -> date:
        d = self.date.date()
        return date(d.year(), d.month(), d.day())

    def reload(self) -> None:
        app, actor, day = self.ctx.app, self.ctx.actor, self.day()

        def work(_c: TaskControl) -> tuple[plans.PlanDraft | None, Any]:
            saved = plans.load_plan(app, actor, day)
            return saved, (None if saved is not None else plans.starting_point(app, actor, day))

        Query(self.ctx, self, work, success=self._loaded).run()

    def _loaded(self, result: tuple[plans.PlanDraft | None, Any]) -> None:
        saved, start = result
        if saved is not None:
            self.show_draft(saved, dirty=False)
            return
        roster, constraints = start
        self.draft = None
        self._fill_roster(roster)
        self._fill_constraints(constraints, None)
        self._show_beats(())
        self.version_label.setText("No plan saved for this day: Make plan.")
        self.problems.setText("")
        self.save_button.setEnabled(False)
        self.print_button.setEnabled(False)

    def show_draft(self, draft: plans.PlanDraft, *, dirty: bool) -> None:
        self.draft = draft
        self.dirty = dirty
        self._fill_roster(draft.roster)
        self._fill_constraints(draft.constraints, draft)
        self._show_beats(draft.beats)
        self._show_status()
        self.shown.emit(draft)

    def _show_status(self) -> None:
        d = self.draft
        if d is None:
            return
        if d.version is None:
            text = "Not saved yet"
        else:
            at = d.saved_at.astimezone(self.ctx.tz).strftime("%Y-%m-%d %H:%M") if d.saved_at else ""
            text = f"Version {d.version}, saved by {d.saved_by} {at}".rstrip()
            if self.dirty:
                text += " — changed, not saved"
        self.version_label.setText(text)
        self.problems.setText("\n".join(d.problems) if d.problems else "No problem: every beat fits its shift.")
        self.save_button.setEnabled(self.may_edit and (self.dirty or d.version is None))
        self.print_button.setEnabled(d.version is not None and not self.dirty)

    def _fill_roster(self, roster: tuple[OfficerShift, ...] | list[OfficerShift]) -> None:
        self.roster.setRowCount(len(roster))
        for r, o in enumerate(roster):
            box = QTableWidgetItem()
            box.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled)
            box.setCheckState(Qt.CheckState.Checked if o.shift_minutes else Qt.CheckState.Unchecked)
            self.roster.setItem(r, 0, box)
            for c, text in ((1, o.badge), (2, o.name)):
                item = QTableWidgetItem(text)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                self.roster.setItem(r, c, item)
            self.roster.setItem(r, 3, QTableWidgetItem(o.shift_start or "08:00"))
            self.roster.setItem(r, 4, QTableWidgetItem(f"{(o.shift_minutes or 480) / 60:g}"))

    def _fill_constraints(self, constraints: PlanConstraints, draft: plans.PlanDraft | None) -> None:
        self.visit.setValue(constraints.visit_minutes)
        self.speed.setValue(constraints.travel_kmh)
        experts: dict[str, list[str]] = {}
        for badge, codes in constraints.expertise.items():
            for code in codes:
                experts.setdefault(code, []).append(badge)
        rows = sorted(draft.zones.values(), key=lambda z: -z.priority) if draft is not None else []
        self.zone_table.setRowCount(len(rows))
        for r, z in enumerate(rows):
            box = QTableWidgetItem()
            box.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled)
            box.setCheckState(Qt.CheckState.Checked if z.code in constraints.must_cover else Qt.CheckState.Unchecked)
            self.zone_table.setItem(r, 0, box)
            for c, text in enumerate((z.code, z.name, f"{z.priority:.2f}", str(z.citations), str(z.checks),
                                      f"{z.patrol_hours:.1f}"), start=1):
                item = QTableWidgetItem(text)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                self.zone_table.setItem(r, c, item)
            self.zone_table.setItem(r, 7, QTableWidgetItem(", ".join(sorted(experts.get(z.code, [])))))

    @staticmethod
    def _text(table: QTableWidget, row: int, column: int) -> str:
        item = table.item(row, column)
        return item.text().strip() if item is not None else ""

    @staticmethod
    def _ticked(table: QTableWidget, row: int) -> bool:
        item = table.item(row, 0)
        return item is not None and item.checkState() == Qt.CheckState.Checked

    def roster_from_screen(self) -> list[OfficerShift]:
        out = []
        for r in range(self.roster.rowCount()):
            on = self._ticked(self.roster, r)
            badge, name = self._text(self.roster, r, 1), self._text(self.roster, r, 2)
            start = self._text(self.roster, r, 3)
            try:
                minutes = round(float(self._text(self.roster, r, 4).replace(",", ".")) * 60)
            except ValueError:
                minutes = 0
            out.append(OfficerShift(badge, name, start if on else None, minutes if on and minutes > 0 else None))
        return out

    def constraints_from_screen(self) -> PlanConstraints:
        must: list[str] = []
        expertise: dict[str, list[str]] = {}
        for r in range(self.zone_table.rowCount()):
            code = self._text(self.zone_table, r, 1)
            if self._ticked(self.zone_table, r):
                must.append(code)
            for badge in self._text(self.zone_table, r, 7).replace(";", ",").split(","):
                if badge.strip():
                    expertise.setdefault(badge.strip(), []).append(code)
        return PlanConstraints(tuple(must), {b: tuple(z) for b, z in expertise.items()}, self.visit.value(),
                               self.speed.value())

    # ------------------------------------------------------------------ beats
    def _show_beats(self, beats: tuple[Beat, ...]) -> None:
        self._rebuilding = True
        for w in self.lists + self.headers:
            w.deleteLater()
        while self.beats_row.count():
            taken = self.beats_row.takeAt(0)
            widget = taken.widget() if taken is not None else None
            if widget is not None:
                widget.deleteLater()
        self.lists, self.headers = [], []
        names = self.draft.zones if self.draft is not None else {}
        for b in beats:
            column = QWidget()
            cl = QVBoxLayout(column)
            cl.setContentsMargins(0, 0, 0, 0)
            header = QLabel()
            header.setWordWrap(True)
            lst = BeatList(b.badge)
            for n, s in enumerate(b.stops, 1):
                if n == 1:
                    travel = "first stop"
                else:
                    travel = "no travel estimate" if s.travel_minutes is None else f"{s.travel_minutes} min travel"
                name = names[s.zone].name if s.zone in names else s.zone
                entry = QListWidgetItem(f"{n}. {name}\n    {s.zone}\n    {s.minutes} min patrol · {travel}")
                entry.setToolTip(f"{name} ({s.zone}): {s.minutes} min patrol, {travel}")
                entry.setData(ZONE_ROLE, s.zone)
                entry.setData(MINUTES_ROLE, s.minutes)
                lst.addItem(entry)
            lst.model().rowsInserted.connect(self._lists_changed)
            lst.model().rowsRemoved.connect(self._lists_changed)
            lst.model().rowsMoved.connect(self._lists_changed)
            if not self.may_edit:
                lst.setDragDropMode(QAbstractItemView.DragDropMode.NoDragDrop)
            if b.used_minutes > b.shift_minutes:  # over its shift: Save refuses until it is fixed
                lst.setStyleSheet("QListWidget { border: 2px solid #b00020; }")
            self._header(header, b)
            cl.addWidget(header)
            cl.addWidget(lst, 1)
            self.beats_row.addWidget(column)
            self.lists.append(lst)
            self.headers.append(header)
        self._fill_table(beats)
        self._rebuilding = False

    def _header(self, label: QLabel, b: Beat) -> None:
        over = b.used_minutes > b.shift_minutes
        colour = "#b00020" if over else "#1b5e20"
        label.setText(f"<b>{b.badge}</b> {b.name}<br>{b.shift_start or '—'}, shift {_hours(b.shift_minutes)}<br>"
                      f"<span style='color:{colour}'>planned {_hours(b.used_minutes)} "
                      f"({b.travel_minutes} min travel)</span>")

    def _fill_table(self, beats: tuple[Beat, ...]) -> None:
        rows = [(b.badge, i + 1, s) for b in beats for i, s in enumerate(b.stops)]
        self.table.setRowCount(len(rows))
        for r, (badge, order, s) in enumerate(rows):
            travel = "—" if s.travel_minutes is None else str(s.travel_minutes)
            for c, text in enumerate((badge, str(order), s.zone, str(s.minutes), travel)):
                item = QTableWidgetItem(text)
                if c == 4:
                    item.setFlags(Qt.ItemFlag.ItemIsEnabled)
                self.table.setItem(r, c, item)

    def _lists_changed(self, *_a: Any) -> None:
        if not self._rebuilding:
            QTimer.singleShot(0, self._apply_lists)

    def beats_from_lists(self) -> list[Beat]:
        assert self.draft is not None
        by_badge = {b.badge: b for b in self.draft.beats}
        out = []
        for lst in self.lists:
            stops = []
            for i in range(lst.count()):
                item = lst.item(i)
                zone = item.data(ZONE_ROLE)
                if zone:
                    stops.append(Stop(str(zone), int(item.data(MINUTES_ROLE) or self.draft.constraints.visit_minutes)))
            out.append(replace(by_badge[lst.badge], stops=tuple(stops)))
        return out

    def _apply_lists(self) -> None:
        if self.draft is None or self._rebuilding:
            return
        beats = self.beats_from_lists()
        if tuple(beats) == tuple(replace(b, stops=tuple(Stop(s.zone, s.minutes) for s in b.stops))
                                 for b in self.draft.beats):
            return
        self.show_draft(plans.edit_beats(self.draft, beats), dirty=True)

    def apply_table(self) -> None:
        if self.draft is None:
            return
        rows: dict[str, list[tuple[float, Stop]]] = {b.badge: [] for b in self.draft.beats}
        problems = []
        for r in range(self.table.rowCount()):
            cells = [self._text(self.table, r, c) for c in range(4)]
            badge, order, zone, minutes = cells
            if badge not in rows:
                problems.append(f"Line {r + 1}: {badge or 'no badge'} has no beat in this plan.")
                continue
            try:
                rows[badge].append((float(order or 0), Stop(zone.upper(), int(minutes))))
            except ValueError:
                problems.append(f"Line {r + 1}: the order and the minutes are whole numbers.")
        if problems:
            self.problems.setText("The table is not applied: " + " ".join(problems))
            return
        beats = [replace(b, stops=tuple(s for _o, s in sorted(rows[b.badge], key=lambda t: t[0])))
                 for b in self.draft.beats]
        self.show_draft(plans.edit_beats(self.draft, beats), dirty=True)

    # ------------------------------------------------------------------ actions
    def make(self) -> None:
        if not self.may_edit:
            return
        app, actor, day = self.ctx.app, self.ctx.actor, self.day()
        roster, constraints = self.roster_from_screen(), self.constraints_from_screen()
        roster_arg = roster or None  # an empty list: the starting point's roster
        Query(self.ctx, self, lambda _c: plans.make_plan(app, actor, day, roster_arg, constraints),
              success=lambda d: self.show_draft(d, dirty=True)).run()

    def save(self) -> None:
        if self.draft is None or not self.may_edit:
            return
        app, actor, draft = self.ctx.app, self.ctx.actor, self.draft

        def saved(d: plans.PlanDraft) -> None:
            self.show_draft(d, dirty=False)
            self.ctx.info(f"Patrol plan of {d.day.isoformat()} saved as version {d.version}; the handhelds get it "
                          "on the next sync.")

        def refused(exc: BaseException) -> None:
            if isinstance(exc, ConcurrencyConflict):  # the beats stay on screen, still unsaved
                self.problems.setText(str(exc))
            self.ctx.error(exc)

        Mutation(self.ctx, self, lambda _c: plans.save_plan(app, actor, draft), changes=PATROL_CHANGES,
                 success=saved, failure=refused).run()

    def print_plan(self) -> None:
        if self.draft is None or self.draft.version is None:
            return
        app, actor, day = self.ctx.app, self.ctx.actor, self.day()
        out = app.paths.print_dir / f"patrol-plan-{day.isoformat()}-v{self.draft.version}.pdf"

        def done(path: Any) -> None:
            self.preview = PdfPreviewDialog(path, f"Patrol plan {day.isoformat()}", self)
            self.preview.open()
            self.ctx.info(f"Printed to {path}.")

        Query(self.ctx, self, lambda _c: plans.print_plan(app, actor, day, out), success=done).run()


__all__ = ["BeatList", "PatrolPlanView"]
