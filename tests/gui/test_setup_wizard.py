"""The first-run wizard (issue 17, point 2): set up "City of Springfield" on a new PostgreSQL database with a
California profile, its fine schedule and zones imported; a logo that is not an image and an unreachable server
are refused on their page in one sentence; the demo is one click; a second workstation joins the office."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest
from PIL import Image
from sqlalchemy import func, select

from desktop.bootstrap import make_app_context
from desktop.paths import AppPaths
from desktop.persistence.connections import load_profile
from desktop.persistence.db import Database
from desktop.persistence.models import User, ViolationCode, Zone
from desktop.services.core import agency
from desktop.ui.common.tasks import TaskRunner
from desktop.ui.setup_wizard import P_ADMIN, P_CREATE, P_DATABASE, P_IDENTITY, P_IMPORTS, P_POSTAL, SetupWizard

ROOT = Path(__file__).resolve().parents[2]
FINES = ROOT / "tests" / "fixtures" / "springfield-fines.csv"
ZONES = ROOT.parent / "shared" / "data" / "parking_zones_meters" / "parking_regulations.geojson"


def _wizard(qtbot, tmp_path: Path) -> SetupWizard:  # type: ignore[no-untyped-def]
    paths = AppPaths(tmp_path / "data")
    runner = TaskRunner()
    wizard = SetupWizard(runner, paths, lambda db: make_app_context(db, paths))
    qtbot.addWidget(wizard)
    wizard.show()
    return wizard


def _fill_springfield(wizard: SetupWizard, tmp_path: Path) -> None:
    wizard.start.new.setChecked(True)
    wizard.next()  # set up my agency
    wizard.next()  # California, ticked already
    assert wizard.currentId() == P_IDENTITY
    form = wizard.identity.forms["CA"]
    form.name.setText("City of Springfield")
    form.address.setPlainText("PO Box 1000\nSpringfield, CA 95000-1000")
    form.phone.setText("(555) 010-0100")
    form.web_url.setText("springfield.example.gov/parking")
    form.pay_url.setText("https://pay.springfield.example.gov/c/{citation_number}")
    (tmp_path / "notes.png").write_text("not a picture")
    form.logo.edit.setText(str(tmp_path / "notes.png"))
    wizard.next()
    assert wizard.currentId() == P_IDENTITY
    assert "the logo notes.png is not a readable image" in wizard.identity.error.text()
    Image.new("RGB", (64, 64), (20, 60, 120)).save(tmp_path / "seal.png")
    form.logo.edit.setText(str(tmp_path / "seal.png"))
    wizard.next()
    assert wizard.currentId() == P_POSTAL
    wizard.postal.mailer_id.setText("12345")
    wizard.next()
    assert wizard.currentId() == P_POSTAL and "Mailer ID is 6 digits" in wizard.postal.error.text()
    wizard.postal.mailer_id.setText("123456")
    wizard.postal.correction.setCurrentIndex(wizard.postal.correction.findData("basic"))
    wizard.next()
    assert wizard.currentId() == P_DATABASE
    assert wizard.plan().address_correction == "basic" and wizard.plan().service_type_id == ""


def _admin_and_imports(wizard: SetupWizard) -> None:
    assert wizard.currentId() == P_ADMIN
    wizard.admin.full_name.setText("Pat Jones")
    wizard.admin.password.setText("password1")
    wizard.admin.again.setText("password1")
    wizard.next()
    assert wizard.currentId() == P_ADMIN and "at least 10" in wizard.admin.error.text()
    wizard.admin.password.setText("springfield admin 1")
    wizard.admin.again.setText("springfield admin 1")
    wizard.next()
    assert wizard.currentId() == P_IMPORTS
    wizard.imports.fields["fines"].edit.setText(str(FINES))
    wizard.imports.fields["zones"].edit.setText(str(ZONES))
    wizard.imports.zone_prefix.setText("Z-SPR")
    wizard.next()
    assert wizard.currentId() == P_CREATE


@pytest.mark.postgres
def test_springfield_on_postgresql_through_the_wizard(qtbot, tmp_path: Path, pg_server: str) -> None:
    if not ZONES.exists():
        pytest.skip("the shared data folder is missing")
    name = f"curbdesk_wiz_{uuid.uuid4().hex[:8]}"
    admin_url = pg_server.replace("postgresql+psycopg://", "postgresql://")
    wizard = _wizard(qtbot, tmp_path)
    try:
        _fill_springfield(wizard, tmp_path)
        page = wizard.database
        page.server.setChecked(True)
        page.host.setText("127.0.0.1")
        page.port.setValue(1)
        page.user.setText("postgres")
        page.database.setText(name)
        page.test()
        qtbot.waitUntil(lambda: not page.testing, timeout=15000)
        assert page.error.text().startswith("Nothing answers at 127.0.0.1:1")
        wizard.next()
        assert wizard.currentId() == P_DATABASE  # not without a successful test
        page.port.setValue(5432)
        page.sslmode.setCurrentText("prefer")
        page.test()
        qtbot.waitUntil(lambda: not page.testing, timeout=15000)
        assert "does not exist yet: the set-up creates it" in page.status.text()
        wizard.next()
        _admin_and_imports(wizard)
        create = wizard.create_page
        assert "City of Springfield" in create.summary.text() and "fines: springfield-fines.csv" in create.summary.text()
        assert not create.isComplete()
        create.go.click()
        qtbot.waitUntil(lambda: create.done or bool(create.error.text()), timeout=120000)
        assert create.done, create.error.text()
        assert "The office is set up" in create.outcome.text() and "1274 zones" in create.outcome.text()
        wizard.accept()
        assert wizard.outcome == "office" and name in wizard.db_url
        profile = load_profile()
        assert profile is not None and profile.database == name and profile.sslmode == "prefer"
        db = Database(wizard.db_url)
        try:
            with db.reading() as s:
                assert agency.identity(s, "CA")["name"] == "City of Springfield"
                assert s.scalar(select(func.count()).select_from(ViolationCode)) == 54
                assert s.scalar(select(func.count()).select_from(Zone)) == 1274
                assert list(s.scalars(select(User.username))) == ["admin"]
        finally:
            db.dispose()

        # a second workstation joins the same office
        other = _wizard(qtbot, tmp_path / "ws2")
        other.start.join.setChecked(True)
        other.next()
        assert other.currentId() == P_DATABASE
        other.database.server.setChecked(True)
        other.database.host.setText("127.0.0.1")
        other.database.user.setText("postgres")
        other.database.database.setText(name)
        other.database.test()
        qtbot.waitUntil(lambda: not other.database.testing, timeout=15000)
        assert "already holds a Curbdesk office" in other.database.status.text()
        assert other.database.validatePage()
        other.accept()
        assert other.outcome == "joined" and name in other.db_url
    finally:
        wizard.runner.wait_all(10000)
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_local_office_and_its_refusals(qtbot, tmp_path: Path) -> None:
    wizard = _wizard(qtbot, tmp_path)
    _fill_springfield(wizard, tmp_path)
    target = tmp_path / "office" / "springfield.sqlite3"
    wizard.database.path.edit.setText(str(target))
    wizard.next()
    _admin_and_imports(wizard)
    bad = tmp_path / "fines.csv"
    bad.write_text("code,description,fine\nA1,ok,10\nA2,,10\n")
    wizard.imports.fields["fines"].edit.setText(str(bad))
    wizard.imports.fields["zones"].edit.setText("")
    create = wizard.create_page
    create.initializePage()
    create.go.click()
    qtbot.waitUntil(lambda: bool(create.error.text()), timeout=60000)
    assert "The fines file fines.csv was refused, so nothing was set up" in create.error.text()
    assert "line 3: the description is empty" in create.error.text()
    assert not target.exists() and not create.done and create.go.isEnabled()
    wizard.imports.fields["fines"].edit.setText(str(FINES))
    create.initializePage()
    create.go.click()
    qtbot.waitUntil(lambda: create.done or bool(create.error.text()) and create.go.isEnabled(), timeout=60000)
    assert create.done and target.is_file()
    wizard.runner.wait_all(10000)


def test_the_demo_is_one_click(qtbot, tmp_path: Path) -> None:
    wizard = _wizard(qtbot, tmp_path)
    assert wizard.start.demo.isChecked()  # the default: a first start with no database opens the demo on Enter
    assert wizard.start.nextId() == -1
    wizard.accept()
    assert wizard.outcome == "demo"
