"""The Patrol & Reports area: the list of its pages on the left (`pages.PAGES`), the page chosen on the right.

A page is imported and built the first time it is opened; a page whose module is missing is not listed. A
user without the management reports (clerks, the mail office, hearing officers: no
``Permission.REPORTS_VIEW``) sees the dashboard only, and the dashboard its work figures only (the services
refuse the rest anyway). A page with a ``navigate(str)`` signal (the dashboard) opens the main window's area
it names.
"""

from __future__ import annotations

import importlib
import importlib.util

from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QStackedWidget, QWidget

from desktop.domain.roles import Permission, allowed
from desktop.ui.context import UiContext
from desktop.ui.reports.pages import PAGES

#: the pages of a user without ``Permission.REPORTS_VIEW``
WORK_PAGES = frozenset({"dashboard"})


def available_pages(role: object) -> list[tuple[str, str, str]]:
    """The pages a user of ``role`` is listed, those whose module is installed."""
    out = []
    for key, title, spec in PAGES:
        if key not in WORK_PAGES and not allowed(role, Permission.REPORTS_VIEW):  # type: ignore[arg-type]
            continue
        try:
            found = importlib.util.find_spec(spec.split(":")[0]) is not None
        except ModuleNotFoundError:
            found = False
        if found:
            out.append((key, title, spec))
    return out


class ReportsView(QWidget):
    def __init__(self, ctx: UiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.pages = available_pages(ctx.actor.role)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        self.list = QListWidget()
        self.list.setObjectName("reportPages")
        self.list.setFixedWidth(160)
        self.list.setStyleSheet("QListWidget#reportPages::item { padding: 6px 4px; }")
        self.stack = QStackedWidget()
        self.built: dict[str, QWidget] = {}
        for key, title, _spec in self.pages:
            item = QListWidgetItem(title)
            item.setToolTip(f"Open the {title.lower()} page")
            item.setData(256, key)
            self.list.addItem(item)
            self.stack.addWidget(QLabel(""))  # built on first visit
        lay.addWidget(self.list)
        lay.addWidget(self.stack, 1)
        self.list.currentRowChanged.connect(self.open_index)
        if self.pages:
            self.list.setCurrentRow(0)

    def open_page(self, key: str) -> QWidget:
        for i, (k, _t, _s) in enumerate(self.pages):
            if k == key:
                self.list.setCurrentRow(i)
                return self.built[key]
        raise KeyError(key)

    def open_index(self, index: int) -> None:
        if not 0 <= index < len(self.pages):
            return
        key, _title, spec = self.pages[index]
        if key not in self.built:
            module, cls = spec.split(":")
            page = getattr(importlib.import_module(module), cls)(self.ctx)
            navigate = getattr(page, "navigate", None)
            if navigate is not None:
                navigate.connect(self.go_to_area)
            old = self.stack.widget(index)
            if old is not None:
                self.stack.removeWidget(old)
                old.deleteLater()
            self.stack.insertWidget(index, page)
            self.built[key] = page
        self.stack.setCurrentIndex(index)
        activate = getattr(self.built[key], "activate", None)
        if activate is not None:
            activate()

    def go_to_area(self, area: str) -> None:
        """Open the main window's area ``area`` (a dashboard figure was clicked)."""
        window = self.window()
        show = getattr(window, "show_area", None)
        if show is not None:
            show(area)

    def activate(self) -> None:
        page = self.built.get(self.pages[self.list.currentRow()][0]) if self.pages and self.list.currentRow() >= 0 \
            else None
        activate = getattr(page, "activate", None)
        if activate is not None:
            activate()
