"""Bulk work from the Cases screen (supervisors; issue 16, point 5): the cases selected by hand, or every
case of the list as searched, voided with a reason, put on or released from hold, moved to a clerk's
review queue, or approved.

One confirmation names the count; the work runs off the GUI thread in batches (one transaction each)
with progress and Cancel, which stops between batches (the finished batches stay); the result lists
every case the rules refused, with why. The service checks the permissions (`desktop.services.bulk`).

Signals: ``finished_bulk(BulkOutcome)`` when the work ended (also after a Cancel).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.errors import UserError
from desktop.services import bulk
from desktop.services.bulk import BulkAction, BulkOutcome, BulkRequest
from desktop.services.cases.queries import CaseFilter
from desktop.services.review import assignment
from desktop.services.review.queue import void_reasons
from desktop.ui.common.operations import Changes, Mutation, Query
from desktop.ui.common.progress import ProgressPanel
from desktop.ui.common.tasks import TaskControl
from desktop.ui.context import UiContext

TITLES = {BulkAction.VOID: "Void citations in review", BulkAction.HOLD: "Put cases on hold",
          BulkAction.RELEASE: "Release supervisor holds", BulkAction.ASSIGN: "Move to a clerk's review queue",
          BulkAction.APPROVE: "Approve citations without warnings"}
#: what the bulk work may change (its batches commit as they go, so it is announced after a Cancel too)
BULK_CHANGES = Changes(cases=True, review=True, notices=True)

#: asks the one confirmation: (parent, question) -> yes
Confirm = Callable[[QWidget, str], bool]


def _ask(parent: QWidget, question: str) -> bool:
    answer = QMessageBox.question(parent, "Bulk work", question,
                                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


class BulkDialog(QDialog):
    finished_bulk = Signal(object)

    def __init__(self, ctx: UiContext, action: BulkAction, selected_ids: Sequence[int], list_filter: CaseFilter,
                 filter_text: str, parent: QWidget | None = None, *, confirm: Confirm | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.action = action
        self.selected_ids = list(selected_ids)
        self.list_filter = list_filter
        self.confirm = confirm or _ask
        self.outcome: BulkOutcome | None = None
        self.setWindowTitle(TITLES[action])
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.use_selected = QRadioButton(f"The {len(self.selected_ids):,} selected case(s)")
        self.use_list = QRadioButton(f"Every case in the list as searched ({filter_text})")
        self.use_selected.setEnabled(bool(self.selected_ids))
        (self.use_selected if self.selected_ids else self.use_list).setChecked(True)
        form.addRow("Which", self.use_selected)
        form.addRow("", self.use_list)
        self.code = QComboBox()
        self.reason = QLineEdit()
        self.assignee = QComboBox()
        if action is BulkAction.VOID:
            for code, label in void_reasons():
                self.code.addItem(label, code)
            form.addRow("&Reason", self.code)
            self.reason.setPlaceholderText("Note (needed with 'Other'; goes into every case's audit trail)")
            form.addRow("&Note", self.reason)
        elif action in (BulkAction.HOLD, BulkAction.RELEASE):
            self.reason.setPlaceholderText("Why (goes into every case's audit trail)")
            form.addRow("&Why", self.reason)
        elif action is BulkAction.ASSIGN:
            form.addRow("&Clerk", self.assignee)
            Query(ctx, self, lambda _c: assignment.reviewers(ctx.app, ctx.actor), success=self._fill_reviewers).run()
        else:
            form.addRow(QLabel("Each citation is checked again now; those with a warning stay in the queue."))
        lay.addLayout(form)
        self.progress_panel = ProgressPanel(self, text_format=True)
        lay.addWidget(self.progress_panel)
        self.result_text = QPlainTextEdit()
        self.result_text.setReadOnly(True)
        self.result_text.setVisible(False)
        lay.addWidget(self.result_text, 1)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Close)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("&Go on…")
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        self.resize(620, 360)

    def _fill_reviewers(self, rows: list[tuple[str, str]]) -> None:
        for username, full in rows:
            self.assignee.addItem(f"{full} ({username})", username)
        self.assignee.addItem("Everyone's queue (no clerk)", bulk.EVERYONE)

    def request(self) -> BulkRequest:
        return BulkRequest(self.action, self.reason.text(), str(self.code.currentData() or ""),
                           str(self.assignee.currentData() or ""))

    def start(self) -> None:
        """Check what was typed, find the cases, ask once naming the count, then run."""
        try:
            request = bulk.check_request(self.request())
        except UserError as exc:
            self.ctx.error(exc)
            return
        self.ok_button.setEnabled(False)
        if self.use_selected.isChecked():
            self._confirm_and_run(request, self.selected_ids)
            return
        app, actor, f = self.ctx.app, self.ctx.actor, self.list_filter

        def failed(exc: BaseException) -> None:
            self.ok_button.setEnabled(True)
            self.ctx.error(exc)

        Query(self.ctx, self, lambda _c: bulk.ids_for_filter(app, actor, f),
              success=lambda ids: self._confirm_and_run(request, ids), failure=failed) \
            .with_progress(self.progress_panel, "Finding the cases…").run()

    def _confirm_and_run(self, request: BulkRequest, ids: Sequence[int]) -> None:
        if not ids:
            self.ok_button.setEnabled(True)
            self.ctx.info("No case is in the list: nothing to do.")
            return
        if not self.confirm(self, request.describe(len(ids))):
            self.ok_button.setEnabled(True)
            return
        app, actor = self.ctx.app, self.ctx.actor

        def work(control: TaskControl) -> BulkOutcome:
            return bulk.run_bulk(app, actor, request, ids, cancel=lambda: control.cancelled,
                                 progress=lambda done, total: control.progress(done, total, f"{done:,} of {total:,}"))

        def failed(exc: BaseException) -> None:
            self.ok_button.setEnabled(True)
            self.ctx.error(exc)

        Mutation(self.ctx, self, work, changes=BULK_CHANGES, partial=True, success=self._finished, failure=failed) \
            .with_progress(self.progress_panel, f"{request.action.verb.capitalize()}…").run()

    def _finished(self, outcome: BulkOutcome) -> None:
        self.outcome = outcome
        lines = [outcome.summary()]
        lines += [f"refused {number}: {why}" for number, why in outcome.refused]
        self.result_text.setPlainText("\n".join(lines))
        self.result_text.setVisible(True)
        self.ok_button.setVisible(False)
        for widget in (self.use_selected, self.use_list, self.code, self.reason, self.assignee):
            widget.setEnabled(False)  # done: a second run is a new dialog
        self.ctx.info(outcome.summary())
        self.finished_bulk.emit(outcome)
