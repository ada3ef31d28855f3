"""Is a control on screen? For the layout tests at a laptop's 1366 x 768: a control must lie inside the
window, inside the viewport of every scroll area around it (nothing needed "below the fold"), and be at
least as wide as its own content (no clipped label)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractScrollArea,
    QAbstractSlider,
    QComboBox,
    QLineEdit,
    QPushButton,
    QScrollBar,
    QWidget,
)

#: a slider narrower than this cannot be set with any precision
MIN_SLIDER = 60
#: the kinds of widget a user acts on
CONTROLS = (QAbstractButton, QLineEdit, QComboBox, QAbstractSlider, QAbstractItemView)


def rect_in(widget: QWidget, window: QWidget) -> QRect:
    return QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())


def why_not_visible(widget: QWidget, window: QWidget) -> str | None:
    """None when ``widget`` is wholly visible without scrolling; otherwise what is wrong, in words."""
    if not widget.isVisibleTo(window):
        return "hidden"
    r = rect_in(widget, window)
    if r.width() < 4 or r.height() < 4:
        return f"shrunk to {r.width()}x{r.height()}"
    if not window.rect().contains(r):
        return f"at {r.getRect()}, outside the window {window.rect().getRect()}"
    parent = widget.parentWidget()
    while parent is not None and parent is not window:
        if isinstance(parent, QAbstractScrollArea):
            viewport = rect_in(parent.viewport(), window)
            if not viewport.contains(r):
                return f"at {r.getRect()}, scrolled out of the viewport {viewport.getRect()} of {type(parent).__name__}"
        parent = parent.parentWidget()
    if isinstance(widget, QAbstractSlider) and widget.width() < MIN_SLIDER:
        return f"a slider shrunk to {widget.width()} px"
    if isinstance(widget, QAbstractButton) and widget.text():
        need = text_width(widget)
        if widget.width() + 4 < need:  # the estimate of the frame is within a few pixels
            return f"{widget.width()} px wide, narrower than its text needs ({need} px)"
    return None


def text_width(button: QAbstractButton) -> int:
    """The pixels a button's longest line of text takes, with a few for its frame (the style's own minimum
    of 80 pixels for a push button is not content)."""
    lines = button.text().replace("&&", "\0").replace("&", "").replace("\0", "&").splitlines()
    extra = 8 + (button.iconSize().width() + 4 if not button.icon().isNull() else 0)
    if not isinstance(button, QPushButton):
        extra += 18  # a check box's or radio button's indicator
    return max(button.fontMetrics().horizontalAdvance(line) for line in lines) + extra


def assert_visible(window: QWidget, *widgets: QWidget) -> None:
    problems = [f"{w.objectName() or type(w).__name__} {getattr(w, 'text', lambda: '')()!r}: {why}"
                for w in widgets if (why := why_not_visible(w, window)) is not None]
    assert not problems, "\n".join(problems)


def controls_cut_off(window: QWidget, page: QWidget) -> list[str]:
    """Every control shown on ``page`` that is not wholly visible (controls inside a list or table's own
    cells, which scroll with their rows, are not counted)."""
    out = []
    for w in page.findChildren(QWidget):
        if not isinstance(w, CONTROLS) or isinstance(w, QScrollBar) or not w.isVisibleTo(window):
            continue
        if _inside_item_view(w, page):
            continue
        why = why_not_visible(w, window)
        if why is not None:
            label = getattr(w, "text", None)
            out.append(f"{type(w).__name__} {label() if callable(label) else ''!r}: {why}")
    return out


def _inside_item_view(widget: QWidget, stop: QWidget) -> bool:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QAbstractItemView):
            return True
        if parent is stop:
            return False
        parent = parent.parentWidget()
    return False
