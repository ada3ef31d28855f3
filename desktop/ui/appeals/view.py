"""The Appeals screen: the docket of open appeals sorted by the days left to decide (overdue in red), and
the hearing officer's workspace with all the evidence side by side, the decision panel, the letters and
the evidence packet.

Keys: Ctrl+N new appeal, Ctrl+H schedule (or adjourn) the hearing, Ctrl+D print a day's docket,
Ctrl+P evidence packet, Ctrl+F filter, F5 refresh; in the decision panel Alt+U / Alt+D / Alt+R choose
uphold, dismiss or reduce and Ctrl+Return decides. Left/Right step through the photos.
"""

from __future__ import annotations

import html
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.appeals import PENDING_STATUSES, Channel, HearingMode
from desktop.domain.errors import UserError
from desktop.domain.ledger import format_cents, parse_money
from desktop.domain.roles import Permission, allowed
from desktop.services import appeals
from desktop.services.appeals.packet import AppealWorkspace, exif_lines
from desktop.ui.appeals.widgets import (
    AppealPhotoPanel,
    ImagePreviewDialog,
    PdfPreviewDialog,
    PhotoItem,
    run_for,
)
from desktop.ui.common.list_model import Index, ListTableModel
from desktop.ui.common.tasks import TaskControl
from desktop.ui.common.widgets import local_time, status_badge_html

RED, AMBER, GREEN, GREY = "#b71c1c", "#9a6700", "#2e7d32", "#666666"


def days_left_text(days: int | None, status: str) -> str:
    if status not in PENDING_STATUSES:
        return status.replace("_", " ")
    if days is None:
        return "—"
    if days < 0:
        return f"{-days} day{'s' if days != -1 else ''} OVERDUE"
    if days == 0:
        return "decide today"
    return f"{days} day{'s' if days != 1 else ''}"


def _currency(profile_code: str) -> str:
    return "GBP" if profile_code == "ENG" else "USD"


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
            from PySide6.QtGui import QFont

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
            return days_left_text(r.days_left, r.status)
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
            return (r.decision or r.status).replace("_", " ")
        if col == self.HEARING:
            if r.hearing_at is None:
                return ""
            mode = HearingMode(r.hearing_mode).label if r.hearing_mode else ""
            return f"{local_time(r.hearing_at, self.tz, '%a %d %b %H:%M')} {mode}"
        return ""


