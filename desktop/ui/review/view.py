"""The Review screen: the queue of new citations, worked with the keyboard alone.

Left, the queue (warnings first); centre, the evidence photo; right, the facts, the warnings with
the data behind them, the photo's EXIF and integrity, and the map. The facts, warnings and EXIF are
written by desktop.ui.review.evidence_text, a citation is prepared off the GUI thread by
desktop.ui.review.prepared, and the decisions (approve, void, correct, bulk) live in
desktop.ui.review.decisions.

Keys: J / PgDown next, K / PgUp previous, A approve, V void, C correct, ] / N next photo,
[ / P previous photo, + / - / 0 zoom, R rotate, Ctrl+Up/Down brightness, Ctrl+Right/Left contrast,
Ctrl+0 original, Ctrl+P permits, Ctrl+Shift+A approve in bulk (supervisors), F5 reload the queue,
T take the plate read from the photo (shown enlarged above the facts with its confidence).

Speed: the next three citations (facts, decoded photos and the rendered map page) are prepared in
the background, so approving shows the next one at once; the decision itself is saved in the
background and, should it fail, the citation comes back into the queue with the reason.

Signals: ``citation_shown(id)`` when a citation's facts and first photo are on screen;
``map_ready(id)`` when its map has been laid out; ``decided(action, id)`` after a decision is saved;
``queue_loaded(count)``.
"""

from __future__ import annotations

import html
import logging
import time
from collections import OrderedDict
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.review import check_title
from desktop.domain.roles import Permission, allowed
from desktop.services.review import queue as review_service
from desktop.services.review.queue import QueueEntry
from desktop.ui.common.evidence_viewer import EvidenceViewer
from desktop.ui.common.list_export import ListExportBar
from desktop.ui.common.map_view import CitationMapView
from desktop.ui.common.operations import Changes, Query, initiated_by
from desktop.ui.context import UiContext
from desktop.ui.review.decisions import ReviewDecisions
from desktop.ui.review.evidence_text import (
    INTEGRITY_TEXT,
    SEVERITY_COLOURS,
    exif_html,
    facts_html,
    plate_photo_html,
    warnings_html,
)
from desktop.ui.review.prepared import Prepared, prepare

log = logging.getLogger(__name__)

PREFETCH_AHEAD = 3
CACHE_SIZE = 12


HELP = ("<b>J</b>/<b>K</b> next/previous · <b>A</b> approve · <b>V</b> void · <b>C</b> correct · "
        "<b>T</b> take the read plate · "
        "<b>]</b>/<b>[</b> photo · <b>+</b>/<b>−</b>/<b>0</b> zoom · <b>R</b> rotate · "
        "<b>Ctrl+↑↓</b> brightness · <b>Ctrl+←→</b> contrast · <b>Ctrl+P</b> permits · <b>F5</b> reload")


#: the brightness and contrast sliders never get narrower than this (pixels at 100 %)
SLIDER_MIN_WIDTH = 64


