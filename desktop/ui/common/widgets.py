"""Small widgets and helpers shared by the views."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialogButtonBox,
    QFrame,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.lifecycle import CaseStatus

if TYPE_CHECKING:
    #: the base of a mixin of a screen's methods: the type checker sees the widget the mixin ends up in
    WidgetMixin = QWidget
else:
    WidgetMixin = object

#: the colour of each case status, in the case list and on the status badge
STATUS_COLOURS = {
    CaseStatus.PENDING_REVIEW.value: "#8a5a00",
    CaseStatus.OPEN.value: "#1d4f91",
    CaseStatus.UNDER_APPEAL.value: "#6b3fa0",
    CaseStatus.PAID.value: "#2e7d32",
    CaseStatus.VOIDED.value: "#777777",
    CaseStatus.DISMISSED.value: "#777777",
    CaseStatus.IN_COLLECTIONS.value: "#b71c1c",
    CaseStatus.WRITTEN_OFF.value: "#777777",
}


def status_badge_html(status: str) -> str:
    try:
        label = CaseStatus(status).label
    except ValueError:
        label = status
    colour = STATUS_COLOURS.get(status, "#444")
    return (f"<span style='background:{colour}; color:white; padding:2px 8px; "
            f"border-radius:8px;'>&nbsp;{label}&nbsp;</span>")


def local_time(value: datetime | None, tz: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return "—"
    return value.astimezone(tz).strftime(fmt) if tz else value.strftime(fmt)


def load_thumbnail(path: Path, size: int = 200) -> QImage | None:
    """Runs on a worker thread: QImage (not QPixmap) is safe off the GUI thread."""
    image = QImage(str(path))
    if image.isNull():
        return None
    return image.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                        Qt.TransformationMode.SmoothTransformation)


def rich_label(html: str) -> QLabel:
    """A label of rich text the user can select and copy (a header, a status line)."""
    label = QLabel(html)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def row_table(model: QAbstractItemModel, widths: Sequence[int] = (), *, multi: bool = False,
              read_only: bool = False) -> QTableView:
    """A table of rows over ``model``: whole rows selected (one, or several with ``multi``), alternating
    colours, 24-pixel rows without numbers or wrapping, columns the user can widen (first at ``widths``),
    the last stretched to the edge; with ``read_only`` no cell opens an editor."""
    table = QTableView()
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection if multi
                           else QAbstractItemView.SelectionMode.SingleSelection)
    table.setAlternatingRowColors(True)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(24)
    table.setWordWrap(False)
    if read_only:
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    for col, width in enumerate(widths):
        table.setColumnWidth(col, width)
    header.setStretchLastSection(True)
    return table


def ok_cancel(accept: Callable[[], Any], reject: Callable[[], Any], ok_text: str | None = None) -> QDialogButtonBox:
    """A dialog's OK / Cancel row wired to ``accept`` and ``reject`` (OK renamed to ``ok_text``)."""
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    if ok_text:
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(ok_text)
    buttons.accepted.connect(accept)
    buttons.rejected.connect(reject)
    return buttons


class PlaceholderPage(QWidget):
    """An area that is not built yet says so plainly, instead of showing dead controls."""

    def __init__(self, title: str, what: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.addStretch(1)
        box = QFrame()
        box.setObjectName("placeholder")
        inner = QVBoxLayout(box)
        head = QLabel(f"<h2>{title}</h2>")
        head.setAlignment(Qt.AlignmentFlag.AlignCenter)
        body = QLabel(what)
        body.setWordWrap(True)
        body.setAlignment(Qt.AlignmentFlag.AlignCenter)
        body.setStyleSheet("color:#555; font-size:11pt;")
        inner.addWidget(head)
        inner.addWidget(body)
        lay.addWidget(box, 0, Qt.AlignmentFlag.AlignCenter)
        lay.addStretch(2)
