"""Backup and audit verification as use cases: the permission checked against the current user row, an
audit entry for each, and the command line going through the same services."""

from __future__ import annotations

import io
import sqlite3
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from desktop.domain.errors import PermissionDenied
from desktop.domain.roles import Role
from desktop.persistence.models import AuditEntry
from desktop.services.admin import maintenance, users
from desktop.services.core import audit
from desktop.services.core.context import Actor, AppContext
from tests.conftest import PASSWORDS
from tests.helpers.signed_in import signed_in


def _entries(app: AppContext) -> list[AuditEntry]:
    with app.db.reading() as s:
        return list(s.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars())


def _count(app: AppContext) -> int:
    with app.db.reading() as s:
        return int(s.execute(select(func.count()).select_from(AuditEntry)).scalar_one())


def test_a_clerk_may_neither_back_up_nor_verify(app: AppContext, actors: dict[Role, Actor], tmp_path: Path) -> None:
    clerk = actors[Role.CLERK]
    before = _count(app)
    target = tmp_path / "copy.sqlite3"
    with pytest.raises(PermissionDenied, match="may not back up the database"):
        maintenance.backup_database(app, clerk, target)
    with pytest.raises(PermissionDenied, match="may not view the audit trail"):
        maintenance.verify_audit_trail(app, clerk)
    assert not target.exists()
    assert _count(app) == before


def test_backup_is_for_administrators_only(app: AppContext, actors: dict[Role, Actor], tmp_path: Path) -> None:
    with pytest.raises(PermissionDenied):
        maintenance.backup_database(app, actors[Role.SUPERVISOR], tmp_path / "copy.sqlite3")
    assert maintenance.verify_audit_trail(app, actors[Role.SUPERVISOR]).ok


def test_an_admins_backup_is_written_and_audited(app: AppContext, actors: dict[Role, Actor], tmp_path: Path) -> None:
    admin = actors[Role.ADMIN]
    target = tmp_path / "backups" / "copy.sqlite3"
    written = maintenance.backup_database(app, admin, target)
    assert written == target and target.exists()
    with sqlite3.connect(target) as c:
        assert c.execute("select count(*) from users").fetchone()[0] == len(Role)
    last = _entries(app)[-1]
    assert (last.action, last.entity_type, last.username) == ("database.backed_up", "database", "admin")
    assert last.after == {"file": str(target), "bytes": target.stat().st_size}
    assert audit.verify(app.db).ok


def test_verification_is_audited_with_its_outcome(app: AppContext, actors: dict[Role, Actor]) -> None:
    supervisor = actors[Role.SUPERVISOR]
    checked = _count(app)
    result = maintenance.verify_audit_trail(app, supervisor)
    assert result.ok and result.checked == checked
    last = _entries(app)[-1]
    assert (last.action, last.username) == ("audit.verified", "supervisor")
    assert last.after == {"ok": True, "checked": checked, "first_bad_id": None, "problem": None}
    with app.db.engine.begin() as c:
        c.execute(text("UPDATE audit_log SET reason = 'nothing to see' WHERE id = 2"))
    broken = maintenance.verify_audit_trail(app, supervisor)
    assert not broken.ok and broken.first_bad_id == 2
    assert _entries(app)[-1].after["first_bad_id"] == 2  # type: ignore[index]


def test_a_role_taken_away_since_sign_in_counts_at_once(app: AppContext, actors: dict[Role, Actor],
                                                        tmp_path: Path) -> None:
    """The actor still says administrator (signed in earlier); the user row says clerk now."""
    users.add_user(app, actors[Role.ADMIN], "ops", "Ops Admin", "admin", PASSWORDS[Role.ADMIN])
    ops = users.actor_for(app, "ops")
    with app.db.engine.begin() as c:
        c.execute(text("UPDATE users SET role = 'clerk' WHERE username = 'ops'"))
    assert ops.role is Role.ADMIN
    with pytest.raises(PermissionDenied):
        maintenance.backup_database(app, ops, tmp_path / "copy.sqlite3")
    with pytest.raises(PermissionDenied):
        maintenance.verify_audit_trail(app, ops)


# ------------------------------------------------------------------ the command line


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CURBDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CURBDESK_DB", raising=False)

    main = signed_in(monkeypatch, {"root": "a-long-password", "carla": "another-long-password"}, default="root")

    def run(*args: str, stdin: str | None = None) -> int:
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        return main(list(args))

    run.db = tmp_path / "data" / "curbdesk.sqlite3"  # type: ignore[attr-defined]
    return run


def test_the_command_line_backs_up_and_verifies_through_the_services(cli, capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("users", "add", "root", "--role", "admin", "--name", "Root", "--password-stdin",
               stdin="a-long-password\n") == 0
    assert cli("users", "add", "carla", "--role", "clerk", "--name", "Carla", "--password-stdin",
               stdin="another-long-password\n") == 0
    capsys.readouterr()
    target = tmp_path / "b.sqlite3"
    assert cli("--as", "carla", "db", "backup", str(target)) == 2
    assert "may not back up the database" in capsys.readouterr().err
    assert not target.exists()
    assert cli("--as", "carla", "verify-audit") == 2
    assert "may not view the audit trail" in capsys.readouterr().err

    assert cli("--as", "root", "db", "backup", str(target)) == 0
    assert target.exists()
    assert cli("verify-audit") == 0
    assert "Audit trail intact" in capsys.readouterr().out
    with sqlite3.connect(cli.db) as c:
        rows = c.execute("select action, username from audit_log where action not in ('user.signed_in') "
                         "order by id desc limit 2").fetchall()
    # the command line acts as the signed-in user, never the system account
    assert rows == [("audit.verified", "root"), ("database.backed_up", "root")]


def test_backing_up_where_there_is_no_database_is_one_clear_line(cli, capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("db", "backup", str(tmp_path / "b.sqlite3")) == 2
    assert "There is no Curbdesk database" in capsys.readouterr().err
