"""The first run of a real agency: a wizard that sets up the office (or joins one, or opens the demo).

Pages: what to do (set up a new office, join an office's existing database, or try the demo); the
jurisdiction profiles; the agency's identity per profile; the postal settings; the database (a local file or a
PostgreSQL server, tested off the GUI thread); the first administrator; reference data from files; then the
summary, where the office is made (`desktop.services.office_setup.set_up_office`, on the task runner with
progress) and the connection profile saved. Everything is checked by the services; each page shows their one
sentence and keeps what was typed. `main.py setup --config FILE.toml` does the same from a file.

`outcome` after the wizard closes: "demo", "office" (made; `db_url` set) or "joined" (`db_url` set).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from desktop.domain.errors import UserError
from desktop.paths import AppPaths
from desktop.persistence.connections import SSLMODES, ConnectionProfile, check_profile, save_profile
from desktop.services import office_setup
from desktop.services.office_setup import NewAccount, OfficePlan, ReferenceFile
from desktop.ui.accounts import POLICY_TEXT
from desktop.ui.common.identity_form import FileField, IdentityForm
from desktop.ui.common.operations import Query
from desktop.ui.common.progress import ProgressPanel
from desktop.ui.common.tasks import TaskRunner

P_START, P_PROFILES, P_IDENTITY, P_POSTAL, P_DATABASE, P_ADMIN, P_IMPORTS, P_CREATE = range(8)
TIMEZONES = ("America/Los_Angeles", "America/Denver", "America/Chicago", "America/New_York", "America/Phoenix",
             "America/Anchorage", "Pacific/Honolulu", "Europe/London")


def _error_label() -> QLabel:
    label = QLabel("")
    label.setWordWrap(True)
    label.setStyleSheet("color:#b71c1c")
    return label


def _note(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet("color:#555")
    return label


class Page(QWizardPage):
    def __init__(self, title: str, subtitle: str = "") -> None:
        super().__init__()
        self.setTitle(title)
        if subtitle:
            self.setSubTitle(subtitle)
        self.column = QVBoxLayout(self)
        self.error = _error_label()

    def finish_layout(self) -> None:
        self.column.addStretch(1)
        self.column.addWidget(self.error)

    def refuse(self, exc: BaseException) -> bool:
        self.error.setText(str(exc))
        return False


class StartPage(Page):
    def __init__(self) -> None:
        super().__init__("Welcome to Curbdesk", "No database is set up on this workstation yet. What would you like "
                                                "to do?")
        self.group = QButtonGroup(self)
        self.new = QRadioButton("Set up my agency: its name and letterhead, laws, postal settings, database and "
                                "first administrator")
        self.join = QRadioButton("Join my office's existing database (another workstation set it up)")
        self.demo = QRadioButton("Try the demo office: made-up data, marked DEMO everywhere (one click)")
        for n, b in enumerate((self.new, self.join, self.demo)):
            self.group.addButton(b, n)
            self.column.addWidget(b)
        # the demo is the default (README's first command opens it with one Enter); a real agency picks the first
        self.demo.setChecked(True)
        self.column.addWidget(_note("For scripted installs the same set-up runs from a file: main.py setup --config "
                                    "office.toml (main.py setup --example prints one)."))
        self.finish_layout()

    def nextId(self) -> int:  # noqa: N802
        if self.demo.isChecked():
            return -1
        return P_DATABASE if self.join.isChecked() else P_PROFILES


class ProfilesPage(Page):
    def __init__(self) -> None:
        super().__init__("Jurisdiction profiles", "The laws your cases run under: notice stages, deadlines, penalties. "
                                                  "Tick every one your office uses; the first ticked is for new cases.")
        self.boxes: dict[str, QCheckBox] = {}
        for p in office_setup.known_profiles():
            box = QCheckBox(f"{p.code}: {p.name}")
            self.boxes[p.code] = box
            self.column.addWidget(box)
        next(iter(self.boxes.values())).setChecked(True)
        form = QFormLayout()
        self.timezone = QComboBox()
        self.timezone.setEditable(True)
        self.timezone.addItems(TIMEZONES)
        form.addRow("Time zone of the agency", self.timezone)
        self.column.addLayout(form)
        self.finish_layout()

    def codes(self) -> tuple[str, ...]:
        return tuple(code for code, box in self.boxes.items() if box.isChecked())

    def validatePage(self) -> bool:  # noqa: N802
        if not self.codes():
            return self.refuse(UserError("Tick at least one jurisdiction profile."))
        self.error.setText("")
        return True


class IdentityPage(Page):
    def __init__(self, profiles: ProfilesPage) -> None:
        super().__init__("Your agency", "As the notices, letters and hearing packets print it: one issuing authority "
                                        "per profile (* must be filled in).")
        self.profiles = profiles
        self.tabs = QTabWidget()
        self.column.addWidget(self.tabs)
        self.forms: dict[str, IdentityForm] = {}
        self.finish_layout()

    def initializePage(self) -> None:  # noqa: N802
        known = {p.code: p for p in office_setup.known_profiles()}
        for code in self.profiles.codes():
            if code not in self.forms:
                p = known[code]
                self.forms[code] = IdentityForm(code, p.name, p.tribunal is not None)
        self.tabs.clear()
        for code in self.profiles.codes():
            self.tabs.addTab(self.forms[code], f"{code}: {known[code].name}")

    def identities(self) -> dict[str, dict[str, Any]]:
        return {code: self.forms[code].values() for code in self.profiles.codes()}

    def validatePage(self) -> bool:  # noqa: N802
        try:
            # the services' own checks (a logo that is not an image, a pay link without {citation_number}, the
            # fields the documents need), on a scratch database in memory: a few milliseconds
            office_setup.check_identities(self.profiles.codes(), self.identities())
        except UserError as exc:
            return self.refuse(exc)
        self.error.setText("")
        return True


class PostalPage(Page):
    def __init__(self) -> None:
        super().__init__("Mail", "The Intelligent Mail barcode on every mailed notice (USPS). The Mailer ID is on the "
                                 "Business Customer Gateway.")
        form = QFormLayout()
        self.mailer_id = QLineEdit()
        self.mailer_id.setPlaceholderText("6 digits, or 9 starting with 9")
        self.correction = QComboBox()
        for value, text in (("none", "None (service type 300: First-Class Mail, no extra services)"),
                            ("basic", "Basic: OneCode ACS (service type 230)"),
                            ("full_service", "Full-Service ACS (service type 320)")):
            self.correction.addItem(text, value)
        self.service_type = QLineEdit("")
        self.service_type.setPlaceholderText("empty: set by the address correction")
        self.barcode_id = QLineEdit("00")
        form.addRow("USPS Mailer ID *", self.mailer_id)
        form.addRow("Address correction (ACS)", self.correction)
        form.addRow("Service type (override)", self.service_type)
        form.addRow("Barcode identifier", self.barcode_id)
        self.column.addLayout(form)
        self.column.addWidget(_note("The service type follows the address correction the post office provides; "
                                    "give one only to override it. 00: no presort endorsement."))
        self.finish_layout()

    def validatePage(self) -> bool:  # noqa: N802
        try:
            office_setup.check_postal(self.mailer_id.text().strip(), self.service_type.text().strip(),
                                      self.barcode_id.text().strip(), self.correction.currentData())
        except UserError as exc:
            return self.refuse(exc)
        self.error.setText("")
        return True


class DatabasePage(Page):
    """The database: a local file, or a PostgreSQL server (tested on the task runner before Next)."""

    def __init__(self, runner: TaskRunner, paths: AppPaths, start: StartPage) -> None:
        super().__init__("Database", "One workstation: a local file. An office of several workstations: its "
                                     "PostgreSQL server.")
        self.runner, self.start = runner, start
        self.local = QRadioButton("A local file on this workstation")
        self.server = QRadioButton("A PostgreSQL server shared by the office")
        self.local.setChecked(True)
        self.path = FileField("The office's database file", "SQLite (*.sqlite3)", save=True)
        self.path.edit.setText(str(paths.data_dir / "curbdesk.sqlite3"))
        self.column.addWidget(self.local)
        self.column.addWidget(self.path)
        self.column.addWidget(self.server)
        self.pg = QWidget()
        grid = QGridLayout(self.pg)
        self.host = QLineEdit()
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(5432)
        self.database = QLineEdit("curbdesk")
        self.user = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.remember = QCheckBox("Keep the password in the system keyring")
        self.remember.setChecked(True)
        self.sslmode = QComboBox()
        self.sslmode.addItems(["", *SSLMODES])
        self.sslrootcert = FileField("The office's CA certificate", "Certificates (*.pem *.crt)")
        self.sslcert = FileField("Client certificate", "Certificates (*.pem *.crt)")
        self.sslkey = FileField("Client key", "Keys (*.key *.pem)")
        rows = [("Host", self.host), ("Port", self.port), ("Database", self.database), ("User", self.user),
                ("Password", self.password), ("", self.remember)]
        tls = [("TLS (sslmode)", self.sslmode), ("CA certificate", self.sslrootcert),
               ("Client certificate", self.sslcert), ("Client key", self.sslkey)]
        for col, group in ((0, rows), (2, tls)):
            for row, (label, widget) in enumerate(group):
                grid.addWidget(QLabel(label), row, col)
                grid.addWidget(widget, row, col + 1)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        self.column.addWidget(self.pg)
        test_row = QHBoxLayout()
        self.test_button = QPushButton("Test the connection")
        self.test_button.clicked.connect(lambda _c=False: self.test())
        test_row.addWidget(self.test_button)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        test_row.addWidget(self.status, 1)
        self.column.addLayout(test_row)
        self.local.toggled.connect(self._kind_changed)
        self.tested: Any = None
        self.testing = False
        self._kind_changed()
        self.finish_layout()

    def _kind_changed(self) -> None:
        self.pg.setEnabled(self.server.isChecked())
        self.path.setEnabled(self.local.isChecked())
        self.tested = None
        self.status.setText("")
        self.completeChanged.emit()

    def profile(self) -> ConnectionProfile:
        if self.local.isChecked():
            return ConnectionProfile(kind="sqlite", path=self.path.text())
        return ConnectionProfile(host=self.host.text(), port=self.port.value(), database=self.database.text(),
                                 user=self.user.text(), sslmode=self.sslmode.currentText(),
                                 sslrootcert=self.sslrootcert.text(), sslcert=self.sslcert.text(),
                                 sslkey=self.sslkey.text())

    def test(self) -> None:
        try:
            profile = check_profile(self.profile())
        except UserError as exc:
            self.refuse(exc)
            return
        password = self.password.text() or None
        self.error.setText("")
        self.status.setText("Connecting…")
        self.testing = True
        self.test_button.setEnabled(False)

        def done(state: Any) -> None:
            self.testing = False
            self.test_button.setEnabled(True)
            self.tested = (profile, state)
            self.status.setText(state.sentence(profile))
            self.status.setStyleSheet("color:#b71c1c" if state.state == "foreign" else "color:#1b5e20")
            self.completeChanged.emit()

        def failed(exc: BaseException) -> None:
            self.testing = False
            self.test_button.setEnabled(True)
            self.tested = None
            self.status.setText("")
            self.refuse(exc if isinstance(exc, UserError) else UserError(f"The test failed: {exc}"))
            self.completeChanged.emit()

        Query(self.runner, self, lambda _c: office_setup.test_connection(profile, password),
              success=done, failure=failed).run()

    def validatePage(self) -> bool:  # noqa: N802
        joining = self.start.join.isChecked()
        if self.tested is None:
            if self.local.isChecked() and not joining:
                try:
                    check_profile(self.profile())
                except UserError as exc:
                    return self.refuse(exc)
                if Path(self.path.text()).exists():
                    return self.refuse(UserError(f"{self.path.text()} already exists: choose a new file name."))
                return True
            return self.refuse(UserError("Test the connection first."))
        _profile, state = self.tested
        try:
            changed = check_profile(self.profile()) != _profile
        except UserError as exc:
            return self.refuse(exc)
        if changed:
            return self.refuse(UserError("The settings changed since the test: test the connection again."))
        if joining and state.state != "curbdesk":
            return self.refuse(UserError("There is no Curbdesk office in that database to join: check the database "
                                         "name, or go back and set up a new office."))
        if not joining and state.state in ("curbdesk", "foreign"):
            return self.refuse(UserError(state.sentence(_profile) if state.state == "foreign" else
                                         "That database already holds an office: go back and choose Join."))
        return True

    def nextId(self) -> int:  # noqa: N802
        return -1 if self.start.join.isChecked() else P_ADMIN


class AdminPage(Page):
    def __init__(self) -> None:
        super().__init__("First administrator", "The first account; it adds everyone else (Administration › Users).")
        form = QFormLayout()
        self.username = QLineEdit("admin")
        self.full_name = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.again = QLineEdit()
        self.again.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("Username", self.username)
        form.addRow("Full name", self.full_name)
        form.addRow("Password", self.password)
        form.addRow("Password again", self.again)
        self.column.addLayout(form)
        self.column.addWidget(_note(POLICY_TEXT))
        self.finish_layout()

    def account(self) -> NewAccount:
        return NewAccount(self.username.text().strip(), self.full_name.text().strip(), "admin", self.password.text())

    def validatePage(self) -> bool:  # noqa: N802
        if self.password.text() != self.again.text():
            return self.refuse(UserError("The two passwords differ; type the password twice."))
        a = self.account()
        try:
            from desktop.services.admin import users  # lazy: loaded already by the services above, under 1 ms

            users.check_username(a.username)
            if not a.full_name:
                raise UserError("Enter the administrator's full name.")
            users.check_password_policy(a.password, a.username, a.full_name)
        except UserError as exc:
            return self.refuse(exc)
        self.error.setText("")
        return True


class ImportsPage(Page):
    KINDS = (("fines", "Violation codes and fines (CSV)", "CSV (*.csv)"),
             ("zones", "Zones and their parking rules (GeoJSON)", "GeoJSON (*.geojson *.json)"),
             ("permits", "Parking permits (CSV)", "CSV (*.csv)"),
             ("owners", "Registered owners (CSV)", "CSV (*.csv)"))

    def __init__(self) -> None:
        super().__init__("Reference data (optional)", "Files from your systems, imported with the office. A file with "
                                                       "a bad line is refused with every bad line named, and nothing is "
                                                       "set up; fix it and try again, or leave it for later.")
        form = QFormLayout()
        self.fields: dict[str, FileField] = {}
        for kind, label, filters in self.KINDS:
            self.fields[kind] = FileField(label, filters)
            form.addRow(label, self.fields[kind])
        self.zone_prefix = QLineEdit("Z")
        form.addRow("Code prefix for zones without a code", self.zone_prefix)
        self.column.addLayout(form)
        self.column.addWidget(_note("The same imports are on the command line later: main.py import fines | zones | "
                                    "permits | owners FILE."))
        self.finish_layout()

    def files(self) -> tuple[ReferenceFile, ...]:
        return tuple(ReferenceFile(kind, Path(f.text()), self.zone_prefix.text().strip() or "Z")
                     for kind, f in self.fields.items() if f.text())


class CreatePage(Page):
    """The summary; Set up makes the office on the task runner, with progress."""

    def __init__(self, wizard: SetupWizard) -> None:
        super().__init__("Set up the office", "Check what will be made, then press Set up.")
        self.wiz = wizard
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.column.addWidget(self.summary)
        row = QHBoxLayout()
        self.go = QPushButton("Set up")
        self.go.clicked.connect(lambda _c=False: self.run())
        row.addWidget(self.go)
        self.panel = ProgressPanel(hide_when_idle=True, text_format=True)
        row.addWidget(self.panel, 1)
        self.column.addLayout(row)
        self.outcome = QLabel("")
        self.outcome.setWordWrap(True)
        self.column.addWidget(self.outcome)
        self.done = False
        self.finish_layout()

    def initializePage(self) -> None:  # noqa: N802
        w = self.wiz
        plan = w.plan()
        names = ", ".join(f"{c} ({plan.identities.get(c, {}).get('name', '?')})" for c in plan.profiles)
        files = "".join(f"<li>{r.kind}: {r.path.name}</li>" for r in plan.reference) or "<li>none</li>"
        self.summary.setText(
            f"<b>Profiles:</b> {names}<br><b>Time zone:</b> {plan.timezone}<br><b>Mailer ID:</b> {plan.mailer_id}"
            f"<br><b>Database:</b> {plan.database.display()}<br><b>Administrator:</b> {plan.admin.username} "
            f"({plan.admin.full_name})<br><b>Reference data:</b><ul>{files}</ul>")

    def isComplete(self) -> bool:  # noqa: N802
        return self.done

    def run(self) -> None:
        w = self.wiz
        plan = w.plan()
        self.go.setEnabled(False)
        self.error.setText("")

        def work(control: Any) -> Any:
            return office_setup.set_up_office(plan, w.paths, w.make_app,
                                              progress=lambda stage, done, total: control.step(done, total, stage))

        def finished(built: Any) -> None:
            where = save_profile(plan.database, plan.db_password, remember=w.database.remember.isChecked())
            w.db_url = built.db_url if plan.database.kind == "sqlite" else plan.database.url(plan.db_password)
            w.outcome = "office"
            lines = "".join(f"<li>{line}</li>" for line in built.imported)
            kept = {"keyring": " The database password is in the system keyring.",
                    "memory": " This workstation has no keyring: the database password is asked at each start.",
                    "none": ""}[where]
            key = (f"<p>Every workstation of the office needs its audit key, {w.paths.audit_key_file}: copy it to a "
                   "protected share and point each workstation at it (CURBDESK_AUDIT_KEY).</p>"
                   if plan.database.kind == "postgresql" else "")
            self.outcome.setText(f"<b>The office is set up</b> in {built.display}.{kept}<ul>{lines}</ul>{key}Press "
                                 f"Finish and sign in as {plan.admin.username}.")
            self.done = True
            cancel = w.button(QWizard.WizardButton.CancelButton)
            cancel.setEnabled(False)  # the office exists now: Finish opens it
            self.completeChanged.emit()

        def failed(exc: BaseException) -> None:
            self.go.setEnabled(True)
            self.refuse(exc if isinstance(exc, UserError) else UserError(f"The set-up failed: {exc}"))

        Query(self.runner_host(), self, work, success=finished, failure=failed) \
            .with_progress(self.panel, "Setting up…", cancellable=False).run()

    def runner_host(self) -> TaskRunner:
        return self.wiz.runner


class SetupWizard(QWizard):
    """The first-run wizard. `outcome`: "demo", "office" or "joined" after it was accepted (`db_url` set for the
    last two); `make_app(db)` builds the application context (the composition root's, injected)."""

    def __init__(self, runner: TaskRunner, paths: AppPaths, make_app: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner, self.paths, self.make_app = runner, paths, make_app
        self.outcome = ""
        self.db_url = ""
        self.setWindowTitle("Curbdesk — first run")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.resize(960, 640)
        self.start = StartPage()
        self.profiles = ProfilesPage()
        self.identity = IdentityPage(self.profiles)
        self.postal = PostalPage()
        self.database = DatabasePage(runner, paths, self.start)
        self.admin = AdminPage()
        self.imports = ImportsPage()
        self.create_page = CreatePage(self)
        for pid, page in ((P_START, self.start), (P_PROFILES, self.profiles), (P_IDENTITY, self.identity),
                          (P_POSTAL, self.postal), (P_DATABASE, self.database), (P_ADMIN, self.admin),
                          (P_IMPORTS, self.imports), (P_CREATE, self.create_page)):
            self.setPage(pid, page)
        self.setStartId(P_START)

    def plan(self) -> OfficePlan:
        return OfficePlan(
            profiles=self.profiles.codes(), identities=self.identity.identities(),
            database=self.database.profile(), admin=self.admin.account(),
            timezone=self.profiles.timezone.currentText().strip(), mailer_id=self.postal.mailer_id.text().strip(),
            address_correction=self.postal.correction.currentData(),
            service_type_id=self.postal.service_type.text().strip(), barcode_id=self.postal.barcode_id.text().strip(),
            db_password=self.database.password.text() or None, reference=self.imports.files())

    def accept(self) -> None:
        if self.start.demo.isChecked():
            self.outcome = "demo"
        elif self.start.join.isChecked():
            profile = check_profile(self.database.profile())
            password = self.database.password.text() or None
            save_profile(profile, password, remember=self.database.remember.isChecked())
            self.db_url = profile.url(password)
            self.outcome = "joined"
        super().accept()
