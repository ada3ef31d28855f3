"""The agency identity form (one profile's issuing authority as its documents print it), used by the
first-run wizard and by Administration › Settings › Agency identity."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QWidget,
)


class FileField(QWidget):
    """A path with a Choose… button."""

    def __init__(self, caption: str, filters: str = "", *, save: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption, self.filters, self.save = caption, filters, save
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit()
        button = QPushButton("Choose…")
        button.clicked.connect(lambda _c=False: self.choose())
        lay.addWidget(self.edit, 1)
        lay.addWidget(button)

    def choose(self) -> None:
        pick = QFileDialog.getSaveFileName if self.save else QFileDialog.getOpenFileName
        path, _ = pick(self, self.caption, self.edit.text(), self.filters)
        if path:
            self.edit.setText(path)

    def text(self) -> str:
        return self.edit.text().strip()



class IdentityForm(QWidget):
    """One profile's issuing authority, as its documents print it."""

    def __init__(self, code: str, name: str, has_tribunal: bool) -> None:
        super().__init__()
        self.code = code
        grid = QGridLayout(self)
        self.name = QLineEdit()
        self.department = QLineEdit()
        self.address = QPlainTextEdit()
        self.address.setPlaceholderText("one line per line of the envelope")
        self.address.setFixedHeight(64)
        self.phone = QLineEdit()
        self.web_url = QLineEdit()
        self.pay_url = QLineEdit()
        self.pay_url.setPlaceholderText("https://pay.example.gov/c/{citation_number}")
        self.email = QLineEdit()
        self.office_hours = QLineEdit()
        self.logo = FileField("The agency's logo", "Images (*.png *.jpg *.jpeg)")
        self.tribunal = QLineEdit()
        self.tribunal_web = QLineEdit()
        left = [("Name of the authority *", self.name), ("Department", self.department),
                ("Return address *", self.address), ("Telephone *", self.phone)]
        right = [("Web address *", self.web_url), ("Online payment link *", self.pay_url), ("E-mail", self.email),
                 ("Office hours", self.office_hours), ("Logo (PNG or JPEG)", self.logo)]
        if not has_tribunal:
            right += [("Tribunal (next appeal level) *", self.tribunal), ("Tribunal's web address", self.tribunal_web)]
        for col, rows in ((0, left), (1, right)):
            form = QFormLayout()
            for label, widget in rows:
                form.addRow(label, widget)
            grid.addLayout(form, 0, col, Qt.AlignmentFlag.AlignTop)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        grid.setRowStretch(1, 1)  # the rows keep their height; the space left stays below them
        self.has_tribunal = has_tribunal
        self.tribunal_address: list[str] = []

    def set_values(self, values: dict[str, Any]) -> None:
        """Fill the form from an identity (`agency.identity(...)`: every field present)."""
        self.name.setText(values.get("name") or "")
        self.department.setText(values.get("department") or "")
        self.address.setPlainText("\n".join(values.get("address") or []))
        self.phone.setText(values.get("phone") or "")
        self.web_url.setText(values.get("web_url") or "")
        self.pay_url.setText(values.get("pay_url") or "")
        self.email.setText(values.get("email") or "")
        self.office_hours.setText(values.get("office_hours") or "")
        self.logo.edit.setText(values.get("logo_path") or "")
        tribunal = values.get("tribunal") or {}
        self.tribunal.setText(tribunal.get("name") or "")
        self.tribunal_web.setText(tribunal.get("web_url") or "")
        self.tribunal_address = list(tribunal.get("address") or [])  # not on the form: kept as it is
        for edit in self.findChildren(QLineEdit):
            edit.setCursorPosition(0)  # a long line shows its start, not its end

    def values(self, *, keep_empty: bool = False) -> dict[str, Any]:
        """The fields as typed; without `keep_empty` the empty ones are left out (a new office), with it an
        emptied field is given as empty (an edit: the field is cleared)."""
        out: dict[str, Any] = {
            "name": self.name.text().strip(), "department": self.department.text().strip(),
            "address": [ln.strip() for ln in self.address.toPlainText().splitlines() if ln.strip()],
            "phone": self.phone.text().strip(), "web_url": self.web_url.text().strip(),
            "pay_url": self.pay_url.text().strip(), "email": self.email.text().strip(),
            "office_hours": self.office_hours.text().strip(), "logo_path": self.logo.text()}
        if not self.has_tribunal and (self.tribunal.text().strip() or keep_empty):
            out["tribunal"] = {"name": self.tribunal.text().strip(), "address": self.tribunal_address,
                               "web_url": self.tribunal_web.text().strip()}
        return out if keep_empty else {k: v for k, v in out.items() if v}
