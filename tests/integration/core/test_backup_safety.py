"""Issue 14, finding 11: a backup never overwrites an existing file without --force, refuses a folder
before any work (nothing left behind), reaches the disk (file fsync'd before it takes its name, the folder
after), and on PostgreSQL never puts the password on pg_dump's command line."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
from argparse import Namespace
from pathlib import Path
from types import SimpleNamespace

import pytest

from desktop.commands.core import cmd_db_backup
from desktop.domain.errors import UserError
from desktop.domain.roles import Role
from desktop.persistence import migrate
from desktop.persistence.db import Database
from desktop.persistence.migrate import backup
from desktop.services.admin import maintenance
from desktop.services.core.context import AppContext


def _is_database(path: Path) -> bool:
    with sqlite3.connect(path) as c:
        return c.execute("select count(*) from audit_head").fetchone()[0] >= 0


def test_an_existing_file_is_kept_without_force(app: AppContext, actors, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    target = out / "precious.sqlite3"
    target.write_bytes(b"last month's backup")
    with pytest.raises(UserError, match="already exists.*--force"):
        maintenance.backup_database(app, actors[Role.ADMIN], target)
    assert target.read_bytes() == b"last month's backup"
    assert sorted(p.name for p in out.iterdir()) == ["precious.sqlite3"]
    maintenance.backup_database(app, actors[Role.ADMIN], target, force=True)
    assert _is_database(target)


def test_the_command_refuses_to_overwrite_and_force_replaces(app: AppContext, actors, tmp_path: Path) -> None:
    target = tmp_path / "b.sqlite3"
    target.write_bytes(b"keep me")

    def env(force: bool) -> SimpleNamespace:
        return SimpleNamespace(app=lambda migrate=True: app, actor=lambda _a: actors[Role.ADMIN],
                               args=Namespace(file=target, force=force))

    with pytest.raises(UserError, match="already exists"):  # the CLI prints it as one line, exit 2
        cmd_db_backup(env(False))
    assert target.read_bytes() == b"keep me"
    assert cmd_db_backup(env(True)) == 0 and _is_database(target)


def test_a_folder_is_refused_before_any_work(app: AppContext, actors, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    with pytest.raises(UserError, match="is a folder: give the backup a file name"):
        maintenance.backup_database(app, actors[Role.ADMIN], folder, force=True)
    assert list(folder.iterdir()) == [] and not list(tmp_path.rglob("*.partial"))


def test_a_failed_copy_leaves_nothing(app: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_source: str, partial: Path) -> None:
        partial.write_bytes(b"x" * 1000)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(migrate, "_sqlite_copy", broken)
    with pytest.raises(OSError):
        backup(app.db, tmp_path / "out" / "b.sqlite3")
    assert [p.name for p in (tmp_path / "out").iterdir()] == []


def test_the_copy_is_on_disk_before_it_takes_its_name(app: AppContext, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[tuple[str, str]] = []
    real_fsync, real_link, real_replace = os.fsync, os.link, os.replace

    def fsync(fd: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def link(src, dst, *a, **kw) -> None:  # type: ignore[no-untyped-def]
        events.append(("name", str(dst)))
        real_link(src, dst, *a, **kw)

    def replace(src, dst, *a, **kw) -> None:  # type: ignore[no-untyped-def]
        events.append(("name", str(dst)))
        real_replace(src, dst, *a, **kw)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "link", link)
    monkeypatch.setattr(os, "replace", replace)
    target = tmp_path / "out" / "b.sqlite3"
    backup(app.db, target)
    named = events.index(("name", str(target)))
    before, after = events[:named], events[named + 1:]
    assert any(kind == "fsync" and ".b.sqlite3." in where and where.endswith(".partial") for kind, where in before)
    assert ("fsync", str(target.parent)) in before and ("fsync", str(target.parent)) in after
    assert _is_database(target)


FAKE_PG_DUMP = """#!{python}
import json, os, stat, sys
args = sys.argv[1:]
passfile = os.environ.get("PGPASSFILE")
record = {{"argv": sys.argv, "PGPASSWORD": os.environ.get("PGPASSWORD"), "PGPASSFILE": passfile,
          "passfile_mode": stat.S_IMODE(os.stat(passfile).st_mode) if passfile else None,
          "passfile_text": open(passfile).read() if passfile else None}}
with open({record!r}, "w") as fh:
    json.dump(record, fh)
open(args[args.index("--file") + 1], "wb").write(b"PGDMP fake")
"""


def test_pg_dump_never_sees_the_password_on_its_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "pg_dump.json"
    fake = bin_dir / "pg_dump"
    fake.write_text(FAKE_PG_DUMP.format(python=sys.executable, record=str(record)))
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("PGPASSWORD", "inherited-should-not-leak")
    secret = "s3cr:et\\pw-7781"
    db = Database(f"postgresql+psycopg://clerkdb:{secret.replace(':', '%3A').replace(chr(92), '%5C')}"
                  "@db.example:5432/curbdesk")
    target = tmp_path / "office.dump"
    assert backup(db, target) == target and target.read_bytes() == b"PGDMP fake"
    seen = json.loads(record.read_text())
    argv = " ".join(seen["argv"])
    assert "s3cr" not in argv and "7781" not in argv and "clerkdb@db.example:5432/curbdesk" in argv
    assert seen["PGPASSWORD"] is None
    assert seen["passfile_mode"] == 0o600 and seen["passfile_text"] == "*:*:*:*:s3cr\\:et\\\\pw-7781\n"
    assert not Path(seen["PGPASSFILE"]).exists()  # removed once pg_dump finished


@pytest.mark.postgres
def test_a_real_postgresql_backup(pg_app: AppContext, tmp_path: Path) -> None:
    target = tmp_path / "office.dump"
    target.write_bytes(b"old")
    with pytest.raises(UserError, match="already exists"):
        backup(pg_app.db, target)
    assert backup(pg_app.db, target, force=True) == target
    listing = subprocess.run(["pg_restore", "--list", str(target)], capture_output=True, text=True, check=True)
    assert "audit_head" in listing.stdout
    assert stat.S_ISREG(target.stat().st_mode)
