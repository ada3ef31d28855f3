"""The Administration screen says what each role may do there: a supervisor is told why the Users list is
empty, a clerk is not told to double-click what cannot be changed; settings are read in words (their labels,
lists as lines), and the profile form shows stage names and money, not codes and cents."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select

from desktop.domain.roles import Role
from desktop.persistence.models import JurisdictionProfileVersion
from desktop.services.core import settings as settings_service
from desktop.services.core.context import AppContext
from desktop.ui.admin.view import FORM_COLUMNS, AdminView
from desktop.ui.common.messages import MessageChannel
from desktop.ui.common.tasks import TaskRunner
from desktop.ui.context import UiContext
from tests.conftest import seed_users

LA = ZoneInfo("America/Los_Angeles")


@pytest.fixture
def runner(qtbot):  # type: ignore[no-untyped-def]
    r = TaskRunner()
    yield r
    r.wait_all(10000)


def _view(qtbot, app: AppContext, actor, runner: TaskRunner) -> AdminView:  # type: ignore[no-untyped-def]
    view = AdminView(UiContext(app=app, actor=actor, runner=runner, messages=MessageChannel(interactive=False), tz=LA))
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.settings.loaded, timeout=10000):
        view.activate()
    return view


def test_a_supervisor_is_told_why_there_are_no_users(qtbot, app, runner) -> None:
    actors = seed_users(app)
    view = _view(qtbot, app, actors[Role.SUPERVISOR], runner)
    assert view.users.table.rowCount() == 0
    note = view.users.note.text()
    assert "administrator" in note and "Supervisor" in note
    admin = _view(qtbot, app, actors[Role.ADMIN], runner)
    qtbot.waitUntil(lambda: admin.users.table.rowCount() == len(Role), timeout=10000)
    assert admin.users.note.text() == ""


def test_read_only_settings_say_so_and_read_in_words(qtbot, app, runner) -> None:
    actors = seed_users(app)
    clerk = _view(qtbot, app, actors[Role.CLERK], runner).settings
    assert "double-click" not in clerk.intro.text().lower() and "read only" in clerk.intro.text().lower()
    keys = [clerk.table.item(r, clerk.KEY).text() for r in range(clerk.table.rowCount())]
    row = keys.index("agency.address")
    assert clerk.table.item(row, 0).text() == "The return address, one line per item"
    assert clerk.table.item(row, 1).text() == "PO Box 30420; Los Angeles, CA 90030-0420"
    assert clerk.table.item(keys.index("agency.counter_address"), 1).text() == "(none)"
    assert "[]" not in [clerk.table.item(r, 1).text() for r in range(clerk.table.rowCount())]
    admin = _view(qtbot, app, actors[Role.ADMIN], runner).settings
    assert "double-click a value to change it" in admin.intro.text().lower()
    # a list is edited as lines separated by ";"
    row = keys.index("agency.counter_address")
    admin.table.item(row, 1).setText("Room 101; 100 N Main St")
    qtbot.waitUntil(lambda: settings_service.read(app, "agency.counter_address") == ["Room 101", "100 N Main St"],
                    timeout=10000)


def test_the_profile_form_shows_stage_names_and_money(qtbot, app, runner) -> None:
    actors = seed_users(app)
    view = _view(qtbot, app, actors[Role.ADMIN], runner)
    tab = view.profiles
    qtbot.waitUntil(lambda: bool(tab.versions), timeout=10000)
    ca = next(i for i, v in enumerate(tab.versions) if v.code == "CA")
    tab.list.selectRow(ca)
    keys = [k for k, _t in FORM_COLUMNS]
    stage, penalty = keys.index("key"), keys.index("penalty.fixed_cents")
    texts = [tab.form.item(r, stage).text() for r in range(tab.form.rowCount())]
    assert "delinquent_notice" not in texts and any("delinquent" in t.lower() for t in texts)
    assert all("_" not in t for t in texts)
    eng = next(i for i, v in enumerate(tab.versions) if v.code == "ENG")
    tab.list.selectRow(eng)  # a profile's penalties are in its own currency
    assert {tab.form.item(r, penalty).text() for r in range(tab.form.rowCount())} == {"£0.00"}
    nyc = next(i for i, v in enumerate(tab.versions) if v.code == "NYC")
    tab.list.selectRow(nyc)
    assert tab.form.item(1, penalty).text() == "$10.00"
    tab.form.item(1, penalty).setText("$15.00")
    tab.reason.setText("Council resolution 2026-12")
    with qtbot.waitSignal(tab.saved, timeout=10000):
        tab.save()
    with app.db.reading() as s:
        row = s.scalars(select(JurisdictionProfileVersion).where(JurisdictionProfileVersion.code == "NYC",
                                                                 JurisdictionProfileVersion.version == 2)).one()
    assert row.definition["stages"][1]["penalty"] == {"fixed_cents": 1500}


def test_the_agency_identity_is_a_form_not_raw_json(qtbot, app, runner) -> None:  # type: ignore[no-untyped-def]
    from desktop.services.core.agency import identity, save_identity
    from tests.helpers.identities import IDENTITIES

    actors = seed_users(app)
    with app.uow(actors[Role.ADMIN]) as uow:  # England's tribunal has an address the form does not show
        save_identity(uow.session, actors[Role.ADMIN], "ENG", IDENTITIES["ENG"], now=app.now())
        uow.commit()
    clerk = _view(qtbot, app, actors[Role.CLERK], runner).settings
    assert clerk.identity_button.isHidden()
    settings = _view(qtbot, app, actors[Role.ADMIN], runner).settings
    row = next(i for i, r in enumerate(settings.rows) if r.key == "agency.identity")
    value = settings.table.item(row, 1)
    assert not value.flags() & Qt.ItemFlag.ItemIsEditable  # its JSON is not typed in the table
    settings.table.itemDoubleClicked.emit(value)  # a double-click opens the form instead
    qtbot.waitUntil(lambda: settings.identity_dialog is not None and settings.identity_dialog.isVisible(),
                    timeout=10000)
    dialog = settings.identity_dialog
    assert dialog is not None
    tabs = [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())]
    assert tabs[0].startswith("CA: ") and "ENG: England" in tabs
    ca = dialog.forms["CA"]
    with app.db.reading() as s:
        assert ca.name.text() == identity(s, "CA")["name"]  # filled with what the documents print today
    with app.db.reading() as s:
        eng_before = identity(s, "ENG")
    assert eng_before["tribunal"]["address"]
    ca.phone.setText("(555) 010-0142")
    with qtbot.waitSignal(dialog.saved, timeout=10000):
        dialog.save()
    with app.db.reading() as s:
        assert identity(s, "CA")["phone"] == "(555) 010-0142"
        assert identity(s, "ENG") == eng_before  # a tab saved untouched loses nothing (the fields not on it)
