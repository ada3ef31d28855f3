"""Running the command line as a signed-in user, the way an office does: CURBDESK_USER (or --as) with the
account's password in CURBDESK_PASSWORD."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest

from desktop.bootstrap import make_app_context
from desktop.cli import main
from desktop.demo.office import DEMO_USERS
from desktop.paths import AppPaths
from desktop.persistence.db import Database
from desktop.persistence.migrate import upgrade
from desktop.services.admin import users

#: The demo office's accounts and passwords (README).
DEMO_PASSWORDS = {name: password for name, _full, _role, password in DEMO_USERS}


def signed_in(monkeypatch: pytest.MonkeyPatch, passwords: Mapping[str, str],
              default: str | None = "admin") -> Callable[[Sequence[str]], int]:
    """`main` with credentials: the account named by --as, else `default`, with its password from
    `passwords` in CURBDESK_PASSWORD (no credentials at all when `default` is None and there is no --as)."""

    def run(argv: Sequence[str]) -> int:
        args = list(argv)
        who = args[args.index("--as") + 1] if "--as" in args else default
        monkeypatch.delenv("CURBDESK_TOKEN", raising=False)
        monkeypatch.delenv("CURBDESK_USER", raising=False)
        monkeypatch.delenv("CURBDESK_PASSWORD", raising=False)
        if who is not None:
            if "--as" not in args:
                monkeypatch.setenv("CURBDESK_USER", who)
            if who in passwords:
                monkeypatch.setenv("CURBDESK_PASSWORD", passwords[who])
        return main(args)

    return run


def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CURBDESK_TOKEN", "CURBDESK_USER", "CURBDESK_PASSWORD"):
        monkeypatch.delenv(name, raising=False)


#: The password of the administrator `new_office` creates.
ADMIN_PASSWORD = "admin-password-1"


def new_office(data_dir: Path) -> None:
    """A new office's database in `data_dir` with its first administrator, `admin` (ADMIN_PASSWORD), made
    through the services, as the first-run dialog or `users add` would."""
    paths = AppPaths(data_dir)
    paths.ensure()
    db = Database(paths.default_db_url)
    try:
        upgrade(db)
        users.add_first_administrator(make_app_context(db, paths), "admin", "Ada Admin", ADMIN_PASSWORD)
    finally:
        db.dispose()
