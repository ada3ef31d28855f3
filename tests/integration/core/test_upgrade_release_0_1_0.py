"""The demo office of the previous release (0.1.0, commit 5cb2b1f: `main.py demo --citations 300`), as a SQLite
file and as a PostgreSQL dump (tests/fixtures/release-0.1.0/README.md), upgrades through `main.py db upgrade`
with a backup first, and keeps every row, every balance, and an audit trail that still verifies.

Other branches add migrations; nothing here names the newest revision: it is read from the migrations.
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from desktop import cli
from desktop.persistence.db import Database
from desktop.persistence.migrate import head_revision, schema_state

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "release-0.1.0"
RELEASE_REVISION = "security_sec_postgres"  # the schema 0.1.0 shipped with (a fixed fact of that release)
TABLES = ("citations", "payments", "ledger_entries", "notices", "appeals", "users", "audit_log", "hearings")


def office_data_dir(tmp_path: Path, key: str) -> Path:
    """A data folder holding the office's audit key (the trail is sealed with it)."""
    data = tmp_path / "data"
    data.mkdir()
    shutil.copyfile(FIXTURES / key, data / "audit.key")
    (data / "audit.key").chmod(0o600)
    return data


def snapshot(url: str) -> tuple[dict[str, int], list[tuple[int, int]]]:
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}
            balances = [tuple(r) for r in conn.execute(text(
                "SELECT citation_id, sum(amount_cents) FROM ledger_entries GROUP BY citation_id ORDER BY citation_id"))]
    finally:
        db.dispose()
    return counts, balances  # type: ignore[return-value]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def sqlite_office(tmp_path: Path) -> tuple[str, Path]:
    path = tmp_path / "office.sqlite3"
    with gzip.open(FIXTURES / "office.sqlite3.gz") as src, path.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    return f"sqlite:///{path}", office_data_dir(tmp_path, "office-sqlite.audit.key")


@pytest.fixture
def pg_office(pg_server: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The release's PostgreSQL dump restored (pg_restore) into a new database."""
    import psycopg

    admin = pg_server.replace("postgresql+psycopg://", "postgresql://")
    name = f"curbdesk_rel010_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin.rsplit("/", 1)[0]
    subprocess.run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--dbname", f"{base}/{name}",
                    str(FIXTURES / "office.pgdump")], check=True, capture_output=True)
    yield f"{pg_server.rsplit('/', 1)[0]}/{name}", office_data_dir(tmp_path, "office-pg.audit.key")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def upgrade_and_check(url: str, data: Path, capsys: pytest.CaptureFixture[str],
                      monkeypatch: pytest.MonkeyPatch) -> None:
    db = Database(url)
    try:
        state = schema_state(db)
    finally:
        db.dispose()
    assert state.current == RELEASE_REVISION
    head = head_revision()
    assert state.status == ("current" if head == RELEASE_REVISION else "older")
    before = snapshot(url)
    assert before[0]["citations"] > 300 and before[0]["payments"] > 50 and before[0]["audit_log"] > 900

    # an earlier schema: every ordinary command is refused with the way out, nothing is touched
    monkeypatch.setenv("CURBDESK_PASSWORD", "curbdesk-clerk")
    code, _out, err = run(capsys, "--db", url, "--data-dir", str(data), "--as", "clerk", "users", "list")
    assert code == 2 and "earlier release" in err and "db upgrade" in err
    # a clerk may not upgrade it
    code, _out, err = run(capsys, "--db", url, "--data-dir", str(data), "--as", "clerk", "db", "upgrade")
    assert code == 2 and "may not upgrade" in err
    assert snapshot(url) == before

    monkeypatch.setenv("CURBDESK_PASSWORD", "curbdesk-admin")
    code, out, err = run(capsys, "--db", url, "--data-dir", str(data), "--as", "admin", "db", "upgrade")
    assert code == 0, err
    assert f"schema upgraded from {RELEASE_REVISION} to {head}; backup at " in out
    taken = Path(out.rsplit("backup at ", 1)[1].strip())
    assert taken.stat().st_size > 100_000
    db = Database(url)
    try:
        assert schema_state(db).status == "current"
    finally:
        db.dispose()
    after = snapshot(url)
    assert after[1] == before[1]  # every balance
    # every row kept; the trail gained exactly the upgrade's entry (and the clerk's and admin's sign-ins)
    assert {k: v for k, v in after[0].items() if k != "audit_log"} == \
        {k: v for k, v in before[0].items() if k != "audit_log"}
    assert after[0]["audit_log"] >= before[0]["audit_log"] + 1
    code, out, err = run(capsys, "--db", url, "--data-dir", str(data), "--as", "admin", "verify-audit")
    assert code == 0, err
    # and the office works: the same export as before the upgrade
    code, out, err = run(capsys, "--db", url, "--data-dir", str(data), "--as", "admin", "export", "citations",
                         "--out", str(data / "c.csv"))
    assert code == 0 and f"{before[0]['citations']:,} citations written" in out


def test_the_previous_release_sqlite_office_upgrades_through_db_upgrade(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    url, data = sqlite_office(tmp_path)
    upgrade_and_check(url, data, capsys, monkeypatch)


@pytest.mark.postgres
def test_the_previous_release_postgresql_dump_upgrades_through_db_upgrade(
        pg_office: tuple[str, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    url, data = pg_office
    upgrade_and_check(url, data, capsys, monkeypatch)
    assert list((data / "backups").glob("before-*.pgdump"))  # PostgreSQL is dumped first too


def test_a_database_of_a_newer_release_is_refused_naming_both_schemas(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    url, data = sqlite_office(tmp_path)
    db = Database(url)
    try:
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = 'release_9_0001'"))
    finally:
        db.dispose()
    monkeypatch.setenv("CURBDESK_PASSWORD", "curbdesk-admin")
    for argv in (["users", "list"], ["db", "upgrade"]):
        code, _out, err = run(capsys, "--db", url, "--data-dir", str(data), "--as", "admin", *argv)
        assert code == 2
        assert "newer release of Curbdesk (schema release_9_0001)" in err and f"up to {head_revision()}" in err
        assert err.count("\n") == 1  # one sentence


def test_a_database_of_another_application_is_refused_and_left_alone(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "other.sqlite3"
    db = Database(f"sqlite:///{path}")
    try:
        with db.engine.begin() as conn:
            conn.execute(text("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total INTEGER)"))
    finally:
        db.dispose()
    code, _out, err = run(capsys, "--db", f"sqlite:///{path}", "--data-dir", str(tmp_path / "d"), "db", "upgrade")
    assert code == 2 and "belongs to another application" in err
    db = Database(f"sqlite:///{path}")
    try:
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'")).scalars().all() == \
                ["invoices"]
    finally:
        db.dispose()
