"""Start-up on a database of the previous release (0.1.0's demo office, tests/fixtures/release-0.1.0): the
database is not upgraded behind anyone's back; an administrator who signs in is offered the upgrade (a backup
first) and is then signed in for real; a clerk is told to ask an administrator; a newer release's database
is refused in one sentence naming both schemas."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select, text

from desktop.domain.errors import UserError
from desktop.paths import AppPaths
from desktop.persistence.db import Database
from desktop.persistence.migrate import head_revision, schema_state
from desktop.persistence.models import AuditEntry
from desktop.ui import upgrade_prompt
from desktop.ui.app import _open_database
from desktop.ui.common.messages import MessageChannel
from desktop.ui.common.tasks import TaskRunner
from desktop.ui.login import LoginDialog
from tests.integration.core.test_upgrade_release_0_1_0 import RELEASE_REVISION, sqlite_office


@pytest.fixture
def opened(tmp_path: Path) -> Any:
    if head_revision() == RELEASE_REVISION:
        pytest.skip("this program's schema is the previous release's: nothing to upgrade")
    url, data = sqlite_office(tmp_path)
    result = _open_database(SimpleNamespace(db_url=url, paths=AppPaths(data)), None)
    yield result
    result["app"].db.dispose()


def sign_in(qtbot: Any, result: dict[str, Any], username: str, password: str) -> LoginDialog:
    login = LoginDialog(None)
    qtbot.addWidget(login)
    login.show()  # as at start-up: the sign-in is accepted (closed) before the prompt runs the upgrade
    login.any_schema = result["older"] is not None
    login.set_app(result["app"])
    login.username.setText(username)
    login.password.setText(password)
    with qtbot.waitSignal(login.accepted, timeout=10000):
        login.sign_in.click()
    return login


def prompts(monkeypatch: pytest.MonkeyPatch, answer: bool) -> dict[str, list[str]]:
    said: dict[str, list[str]] = {"ask": [], "tell": []}
    monkeypatch.setattr(upgrade_prompt, "ask", lambda _p, t: said["ask"].append(t) or answer)
    monkeypatch.setattr(upgrade_prompt, "tell", lambda _p, t: said["tell"].append(t))
    return said


def test_an_administrator_is_offered_the_upgrade_then_signed_in(qtbot, qapp, opened, monkeypatch) -> None:
    assert opened["older"].status == "older"
    app = opened["app"]
    assert schema_state(app.db).status == "older"  # opening did not upgrade it
    login = sign_in(qtbot, opened, "admin", "curbdesk-admin")
    said = prompts(monkeypatch, True)
    runner = TaskRunner()
    actor = upgrade_prompt.offer_upgrade(qapp, runner, app, opened["older"], login, MessageChannel(interactive=False))
    assert actor is not None and actor.username == "admin"
    assert "earlier release (security_sec_postgres)" in said["ask"][0] and "a backup is taken first" in said["ask"][0]
    assert f"upgraded from {RELEASE_REVISION} to {head_revision()}" in said["tell"][0]
    backup = Path(said["tell"][0].split("is at ", 1)[1].rstrip("."))
    assert backup.exists()
    assert schema_state(app.db).status == "current"
    with app.db.reading() as s:
        last = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(2)).all()
    assert [e.action for e in last] == ["user.signed_in", "database.upgraded"]
    assert last[0].reason == "sign-in after the upgrade"


def test_a_clerk_is_told_to_ask_an_administrator_and_nothing_changes(qtbot, qapp, opened, monkeypatch) -> None:
    app = opened["app"]
    login = sign_in(qtbot, opened, "clerk", "curbdesk-clerk")
    said = prompts(monkeypatch, True)
    actor = upgrade_prompt.offer_upgrade(qapp, TaskRunner(), app, opened["older"], login,
                                         MessageChannel(interactive=False))
    assert actor is None
    assert said["ask"] == [] and "Ask an administrator" in said["tell"][0]
    assert schema_state(app.db).status == "older"


def test_an_administrator_who_declines_leaves_the_database_as_it_was(qtbot, qapp, opened, monkeypatch) -> None:
    app = opened["app"]
    login = sign_in(qtbot, opened, "admin", "curbdesk-admin")
    prompts(monkeypatch, False)
    assert upgrade_prompt.offer_upgrade(qapp, TaskRunner(), app, opened["older"], login,
                                        MessageChannel(interactive=False)) is None
    assert schema_state(app.db).status == "older"


def test_a_newer_release_database_is_refused_at_start_up(tmp_path: Path) -> None:
    url, data = sqlite_office(tmp_path)
    db = Database(url)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'release_9_0001'"))
    db.dispose()
    with pytest.raises(UserError, match=r"newer release of Curbdesk \(schema release_9_0001\).*knows schemas up to"):
        _open_database(SimpleNamespace(db_url=url, paths=AppPaths(data)), None)
