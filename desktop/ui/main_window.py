"""The main window: navigation by area, menus with shortcuts, and a status bar."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QWidget,
)

from desktop import __version__
from desktop.domain.roles import Permission, allowed
from desktop.services.admin import maintenance
from desktop.services.cases.queries import export_citations
from desktop.services.core.audit import VerifyResult
from desktop.ui.accounts import ChangePasswordDialog
from desktop.ui.common.operations import Query
from desktop.ui.common.progress import ProgressPanel
from desktop.ui.common.tasks import TaskControl
from desktop.ui.common.widgets import PlaceholderPage
from desktop.ui.context import UiContext
from desktop.ui.help import HelpWindow, chapter_for
from desktop.ui.paint import first_paint_hook


@dataclass(frozen=True)
class Area:
    key: str
    title: str
    shortcut: str
    #: "module:Class" of the view, or None while the area is not built
    view: str | None
    not_built: str = ""


AREAS = [
    Area("review", "Review", "Ctrl+1", "desktop.ui.review.view:ReviewView"),
    Area("cases", "Cases", "Ctrl+2", "desktop.ui.cases.view:CasesView"),
    Area("payments", "Payments", "Ctrl+3", "desktop.ui.payments.view:PaymentsView"),
    Area("appeals", "Appeals", "Ctrl+4", "desktop.ui.appeals.view:AppealsView"),
    Area("notices", "Notices", "Ctrl+5", "desktop.ui.notices.view:NoticesView"),
    Area("reports", "Patrol && Reports", "Ctrl+6", "desktop.ui.reports.view:ReportsView"),
    Area("sync", "Devices && Sync", "Ctrl+7", "desktop.ui.sync.view:SyncView"),
    Area("admin", "Administration", "Ctrl+8", "desktop.ui.admin.view:AdminView"),
]

#: Where each role starts (the area it works in all day); the others start on Cases.
#: CURBDESK_START_AREA overrides it for everyone (the screenshots, the start-up measurement).
START_AREAS = {"hearing_officer": "appeals", "mail_office": "notices",
               # supervisors and administrators start on the dashboard (issue 18), the area's first page
               "supervisor": "reports", "admin": "reports"}


def start_area_for(role: object) -> str:
    """The first screen for a user of ``role`` (a Role or its value)."""
    return START_AREAS.get(str(getattr(role, "value", role)), "cases")


#: Non-visual helpers started shortly after the window opens ("module:function" taking the UiContext):
#: they keep working whichever screen is shown (automatic field sync, the dock drop folder).
BACKGROUND = ["desktop.ui.sync.background:start_background", "desktop.ui.common.change_feed:start_change_feed"]


class MainWindow(QMainWindow):
    """Signals: `sign_out_requested` (File › Sign out), `lock_requested` (File › Lock screen), handled by the
    workstation's session (`desktop.ui.session`)."""

    sign_out_requested = Signal()
    lock_requested = Signal()

    def __init__(self, ctx: UiContext, areas: list[Area] | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.areas = areas or AREAS
        self.setWindowTitle(f"Curbdesk — {ctx.actor.full_name or ctx.actor.username} ({ctx.actor.role.label})"
                            + (" — DEMO" if ctx.demo else ""))
        # 1440 x 880, but never larger than the screen it opens on (a 1366 x 768 laptop cut off the right edge)
        screen = QGuiApplication.primaryScreen()
        room = screen.availableGeometry() if screen is not None else None
        self.resize(min(1440, room.width()) if room else 1440, min(880, room.height()) if room else 880)
        central = QWidget()
        lay = QHBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setFixedWidth(168)  # the longest area name fits; every pixel counts on a 1366-pixel laptop
        self.nav.setIconSize(QSize(18, 18))
        self.stack = QStackedWidget()
        self.views: dict[str, QWidget] = {}
        for area in self.areas:
            item = QListWidgetItem(area.title.replace("&&", "&"))
            item.setToolTip(f"{area.title.replace('&&', '&')} ({area.shortcut})")
            self.nav.addItem(item)
            self.stack.addWidget(QWidget())  # built on first visit
        self.nav.currentRowChanged.connect(self.show_area_index)
        lay.addWidget(self.nav)
        lay.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self._menus()
        self._status_bar()
        ctx.messages.notified.connect(lambda text, ms: self.statusBar().showMessage(text, ms))
        self.background: list[object] = []
        self.help_window: HelpWindow | None = None
        QTimer.singleShot(2000, self, self._start_background)

    def _start_background(self) -> None:
        for spec in BACKGROUND:
            module, name = spec.split(":")
            self.background.append(getattr(importlib.import_module(module), name)(self.ctx))

    # ----------------------------------------------------------- areas
    def show_area(self, key: str) -> QWidget:
        for i, area in enumerate(self.areas):
            if area.key == key:
                self.nav.setCurrentRow(i)
                return self.views[key]
        raise KeyError(key)

    def show_area_index(self, index: int) -> None:
        area = self.areas[index]
        if area.key not in self.views:
            view = self._build(area)
            old = self.stack.widget(index)
            if old is not None:
                self.stack.removeWidget(old)
                old.deleteLater()
            self.stack.insertWidget(index, view)
            self.views[area.key] = view
        self.stack.setCurrentIndex(index)
        view = self.views[area.key]
        activate: Callable[[], None] | None = getattr(view, "activate", None)
        if activate:
            activate()

    def _build(self, area: Area) -> QWidget:
        if area.view is None:
            return PlaceholderPage(area.title.replace("&&", "&"), area.not_built)
        module, cls = area.view.split(":")
        return getattr(importlib.import_module(module), cls)(self.ctx)

    # ----------------------------------------------------------- chrome
    def _menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self._action(file, "&Export citations…", "Ctrl+E", self.export_citations)
        self._action(file, "&Back up database…", "Ctrl+Shift+B", self.backup)
        file.addSeparator()
        self._action(file, "C&hange password…", None, self.change_password)
        self._action(file, "&Lock screen", "Ctrl+L", self.lock_requested.emit)
        self._action(file, "&Sign out / switch user", "Ctrl+Shift+Q", self.sign_out_requested.emit)
        file.addSeparator()
        self._action(file, "&Quit", QKeySequence.StandardKey.Quit, self.close)
        go = bar.addMenu("&Go")
        for i, area in enumerate(self.areas):
            self._action(go, area.title, area.shortcut, lambda _=False, i=i: self.nav.setCurrentRow(i))
        tools = bar.addMenu("&Tools")
        self.escalation_action = self._action(tools, "Run daily &escalation…", None, self.run_escalation)
        self.escalation_action.setEnabled(allowed(self.ctx.actor.role, Permission.RUN_ESCALATION))
        self._action(tools, "&Verify audit trail", None, self.verify_audit)
        help_ = bar.addMenu("&Help")
        self._action(help_, "&Help for this screen", "F1", self.help_for_screen)
        self._action(help_, "&User manual", None, self.user_manual)
        self._action(help_, "&Keyboard shortcuts", None, self.shortcuts)
        self._action(help_, "&About Curbdesk", None, self.about)

    def _action(self, menu, text, shortcut, slot) -> QAction:  # type: ignore[no-untyped-def]
        act = QAction(text.replace("&&", "&&"), self)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        act.triggered.connect(slot)
        menu.addAction(act)
        return act

    def _status_bar(self) -> None:
        sb = self.statusBar()
        #: long work from the menus shows here, with Cancel; its texts go to the status bar
        self.progress_panel = ProgressPanel()
        self.progress_panel.bar.setMaximumWidth(220)
        self.progress_panel.message.connect(sb.showMessage)
        self.progress = self.progress_panel.bar
        self.cancel_button = self.progress_panel.cancel_button
        sb.addPermanentWidget(self.progress_panel)
        if self.ctx.demo:
            demo = QLabel("  DEMO  ")
            demo.setToolTip("A demo office with made-up data; a real office is set up with main.py setup")
            demo.setStyleSheet("background:#e65100; color:white; font-weight:bold")
            sb.addPermanentWidget(demo)
        who = QLabel(f"  {self.ctx.actor.username} · {self.ctx.actor.role.label}  ")
        db = QLabel(f"  {self.ctx.app.db.display_name()}  ")
        db.setStyleSheet("color:#555")
        sb.addPermanentWidget(who)
        sb.addPermanentWidget(db)
        sb.showMessage("Ready", 3000)

    def change_password(self) -> None:
        dlg = ChangePasswordDialog(self.ctx.app, self.ctx.actor.username, self.ctx.runner, parent=self)
        dlg.changed.connect(lambda _new: self.ctx.info("Your password was changed."))
        dlg.open()

    def export_citations(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export citations", "citations.csv", "CSV files (*.csv)")
        if not path:
            return
        def work(control: TaskControl) -> int:
            def progress(n: int) -> None:
                control.check()
                control.progress(n, 0, f"Exported {n:,} citations…")
            return export_citations(self.ctx.app, self.ctx.actor, Path(path), progress)

        Query(self.ctx, self, work, success=lambda n: self.ctx.info(f"{n:,} citations exported to {path}")) \
            .with_progress(self.progress_panel, "Exporting citations…").run()

    def backup(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Back up database", "curbdesk-backup.sqlite3")
        if not path:
            return
        app, actor = self.ctx.app, self.ctx.actor

        def work(_c: TaskControl) -> Path:
            # the save dialog has already asked before replacing an existing file
            return maintenance.backup_database(app, actor, Path(path), force=True)

        Query(self.ctx, self, work, success=lambda p: self.ctx.info(f"Backup written to {p}")) \
            .with_progress(self.progress_panel, "Backing up…").run()

    def run_escalation(self) -> None:
        """Tools > Run daily escalation: opens the Cases screen and its escalation dialog."""
        self.show_area("cases").run_escalation()  # type: ignore[attr-defined]

    def verify_audit(self) -> None:
        app, actor = self.ctx.app, self.ctx.actor

        def work(_c: TaskControl) -> VerifyResult:
            return maintenance.verify_audit_trail(app, actor)

        def done(result: VerifyResult) -> None:
            box = QMessageBox.information if result.ok else QMessageBox.critical
            box(self, "Audit trail", result.message())

        Query(self.ctx, self, work, success=done) \
            .with_progress(self.progress_panel, "Verifying the audit trail…").run()

    def current_area(self) -> str | None:
        row = self.nav.currentRow()
        return self.areas[row].key if 0 <= row < len(self.areas) else None

    def help_for_screen(self) -> None:
        """F1: the user manual at the chapter of the screen in view (its keys and what each control does)."""
        self._open_help(chapter_for(self.current_area()))

    def user_manual(self) -> None:
        self._open_help(chapter_for(None))

    def shortcuts(self) -> None:
        """The keys that work everywhere: the manual's contents lists them."""
        self._open_help(chapter_for(None))

    def _open_help(self, page: Path) -> None:
        if self.help_window is None:
            self.help_window = HelpWindow(self)
        self.help_window.show_page(page)
        self.help_window.show()
        self.help_window.activateWindow()

    def about(self) -> None:
        QMessageBox.about(self, "About Curbdesk",
                          f"<h3>Curbdesk {__version__}</h3><p>The back office of a parking enforcement "
                          f"agency.</p><p>Database: {self.ctx.app.db.display_name()}</p>")

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.ctx.runner.wait_all(5000)
        super().closeEvent(event)


__all__ = ["MainWindow", "AREAS", "Area", "START_AREAS", "Qt", "first_paint_hook", "start_area_for"]
