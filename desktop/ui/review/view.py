"""The Review screen: the queue of new citations, worked with the keyboard alone.

Left, the queue (warnings first); centre, the evidence photo; right, the facts, the warnings with
the data behind them, the photo's EXIF and integrity, and the map.

Keys: J / PgDown next, K / PgUp previous, A approve, V void, C correct, ] / N next photo,
[ / P previous photo, + / - / 0 zoom, R rotate, Ctrl+Up/Down brightness, Ctrl+Right/Left contrast,
Ctrl+0 original, Ctrl+P permits, Ctrl+Shift+A approve in bulk (supervisors), F5 reload the queue.

Speed: the next three citations (facts, decoded photos and the rendered map page) are prepared in
the background, so approving shows the next one at once; the decision itself is saved in the
background and, should it fail, the citation comes back into the queue with the reason.

Signals: ``citation_shown(id)`` when a citation's facts and first photo are on screen;
``map_ready(id)`` when its map has been laid out; ``decided(action, id)`` after a decision is saved;
``queue_loaded(count)``.
"""

from __future__ import annotations

import html
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.ledger import format_cents
from desktop.domain.review import check_title
from desktop.domain.roles import Permission, allowed
from desktop.services.review import queue as review_service
from desktop.services.review.queue import QueueEntry, ReviewItem
from desktop.ui.common.evidence_viewer import DecodedPhoto, EvidenceViewer, decode_photo
from desktop.ui.common.map_view import CitationMapView
from desktop.ui.common.tasks import TaskControl
from desktop.ui.common.widgets import local_time
from desktop.ui.context import UiContext

PREFETCH_AHEAD = 3
CACHE_SIZE = 12
SEVERITY_COLOURS = {"error": "#b71c1c", "warning": "#b26a00", "info": "#455a64"}
INTEGRITY_TEXT = {
    "verified": ("verified", "#2e7d32"),
    "integrity_failed": ("FAILED integrity", "#b71c1c"),
    "missing": ("MISSING (never received)", "#b71c1c"),
    "pending": ("pending (not yet downloaded)", "#b26a00"),
}
SIGNATURE_TEXT = {
    "verified": ("signature verified", "#2e7d32"),
    "failed": ("signature FAILED", "#b71c1c"),
    "missing": ("signature MISSING", "#b71c1c"),
    "unsigned": ("unsigned (device has no key)", "#555"),
}
HELP = ("<b>J</b>/<b>K</b> next/previous · <b>A</b> approve · <b>V</b> void · <b>C</b> correct · "
        "<b>]</b>/<b>[</b> photo · <b>+</b>/<b>−</b>/<b>0</b> zoom · <b>R</b> rotate · "
        "<b>Ctrl+↑↓</b> brightness · <b>Ctrl+←→</b> contrast · <b>Ctrl+P</b> permits · <b>F5</b> reload")


@dataclass
class Prepared:
    """One citation made ready off the GUI thread: facts, decoded photos (and the map's spec in ``item``)."""

    item: ReviewItem
    photos: list[DecodedPhoto]
    seconds: float = 0.0


def prepare(app: Any, actor: Any, citation_id: int, control: TaskControl | None = None) -> Prepared:
    """Everything the screen needs for one citation (runs on a worker thread)."""
    started = time.perf_counter()
    item = review_service.review_item(app, actor, citation_id)
    photos = []
    for p in item.photos:
        if control is not None:
            control.check()
        if p.integrity == "missing":
            photos.append(DecodedPhoto(None, "the photo was declared by the handheld but never received"))
        else:
            photos.append(decode_photo(p.path))
    return Prepared(item, photos, time.perf_counter() - started)


