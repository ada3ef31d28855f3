"""The evidence viewer: a photo at full size with zoom, pan and rotation, upright per its EXIF
orientation, with brightness and contrast for reading plates.

Adjustments are made on a copy in memory: the stored evidence file is only ever read. A photo
that cannot be decoded shows "cannot display: <reason>" instead (never an exception).

``decode_photo(path)`` is safe on a worker thread (it makes a QImage, never a QPixmap), so the
review screen decodes the next citations' photos ahead of time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPainter, QPixmap, QWheelEvent
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QLabel,
    QStackedLayout,
    QVBoxLayout,
    QWidget,
)

from desktop.persistence.evidence import open_for_display
from desktop.ui.common.operations import Query
from desktop.ui.common.tasks import TaskControl, TaskRunner

MIN_ZOOM = 0.05
MAX_ZOOM = 16.0
ZOOM_STEP = 1.25


@dataclass(frozen=True)
class DecodedPhoto:
    """A photo ready to show: the upright image, or why it cannot be shown."""

    image: QImage | None
    reason: str = ""
    source: Any = None
    """The decoded PIL image (RGB), kept to make brightness/contrast copies from."""

    @property
    def ok(self) -> bool:
        return self.image is not None


def pil_to_qimage(picture: Any) -> QImage:
    rgb = picture if picture.mode == "RGB" else picture.convert("RGB")
    data = rgb.tobytes("raw", "RGB")
    image = QImage(data, rgb.width, rgb.height, 3 * rgb.width, QImage.Format.Format_RGB888)
    return image.copy()  # own the pixels: `data` goes away with this frame


def decode_photo(path: Path) -> DecodedPhoto:
    """Decode a photo upright (EXIF orientation applied). Never raises for a bad or missing file."""
    try:
        picture, reason = open_for_display(Path(path))
        if picture is None:
            return DecodedPhoto(None, reason or "the file does not decode")
        rgb = picture if picture.mode == "RGB" else picture.convert("RGB")
        return DecodedPhoto(pil_to_qimage(rgb), "", rgb)
    except MemoryError:
        return DecodedPhoto(None, "the image is too large to show")
    except Exception as exc:  # noqa: BLE001 - a broken photo must never take the viewer down
        return DecodedPhoto(None, f"{type(exc).__name__}: {str(exc)[:120]}")


def adjusted_copy(source: Any, brightness: int, contrast: int) -> QImage:
    """A brightness (-100..100) / contrast (-100..100) adjusted copy of a PIL RGB image."""
    factor = (100 + contrast) / 100 if contrast <= 0 else 1 + contrast / 50
    shift = brightness * 1.28
    lut = [max(0, min(255, round((i - 128) * factor + 128 + shift))) for i in range(256)]
    return pil_to_qimage(source.point(lut * 3))


def picture_scene(view: QGraphicsView) -> QGraphicsPixmapItem:
    """Give `view` a scene of one smoothly scaled picture on black, panned by dragging, with no frame, and
    return the picture's item."""
    view.setScene(QGraphicsScene(view))
    item = QGraphicsPixmapItem()
    item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
    view.scene().addItem(item)
    view.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
    view.setBackgroundBrush(Qt.GlobalColor.black)
    view.setFrameShape(QFrame.Shape.NoFrame)
    return item


