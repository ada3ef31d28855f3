"""The case detail panel: the citation's facts, its photos, its ledger and its history."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.ledger import format_cents
from desktop.services.cases import CaseDetail
from desktop.ui.tasks import TaskControl
from desktop.ui.widgets import load_thumbnail, local_time, status_badge_html

INTEGRITY_TEXT = {"verified": "✔ verified", "integrity_failed": "✖ failed integrity",
                  "missing": "✖ missing", "pending": "… pending"}


class CaseDetailPanel(QWidget):
    """Shows one case. Signal `shown(citation_id)` once its facts are on screen."""

    shown = Signal(int)
    photos_shown = Signal(int)

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx  # UiContext: app, actor, runner, tz, evidence_path()
        self.detail: CaseDetail | None = None
        self._photo_gen = 0
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 4)
        self.header = QLabel("<span style='color:#666'>Select a case to see its details.</span>")
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.header)
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

        self.ledger = QTableWidget(0, 4)
        self.ledger.setHorizontalHeaderLabels(["Date", "Entry", "Amount", "Memo"])
        self._table_defaults(self.ledger)
        self.tabs.addTab(self.ledger, "Ledger")

        self.history = QTableWidget(0, 4)
        self.history.setHorizontalHeaderLabels(["When", "Who", "What", "Reason"])
        self._table_defaults(self.history)
        self.tabs.addTab(self.history, "History")

    @staticmethod
    def _table_defaults(t: QTableWidget) -> None:
        t.verticalHeader().setVisible(False)
        t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        t.horizontalHeader().setStretchLastSection(True)

    def load(self, citation_id: int) -> None:
        from desktop.services.cases import case_detail

        self.ctx.runner.run(lambda _c: case_detail(self.ctx.app, self.ctx.actor, citation_id),
                            on_done=self.show_detail, on_error=self.ctx.error, owner=self)

    def show_detail(self, d: CaseDetail) -> None:
        self.detail = d
        c = d.citation
        tz = self.ctx.tz
        self.header.setText(
            f"<span style='font-size:15pt; font-weight:600'>{c.citation_number}</span>&nbsp;&nbsp;"
            f"{status_badge_html(c.status)}&nbsp;&nbsp;<span style='font-size:13pt'>Balance "
            f"<b>{format_cents(d.balance_cents)}</b></span>")
        while self.facts.rowCount():
            self.facts.removeRow(0)
        owner = d.owner
        owner_text = "— not yet looked up"
        if owner is not None:
            addr = owner.address_raw if owner.address_status == "ok" else f"{owner.address_raw}  ⚠ {owner.address_problem or owner.address_status}"
            owner_text = f"{owner.name}<br>{addr}<br><span style='color:#666'>registered {owner.valid_from}" + (
                f" to {owner.valid_to}" if owner.valid_to else "") + f"; {owner.vehicle_make or ''} {owner.vehicle_model or ''}</span>"
        obs = "; ".join(
            f"{o.get('kind')}: first {o.get('first_seen_at', '')[11:16]}, again {o.get('second_seen_at', '')[11:16]}"
            for o in (c.observations or []))
        rows = [
            ("Issued", f"{local_time(c.issued_at, tz)} by officer {c.officer_badge} on {c.device_id or '—'}"),
            ("Received", local_time(c.received_at, tz)),
            ("Vehicle", f"<b>{c.plate}</b> ({c.jurisdiction}{', ' + c.plate_type if c.plate_type else ''}) "
                        f"{c.make or ''} {c.model or ''} {c.color or ''}"),
            ("Location", f"{c.address or ''}, zone {c.zone_code or '—'}"
                         f"{', space ' + c.space if c.space else ''} ({c.lat:.5f}, {c.lon:.5f} ±{c.accuracy_m or 0:.0f} m)"),
            ("Violation", "<br>".join(f"{v.code} {v.description or ''}: {format_cents(v.fine_cents)}"
                                       + (f" (handheld showed {format_cents(v.handheld_fine_cents)})"
                                          if v.handheld_fine_cents not in (None, v.fine_cents) else "")
                                       for v in c.violations) or c.violation_code),
            ("Observations", obs or "—"),
            ("Officer remarks", c.remarks or "—"),
            ("Registered owner", owner_text),
            ("Next action", f"{(c.next_action or '—').replace('_', ' ')} {c.next_action_date or ''}"),
            ("Evidence", f"{c.evidence_status.replace('_', ' ')}; signature {c.signature_state}"),
        ]
        for label, value in rows:
            lab = QLabel(value)
            lab.setTextFormat(Qt.TextFormat.RichText)
            lab.setWordWrap(True)
            lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.facts.addRow(f"<b>{label}</b>", lab)

        self.ledger.setRowCount(len(d.ledger))
        for i, e in enumerate(d.ledger):
            amount = QTableWidgetItem(format_cents(e.amount_cents))
            amount.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            for col, item in enumerate([QTableWidgetItem(str(e.effective_date)),
                                        QTableWidgetItem(e.kind.replace("_", " ")), amount,
                                        QTableWidgetItem(e.memo or "")]):
                self.ledger.setItem(i, col, item)
        self.tabs.setTabText(1, f"Ledger ({len(d.ledger)})")
        self.history.setRowCount(len(d.timeline))
        for i, t in enumerate(d.timeline):
            for col, text in enumerate([local_time(t.at, tz), t.who, t.what, t.detail]):
                self.history.setItem(i, col, QTableWidgetItem(text))
        self.tabs.setTabText(2, f"History ({len(d.timeline)})")
        self._load_photos(d)
        self.shown.emit(c.id)

    def _load_photos(self, d: CaseDetail) -> None:
        while self.photo_row.count():
            item = self.photo_row.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        self._photo_gen += 1
        gen = self._photo_gen
        photos = [(p.sha256, p.caption, p.integrity, p.taken_at) for p in d.photos]
        paths = [self.ctx.evidence_path(sha) for sha, *_ in photos]

        def work(_c: TaskControl) -> list[Any]:
            return [load_thumbnail(p) if p.exists() else None for p in paths]

        def done(images: list[Any]) -> None:
            if gen != self._photo_gen:
                return
            for (sha, caption, integrity, taken), image in zip(photos, images):
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

        self.ctx.runner.run(work, on_done=done, on_error=self.ctx.error, owner=self)
