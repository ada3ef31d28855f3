"""`main.py db restore FILE [--force]` end to end, on SQLite and on the real PostgreSQL server: a backup taken
with `db backup` comes back whole (rows, balances, a trail that verifies); a database with anything in it is
replaced only with --force and by an administrator (a copy of it taken first); a file that is not a Curbdesk
backup, a damaged one, another application's, a newer release's, one of the other kind of database or sealed
with another office's key is refused in one sentence with the database untouched; a restore that fails half
way leaves the old database."""

from __future__ import annotations

import gzip
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from desktop import cli
from desktop.bootstrap import make_app_context
from desktop.domain.errors import UserError
from desktop.paths import AppPaths
from desktop.persistence import backups
from desktop.persistence.db import Database
from desktop.services.admin import maintenance, users
from tests.integration.core.test_upgrade_release_0_1_0 import FIXTURES

pytestmark = pytest.mark.slow  # each test builds a small demo office (about 5 s, several times that on a busy machine)

TABLES = ("citations", "payments", "ledger_entries", "users", "audit_log")
ADMIN = ("admin", "curbdesk-admin")


def data(url: str) -> dict[str, object]:
    """The office's data without the audit trail (every sign-in, even a refused command's, adds to the trail)."""
    return {k: v for k, v in snapshot(url).items() if k != "audit_log"}


def snapshot(url: str) -> dict[str, object]:
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            out: dict[str, object] = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}
            out["balances"] = conn.execute(text("SELECT citation_id, sum(amount_cents) FROM ledger_entries "
                                                "GROUP BY citation_id ORDER BY citation_id")).all()
            out["users"] = conn.execute(text("SELECT username FROM users ORDER BY username")).scalars().all()
    finally:
        db.dispose()
    return out


class Office:
    """One data folder and a database URL, driven through the command line in this process."""

    def __init__(self, url: str, data: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
        self.url, self.data, self.capsys, self.monkeypatch = url, data, capsys, monkeypatch

    def run(self, *argv: str, user: tuple[str, str] | None = None, url: str | None = None) -> tuple[int, str, str]:
        if user:
            self.monkeypatch.setenv("CURBDESK_PASSWORD", user[1])
            argv = ("--as", user[0], *argv)
        code = cli.main(["--db", url or self.url, "--data-dir", str(self.data), *argv])
        out = self.capsys.readouterr()
        return code, out.out, out.err


def new_pg_database(server: str, names: list[str]) -> str:
    import psycopg

    name = f"curbdesk_rst_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    names.append(name)
    return f"{server.rsplit('/', 1)[0]}/{name}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def office(request: pytest.FixtureRequest, tmp_path: Path, capsys: pytest.CaptureFixture[str],
           monkeypatch: pytest.MonkeyPatch) -> Iterator[Office]:
    """A small demo office (`main.py demo --citations 20`) on SQLite or PostgreSQL, with `new_url()` for an
    empty database of the same kind."""
    created: list[str] = []
    if request.param == "sqlite":
        counter = iter(range(100))
        new_url = lambda: f"sqlite:///{tmp_path / f'db{next(counter)}.sqlite3'}"  # noqa: E731
    else:
        server = request.getfixturevalue("pg_server")
        new_url = lambda: new_pg_database(server, created)  # noqa: E731
    o = Office(new_url(), tmp_path / "data", capsys, monkeypatch)
    o.new_url = new_url  # type: ignore[attr-defined]
    o.kind = request.param  # type: ignore[attr-defined]
    assert o.run("demo", "--citations", "20")[0] == 0
    yield o
    if created:
        import psycopg

        server = request.getfixturevalue("pg_server").replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(server, autocommit=True) as conn:
            for name in created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_backup_restores_over_a_changed_office_only_with_force_and_by_an_administrator(office: Office) -> None:
    ext = "sqlite3" if office.kind == "sqlite" else "pgdump"  # type: ignore[attr-defined]
    backup = office.data / f"b.{ext}"
    assert office.run("db", "backup", str(backup), user=ADMIN)[0] == 0
    at_backup = snapshot(office.url)
    office.monkeypatch.setattr("sys.stdin", __import__("io").StringIO("a-long-password-1\n"))
    assert office.run("users", "add", "newclerk", "--role", "clerk", "--name", "New Clerk", user=ADMIN)[0] == 0
    changed = snapshot(office.url)
    assert "newclerk" in changed["users"]  # type: ignore[operator]

    code, _o, err = office.run("db", "restore", str(backup), user=ADMIN)
    assert code == 2 and "is not empty" in err and "--force" in err
    code, _o, err = office.run("db", "restore", str(backup), "--force", user=("clerk", "curbdesk-clerk"))
    assert code == 2 and "may not restore the database" in err
    assert data(office.url) == {k: v for k, v in changed.items() if k != "audit_log"}

    code, out, err = office.run("db", "restore", str(backup), "--force", user=ADMIN)
    assert code == 0, err
    restored = snapshot(office.url)
    assert restored["balances"] == at_backup["balances"] and restored["users"] == at_backup["users"]
    # the backup's file holds the trail up to just before its own entry; the restore adds its entry
    assert restored["audit_log"] == at_backup["audit_log"]
    db = Database(office.url)
    try:
        with db.engine.connect() as conn:
            last = conn.execute(text("SELECT action, username FROM audit_log ORDER BY id DESC LIMIT 1")).one()
    finally:
        db.dispose()
    assert tuple(last) == ("database.restored", "system:restore by admin")
    safety = Path(out.split("the database as it was is at ", 1)[1].split()[0])
    assert safety.exists() and safety.stat().st_size > 10_000  # the replaced database, kept
    code, out, err = office.run("verify-audit", user=ADMIN)
    assert code == 0, err


