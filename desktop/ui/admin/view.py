"""Administration: jurisdiction profiles (a new version in force from a date), user accounts and the
agency's settings. Only an administrator changes them; others see them read-only."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.errors import UserError
from desktop.domain.ledger import format_cents, parse_money
from desktop.domain.roles import Permission, Role, allowed
from desktop.services.admin import profiles as profile_store
from desktop.services.admin import users
from desktop.services.admin.listing import list_settings, list_users
from desktop.services.admin.profiles import (
    apply_form_values,
    form_values,
    profile_changes,
    save_new_version,
    validate_definition,
)
from desktop.services.core import agency
from desktop.services.core import settings as settings_service
from desktop.ui import accounts
from desktop.ui.admin.activity import ActivityTab
from desktop.ui.admin.identity import IdentityDialog
from desktop.ui.common.operations import Changes, Mutation, Query
from desktop.ui.common.widgets import local_time, ok_cancel

#: The numbers of a stage shown in the form, with their column titles.
FORM_COLUMNS = [("key", "Stage"), ("trigger.days", "Starts (days)"), ("trigger.kind", "counted from"),
                ("notice_kind", "Notice"), ("penalty.fixed_cents", "Penalty"),
                ("penalty.percent_of_fine", "Penalty (% of fine)"), ("contest_deadline_days", "Contest within (days)"),
                ("final_deadline_days", "Last stage lasts (days)"), ("on_deadline", "When its time runs out")]
EDITABLE = {"trigger.days", "penalty.fixed_cents", "penalty.percent_of_fine", "contest_deadline_days",
            "final_deadline_days"}
TRIGGER_TEXT = {"days_after_issue": "the issue date", "days_after_previous_notice_mailed": "the last notice mailed"}


def _table(headers: list[str]) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setHorizontalHeaderLabels(headers)
    t.verticalHeader().setVisible(False)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    t.horizontalHeader().setStretchLastSection(True)
    return t


class ProfilesTab(QWidget):
    """Signals: `loaded(count)` when the versions are listed; `saved(version)` after a new version is stored;
    `validated(ok, text)` after Validate."""

    loaded = Signal(int)
    saved = Signal(object)
    validated = Signal(bool, str)

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.versions: list[Any] = []
        self.current: Any = None
        self.may_edit = allowed(ctx.actor.role, Permission.MANAGE_SETTINGS)
        lay = QHBoxLayout(self)
        split = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        left_lay = QVBoxLayout(left)
        left_lay.setContentsMargins(0, 0, 0, 0)
        left_lay.addWidget(QLabel("<b>Stored versions</b> — a case uses the version in force on its issue date."))
        self.list = _table(["Profile", "Version", "In force from", "Stages", "Cases", "Saved by"])
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list.itemSelectionChanged.connect(self._selected)
        left_lay.addWidget(self.list)
        split.addWidget(left)

        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel("")
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setWordWrap(True)
        rl.addWidget(self.title)
        self.editors = QTabWidget()
        self.form = _table([title for _k, title in FORM_COLUMNS])
        self.form.itemChanged.connect(lambda _i: setattr(self, "_form_dirty", True))
        discount = QWidget()
        dl = QFormLayout(discount)
        self.discount_percent, self.discount_days = QLineEdit(), QLineEdit()
        dl.addRow("Early-payment discount (%)", self.discount_percent)
        dl.addRow("…if paid within (days of issue)", self.discount_days)
        numbers = QWidget()
        nl = QVBoxLayout(numbers)
        nl.setContentsMargins(0, 0, 0, 0)
        nl.addWidget(self.form, 1)
        nl.addWidget(discount)
        self.editors.addTab(numbers, "Numbers")
        self.json = QPlainTextEdit()
        mono = QFont("Monospace")
        mono.setStyleHint(QFont.StyleHint.TypeWriter)
        self.json.setFont(mono)
        self.json.textChanged.connect(lambda: setattr(self, "_json_dirty", True))
        self.editors.addTab(self.json, "JSON (everything)")
        self.editors.currentChanged.connect(self._switched)
        rl.addWidget(self.editors, 1)
        row = QHBoxLayout()
        row.addWidget(QLabel("New version in force for cases issued from"))
        self.effective = QDateEdit()
        self.effective.setCalendarPopup(True)
        self.effective.setDisplayFormat("yyyy-MM-dd")
        tomorrow = ctx.app.now().astimezone(ctx.tz).date() + timedelta(days=1)
        self.effective.setDate(QDate(tomorrow.year, tomorrow.month, tomorrow.day))
        row.addWidget(self.effective)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("why (e.g. council resolution 2025-114)")
        row.addWidget(self.reason, 1)
        rl.addLayout(row)
        buttons = QHBoxLayout()
        self.feedback = QLabel("")
        self.feedback.setWordWrap(True)
        buttons.addWidget(self.feedback, 1)
        self.validate_button = QPushButton("Validate")
        self.validate_button.clicked.connect(lambda _c=False: self.validate())
        self.save_button = QPushButton("Save as new version")
        self.save_button.clicked.connect(lambda _c=False: self.save())
        buttons.addWidget(self.validate_button)
        buttons.addWidget(self.save_button)
        rl.addLayout(buttons)
        for w in (self.save_button, self.effective, self.reason):
            w.setEnabled(self.may_edit)
        if not self.may_edit:
            self.feedback.setText("Read only: only an administrator changes profiles.")
        split.addWidget(right)
        split.setSizes([420, 900])
        lay.addWidget(split)
        self._form_dirty = self._json_dirty = False

    # -------------------------------------------------------------- loading
    def refresh(self) -> None:
        app, actor = self.ctx.app, self.ctx.actor

        def work(_c: Any) -> tuple[list[Any], dict[Any, int]]:
            return profile_store.list_versions(app, actor), profile_store.cases_using(app, actor)

        Query(self.ctx, self, work, success=self._show_versions).run()

    def _show_versions(self, result: tuple[list[Any], dict[Any, int]]) -> None:
        versions, using = result
        self.versions = versions
        self.list.setRowCount(len(versions))
        for i, v in enumerate(versions):
            for col, text in enumerate([v.code, str(v.version), v.effective_from.isoformat(),
                                        str(len(v.profile.stages)), f"{using.get((v.code, v.version), 0):,}",
                                        v.created_by or "shipped"]):
                self.list.setItem(i, col, QTableWidgetItem(text))
        if versions and self.list.currentRow() < 0:
            self.list.selectRow(0)
        self.loaded.emit(len(versions))

    def _selected(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.versions):
            self.show_version(self.versions[row])

    def show_version(self, v: Any) -> None:
        self.current = v
        p = v.profile
        latest = max((x for x in self.versions if x.code == v.code), key=lambda x: x.effective_from)
        self.title.setText(f"<span style='font-size:13pt; font-weight:600'>{p.name}</span><br>"
                           f"<span style='color:#555'>{v.code} version {v.version}, in force from "
                           f"{v.effective_from.isoformat()}; time zone {p.timezone}; {p.currency}. "
                           f"{p.legal_basis}</span>"
                           + ("" if latest is v else "<br><b style='color:#8a5a00'>An older version: a new one is "
                                                      "made from what is shown here.</b>"))
        self._fill_form(v.definition)
        self.json.blockSignals(True)
        self.json.setPlainText(json.dumps(v.definition, indent=2, ensure_ascii=False))
        self.json.blockSignals(False)
        self._form_dirty = self._json_dirty = False
        self.feedback.setText("" if self.may_edit else "Read only: only an administrator changes profiles.")

    def _fill_form(self, definition: dict[str, Any]) -> None:
        rows = form_values(definition)
        self.form.blockSignals(True)
        self.form.setRowCount(len(rows))
        for i, values in enumerate(rows):
            for col, (key, _title) in enumerate(FORM_COLUMNS):
                raw = values.get(key)
                text = "" if raw is None else str(raw)
                if key == "trigger.kind":
                    text = TRIGGER_TEXT.get(str(raw), str(raw))
                if key in ("notice_kind", "on_deadline") and raw:
                    text = str(raw).replace("_", " ")
                if key == "key":  # the stage's name, its code only in the tooltip
                    text = str(values.get("name") or raw or "").replace("_", " ")
                if key == "penalty.fixed_cents":  # a stage's penalty, in the profile's currency
                    text = format_cents(int(raw or 0), str(definition["currency"]))
                item = QTableWidgetItem(text)
                if key == "key":
                    item.setToolTip(f"stage code {raw}")
                if key not in EDITABLE or not self.may_edit:
                    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                    item.setForeground(QBrush(QColor("#555555")))
                else:
                    item.setBackground(QBrush(QColor("#fffbe6")))
                self.form.setItem(i, col, item)
        discount = definition.get("discount") or {}
        self.discount_percent.setText(str(discount.get("percent", "")))
        self.discount_days.setText(str(discount.get("deadline_days", "")))
        for w in (self.discount_percent, self.discount_days):
            w.setEnabled(bool(discount) and self.may_edit)
        self.form.blockSignals(False)

    # -------------------------------------------------------------- editing
    def _form_numbers(self) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        rows = []
        for i in range(self.form.rowCount()):
            values: dict[str, Any] = {}
            for col, (key, title) in enumerate(FORM_COLUMNS):
                if key not in EDITABLE:
                    continue
                cell = self.form.item(i, col)
                text = (cell.text() if cell is not None else "").strip()
                if not text:
                    values[key] = None if key in ("contest_deadline_days", "final_deadline_days") else 0
                    continue
                if key == "penalty.fixed_cents":
                    values[key] = parse_money(text)  # "$15.00", "15" or "15.00"; a clear sentence if not
                    continue
                try:
                    values[key] = int(text)
                except ValueError:
                    raise UserError(f"Stage {i + 1}, '{title}': '{text}' is not a whole number.") from None
            rows.append(values)
        discount = None
        if self.discount_percent.isEnabled():
            try:
                discount = {"percent": int(self.discount_percent.text()),
                            "deadline_days": int(self.discount_days.text())}
            except ValueError:
                raise UserError("The discount needs a whole percent and a whole number of days.") from None
        return rows, discount

    def edited_definition(self) -> dict[str, Any]:
        """The definition as edited (the form's numbers applied over the JSON)."""
        data, _p = validate_definition(self.json.toPlainText(), self.current.code if self.current else None)
        if self._form_dirty or self.editors.currentIndex() == 0:
            rows, discount = self._form_numbers()
            data = apply_form_values(data, rows, discount)
        return data

    def _switched(self, index: int) -> None:
        try:
            if index == 1 and self._form_dirty:
                data = self.edited_definition()
                self.json.blockSignals(True)
                self.json.setPlainText(json.dumps(data, indent=2, ensure_ascii=False))
                self.json.blockSignals(False)
                self._form_dirty = False
            elif index == 0 and self._json_dirty:
                data, _p = validate_definition(self.json.toPlainText())
                self._fill_form(data)
                self._json_dirty = False
        except UserError as exc:
            self._say(False, str(exc))

    def _say(self, ok: bool, text: str) -> None:
        colour = "#2e7d32" if ok else "#b71c1c"
        self.feedback.setText(f"<span style='color:{colour}'>{'✔' if ok else '✖'} {text}</span>")
        self.validated.emit(ok, text)

    def validate(self) -> bool:
        if self.current is None:
            return False
        try:
            data = self.edited_definition()
            _d, profile = validate_definition(data, self.current.code)
        except UserError as exc:
            self._say(False, str(exc))
            return False
        changes = profile_changes(self.current.definition, data)
        self._say(True, f"Valid: {len(profile.stages)} stages. "
                  + (f"Changes: {'; '.join(changes[:4])}{' …' if len(changes) > 4 else ''}" if changes
                     else "No change from the version shown."))
        return True

    def save(self) -> None:
        if self.current is None or not self.validate():
            return
        data = self.edited_definition()
        code = self.current.code
        effective = date.fromisoformat(self.effective.date().toString("yyyy-MM-dd"))
        reason = self.reason.text()
        app, actor = self.ctx.app, self.ctx.actor

        def done(stored: Any) -> None:
            self._say(True, f"Saved {stored.code} version {stored.version}, in force for cases issued from "
                            f"{stored.effective_from.isoformat()}.")
            self.ctx.info(f"Profile {stored.code} version {stored.version} saved.")
            self.reason.clear()
            self.saved.emit(stored)

        def failed(exc: BaseException) -> None:
            if isinstance(exc, UserError):
                self._say(False, str(exc))
            else:
                self.ctx.error(exc)

        Mutation(self.ctx, self, lambda _c: save_new_version(app, actor, code, data, effective, reason),
                 changes=Changes(profiles=True), success=done, failure=failed).run()


class _RowsTab(QWidget):
    """A tab that lists `rows` in `table` (under an optional line of `intro`). Signal: `loaded(count)`."""

    loaded = Signal(int)

    def __init__(self, ctx: Any, headers: list[str], intro: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.rows: list[Any] = []
        self.column = QVBoxLayout(self)
        if intro:
            self.column.addWidget(QLabel(intro))
        self.table = _table(headers)
        self.column.addWidget(self.table)


class UsersTab(_RowsTab):
    """Signal: `loaded(count)`."""

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(ctx, ["Username", "Name", "Role", "Active", "Last sign-in", "Failed sign-ins"], "", parent)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        row = QHBoxLayout()
        self.add_button = QPushButton("Add user…")
        self.add_button.clicked.connect(lambda _c=False: self.add_user())
        self.toggle_button = QPushButton("Disable / enable…")
        self.toggle_button.clicked.connect(lambda _c=False: self.toggle())
        self.reset_button = QPushButton("Reset password…")
        self.reset_button.clicked.connect(lambda _c=False: self.reset_password())
        row.addWidget(self.add_button)
        row.addWidget(self.toggle_button)
        row.addWidget(self.reset_button)
        row.addStretch(1)
        self.column.addLayout(row)
        self.may = allowed(ctx.actor.role, Permission.MANAGE_USERS)
        for button in (self.add_button, self.toggle_button, self.reset_button):
            button.setEnabled(self.may)
        self.note = QLabel("" if self.may else (
            f"Only an administrator sees and manages user accounts; you are signed in as "
            f"{ctx.actor.role.label}. Ask an administrator to add a user, or to disable or enable one."))
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color:#8a5a00")
        self.note.setVisible(not self.may)
        self.column.insertWidget(0, self.note)
        self.table.setVisible(self.may)
        if not self.may:
            self.column.insertStretch(2, 1)  # the sentence at the top, the buttons at the bottom

    def refresh(self) -> None:
        if not self.may:
            self.table.setRowCount(0)
            self.loaded.emit(0)
            return
        Query(self.ctx, self, lambda _c: list_users(self.ctx.app, self.ctx.actor), success=self._show).run()

    def _show(self, rows: list[Any]) -> None:
        self.rows = rows
        self.table.setRowCount(len(rows))
        for i, u in enumerate(rows):
            for col, text in enumerate([u.username, u.full_name, Role(u.role).label, "yes" if u.active else "DISABLED",
                                        local_time(u.last_login_at, self.ctx.tz), str(u.failed_logins)]):
                item = QTableWidgetItem(text)
                if col == 3 and not u.active:
                    item.setForeground(QBrush(QColor("#b71c1c")))
                self.table.setItem(i, col, item)
        self.loaded.emit(len(rows))

    def add_user(self) -> None:
        dlg = QDialog(self)
        dlg.setWindowTitle("Add a user")
        form = QFormLayout(dlg)
        username, full, password = QLineEdit(), QLineEdit(), QLineEdit()
        password.setEchoMode(QLineEdit.EchoMode.Password)
        role = QComboBox()
        for r in Role:
            role.addItem(r.label, r.value)
        form.addRow("Username", username)
        form.addRow("Full name", full)
        form.addRow("Role", role)
        form.addRow("Password (10+ characters)", password)
        buttons = ok_cancel(dlg.accept, dlg.reject)
        form.addRow(buttons)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return
        args = (username.text().strip(), full.text().strip(), role.currentData(), password.text())
        Mutation(self.ctx, self, lambda _c: users.add_user(self.ctx.app, self.ctx.actor, *args),
                 changes=Changes(users=True), success=lambda _r: self.ctx.info(f"User {args[0]} added.")).run()

    def reset_password(self) -> None:
        row = self.table.currentRow()
        if not 0 <= row < len(self.rows):
            self.ctx.info("Select a user first.")
            return
        accounts.reset_password(self.ctx, self, self.rows[row].username)

    def toggle(self) -> None:
        row = self.table.currentRow()
        if not 0 <= row < len(self.rows):
            self.ctx.info("Select a user first.")
            return
        u = self.rows[row]
        reason, ok = QInputDialog.getText(self, "Enable" if not u.active else "Disable",
                                          f"Why {'enable' if not u.active else 'disable'} {u.username}?")
        if not ok:
            return
        Mutation(self.ctx, self,
                 lambda _c: users.set_active(self.ctx.app, self.ctx.actor, u.username, not u.active, reason),
                 changes=Changes(users=True)).run()


class SettingsTab(_RowsTab):
    """Signal: `loaded(count)`."""

    KEY = 3
    NONE = "(none)"

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        self.may = allowed(ctx.actor.role, Permission.MANAGE_SETTINGS)
        super().__init__(ctx, ["Setting", "Value", "Default", "Key"], "", parent)
        self.intro = QLabel(
            "Every setting is declared once with its type, default and help. Double-click a value to change it "
            "(a list: its lines separated by ';')." if self.may else
            f"Read only: only an administrator changes settings (you are signed in as {ctx.actor.role.label}).")
        self.intro.setWordWrap(True)
        self.column.insertWidget(0, self.intro)
        self.identity_button = QPushButton("Agency identity…")
        self.identity_button.setToolTip("The issuing authority of each profile's notices, letters and packets: "
                                        "name, return address, telephone, web and payment links, logo")
        self.identity_button.clicked.connect(lambda _c=False: self.edit_identity())
        self.identity_button.setVisible(self.may)
        row = QHBoxLayout()
        row.addWidget(self.identity_button)
        row.addStretch(1)
        self.column.insertLayout(1, row)
        self.identity_dialog: IdentityDialog | None = None
        self.table.itemChanged.connect(self._changed)
        self.table.itemDoubleClicked.connect(self._double_clicked)
        header = self.table.horizontalHeader()  # at 1366 wide the value must stay in view beside its label
        for col, width in enumerate([380, 330, 200]):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            self.table.setColumnWidth(col, width)

    def refresh(self) -> None:
        Query(self.ctx, self, lambda _c: list_settings(self.ctx.app, self.ctx.actor), success=self._show).run()

    @classmethod
    def _text(cls, value: Any) -> str:
        """A value as a clerk reads it: a list of lines joined by ';', "(none)" for an empty one."""
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return "; ".join(value) if value else cls.NONE
        if value in ({}, None, ""):
            return cls.NONE if value != "" else ""
        return json.dumps(value, ensure_ascii=False) if isinstance(value, (list, dict)) else str(value)

    def _show(self, rows: list[Any]) -> None:
        self.rows = rows
        self.table.blockSignals(True)
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            label = r.help[:1].upper() + r.help[1:]
            for col, text in enumerate([label, self._text(r.value), self._text(r.default), r.key]):
                item = QTableWidgetItem(text)
                if col != 1 or not self.may or r.key == agency.IDENTITY_SETTING:  # that one has its form
                    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                if col in (0, 1):
                    item.setToolTip(f"{r.key}: {r.help}")
                if col == self.KEY:
                    item.setForeground(QBrush(QColor("#777777")))
                self.table.setItem(i, col, item)
        self.table.blockSignals(False)
        self.loaded.emit(len(rows))

    def _double_clicked(self, item: QTableWidgetItem) -> None:
        if self.may and 0 <= item.row() < len(self.rows) and self.rows[item.row()].key == agency.IDENTITY_SETTING:
            self.edit_identity()

    def edit_identity(self) -> None:
        """The identity form of every profile the office runs, filled with what the documents print today."""
        def show(identities: list[agency.ProfileIdentity]) -> None:
            self.identity_dialog = IdentityDialog(self.ctx, identities, self)
            self.identity_dialog.saved.connect(self.refresh)
            self.identity_dialog.open()

        Query(self.ctx, self, lambda _c: agency.office_identities(self.ctx.app, self.ctx.actor), success=show).run()

    def _changed(self, item: QTableWidgetItem) -> None:
        if item.column() != 1 or not 0 <= item.row() < len(self.rows):
            return
        spec = self.rows[item.row()]
        text = item.text()
        value: Any = text
        lines = isinstance(spec.default, list) and all(isinstance(v, str) for v in spec.default) and \
            not text.strip().startswith("[")
        if spec.type_name == "list" and lines:
            value = [] if text.strip() in ("", self.NONE) else [p.strip() for p in text.split(";") if p.strip()]
        elif spec.type_name in ("list", "dict"):
            try:
                value = json.loads(text) if text.strip() not in ("", self.NONE) else type(spec.default)()
            except json.JSONDecodeError:
                self.ctx.error(UserError(f"{spec.key} takes a JSON {spec.type_name}."))
                self.refresh()
                return
        def failed(exc: BaseException) -> None:
            self.ctx.error(exc)
            self.refresh()  # the refused value leaves the table

        Mutation(self.ctx, self, lambda _c: settings_service.set_value(self.ctx.app, self.ctx.actor, spec.key, value),
                 changes=Changes(settings=True), success=lambda _r: self.ctx.info(f"{spec.key} saved."),
                 failure=failed).run()


class AdminView(QWidget):
    """The Administration area: Profiles, Users, Settings, Activity; each tab shows changes announced on the bus."""

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        self.tabs = QTabWidget()
        self.profiles = ProfilesTab(ctx)
        self.users = UsersTab(ctx)
        self.settings = SettingsTab(ctx)
        self.tabs.addTab(self.profiles, "Jurisdiction profiles")
        self.tabs.addTab(self.users, "Users")
        self.tabs.addTab(self.settings, "Settings")
        self.activity = ActivityTab(ctx)  # sign-ins, payments, syncs, runs... (administrators)
        self.tabs.addTab(self.activity, "Activity")
        self.tabs.currentChanged.connect(self._tab_shown)
        self.sign_ins = accounts.SignInEventsTab(ctx)
        self.tabs.addTab(self.sign_ins, "Sign-ins")
        lay.addWidget(self.tabs)
        self._loaded = False
        ctx.bus.subscribe(self, self._data_changed)

    def _data_changed(self, changes: Changes, _initiator: object) -> None:
        """A profile, user or setting changed: the tabs already shown read theirs again."""
        if not self._loaded:
            return
        if changes.profiles:
            self.profiles.refresh()
        if changes.users:
            self.users.refresh()
            self.sign_ins.refresh()
        if changes.settings:
            self.settings.refresh()

    def _tab_shown(self, index: int) -> None:
        if self._loaded and self.tabs.widget(index) is self.activity:
            self.activity.refresh(self.activity.page)  # what happened since it was last shown

    def activate(self) -> None:
        if not self._loaded:
            self._loaded = True
            self.profiles.refresh()
            self.users.refresh()
            self.settings.refresh()
            self.activity.refresh()
            self.sign_ins.refresh()