class ReviewView(ReviewDecisions, QWidget):
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
        self._stale = False  # a change from another screen arrived since the queue was read
        ctx.bus.subscribe(self, self._data_changed)
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
        Query(ctx, self, lambda _c: __import__("folium"),
              failure=lambda exc: log.debug("folium warm-up: %s", exc)).run()  # the map says so itself

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
        self.mine_only = QCheckBox("&My queue")
        self.mine_only.setToolTip("Only the citations a supervisor moved to your review queue")
        self.mine_only.toggled.connect(lambda _on: self.refresh())
        bar.addWidget(self.mine_only)
        self.export_bar = ListExportBar(self.ctx, "review-queue", lambda: None)
        bar.addWidget(self.export_bar)
        outer.addLayout(bar)

        split = QSplitter(Qt.Orientation.Horizontal)
        self.queue_list = QListWidget()
        self.queue_list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.queue_list.setMinimumWidth(220)
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
            b.setMaximumWidth(36)
            tools.addWidget(b)
            return b

        tool("◀", self.previous_photo, "Previous photo ([ or P)")
        tool("▶", self.next_photo, "Next photo (] or N)")
        tool("−", self.viewer.zoom_out, "Zoom out (-)")
        tool("Fit", self.viewer.zoom_fit, "Whole photo (0)")
        tool("+", self.viewer.zoom_in, "Zoom in (+)")
        tool("⟳", lambda: self.viewer.rotate(90), "Rotate 90° (R)")
        tools.addSpacing(8)
        # short labels and a floor under the sliders: at 1366 x 768 they had shrunk to a few pixels
        self.brightness = QSlider(Qt.Orientation.Horizontal)
        self.contrast = QSlider(Qt.Orientation.Horizontal)
        for slider, short, name, keys in ((self.brightness, "Light", "Brightness", "Ctrl+Up / Ctrl+Down"),
                                          (self.contrast, "Contrast", "Contrast", "Ctrl+Right / Ctrl+Left")):
            slider.setRange(-100, 100)
            slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            slider.setMinimumWidth(SLIDER_MIN_WIDTH)
            slider.setMaximumWidth(140)
            slider.setToolTip(f"{name} ({keys})")
            slider.valueChanged.connect(self._adjust)
            label = QLabel(short)
            label.setToolTip(slider.toolTip())
            tools.addWidget(label)
            tools.addWidget(slider, 1)
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
        self.plate_crop = QLabel()
        self.plate_crop.setObjectName("plate_crop")
        self.plate_crop.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.plate_text = self._rich_label()
        self.plate_text.setObjectName("plate_text")
        head = QLabel("<b>Plate photo</b>")
        head.setStyleSheet("color:#1f2a37; border-bottom:1px solid #d5d9de; margin-top:6px;")
        il.addWidget(head)
        il.addWidget(self.plate_crop)
        il.addWidget(self.plate_text)
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
        # the facts wrap rather than scroll sideways; the column keeps room for them at 150 % scaling
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(300)
        right.addWidget(scroll)
        self.map = CitationMapView()
        self.map.ready.connect(self._map_ready)
        self.map.failed.connect(lambda why: self.map.show_message(f"Map unavailable: {why}"))
        right.addWidget(self.map)
        right.setSizes([330, 420])  # the map gets the larger share: streets need room to be read
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
            (("T",), self.take_read_plate),
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
        if not self._queue_loaded_once or self._stale:
            self.refresh()
        self.setFocus()

    def _data_changed(self, changes: Changes, initiator: object) -> None:
        """Citations to review changed. A decision made here is on screen already, unless it touched
        citations it cannot name (bulk approval, the other half of a duplicate pair): then the queue is
        read again. A change from elsewhere (a sync, a permit) waits until the screen is next opened,
        so the queue never moves under the reviewer's hands."""
        if not (changes.review or changes.permits) or not self._queue_loaded_once:
            return
        if initiated_by(initiator, self):
            if changes.review and not changes.citation_ids:
                self.refresh()
        else:
            self._stale = True

    def refresh(self, keep: int | None = None) -> None:
        """Reload the queue from the database, staying on ``keep`` (default: the citation on screen)."""
        self._queue_generation += 1
        self._stale = False
        gen = self._queue_generation
        if keep is None:
            keep = self.current.item.id if self.current else None
        mine = self.ctx.actor.user_id if self.mine_only.isChecked() else None
        Query(self.ctx, self, lambda _c: review_service.review_queue(self.ctx.app, self.ctx.actor, assignee_id=mine),
              success=lambda q: self._queue_arrived(gen, q, keep)).run()

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
        if e.assignee_id is not None:  # a supervisor moved it to one clerk's queue
            text += "   · mine" if e.assignee_id == self.ctx.actor.user_id else "   · another clerk's"
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
            self.plate_text.setText("")
            self.plate_crop.clear()
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
        def prepared(p: Prepared) -> None:
            self._prepared(cid, p)

        def failed(exc: BaseException) -> None:
            self._load_failed(cid, exc)

        Query(self.ctx, self, lambda control: prepare(app, actor, cid, control), success=prepared,
              failure=failed).run()

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
        self.facts.setText(facts_html(item, self.ctx.tz))
        self.warnings.setText(warnings_html(item))
        self._show_plate_photo(p)
        self.photo_index = 0
        self._reset_adjustments()
        self._show_photo()
        try:
            self.map.show_spec(item.map)
        except Exception as exc:  # noqa: BLE001 - the rest of the citation is still reviewable
            self.map.show_message(f"Map unavailable: {exc}")
        self.citation_shown.emit(item.id)


    def _show_plate_photo(self, p: Prepared) -> None:
        view = p.item.plate_photo
        if p.plate_crop is not None:
            self.plate_crop.setPixmap(QPixmap.fromImage(p.plate_crop))
            self.plate_crop.setVisible(True)
        else:
            self.plate_crop.clear()
            self.plate_crop.setVisible(False)
        self.plate_text.setText(plate_photo_html(view))

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
        self._reset_adjustments()
        self.viewer.show_photo(photo)
        text, colour = INTEGRITY_TEXT.get(meta.integrity, (meta.integrity, "#555"))
        self.photo_title.setText(
            f"<b>Photo {index + 1} of {len(p.photos)}</b> · {html.escape(meta.caption or '')} · "
            f"<span style='color:{colour}'><b>{html.escape(text)}</b></span>")
        self.exif.setText(exif_html(p.item, index, photo, self.ctx.tz))


    def _reset_adjustments(self) -> None:
        """Brightness and contrast back to 0, without adjusting the photo shown."""
        self.brightness.blockSignals(True)
        self.contrast.blockSignals(True)
        self.brightness.setValue(0)
        self.contrast.setValue(0)
        self.brightness.blockSignals(False)
        self.contrast.blockSignals(False)

    def _adjust(self) -> None:
        self.viewer.set_adjustments(self.brightness.value(), self.contrast.value())

    def reset_adjustments(self) -> None:
        """Ctrl+0: the photo as it came, fitted, upright, with brightness and contrast at zero."""
        self.viewer.reset_view()
        self.brightness.setValue(0)
        self.contrast.setValue(0)

    def _keep_keyboard(self) -> None:
        """The map's first page load (Qt WebEngine starting its renderer) takes the activation away from our
        window, so the first J after Ctrl+1 went nowhere until a click: give the keys back to this screen,
        if it is on screen and no other window of ours has taken them."""
        if self.isVisible() and QApplication.activeWindow() is None:
            self.window().activateWindow()
            self.setFocus()

    def _map_ready(self) -> None:
        self._keep_keyboard()
        if self._switch_started is not None:
            self.last_switch_ms = (time.perf_counter() - self._switch_started) * 1000
            self._switch_started = None
        if self._prefetch_timer.isActive():
            self._prefetch_timer.stop()
            self._prefetch()
        if self.current is not None:
            self.map_ready.emit(self.current.item.id)