def test_an_empty_database_is_restored_into_without_a_sign_in(office: Office) -> None:
    ext = "sqlite3" if office.kind == "sqlite" else "pgdump"  # type: ignore[attr-defined]
    backup = office.data / f"b.{ext}"
    assert office.run("db", "backup", str(backup), user=ADMIN)[0] == 0
    fresh = office.new_url()  # type: ignore[attr-defined]
    code, out, err = office.run("db", "restore", str(backup), url=fresh)
    assert code == 0, err
    assert snapshot(fresh)["balances"] == snapshot(office.url)["balances"]
    assert office.run("verify-audit", user=ADMIN, url=fresh)[0] == 0


def bad_files(tmp: Path) -> dict[str, tuple[Path, str]]:
    """Each bad file and the words of its one sentence."""
    tmp.mkdir(exist_ok=True)
    (tmp / "notes.txt").write_text("not a backup\n")
    other = tmp / "other-app.sqlite3"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    conn.close()
    pg_other = tmp / "truncated.pgdump"
    pg_other.write_bytes((FIXTURES / "office.pgdump").read_bytes()[:5000])
    return {
        "text": (tmp / "notes.txt", "is not a Curbdesk backup"),
        "another application": (other, "another application's database"),
        "truncated dump": (pg_other, "damaged backup"),
        "folder": (tmp, "is a folder"),
        "missing": (tmp / "nothing-here.sqlite3", "There is no file"),
    }


def test_files_that_are_not_a_good_backup_are_refused_in_one_sentence(office: Office, tmp_path: Path) -> None:
    before = data(office.url)
    for what, (path, words) in bad_files(tmp_path / "bad").items():
        code, out, err = office.run("db", "restore", str(path), "--force", user=ADMIN)
        assert code == 2, what
        assert words in err and err.count("\n") == 1, (what, err)
    assert data(office.url) == before


