"""The command line: the foundation commands, their exit codes and their one-line errors."""

import csv
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.signed_in import DEMO_PASSWORDS, signed_in

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CURBDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CURBDESK_DB", raising=False)

    main = signed_in(monkeypatch, {**DEMO_PASSWORDS, "root": "a-long-password"})

    def run(*args: str) -> int:
        return main(list(args))

    run.db = tmp_path / "data" / "curbdesk.sqlite3"
    return run


def test_demo_is_idempotent_and_exports(cli, capsys, tmp_path: Path) -> None:

    assert cli("demo", "--citations", "60") == 0
    first = capsys.readouterr().out
    assert "60 citations added" in first
    # Area demo extensions may add a few cases of their own (the appeals demo adds three English PCNs).
    total = int(re.search(r"([\d,]+) in all", first).group(1).replace(",", ""))
    # ... and field sync's demo brings the citations its simulated handhelds issued
    assert total >= 60
    assert cli("demo", "--citations", "60") == 0
    assert f"0 citations added, {total:,} in all" in capsys.readouterr().out
    out = tmp_path / "c.csv"
    assert cli("export", "citations", "--out", str(out)) == 0
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == total and len({r["citation_number"] for r in rows}) == total
    assert {r["evidence_status"] for r in rows} <= {"ok", "integrity_failed", "missing"}
    assert all(int(r["photo_count"]) >= 0 for r in rows)
    with sqlite3.connect(cli.db) as c:
        assert c.execute("select count(*) from users").fetchone()[0] == 6
        assert c.execute("select count(*) from zones").fetchone()[0] >= 9


def test_verify_audit_names_the_edited_entry(cli, capsys) -> None:
    assert cli("demo", "--citations", "20") == 0
    assert cli("verify-audit") == 0
    with sqlite3.connect(cli.db) as c:
        c.execute("update audit_log set username = 'mallory' where id = 7")
    capsys.readouterr()
    assert cli("verify-audit") == 3
    assert "broken at entry 7" in capsys.readouterr().err


def test_backup_and_upgrade(cli, capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    assert cli("db", "upgrade") == 0
    assert "upgraded from empty" in capsys.readouterr().out
    monkeypatch.setattr(sys, "stdin", io.StringIO("a-long-password\n"))
    assert cli("users", "add", "root", "--role", "admin", "--name", "Root Admin", "--password-stdin") == 0
    assert cli("--as", "root", "db", "upgrade") == 0
    assert "already at" in capsys.readouterr().out
    target = tmp_path / "b.sqlite3"
    assert cli("--as", "root", "db", "backup", str(target)) == 0
    with sqlite3.connect(target) as c:
        assert c.execute("select count(*) from audit_head").fetchone()[0] == 1


def test_users_add_from_stdin(cli, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("a-long-password\n"))
    assert cli("users", "add", "root", "--role", "admin", "--name", "Root Admin", "--password-stdin") == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert cli("--as", "root", "users", "add", "bob", "--role", "clerk", "--name", "Bob", "--password-stdin") == 2
    assert capsys.readouterr().err.strip() == "error: A password needs at least 10 characters."


def test_bad_database_url_is_one_clear_line() -> None:
    r = subprocess.run([sys.executable, "main.py", "--db", "nonsense://x", "verify-audit"], cwd=ROOT,
                       capture_output=True, text=True, check=False)
    assert r.returncode == 2
    assert r.stderr.startswith("error: ") and len(r.stderr.strip().splitlines()) == 1


def test_unreachable_postgres_is_one_clear_line() -> None:
    r = subprocess.run([sys.executable, "main.py", "--db", "postgresql+psycopg://postgres@127.0.0.1:1/x",
                        "export", "citations", "--out", "/tmp/never.csv"], cwd=ROOT,
                       capture_output=True, text=True, check=False)
    # one sentence naming what to fix (issue 17): the host and port, and the server itself
    assert r.returncode == 2 and r.stderr.startswith("error: Nothing answers at 127.0.0.1:1: check the host and port")
    assert len(r.stderr.strip().splitlines()) == 1


def test_gui_starts_signs_in_and_paints(cli, tmp_path: Path) -> None:
    """The real program: sign-in paints first; with the demo auto-login the main window paints."""
    import os

    assert cli("demo", "--citations", "20") == 0
    env = dict(os.environ, CURBDESK_DATA_DIR=str(tmp_path / "data"), QT_QPA_PLATFORM="offscreen",
               CURBDESK_EXIT_AFTER_PAINT="1")
    r = subprocess.run([sys.executable, "main.py"], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=120, check=False)
    assert r.returncode == 0 and "first paint (sign-in) after" in r.stdout, r.stderr
    env["CURBDESK_DEMO_LOGIN"] = "clerk"
    r = subprocess.run([sys.executable, "main.py"], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=120, check=False)
    assert r.returncode == 0 and "first paint (window) after" in r.stdout, r.stderr
    assert "Traceback" not in r.stderr


def test_gui_review_screen_loads_its_first_citation_in_the_real_program(cli, tmp_path: Path) -> None:
    """The real start-up path (sign-in, database on a worker, main window) up to the first citation on
    the Review screen: an error on the way (as a module imported on the wrong thread once caused)
    ends the probe with a non-zero code instead of a crash dialog."""
    import os

    assert cli("demo", "--citations", "20") == 0
    env = dict(os.environ, CURBDESK_DATA_DIR=str(tmp_path / "data"), QT_QPA_PLATFORM="offscreen",
               CURBDESK_EXIT_AFTER_PAINT="review", CURBDESK_START_AREA="review", CURBDESK_DEMO_LOGIN="clerk",
               QTWEBENGINE_DISABLE_SANDBOX="1")
    r = subprocess.run([sys.executable, "main.py"], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=180, check=False)
    assert r.returncode == 0 and "first paint (review) after" in r.stdout, (r.stdout, r.stderr[-3000:])


def test_a_command_leaves_the_database_whole_in_its_file(cli, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    """Checkpoints run on a background thread; a command closes its database at the end, so the write-ahead
    log is folded back and the file alone holds everything (as a copy made by hand would expect)."""
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("a-long-password\n"))
    assert cli("users", "add", "walt", "--role", "admin", "--name", "Walt", "--password-stdin") == 0
    assert not Path(f"{cli.db}-wal").exists()
    with sqlite3.connect(cli.db) as c:
        assert c.execute("select count(*) from users where username = 'walt'").fetchone()[0] == 1
