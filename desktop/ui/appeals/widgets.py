"""Small widgets of the appeals screen: the photo panel, a zoomable image view, and the PDF preview.

`AppealPhotoPanel` is deliberately self-contained (set_photos in, signals out) so the review screen's
evidence viewer can replace it later without touching the workspace.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRect, QSize, Qt, QUrl, Signal
from PySide6.QtGui import (
    QDesktopServices,
    QIcon,
    QImage,
    QImageReader,
    QKeySequence,
    QPainter,
    QPixmap,
    QResizeEvent,
    QShortcut,
    QWheelEvent,
)
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.ui.common.evidence_viewer import picture_scene
from desktop.ui.common.operations import Changes, Query
from desktop.ui.common.screen_fit import fit_to_screen
from desktop.ui.common.tasks import TaskControl

THUMB = 72
PRINT_DPI = 300


@dataclass(frozen=True)
class PhotoItem:
    """One picture for the panel: where it is, what to call it, and whether its digest verified."""

    path: Path
    caption: str
    verified: bool = True
    note: str = ""


#: what an appeal action may change: the appeal, its case (a hold, a refund, a new balance) and the
#: letters queued for mailing
APPEAL_CHANGES = Changes(appeals=True, cases=True, payments=True, notices=True)


def appeal_changes(appeal_id: int) -> Changes:
    """The changes of an action on one appeal."""
    return APPEAL_CHANGES | Changes(appeal_ids=frozenset({appeal_id}))


def read_image(path: Path, max_edge: int | None = None) -> QImage | None:
    """Decode on a worker thread (QImage is safe there), upright per EXIF; None if unreadable."""
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    if max_edge:
        size = reader.size()
        if size.isValid() and max(size.width(), size.height()) > max_edge:
            size.scale(max_edge, max_edge, Qt.AspectRatioMode.KeepAspectRatio)
            reader.setScaledSize(size)
    image = reader.read()
    return None if image.isNull() else image


class ZoomView(QGraphicsView):
    """A picture that fits the view until the user zooms (Ctrl+wheel, +, -, 0 to fit again)."""

    zoomed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.item = picture_scene(self)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.fit_mode = True
        self.scale_factor = 1.0

    def set_image(self, image: QImage | None) -> None:
        self.item.setPixmap(QPixmap.fromImage(image) if image is not None else QPixmap())
        self.scene().setSceneRect(self.item.boundingRect())
        self.fit()

    def fit(self) -> None:
        self.fit_mode = True
        if not self.item.pixmap().isNull():
            self.fitInView(self.item, Qt.AspectRatioMode.KeepAspectRatio)
            self.scale_factor = self.transform().m11()
            self.zoomed.emit(self.scale_factor)

    def zoom(self, factor: float) -> None:
        if self.item.pixmap().isNull():
            return
        new = max(0.05, min(8.0, self.scale_factor * factor))
        self.fit_mode = False
        self.scale(new / self.scale_factor, new / self.scale_factor)
        self.scale_factor = new
        self.zoomed.emit(new)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoom(1.25 if event.angleDelta().y() > 0 else 0.8)
            event.accept()
        else:
            super().wheelEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.fit_mode:
            self.fit()


class AppealPhotoPanel(QWidget):
    """Thumbnails of the evidence photos and a large, zoomable view of the selected one.

    Signals: `loaded(count)` once the pictures are decoded; `photo_shown(index)` when one is shown.
    Keys: Left/Right for the previous/next photo, + and - to zoom, 0 to fit.
    """

    loaded = Signal(int)
    photo_shown = Signal(int)

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx  # UiContext: runner and error()
        self.items: list[PhotoItem] = []
        self.images: list[QImage | None] = []
        self._generation = 0
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.view = ZoomView()
        self.view.setMinimumHeight(160)
        self.caption = QLabel(" ")
        self.caption.setTextFormat(Qt.TextFormat.RichText)
        self.thumbs = QListWidget()
        self.thumbs.setViewMode(QListWidget.ViewMode.IconMode)
        self.thumbs.setFlow(QListWidget.Flow.LeftToRight)
        self.thumbs.setWrapping(False)
        self.thumbs.setIconSize(QSize(THUMB, THUMB * 3 // 4))
        self.thumbs.setFixedHeight(THUMB + 30)
        self.thumbs.setMovement(QListWidget.Movement.Static)
        self.thumbs.currentRowChanged.connect(self.show_photo)
        bar = QHBoxLayout()
        for text, tip, slot in (("−", "Zoom out (-)", lambda: self.view.zoom(0.8)),
                                ("+", "Zoom in (+)", lambda: self.view.zoom(1.25)),
                                ("Fit", "Fit to the pane (0)", self.view.fit)):
            b = QPushButton(text)
            b.setToolTip(tip)
            b.setFixedWidth(40 if text != "Fit" else 48)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.clicked.connect(slot)
            bar.addWidget(b)
        bar.addWidget(self.caption, 1)
        lay.addWidget(self.view, 1)
        lay.addLayout(bar)
        lay.addWidget(self.thumbs)
        for key, slot in (("+", lambda: self.view.zoom(1.25)), ("=", lambda: self.view.zoom(1.25)),
                          ("-", lambda: self.view.zoom(0.8)), ("0", self.view.fit),
                          ("Right", self.next_photo), ("Left", self.previous_photo)):
            QShortcut(QKeySequence(key), self, slot,
                      context=Qt.ShortcutContext.WidgetWithChildrenShortcut)

    def set_photos(self, items: list[PhotoItem]) -> None:
        self._generation += 1
        generation = self._generation
        self.items = list(items)
        self.images = []
        self.thumbs.clear()
        self.view.set_image(None)
        self.caption.setText("<span style='color:#666'>No photographs were recorded with this citation.</span>"
                             if not items else "Loading photos…")
        if not items:
            self.loaded.emit(0)
            return
        paths = [i.path for i in items]

        def work(control: TaskControl) -> list[QImage | None]:
            out = []
            for p in paths:
                control.check()
                out.append(read_image(p, 2400) if p.is_file() else None)
            return out

        Query(self.ctx, self, work, success=lambda images: self._loaded(generation, images)).run()

    def _loaded(self, generation: int, images: list[QImage | None]) -> None:
        if generation != self._generation:
            return
        self.images = images
        for n, (item, image) in enumerate(zip(self.items, images, strict=True), 1):
            icon = QIcon(QPixmap.fromImage(image.scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                                        Qt.TransformationMode.SmoothTransformation))) \
                if image is not None else QIcon()
            mark = "✔" if item.verified else "✖"
            entry = QListWidgetItem(icon, f"{n} {mark} {item.caption}")
            entry.setToolTip(item.note or item.caption)
            if not item.verified:
                entry.setForeground(Qt.GlobalColor.red)
            self.thumbs.addItem(entry)
        self.thumbs.setCurrentRow(0)
        self.loaded.emit(len(images))

    def show_photo(self, index: int) -> None:
        if not 0 <= index < len(self.images):
            return
        item, image = self.items[index], self.images[index]
        self.view.set_image(image)
        colour = "#2e7d32" if item.verified else "#b71c1c"
        problem = "" if image is not None else " — <b>cannot be displayed</b> (file missing or unreadable)"
        self.caption.setText(f"Photo {index + 1} of {len(self.items)}: {item.caption} "
                             f"<span style='color:{colour}'>{item.note}</span>{problem}")
        self.photo_shown.emit(index)

    def next_photo(self) -> None:
        if self.items:
            self.thumbs.setCurrentRow(min(self.thumbs.currentRow() + 1, len(self.items) - 1))

    def previous_photo(self) -> None:
        if self.items:
            self.thumbs.setCurrentRow(max(self.thumbs.currentRow() - 1, 0))


class ImagePreviewDialog(QDialog):
    """An appellant's picture, zoomable."""

    def __init__(self, path: Path, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        fit_to_screen(self, 900, 700)
        lay = QVBoxLayout(self)
        self.view = ZoomView()
        self.view.set_image(read_image(path))
        lay.addWidget(self.view, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)


class PdfPreviewDialog(QDialog):
    """A PDF on screen (Qt PDF), with Print…, Save a copy… and Open in the system viewer."""

    def __init__(self, path: Path, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = Path(path)
        self.setWindowTitle(f"{title} — {self.path.name}")
        # a letter page is tall: the whole height of the screen at most (it was 980 px, taller than a laptop)
        fit_to_screen(self, 820, 980)
        lay = QVBoxLayout(self)
        self.document = QPdfDocument(self)
        self.document.load(str(self.path))
        self.view = QPdfView(self)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self.view.setDocument(self.document)
        lay.addWidget(self.view, 1)
        info = QLabel(f"{self.document.pageCount()} page(s) · saved as {self.path}")
        info.setStyleSheet("color:#555")
        info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(info)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.print_button = buttons.addButton("&Print…", QDialogButtonBox.ButtonRole.ActionRole)
        self.save_button = buttons.addButton("&Save a copy…", QDialogButtonBox.ButtonRole.ActionRole)
        self.open_button = buttons.addButton("&Open in viewer", QDialogButtonBox.ButtonRole.ActionRole)
        self.print_button.clicked.connect(self.print_pdf)
        self.save_button.clicked.connect(self.save_copy)
        self.open_button.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.path))))
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        QShortcut(QKeySequence.StandardKey.Print, self, self.print_pdf)

    def page_count(self) -> int:
        return int(self.document.pageCount())

    def print_pdf(self) -> None:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        dialog = QPrintDialog(printer, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        self.render_to(printer)

    def render_to(self, printer: Any) -> None:
        """Paint every page on a QPrinter (or any paint device with pages) at its resolution."""
        painter = QPainter(printer)
        try:
            for page in range(self.document.pageCount()):
                if page:
                    printer.newPage()
                target = painter.viewport()
                points = self.document.pagePointSize(page)
                # Rendered at 300 dpi at most: sharp on paper without a 1200-dpi bitmap per page.
                image = self.document.render(page, (points * (PRINT_DPI / 72)).toSize())
                box = image.size()
                box.scale(target.size(), Qt.AspectRatioMode.KeepAspectRatio)
                painter.drawImage(QRect(target.topLeft(), box), image)
        finally:
            painter.end()

    def save_copy(self) -> None:
        target, _ = QFileDialog.getSaveFileName(self, "Save a copy", self.path.name, "PDF files (*.pdf)")
        if target:
            Path(target).write_bytes(self.path.read_bytes())
