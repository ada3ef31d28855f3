"""How a command signs in: a user's password or an API token; never the system account.

`--as USER` (or CURBDESK_USER) with the password from CURBDESK_PASSWORD or asked on the terminal, else the API
token in CURBDESK_TOKEN (an administrator issues it per user and scope: `users token issue`). The services
then check that user's permissions as for any screen.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Any

from desktop.domain.errors import UserError


def acting_username(args: argparse.Namespace) -> str:
    return (getattr(args, "as_user", None) or os.environ.get("CURBDESK_USER") or "").strip()


NO_CREDENTIALS = ("This command needs a signed-in user: give --as USER (the password from CURBDESK_PASSWORD or "
                  "asked on the terminal), or an API token in CURBDESK_TOKEN.")


def password_for(username: str) -> str:
    """CURBDESK_PASSWORD, else asked on the terminal; never read from a pipe (stdin may carry the command's
    own input, and a password in a file belongs in the environment of the job that reads it)."""
    password = os.environ.get("CURBDESK_PASSWORD")
    if password is not None:
        return password
    if not sys.stdin.isatty():
        raise UserError(f"No password for {username}: set CURBDESK_PASSWORD, run the command at a terminal, "
                        "or use an API token in CURBDESK_TOKEN.")
    return getpass.getpass(f"Password for {username}: ")


def authenticate(app: Any, args: argparse.Namespace, *, any_schema: bool = False) -> Any:
    """Who runs this command: `--as USER` (or CURBDESK_USER) with a password, else the API token in
    CURBDESK_TOKEN, limited to its scope's commands. Without either, the command is refused. `any_schema`
    checks only the password, reading columns every schema revision has (for `db upgrade`)."""
    from desktop.services.admin import tokens, users  # lazy: the services cost 0.5 s at start-up

    command = getattr(args, "command_path", args.command)
    username = acting_username(args)
    if username:
        password = password_for(username)
        if any_schema:
            return users.check_password_any_schema(app, username, password)
        return users.login(app, username, password, via=f"command line: {command}")
    token = os.environ.get("CURBDESK_TOKEN", "").strip()
    if token:
        if any_schema:
            raise UserError("Upgrading an older database needs an administrator's password (--as), not a token.")
        return tokens.authenticate(app, token, command)
    raise UserError(NO_CREDENTIALS)
