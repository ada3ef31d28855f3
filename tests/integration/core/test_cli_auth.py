"""Every command authenticates (issue 14, finding 1): a command acts as a signed-in user (password or API
token), the services check that user's permissions, and without credentials nothing runs. The system account
is no longer the command line's default."""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import sqlite3
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from desktop.bootstrap import make_app_context
from desktop.cli import build_parser, main
from desktop.commands._auth import NO_CREDENTIALS
from desktop.demo.office import NOT_A_DEMO, build_demo
from desktop.domain.errors import PermissionDenied, UserError
from desktop.domain.roles import Role
from desktop.paths import AppPaths
from desktop.persistence.db import Database
from desktop.persistence.migrate import alembic_config, head_revision
from desktop.services.admin import tokens, users
from desktop.services.core.context import AppContext
from desktop.services.daily_run import run_daily
from tests.conftest import FixedClock
from tests.helpers.factories import add_citation
from tests.helpers.signed_in import ADMIN_PASSWORD, DEMO_PASSWORDS, new_office, signed_in

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data"
LOCKBOX = SHARED / "bank_payment_files" / "lockbox_fundersclub" / "test_lockbox.bai"
ZONES = SHARED / "parking_zones_meters" / "parking_regulations.geojson"


def _commands(out: Path, files: Path) -> dict[str, tuple[list[str], str | None]]:
    """Every command with arguments it accepts, and a demo account whose role lacks its permission (None:
    every role may run it)."""
    o = lambda name: str(out / name)  # noqa: E731
    return {
        "db upgrade": (["db", "upgrade"], "supervisor"),
        "db backup": (["db", "backup", o("b.sqlite3")], "supervisor"),
        "db restore": (["db", "restore", o("b.sqlite3"), "--force"], "supervisor"),
        "verify-audit": (["verify-audit"], "clerk"),
        "users add": (["users", "add", "mallory", "--role", "admin", "--name", "Mallory", "--password-stdin"],
                      "supervisor"),
        "users list": (["users", "list"], "supervisor"),
        "users passwd": (["users", "passwd", "admin"], "clerk"),
        "users token issue": (["users", "token", "issue", "clerk", "--scope", "all"], "supervisor"),
        "users token list": (["users", "token", "list"], "supervisor"),
        "users token revoke": (["users", "token", "revoke", "1"], "supervisor"),
        "export citations": (["export", "citations", "--out", o("c.csv")], "hearing"),
        "export collections": (["export", "collections", "--out", o("k.csv")], "hearing"),
        "export payments": (["export", "payments", "--out", o("p.csv")], "hearing"),
        "export gl": (["export", "gl", "--date", "2026-11-24", "--out", o("g.csv")], "hearing"),
        "export quarantine": (["export", "quarantine", "--out", o("q.csv")], "hearing"),
        "appeals deadlines": (["appeals", "deadlines"], "clerk"),
        "appeals list": (["appeals", "list"], None),
        "appeals docket": (["appeals", "docket", "--date", "2026-11-26", "--out", o("d.pdf")], None),
        "appeals packet": (["appeals", "packet", "NOPE-1", "--out", o("pk.pdf")], None),
        "escalate": (["escalate"], "clerk"),
        "import owners": (["import", "owners", str(files / "owners.csv")], "hearing"),
        "import payments": (["import", "payments", str(LOCKBOX)], "hearing"),
        "import zones": (["import", "zones", str(ZONES)], "supervisor"),
        "import permits": (["import", "permits", str(files / "permits.csv")], "clerk"),
        "import fines": (["import", "fines", str(files / "permits.csv")], "supervisor"),
        "profiles list": (["profiles", "list"], None),
        "profiles show": (["profiles", "show", "CA"], None),
        "profiles save": (["profiles", "save", "CA", str(files / "profile.json"), "--effective-from", "2027-01-01",
                           "--reason", "x"], "supervisor"),
        "notices": (["notices", "--due", "--out", o("n")], "clerk"),
        "notices confirm": (["notices", "confirm", "1"], "clerk"),
        "notices returned": (["notices", "returned", "1", "--reason", "Moved"], "hearing"),
        "notices log": (["notices", "log"], None),
        "plans check": (["plans", "check"], "clerk"),
        "plates read": (["plates", "read"], "hearing"),
        "payments reconcile": (["payments", "reconcile"], "hearing"),
        "payments overpayments": (["payments", "overpayments"], "hearing"),
        "map check": (["map", "check"], None),
        "map use": (["map", "use", str(files.parent / "data" / "maps" / "demo-downtown.mbtiles")], "supervisor"),
        "payments counter": (["payments", "counter", "NOPE-1", "--amount", "10", "--method", "cash"], "hearing"),
        "review queue": (["review", "queue"], "hearing"),
        "review recheck": (["review", "recheck"], "hearing"),
        "sync": (["sync", "--endpoint", "http://127.0.0.1:9", "--token", "t", "--retries", "0"], "hearing"),
        "import-bundle": (["import-bundle", str(files / "bundle.zip")], "hearing"),
        "devices add": (["devices", "add", "HH-9", "--public-key", "A" * 43 + "="], "clerk"),
        "devices list": (["devices", "list"], "hearing"),
        "devices held": (["devices", "held"], "hearing"),
        "devices accept": (["devices", "accept", "HH-9-20261124T100000Z.zip"], "clerk"),
        "devices refuse": (["devices", "refuse", "HH-9-20261124T100000Z.zip", "--reason", "x"], "clerk"),
        "export cases": (["export", "cases", "--status", "open", "--out", o("cases.xlsx")], None),
        "export review-queue": (["export", "review-queue", "--out", o("rq.pdf")], "hearing"),
        "export held-notices": (["export", "held-notices", "--out", o("held.csv")], None),
        "export appeals": (["export", "appeals", "--out", o("ap.pdf")], None),
        "export mail-log": (["export", "mail-log", "--out", o("ml.csv")], None),
        "export payment-list": (["export", "payment-list", "--out", o("pl.xlsx")], None),
        "bulk void": (["bulk", "void", "--citation", "NOPE-1", "--code", "DUPLICATE", "--yes"], "clerk"),
        "bulk hold": (["bulk", "hold", "--citation", "NOPE-1", "--reason", "x", "--yes"], "clerk"),
        "bulk release": (["bulk", "release", "--citation", "NOPE-1", "--reason", "x", "--yes"], "clerk"),
        "bulk assign": (["bulk", "assign", "--citation", "NOPE-1", "--to", "clerk", "--yes"], "clerk"),
        "bulk approve": (["bulk", "approve", "--citation", "NOPE-1", "--yes"], "clerk"),
        "report": (["report", "citations", "--from", "2026-11-01", "--to", "2026-11-24", "--out", o("r.csv")],
                   "clerk"),
        "patrol plan": (["patrol", "plan", "--date", "2026-11-25", "--out", o("pp.pdf")], "clerk"),
        "patrol actual": (["patrol", "actual", "--date", "2026-11-24"], "clerk"),
    }


