"""Administration › Settings › Agency identity: the issuing authority of each profile's documents, as a
form instead of the raw `agency.identity` setting."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QLabel, QTabWidget, QVBoxLayout, QWidget

from desktop.services.core import agency
from desktop.ui.common.identity_form import IdentityForm
from desktop.ui.common.operations import Changes, Mutation
from desktop.ui.common.screen_fit import fit_to_screen
from desktop.ui.common.widgets import ok_cancel


class IdentityDialog(QDialog):
    """Administration › Settings › Agency identity: one tab per profile the office runs cases under.
    Saved in one transaction (a refused field leaves every profile as it was); only the fields changed are
    written. Signal: `saved()`."""

    saved = Signal()

    def __init__(self, ctx: Any, identities: list[agency.ProfileIdentity], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Agency identity")
        lay = QVBoxLayout(self)
        intro = QLabel("As the notices, letters and hearing packets of each profile print it (* must be filled "
                       "in). A field of the home profile left as it is keeps following its setting.")
        intro.setWordWrap(True)
        lay.addWidget(intro)
        self.tabs = QTabWidget()
        self.forms: dict[str, IdentityForm] = {}
        for pi in identities:
            form = IdentityForm(pi.code, pi.profile_name, pi.law_names_tribunal)
            form.set_values(pi.values)
            self.forms[pi.code] = form
            short = pi.profile_name.split(" (")[0]  # "England", not its statute in brackets
            title = f"{pi.code}: {short}" + (" (incomplete)" if pi.missing else "")
            self.tabs.addTab(form, title)
            self.tabs.setTabToolTip(self.tabs.count() - 1, pi.profile_name)
        lay.addWidget(self.tabs)
        missing = [f"{pi.code} lacks {', '.join(pi.missing)}" for pi in identities if pi.missing]
        self.problem = QLabel("Notices cannot be printed until this is filled in: " + "; ".join(missing) + "."
                              if missing else "")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color:#a61b1b")
        lay.addWidget(self.problem)
        lay.addWidget(ok_cancel(self.save, self.reject, "Save"))
        fit_to_screen(self, 880, 480)

    def save(self) -> None:
        forms = {code: form.values(keep_empty=True) for code, form in self.forms.items()}

        def done(changed: dict[str, list[str]]) -> None:
            self.ctx.info("Agency identity saved: " + "; ".join(f"{c} ({len(k)} field{'s' if len(k) != 1 else ''})"
                                                              for c, k in changed.items()) + "."
                          if changed else "Nothing changed in the agency identity.")
            self.saved.emit()
            self.accept()

        def failed(exc: BaseException) -> None:
            self.problem.setText(str(exc))  # the dialog stays open with what was typed
            self.ctx.error(exc)

        Mutation(self.ctx, self, lambda _c: agency.update_identities(self.ctx.app, self.ctx.actor, forms),
                 changes=Changes(settings=True), success=done, failure=failed).run()
