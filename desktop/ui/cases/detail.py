"""The case detail panel: the next action and its date, the timeline of everything that happened,
the ledger with its balance, the notices, notes and attachments, the schedule under the case's
jurisdiction profile, and the clerk's actions (owner lookup and entry, holds, notes).

(Over 600 lines, knowingly: the panel and its two small dialogs; the mailed piece's preview lives in
``notice_preview``. Moving the dialogs out is left for when the Cases screen's layout work has landed.)

Every database call goes through the TaskRunner; the panel only paints what comes back.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QBrush, QColor, QDesktopServices, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.addresses import AddressProblem, standardize
from desktop.domain.ladder import describe_next_action, ladder
from desktop.domain.ledger import format_cents
from desktop.domain.roles import Permission, allowed
from desktop.services.cases import holds as case_holds
from desktop.services.cases import notes as case_notes
from desktop.services.cases import owners
from desktop.services.cases.queries import CaseDetail, case_detail
from desktop.ui.cases.notice_preview import show_sent_piece
from desktop.ui.common.operations import Changes, Mutation, Query
from desktop.ui.common.tasks import TaskControl
from desktop.ui.common.widgets import load_thumbnail, local_time, ok_cancel, rich_label, status_badge_html

INTEGRITY_TEXT = {"verified": "✔ verified", "integrity_failed": "✖ failed integrity",
                  "missing": "✖ missing", "pending": "… pending"}
KIND_COLOURS = {"sync": "#455a64", "review": "#8a5a00", "ledger": "#1d4f91", "payment": "#2e7d32",
                "notice": "#6b3fa0", "hold": "#b26a00", "note": "#37474f", "owner": "#00695c",
                "appeal": "#6b3fa0", "escalation": "#b71c1c"}
KIND_LABELS = {"sync": "Field", "review": "Review", "ledger": "Ledger", "payment": "Payment", "notice": "Notice",
               "hold": "Hold", "note": "Note", "owner": "Owner", "appeal": "Appeal", "escalation": "Escalation"}


class TextDialog(QDialog):
    """Asks for one reason or note (multi-line), optionally with a choice above it."""

    def __init__(self, title: str, prompt: str, parent: QWidget | None = None, choices: list[str] | None = None,
                 placeholder: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(prompt))
        self.choice = QComboBox()
        if choices:
            self.choice.addItems(choices)
            lay.addWidget(self.choice)
        self.text = QPlainTextEdit()
        self.text.setPlaceholderText(placeholder)
        self.text.setMinimumSize(460, 110)
        if not choices:
            lay.addWidget(self.text)
        buttons = ok_cancel(self.accept, self.reject)
        lay.addWidget(buttons)

    def value(self) -> str:
        return self.choice.currentText() if self.choice.count() else self.text.toPlainText().strip()


class OwnerDialog(QDialog):
    """Manual owner entry (or correction of an address), with the USPS reading shown as it is typed."""

    def __init__(self, parent: QWidget | None = None, *, address_only: bool = False, name: str = "",
                 address: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Correct the owner's address" if address_only else "Enter the registered owner")
        form = QFormLayout(self)
        self.name = QLineEdit(name)
        self.address = QLineEdit(address)
        self.address.setMinimumWidth(420)
        self.preview = QLabel()
        self.preview.setWordWrap(True)
        self.make, self.model, self.vin = QLineEdit(), QLineEdit(), QLineEdit()
        self.year = QSpinBox()
        self.year.setRange(0, 2100)
        self.year.setSpecialValueText("—")
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("where the details come from, e.g. DMV letter of 12 March")
        if not address_only:
            form.addRow("Owner name", self.name)
        form.addRow("Mailing address", self.address)
        form.addRow("", self.preview)
        if not address_only:
            form.addRow("Make", self.make)
            form.addRow("Model", self.model)
            form.addRow("Year", self.year)
            form.addRow("VIN", self.vin)
        form.addRow("Reason", self.reason)
        buttons = ok_cancel(self.accept, self.reject)
        form.addRow(buttons)
        self.address.textChanged.connect(self._preview)
        self._preview(address)

    def _preview(self, text: str) -> None:
        if not text.strip():
            self.preview.setText("")
            return
        result = standardize(text)
        if isinstance(result, AddressProblem):
            self.preview.setText(f"<span style='color:#b71c1c'>⚠ {result.reason} Notices stay held.</span>")
        else:
            self.preview.setText(f"<span style='color:#2e7d32'>✔ {result.delivery_line}, {result.last_line}</span>")


class CaseDetailPanel(QWidget):
    """Shows one case, and shows it again whenever a change to it is announced on the operation bus (its
    own actions, a payment posted, an appeal decided). Signals: `shown(citation_id)` once its facts are on
    screen; `photos_shown(n)`."""

    shown = Signal(int)
    photos_shown = Signal(int)

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx  # UiContext: app, actor, runner, tz, evidence_path()
        self.detail: CaseDetail | None = None
        self._photo_gen = 0
        self._load_gen = 0
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 4)
        self.header = rich_label("<span style='color:#666'>Select a case to see its details.</span>")
        lay.addWidget(self.header)
        self.next_box = QLabel()
        self.next_box.setTextFormat(Qt.TextFormat.RichText)
        self.next_box.setWordWrap(True)
        self.next_box.setObjectName("nextAction")
        self.next_box.setStyleSheet("QLabel#nextAction { background:#eef4fb; border:1px solid #c9d9ec; "
                                    "border-radius:6px; padding:6px 10px; }")
        self.next_box.setVisible(False)
        lay.addWidget(self.next_box)

        actions = QHBoxLayout()
        self.lookup_button = QPushButton("Look up owner…")
        self.owner_button = QPushButton("Enter owner…")
        self.address_button = QPushButton("Correct address…")
        self.hold_button = QPushButton("Place hold…")
        self.release_button = QPushButton("Release hold…")
        self.note_button = QPushButton("Add note…")
        for button, slot in ((self.lookup_button, self.lookup_owner), (self.owner_button, self.enter_owner),
                             (self.address_button, self.correct_address), (self.hold_button, self.place_hold),
                             (self.release_button, self.release_hold), (self.note_button, self.add_note)):
            button.clicked.connect(lambda _checked=False, slot=slot: slot())
            button.setEnabled(False)
            actions.addWidget(button)
        actions.addStretch(1)
        lay.addLayout(actions)

        self.tabs = QTabWidget()
        lay.addWidget(self.tabs, 1)

        facts_page = QWidget()
        facts_lay = QVBoxLayout(facts_page)
        self.facts = QFormLayout()
        self.facts.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        facts_lay.addLayout(self.facts)
        self.photo_row = QHBoxLayout()
        self.photo_row.setAlignment(Qt.AlignmentFlag.AlignLeft)
        photos_box = QWidget()
        photos_box.setLayout(self.photo_row)
        facts_lay.addWidget(QLabel("<b>Evidence photos</b>"))
        facts_lay.addWidget(photos_box)
        facts_lay.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(facts_page)
        self.tabs.addTab(scroll, "Facts && evidence")

        self.timeline = self._table(["When", "Who", "What", "Detail"])
        self.tabs.addTab(self.timeline, "Timeline")
        self.ledger = self._table(["Date", "Entry", "Amount", "Memo"])
        self.tabs.addTab(self.ledger, "Ledger")
        self.notices = self._table(["Notice", "Status", "Queued", "Mailed", "To / reason"])
        self.notices.setToolTip("Double-click a printed or mailed notice to see it as it was sent")
        self.notices.doubleClicked.connect(lambda index: self.show_sent(index.row()))
        self.tabs.addTab(self.notices, "Notices")
        self.schedule = self._table(["Step", "Date", "Penalty", "Notice"])
        self.tabs.addTab(self.schedule, "Schedule")
        notes_page = QWidget()
        notes_lay = QVBoxLayout(notes_page)
        notes_lay.setContentsMargins(0, 0, 0, 0)
        self.notes = self._table(["When", "Who", "Note", "Attachment"])
        self.notes.doubleClicked.connect(self.open_attachment)
        notes_lay.addWidget(self.notes)
        row = QHBoxLayout()
        attach = QPushButton("Attach file…")
        attach.clicked.connect(lambda _checked=False: self.attach_file())
        self.open_button = QPushButton("Open attachment")
        self.open_button.clicked.connect(lambda _checked=False: self.open_attachment())
        row.addWidget(attach)
        row.addWidget(self.open_button)
        row.addStretch(1)
        notes_lay.addLayout(row)
        self.attach_button = attach
        attach.setEnabled(False)
        self.tabs.addTab(notes_page, "Notes")
        self.TIMELINE, self.LEDGER, self.NOTICES, self.SCHEDULE, self.NOTES = 1, 2, 3, 4, 5
        ctx.bus.subscribe(self, self._data_changed)

    @staticmethod
    def _table(headers: list[str]) -> QTableWidget:
        t = QTableWidget(0, len(headers))
        t.setHorizontalHeaderLabels(headers)
        t.verticalHeader().setVisible(False)
        t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        t.setWordWrap(False)
        t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        t.horizontalHeader().setStretchLastSection(True)
        return t

    def _may(self, permission: Permission) -> bool:
        return allowed(self.ctx.actor.role, permission)

    # ------------------------------------------------------------------ loading
    def load(self, citation_id: int) -> None:
        self._load_gen += 1
        gen = self._load_gen

        def done(d: CaseDetail) -> None:
            if gen == self._load_gen:
                self.show_detail(d)

        Query(self.ctx, self, lambda _c: case_detail(self.ctx.app, self.ctx.actor, citation_id), success=done).run()

    def reload(self) -> None:
        if self.detail is not None:
            self.load(self.detail.citation.id)

    def _data_changed(self, changes: Changes, _initiator: object) -> None:
        if self.detail is not None and changes.touches_citation(self.detail.citation.id):
            self.reload()

    def clear(self, text: str) -> None:
        """Show no case (a search found nothing): the previous case's facts must not stay on screen."""
        self._load_gen += 1
        self._photo_gen += 1
        self.detail = None
        self.header.setText(f"<span style='color:#666'>{text}</span>")
        self.next_box.setVisible(False)
        while self.facts.rowCount():
            self.facts.removeRow(0)
        while self.photo_row.count():
            item = self.photo_row.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        for table in (self.timeline, self.ledger, self.notices, self.schedule, self.notes):
            table.setRowCount(0)
        for button in (self.lookup_button, self.owner_button, self.address_button, self.hold_button,
                       self.release_button, self.note_button, self.attach_button):
            button.setEnabled(False)

    def show_detail(self, d: CaseDetail) -> None:
        self.detail = d
        c = d.citation
        profile_label = f"{c.profile_code} v{c.profile_version}" if d.profile is not None else c.profile_code
        self.header.setText(
            f"<span style='font-size:15pt; font-weight:600'>{c.citation_number}</span>&nbsp;&nbsp;"
            f"{status_badge_html(c.status)}&nbsp;&nbsp;<span style='font-size:13pt'>Balance "
            f"<b>{format_cents(d.balance_cents, d.currency)}</b></span>&nbsp;&nbsp;"
            f"<span style='color:#555'>stage <b>{d.stage_text}</b> · profile {profile_label}</span>")
        self._next_action(d)
        self._facts(d)
        self._fill_timeline(d)
        self._fill_ledger(d)
        self._fill_notices(d)
        self._fill_schedule(d)
        self._fill_notes(d)
        open_case = c.status in ("open", "under_appeal", "in_collections")
        self.lookup_button.setEnabled(self._may(Permission.LOOKUP_OWNERS))
        self.owner_button.setEnabled(self._may(Permission.EDIT_CASES))
        self.address_button.setEnabled(self._may(Permission.EDIT_CASES) and d.owner is not None)
        self.hold_button.setEnabled(self._may(Permission.PLACE_HOLDS) and open_case
                                    and not any(h.kind == "supervisor" for h in d.active_holds))
        self.release_button.setEnabled(self._may(Permission.PLACE_HOLDS) and bool(d.active_holds))
        self.note_button.setEnabled(self._may(Permission.EDIT_CASES))
        self.attach_button.setEnabled(self._may(Permission.EDIT_CASES))
        self._load_photos(d)
        self.shown.emit(c.id)

    def _next_action(self, d: CaseDetail) -> None:
        c = d.citation
        if not c.next_action:
            if c.status in ("open", "under_appeal", "in_collections"):
                text = ("<b style='color:#b71c1c'>⚠ No next action.</b> The daily escalation has not placed this "
                        "case yet; it is on the list of open cases without a next action.")
            elif c.status in ("received", "pending_review"):
                text = ("<span style='color:#555'>Next action</span>&nbsp; <b style='font-size:12pt'>Review the "
                        "citation against its evidence</b>&nbsp; <span style='color:#555'>(Review screen); the "
                        "notice ladder starts once it is approved.</span>")
            else:
                text = f"<span style='color:#555'>Closed ({c.status.replace('_', ' ')}): nothing more to do.</span>"
        else:
            when = c.next_action_date
            overdue = when is not None and when < date.today()
            colour = "#b71c1c" if overdue else "#1d4f91"
            text = (f"<span style='color:#555'>Next action</span>&nbsp; <b style='font-size:12pt'>"
                    f"{describe_next_action(c.next_action, d.profile)}</b>&nbsp; "
                    f"<span style='color:{colour}; font-weight:600'>{when.isoformat() if when else 'no date'}"
                    f"{' (overdue)' if overdue else ''}</span>")
            s = d.schedule
            extras = []
            if s is not None and s.contest_deadline and c.status == "open":
                extras.append(f"may be contested until <b>{s.contest_deadline.isoformat()}</b>")
            if s is not None and s.discount is not None and c.status == "open":
                pay = format_cents(s.discount.amount_payable_cents, d.currency)
                extras.append(f"{s.discount.percent} % discount: pay {pay} by {s.discount.until.isoformat()}")
            if d.active_holds:
                extras.append("on hold: " + ", ".join(f"{h.kind.replace('_', ' ')} since "
                                                      f"{local_time(h.started_at, self.ctx.tz, '%Y-%m-%d')}"
                                                      for h in d.active_holds))
            if extras:
                text += "<br><span style='color:#444'>" + "; ".join(extras) + "</span>"
        self.next_box.setText(text)
        self.next_box.setVisible(True)

    def _facts(self, d: CaseDetail) -> None:
        c = d.citation
        tz = self.ctx.tz
        while self.facts.rowCount():
            self.facts.removeRow(0)
        owner = d.owner
        owner_text = "— not yet looked up"
        if owner is not None:
            if owner.address_status == "ok":
                addr = f"{owner.address_line1}, {owner.city} {owner.state} {owner.zip}"
            else:
                addr = (f"{owner.address_raw}<br><span style='color:#b71c1c'>⚠ cannot be mailed: "
                        f"{owner.address_problem or owner.address_status}</span>")
            owner_text = (f"<b>{owner.name}</b><br>{addr}<br><span style='color:#666'>registered {owner.valid_from}"
                          + (f" to {owner.valid_to}" if owner.valid_to else "")
                          + f"; {owner.vehicle_make or ''} {owner.vehicle_model or ''} {owner.vehicle_year or ''}"
                          + f"{'; VIN ' + owner.vin if owner.vin else ''} · {owner.source}</span>")
        obs = "; ".join(
            f"{o.get('kind')}: first {o.get('first_seen_at', '')[11:16]}, again {o.get('second_seen_at', '')[11:16]}"
            for o in (c.observations or []))
        rows = [
            ("Issued", f"{local_time(c.issued_at, tz)} by officer {c.officer_badge} on {c.device_id or '—'}"),
            ("Vehicle", (f"<b>{c.plate}</b> ({c.jurisdiction}{', ' + c.plate_type if c.plate_type else ''}) "
                         f"{c.make or ''} {c.model or ''} {c.color or ''}")),
            ("Location", (f"{c.address or ''}, zone {c.zone_code or '—'}"
                          f"{', space ' + c.space if c.space else ''} ({c.lat:.5f}, {c.lon:.5f} "
                          f"±{c.accuracy_m or 0:.0f} m)")),
            ("Violation", "<br>".join(f"{v.code} {v.description or ''}: {format_cents(v.fine_cents, d.currency)}"
                                       + (f" (handheld showed {format_cents(v.handheld_fine_cents, d.currency)})"
                                          if v.handheld_fine_cents not in (None, v.fine_cents) else "")
                                       for v in c.violations) or c.violation_code),
            ("Observations", obs or "—"),
            ("Officer remarks", c.remarks or "—"),
            ("Registered owner", owner_text),
            ("Evidence", f"{c.evidence_status.replace('_', ' ')}; signature {c.signature_state}"),
        ]
        for label, value in rows:
            lab = QLabel(value)
            lab.setTextFormat(Qt.TextFormat.RichText)
            lab.setWordWrap(True)
            lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.facts.addRow(f"<b>{label}</b>", lab)

    def _fill_timeline(self, d: CaseDetail) -> None:
        t = self.timeline
        t.setRowCount(len(d.timeline))
        for i, item in enumerate(d.timeline):
            colour = QColor(KIND_COLOURS.get(item.kind, "#333333"))
            detail = item.detail + (f" (written {local_time(item.recorded, self.ctx.tz)})" if item.recorded else "")
            cells = [local_time(item.at, self.ctx.tz), item.who,
                     f"{KIND_LABELS.get(item.kind, item.kind.capitalize())} · {item.what}", detail.strip()]
            for col, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                if col == 2:
                    cell.setForeground(QBrush(colour))
                if col == 3:
                    cell.setToolTip(text)
                t.setItem(i, col, cell)
        t.scrollToBottom()
        self.tabs.setTabText(self.TIMELINE, f"Timeline ({len(d.timeline)})")

    def _fill_ledger(self, d: CaseDetail) -> None:
        t = self.ledger
        t.setRowCount(len(d.ledger) + 1)
        for i, e in enumerate(d.ledger):
            amount = QTableWidgetItem(format_cents(e.amount_cents, d.currency))
            amount.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            for col, item in enumerate([QTableWidgetItem(str(e.effective_date)),
                                        QTableWidgetItem(e.kind.replace("_", " ")), amount,
                                        QTableWidgetItem(e.memo or "")]):
                t.setItem(i, col, item)
        total = QTableWidgetItem(format_cents(d.balance_cents, d.currency))
        total.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        font = total.font()
        font.setBold(True)
        total.setFont(font)
        label = QTableWidgetItem("Balance")
        label.setFont(font)
        t.setItem(len(d.ledger), 1, label)
        t.setItem(len(d.ledger), 2, total)
        t.setItem(len(d.ledger), 0, QTableWidgetItem(""))
        t.setItem(len(d.ledger), 3, QTableWidgetItem("the sum of the entries above"))
        self.tabs.setTabText(self.LEDGER, f"Ledger ({len(d.ledger)})")

    def _fill_notices(self, d: CaseDetail) -> None:
        t = self.notices
        t.setRowCount(len(d.notices))
        for i, n in enumerate(d.notices):
            snap = n.address_snapshot if isinstance(n.address_snapshot, dict) else {}
            to = n.hold_reason if n.status in ("held", "cancelled") else (
                f"{snap.get('name') or ''}, {snap.get('line1') or ''} {snap.get('city') or ''} {snap.get('zip') or ''}")
            cells = [n.kind.replace("_", " "), n.status, local_time(n.queued_at, self.ctx.tz, "%Y-%m-%d"),
                     local_time(n.mailed_at, self.ctx.tz, "%Y-%m-%d") if n.mailed_at else "—", to or ""]
            for col, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                if col == 1 and n.status == "held":
                    cell.setForeground(QBrush(QColor("#b71c1c")))
                t.setItem(i, col, cell)
        held = sum(1 for n in d.notices if n.status == "held")
        self.tabs.setTabText(self.NOTICES, f"Notices ({len(d.notices)}{', ' + str(held) + ' held' if held else ''})")

    def _fill_schedule(self, d: CaseDetail) -> None:
        t = self.schedule
        if d.profile is None:
            t.setRowCount(0)
            return
        rungs = ladder(d.profile)
        dates = {sd.key: sd for sd in d.schedule.stage_dates} if d.schedule is not None else {}
        t.setRowCount(len(rungs))
        current = d.citation.stage
        for i, rung in enumerate(rungs):
            sd = dates.get(rung.key)
            when = "—"
            if sd is not None and sd.starts_on is not None:
                when = sd.starts_on.isoformat()
            elif sd is not None:
                when = "after the previous notice is mailed"
            elif rung.is_final:
                when = "when the last stage's time runs out"
            penalty = ""
            if rung.penalty.fixed_cents:
                penalty = "+" + format_cents(rung.penalty.fixed_cents, d.currency)
            if rung.penalty.percent_of_fine:
                penalty += f"{' and ' if penalty else '+'}{rung.penalty.percent_of_fine} % of the fine"
            cells = [("▶ " if rung.key == current else "   ") + rung.name, when, penalty,
                     (rung.notice_kind or "").replace("_", " ")]
            for col, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                if rung.key == current:
                    font = cell.font()
                    font.setBold(True)
                    cell.setFont(font)
                t.setItem(i, col, cell)
        self.tabs.setTabText(self.SCHEDULE, f"Schedule ({d.profile.code})")

    def _fill_notes(self, d: CaseDetail) -> None:
        t = self.notes
        t.setRowCount(len(d.notes))
        for i, note in enumerate(d.notes):
            who = d.usernames.get(note.user_id or -1, "system")
            for col, text in enumerate([local_time(note.at, self.ctx.tz), who, note.text,
                                        note.attachment_name or ""]):
                t.setItem(i, col, QTableWidgetItem(text))
        self.tabs.setTabText(self.NOTES, f"Notes ({len(d.notes)})")
        self.open_button.setEnabled(any(n.attachment_sha256 for n in d.notes))

    def _load_photos(self, d: CaseDetail) -> None:
        while self.photo_row.count():
            item = self.photo_row.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self._photo_gen += 1
        gen = self._photo_gen
        photos = [(p.sha256, p.caption, p.integrity, p.taken_at) for p in d.photos]
        paths = [self.ctx.evidence_path(sha) for sha, *_ in photos]

        def work(_c: TaskControl) -> list[Any]:
            return [load_thumbnail(p) if p.exists() else None for p in paths]

        def done(images: list[Any]) -> None:
            if gen != self._photo_gen:
                return
            for (sha, caption, integrity, taken), image in zip(photos, images, strict=True):
                box = QVBoxLayout()
                pic = QLabel()
                pic.setFixedSize(204, 156)
                pic.setAlignment(Qt.AlignmentFlag.AlignCenter)
                pic.setStyleSheet("background:#222; border:1px solid #999;")
                if image is not None:
                    pic.setPixmap(QPixmap.fromImage(image))
                else:
                    pic.setText("<span style='color:#ddd'>cannot display:<br>file not in the evidence store</span>")
                cap = QLabel(f"{caption or ''} · {local_time(taken, self.ctx.tz, '%H:%M:%S')}<br>"
                             f"<span style='color:{'#2e7d32' if integrity == 'verified' else '#b71c1c'}'>"
                             f"{INTEGRITY_TEXT.get(integrity, integrity)}</span> <code>{sha[:12]}…</code>")
                cap.setTextFormat(Qt.TextFormat.RichText)
                holder = QWidget()
                box.addWidget(pic)
                box.addWidget(cap)
                holder.setLayout(box)
                self.photo_row.addWidget(holder)
            self.photos_shown.emit(len(images))

        Query(self.ctx, self, work, success=done).run()

    # ------------------------------------------------------------------ actions
    def _run(self, fn: Any, done_text: str, *, notices: bool = False) -> None:
        """Run a change to the shown case; the bus then shows it again here and in the list."""
        assert self.detail is not None
        changes = Changes(cases=True, notices=notices, citation_ids=frozenset({self.detail.citation.id}))
        Mutation(self.ctx, self, lambda _c: fn(), changes=changes, success=lambda _r: self.ctx.info(done_text)).run()

    def lookup_owner(self) -> None:
        if self.detail is None:
            return
        dlg = TextDialog("Look up the registered owner",
                         "The owner registered on the violation date is looked up. Every lookup is recorded "
                         "with its purpose (Driver's Privacy Protection Act):", self, choices=list(owners.PURPOSES))
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return
        cid, purpose = self.detail.citation.id, dlg.value()
        self._run(lambda: owners.lookup_owner(self.ctx.app, self.ctx.actor, cid, purpose), "Owner looked up.")

    def enter_owner(self) -> None:
        if self.detail is None:
            return
        dlg = OwnerDialog(self)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return
        cid = self.detail.citation.id
        name, address, reason = dlg.name.text(), dlg.address.text(), dlg.reason.text()
        make, model, vin = dlg.make.text(), dlg.model.text(), dlg.vin.text()
        year = dlg.year.value() or None
        self._run(lambda: owners.enter_owner(self.ctx.app, self.ctx.actor, cid, name, address, reason=reason,
                                             make=make, model=model, year=year, vin=vin), "Owner entered.")

    def correct_address(self) -> None:
        if self.detail is None or self.detail.owner is None:
            return
        owner = self.detail.owner
        dlg = OwnerDialog(self, address_only=True, address=owner.address_raw)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return
        address, reason = dlg.address.text(), dlg.reason.text()
        self._run(lambda: owners.correct_address(self.ctx.app, self.ctx.actor, owner.id, address, reason),
                  "Address corrected; held notices go out to it when it can be mailed.", notices=True)

    def place_hold(self) -> None:
        if self.detail is None:
            return
        dlg = TextDialog("Place a supervisor hold", "Penalties and notices pause until the hold is released; "
                         "the case's dates then move by the length of the hold. Why?", self)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return
        cid, reason = self.detail.citation.id, dlg.value()
        self._run(lambda: case_holds.place_supervisor_hold(self.ctx.app, self.ctx.actor, cid, reason), "Hold placed.",
                  notices=True)

    def release_hold(self) -> None:
        if self.detail is None or not self.detail.active_holds:
            return
        holds = self.detail.active_holds
        labels = [f"{h.kind.replace('_', ' ')} since {local_time(h.started_at, self.ctx.tz, '%Y-%m-%d')}: {h.reason}"
                  for h in holds]
        pick = TextDialog("Release a hold", "Which hold ends?", self, choices=labels)
        if pick.exec() != QDialog.DialogCode.Accepted:
            return
        hold = holds[labels.index(pick.value())]
        why = TextDialog("Release a hold", "Why does the hold end?", self)
        if why.exec() != QDialog.DialogCode.Accepted:
            return
        cid, reason = self.detail.citation.id, why.value()
        self._run(lambda: case_holds.release_hold(self.ctx.app, self.ctx.actor, cid, hold.id, reason),
                  "Hold released; the case's dates moved by its length.", notices=True)

    def add_note(self, attachment: Path | None = None) -> None:
        if self.detail is None:
            return
        dlg = TextDialog("Add a note", f"Note on {self.detail.citation.citation_number}"
                         + (f" (attaching {attachment.name})" if attachment else "") + ":", self)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return
        cid, text = self.detail.citation.id, dlg.value()
        self._run(lambda: case_notes.add_note(self.ctx.app, self.ctx.actor, cid, text, attachment), "Note added.")

    def attach_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Attach a file to the case")
        if path:
            self.add_note(Path(path))

    def show_sent(self, row: int) -> None:
        """A notice double-clicked: its pages as printed, for a clerk on the phone (`notice_preview`)."""
        if self.detail is not None and 0 <= row < len(self.detail.notices):
            self.sent_dialog = show_sent_piece(self.ctx, self, self.detail.notices[row].id)

    def open_attachment(self, *_args: Any) -> None:
        if self.detail is None:
            return
        row = self.notes.currentRow()
        notes = self.detail.notes
        chosen = notes[row] if 0 <= row < len(notes) and notes[row].attachment_sha256 else next(
            (n for n in reversed(notes) if n.attachment_sha256), None)
        if chosen is None:
            self.ctx.info("This note has no attachment.")
            return
        Query(self.ctx, self, lambda _c: case_notes.attachment_copy(self.ctx.app, chosen),
              success=lambda p: QDesktopServices.openUrl(QUrl.fromLocalFile(str(p)))).run()