def test_a_damaged_or_newer_or_foreign_kind_or_other_key_backup_is_refused(office: Office, tmp_path: Path) -> None:
    ext = "sqlite3" if office.kind == "sqlite" else "pgdump"  # type: ignore[attr-defined]
    good = office.data / f"b.{ext}"
    assert office.run("db", "backup", str(good), user=ADMIN)[0] == 0
    before = data(office.url)
    # the other kind of database
    other_kind = tmp_path / "release.sqlite3"
    with gzip.open(FIXTURES / "office.sqlite3.gz") as src, other_kind.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    if office.kind == "sqlite":  # type: ignore[attr-defined]
        other_kind = FIXTURES / "office.pgdump"
    code, _o, err = office.run("db", "restore", str(other_kind), "--force", user=ADMIN)
    assert code == 2 and "backup and this database is" in err
    # sealed with another office's audit key (0.1.0's office, same kind of database)
    foreign_key = (tmp_path / "release.sqlite3") if office.kind == "sqlite" else FIXTURES / "office.pgdump"  # type: ignore[attr-defined]
    code, _o, err = office.run("db", "restore", str(foreign_key), "--force", user=ADMIN)
    assert code == 2 and "sealed with another audit key" in err
    if office.kind == "sqlite":  # type: ignore[attr-defined]
        # a newer release's backup
        newer = tmp_path / "newer.sqlite3"
        shutil.copyfile(good, newer)
        with sqlite3.connect(newer) as conn:
            conn.execute("UPDATE alembic_version SET version_num = 'release_9_0001'")
        conn.close()
        code, _o, err = office.run("db", "restore", str(newer), "--force", user=ADMIN)
        assert code == 2 and "newer release of Curbdesk (schema release_9_0001)" in err
        # damaged in the middle (header intact): the integrity check refuses it
        damaged = tmp_path / "damaged.sqlite3"
        raw = bytearray(good.read_bytes())
        for i in range(len(raw) // 2, len(raw) // 2 + 40_000):
            raw[i] = 0xFF
        damaged.write_bytes(bytes(raw))
        code, _o, err = office.run("db", "restore", str(damaged), "--force", user=ADMIN)
        assert code == 2 and "damaged backup" in err
    assert data(office.url) == before


def test_a_restore_that_cannot_finish_leaves_the_old_database(office: Office, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another connection holds the database (a workstation mid-transaction): the restore gives up after the lock
    timeout, and every row is as it was (on PostgreSQL the old tables were already dropped inside the restore's
    transaction: rolled back)."""
    ext = "sqlite3" if office.kind == "sqlite" else "pgdump"  # type: ignore[attr-defined]
    backup = office.data / f"b.{ext}"
    assert office.run("db", "backup", str(backup), user=ADMIN)[0] == 0
    monkeypatch.setattr(backups, "LOCK_TIMEOUT_SECONDS", 0.5)
    before = data(office.url)
    app = make_app_context(Database(office.url), AppPaths(office.data))
    admin = users.login(app, *ADMIN)  # signed in before the other connection takes the lock
    try:
        if office.kind == "sqlite":  # type: ignore[attr-defined]
            holder = sqlite3.connect(office.url.removeprefix("sqlite:///"), isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")  # a writer in the middle of its transaction
            try:
                with pytest.raises(UserError, match="the database is as it was") as refused:
                    maintenance.restore_database(app, admin, backup, force=True)
            finally:
                holder.execute("ROLLBACK")
                holder.close()
        else:
            other = Database(office.url)
            try:
                with other.engine.connect() as conn:
                    conn.execute(text("SELECT count(*) FROM citations"))  # holds its table lock until it ends
                    with pytest.raises(UserError, match="in use on another workstation") as refused:
                        maintenance.restore_database(app, admin, backup, force=True)
                    conn.rollback()
            finally:
                other.dispose()
    finally:
        app.db.dispose()
    assert str(refused.value).count(". ") == 0  # one sentence
    assert data(office.url) == before
    assert office.run("verify-audit", user=ADMIN)[0] == 0


def test_an_unwritable_data_folder_is_one_sentence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["--db", f"sqlite:///{tmp_path / 'x.sqlite3'}", "--data-dir", "/proc/curbdesk-data", "demo"])
    err = capsys.readouterr().err
    assert code == 2 and "The data folder /proc/curbdesk-data cannot be written" in err and err.count("\n") == 1
