"""The dashboard (issue 18, point 5): the first screen of supervisors and administrators. Today's and this
week's figures as cards; clicking a card (or Enter on it) opens the screen it comes from. Clerks and the other
roles see the work figures only (the service leaves the management figures out)."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QMouseEvent, QShortcut
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop.services.reports.dashboard import Dashboard, Figure, dashboard
from desktop.ui.common.operations import Query
from desktop.ui.context import UiContext

#: the dashboard counts again when opened after this many seconds
STALE_S = 30.0
COLUMNS = 3


class FigureCard(QFrame):
    """One figure; a click or Enter opens its screen."""

    clicked = Signal(str)

    def __init__(self, figure: Figure) -> None:
        super().__init__()
        self.figure = figure
        self.setObjectName("figureCard")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(f"Open the {figure.area} screen")
        self.setStyleSheet("#figureCard { background: white; border: 1px solid #c9d3de; border-radius: 6px; }"
                           "#figureCard:focus { border: 2px solid #1f4e79; }")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(14, 10, 14, 10)
        name = QLabel(figure.label)
        name.setStyleSheet("color:#555; font-size: 12px; border: none")
        value = QLabel(figure.value)
        value.setObjectName("figureValue")
        value.setStyleSheet("color:#1f4e79; font-size: 24px; font-weight: bold; border: none")
        detail = QLabel(figure.detail)
        detail.setWordWrap(True)
        detail.setStyleSheet("color:#333; font-size: 12px; border: none")
        for w in (name, value, detail):
            lay.addWidget(w)
        self.setMinimumSize(230, 110)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(self.figure.area)
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.clicked.emit(self.figure.area)
            return
        super().keyPressEvent(event)


class DashboardPage(QWidget):
    """Signals: ``navigate(area key)`` when a card is clicked; ``shown(Dashboard)`` when the figures are painted."""

    navigate = Signal(str)
    shown = Signal(object)

    def __init__(self, ctx: UiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.loaded_at = 0.0
        self.cards: list[FigureCard] = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 0, 8, 8)
        head = QHBoxLayout()
        self.title = QLabel("<h2>Dashboard</h2>")
        head.addWidget(self.title)
        head.addStretch(1)
        self.stamp = QLabel("")
        self.stamp.setStyleSheet("color:#666")
        head.addWidget(self.stamp)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Count the figures again (F5)")
        self.refresh_button.clicked.connect(self.refresh)
        head.addWidget(self.refresh_button)
        lay.addLayout(head)
        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setSpacing(12)
        lay.addWidget(self.grid_host)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color:#555")
        lay.addWidget(self.note)
        lay.addStretch(1)
        QShortcut(QKeySequence("F5"), self, self.refresh)

    def activate(self) -> None:
        if time.monotonic() - self.loaded_at > STALE_S:
            self.refresh()

    def refresh(self) -> None:
        self.loaded_at = time.monotonic()
        app, actor = self.ctx.app, self.ctx.actor
        Query(self.ctx, self, lambda _c: dashboard(app, actor), success=self.show_figures).run()

    def show_figures(self, board: Dashboard) -> None:
        for card in self.cards:
            self.grid.removeWidget(card)
            card.deleteLater()
        self.cards = []
        for i, figure in enumerate(board.figures):
            card = FigureCard(figure)
            card.clicked.connect(self.navigate.emit)
            self.grid.addWidget(card, i // COLUMNS, i % COLUMNS)
            self.cards.append(card)
        made = board.made_at.astimezone(self.ctx.tz).strftime("%H:%M")
        self.stamp.setText(f"Counted at {made}  ")
        self.note.setText("" if board.management else
                          "Your work figures. The management figures and reports are for supervisors and "
                          "administrators.")
        self.shown.emit(board)
