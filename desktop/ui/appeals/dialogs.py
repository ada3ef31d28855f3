"""Dialogs of the appeals screen: intake (with the document picker), scheduling and adjourning a hearing,
a hearing officer's availability, and the day's docket. Every service call runs in the TaskRunner; a
refused request shows its message and the dialog keeps what was typed."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, Qt, QTime, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.appeals import Channel, HearingMode
from desktop.domain.errors import UserError
from desktop.domain.ledger import format_cents
from desktop.domain.roles import Permission, allowed
from desktop.services import appeals
from desktop.services.admin import users
from desktop.services.appeals.documents import CheckedDocument, check_file
from desktop.services.core import settings
from desktop.ui.appeals.widgets import appeal_changes
from desktop.ui.common.operations import Changes, Mutation, Query
from desktop.ui.common.screen_fit import fit_to_screen
from desktop.ui.common.tasks import TaskControl
from desktop.ui.common.widgets import ok_cancel


def _qdate(d: date) -> QDate:
    return QDate(d.year, d.month, d.day)


def _pydate(q: QDate) -> date:
    return date(q.year(), q.month(), q.day())


class IntakeDialog(QDialog):
    """Take in an appeal by mail, online form or at the counter. Signal `filed(FiledAppeal)`."""

    filed = Signal(object)
    previewed = Signal(object)

    def __init__(self, ctx: Any, citation_number: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.preview: appeals.IntakePreview | None = None
        self.documents: list[tuple[Path, CheckedDocument]] = []
        self.setWindowTitle("New appeal")
        fit_to_screen(self, 760, 820)
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        self.citation = QLineEdit(citation_number)
        self.citation.setPlaceholderText("Citation number from the notice — Enter to look it up")
        self.citation.returnPressed.connect(self.look_up)
        look = QPushButton("&Look up")
        look.clicked.connect(self.look_up)
        top.addWidget(QLabel("Citation"))
        top.addWidget(self.citation, 1)
        top.addWidget(look)
        lay.addLayout(top)
        self.case_label = QLabel("<span style='color:#666'>Type the citation number to start.</span>")
        self.case_label.setTextFormat(Qt.TextFormat.RichText)
        self.case_label.setWordWrap(True)
        lay.addWidget(self.case_label)

        form = QFormLayout()
        self.level = QComboBox()
        self.level.activated.connect(lambda _i: self.look_up(self.level.currentData()))
        form.addRow("Level", self.level)
        self.channel = QComboBox()
        for ch in Channel:
            self.channel.addItem(ch.label, ch.value)
        self.channel.setCurrentIndex(2)
        form.addRow("Received", self.channel)
        self.name = QLineEdit()
        form.addRow("Appellant", self.name)
        self.address = QPlainTextEdit()
        self.address.setPlaceholderText("Street\nCity, ST ZIP  (or town and postcode)")
        self.address.setFixedHeight(64)
        self.address.setTabChangesFocus(True)
        form.addRow("Address", self.address)
        self.email = QLineEdit()
        form.addRow("E-mail", self.email)
        self.grounds = QListWidget()
        self.grounds.setFixedHeight(150)
        self.grounds.setWordWrap(True)
        form.addRow("Grounds", self.grounds)
        self.statement = QPlainTextEdit()
        self.statement.setPlaceholderText("What the appellant says happened, in their words.")
        self.statement.setTabChangesFocus(True)
        form.addRow("Statement", self.statement)
        lay.addLayout(form)

        docs_box = QGroupBox("Documents (PDF, JPEG or PNG)")
        docs = QVBoxLayout(docs_box)
        self.doc_list = QListWidget()
        self.doc_list.setFixedHeight(80)
        docs.addWidget(self.doc_list)
        row = QHBoxLayout()
        add = QPushButton("&Add documents…")
        add.clicked.connect(self.pick_documents)
        remove = QPushButton("&Remove")
        remove.clicked.connect(self.remove_document)
        row.addWidget(add)
        row.addWidget(remove)
        row.addStretch(1)
        docs.addLayout(row)
        lay.addWidget(docs_box)

        self.late_box = QGroupBox("Late appeal: supervisor's override")
        late = QFormLayout(self.late_box)
        self.late_text = QLabel()
        self.late_text.setWordWrap(True)
        self.late_text.setStyleSheet("color:#b71c1c")
        late.addRow(self.late_text)
        self.late_reason = QLineEdit()
        self.late_reason.setPlaceholderText("Why the late appeal is accepted")
        late.addRow("Reason", self.late_reason)
        self.supervisor_user = QLineEdit()
        self.supervisor_password = QLineEdit()
        self.supervisor_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.needs_signin = not allowed(ctx.actor.role, Permission.OVERRIDE_DEADLINES)
        if self.needs_signin:
            late.addRow("Supervisor", self.supervisor_user)
            late.addRow("Password", self.supervisor_password)
        self.late_box.setVisible(False)
        lay.addWidget(self.late_box)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.file_button = buttons.addButton("&File appeal", QDialogButtonBox.ButtonRole.AcceptRole)
        self.file_button.setEnabled(False)
        self.file_button.clicked.connect(self.file)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        QShortcut(QKeySequence("Ctrl+Return"), self, self.file)
        if citation_number:
            self.look_up()

    # ---------------------------------------------------------------- look-up
    def look_up(self, level: str | None = None) -> None:
        number = self.citation.text().strip()
        app, actor = self.ctx.app, self.ctx.actor
        self.case_label.setText("Looking up…")
        Query(self.ctx, self, lambda _c: appeals.intake_preview(app, actor, number, level),
              success=self._show_preview, failure=self._failed).run()

    def _failed(self, exc: BaseException) -> None:
        self.case_label.setText(f"<span style='color:#b71c1c'>{exc}</span>")
        self.file_button.setEnabled(False)
        self.ctx.error(exc)

    def _show_preview(self, p: appeals.IntakePreview) -> None:
        self.preview = p
        self.case_label.setText(
            f"<b>{p.citation_number}</b> · plate <b>{p.plate}</b> · {p.status.replace('_', ' ')} · balance "
            f"{format_cents(p.balance_cents, p.currency)}<br>"
            f"{p.profile_name}: <b>{p.level_name}</b>, may be asked for until {p.request_deadline.isoformat()}; "
            f"to be decided by <b>{p.decide_by.isoformat()}</b>"
            + (" (the profile's deadline)" if p.decide_by_statutory else " (the agency's target)"))
        self.level.clear()
        for key, name in p.levels_open:
            self.level.addItem(name, key)
        self.level.setCurrentIndex(max(0, self.level.findData(p.level_key)))
        checked = {self.grounds.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.grounds.count())
                   if self.grounds.item(i).checkState() == Qt.CheckState.Checked}
        self.grounds.clear()
        for g in p.grounds:
            item = QListWidgetItem(g.text)
            item.setData(Qt.ItemDataRole.UserRole, g.key)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if g.key in checked else Qt.CheckState.Unchecked)
            item.setToolTip(g.text)
            self.grounds.addItem(item)
        if not self.name.text().strip():
            self.name.setText(p.owner_name)
        if not self.address.toPlainText().strip():
            self.address.setPlainText(p.owner_address)
        self.late_box.setVisible(p.is_late)
        self.late_text.setText(p.late_explanation if p.is_late else "")
        self.file_button.setEnabled(True)
        self.previewed.emit(p)

    # ---------------------------------------------------------------- documents
    def pick_documents(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Appellant's documents", "",
                                                "Documents (*.pdf *.jpg *.jpeg *.png);;All files (*)")
        if files:
            self.add_files([Path(f) for f in files])

    def add_files(self, paths: list[Path]) -> None:
        """Check each file now (off the GUI thread) so a bad one is refused before filing."""
        app = self.ctx.app

        def work(_c: TaskControl) -> list[tuple[Path, CheckedDocument | BaseException]]:
            with app.db.reading() as s:
                limit = int(settings.get(s, "appeals.max_document_mb")) * 1_048_576
            out: list[tuple[Path, CheckedDocument | BaseException]] = []
            for p in paths:
                try:
                    out.append((p, check_file(p, limit)))
                except Exception as exc:  # noqa: BLE001 - shown per file below
                    out.append((p, exc))
            return out

        Query(self.ctx, self, work, success=self._files_checked).run()

    def _files_checked(self, results: list[tuple[Path, Any]]) -> None:
        for path, result in results:
            if isinstance(result, BaseException):
                self.ctx.error(result)
                continue
            self.documents.append((path, result))
            kb = max(1, result.size_bytes // 1024)
            pages = f", {result.page_count} pages" if result.page_count else ""
            self.doc_list.addItem(f"{result.filename}  ({result.mime_type}, {kb:,} KB{pages})  "
                                  f"sha256 {result.sha256[:12]}…")

    def remove_document(self) -> None:
        row = self.doc_list.currentRow()
        if 0 <= row < len(self.documents):
            self.documents.pop(row)
            self.doc_list.takeItem(row)

    # ---------------------------------------------------------------- filing
    def selected_grounds(self) -> list[str]:
        return [self.grounds.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.grounds.count())
                if self.grounds.item(i).checkState() == Qt.CheckState.Checked]

    def file(self) -> None:
        if self.preview is None or not self.file_button.isEnabled():
            return
        app, actor = self.ctx.app, self.ctx.actor
        req = appeals.AppealRequest(
            citation_number=self.preview.citation_number, channel=self.channel.currentData(),
            appellant_name=self.name.text(), appellant_address=self.address.toPlainText(),
            appellant_email=self.email.text(), grounds=self.selected_grounds(),
            statement=self.statement.toPlainText(), level=self.level.currentData(),
            documents=[(doc.filename, doc.data) for _p, doc in self.documents],
            late_override_reason=self.late_reason.text() if self.preview.is_late else "")
        sup_user, sup_password = self.supervisor_user.text().strip(), self.supervisor_password.text()
        use_signin = self.preview.is_late and self.needs_signin

        def work(_c: TaskControl) -> appeals.FiledAppeal:
            override = None
            if use_signin:
                if not sup_user:
                    raise UserError("A late appeal needs a supervisor: ask one to sign in here.")
                override = users.login(app, sup_user, sup_password)
            return appeals.file_appeal(app, actor, req, override_by=override)

        self.file_button.setEnabled(False)

        def done(result: appeals.FiledAppeal) -> None:
            self.filed.emit(result)
            self.accept()

        def failed(exc: BaseException) -> None:
            self.file_button.setEnabled(True)
            self.ctx.error(exc)

        Mutation(self.ctx, self, work, changes=lambda filed: appeal_changes(filed.appeal_id), success=done,
                 failure=failed).run()


class AvailabilityDialog(QDialog):
    """Add a period when a hearing officer is available for hearings. Signal `added(slot_id)`."""

    added = Signal(int)

    def __init__(self, ctx: Any, officers: list[appeals.OfficerChoice], officer_id: int | None, day: date,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Hearing officer availability")
        form = QFormLayout(self)
        self.officer = QComboBox()
        for o in officers:
            self.officer.addItem(o.name, o.user_id)
        if officer_id is not None:
            self.officer.setCurrentIndex(max(0, self.officer.findData(officer_id)))
        self.day = QDateEdit(_qdate(day))
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("yyyy-MM-dd")
        self.start = QTimeEdit(QTime(9, 0))
        self.end = QTimeEdit(QTime(12, 0))
        for w in (self.start, self.end):
            w.setDisplayFormat("HH:mm")
        form.addRow("Hearing officer", self.officer)
        form.addRow("Day", self.day)
        form.addRow("From", self.start)
        form.addRow("To", self.end)
        buttons = ok_cancel(self.save, self.reject)
        form.addRow(buttons)

    def save(self) -> None:
        tz = self.ctx.tz
        day = _pydate(self.day.date())
        start = datetime.combine(day, time(self.start.time().hour(), self.start.time().minute()), tzinfo=tz)
        end = datetime.combine(day, time(self.end.time().hour(), self.end.time().minute()), tzinfo=tz)
        officer = self.officer.currentData()
        app, actor = self.ctx.app, self.ctx.actor
        def done(slot_id: int) -> None:
            self.added.emit(slot_id)
            self.accept()

        Mutation(self.ctx, self, lambda _c: appeals.add_slot(app, actor, officer, start, end),
                 changes=Changes(appeals=True), success=done).run()


class ScheduleDialog(QDialog):
    """Schedule a hearing in a free time, or adjourn one (new time plus a reason). Signal `booked(hearing_id)`."""

    booked = Signal(int)
    times_loaded = Signal(int)

    def __init__(self, ctx: Any, appeal_id: int, number: str, adjourn_hearing_id: int | None = None,
                 decide_by: date | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.appeal_id = appeal_id
        self.adjourn_id = adjourn_hearing_id
        self.officers: list[appeals.OfficerChoice] = []
        self.setWindowTitle(("Adjourn the hearing of " if adjourn_hearing_id else "Schedule a hearing for ") + number)
        fit_to_screen(self, 520, 560)
        form = QFormLayout(self)
        if decide_by:
            note = QLabel(f"To be decided by <b>{decide_by.isoformat()}</b>.")
            form.addRow(note)
        self.officer = QComboBox()
        self.officer.currentIndexChanged.connect(lambda _i: self.load_times())
        form.addRow("Hearing officer", self.officer)
        self.day = QDateEdit(QDate.currentDate().addDays(1))
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("ddd yyyy-MM-dd")
        self.day.dateChanged.connect(lambda _d: self.load_times())
        form.addRow("Day", self.day)
        self.minutes = QSpinBox()
        self.minutes.setRange(5, 240)
        self.minutes.setSingleStep(5)
        self.minutes.setValue(20)
        self.minutes.setSuffix(" minutes")
        self.minutes.valueChanged.connect(lambda _v: self.load_times())
        form.addRow("Length", self.minutes)
        self.times = QListWidget()
        self.times.setMinimumHeight(180)
        form.addRow("Free times", self.times)
        more = QPushButton("Add &availability…")
        more.clicked.connect(self.add_availability)
        form.addRow("", more)
        self.mode = QComboBox()
        for m in HearingMode:
            self.mode.addItem(m.label, m.value)
        form.addRow("Kind of hearing", self.mode)
        self.location = QLineEdit()
        self.location.setPlaceholderText("default: the hearing room in the settings")
        form.addRow("Location", self.location)
        self.reason = QLineEdit()
        if adjourn_hearing_id:
            self.reason.setPlaceholderText("Why the hearing is adjourned (recorded)")
            form.addRow("Reason", self.reason)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok = buttons.addButton("&Adjourn" if adjourn_hearing_id else "&Schedule",
                                    QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok.clicked.connect(self.save)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.times.itemDoubleClicked.connect(lambda _i: self.save())
        app, actor = ctx.app, ctx.actor
        Query(ctx, self, lambda _c: appeals.hearing_officers(app, actor), success=self._officers).run()

    def _officers(self, officers: list[appeals.OfficerChoice]) -> None:
        self.officers = officers
        self.officer.blockSignals(True)
        for o in officers:
            self.officer.addItem(o.name, o.user_id)
        if self.ctx.actor.user_id is not None:
            self.officer.setCurrentIndex(max(0, self.officer.findData(self.ctx.actor.user_id)))
        self.officer.blockSignals(False)
        self.load_times()

    def load_times(self) -> None:
        officer = self.officer.currentData()
        if officer is None:
            return
        day, minutes = _pydate(self.day.date()), self.minutes.value()
        app, actor = self.ctx.app, self.ctx.actor
        Query(self.ctx, self, lambda _c: appeals.free_times(app, actor, officer, day, minutes),
              success=self._show_times).run()

    def _show_times(self, times: list[datetime]) -> None:
        self.times.clear()
        for t in times:
            item = QListWidgetItem(t.astimezone(self.ctx.tz).strftime("%H:%M"))
            item.setData(Qt.ItemDataRole.UserRole, t)
            self.times.addItem(item)
        if not times:
            item = QListWidgetItem("No free time that day — pick another day or add availability.")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.times.addItem(item)
        else:
            self.times.setCurrentRow(0)
        self.times_loaded.emit(len(times))

    def add_availability(self) -> None:
        dialog = AvailabilityDialog(self.ctx, self.officers, self.officer.currentData(), _pydate(self.day.date()), self)
        dialog.added.connect(lambda _sid: self.load_times())
        dialog.open()

    def save(self) -> None:
        item = self.times.currentItem()
        at = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if at is None:
            self.ctx.error(UserError("Pick one of the free times first."))
            return
        app, actor = self.ctx.app, self.ctx.actor
        officer, mode, minutes = self.officer.currentData(), self.mode.currentData(), self.minutes.value()
        location = self.location.text().strip() or None
        reason = self.reason.text()
        appeal_id, adjourn = self.appeal_id, self.adjourn_id

        def work(_c: TaskControl) -> int:
            if adjourn:
                return appeals.adjourn_hearing(app, actor, adjourn, at, reason, officer, mode)
            return appeals.schedule_hearing(app, actor, appeal_id, officer, at, mode, minutes, location)

        self.ok.setEnabled(False)

        def failed(exc: BaseException) -> None:
            self.ok.setEnabled(True)
            self.ctx.error(exc)

        def done(hearing_id: int) -> None:
            self.booked.emit(hearing_id)
            self.accept()

        Mutation(self.ctx, self, work, changes=appeal_changes(appeal_id), success=done, failure=failed).run()


class DocketDialog(QDialog):
    """Pick the day (and officer) of the docket to print."""

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Print the hearing docket")
        form = QFormLayout(self)
        self.day = QDateEdit(QDate.currentDate())
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("ddd yyyy-MM-dd")
        form.addRow("Day", self.day)
        self.officer = QComboBox()
        self.officer.addItem("All hearing officers", None)
        form.addRow("Hearing officer", self.officer)
        buttons = ok_cancel(self.accept, self.reject)
        form.addRow(buttons)
        app, actor = ctx.app, ctx.actor
        Query(ctx, self, lambda _c: appeals.hearing_officers(app, actor),
              success=lambda os_: [self.officer.addItem(o.name, o.user_id) for o in os_]).run()

    def choice(self) -> tuple[date, int | None]:
        return _pydate(self.day.date()), self.officer.currentData()
