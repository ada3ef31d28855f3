"""The Devices & Sync screen's endpoint dialogs: a field endpoint's name, address and certificate, and the
token asked for at Sync now (kept in the system keyring where there is one).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.errors import UserError
from desktop.services import sync as sync_service
from desktop.services.sync.endpoints import EndpointRow
from desktop.ui.common.operations import Changes, Mutation
from desktop.ui.common.widgets import ok_cancel
from desktop.ui.context import UiContext

# --------------------------------------------------------------------------- dialogs


def keyring_note() -> str:
    if sync_service.TOKENS.keyring_available():
        return "The token is kept in the system keyring."
    return ("This computer has no system keyring: the token is kept only until Curbdesk closes "
            "(never on disk). Automatic sync needs it entered once per session.")


class TokenDialog(QDialog):
    """Asks for an endpoint's token (shown as dots), with the choice to keep it in the keyring."""

    def __init__(self, endpoint: EndpointRow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Token for {endpoint.name}")
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(f"The field endpoint <b>{endpoint.name}</b> ({endpoint.url}) needs its access token."))
        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("bearer token")
        lay.addWidget(self.token)
        self.remember = QCheckBox("Keep it in the system keyring")
        self.remember.setChecked(sync_service.TOKENS.keyring_available())
        self.remember.setEnabled(sync_service.TOKENS.keyring_available())
        lay.addWidget(self.remember)
        note = QLabel(keyring_note())
        note.setWordWrap(True)
        note.setStyleSheet("color:#555")
        lay.addWidget(note)
        buttons = ok_cancel(self.accept, self.reject)
        lay.addWidget(buttons)


class EndpointDialog(QDialog):
    """Add or change a field endpoint: name, address, CA bundle, automatic sync, token."""

    saved = Signal(int)

    def __init__(self, ctx: UiContext, endpoint: EndpointRow | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.endpoint = endpoint
        self.setWindowTitle("Field endpoint" if endpoint is None else f"Field endpoint — {endpoint.name}")
        self.setMinimumWidth(520)
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.name = QLineEdit(endpoint.name if endpoint else "")
        self.url = QLineEdit(endpoint.url if endpoint else "https://")
        self.url.setPlaceholderText("https://fleet-gateway.example.org (plain http only for 127.0.0.1)")
        self.ca = QLineEdit(endpoint.ca_bundle or "" if endpoint else "")
        self.ca.setPlaceholderText("optional: PEM file of the CA that signed the gateway's certificate")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        ca_row = QHBoxLayout()
        ca_row.addWidget(self.ca, 1)
        ca_row.addWidget(browse)
        self.minutes = QSpinBox()
        self.minutes.setRange(0, 1440)
        self.minutes.setSuffix(" min")
        self.minutes.setSpecialValueText("off")
        self.minutes.setValue(endpoint.auto_sync_minutes if endpoint else 0)
        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("unchanged" if endpoint else "bearer token")
        self.remember = QCheckBox("Keep the token in the system keyring")
        self.remember.setChecked(sync_service.TOKENS.keyring_available())
        self.remember.setEnabled(sync_service.TOKENS.keyring_available())
        form.addRow("&Name", self.name)
        form.addRow("&Address", self.url)
        form.addRow("&CA bundle", ca_row)
        form.addRow("Automatic &sync every", self.minutes)
        form.addRow("&Token", self.token)
        form.addRow("", self.remember)
        lay.addLayout(form)
        note = QLabel(keyring_note())
        note.setWordWrap(True)
        note.setStyleSheet("color:#555")
        lay.addWidget(note)
        self.error = QLabel("")
        self.error.setStyleSheet("color:#b71c1c")
        self.error.setWordWrap(True)
        lay.addWidget(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)

    def save(self) -> None:
        """Save through the task runner; the dialog closes only when the endpoint was saved."""
        values = self.values()
        app, actor = self.ctx.app, self.ctx.actor
        endpoint_id = self.endpoint.id if self.endpoint else None
        self.buttons.setEnabled(False)
        self.error.setText("Saving…")

        def failed(exc: BaseException) -> None:
            self.buttons.setEnabled(True)
            if isinstance(exc, UserError):
                self.error.setText(str(exc))
            else:
                self.error.setText("")
                self.ctx.error(exc)

        def done(result: tuple[int, str | None]) -> None:
            self.saved.emit(result[0])
            self.accept()

        Mutation(self.ctx, self, lambda _c: sync_service.save_endpoint(app, actor, endpoint_id, **values),
                 changes=Changes(sync=True), success=done, failure=failed).run()

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "CA bundle", "", "Certificates (*.pem *.crt *.cer);;All (*)")
        if path:
            self.ca.setText(path)

    def values(self) -> dict[str, Any]:
        return {"name": self.name.text().strip(), "url": self.url.text().strip(),
                "ca_bundle": self.ca.text().strip() or None, "auto_sync_minutes": self.minutes.value(),
                "token": self.token.text() or None, "remember_token": self.remember.isChecked()}