class PhotoView(QGraphicsView):
    """Zoomable, pannable, rotatable view of one image. Signal: `zoom_changed(factor)`."""

    zoom_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.item = picture_scene(self)
        self.setRenderHints(QPainter.RenderHint.SmoothPixmapTransform | QPainter.RenderHint.Antialiasing)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.rotation = 0
        self.zoom = 1.0
        self.fitted = True

    def set_image(self, image: QImage, keep_view: bool = False) -> None:
        self.item.setPixmap(QPixmap.fromImage(image))
        self.scene().setSceneRect(QRectF(self.item.pixmap().rect()))
        if not keep_view:
            self.rotation = 0
            self.fit()

    def clear(self) -> None:
        self.item.setPixmap(QPixmap())

    def _apply(self) -> None:
        self.resetTransform()
        self.rotate(self.rotation)
        self.scale(self.zoom, self.zoom)
        self.zoom_changed.emit(self.zoom)

    def fit(self) -> None:
        """The whole photo in the view (the starting state, and the 0 key)."""
        self.fitted = True
        pixmap = self.item.pixmap()
        if pixmap.isNull():
            return
        self.resetTransform()
        self.rotate(self.rotation)
        self.fitInView(self.item, Qt.AspectRatioMode.KeepAspectRatio)
        t = self.transform()
        self.zoom = math.hypot(t.m11(), t.m12()) or 1.0
        self.zoom_changed.emit(self.zoom)

    def zoom_by(self, factor: float) -> None:
        self.fitted = False
        self.zoom = max(MIN_ZOOM, min(MAX_ZOOM, self.zoom * factor))
        self._apply()

    def actual_size(self) -> None:
        self.fitted = False
        self.zoom = 1.0
        self._apply()

    def rotate_by(self, degrees: int) -> None:
        self.rotation = (self.rotation + degrees) % 360
        if self.fitted:
            self.fit()
        else:
            self._apply()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt's name
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom_by(ZOOM_STEP ** steps)
        event.accept()

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        if self.fitted:
            self.fit()


class EvidenceViewer(QWidget):
    """One photo at a time, or a plain "cannot display" message.

    Signals: `shown(ok)` after a photo (or its message) is on screen; `adjusted()` after a
    brightness/contrast copy is shown.
    """

    shown = Signal(bool)
    adjusted = Signal()

    def __init__(self, runner: TaskRunner | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.view = PhotoView()
        self.message = QLabel()
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setStyleSheet("background:#1b1b1b; color:#f0c0c0; font-size:12pt; padding:24px;")
        self.stack = QStackedLayout()
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.message)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(self.stack)
        self.photo: DecodedPhoto | None = None
        self.brightness = 0
        self.contrast = 0
        self._adjust_gen = 0
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(40)
        self._debounce.timeout.connect(self._make_adjusted)

    @property
    def can_display(self) -> bool:
        return self.photo is not None and self.photo.ok

    def show_photo(self, photo: DecodedPhoto) -> None:
        """Show a decoded photo (brightness and contrast are reset: each photo starts as stored)."""
        self.photo = photo
        self.brightness = self.contrast = 0
        self._adjust_gen += 1
        if photo.ok and photo.image is not None:
            self.view.set_image(photo.image)
            self.stack.setCurrentWidget(self.view)
        else:
            self.view.clear()
            self.show_message(f"cannot display: {photo.reason}")
        self.shown.emit(photo.ok)

    def show_file(self, path: Path) -> None:
        """Decode and show a file now (on this thread)."""
        self.show_photo(decode_photo(path))

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.stack.setCurrentWidget(self.message)

    # ----------------------------------------------------------- view commands
    def zoom_in(self) -> None:
        self.view.zoom_by(ZOOM_STEP)

    def zoom_out(self) -> None:
        self.view.zoom_by(1 / ZOOM_STEP)

    def zoom_fit(self) -> None:
        self.view.fit()

    def rotate(self, degrees: int = 90) -> None:
        self.view.rotate_by(degrees)

    def reset_view(self) -> None:
        """Upright and fitted again (brightness and contrast are the screen's sliders)."""
        self.view.rotation = 0
        self.view.fit()

    # ----------------------------------------------------------- adjustments (on a copy)
    def set_adjustments(self, brightness: int, contrast: int) -> None:
        self.brightness = max(-100, min(100, int(brightness)))
        self.contrast = max(-100, min(100, int(contrast)))
        if self.can_display:
            self._debounce.start()

    def _make_adjusted(self) -> None:
        photo = self.photo
        if photo is None or photo.source is None or photo.image is None:
            return
        self._adjust_gen += 1
        gen = self._adjust_gen
        b, c = self.brightness, self.contrast
        if b == 0 and c == 0:
            self._show_adjusted(gen, photo.image)
            return
        source = photo.source

        def work(_c: TaskControl) -> QImage:
            return adjusted_copy(source, b, c)

        if self.runner is None:
            self._show_adjusted(gen, work(None))  # type: ignore[arg-type]
        else:
            Query(self.runner, self, work, success=lambda image: self._show_adjusted(gen, image)).run()

    def _show_adjusted(self, gen: int, image: QImage) -> None:
        if gen != self._adjust_gen:
            return
        self.view.set_image(image, keep_view=True)
        self.adjusted.emit()