class DecisionPanel(QGroupBox):
    """Uphold, dismiss or reduce, with the new amount and a written reason. Signal `decided(DecisionResult)`."""

    decided = Signal(object)

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__("Decision", parent)
        self.ctx = ctx
        self.ws: AppealWorkspace | None = None
        self.may_decide = allowed(ctx.actor.role, Permission.DECIDE_APPEALS)
        #: asked before a decision is recorded; tests replace it
        self.confirm = self._confirm
        lay = QVBoxLayout(self)
        row = QHBoxLayout()
        self.group = QButtonGroup(self)
        self.uphold = QRadioButton("&Uphold")
        self.dismiss = QRadioButton("&Dismiss")
        self.reduce = QRadioButton("&Reduce to")
        for i, b in enumerate((self.uphold, self.dismiss, self.reduce)):
            self.group.addButton(b, i)
            row.addWidget(b)
        self.amount = QLineEdit()
        self.amount.setPlaceholderText("e.g. 35.00")
        self.amount.setMaximumWidth(110)
        self.amount.setEnabled(False)
        self.reduce.toggled.connect(self.amount.setEnabled)
        self.reduce.toggled.connect(lambda on: on and self.amount.setFocus())
        row.addWidget(self.amount)
        row.addStretch(1)
        lay.addLayout(row)
        self.effect = QLabel()
        self.effect.setWordWrap(True)
        self.effect.setStyleSheet(f"color:{GREY}")
        lay.addWidget(self.effect)
        self.reason = QPlainTextEdit()
        self.reason.setPlaceholderText("Reasons for the decision (printed in the letter to the appellant)")
        self.reason.setTabChangesFocus(True)
        self.reason.setFixedHeight(62)
        lay.addWidget(self.reason)
        self.button = QPushButton("Record decision  (Ctrl+Return)")
        self.button.clicked.connect(self.decide)
        lay.addWidget(self.button)
        self.group.idToggled.connect(lambda _i, _on: self._explain())
        QShortcut(QKeySequence("Ctrl+Return"), self, self.decide,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.set_workspace(None)

    def set_workspace(self, ws: AppealWorkspace | None) -> None:
        self.ws = ws
        pending = ws is not None and ws.is_pending
        enabled = pending and self.may_decide
        for w in (self.uphold, self.dismiss, self.reduce, self.reason, self.button):
            w.setEnabled(enabled)
        self.amount.setEnabled(enabled and self.reduce.isChecked())
        if ws is None:
            self.effect.setText("")
            return
        if not pending:
            who = ws.decided_by_name or "—"
            self.effect.setText(f"<b>{(ws.decision or ws.status).upper()}</b> on "
                                f"{local_time(ws.decided_at, self.ctx.tz)} by {html.escape(who)}: "
                                f"{html.escape(ws.decision_reason or '')}")
            self.effect.setTextFormat(Qt.TextFormat.RichText)
            return
        if not self.may_decide:
            self.effect.setText("Only a hearing officer may decide an appeal.")
            return
        self.group.setExclusive(False)
        for b in (self.uphold, self.dismiss, self.reduce):
            b.setChecked(False)
        self.group.setExclusive(True)
        self.amount.clear()
        self.reason.clear()
        self._explain()

    def _explain(self) -> None:
        ws = self.ws
        if ws is None or not ws.is_pending:
            return
        cur = _currency(ws.profile_code)
        owed = format_cents(ws.charges_cents, cur)
        paid = format_cents(ws.paid_cents, cur)
        nxt = (f" The appellant may then go to the {ws.next_level_if_upheld[0]} by "
               f"{ws.next_level_if_upheld[1].isoformat()}." if ws.next_level_if_upheld else "")
        text = {
            0: f"The citation stands: {owed} owed ({paid} paid); penalties and notices resume.{nxt}",
            1: f"The case is closed; charges of {owed} are cancelled"
               + (f" and {paid} is refunded." if ws.paid_cents > 0 else "."),
            2: f"Charges of {owed} are lowered to the amount given (an adjustment in the ledger); anything paid "
               f"above it is refunded.{nxt}",
        }.get(self.group.checkedId(), f"Currently owed {owed}, paid {paid}. Choose a decision.")
        self.effect.setTextFormat(Qt.TextFormat.PlainText)
        self.effect.setText(text)

    @staticmethod
    def _confirm(text: str) -> bool:
        return QMessageBox.question(None, "Record the decision", text) == QMessageBox.StandardButton.Yes

    def decide(self) -> None:
        ws = self.ws
        if ws is None or not self.button.isEnabled():
            return
        choice = {0: "upheld", 1: "dismissed", 2: "reduced"}.get(self.group.checkedId())
        try:
            if choice is None:
                raise UserError("Choose uphold, dismiss or reduce.")
            amount = None
            if choice == "reduced":
                if not self.amount.text().strip():
                    raise UserError("Give the new amount for a reduced fine.")
                amount = parse_money(self.amount.text())
        except (UserError, ValueError) as exc:
            self.ctx.error(exc if isinstance(exc, UserError) else UserError(str(exc)))
            return
        reason = self.reason.toPlainText()
        words = {"upheld": "uphold the citation", "dismissed": "dismiss the citation and close the case",
                 "reduced": f"reduce the amount to {format_cents(amount or 0, _currency(ws.profile_code))}"}
        if not self.confirm(f"Appeal {ws.number}: {words[choice]}? This is recorded with your name and cannot "
                            f"be undone here."):
            return
        app, actor, appeal_id = self.ctx.app, self.ctx.actor, ws.appeal_id
        self.button.setEnabled(False)

        def failed(exc: BaseException) -> None:
            self.button.setEnabled(True)
            self.ctx.error(exc)

        run_for(self, self.ctx.runner,
                lambda _c: appeals.decide_appeal(app, actor, appeal_id, choice, reason, amount),
                on_done=self.decided.emit, on_error=failed)


class ClickableLabel(QLabel):
    """A label that says when it is clicked (the map opens larger)."""

    clicked = Signal()

    def mousePressEvent(self, event: Any) -> None:
        self.clicked.emit()
        super().mousePressEvent(event)


class HearingWorkspace(QWidget):
    """Everything about one appeal side by side. Signals: `loaded(appeal_id)`, `changed()` after any
    action that alters the docket, `document_ready(path)` when a letter or packet PDF is made."""

    loaded = Signal(int)
    changed = Signal()
    document_ready = Signal(object)

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.ws: AppealWorkspace | None = None
        self._generation = 0
        self.previews: list[QWidget] = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.header = QLabel("<span style='color:#666'>Select an appeal on the docket.</span>")
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.header)
        columns = QSplitter(Qt.Orientation.Horizontal)
        lay.addWidget(columns, 1)

        # 1. photos and the map
        left = QSplitter(Qt.Orientation.Vertical)
        self.photos = AppealPhotoPanel(ctx)
        left.addWidget(self.photos)
        self.map = ClickableLabel("Map")
        self.map.setToolTip("Click to enlarge the map")
        self.map.clicked.connect(self.enlarge_map)
        self._map_path: Path | None = None
        self.map.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.map.setMinimumHeight(150)
        self.map.setStyleSheet("background:#f6f4ee; border:1px solid #d5d9de;")
        self._map_pixmap: QPixmap | None = None
        left.addWidget(self.map)
        left.setSizes([330, 230])
        columns.addWidget(left)

        # 2. the evidence: facts, integrity, EXIF, remarks, checks; the timeline
        middle = QSplitter(Qt.Orientation.Vertical)
        self.evidence = QTextBrowser()
        self.evidence.setOpenLinks(False)
        middle.addWidget(self.evidence)
        self.timeline = QTableWidget(0, 4)
        self.timeline.setHorizontalHeaderLabels(["When", "Who", "What", "Detail"])
        self.timeline.verticalHeader().setVisible(False)
        self.timeline.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.timeline.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.timeline.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.timeline.horizontalHeader().setStretchLastSection(True)
        self.timeline.setWordWrap(False)
        middle.addWidget(self.timeline)
        middle.setSizes([460, 220])
        columns.addWidget(middle)

        # 3. the appeal, the hearing, the decision, the letters
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(4, 0, 0, 0)
        self.appeal_text = QTextBrowser()
        self.appeal_text.setMinimumHeight(120)
        rl.addWidget(self.appeal_text, 3)
        rl.addWidget(QLabel("<b>Appellant's documents</b> (double-click to open)"))
        self.documents = QListWidget()
        self.documents.setMaximumHeight(58)
        self.documents.itemActivated.connect(self.open_document)
        rl.addWidget(self.documents)
        hearing_row = QHBoxLayout()
        self.hearing_label = QLabel()
        self.hearing_label.setWordWrap(True)
        self.hearing_label.setTextFormat(Qt.TextFormat.RichText)
        hearing_row.addWidget(self.hearing_label, 1)
        self.schedule_button = QPushButton("Sc&hedule…")
        self.schedule_button.clicked.connect(self.schedule)
        self.withdraw_button = QPushButton("Withdra&wn…")
        self.withdraw_button.clicked.connect(self.withdraw)
        hearing_row.addWidget(self.schedule_button)
        hearing_row.addWidget(self.withdraw_button)
        rl.addLayout(hearing_row)
        self.decision = DecisionPanel(ctx)
        self.decision.decided.connect(self._decided)
        rl.addWidget(self.decision)
        letters = QGridLayout()
        self.letter_buttons: dict[str, QPushButton] = {}
        for i, (kind, text) in enumerate((("appeal_acknowledgement", "Acknowledgement"),
                                          ("hearing_notice", "Hearing notice"),
                                          ("decision_letter", "Decision letter"))):
            b = QPushButton(text)
            b.setToolTip(f"Print the {text.lower()} (also queued for the mail run)")
            b.clicked.connect(lambda _=False, k=kind: self.print_letter(k))
            letters.addWidget(b, i // 2, i % 2)
            self.letter_buttons[kind] = b
        self.packet_button = QPushButton("Evidence &packet")
        self.packet_button.setToolTip("Everything on this screen as one PDF (Ctrl+P)")
        self.packet_button.clicked.connect(self.make_packet)
        letters.addWidget(self.packet_button, 1, 1)
        rl.addLayout(letters)
        progress_row = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel_task)
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.cancel_button)
        rl.addLayout(progress_row)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        right.setMinimumWidth(320)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(right)
        columns.addWidget(scroll)
        columns.setSizes([430, 430, 470])
        columns.setStretchFactor(0, 1)
        columns.setStretchFactor(1, 1)
        columns.setStretchFactor(2, 1)
        self._task: Any = None
        self._set_actions(None)

    # ------------------------------------------------------------------ loading
    def load(self, appeal_id: int) -> None:
        self._generation += 1
        gen = self._generation
        app, actor = self.ctx.app, self.ctx.actor

        def work(_c: TaskControl) -> tuple[AppealWorkspace, Path | None]:
            from desktop.services.appeals.packet import load_workspace, map_png

            ws = load_workspace(app, actor, appeal_id)
            return ws, map_png(app, ws) if ws.map_input is not None else None

        run_for(self, self.ctx.runner, work, on_done=lambda r: self._show(gen, *r), on_error=self.ctx.error)

    def reload(self) -> None:
        if self.ws is not None:
            self.load(self.ws.appeal_id)

    def clear(self) -> None:
        self._generation += 1
        self.ws = None
        self.header.setText("<span style='color:#666'>No appeal selected.</span>")
        self.evidence.clear()
        self.appeal_text.clear()
        self.documents.clear()
        self.timeline.setRowCount(0)
        self.photos.set_photos([])
        self.map.clear()
        self.decision.set_workspace(None)
        self._set_actions(None)

    def case_tz(self) -> Any:
        """Times of a case show in its own jurisdiction's zone (an English PCN in London time)."""
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.ws.timezone_name) if self.ws is not None else self.ctx.tz

    def _show(self, gen: int, ws: AppealWorkspace, map_path: Path | None) -> None:
        if gen != self._generation:
            return
        self.ws = ws
        tz = self.case_tz()
        cur = _currency(ws.profile_code)
        colour = RED if ws.days_left is not None and ws.days_left < 0 else (
            AMBER if ws.days_left is not None and ws.days_left <= 7 else GREEN)
        deadline = ""
        if ws.is_pending and ws.decide_by:
            deadline = (f"<span style='background:{colour}; color:white; padding:2px 8px; border-radius:8px;'>"
                        f"&nbsp;{days_left_text(ws.days_left, ws.status)}&nbsp;</span> decide by "
                        f"<b>{ws.decide_by.isoformat()}</b> ("
                        + ("legal deadline; deemed accepted after it" if ws.deemed_rule
                           else "the profile's deadline" if ws.statutory else "the agency's target") + ")")
        self.header.setText(
            f"<span style='font-size:15pt; font-weight:600'>{ws.number}</span>&nbsp; {html.escape(ws.level_name)}"
            f" ({ws.profile_code}) on citation <b>{ws.citation_number}</b> &nbsp;{status_badge_html(ws.case_status)}"
            f"&nbsp; balance <b>{format_cents(ws.balance_cents, cur)}</b>&nbsp;&nbsp;{deadline}")
        self.photos.set_photos([PhotoItem(p.path, f"{p.caption} {local_time(p.taken_at, tz, '%H:%M:%S')}",
                                          p.verified, p.verification_text) for p in ws.photos])
        self._map_path = map_path
        self._map_pixmap = QPixmap(str(map_path)) if map_path else None
        self._fit_map()
        self.evidence.setHtml(self._evidence_html(ws))
        self.appeal_text.setHtml(self._appeal_html(ws))
        self.documents.clear()
        for d in ws.documents:
            mark = "✔" if d.verified else "✖ digest MISMATCH"
            item = QListWidgetItem(f"{d.filename}  ·  {d.mime_type.split('/')[-1].upper()}  ·  "
                                   f"{max(1, d.size_bytes // 1024):,} KB  ·  {mark}")
            item.setData(Qt.ItemDataRole.UserRole, d.document_id)
            item.setToolTip(f"SHA-256 {d.sha256}")
            self.documents.addItem(item)
        self.timeline.setRowCount(len(ws.timeline))
        for i, t in enumerate(ws.timeline):
            for col, text in enumerate([local_time(t.at, tz), t.who, t.what, t.detail]):
                cell = QTableWidgetItem(text)
                cell.setToolTip(text)
                self.timeline.setItem(i, col, cell)
        self.timeline.scrollToBottom()
        hearing = ws.scheduled_hearing
        if hearing is not None:
            self.hearing_label.setText(
                f"<b>Hearing</b> {local_time(hearing.scheduled_at, tz, '%a %d %b %Y %H:%M')}, "
                f"{HearingMode(hearing.mode).label.lower()}, {hearing.minutes} min, with "
                f"{html.escape(hearing.officer_name)}")
        else:
            past = [h for h in ws.hearings if h.status != "scheduled"]
            self.hearing_label.setText("<span style='color:#666'>No hearing scheduled"
                                       + (f" ({len(past)} earlier: " + ", ".join(
                                           f"{h.status} {local_time(h.scheduled_at, tz, '%d %b %H:%M')}"
                                           for h in past) + ")" if past else "") + ".</span>")
        self.decision.set_workspace(ws)
        self._set_actions(ws)
        self.loaded.emit(ws.appeal_id)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._fit_map()

    def _fit_map(self) -> None:
        if self._map_pixmap is None or self._map_pixmap.isNull():
            self.map.setText("No map")
            return
        size = self.map.size()
        self.map.setPixmap(self._map_pixmap.scaled(size.width() - 4, size.height() - 4,
                                                   Qt.AspectRatioMode.KeepAspectRatio,
                                                   Qt.TransformationMode.SmoothTransformation))

    def _set_actions(self, ws: AppealWorkspace | None) -> None:
        role = self.ctx.actor.role
        pending = ws is not None and ws.is_pending
        self.schedule_button.setEnabled(pending and allowed(role, Permission.SCHEDULE_HEARINGS))
        self.schedule_button.setText("Ad&journ…" if ws is not None and ws.scheduled_hearing else "Sc&hedule…")
        self.withdraw_button.setEnabled(pending and allowed(role, Permission.FILE_APPEALS))
        self.letter_buttons["appeal_acknowledgement"].setEnabled(ws is not None)
        self.letter_buttons["hearing_notice"].setEnabled(ws is not None and ws.scheduled_hearing is not None)
        self.letter_buttons["decision_letter"].setEnabled(ws is not None and ws.decision is not None)
        self.packet_button.setEnabled(ws is not None)

    # ------------------------------------------------------------------ HTML panes
    @staticmethod
    def _check_html(lines: list[Any]) -> str:
        colours = {"ok": GREEN, "info": "#333", "warning": AMBER, "error": RED}
        marks = {"ok": "✔", "info": "•", "warning": "⚠", "error": "✖"}
        return "".join(f"<div style='color:{colours.get(c.severity, '#333')}'>{marks.get(c.severity, '•')} "
                       f"{html.escape(c.text)}</div>" for c in lines)

    def _evidence_html(self, ws: AppealWorkspace) -> str:
        e = html.escape
        tz = self.case_tz()
        cur = _currency(ws.profile_code)
        rows = [
            ("Issued", f"{local_time(ws.issued_at, tz, '%Y-%m-%d %H:%M %Z')} by officer {e(ws.officer_badge)} on {e(ws.device_id or '—')}"),
            ("Vehicle", f"<b>{e(ws.plate)}</b> ({e(ws.jurisdiction)}{', ' + e(ws.plate_type) if ws.plate_type else ''})"
                        f" {e(ws.make)} {e(ws.model)} {e(ws.color)}"
                        + (f", registration expires {e(ws.registration_expiry)}" if ws.registration_expiry else "")),
            ("Location", f"{e(ws.address)}" + (f", zone {e(ws.zone_code)} {e(ws.zone_name)}" if ws.zone_code else "")
                         + f"<br>{ws.lat:.6f}, {ws.lon:.6f}" + (f" ± {ws.accuracy_m:.0f} m" if ws.accuracy_m else "")),
            ("Violation", (f"{e(ws.violation_code)} {e(ws.violation_description)}: "
                          f"{format_cents(ws.fine_cents, cur)}")),
            ("Money", (f"charges {format_cents(ws.charges_cents, cur)}, paid {format_cents(ws.paid_cents, cur)}, "
                      f"balance <b>{format_cents(ws.balance_cents, cur)}</b>")),
        ]
        out = ["<h3 style='margin:2px 0'>The citation</h3><table cellspacing='0' cellpadding='2'>"]
        out += [f"<tr><td style='color:#555; padding-right:8px' valign='top'>{k}</td><td>{v}</td></tr>"
                for k, v in rows]
        out.append("</table>")
        out.append("<h3 style='margin:6px 0 2px'>Officer's remarks and observations</h3>")
        out.append(f"<div>{e(ws.remarks) or '<i>No remarks.</i>'}</div>")
        out += [f"<div>• {e(o)}</div>" for o in ws.observations] or [("<div style='color:#666'>No chalk marks or "
                                                                    "other observations recorded.</div>")]
        sig = ws.signature
        sig_colour = GREEN if sig.status.value == "valid" else RED
        out.append("<h3 style='margin:6px 0 2px'>Evidence integrity</h3>")
        out.append(f"<div style='color:{sig_colour}'><b>Device signature: {e(sig.status.value.replace('_', ' ').upper())}"
                   f"</b> — {e(sig.signer)}. {e(sig.detail)}</div>")
        for i, p in enumerate(ws.photos, 1):
            c = GREEN if p.verified else RED
            out.append(f"<div style='color:{c}'>Photo {i} ({e(p.caption)}): {e(p.verification_text)}<br>"
                       f"<code style='color:#555'>{p.sha256}</code></div>")
        for d in ws.documents:
            c = GREEN if d.verified else RED
            out.append(f"<div style='color:{c}'>Document {e(d.filename)}: "
                       f"{'verified' if d.verified else 'MISMATCH or missing'}</div>")
        out.append("<h3 style='margin:6px 0 2px'>Photo metadata (EXIF)</h3>")
        for i, p in enumerate(ws.photos, 1):
            dist = f"; {p.distance_m:.0f} m from the citation" if p.distance_m is not None else ""
            out.append(f"<div><b>Photo {i}</b>{dist}</div><table cellspacing='0' cellpadding='1'>")
            out += [f"<tr><td style='color:#555; padding-right:8px'>{e(k)}</td><td>{e(v)}</td></tr>"
                    for k, v in exif_lines(p.exif, ws.timezone_name)]
            out.append("</table>")
        if not ws.photos:
            out.append("<div style='color:#666'>No photographs.</div>")
        out.append("<h3 style='margin:6px 0 2px'>Checks</h3>")
        out.append("<div style='color:#555'>Review checks</div>" + (self._check_html(ws.review_checks)
                                                                     or "<div style='color:#2e7d32'>✔ No warnings "
                                                                        "at review.</div>"))
        out.append("<div style='color:#555'>Registration</div>" + self._check_html(ws.registration_checks))
        out.append("<div style='color:#555'>Permits</div>" + self._check_html(ws.permit_checks))
        return "".join(out)

    def _appeal_html(self, ws: AppealWorkspace) -> str:
        e = html.escape
        tz = self.case_tz()
        try:
            channel = Channel(ws.channel).label
        except ValueError:
            channel = ws.channel
        out = [f"<h3 style='margin:2px 0'>{e(ws.appellant_name)}</h3>",
               f"<div style='color:#555'>{e(ws.appellant_address).replace(chr(10), ', ')}"
               + (f" · {e(ws.appellant_email)}" if ws.appellant_email else "") + "</div>",
               (f"<div>Received {local_time(ws.filed_at, tz)} ({e(channel.lower())}); {e(ws.level_name)} "
               f"<span style='color:#555'>({e(ws.level_basis)})</span></div>")]
        if ws.late_override_reason:
            out.append(f"<div style='color:{AMBER}'>⚠ Filed late; accepted on a supervisor's override: "
                       f"{e(ws.late_override_reason)}</div>")
        out.append("<h4 style='margin:6px 0 2px'>Grounds</h4>")
        out += [f"<div>• {e(text)}</div>" for _k, text in ws.grounds]
        out.append("<h4 style='margin:6px 0 2px'>Statement</h4>")
        out.append(f"<div style='white-space:pre-wrap'>{e(ws.statement)}</div>")
        if ws.prior_appeals:
            out.append("<h4 style='margin:6px 0 2px'>Earlier levels</h4>")
            out += [f"<div>{p.number} {e(p.level_name)}: <b>{e((p.decision or p.status).replace('_', ' '))}</b>"
                    + (f" on {local_time(p.decided_at, tz, '%Y-%m-%d')}" if p.decided_at else "")
                    + (f" — {e(p.reason)}" if p.reason else "") + "</div>" for p in ws.prior_appeals]
        return "".join(out)

    # ------------------------------------------------------------------ actions
    def enlarge_map(self) -> None:
        if self._map_path is not None and self.ws is not None:
            self._show_dialog(ImagePreviewDialog(self._map_path, f"Map of citation {self.ws.citation_number}", self))

    def open_document(self, item: QListWidgetItem) -> None:
        ws = self.ws
        if ws is None:
            return
        doc = next((d for d in ws.documents if d.document_id == item.data(Qt.ItemDataRole.UserRole)), None)
        if doc is None:
            return
        if not doc.path.is_file():
            self.ctx.error(UserError(f"{doc.filename} is missing from the document store."))
            return
        dialog: QWidget
        if doc.is_image:
            dialog = ImagePreviewDialog(doc.path, doc.filename, self)
        else:
            dialog = PdfPreviewDialog(doc.path, doc.filename, self)
        self._show_dialog(dialog)

    def _show_dialog(self, dialog: QWidget) -> None:
        self.previews = [d for d in self.previews if d.isVisible()] + [dialog]
        dialog.show()

    def schedule(self) -> None:
        ws = self.ws
        if ws is None or not self.schedule_button.isEnabled():
            return
        from desktop.ui.appeals.dialogs import ScheduleDialog

        hearing = ws.scheduled_hearing
        dialog = ScheduleDialog(self.ctx, ws.appeal_id, ws.number, hearing.hearing_id if hearing else None,
                                ws.decide_by, self)
        def booked(_hearing_id: int) -> None:
            self.changed.emit()
            self.reload()
            self.ctx.info("Hearing booked; the hearing notice is queued for mailing.")

        dialog.booked.connect(booked)
        self.schedule_dialog = dialog
        dialog.open()

    def withdraw(self) -> None:
        ws = self.ws
        if ws is None:
            return
        reason, ok = QInputDialog.getText(self, "Appeal withdrawn", f"How did the appellant withdraw {ws.number}?")
        if not ok:
            return
        app, actor, aid = self.ctx.app, self.ctx.actor, ws.appeal_id
        def done(_result: object) -> None:
            self.changed.emit()
            self.reload()

        run_for(self, self.ctx.runner, lambda _c: appeals.withdraw_appeal(app, actor, aid, reason),
                on_done=done, on_error=self.ctx.error)

    def _decided(self, result: appeals.DecisionResult) -> None:
        ws = self.ws
        cur = _currency(ws.profile_code) if ws else "USD"
        extra = f"; {format_cents(result.refund_cents, cur)} refunded" if result.refund_cents else ""
        nxt = f"; next level {result.next_level} by {result.next_level_deadline}" if result.next_level else ""
        self.ctx.info(f"{result.number} {result.decision}: case {result.case_status.replace('_', ' ')}{extra}{nxt}. "
                      f"The decision letter is queued for mailing.")
        self.changed.emit()
        self.reload()

    def _start_progress(self, label: str, task: Any) -> None:
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.progress.setFormat(label)
        self.cancel_button.setVisible(True)
        self._task = task

    def cancel_task(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def _end_progress(self) -> None:
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        self._task = None

    def _progress(self, done: int, total: int, text: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(text or "%p%")

    def print_letter(self, kind: str) -> None:
        ws = self.ws
        if ws is None:
            return
        from desktop.services.appeals.packet import render_letter

        app, actor, aid = self.ctx.app, self.ctx.actor, ws.appeal_id
        titles = {"appeal_acknowledgement": "Acknowledgement", "hearing_notice": "Notice of hearing",
                  "decision_letter": "Notice of decision"}
        def failed(exc: BaseException) -> None:
            self._end_progress()
            self.ctx.error(exc)

        task = run_for(self, self.ctx.runner, lambda _c: render_letter(app, actor, aid, kind),
                       on_done=lambda p: self._document_done(p, titles[kind]), on_error=failed)
        self._start_progress(f"Printing the {titles[kind].lower()}…", task)

    def make_packet(self) -> None:
        ws = self.ws
        if ws is None or not self.packet_button.isEnabled():
            return
        from desktop.services.appeals.packet import build_packet

        app, actor, aid = self.ctx.app, self.ctx.actor, ws.appeal_id

        def work(control: TaskControl) -> Path:
            def progress(done: int, total: int, text: str) -> None:
                control.check()
                control.progress(done, total, text)

            return build_packet(app, actor, aid, progress=progress)

        self.packet_button.setEnabled(False)

        def finished(path: Path) -> None:
            self.packet_button.setEnabled(True)
            self._document_done(path, "Evidence packet")

        def failed(exc: BaseException) -> None:
            self.packet_button.setEnabled(True)
            self._end_progress()
            self.ctx.error(exc)

        task = run_for(self, self.ctx.runner, work, on_done=finished, on_error=failed, on_progress=self._progress)
        self._start_progress("Making the evidence packet…", task)

    def _document_done(self, path: Path, title: str) -> None:
        self._end_progress()
        self.ctx.info(f"{title} saved as {path}")
        self.document_ready.emit(path)
        if getattr(self, "preview_documents", True):
            self._show_dialog(PdfPreviewDialog(path, title, self))
        self.reload()


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
        self.show_all = QCheckBox("Include decided")
        self.show_all.toggled.connect(lambda _on: self.refresh())
        bar.addWidget(self.show_all)
        refresh = QPushButton("Refresh")
        refresh.setToolTip("F5")
        refresh.clicked.connect(self.refresh)
        bar.addWidget(refresh)
        lay.addLayout(bar)
        self.summary = QLabel("Loading…")
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(self.summary)

        split = QSplitter(Qt.Orientation.Vertical)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setWordWrap(False)
        for col, width in enumerate([140, 120, 84, 118, 84, 44, 190, 170, 90]):
            self.table.setColumnWidth(col, width)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        split.addWidget(self.table)
        self.workspace = HearingWorkspace(ctx)
        self.workspace.changed.connect(self.refresh)
        split.addWidget(self.workspace)
        split.setSizes([170, 660])
        split.setStretchFactor(1, 1)
        lay.addWidget(split, 1)
        self._pending_select: int | None = None
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

    def refresh(self) -> None:
        app, actor = self.ctx.app, self.ctx.actor
        text, everything = self.filter.text(), self.show_all.isChecked()
        current = self.workspace.ws.appeal_id if self.workspace.ws is not None else None
        if self._pending_select is None:
            self._pending_select = current
        run_for(self, self.ctx.runner,
                lambda _c: appeals.list_appeals(app, actor, pending_only=not everything, text=text),
                on_done=self._rows, on_error=self.ctx.error)

    def _rows(self, rows: list[appeals.AppealRow]) -> None:
        self.model.set_rows(rows)
        pending = [r for r in rows if r.status in PENDING_STATUSES]
        overdue = sum(1 for r in pending if r.overdue)
        soon = sum(1 for r in pending if r.days_left is not None and 0 <= r.days_left <= self.model.due_soon_days)
        hearings = sum(1 for r in pending if r.hearing_at is not None)
        parts = [f"<b>{len(pending)}</b> open appeals, most urgent first"]
        if overdue:
            parts.append(f"<span style='color:{RED}'><b>{overdue} past their decision deadline</b></span>")
        if soon:
            parts.append(f"<span style='color:{AMBER}'>{soon} due within {self.model.due_soon_days} days</span>")
        parts.append(f"{hearings} with a hearing booked")
        self.summary.setText(" · ".join(parts))
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
        from desktop.ui.appeals.dialogs import IntakeDialog

        dialog = IntakeDialog(self.ctx, parent=self)
        dialog.filed.connect(self._filed)
        self.intake_dialog = dialog
        dialog.open()

    def _filed(self, filed: appeals.FiledAppeal) -> None:
        self.ctx.info(f"Appeal {filed.number} filed ({filed.level_name}); decide by {filed.decide_by}. The "
                      f"case is on hold and the acknowledgement is queued for mailing.")
        self._pending_select = filed.appeal_id
        self.refresh()

    def print_docket(self) -> None:
        from desktop.services.appeals.packet import render_docket
        from desktop.ui.appeals.dialogs import DocketDialog

        dialog = DocketDialog(self.ctx, self)
        if dialog.exec() != DocketDialog.DialogCode.Accepted:
            return
        day, officer = dialog.choice()
        app, actor = self.ctx.app, self.ctx.actor
        def done(path: Path) -> None:
            self.workspace._show_dialog(PdfPreviewDialog(path, f"Hearing docket {day.isoformat()}", self))

        run_for(self, self.ctx.runner, lambda _c: render_docket(app, actor, day, None, officer), on_done=done,
                on_error=self.ctx.error)

    def run_deadlines(self) -> None:
        app, actor = self.ctx.app, self.ctx.actor

        def done(summary: appeals.DeadlineSummary) -> None:
            n = len(summary.deemed_accepted)
            self.ctx.info(f"Deadline rules applied: {n} deemed accepted, {len(summary.overdue)} overdue, "
                          f"{len(summary.due_soon)} due soon.")
            if n:
                QMessageBox.information(self, "Deadline rules", "\n".join(summary.lines()))
            self.refresh()

        run_for(self, self.ctx.runner, lambda _c: appeals.apply_appeal_deadlines(app, actor), on_done=done,
                on_error=self.ctx.error)


__all__ = ["AppealTableModel", "AppealsView", "DecisionPanel", "HearingWorkspace", "datetime"]
