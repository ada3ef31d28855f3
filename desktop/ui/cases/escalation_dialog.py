"""The "Run daily escalation" action: pick the day, watch the progress, cancel, read the report.

The escalation is one transaction: Cancel before it commits rolls everything back; after it, the print copies
and the plate reading stop where they are and the report says what waits. After the run the open cases without a
next action are counted (the goal is none) and can be opened as a work list."""

from __future__ import annotations

from datetime import date
from typing import Any

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import QDateEdit, QDialog, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from desktop.services.daily_run import DailyRunCancelled, run_daily
from desktop.ui.common.operations import Changes, Mutation
from desktop.ui.common.progress import ProgressPanel
from desktop.ui.common.tasks import Cancelled, Task, TaskControl

#: what a daily run may change: case stages, penalties on the ledgers, due notices, the hot list
ESCALATION_CHANGES = Changes(cases=True, payments=True, notices=True)


class EscalationDialog(QDialog):
    """Signals: `finished_run(result)` after a run committed; `show_worklist(key)` when the clerk asks
    to see the cases without a next action."""

    finished_run = Signal(object)
    show_worklist = Signal(str)

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.task: Task | None = None
        self.result: Any = None
        self.setWindowTitle("Daily escalation")
        self.setMinimumWidth(560)
        lay = QVBoxLayout(self)
        about = QLabel("Moves every open case along its profile's ladder for the day: penalties, due "
                       "notices, collections referrals and the hot list. Running it twice for the same "
                       "day changes nothing.")
        about.setWordWrap(True)  # (one line of it was wider than the dialog and cut off)
        lay.addWidget(about)
        row = QHBoxLayout()
        row.addWidget(QLabel("As of"))
        self.as_of = QDateEdit()
        self.as_of.setCalendarPopup(True)
        self.as_of.setDisplayFormat("yyyy-MM-dd")
        today = ctx.app.now().astimezone(ctx.tz).date()
        self.as_of.setDate(QDate(today.year, today.month, today.day))
        row.addWidget(self.as_of)
        row.addStretch(1)
        lay.addLayout(row)
        # the bar here; its Cancel goes in the button row below
        self.cancel_button = QPushButton("Cancel")
        self.progress_panel = ProgressPanel(self, hide_when_idle=False, cancel_button=self.cancel_button)
        self.progress = self.progress_panel.bar
        self.progress.setFormat("%v / %m")
        lay.addWidget(self.progress_panel)
        self.stage = QLabel("")
        self.stage.setStyleSheet("color:#555")
        lay.addWidget(self.stage)
        self.report = QPlainTextEdit()
        self.report.setReadOnly(True)
        self.report.setMinimumHeight(200)
        lay.addWidget(self.report, 1)
        buttons = QHBoxLayout()
        self.missing_button = QPushButton("Show cases without a next action")
        self.missing_button.setVisible(False)
        self.missing_button.clicked.connect(self._show_missing)
        buttons.addWidget(self.missing_button)
        buttons.addStretch(1)
        self.run_button = QPushButton("Run")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(lambda _checked=False: self.start())
        self.progress_panel.message.connect(self.stage.setText)
        self.progress_panel.cancelled.connect(lambda: self.stage.setText("Cancelling… (an escalation not yet committed is rolled back)"))
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        for b in (self.run_button, self.cancel_button, self.close_button):
            buttons.addWidget(b)
        lay.addLayout(buttons)

    def chosen_day(self) -> date:
        return date.fromisoformat(self.as_of.date().toString("yyyy-MM-dd"))

    def start(self) -> None:
        day = self.chosen_day()
        app, actor = self.ctx.app, self.ctx.actor

        def work(control: TaskControl) -> Any:
            return run_daily(app, actor, day, control.progress, lambda: control.cancelled)

        self.run_button.setEnabled(False)
        self.close_button.setEnabled(False)
        self.missing_button.setVisible(False)
        self.report.setPlainText(f"Running the escalation as of {day.isoformat()}…")
        self.task = Mutation(self.ctx, self, work, changes=ESCALATION_CHANGES, success=self._done,
                             failure=self._failed).with_progress(self.progress_panel).run()

    def cancel(self) -> None:
        """As the Cancel button: the run stops and is rolled back."""
        if self.task is not None:
            self.progress_panel.cancel()

    def _finish(self) -> None:
        self.task = None
        self.run_button.setEnabled(True)
        self.close_button.setEnabled(True)

    def _done(self, result: Any) -> None:
        self._finish()
        self.result = result
        self.progress.setValue(1)
        self.stage.setText("Done.")
        self.report.setPlainText("\n".join(result.lines()))
        self.missing_button.setVisible(result.without_next_action > 0)
        self.ctx.info(f"Escalation as of {result.as_of.isoformat()} done; "
                      f"{result.without_next_action} open cases without a next action.")
        self.finished_run.emit(result)

    def _failed(self, exc: BaseException) -> None:
        self._finish()
        if isinstance(exc, (Cancelled, DailyRunCancelled)):
            self.stage.setText("Cancelled.")
            text = "Cancelled: no case was escalated (the escalation is one transaction, rolled back)."
            if isinstance(exc, DailyRunCancelled) and exc.kept:
                text += "\nDone before Cancel, and kept:\n" + "\n".join(exc.kept)
            self.report.setPlainText(text)
            return
        self.stage.setText("Failed.")
        self.report.setPlainText(str(exc))
        self.ctx.error(exc)

    def _show_missing(self) -> None:
        self.show_worklist.emit("without_next_action")
        self.accept()
