"""The review screen's dialogs: void (reason code and note) and correct (one field, a reason).

Both are keyboard-first: the first field has the focus, Enter accepts, Escape cancels.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.review import CorrectableField, VoidReason, suggested_void_reason


def _make_default(buttons: QDialogButtonBox, ok: QPushButton) -> None:
    """Enter means OK, never Cancel (set once the buttons belong to the dialog, or Qt forgets it)."""
    for button in buttons.buttons():
        if isinstance(button, QPushButton):
            button.setAutoDefault(False)
    ok.setDefault(True)


def _problem_and_buttons(lay: QVBoxLayout, ok_text: str, accept: Callable[[], None],
                         reject: Callable[[], None]) -> tuple[QLabel, QPushButton]:
    """The foot of a decision dialog: a red line for what is missing, then Cancel and the ``ok_text`` button
    (the default) wired to ``accept`` and ``reject``. Returns the line and the button."""
    problem = QLabel()
    problem.setStyleSheet("color:#b71c1c")
    lay.addWidget(problem)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
    ok = buttons.addButton(ok_text, QDialogButtonBox.ButtonRole.AcceptRole)
    buttons.accepted.connect(accept)
    buttons.rejected.connect(reject)
    lay.addWidget(buttons)
    _make_default(buttons, ok)
    return problem, ok


class ReturnAcceptsPlainTextEdit(QPlainTextEdit):
    """A note field where Enter confirms the dialog and Shift+Enter starts a new line."""

    accepted = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not (
                event.modifiers() & Qt.KeyboardModifier.ShiftModifier):
            self.accepted.emit()
            return
        super().keyPressEvent(event)


class VoidDialog(QDialog):
    """Reason code (preselected from the citation's warnings) and a note."""

    def __init__(self, citation_number: str, warning_codes: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Void citation {citation_number}")
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(f"Void <b>{citation_number}</b>? It will not become a case; the reason is recorded."))
        form = QFormLayout()
        self.reason = QComboBox()
        for r in VoidReason:
            self.reason.addItem(f"{r.label} ({r.value})", r.value)
        suggested = suggested_void_reason(warning_codes)
        self.reason.setCurrentIndex(self.reason.findData(suggested.value))
        form.addRow("&Reason", self.reason)
        self.note = ReturnAcceptsPlainTextEdit()
        self.note.setPlaceholderText("What you saw (required for 'Other'). Enter confirms, Shift+Enter for a new line.")
        self.note.setFixedHeight(80)
        self.note.accepted.connect(self._try_accept)
        form.addRow("&Note", self.note)
        lay.addLayout(form)
        self.problem, self.ok = _problem_and_buttons(lay, "&Void citation", self._try_accept, self.reject)
        self.reason.setFocus()

    @property
    def reason_code(self) -> str:
        return str(self.reason.currentData())

    @property
    def note_text(self) -> str:
        return self.note.toPlainText().strip()

    def _try_accept(self) -> None:
        if VoidReason(self.reason_code).needs_note and not self.note_text:
            self.problem.setText("Write a note: 'Other' needs one.")
            self.note.setFocus()
            return
        self.accept()


class CorrectDialog(QDialog):
    """Which field, its new value, and why."""

    def __init__(self, citation_number: str, current: dict[str, str], codes: list[tuple[str, str, int]],
                 parent: QWidget | None = None, field: str | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Correct citation {citation_number}")
        self.setMinimumWidth(460)
        self.current = current
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.field = QComboBox()
        for f in CorrectableField:
            self.field.addItem(f.label, f.value)
        form.addRow("&Field", self.field)
        self.was = QLabel()
        self.was.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("Now", self.was)
        self.value = QComboBox()
        self.value.setEditable(True)
        self.value.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.codes = codes
        form.addRow("&New value", self.value)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Why (e.g. photo 1 shows 7ABC128)")
        form.addRow("&Reason", self.reason)
        lay.addLayout(form)
        self.problem, _ok = _problem_and_buttons(lay, "&Correct", self._try_accept, self.reject)
        self.field.currentIndexChanged.connect(self._field_changed)
        if field is not None:
            self.field.setCurrentIndex(max(0, self.field.findData(field)))
        self._field_changed()
        self.value.setFocus()

    def _field_changed(self) -> None:
        which = self.field_name
        self.was.setText(self.current.get(which) or "—")
        self.value.clear()
        if which == CorrectableField.VIOLATION_CODE.value:
            for code, description, fine in self.codes:
                self.value.addItem(f"{code}  {description}  ${fine / 100:,.2f}", code)
        self.value.setEditText("")
        line = self.value.lineEdit()
        if line is not None:
            line.setPlaceholderText("choose or type a code" if which == "violation_code" else "new value")

    @property
    def field_name(self) -> str:
        return str(self.field.currentData())

    @property
    def new_value(self) -> str:
        text = self.value.currentText().strip()
        index = self.value.findText(text)
        if index >= 0 and self.value.itemData(index):
            return str(self.value.itemData(index))
        return text.split()[0] if self.field_name == "violation_code" and text else text

    @property
    def reason_text(self) -> str:
        return self.reason.text().strip()

    def _try_accept(self) -> None:
        if not self.new_value:
            self.problem.setText("Give the new value.")
            self.value.setFocus()
            return
        if not self.reason_text:
            self.problem.setText("Say why you correct it.")
            self.reason.setFocus()
            return
        self.accept()


__all__ = ["CorrectDialog", "ReturnAcceptsPlainTextEdit", "VoidDialog"]
