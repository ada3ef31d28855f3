"""The Payments screen: the counter (a payment in a few keystrokes), the unmatched queue, the refund
queue, imports, payment plans and the daily close, one tab each, each in its own module beside this one.
"""

from __future__ import annotations

from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from desktop.ui.context import UiContext
from desktop.ui.payments.close import CloseTab
from desktop.ui.payments.counter import CounterTab
from desktop.ui.payments.imports import ImportsTab
from desktop.ui.payments.plans import PlansTab
from desktop.ui.payments.refunds import RefundsTab
from desktop.ui.payments.unmatched import UnmatchedTab


class PaymentsView(QWidget):
    """The Payments area. Tabs: Counter, Unmatched, Refunds, Imports, Plans, Daily close (Alt+letter)."""

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 0)
        self.tabs = QTabWidget()
        self.counter = CounterTab(ctx)
        self.unmatched = UnmatchedTab(ctx)
        self.refunds = RefundsTab(ctx)
        self.imports = ImportsTab(ctx)
        self.plans = PlansTab(ctx)
        self.close_tab = CloseTab(ctx)
        self.tabs.addTab(self.counter, "&Counter")
        self.tabs.addTab(self.unmatched, "&Unmatched")
        self.tabs.addTab(self.refunds, "&Refunds")
        self.tabs.addTab(self.imports, "&Imports")
        self.tabs.addTab(self.plans, "P&lans")
        self.tabs.addTab(self.close_tab, "&Daily close")
        self.tabs.currentChanged.connect(self._tab_changed)
        lay.addWidget(self.tabs)

    def activate(self) -> None:
        self._tab_changed(self.tabs.currentIndex())

    def _tab_changed(self, index: int) -> None:
        tab = self.tabs.widget(index)
        if tab is self.counter:
            self.counter.refresh_drawer()
            self.counter.lookup.setFocus()
            return
        refresh = getattr(tab, "refresh", None)
        if refresh is not None:
            refresh()