def _command_paths(parser: argparse.ArgumentParser) -> set[str]:
    found = set()
    if parser.get_default("command_path"):
        found.add(parser.get_default("command_path"))
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= _command_paths(sub)
    return found


@pytest.fixture(scope="module")
def demo_office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A small demo office, built once (on an empty database the demo needs no sign-in)."""
    base = tmp_path_factory.mktemp("office")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        mp.setenv("CURBDESK_DATA_DIR", str(base / "data"))
        for name in ("CURBDESK_DB", "CURBDESK_USER", "CURBDESK_PASSWORD", "CURBDESK_TOKEN"):
            mp.delenv(name, raising=False)
        assert main(["demo", "--citations", "20"]) == 0
        mp.setenv("CURBDESK_USER", "admin")
        mp.setenv("CURBDESK_PASSWORD", DEMO_PASSWORDS["admin"])
        shown = io.StringIO()
        with contextlib.redirect_stdout(shown):
            assert main(["profiles", "show", "CA"]) == 0
    files = base / "files"
    files.mkdir()
    (files / "owners.csv").write_text(
        "plate,jurisdiction,owner_name,address,address_line2,city,state,zip,valid_from,valid_to\n"
        '7ABC123,CA,"GARCIA, MARIA","1234 W Olympic Blvd, Los Angeles, CA 90015",,,,,2020-01-01,\n')
    (files / "permits.csv").write_text("permit_number,type,holder_name,plates,zones,valid_from,valid_to\n"
                                       "P-1,residential,Ann,7ABC123,Z-CHINATOWN,2026-01-01,2026-12-31\n")
    (files / "profile.json").write_text(shown.getvalue())
    (files / "bundle.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    yield base


@pytest.fixture
def office(demo_office: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh copy of the demo office as the command line's data folder; returns the folder."""
    data = tmp_path / "data"
    shutil.copytree(demo_office / "data", data)
    (tmp_path / "out").mkdir()
    monkeypatch.setenv("CURBDESK_DATA_DIR", str(data))
    monkeypatch.delenv("CURBDESK_DB", raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO("a-long-password-x\n"))  # not a terminal
    return data


