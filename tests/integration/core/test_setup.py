"""Setting up a real agency (issue 17, points 2 and 3): `main.py setup --config FILE.toml` makes "City of
Springfield" on a new PostgreSQL database with a California profile, imports its fine schedule and zones from
files, adds two clerks; two workstations (two processes) sign in at once. Bad input is one sentence naming what
to fix, and a failed set-up leaves nothing behind (no SQLite file, no PostgreSQL database or tables)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from PIL import Image
from sqlalchemy import func, select

from desktop.bootstrap import make_app_context
from desktop.cli import main
from desktop.domain.errors import UserError
from desktop.paths import AppPaths
from desktop.persistence.connections import ConnectionProfile, load_profile
from desktop.persistence.db import Database
from desktop.persistence.models import User, ViolationCode, Zone
from desktop.services import office_setup as setup
from desktop.services.admin import users
from desktop.services.core import agency, settings

ROOT = Path(__file__).resolve().parents[3]
FINES = ROOT / "tests" / "fixtures" / "springfield-fines.csv"
SHARED = ROOT.parent / "shared" / "data"
ZONES = SHARED / "parking_zones_meters" / "parking_regulations.geojson"

CONFIG = """
[agency]
profiles = ["CA"]
timezone = "America/Los_Angeles"

[agency.identity.CA]
name = "City of Springfield"
department = "Parking Services Division"
address = ["PO Box 1000", "Springfield, CA 95000-1000"]
phone = "(555) 010-0100"
web_url = "springfield.example.gov/parking"
pay_url = "https://pay.springfield.example.gov/c/{{citation_number}}"
logo_path = "seal.png"

[mail]
mailer_id = "123456"

[database]
{database}

[admin]
username = "admin"
full_name = "Pat Jones"
password_env = "T_ADMIN_PASSWORD"

[[users]]
username = "clerk1"
full_name = "Sam Lee"
role = "clerk"
password_env = "T_CLERK1_PASSWORD"

[[users]]
username = "clerk2"
full_name = "Robin Diaz"
role = "clerk"
password_env = "T_CLERK2_PASSWORD"

[[import]]
kind = "zones"
file = "{zones}"
prefix = "Z-SPR"

