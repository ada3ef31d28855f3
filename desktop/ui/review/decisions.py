"""The Review screen's decisions: approve, void, correct and approve in bulk, each saved in the background;
a decision that cannot be saved puts the citation back in the queue with the reason. A mixin of
ReviewView (desktop.ui.review.view), which holds the queue it works on.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, SignalInstance
from PySide6.QtWidgets import QDialog, QLabel, QListWidget, QListWidgetItem, QMessageBox, QWidget

from desktop.domain.ledger import format_cents
from desktop.domain.plate_reading import percent
from desktop.domain.review import check_title
from desktop.services.review import queue as review_service
from desktop.services.review.queue import QueueEntry
from desktop.ui.common.operations import Changes, Mutation
from desktop.ui.common.tasks import TaskControl
from desktop.ui.common.widgets import WidgetMixin
from desktop.ui.context import UiContext
from desktop.ui.review.dialogs import CorrectDialog, VoidDialog
from desktop.ui.review.permits_view import PermitsDialog
from desktop.ui.review.prepared import Prepared, prepare

#: what a review decision changes: the queue, the case it opens (a fine on its ledger, its first notice)
REVIEW_CHANGES = Changes(review=True, cases=True, payments=True, notices=True)


def decided_changes(citation_id: int) -> Changes:
    """A decision on one citation, already shown on the screen that made it."""
    return REVIEW_CHANGES | Changes(citation_ids=frozenset({citation_id}))


class ReviewDecisions(WidgetMixin):
    """Approve, void, correct and bulk approve for ReviewView: it takes the citation on screen out of the
    queue, saves the decision in the background and puts the citation back should saving fail."""

    # What ReviewView provides (declared for the type checker).
    ctx: UiContext
    entries: list[QueueEntry]
    index: int
    current: Prepared | None
    cache: OrderedDict[int, Prepared]
    can_bulk: bool
    queue_list: QListWidget
    summary: QLabel
    decided: SignalInstance

    if TYPE_CHECKING:
        def _list_item(self, e: QueueEntry) -> QListWidgetItem: ...
        def _update_summary(self) -> None: ...
        def show_index(self, index: int) -> None: ...
        def refresh(self, keep: int | None = None) -> None: ...

    def _take_current(self) -> tuple[int, QueueEntry, Prepared] | None:
        if self.current is None or not (0 <= self.index < len(self.entries)):
            return None
        entry = self.entries[self.index]
        if entry.id != self.current.item.id:
            return None  # still loading
        return self.index, entry, self.current

    def _remove_and_advance(self, index: int) -> None:
        self.entries.pop(index)
        self.queue_list.blockSignals(True)
        taken = self.queue_list.takeItem(index)
        del taken
        self.queue_list.blockSignals(False)
        self._update_summary()
        self.show_index(min(index, len(self.entries) - 1))

    def _put_back(self, index: int, entry: QueueEntry, exc: BaseException) -> None:
        """A decision that could not be saved: the citation comes back, unless someone else decided it."""
        self.cache.pop(entry.id, None)
        if isinstance(exc, review_service.NotInReview):
            self.ctx.error(exc)
            return
        index = min(index, len(self.entries))
        self.entries.insert(index, entry)
        self.queue_list.blockSignals(True)
        self.queue_list.insertItem(index, self._list_item(entry))
        self.queue_list.blockSignals(False)
        self._update_summary()
        self.show_index(index)
        self.ctx.error(exc)
        if isinstance(exc, review_service.ReviewChanged):
            self.refresh(keep=entry.id)  # its new warnings move it, and the counts change

    def _regain_keyboard(self, dialog: QWidget | None) -> None:
        """After a dialog, the keys go back to the queue at once (the next key is usually J or A)."""
        if dialog is not None:
            dialog.deleteLater()
        self.activateWindow()
        self.setFocus()

    def approve_current(self) -> None:
        taken = self._take_current()
        if taken is None:
            return
        index, entry, prepared = taken
        item = prepared.item
        errors = [w for w in item.warnings if w.get("severity") == "error"]
        if errors:
            box = QMessageBox(QMessageBox.Icon.Warning, "Approve despite warnings?",
                              f"{item.citation_number} carries {len(errors)} serious warning(s):\n\n"
                              + "\n".join(f"• {check_title(str(w['code']))}: {w['explanation']}" for w in errors)
                              + "\n\nApprove it anyway?", parent=self)
            yes = box.addButton("&Approve anyway", QMessageBox.ButtonRole.AcceptRole)
            box.addButton("Cancel", QMessageBox.ButtonRole.RejectRole)
            box.setDefaultButton(QMessageBox.StandardButton.NoButton)
            box.exec()
            self._regain_keyboard(box)
            if box.clickedButton() is not yes:
                return
        seen = list(item.warning_codes)
        app, actor = self.ctx.app, self.ctx.actor
        self._remove_and_advance(index)

        def done(result: review_service.Approved) -> None:
            when = f" on {result.next_action_date}" if result.next_action_date else ""
            fine = format_cents(result.fine_cents, result.currency)
            self.ctx.info(f"Approved {result.citation_number}: fine {fine} posted. "
                          f"Next action{when}: {result.next_action_text}.")
            self.decided.emit("approved", item.id)

        Mutation(self.ctx, self, lambda _c: review_service.approve(app, actor, item.id, seen_warnings=seen),
                 changes=decided_changes(item.id), success=done,
                 failure=lambda exc: self._put_back(index, entry, exc)).run()

    def void_current(self) -> None:
        taken = self._take_current()
        if taken is None:
            return
        index, entry, prepared = taken
        item = prepared.item
        dialog = VoidDialogFactory.make(item.citation_number, list(item.warning_codes), self)
        accepted = dialog.exec() == QDialog.DialogCode.Accepted
        self._regain_keyboard(dialog)
        if not accepted:
            return
        reason, note = dialog.reason_code, dialog.note_text
        app, actor = self.ctx.app, self.ctx.actor
        self._remove_and_advance(index)

        def done(_r: Any) -> None:
            self.ctx.info(f"Voided {item.citation_number} ({reason}).")
            self.decided.emit("voided", item.id)

        # voiding one of a duplicate pair checks the other half again: which one is not known here, so
        # the change names no citation and the queue is read again (see ReviewView._data_changed)
        changes = REVIEW_CHANGES if "duplicate" in item.warning_codes else decided_changes(item.id)
        Mutation(self.ctx, self, lambda _c: review_service.void(app, actor, item.id, reason, note),
                 changes=changes, success=done, failure=lambda exc: self._put_back(index, entry, exc)).run()

    def correct_current(self, field: str | None = None) -> None:
        taken = self._take_current()
        if taken is None:
            return
        _index, entry, prepared = taken
        item = prepared.item
        try:
            codes = review_service.schedule_codes(self.ctx.app, self.ctx.actor, item.issued_at.date())
        except Exception as exc:  # noqa: BLE001 - shown to the user; the dialog still works without the list
            self.ctx.error(exc)
            codes = []
        current = {"plate": item.plate, "jurisdiction": item.jurisdiction, "make": item.make or "",
                   "colour": item.colour or "", "violation_code": ", ".join(v.code for v in item.violations)}
        dialog = CorrectDialogFactory.make(item.citation_number, current, codes, self, field)
        accepted = dialog.exec() == QDialog.DialogCode.Accepted
        self._regain_keyboard(dialog)
        if not accepted:
            return
        self._save_correction(item, entry, dialog.field_name, dialog.new_value, dialog.reason_text)

    def take_read_plate(self) -> None:
        """One key (T): the plate becomes the one read from the photo (audited as a correction, checked again)."""
        taken = self._take_current()
        if taken is None:
            return
        _index, entry, prepared = taken
        item = prepared.item
        view = item.plate_photo
        if view is None or view.state != "read" or not view.plate:
            self.ctx.info("No plate was read from this citation's photos: correct it with C.")
            return
        if view.plate == item.plate:
            self.ctx.info(f"The plate is already {view.plate}.")
            return
        reason = (f"plate misread: photo {view.photo_number} reads {view.plate} "
                  f"({percent(view.confidence)}, plate reader)")
        self._save_correction(item, entry, "plate", view.plate, reason)

    def _save_correction(self, item: review_service.ReviewItem, entry: QueueEntry, which: str, value: str,
                         reason: str) -> None:
        app, actor = self.ctx.app, self.ctx.actor

        def work(control: TaskControl) -> tuple[review_service.Corrected, Prepared, QueueEntry]:
            result = review_service.correct(app, actor, item.id, which, value, reason)
            fresh = prepare(app, actor, item.id, control)
            codes_now = fresh.item.warning_codes
            worst = min((str(w.get("severity")) for w in fresh.item.warnings),
                        key=lambda s: {"error": 0, "warning": 1}.get(s, 2), default=None)
            new_entry = QueueEntry(entry.id, entry.citation_number, entry.issued_at, fresh.item.plate,
                                   fresh.item.jurisdiction, fresh.item.violations[0].code if fresh.item.violations
                                   else entry.violation_code, len(codes_now), codes_now, worst)
            return result, fresh, new_entry

        def done(out: tuple[review_service.Corrected, Prepared, QueueEntry]) -> None:
            result, fresh, new_entry = out
            self.cache[item.id] = fresh
            ids = [e.id for e in self.entries]
            if item.id in ids:
                row = ids.index(item.id)
                self.entries[row] = new_entry
                self.queue_list.blockSignals(True)
                old = self.queue_list.takeItem(row)
                del old
                self.queue_list.insertItem(row, self._list_item(new_entry))
                self.queue_list.blockSignals(False)
                self._update_summary()
                if self.current is not None and self.current.item.id == item.id:
                    self.show_index(row)
            count = len(result.warnings)
            self.ctx.info(f"Corrected {result.field.replace('_', ' ')} of {item.citation_number}: "
                          f"{result.before or '—'} → {result.after}; {count} warning(s) now.")
            self.decided.emit("corrected", item.id)

        Mutation(self.ctx, self, work, changes=decided_changes(item.id), success=done).run()

    def bulk_approve(self) -> None:
        if not self.can_bulk:
            self.ctx.info("Only supervisors approve in bulk.")
            return
        clean = [e for e in self.entries if not e.warning_count]
        if not clean:
            self.ctx.info("Every citation in the queue carries a warning: none to approve in bulk.")
            return
        answer = QMessageBox.question(
            self, "Approve in bulk",
            f"Approve the {len(clean):,} citation(s) that carry no warning?\n\nEach is checked again first; "
            "any that now has a warning stays in the queue.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
        self._regain_keyboard(None)
        if answer != QMessageBox.StandardButton.Yes:
            return
        ids = [e.id for e in clean]
        app, actor = self.ctx.app, self.ctx.actor

        def work(control: TaskControl) -> review_service.BulkResult:
            return review_service.bulk_approve(app, actor, ids, lambda d, t: control.progress(d, t, ""))

        def progress(done: int, total: int, _text: str) -> None:
            self.summary.setText(f"Approving in bulk: {done:,} of {total:,}…")

        def done(result: review_service.BulkResult) -> None:
            skipped = f"; {len(result.skipped):,} left in the queue" if result.skipped else ""
            self.ctx.info(f"Approved {len(result.approved):,} citations in bulk{skipped}.")
            self.decided.emit("bulk", len(result.approved))  # the queue follows through the operation bus

        Mutation(self.ctx, self, work, changes=REVIEW_CHANGES, success=done).on_progress(progress).run()

    def open_permits(self) -> None:
        plate = self.current.item.plate if self.current else ""
        dialog = PermitsDialog(self.ctx, plate, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        self._permits_dialog = dialog


class VoidDialogFactory:
    """Makes the void dialog (tests replace ``make`` to answer it without a real modal loop)."""

    @staticmethod
    def make(citation_number: str, warning_codes: list[str], parent: QWidget) -> Any:
        return VoidDialog(citation_number, warning_codes, parent)


class CorrectDialogFactory:
    @staticmethod
    def make(citation_number: str, current: dict[str, str], codes: list[tuple[str, str, int]], parent: QWidget,
             field: str | None = None) -> Any:
        return CorrectDialog(citation_number, current, codes, parent, field)
