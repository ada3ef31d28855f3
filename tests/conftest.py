"""Shared fixtures: a migrated temporary database (SQLite, and PostgreSQL where reachable),
actors for every role, and offscreen Qt."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox --disable-gpu")

from desktop.bootstrap import make_app_context  # noqa: E402
from desktop.domain.roles import Role  # noqa: E402
from desktop.paths import AppPaths  # noqa: E402
from desktop.persistence.db import Database  # noqa: E402
from desktop.persistence.migrate import upgrade  # noqa: E402
from desktop.services.admin import users  # noqa: E402
from desktop.services.core.context import Actor, AppContext  # noqa: E402

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
PG_ADMIN_URL = os.environ.get("CURBDESK_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED.exists():
        pytest.skip(f"the shared data folder is not at {SHARED}")
    return SHARED


class FixedClock:
    """A clock a test can set and move."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests use argon2id with minimal cost; production parameters are tested on their own."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture(autouse=True)
def _no_credentials_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line's credentials come from each test, never from the environment the suite runs in."""
    for name in ("CURBDESK_USER", "CURBDESK_PASSWORD", "CURBDESK_TOKEN"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _no_connection_profile_of_the_shell(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The connection profile (the office's database) is each test's own, never the developer's."""
    monkeypatch.setenv("CURBDESK_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test instead of migrating every time."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    with db.engine.connect() as c:
        c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


def make_app(url: str, tmp_path: Path, clock: FixedClock | None = None, *, migrate: bool = True) -> AppContext:
    db = Database(url)
    if migrate:
        upgrade(db)
    paths = AppPaths(tmp_path / "data")
    paths.ensure()
    return make_app_context(db, paths, clock)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 24, 18, 0, tzinfo=timezone.utc))


def _sqlite_copy(template: Path, tmp_path: Path) -> str:
    target = tmp_path / "test.sqlite3"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def app(tmp_path: Path, clock: FixedClock, sqlite_template: Path) -> Iterator[AppContext]:
    a = make_app(_sqlite_copy(sqlite_template, tmp_path), tmp_path, clock, migrate=False)
    yield a
    a.db.dispose()


def _pg_reachable() -> str | None:
    try:
        import psycopg

        url = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url, connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


@pytest.fixture(scope="session")
def pg_server() -> str:
    problem = _pg_reachable()
    if problem:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI but unreachable at {PG_ADMIN_URL}: {problem}")
        pytest.skip(f"no PostgreSQL server reachable at {PG_ADMIN_URL} ({problem})")
    return PG_ADMIN_URL


def _pg_admin(server: str) -> str:
    return server.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture(scope="session")
def pg_template(pg_server: str) -> Iterator[str]:
    """A migrated PostgreSQL database that each test's database is created from."""
    import psycopg

    name = f"curbdesk_tmpl_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_pg_admin(pg_server), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    db = Database(f"{pg_server.rsplit('/', 1)[0]}/{name}")
    upgrade(db)
    db.dispose()
    yield name
    with psycopg.connect(_pg_admin(pg_server), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url(pg_server: str, pg_template: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test, dropped afterwards."""
    import psycopg

    name = f"curbdesk_t_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin(pg_server)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    base = pg_server.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_app(pg_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[AppContext]:
    a = make_app(pg_url, tmp_path, clock, migrate=False)
    yield a
    a.db.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_app(request: pytest.FixtureRequest, tmp_path: Path, clock: FixedClock) -> Iterator[AppContext]:
    """The same test on SQLite and on the real PostgreSQL server."""
    if request.param == "sqlite":
        url = _sqlite_copy(request.getfixturevalue("sqlite_template"), tmp_path)
    else:
        url = request.getfixturevalue("pg_url")
    a = make_app(url, tmp_path, clock, migrate=False)
    yield a
    a.db.dispose()


PASSWORDS = {r: f"{r.value}-password-1" for r in Role}


def seed_users(app: AppContext) -> dict[Role, Actor]:
    """One account per role; returns their actors."""
    system = Actor.system("test")
    users.add_user(app, system, "admin", "Ada Admin", "admin", PASSWORDS[Role.ADMIN])
    admin = users.actor_for(app, "admin")
    out = {Role.ADMIN: admin}
    for role in Role:
        if role is Role.ADMIN:
            continue
        users.add_user(app, admin, role.value, role.label, role.value, PASSWORDS[role])
        out[role] = users.actor_for(app, role.value)
    return out


@pytest.fixture
def actors(app: AppContext) -> dict[Role, Actor]:
    return seed_users(app)


_EXIT_STATUS = pytest.StashKey[int]()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """End Qt's work while the interpreter is whole: a pool thread still running Python, or a widget
    deleted by the finalizer after QApplication, crashes the process after the last test passed."""
    import sys

    session.config.stash[_EXIT_STATUS] = int(exitstatus)

    if "desktop.ui.common.tasks" not in sys.modules:
        return
    import gc

    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication

    from desktop.ui.common.tasks import stop_all_runners

    stop_all_runners(10000)
    app = QApplication.instance()
    if app is None:
        return
    app.aboutToQuit.emit()  # what quitting does first: map views drop their web pages, runners wait
    for widget in QApplication.topLevelWidgets():
        widget.close()
        widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    app.processEvents()
    gc.collect()


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Once pytest has reported, a run that loaded Qt ends without the interpreter's finalizers.

    The session's Qt objects were ended above while everything was whole; what is left is CPython tearing
    down modules in an order Qt's C++ destructors (WebEngine's profile, the application object) do not
    expect, which has crashed a run that had passed every test (SIGSEGV after the summary, exit 139). The
    result is already written; the exit status is pytest's own. CURBDESK_TEST_FINALIZE=1 keeps the
    finalizers, to look for such a crash on purpose."""
    import sys

    if "PySide6.QtCore" not in sys.modules or os.environ.get("CURBDESK_TEST_FINALIZE") == "1":
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(config.stash.get(_EXIT_STATUS, 0))
