"""The command line: every unattended job of a real office, calling the same services as the GUI.

Each area adds its commands through `register` hooks listed in COMMAND_MODULES, so this
file stays small. Errors a user can act on print one line and exit 2; bugs exit 1.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import desktop.commands
from desktop import __version__
from desktop.commands._auth import authenticate
from desktop.domain.errors import UserError
from desktop.logs import setup_logging
from desktop.paths import AppPaths, resolve_db_url
from desktop.persistence.connections import load_profile, profile_url

# Deferred imports: the database layer and the services (SQLAlchemy and 37 mapped tables, 305 ms) and the GUI
# (PySide6, 92 ms) are imported only by the path that needs them, so that the sign-in window paints in about
# 150 ms and a command that never opens the GUI never loads Qt (tests/benchmarks/bench_startup.py).

log = logging.getLogger("curbdesk.cli")


def command_modules() -> list[str]:
    """Every module of desktop.commands; each has `register(subparsers)` adding its commands."""
    names = sorted(m.name for m in pkgutil.iter_modules(desktop.commands.__path__) if not m.name.startswith("_"))
    return [f"desktop.commands.{n}" for n in (["core"] + [n for n in names if n != "core"])]


@dataclass
class CliEnv:
    """What every command gets: parsed arguments and a lazily opened application context."""

    args: argparse.Namespace
    paths: AppPaths
    db_url: str
    opened: list[Any] = field(default_factory=list)
    signed_in: Any = None

    def app(self, *, migrate: bool = True, sign_in: bool = True):  # type: ignore[no-untyped-def]
        """The application context, with the user signed in before the command does anything (`sign_in`
        False only for the commands that decide for themselves: demo, db upgrade, the first `users add`).

        `migrate` sets up the schema of a new, empty database; an existing one older than this program is
        refused: upgrading it is `db upgrade`, an administrator's command."""
        from desktop.bootstrap import make_app_context
        from desktop.persistence.db import Database
        from desktop.persistence.migrate import schema_state, upgrade

        try:
            self.paths.ensure()
        except OSError as exc:
            raise UserError(f"The data folder {self.paths.data_dir} cannot be written ({exc.strerror}): give one "
                            "you may write to with --data-dir or CURBDESK_DATA_DIR.") from None
        db = Database(self.db_url)
        self.opened.append(db)
        db.check_connection()
        db.check_rights()
        state = schema_state(db)
        refusal = state.refusal(db.display_name())
        if refusal:
            raise UserError(refusal)
        current, head = state.current, state.head
        if migrate:
            if state.status == "empty":
                upgrade(db)
                current = head
            elif state.status == "older":
                raise UserError(state.older_message(
                    db.display_name(), "an administrator runs `main.py --as USER db upgrade` first"))
        elif current is None and sign_in:
            raise UserError(f"There is no Curbdesk database at {db.display_name()}.")
        app = make_app_context(db, self.paths)
        if sign_in and self.signed_in is None:
            self.signed_in = authenticate(app, self.args, any_schema=current != head)
        return app

    def close(self) -> None:
        """Close the databases the command opened (the last connection to a SQLite file folds its
        write-ahead log back into the file)."""
        while self.opened:
            self.opened.pop().dispose()

    def actor(self, app):  # type: ignore[no-untyped-def]
        """The signed-in user the command acts as, authenticated once per run (see `authenticate`)."""
        if self.signed_in is None:
            self.signed_in = authenticate(app, self.args)
        return self.signed_in


def _name_commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> None:
    """Give every command its full name ("import payments"): what a token's scope lists."""
    if prefix and parser.get_default("handler") is not None:
        parser.set_defaults(command_path=" ".join(prefix))
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                _name_commands(sub, (*prefix, name))


def configured_db_url(db: str | None, paths: AppPaths) -> str:
    """--db, else CURBDESK_DB, else this user's connection profile (the office's server; the password from the
    keyring), else the data folder's SQLite file."""
    if db or os.environ.get("CURBDESK_DB"):
        return resolve_db_url(db, paths)
    try:
        profile = load_profile()
    except UserError as exc:
        log.warning("%s", exc)
        profile = None
    return profile_url(profile) if profile is not None else resolve_db_url(None, paths)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="main.py", description="Curbdesk: the back office of a parking enforcement agency.")
    parser.add_argument("--db", help="SQLAlchemy database URL (default: $CURBDESK_DB or the data folder's SQLite file)")
    parser.add_argument("--data-dir", help="data folder for evidence, print files and logs (default: $CURBDESK_DATA_DIR)")
    parser.add_argument("--as", dest="as_user", metavar="USER",
                        help="run the command as this user (default: $CURBDESK_USER); the password comes from "
                             "$CURBDESK_PASSWORD or is asked on the terminal. Unattended jobs use an API token "
                             "in $CURBDESK_TOKEN instead (main.py users token issue)")
    parser.add_argument("--version", action="version", version=f"Curbdesk {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages to the console")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in command_modules():
        importlib.import_module(name).register(sub)
    _name_commands(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    paths = AppPaths.resolve(args.data_dir)
    setup_logging(paths.log_dir, verbose=args.verbose, console=args.command is not None)
    db_url = configured_db_url(args.db, paths)
    env = CliEnv(args, paths, db_url)
    handler: Callable[[CliEnv], int] | None = getattr(args, "handler", None)
    if handler is None:
        from desktop.ui.app import run_gui

        return run_gui(env)
    try:
        return int(handler(env) or 0)
    except UserError as exc:
        print("error: " + " ".join(str(exc).split()), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; everything committed so far is kept.", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: one line for the user, the trace for the log
        log.exception("command %s failed", args.command)
        first = " ".join(str(exc).split())[:200]
        print(f"error: unexpected {type(exc).__name__}: {first} (details in {paths.log_dir / 'curbdesk.log'})",
              file=sys.stderr)
        return 1
    finally:
        env.close()


def add_out(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument("--out", type=Path, required=required, help="file to write")