[[import]]
kind = "fines"
file = "{fines}"
"""
PASSWORDS = {"T_ADMIN_PASSWORD": "springfield admin 1", "T_CLERK1_PASSWORD": "sam at the counter",
             "T_CLERK2_PASSWORD": "robin on review"}


@pytest.fixture
def office_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    if not ZONES.exists():
        pytest.skip(f"the shared data folder is not at {SHARED}")
    folder = tmp_path / "install"
    folder.mkdir()
    Image.new("RGB", (120, 120), (20, 60, 120)).save(folder / "seal.png")
    for k, v in PASSWORDS.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("CURBDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CURBDESK_DB", raising=False)
    return folder


def _write(folder: Path, database: str, **changes: str) -> Path:
    text = CONFIG.format(database=database, zones=ZONES, fines=FINES)
    for old, new in changes.items():
        assert old in text, old
        text = text.replace(old, new)
    path = folder / "office.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def pg_database(pg_server: str) -> Iterator[tuple[str, str]]:
    """A database name nobody has yet (dropped afterwards whatever happened), and the server's admin URL."""
    name = f"curbdesk_setup_{uuid.uuid4().hex[:8]}"
    admin = pg_server.replace("postgresql+psycopg://", "postgresql://")
    yield name, admin
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pg_exists(admin: str, name: str) -> bool:
    with psycopg.connect(admin, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


@pytest.mark.postgres
def test_springfield_on_a_new_postgresql_database_from_a_setup_file(
        office_files: Path, pg_database: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    name, admin = pg_database
    config = _write(office_files, f'kind = "postgresql"\nhost = "127.0.0.1"\nport = 5432\ndatabase = "{name}"\n'
                                  'user = "postgres"\nsslmode = "prefer"')
    assert main(["setup", "--config", str(config)]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert f"office set up: {name} on 127.0.0.1:5432 as postgres" in out
    assert "54 violation codes" in out and "zones parking_regulations.geojson: 1274 zones" in out
    profile = load_profile()
    assert profile is not None and profile.database == name and profile.sslmode == "prefer"
    stored = Path(os.environ["CURBDESK_CONFIG_DIR"]) / "connection.json"
    assert "password" not in stored.read_text() and oct(stored.stat().st_mode)[-3:] == "600"

    paths = AppPaths(tmp_path / "data")
    db = Database(profile.url())
    try:
        app = make_app_context(db, paths)
        with db.reading() as s:
            identity = agency.identity(s, "CA")
            assert identity["name"] == "City of Springfield" and identity["logo_path"].endswith("seal.png")
            assert identity["department"] == "Parking Services Division"
            assert identity["office_hours"] == ""  # nothing of the demo's Los Angeles letterhead
            assert agency.missing_identity_fields(s, "CA") == []
            assert settings.get(s, "mail.mailer_id") == "123456" and settings.get(s, "agency.profile") == "CA"
            assert s.scalar(select(func.count()).select_from(ViolationCode)) == 54
            assert s.scalar(select(func.count()).select_from(Zone)) == 1274
            assert sorted(s.scalars(select(User.username))) == ["admin", "clerk1", "clerk2"]
        assert users.login(app, "clerk2", PASSWORDS["T_CLERK2_PASSWORD"]).role.value == "clerk"
    finally:
        db.dispose()

    # two workstations (two processes) signed in at once, each through its own connection profile
    env = {**os.environ, "CURBDESK_DATA_DIR": str(tmp_path / "data")}
    procs = [subprocess.Popen([sys.executable, str(ROOT / "main.py"), "--as", who, "review", "queue"],
                              env={**env, "CURBDESK_PASSWORD": PASSWORDS[var]}, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for who, var in (("clerk1", "T_CLERK1_PASSWORD"), ("clerk2", "T_CLERK2_PASSWORD"))]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    db = Database(profile.url())
    try:
        with db.reading() as s:
            from desktop.persistence.models import AuditEntry

            signed_in = s.scalars(select(AuditEntry.username).where(AuditEntry.action == "user.signed_in")).all()
        assert {"clerk1", "clerk2"} <= set(signed_in)
    finally:
        db.dispose()
    # the same file again: refused, the office is kept
    assert main(["setup", "--config", str(config)]) == 2
    assert "already holds a Curbdesk office" in capsys.readouterr().err


@pytest.mark.postgres
def test_a_failed_import_drops_the_database_the_setup_created(
        office_files: Path, pg_database: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    name, admin = pg_database
    bad = office_files / "fines.csv"
    bad.write_text("code,description,fine\n88.13B+,METER EXP.,63\n22502A,,63\n80.56E4+,RED ZONE,lots\n")
    config = _write(office_files, f'kind = "postgresql"\nhost = "127.0.0.1"\ndatabase = "{name}"\nuser = "postgres"',
                    **{str(FINES): str(bad)})
    assert main(["setup", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "line 3: the description is empty" in err and "line 4: the fine 'lots' is not an amount" in err
    assert not _pg_exists(admin, name)
    assert load_profile() is None


@pytest.mark.postgres
def test_a_database_of_another_application_is_refused_and_kept(
        office_files: Path, pg_database: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    name, admin = pg_database
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(admin.rsplit("/", 1)[0] + f"/{name}", autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (id int)")
    config = _write(office_files, f'kind = "postgresql"\nhost = "127.0.0.1"\ndatabase = "{name}"\nuser = "postgres"')
    assert main(["setup", "--config", str(config)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {name} on 127.0.0.1:5432 as postgres holds another application's tables (orders): choose an empty "
        "database or a new name.")
    with psycopg.connect(admin.rsplit("/", 1)[0] + f"/{name}") as conn:
        assert conn.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
                            ).fetchone() == (1,)


@pytest.mark.postgres
def test_an_empty_existing_database_is_emptied_again_when_the_setup_fails(
        office_files: Path, pg_database: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    name, admin = pg_database
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    broken = office_files / "zones.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, '
                      '"geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1]]]}}]}')
    config = _write(office_files, f'kind = "postgresql"\nhost = "127.0.0.1"\ndatabase = "{name}"\nuser = "postgres"',
                    **{str(ZONES): str(broken)})
    assert main(["setup", "--config", str(config)]) == 2
    assert "The zones file zones.geojson was refused, so nothing was set up" in capsys.readouterr().err
    with psycopg.connect(admin.rsplit("/", 1)[0] + f"/{name}") as conn:
        assert conn.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
                            ).fetchone() == (0,)


def test_a_local_office_is_built_aside_and_moved_into_place(office_files: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "office" / "springfield.sqlite3"
    config = _write(office_files, f'kind = "sqlite"\npath = "{target}"')
    assert main(["setup", "--config", str(config)]) == 0, capsys.readouterr().err
    assert target.is_file() and sorted(p.name for p in target.parent.iterdir()) == ["springfield.sqlite3"]
    profile = load_profile()
    assert profile == ConnectionProfile(kind="sqlite", path=str(target), host="", port=5432, database="curbdesk")
    assert main(["--as", "clerk1", "review", "queue"]) == 2  # no password given: the command asks for one
    monkeypatch.setenv("CURBDESK_PASSWORD", PASSWORDS["T_CLERK1_PASSWORD"])
    assert main(["--as", "clerk1", "review", "queue"]) == 0


@pytest.mark.parametrize(("change", "says"), [
    ({'logo_path = "seal.png"': 'logo_path = "notes.png"'}, "the logo notes.png is not a readable image"),
    ({'phone = "(555) 010-0100"\n': ""}, "The agency identity for CA lacks what its documents print: public telephone number"),
    ({'mailer_id = "123456"': 'mailer_id = "912345"'}, "The USPS Mailer ID is 6 digits"),
    ({'mailer_id = "123456"': 'mailer_id = "123456"\naddress_correction = "fancy"'}, "Address correction is none"),
    ({'mailer_id = "123456"': 'mailer_id = "123456"\nservice_type_id = "30"'}, "The IMb service type is 3 digits"),
    ({'profiles = ["CA"]': 'profiles = ["CA", "TX"]'}, "there is no jurisdiction profile TX"),
    ({'password_env = "T_CLERK1_PASSWORD"': 'password_env = "T_NOT_SET"'}, "T_NOT_SET"),
    ({'password_env = "T_CLERK2_PASSWORD"': 'password = "robin"'}, "a password never goes in the set-up file"),
    ({'username = "clerk2"': 'username = "clerk1"'}, "The username clerk1 is given twice"),
])
def test_bad_input_is_one_sentence_and_nothing_is_made(office_files: Path, tmp_path: Path, change: dict[str, str],
                                                       says: str, capsys: pytest.CaptureFixture[str]) -> None:
    (office_files / "notes.png").write_text("not a picture")
    target = tmp_path / "office.sqlite3"
    config = _write(office_files, f'kind = "sqlite"\npath = "{target}"', **change)
    assert main(["setup", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and says in err and len(err.splitlines()) == 1, err
    assert not target.exists() and list(tmp_path.glob("*.sqlite3*")) == []
    assert load_profile() is None


def test_address_correction_sets_the_service_type(office_files: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "office.sqlite3"
    config = _write(office_files, f'kind = "sqlite"\npath = "{target}"',
                    **{'mailer_id = "123456"': 'mailer_id = "901234567"\naddress_correction = "full_service"'})
    assert main(["setup", "--config", str(config)]) == 0, capsys.readouterr().err
    db = Database(f"sqlite:///{target}")
    try:
        with db.reading() as s:
            assert settings.get(s, "mail.mailer_id") == "901234567"
            if "mail.address_correction" in settings.SETTINGS:  # issue 15's postal settings (branch mail-law)
                assert settings.get(s, "mail.address_correction") == "full_service"
            else:
                assert settings.get(s, "mail.service_type_id") == "320"  # Full-Service ACS (USPS STID table)
    finally:
        db.dispose()


def test_a_data_folder_that_cannot_be_written_is_named(office_files: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    # (the suite runs as root, who may write anywhere: a data folder under a file cannot be made by anyone)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the data folder's parent should be")
    monkeypatch.setenv("CURBDESK_DATA_DIR", str(blocker / "data"))
    config = _write(office_files, f'kind = "sqlite"\npath = "{tmp_path / "o.sqlite3"}"')
    assert main(["setup", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert f"The data folder {blocker / 'data'} cannot be written" in err and "choose a folder you may write to" in err
    assert not (tmp_path / "o.sqlite3").exists()


def test_connection_failures_name_what_to_fix(pg_server: str) -> None:
    refused = ConnectionProfile(host="127.0.0.1", port=1, database="curbdesk", user="postgres")
    with pytest.raises(UserError) as exc:
        setup.test_connection(refused, None)
    assert str(exc.value).startswith("Nothing answers at 127.0.0.1:1: check the host and port")
    unknown = ConnectionProfile(host="no-such-host.invalid", database="curbdesk", user="postgres")
    with pytest.raises(UserError, match="The server name no-such-host.invalid is not known"):
        setup.test_connection(unknown, None)
    nobody = ConnectionProfile(host="127.0.0.1", database="test", user="nobody_at_all")
    with pytest.raises(UserError, match="There is no PostgreSQL user nobody_at_all on 127.0.0.1"):
        setup.test_connection(nobody, None)
    fine = ConnectionProfile(host="127.0.0.1", database=f"curbdesk_missing_{uuid.uuid4().hex[:6]}", user="postgres")
    assert setup.test_connection(fine, None).state == "missing"


def test_the_example_setup_file_is_valid_toml_and_complete(capsys: pytest.CaptureFixture[str]) -> None:
    import tomllib

    assert main(["setup", "--example"]) == 0
    data = tomllib.loads(capsys.readouterr().out)
    assert data["agency"]["profiles"] == ["CA"] and data["database"]["sslmode"] == "verify-full"
    assert "password" not in data["database"] and data["admin"]["password_env"]
