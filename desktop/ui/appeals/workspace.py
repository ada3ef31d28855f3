"""The hearing officer's workspace: everything about one appeal side by side (the evidence, the photos and
map, the appellant's statement, the documents), the decision panel, the letters and the evidence packet.

Keys: Left/Right step through the photos; the Appeals screen binds Ctrl+H (schedule) and Ctrl+P (packet)
to this workspace.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop.domain import appeals as rules
from desktop.domain.appeals import Channel, HearingMode
from desktop.domain.errors import UserError
from desktop.domain.ledger import format_cents
from desktop.domain.roles import Permission, allowed
from desktop.services import appeals
from desktop.services.appeals.packet import AppealWorkspace, build_packet, exif_lines, load_workspace, render_letter
from desktop.services.appeals.workspace_map import workspace_map
from desktop.services.review.map_html import MapSpec
from desktop.ui.appeals.deadline_text import AMBER, GREEN, RED, days_left_text
from desktop.ui.appeals.decision import DecisionPanel, decided_words, deemed_by_law
from desktop.ui.appeals.dialogs import ScheduleDialog
from desktop.ui.appeals.widgets import AppealPhotoPanel, ImagePreviewDialog, PdfPreviewDialog, PhotoItem, appeal_changes
from desktop.ui.common.map_view import MapView
from desktop.ui.common.operations import Changes, Mutation, Query
from desktop.ui.common.progress import ProgressPanel
from desktop.ui.common.tasks import TaskControl
from desktop.ui.common.widgets import local_time, rich_label, status_badge_html


class HearingWorkspace(QWidget):
    """Everything about one appeal side by side, shown again when a change to it is announced on the
    operation bus. Signals: `loaded(appeal_id)`, `document_ready(path)` when a letter or packet PDF is made."""

    loaded = Signal(int)
    document_ready = Signal(object)

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.ws: AppealWorkspace | None = None
        self._generation = 0
        self.previews: list[QWidget] = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.header = rich_label("<span style='color:#666'>Select an appeal on the docket.</span>")
        self.header.setWordWrap(False)  # one line always: a wrapped header would move everything below it
        self.header.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        lay.addWidget(self.header)
        columns = QSplitter(Qt.Orientation.Horizontal)
        columns.setChildrenCollapsible(False)
        lay.addWidget(columns, 1)

        # 1. photos and the map, each the full height of the column (one tab each)
        self.left_tabs = QTabWidget()
        self.photos = AppealPhotoPanel(ctx)
        self.left_tabs.addTab(self.photos, "Pho&tos")
        #: the same map component as Review (interactive, a street map offline, "Larger map" opens it big), the
        #: whole height and width of the column in its own tab
        self.map = MapView(expandable=True)
        self.map.show_message("Select an appeal on the docket.")
        self.left_tabs.addTab(self.map, "&Map")
        columns.addWidget(self.left_tabs)

        # 2. and 3.: the evidence beside the appeal; under both, the decision and the letters (never scrolled)
        right_side = QWidget()
        rs = QVBoxLayout(right_side)
        rs.setContentsMargins(0, 0, 0, 0)
        rs.setSpacing(4)
        reading = QSplitter(Qt.Orientation.Horizontal)
        reading.setChildrenCollapsible(False)
        rs.addWidget(reading, 1)
        self.middle_tabs = QTabWidget()
        self.evidence = QTextBrowser()
        self.evidence.setOpenLinks(False)
        self.middle_tabs.addTab(self.evidence, "E&vidence")
        self.timeline = QTableWidget(0, 4)
        self.timeline.setHorizontalHeaderLabels(["When", "Who", "What", "Detail"])
        self.timeline.verticalHeader().setVisible(False)
        self.timeline.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.timeline.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.timeline.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.timeline.horizontalHeader().setStretchLastSection(True)
        self.timeline.setWordWrap(False)
        self.middle_tabs.addTab(self.timeline, "Time&line")
        reading.addWidget(self.middle_tabs)

        appeal = QWidget()
        rl = QVBoxLayout(appeal)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.setSpacing(3)
        self.appeal_text = QTextBrowser()
        self.appeal_text.setMinimumHeight(60)
        rl.addWidget(self.appeal_text, 1)
        docs_label = QLabel("<b>Appellant's documents</b> (double-click or Enter opens one)")
        docs_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        rl.addWidget(docs_label)
        self.documents = QListWidget()
        self.documents.setFixedHeight(self.documents.fontMetrics().lineSpacing() * 2 + 10)
        self.documents.itemActivated.connect(self.open_document)
        rl.addWidget(self.documents)
        hearing_row = QHBoxLayout()
        self.hearing_label = QLabel()
        self.hearing_label.setWordWrap(True)
        self.hearing_label.setTextFormat(Qt.TextFormat.RichText)
        self.hearing_label.setFixedHeight(self.hearing_label.fontMetrics().lineSpacing() * 2 + 2)
        self.hearing_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        hearing_row.addWidget(self.hearing_label, 1)
        self.schedule_button = QPushButton("Sc&hedule…")
        self.schedule_button.clicked.connect(self.schedule)
        self.withdraw_button = QPushButton("Withdra&wn…")
        self.withdraw_button.clicked.connect(self.withdraw)
        hearing_row.addWidget(self.schedule_button)
        hearing_row.addWidget(self.withdraw_button)
        rl.addLayout(hearing_row)
        appeal.setMinimumWidth(260)
        reading.addWidget(appeal)
        reading.setSizes([400, 400])

        self.decision = DecisionPanel(ctx)
        self.decision.decided.connect(self._decided)
        rs.addWidget(self.decision)
        letters = QHBoxLayout()
        letters.setSpacing(4)
        self.letter_buttons: dict[str, QPushButton] = {}
        for kind, text in (("appeal_acknowledgement", "Acknowledgement"), ("hearing_notice", "Hearing notice"),
                           ("decision_letter", "Decision letter")):
            b = QPushButton(text)
            b.setToolTip(f"Print the {text.lower()} (also queued for the mail run)")
            b.clicked.connect(lambda _=False, k=kind: self.print_letter(k))
            letters.addWidget(b)
            self.letter_buttons[kind] = b
        self.packet_button = QPushButton("Evidence &packet")
        self.packet_button.setToolTip("Everything on this screen as one PDF (Ctrl+P)")
        self.packet_button.clicked.connect(self.make_packet)
        letters.addWidget(self.packet_button)
        #: letters and the packet: the bar shows what is being made, then each step, with Cancel (on the same
        #: row as the buttons, so that it appearing moves nothing)
        self.progress_panel = ProgressPanel(label_format=True, text_format=True)
        self.progress = self.progress_panel.bar
        self.cancel_button = self.progress_panel.cancel_button
        letters.addWidget(self.progress_panel, 1)
        rs.addLayout(letters)
        columns.addWidget(right_side)
        columns.setSizes([380, 800])
        columns.setStretchFactor(0, 1)
        columns.setStretchFactor(1, 2)
        self._set_actions(None)
        ctx.bus.subscribe(self, self._data_changed)

    # ------------------------------------------------------------------ loading
    def load(self, appeal_id: int) -> None:
        self._generation += 1
        gen = self._generation
        app, actor = self.ctx.app, self.ctx.actor

        def work(_c: TaskControl) -> tuple[AppealWorkspace, MapSpec]:
            ws = load_workspace(app, actor, appeal_id)
            return ws, workspace_map(app, ws)

        Query(self.ctx, self, work, success=lambda r: self._show(gen, *r)).run()

    def reload(self) -> None:
        if self.ws is not None:
            self.load(self.ws.appeal_id)

    def _data_changed(self, changes: Changes, _initiator: object) -> None:
        """The appeal on screen changed (booked, decided, withdrawn, a letter printed): shown again."""
        if self.ws is not None and changes.touches_appeal(self.ws.appeal_id):
            self.reload()

    def clear(self) -> None:
        self._generation += 1
        self.ws = None
        self.header.setText("<span style='color:#666'>No appeal selected.</span>")
        self.evidence.clear()
        self.appeal_text.clear()
        self.documents.clear()
        self.timeline.setRowCount(0)
        self.photos.set_photos([])
        self.map.show_message("No appeal selected.")
        self.decision.set_workspace(None)
        self._set_actions(None)

    def case_tz(self) -> Any:
        """Times of a case show in its own jurisdiction's zone (an English PCN in London time)."""
        return ZoneInfo(self.ws.timezone_name) if self.ws is not None else self.ctx.tz

    def _show(self, gen: int, ws: AppealWorkspace, map_spec: MapSpec) -> None:
        if gen != self._generation:
            return
        self.ws = ws
        tz = self.case_tz()
        cur = ws.currency
        colour = RED if ws.days_left is not None and ws.days_left < 0 else (
            AMBER if ws.days_left is not None and ws.days_left <= 7 else GREEN)
        deadline = ""
        if ws.is_pending and ws.decide_by and deemed_by_law(ws):
            deadline = (f"<span style='background:{RED}; color:white;'>&nbsp;DEEMED ACCEPTED&nbsp;</span> by law "
                        f"since <b>{rules.deemed_accepted_on(ws.decide_by).isoformat()}</b> (not decided by "
                        f"{ws.decide_by.isoformat()})")
        elif ws.is_pending and ws.decide_by:
            deadline = (f"<span style='background:{colour}; color:white;'>"
                        f"&nbsp;{days_left_text(ws.days_left, ws.status, ws.deemed_rule)}&nbsp;</span> decide by "
                        f"<b>{ws.decide_by.isoformat()}</b> ("
                        + ("legal deadline; deemed accepted after it" if ws.deemed_rule
                           else "the profile's deadline" if ws.statutory else "the agency's target") + ")")
        elif not ws.is_pending:
            deadline = f"<b>{html.escape(decided_words(ws.status, ws.decision))}</b>"
        self.header.setText(
            f"<span style='font-size:15pt; font-weight:600'>{ws.number}</span>&nbsp; {html.escape(ws.level_name)}"
            f" ({ws.profile_code}) on citation <b>{ws.citation_number}</b> &nbsp;{status_badge_html(ws.case_status)}"
            f"&nbsp; balance <b>{format_cents(ws.balance_cents, cur)}</b>&nbsp;&nbsp;{deadline}")
        self.header.setToolTip(self.header.text())
        self.photos.set_photos([PhotoItem(p.path, f"{p.caption} {local_time(p.taken_at, tz, '%H:%M:%S')}",
                                          p.verified, p.verification_text) for p in ws.photos])
        self.map.show_spec(map_spec)
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
        cur = ws.currency
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
        self.map.open_larger()

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

        hearing = ws.scheduled_hearing
        dialog = ScheduleDialog(self.ctx, ws.appeal_id, ws.number, hearing.hearing_id if hearing else None,
                                ws.decide_by, self)
        def booked(_hearing_id: int) -> None:  # the workspace and the list follow through the operation bus
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
        Mutation(self.ctx, self, lambda _c: appeals.withdraw_appeal(app, actor, aid, reason),
                 changes=appeal_changes(aid)).run()

    def _decided(self, result: appeals.DecisionResult) -> None:
        nxt = f" Next level: {result.next_level} by {result.next_level_deadline}." if result.next_level else ""
        self.ctx.info(f"{result.number}: {result.outcome_text}{nxt} The decision letter is queued for mailing.")

    def cancel_task(self) -> None:
        """As the Cancel button under the letters: the letter or packet being made is abandoned."""
        self.progress_panel.cancel()

    def print_letter(self, kind: str) -> None:
        ws = self.ws
        if ws is None:
            return

        app, actor, aid = self.ctx.app, self.ctx.actor, ws.appeal_id
        titles = {"appeal_acknowledgement": "Acknowledgement", "hearing_notice": "Notice of hearing",
                  "decision_letter": "Notice of decision"}
        Mutation(self.ctx, self, lambda _c: render_letter(app, actor, aid, kind),
                 changes=Changes(appeals=True, notices=True, appeal_ids=frozenset({aid})),
                 success=lambda p: self._document_done(p, titles[kind])) \
            .with_progress(self.progress_panel, f"Printing the {titles[kind].lower()}…").run()

    def make_packet(self) -> None:
        ws = self.ws
        if ws is None or not self.packet_button.isEnabled():
            return

        app, actor, aid = self.ctx.app, self.ctx.actor, ws.appeal_id

        def work(control: TaskControl) -> Path:
            return build_packet(app, actor, aid, progress=control.step)

        self.packet_button.setEnabled(False)

        def finished(path: Path) -> None:
            self.packet_button.setEnabled(True)
            self._document_done(path, "Evidence packet")

        def failed(exc: BaseException) -> None:
            self.packet_button.setEnabled(True)
            self.ctx.error(exc)

        Mutation(self.ctx, self, work, changes=Changes(appeals=True, appeal_ids=frozenset({aid})),
                 success=finished, failure=failed) \
            .with_progress(self.progress_panel, "Making the evidence packet…").run()

    def _document_done(self, path: Path, title: str) -> None:
        """A letter or the packet is made (and recorded: the workspace follows through the bus)."""
        self.ctx.info(f"{title} saved as {path}")
        self.document_ready.emit(path)
        if getattr(self, "preview_documents", True):
            self._show_dialog(PdfPreviewDialog(path, title, self))