def _counts(data: Path) -> tuple[int, int, int]:
    with sqlite3.connect(data / "curbdesk.sqlite3") as c:
        return tuple(c.execute(f"select count(*) from {t}").fetchone()[0]  # type: ignore[return-value]
                     for t in ("audit_log", "users", "api_tokens"))


def test_every_command_is_in_the_table(tmp_path: Path) -> None:
    # demo fills an empty or demo database; setup makes a new office with its first administrator
    assert _command_paths(build_parser()) == set(_commands(tmp_path, tmp_path)) | {"demo", "setup"}


@pytest.mark.parametrize("command", sorted(_commands(Path("out"), Path("files"))))
def test_every_command_refuses_without_credentials(command: str, office: Path, demo_office: Path,
                                                   tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv, _lacking = _commands(tmp_path / "out", demo_office / "files")[command]
    before = _counts(office)
    assert main(argv) == 2
    assert capsys.readouterr().err.strip() == f"error: {NO_CREDENTIALS}"
    assert _counts(office) == before  # nothing written, not even an audit entry
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("command", sorted(c for c, (_a, who) in _commands(Path("o"), Path("f")).items() if who))
def test_a_user_lacking_the_permission_is_refused(command: str, office: Path, demo_office: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    argv, who = _commands(tmp_path / "out", demo_office / "files")[command]
    assert who is not None
    run = signed_in(monkeypatch, DEMO_PASSWORDS, default=who)
    users_before = _counts(office)[1]
    assert run(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and " may not " in err and len(err.strip().splitlines()) == 1, err
    assert _counts(office)[1] == users_before
    assert list((tmp_path / "out").iterdir()) == []


def test_no_one_adds_an_administrator_without_signing_in(office: Path, capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue's first attack: `users add mallory --role admin --password-stdin`, no credentials."""
    monkeypatch.setattr(sys, "stdin", io.StringIO("mallory-password-1\n"))
    assert main(["users", "add", "mallory", "--role", "admin", "--name", "Mallory", "--password-stdin"]) == 2
    assert "needs a signed-in user" in capsys.readouterr().err
    with pytest.raises(UserError, match="Wrong username or password"):
        _login(office, "mallory", "mallory-password-1")


def _login(data: Path, username: str, password: str) -> object:
    paths = AppPaths(data)
    db = Database(paths.default_db_url)
    try:
        return users.login(make_app_context(db, paths), username, password)
    finally:
        db.dispose()


def test_as_a_user_needs_that_users_password(office: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # no password and stdin is not a terminal: one clear sentence, nothing asked
    assert main(["--as", "admin", "users", "list"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: No password for admin: set CURBDESK_PASSWORD, run the command at a terminal, or use an API "
        "token in CURBDESK_TOKEN.")
    monkeypatch.setenv("CURBDESK_PASSWORD", "not-the-password")
    assert main(["--as", "admin", "users", "list"]) == 2
    assert capsys.readouterr().err.strip() == f"error: {users.SIGN_IN_FAILED}"
    monkeypatch.setenv("CURBDESK_PASSWORD", DEMO_PASSWORDS["admin"])
    assert main(["--as", "admin", "users", "list"]) == 0
    assert "supervisor" in capsys.readouterr().out
    # CURBDESK_USER names the account as --as does
    monkeypatch.setenv("CURBDESK_USER", "admin")
    assert main(["users", "list"]) == 0


def test_the_password_is_asked_on_a_terminal(office: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr("getpass.getpass", lambda prompt: asked.append(prompt) or DEMO_PASSWORDS["supervisor"])
    assert main(["--as", "supervisor", "verify-audit"]) == 0
    assert asked == ["Password for supervisor: "]
    with sqlite3.connect(office / "curbdesk.sqlite3") as c:
        rows = c.execute("select action, username, reason from audit_log order by id desc limit 2").fetchall()
    assert rows == [("audit.verified", "supervisor", None),
                    ("user.signed_in", "supervisor", "command line: verify-audit")]


def test_a_token_runs_its_scope_as_its_user_until_revoked(office: Path, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    admin = signed_in(monkeypatch, DEMO_PASSWORDS)
    assert admin(["users", "token", "issue", "supervisor", "--scope", "daily-run", "--days", "7"]) == 0
    got = capsys.readouterr()
    secret = got.out.strip()
    assert secret.startswith("cdt_") and len(secret) > 40 and "shown only now" in got.err
    assert secret.encode() not in (office / "curbdesk.sqlite3").read_bytes()  # only its hash is kept

    for name in ("CURBDESK_USER", "CURBDESK_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CURBDESK_TOKEN", secret)
    assert main(["escalate", "--as-of", "2026-12-01"]) == 0
    assert "Daily escalation" in capsys.readouterr().out
    assert main(["import", "payments", str(LOCKBOX)]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: This API token (scope daily-run) may not run 'import payments'; it may run: appeals deadlines, "
        "escalate, plans check, plates read.")
    with sqlite3.connect(office / "curbdesk.sqlite3") as c:
        trail = c.execute("select action, username from audit_log where action like 'token.%' order by id").fetchall()
        steps = {u for (u,) in c.execute("select distinct username from audit_log where username like 'system:%'")}
    assert trail == [("token.issued", "admin"), ("token.used", "supervisor")]
    # the daily run's automatic steps act as the system, named with the user who started it
    assert "system:daily-run by supervisor" in steps

    monkeypatch.delenv("CURBDESK_TOKEN")
    assert admin(["users", "token", "list"]) == 0
    listing = capsys.readouterr().out
    assert "supervisor" in listing and "daily-run" in listing and "active" in listing
    assert admin(["users", "token", "revoke", "1"]) == 0
    capsys.readouterr()
    monkeypatch.setenv("CURBDESK_TOKEN", secret)
    for name in ("CURBDESK_USER", "CURBDESK_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    assert main(["escalate"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: This API token was revoked on ") and err.count(". ") == 0
    monkeypatch.setenv("CURBDESK_TOKEN", "cdt_made-up")
    assert main(["escalate"]) == 2
    assert capsys.readouterr().err.strip() == f"error: {tokens.INVALID}"


def test_a_token_has_no_more_power_than_its_user(app: AppContext, actors: dict) -> None:
    _id, secret = tokens.issue(app, actors[Role.ADMIN], "clerk", "all", days=1)
    clerk = tokens.authenticate(app, secret, "escalate")  # the scope allows it ...
    with pytest.raises(PermissionDenied, match="may not run the daily escalation"):
        run_daily(app, clerk)  # ... the clerk's role does not


def test_tokens_expire_and_only_administrators_manage_them(app: AppContext, actors: dict, clock: FixedClock) -> None:
    for role in (Role.SUPERVISOR, Role.CLERK):
        with pytest.raises(PermissionDenied):
            tokens.issue(app, actors[role], role.value, "read")
        with pytest.raises(PermissionDenied):
            tokens.list_tokens(app, actors[role])
    with pytest.raises(UserError, match="from 1 to 366 days"):
        tokens.issue(app, actors[Role.ADMIN], "clerk", "read", days=400)
    with pytest.raises(UserError, match="not a token scope"):
        tokens.issue(app, actors[Role.ADMIN], "clerk", "everything")
    _id, secret = tokens.issue(app, actors[Role.ADMIN], "clerk", "read", days=2)
    assert tokens.authenticate(app, secret, "export citations").username == "clerk"
    clock.now += timedelta(days=2)
    with pytest.raises(UserError, match=r"^This API token expired on \d{4}-\d\d-\d\d; ask an administrator"):
        tokens.authenticate(app, secret, "export citations")
    # a disabled user's tokens stop at once
    clock.now -= timedelta(days=2)
    users.set_active(app, actors[Role.ADMIN], "clerk", False, "left")
    with pytest.raises(UserError, match="disabled or locked"):
        tokens.authenticate(app, secret, "export citations")


def test_the_daily_run_is_started_by_someone_allowed_to(app: AppContext, actors: dict) -> None:
    with pytest.raises(PermissionDenied):
        run_daily(app, actors[Role.CLERK])
    run_daily(app, actors[Role.SUPERVISOR])


def test_an_older_database_is_upgraded_only_by_an_administrator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    from alembic import command

    data = tmp_path / "data"
    paths = AppPaths(data)
    paths.ensure()
    db = Database(paths.default_db_url)
    cfg = alembic_config(db)
    with db.engine.begin() as conn:  # a schema from before sign-in lockouts and tokens
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "casework_0002")
    with db.engine.begin() as c:
        for name, role, password in (("root", "admin", ADMIN_PASSWORD), ("carla", "clerk", "carla-password-1")):
            c.exec_driver_sql("insert into users (username, full_name, role, password_hash, active, created_at, "
                              "failed_logins) values (?, ?, ?, ?, 1, '2026-01-01 00:00:00', 0)",
                              (name, name.title(), role, users.hash_password(password)))
    db.dispose()
    monkeypatch.setenv("CURBDESK_DATA_DIR", str(data))
    monkeypatch.delenv("CURBDESK_DB", raising=False)
    run = signed_in(monkeypatch, {"root": ADMIN_PASSWORD, "carla": "carla-password-1"}, default="root")

    assert run(["users", "list"]) == 2  # no command quietly upgrades it
    assert "an administrator runs `main.py --as USER db upgrade` first" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    for name in ("CURBDESK_USER", "CURBDESK_PASSWORD"):
        monkeypatch.delenv(name)
    assert main(["db", "upgrade"]) == 2
    assert "needs a signed-in user" in capsys.readouterr().err
    assert run(["--as", "carla", "db", "upgrade"]) == 2
    assert "may not upgrade the database schema" in capsys.readouterr().err
    assert run(["--as", "root", "db", "upgrade"]) == 0
    assert f"upgraded from casework_0002 to {head_revision()}" in capsys.readouterr().out
    with sqlite3.connect(data / "curbdesk.sqlite3") as c:
        assert c.execute("select username from audit_log where action = 'database.upgraded'").fetchall() == [
            ("root",)]
    assert run(["users", "list"]) == 0


def test_demo_refuses_a_real_office(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    new_office(data)
    monkeypatch.setenv("CURBDESK_DATA_DIR", str(data))
    monkeypatch.delenv("CURBDESK_DB", raising=False)
    run = signed_in(monkeypatch, {"admin": ADMIN_PASSWORD})
    monkeypatch.setattr(sys, "stdin", io.StringIO("ada-password-12\n"))
    assert run(["users", "add", "ada", "--role", "clerk", "--name", "Ada Real", "--password-stdin"]) == 0
    capsys.readouterr()
    before = _counts(data)
    assert main(["demo", "--citations", "5"]) == 2
    assert capsys.readouterr().err.strip() == f"error: {NOT_A_DEMO}"
    assert _counts(data) == before
    with sqlite3.connect(data / "curbdesk.sqlite3") as c:
        assert c.execute("select count(*) from citations").fetchone()[0] == 0


def test_demo_refuses_cases_it_did_not_make(app: AppContext) -> None:
    add_citation(app)  # a real office's case, no user yet (as a database restored without its accounts)
    with pytest.raises(UserError, match="holds a real office"):
        build_demo(app, 5)