def _data_text(data: Any, names: dict[str, str] | None = None, limit: int = 240) -> str:
    """The numbers behind a warning on one line; photo digests are named "photo 1", "photo 2"..."""
    names = names or {}

    def plain(value: Any) -> str:
        if isinstance(value, dict):
            return ", ".join(f"{names.get(str(k), k)}: {plain(v)}" for k, v in value.items())
        if isinstance(value, (list, tuple)):
            return ", ".join(plain(v) for v in value)
        if isinstance(value, float):
            return f"{value:,.1f}".rstrip("0").rstrip(".")
        return names.get(str(value), str(value))

    if not data:
        return ""
    if isinstance(data, dict):
        parts = [f"{str(key).replace('_', ' ')}: {plain(value)}" for key, value in data.items()
                 if value not in (None, [], {}, "")]
        text = "; ".join(parts)
    else:
        text = plain(data)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ReviewView(QWidget):
    citation_shown = Signal(int)
    map_ready = Signal(int)
    decided = Signal(str, int)
    queue_loaded = Signal(int)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.entries: list[QueueEntry] = []
        self.index = -1
        self.current: Prepared | None = None
        self.photo_index = 0
        self.cache: OrderedDict[int, Prepared] = OrderedDict()
        self._loading: set[int] = set()
        self._waiting_for: int | None = None
        self._queue_loaded_once = False
        self._queue_generation = 0
        self._switch_started: float | None = None
        self.last_switch_ms: float | None = None
        self.can_bulk = allowed(ctx.actor.role, Permission.BULK_APPROVE)
        self.can_review = allowed(ctx.actor.role, Permission.REVIEW_CITATIONS)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._prefetch_timer = QTimer(self)
        self._prefetch_timer.setSingleShot(True)
        self._prefetch_timer.setInterval(300)
        self._prefetch_timer.timeout.connect(self._prefetch)
        self._build()
        self._shortcuts()
        # Warm folium up off the GUI thread: the first map would otherwise wait for its import.
        ctx.runner.run(lambda _c: __import__("folium"))

    # ================================================================= layout
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 2)
        bar = QHBoxLayout()
        self.summary = QLabel("Loading the review queue…")
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setWordWrap(True)
        bar.addWidget(self.summary, 1)
        self.position = QLabel("")
        self.position.setStyleSheet("color:#555; padding: 0 8px;")
        bar.addWidget(self.position)

        def button(text: str, slot: Any, tip: str) -> QPushButton:
            b = QPushButton(text)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.setToolTip(tip)
            b.clicked.connect(slot)
            bar.addWidget(b)
            return b

        self.approve_button = button("Approve  A", self.approve_current, "Approve: the case opens and the fine is posted")
        self.void_button = button("Void  V", self.void_current, "Void with a reason code and a note")
        self.correct_button = button("Correct  C", lambda: self.correct_current(),
                                     "Correct plate, state, make, colour or violation code")
        self.bulk_button = button("Approve all without warnings…", self.bulk_approve,
                                  "Supervisors: approve every citation that carries no warning (Ctrl+Shift+A)")
        self.bulk_button.setVisible(self.can_bulk)
        button("Permits…", self.open_permits, "Search and edit parking permits (Ctrl+P)")
        button("Reload", lambda: self.refresh(), "Reload the queue (F5)")
        outer.addLayout(bar)

        split = QSplitter(Qt.Orientation.Horizontal)
        self.queue_list = QListWidget()
        self.queue_list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.queue_list.setMinimumWidth(250)
        self.queue_list.currentRowChanged.connect(self._row_clicked)
        split.addWidget(self.queue_list)

        centre = QWidget()
        cl = QVBoxLayout(centre)
        cl.setContentsMargins(0, 0, 0, 0)
        self.photo_title = QLabel("")
        self.photo_title.setTextFormat(Qt.TextFormat.RichText)
        cl.addWidget(self.photo_title)
        self.viewer = EvidenceViewer(self.ctx.runner)
        cl.addWidget(self.viewer, 1)
        tools = QHBoxLayout()

        def tool(text: str, slot: Any, tip: str) -> QPushButton:
            b = QPushButton(text)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.setToolTip(tip)
            b.clicked.connect(slot)
            b.setMaximumWidth(44)
            tools.addWidget(b)
            return b

        tool("◀", self.previous_photo, "Previous photo ([ or P)")
        tool("▶", self.next_photo, "Next photo (] or N)")
        tool("−", self.viewer.zoom_out, "Zoom out (-)")
        tool("Fit", self.viewer.zoom_fit, "Whole photo (0)")
        tool("+", self.viewer.zoom_in, "Zoom in (+)")
        tool("⟳", lambda: self.viewer.rotate(90), "Rotate 90° (R)")
        tools.addSpacing(12)
        tools.addWidget(QLabel("Brightness"))
        self.brightness = QSlider(Qt.Orientation.Horizontal)
        self.contrast = QSlider(Qt.Orientation.Horizontal)
        for slider in (self.brightness, self.contrast):
            slider.setRange(-100, 100)
            slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            slider.setMaximumWidth(140)
            slider.valueChanged.connect(self._adjust)
        tools.addWidget(self.brightness)
        tools.addWidget(QLabel("Contrast"))
        tools.addWidget(self.contrast)
        tool("Orig.", self.reset_adjustments, "Back to the photo as stored (Ctrl+0)")
        tools.addStretch(1)
        cl.addLayout(tools)
        split.addWidget(centre)

        right = QSplitter(Qt.Orientation.Vertical)
        info = QWidget()
        il = QVBoxLayout(info)
        il.setContentsMargins(6, 0, 6, 0)
        self.facts = self._rich_label()
        self.warnings = self._rich_label()
        self.warnings.setObjectName("warnings")
        self.exif = self._rich_label()
        for title, label in (("Citation", self.facts), ("Warnings", self.warnings), ("Photo", self.exif)):
            head = QLabel(f"<b>{title}</b>")
            head.setStyleSheet("color:#1f2a37; border-bottom:1px solid #d5d9de; margin-top:6px;")
            il.addWidget(head)
            il.addWidget(label)
        il.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(info)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        right.addWidget(scroll)
        self.map = CitationMapView()
        self.map.ready.connect(self._map_ready)
        self.map.failed.connect(lambda why: self.map.show_message(f"Map unavailable: {why}"))
        right.addWidget(self.map)
        right.setSizes([480, 300])
        split.addWidget(right)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 3)
        split.setStretchFactor(2, 2)
        split.setSizes([260, 680, 480])
        outer.addWidget(split, 1)
        helpline = QLabel(HELP)
        helpline.setStyleSheet("color:#555; font-size:9pt;")
        outer.addWidget(helpline)

    @staticmethod
    def _rich_label() -> QLabel:
        label = QLabel()
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        return label

    def _shortcuts(self) -> None:
        keys: list[tuple[tuple[str, ...], Any]] = [
            (("J", "PgDown"), self.next_citation),
            (("K", "PgUp"), self.previous_citation),
            (("A",), self.approve_current),
            (("V",), self.void_current),
            (("C",), self.correct_current),
            (("]", "N"), self.next_photo),
            (("[", "P"), self.previous_photo),
            (("+", "="), self.viewer.zoom_in),
            (("-",), self.viewer.zoom_out),
            (("0",), self.viewer.zoom_fit),
            (("R",), lambda: self.viewer.rotate(90)),
            (("Ctrl+Up",), lambda: self.brightness.setValue(self.brightness.value() + 10)),
            (("Ctrl+Down",), lambda: self.brightness.setValue(self.brightness.value() - 10)),
            (("Ctrl+Right",), lambda: self.contrast.setValue(self.contrast.value() + 10)),
            (("Ctrl+Left",), lambda: self.contrast.setValue(self.contrast.value() - 10)),
            (("Ctrl+0",), self.reset_adjustments),
            (("Ctrl+P",), self.open_permits),
            (("Ctrl+Shift+A",), self.bulk_approve),
            (("F5",), lambda: self.refresh()),
        ]
        self._shortcut_objects = []
        for sequences, slot in keys:
            for seq in sequences:
                sc = QShortcut(QKeySequence(seq), self)
                sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                sc.activated.connect(slot)
                self._shortcut_objects.append(sc)

    # ================================================================= the queue
    def activate(self) -> None:
        if not self._queue_loaded_once:
            self.refresh()
        self.setFocus()

    def refresh(self, keep: int | None = None) -> None:
        """Reload the queue from the database, staying on ``keep`` (default: the citation on screen)."""
        self._queue_generation += 1
        gen = self._queue_generation
        if keep is None:
            keep = self.current.item.id if self.current else None
        self.ctx.runner.run(lambda _c: review_service.review_queue(self.ctx.app, self.ctx.actor),
                            on_done=lambda q: self._queue_arrived(gen, q, keep), on_error=self.ctx.error)

    def _queue_arrived(self, gen: int, queue: review_service.ReviewQueue, keep: int | None) -> None:
        if gen != self._queue_generation:
            return
        self._queue_loaded_once = True
        self.entries = list(queue.entries)
        self.cache.clear()
        self.queue_list.blockSignals(True)
        self.queue_list.clear()
        for e in self.entries:
            self.queue_list.addItem(self._list_item(e))
        self.queue_list.blockSignals(False)
        self._update_summary()
        self.queue_loaded.emit(len(self.entries))
        ids = [e.id for e in self.entries]
        self.show_index(ids.index(keep) if keep in ids else 0)

    def _list_item(self, e: QueueEntry) -> QListWidgetItem:
        mark = {"error": "✖", "warning": "⚠"}.get(e.worst or "", "·")
        text = f"{mark} {e.citation_number}   {e.plate} {e.jurisdiction}"
        if e.warning_count:
            text += f"   ({e.warning_count})"
        item = QListWidgetItem(text)
        if e.worst:
            item.setForeground(QColor(SEVERITY_COLOURS.get(e.worst, "#333")))
        item.setToolTip(", ".join(check_title(c) for c in e.warning_codes) or "no warnings")
        item.setData(Qt.ItemDataRole.UserRole, e.id)
        return item

    def _update_summary(self) -> None:
        total = len(self.entries)
        if not total:
            self.summary.setText("<b>The review queue is empty.</b> New citations appear here after a field sync.")
            return
        counts: dict[str, int] = {}
        for e in self.entries:
            for code in set(e.warning_codes):
                counts[code] = counts.get(code, 0) + 1
        flagged = sum(1 for e in self.entries if e.warning_count)
        detail = " · ".join(f"{html.escape(check_title(c))} <b>{n}</b>"
                            for c, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
        self.summary.setText(f"<b>{total:,}</b> waiting, <b>{flagged:,}</b> with warnings"
                             + (f"&nbsp;&nbsp;<span style='color:#555'>{detail}</span>" if detail else ""))

    def _row_clicked(self, row: int) -> None:
        if 0 <= row < len(self.entries) and row != self.index:
            self.show_index(row)

    # ================================================================= moving through it
    def next_citation(self) -> None:
        if self.index + 1 < len(self.entries):
            self.show_index(self.index + 1)

    def previous_citation(self) -> None:
        if self.index > 0:
            self.show_index(self.index - 1)

    def show_index(self, index: int) -> None:
        self._switch_started = time.perf_counter()
        if not self.entries:
            self.index = -1
            self.current = None
            self._show_empty()
            return
        index = max(0, min(index, len(self.entries) - 1))
        self.index = index
        self.queue_list.blockSignals(True)
        self.queue_list.setCurrentRow(index)
        self.queue_list.blockSignals(False)
        self.position.setText(f"{index + 1:,} of {len(self.entries):,}")
        cid = self.entries[index].id
        prepared = self.cache.get(cid)
        if prepared is not None:
            self.cache.move_to_end(cid)
            self._display(prepared)
        else:
            # Nothing of the previous citation stays on screen (nor can it be approved by mistake).
            self.current = None
            self._waiting_for = cid
            loading = f"Loading {html.escape(self.entries[index].citation_number)}…"
            self.facts.setText(f"<span style='color:#666'>{loading}</span>")
            self.warnings.setText("")
            self.exif.setText("")
            self.photo_title.setText("")
            self.viewer.show_message(loading)
            self._load(cid)
        # Prefetching competes with drawing this citation (Python threads share one interpreter lock):
        # it starts once this citation's map is drawn, or after a short while at the latest.
        self._prefetch_timer.start()

    def _load(self, cid: int) -> None:
        if cid in self._loading:
            return
        self._loading.add(cid)
        app, actor = self.ctx.app, self.ctx.actor
        self.ctx.runner.run(lambda control: prepare(app, actor, cid, control),
                            on_done=lambda p, cid=cid: self._prepared(cid, p),
                            on_error=lambda exc, cid=cid: self._load_failed(cid, exc))

    def _prepared(self, cid: int, prepared: Prepared) -> None:
        self._loading.discard(cid)
        self.cache[cid] = prepared
        while len(self.cache) > CACHE_SIZE:
            self.cache.popitem(last=False)
        if self._waiting_for == cid:
            self._waiting_for = None
            self._display(prepared)

    def _load_failed(self, cid: int, exc: BaseException) -> None:
        self._loading.discard(cid)
        if self._waiting_for == cid:
            self._waiting_for = None
            self.facts.setText(f"<span style='color:#b71c1c'>Cannot show this citation: {html.escape(str(exc))}</span>")
            self.ctx.error(exc)

    def _prefetch(self) -> None:
        wanted = [e.id for e in self.entries[self.index + 1: self.index + 1 + PREFETCH_AHEAD]]
        if self.index > 0:
            wanted.append(self.entries[self.index - 1].id)
        for cid in wanted:
            if cid not in self.cache:
                self._load(cid)

    def _show_empty(self) -> None:
        self.position.setText("")
        self.facts.setText("<span style='color:#666'>Nothing to review.</span>")
        self.warnings.setText("")
        self.exif.setText("")
        self.photo_title.setText("")
        self.viewer.show_message("No citation waiting for review.")
        self.map.show_message("No citation selected.")

    # ================================================================= showing one
    def _display(self, p: Prepared) -> None:
        self.current = p
        item = p.item
        self.facts.setText(self._facts_html(item))
        self.warnings.setText(self._warnings_html(item))
        self.photo_index = 0
        self.brightness.blockSignals(True)
        self.contrast.blockSignals(True)
        self.brightness.setValue(0)
        self.contrast.setValue(0)
        self.brightness.blockSignals(False)
        self.contrast.blockSignals(False)
        self._show_photo()
        try:
            self.map.show_spec(item.map)
        except Exception as exc:  # noqa: BLE001 - the rest of the citation is still reviewable
            self.map.show_message(f"Map unavailable: {exc}")
        self.citation_shown.emit(item.id)

    def _time(self, value: datetime | None, fmt: str = "%a %Y-%m-%d %H:%M") -> str:
        return local_time(value, self.ctx.tz, fmt)

    def _facts_html(self, i: ReviewItem) -> str:
        e = html.escape
        sig_text, sig_colour = SIGNATURE_TEXT.get(i.signature_state, (i.signature_state, "#555"))
        delay = (i.received_at - i.issued_at).total_seconds() / 3600
        violations = "<br>".join(
            f"{e(v.code)} {e(v.description)}: <b>{format_cents(v.fine_cents)}</b>"
            + (f" <span style='color:#b26a00'>(handheld showed {format_cents(v.handheld_fine_cents)})</span>"
               if v.handheld_fine_cents not in (None, v.fine_cents) else "")
            for v in i.violations)
        registered = (f"registered as <b>{e(i.registered_make)}</b>" if i.registered_make
                      else "<span style='color:#666'>no registration record</span>")
        obs = "; ".join(
            f"{e(str(o.get('kind')))}: first seen {e(self._time(_parse(o.get('first_seen_at')), '%H:%M'))}"
            + (f", again {e(self._time(_parse(o.get('second_seen_at')), '%H:%M'))}" if o.get("second_seen_at") else "")
            for o in i.observations)
        rows = [
            ("", f"<span style='font-size:14pt; font-weight:600'>{e(i.citation_number)}</span>"),
            ("Issued", f"{e(self._time(i.issued_at))} by officer {e(i.officer_badge)} on {e(i.device_id or '—')}"),
            ("Received", f"{e(self._time(i.received_at))} ({delay:.1f} h later)"),
            ("Vehicle", f"<span style='font-size:13pt'><b>{e(i.plate)}</b></span> {e(i.jurisdiction)}"
                        f"{' ' + e(i.plate_type) if i.plate_type else ''} · {e(i.make or '—')} {e(i.model or '')}"
                        f" · {e(i.colour or '—')} · {registered}"),
            ("Violation", violations or "—"),
            ("Location", f"{e(i.address or '—')} · zone {e(i.zone_code or '—')}"
                         f"{' · space ' + e(i.space) if i.space else ''} · ±{i.accuracy_m or 0:.0f} m"),
            ("Zone rules", "<br>".join(f"<b>{e(z.code)}</b> {e(z.description or 'no posted rules')}" for z in i.zones)
             or "<span style='color:#666'>no zone known here</span>"),
            ("Observed", obs or "—"),
            ("Remarks", e(i.remarks or "—")),
            ("Evidence", f"{e(i.evidence_status.replace('_', ' '))} · "
                         f"<span style='color:{sig_colour}'><b>{e(sig_text)}</b></span>"),
        ]
        return "<table cellspacing='2'>" + "".join(
            f"<tr><td style='color:#555; padding-right:8px' valign='top'>{k}</td><td>{v}</td></tr>" for k, v in rows
        ) + "</table>"

    def _warnings_html(self, i: ReviewItem) -> str:
        e = html.escape
        parts = []
        names = {p.sha256: f"photo {n + 1}" for n, p in enumerate(i.photos)}
        for w in i.warnings:
            severity = str(w.get("severity", "warning"))
            colour = SEVERITY_COLOURS.get(severity, "#333")
            data = _data_text(w.get("data"), names)
            parts.append(
                f"<p style='margin:2px 0 6px 0'><span style='background:{colour}; color:white'>&nbsp;{e(severity.upper())}"
                f"&nbsp;</span> <b>{e(check_title(str(w.get('code'))))}</b>: {e(str(w.get('explanation', '')))}"
                + (f"<br><span style='color:#666; font-size:9pt; font-family:monospace'>{e(data)}</span>" if data else "")
                + "</p>")
        if not parts:
            parts.append("<p style='color:#2e7d32'><b>No warnings.</b> Every check passed.</p>")
        if i.warnings and i.passed:
            parts.append("<p style='color:#666; font-size:9pt'>Passed: "
                         + ", ".join(e(check_title(c)) for c in i.passed) + "</p>")
        return "".join(parts)

    # ================================================================= photos
    def next_photo(self) -> None:
        if self.current and self.photo_index + 1 < len(self.current.photos):
            self.photo_index += 1
            self._show_photo()

    def previous_photo(self) -> None:
        if self.current and self.photo_index > 0:
            self.photo_index -= 1
            self._show_photo()

    def _show_photo(self) -> None:
        p = self.current
        if p is None:
            return
        if not p.photos:
            self.viewer.show_message("cannot display: no photos came with this citation")
            self.photo_title.setText("<b>No photos</b>")
            self.exif.setText("<span style='color:#b71c1c'>No evidence photos.</span>")
            return
        index = self.photo_index
        photo = p.photos[index]
        meta = p.item.photos[index]
        self.brightness.blockSignals(True)
        self.contrast.blockSignals(True)
        self.brightness.setValue(0)
        self.contrast.setValue(0)
        self.brightness.blockSignals(False)
        self.contrast.blockSignals(False)
        self.viewer.show_photo(photo)
        text, colour = INTEGRITY_TEXT.get(meta.integrity, (meta.integrity, "#555"))
        self.photo_title.setText(
            f"<b>Photo {index + 1} of {len(p.photos)}</b> · {html.escape(meta.caption or '')} · "
            f"<span style='color:{colour}'><b>{html.escape(text)}</b></span>")
        self.exif.setText(self._exif_html(p.item, index))

    def _exif_html(self, item: ReviewItem, index: int) -> str:
        e = html.escape
        meta = item.photos[index]
        exif = meta.exif or {}
        captured = _parse(exif.get("captured_at"))
        if captured is not None and exif.get("captured_at_naive"):
            taken = f"{captured:%Y-%m-%d %H:%M:%S} (camera time, no offset)"
        elif captured is not None:
            minutes = round((captured - item.issued_at).total_seconds() / 60)
            taken = f"{e(self._time(captured, '%Y-%m-%d %H:%M:%S'))} ({minutes:+d} min from issue)"
        else:
            taken = "<span style='color:#b71c1c'>no capture time</span>"
            if meta.declared_taken_at is not None:
                taken += f" (handheld declared {e(self._time(meta.declared_taken_at, '%H:%M:%S'))})"
        if meta.latitude is not None and meta.longitude is not None:
            where = f"{meta.latitude:.6f}, {meta.longitude:.6f}"
            if meta.distance_m is not None:
                where += f" · <b>{meta.distance_m:,.0f} m</b> from the citation"
            if exif.get("latitude") is None:
                where += " (declared by the handheld, not in EXIF)"
        else:
            where = "no GPS position" + (f" ({e(exif['gps_error'])})" if exif.get("gps_error") else "")
        camera = " ".join(x for x in (exif.get("camera_make"), exif.get("camera_model")) if x) or "—"
        text, colour = INTEGRITY_TEXT.get(meta.integrity, (meta.integrity, "#555"))
        rows = [
            ("Captured", taken),
            ("GPS", where),
            ("Camera", e(camera) + (f" · orientation {exif['orientation']}" if exif.get("orientation") else "")),
            ("Integrity", f"<span style='color:{colour}'><b>{e(text)}</b></span>"
                          + (f" — {e(meta.integrity_reason)}" if meta.integrity_reason else "")),
            ("File", f"<code>{e(meta.sha256[:16])}…</code>"),
        ]
        if exif.get("error"):
            rows.append(("EXIF", f"<span style='color:#b26a00'>{e(exif['error'])}</span>"))
        photo = self.current.photos[index] if self.current else None
        if photo is not None and not photo.ok:
            rows.append(("Display", f"<span style='color:#b71c1c'>cannot display: {e(photo.reason)}</span>"))
        return "<table cellspacing='2'>" + "".join(
            f"<tr><td style='color:#555; padding-right:8px' valign='top'>{k}</td><td>{v}</td></tr>" for k, v in rows
        ) + "</table>"

    def _adjust(self) -> None:
        self.viewer.set_adjustments(self.brightness.value(), self.contrast.value())

    def reset_adjustments(self) -> None:
        self.brightness.setValue(0)
        self.contrast.setValue(0)

    def _map_ready(self) -> None:
        if self._switch_started is not None:
            self.last_switch_ms = (time.perf_counter() - self._switch_started) * 1000
            self._switch_started = None
        if self._prefetch_timer.isActive():
            self._prefetch_timer.stop()
            self._prefetch()
        if self.current is not None:
            self.map_ready.emit(self.current.item.id)

    # ================================================================= decisions
    def _take_current(self) -> tuple[int, QueueEntry, Prepared] | None:
        if self.current is None or not (0 <= self.index < len(self.entries)):
            return None
        entry = self.entries[self.index]
        if entry.id != self.current.item.id:
            return None  # still loading
        return self.index, entry, self.current

    def _remove_and_advance(self, index: int) -> None:
        self.entries.pop(index)
        self.queue_list.blockSignals(True)
        taken = self.queue_list.takeItem(index)
        del taken
        self.queue_list.blockSignals(False)
        self._update_summary()
        self.show_index(min(index, len(self.entries) - 1))

    def _put_back(self, index: int, entry: QueueEntry, exc: BaseException) -> None:
        """A decision that could not be saved: the citation comes back, unless someone else decided it."""
        self.cache.pop(entry.id, None)
        if isinstance(exc, review_service.NotInReview):
            self.ctx.error(exc)
            return
        index = min(index, len(self.entries))
        self.entries.insert(index, entry)
        self.queue_list.blockSignals(True)
        self.queue_list.insertItem(index, self._list_item(entry))
        self.queue_list.blockSignals(False)
        self._update_summary()
        self.show_index(index)
        self.ctx.error(exc)
        if isinstance(exc, review_service.ReviewChanged):
            self.refresh(keep=entry.id)  # its new warnings move it, and the counts change

    def _regain_keyboard(self, dialog: QWidget | None) -> None:
        """After a dialog, the keys go back to the queue at once (the next key is usually J or A)."""
        if dialog is not None:
            dialog.deleteLater()
        self.activateWindow()
        self.setFocus()

    def approve_current(self) -> None:
        taken = self._take_current()
        if taken is None:
            return
        index, entry, prepared = taken
        item = prepared.item
        errors = [w for w in item.warnings if w.get("severity") == "error"]
        if errors:
            box = QMessageBox(QMessageBox.Icon.Warning, "Approve despite warnings?",
                              f"{item.citation_number} carries {len(errors)} serious warning(s):\n\n"
                              + "\n".join(f"• {check_title(str(w['code']))}: {w['explanation']}" for w in errors)
                              + "\n\nApprove it anyway?", parent=self)
            yes = box.addButton("&Approve anyway", QMessageBox.ButtonRole.AcceptRole)
            box.addButton("Cancel", QMessageBox.ButtonRole.RejectRole)
            box.setDefaultButton(QMessageBox.StandardButton.NoButton)
            box.exec()
            self._regain_keyboard(box)
            if box.clickedButton() is not yes:
                return
        seen = list(item.warning_codes)
        app, actor = self.ctx.app, self.ctx.actor
        self._remove_and_advance(index)

        def done(result: review_service.Approved) -> None:
            when = f" on {result.next_action_date}" if result.next_action_date else ""
            self.ctx.info(f"Approved {result.citation_number}: fine {format_cents(result.fine_cents)} posted, "
                          f"next {str(result.next_action or '—').replace('_', ' ')}{when}.")
            self.decided.emit("approved", item.id)

        self.ctx.runner.run(lambda _c: review_service.approve(app, actor, item.id, seen_warnings=seen),
                            on_done=done, on_error=lambda exc: self._put_back(index, entry, exc))

    def void_current(self) -> None:
        taken = self._take_current()
        if taken is None:
            return
        index, entry, prepared = taken
        item = prepared.item
        dialog = VoidDialogFactory.make(item.citation_number, list(item.warning_codes), self)
        accepted = dialog.exec() == QDialog.DialogCode.Accepted
        self._regain_keyboard(dialog)
        if not accepted:
            return
        reason, note = dialog.reason_code, dialog.note_text
        app, actor = self.ctx.app, self.ctx.actor
        self._remove_and_advance(index)

        def done(_r: Any) -> None:
            self.ctx.info(f"Voided {item.citation_number} ({reason}).")
            self.decided.emit("voided", item.id)
            if "duplicate" in item.warning_codes:
                self.refresh()  # the other half of the pair has been checked again

        self.ctx.runner.run(lambda _c: review_service.void(app, actor, item.id, reason, note),
                            on_done=done, on_error=lambda exc: self._put_back(index, entry, exc))

    def correct_current(self, field: str | None = None) -> None:
        taken = self._take_current()
        if taken is None:
            return
        index, entry, prepared = taken
        item = prepared.item
        try:
            codes = review_service.schedule_codes(self.ctx.app, self.ctx.actor, item.issued_at.date())
        except Exception as exc:  # noqa: BLE001 - shown to the user; the dialog still works without the list
            self.ctx.error(exc)
            codes = []
        current = {"plate": item.plate, "jurisdiction": item.jurisdiction, "make": item.make or "",
                   "colour": item.colour or "", "violation_code": ", ".join(v.code for v in item.violations)}
        dialog = CorrectDialogFactory.make(item.citation_number, current, codes, self, field)
        accepted = dialog.exec() == QDialog.DialogCode.Accepted
        self._regain_keyboard(dialog)
        if not accepted:
            return
        which, value, reason = dialog.field_name, dialog.new_value, dialog.reason_text
        app, actor = self.ctx.app, self.ctx.actor

        def work(control: TaskControl) -> tuple[review_service.Corrected, Prepared, QueueEntry]:
            result = review_service.correct(app, actor, item.id, which, value, reason)
            fresh = prepare(app, actor, item.id, control)
            codes_now = fresh.item.warning_codes
            worst = min((str(w.get("severity")) for w in fresh.item.warnings),
                        key=lambda s: {"error": 0, "warning": 1}.get(s, 2), default=None)
            new_entry = QueueEntry(entry.id, entry.citation_number, entry.issued_at, fresh.item.plate,
                                   fresh.item.jurisdiction, fresh.item.violations[0].code if fresh.item.violations
                                   else entry.violation_code, len(codes_now), codes_now, worst)
            return result, fresh, new_entry

        def done(out: tuple[review_service.Corrected, Prepared, QueueEntry]) -> None:
            result, fresh, new_entry = out
            self.cache[item.id] = fresh
            ids = [e.id for e in self.entries]
            if item.id in ids:
                row = ids.index(item.id)
                self.entries[row] = new_entry
                self.queue_list.blockSignals(True)
                old = self.queue_list.takeItem(row)
                del old
                self.queue_list.insertItem(row, self._list_item(new_entry))
                self.queue_list.blockSignals(False)
                self._update_summary()
                if self.current is not None and self.current.item.id == item.id:
                    self.show_index(row)
            count = len(result.warnings)
            self.ctx.info(f"Corrected {result.field.replace('_', ' ')} of {item.citation_number}: "
                          f"{result.before or '—'} → {result.after}; {count} warning(s) now.")
            self.decided.emit("corrected", item.id)

        self.ctx.runner.run(work, on_done=done, on_error=self.ctx.error)

    def bulk_approve(self) -> None:
        if not self.can_bulk:
            self.ctx.info("Only supervisors approve in bulk.")
            return
        clean = [e for e in self.entries if not e.warning_count]
        if not clean:
            self.ctx.info("Every citation in the queue carries a warning: none to approve in bulk.")
            return
        answer = QMessageBox.question(
            self, "Approve in bulk",
            f"Approve the {len(clean):,} citation(s) that carry no warning?\n\nEach is checked again first; "
            "any that now has a warning stays in the queue.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
        self._regain_keyboard(None)
        if answer != QMessageBox.StandardButton.Yes:
            return
        ids = [e.id for e in clean]
        app, actor = self.ctx.app, self.ctx.actor

        def work(control: TaskControl) -> review_service.BulkResult:
            return review_service.bulk_approve(app, actor, ids, lambda d, t: control.progress(d, t, ""))

        def progress(done: int, total: int, _text: str) -> None:
            self.summary.setText(f"Approving in bulk: {done:,} of {total:,}…")

        def done(result: review_service.BulkResult) -> None:
            skipped = f"; {len(result.skipped):,} left in the queue" if result.skipped else ""
            self.ctx.info(f"Approved {len(result.approved):,} citations in bulk{skipped}.")
            self.decided.emit("bulk", len(result.approved))
            self.refresh()

        self.ctx.runner.run(work, on_done=done, on_error=self.ctx.error, on_progress=progress)

    def open_permits(self) -> None:
        from desktop.ui.review.permits_view import PermitsDialog

        plate = self.current.item.plate if self.current else ""
        dialog = PermitsDialog(self.ctx, plate, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        self._permits_dialog = dialog


class VoidDialogFactory:
    """Makes the void dialog (tests replace ``make`` to answer it without a real modal loop)."""

    @staticmethod
    def make(citation_number: str, warning_codes: list[str], parent: QWidget) -> Any:
        from desktop.ui.review.dialogs import VoidDialog

        return VoidDialog(citation_number, warning_codes, parent)


class CorrectDialogFactory:
    @staticmethod
    def make(citation_number: str, current: dict[str, str], codes: list[tuple[str, str, int]], parent: QWidget,
             field: str | None = None) -> Any:
        from desktop.ui.review.dialogs import CorrectDialog

        return CorrectDialog(citation_number, current, codes, parent, field)


def _parse(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None
