"""Foundation commands: demo, db upgrade/backup/restore, verify-audit, users, export citations."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import Any

from desktop.commands._auth import NO_CREDENTIALS, acting_username, authenticate, password_for
from desktop.commands._shared import subcommand_group
from desktop.domain.errors import UserError


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="fill the database with a realistic demo office")
    p.add_argument("--citations", type=int, default=2000, help="how many citations (default 2000)")
    p.add_argument("--seed", type=int, default=7)
    p.set_defaults(handler=cmd_demo)

    p = sub.add_parser("db", help="schema migrations and online backup")
    dsub = p.add_subparsers(dest="db_command", required=True)
    u = dsub.add_parser("upgrade", help="bring the schema to the newest version (backs up first)")
    u.set_defaults(handler=cmd_db_upgrade)
    b = dsub.add_parser("backup", help="a consistent copy of the live database")
    b.add_argument("file", type=Path)
    b.add_argument("--force", action="store_true", help="replace the file if it exists")
    b.set_defaults(handler=cmd_db_backup)
    r = dsub.add_parser("restore", help="replace the database with a backup (checked first; all or nothing)")
    r.add_argument("file", type=Path, help="a backup: SQLite file, or pg_dump custom format (.pgdump)")
    r.add_argument("--force", action="store_true",
                   help="replace a database that is not empty (administrators; a copy of it is taken first)")
    r.set_defaults(handler=cmd_db_restore)

    p = sub.add_parser("verify-audit", help="check the audit trail, its seal and the sealed rows; write a checkpoint")
    p.set_defaults(handler=cmd_verify_audit)

    p = sub.add_parser("users", help="user accounts")
    usub = p.add_subparsers(dest="users_command", required=True)
    a = usub.add_parser("add", help="add a user (the first one must be an admin)")
    a.add_argument("username")
    a.add_argument("--role", required=True,
                   choices=["clerk", "hearing_officer", "mail_office", "supervisor", "admin"])
    a.add_argument("--name", required=True, help="full name")
    a.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    a.set_defaults(handler=cmd_users_add)
    pw = usub.add_parser("passwd", help="change your own password (the current one first), or, as an administrator "
                                        "(--as ADMIN), reset another's: they choose a new one at their next sign-in")
    pw.add_argument("username")
    pw.add_argument("--password-stdin", action="store_true",
                    help="read the new password from standard input instead of asking twice on the terminal")
    pw.set_defaults(handler=cmd_users_passwd)
    ls = usub.add_parser("list", help="list the accounts")
    ls.set_defaults(handler=cmd_users_list)
    t = usub.add_parser("token", help="API tokens for unattended jobs (cron, Task Scheduler)")
    tsub = t.add_subparsers(dest="token_command", required=True)
    ti = tsub.add_parser("issue", help="issue a token acting as USER for one scope of commands (shown once)")
    ti.add_argument("username")
    ti.add_argument("--scope", required=True, help="daily-run, imports, sync, notices, backup, read or all")
    ti.add_argument("--days", type=int, default=30, help="days until it expires (default 30)")
    ti.set_defaults(handler=cmd_token_issue)
    tl = tsub.add_parser("list", help="every token with its user, scope, expiry and last use")
    tl.set_defaults(handler=cmd_token_list)
    tr = tsub.add_parser("revoke", help="revoke a token at once")
    tr.add_argument("token_id", type=int, metavar="ID")
    tr.set_defaults(handler=cmd_token_revoke)

    esub = subcommand_group(sub, "export", "export data as CSV")
    c = esub.add_parser("citations", help="every citation with its status, evidence and balance")
    c.add_argument("--out", type=Path, required=True)
    c.set_defaults(handler=cmd_export_citations)


def cmd_demo(env: Any) -> int:
    from desktop.demo.office import build_demo  # lazy: 0.5 s at start-up

    if env.args.citations < 1:
        raise UserError("--citations must be at least 1.")
    app = env.app(sign_in=False)
    # No sign-in: the demo fills only a new, empty database or a demo one (build_demo refuses anything
    # else), and a demo's accounts and passwords are public (README).
    last = [-1]

    def progress(stage: str, done: int, total: int) -> None:
        pct = done * 100 // max(total, 1)
        if pct != last[0] and sys.stderr.isatty():
            print(f"\r{stage}: {done:,}/{total:,} ({pct}%)", end="", file=sys.stderr)
            last[0] = pct

    result = build_demo(app, env.args.citations, env.args.seed, progress)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(f"demo office ready: {result.citations_added:,} citations added, {result.citations_total:,} in all, "
          f"{result.photos_stored:,} photos stored; database {app.db.display_name()}")
    return 0


def cmd_db_upgrade(env: Any) -> int:
    from desktop.persistence.migrate import current_revision, head_revision  # lazy: 0.5 s at start-up
    from desktop.services.admin import maintenance  # lazy: 0.5 s at start-up

    app = env.app(migrate=False, sign_in=False)
    # A database with no schema has no accounts yet: it is set up without anyone signed in. Any other is
    # an administrator's to upgrade; an older schema is signed in to by a check that works on every revision.
    current = current_revision(app.db)
    actor = None if current is None else authenticate(app, env.args, any_schema=current != head_revision(app.db))
    done = maintenance.upgrade_database(app, actor)
    if done.before == done.after:
        print(f"schema already at {done.after}")
    else:
        print(f"schema upgraded from {done.before or 'empty'} to {done.after}"
              + (f"; backup at {done.backup}" if done.backup else ""))
    return 0


def cmd_db_backup(env: Any) -> int:
    # lazy: the services import SQLAlchemy (~480 ms), and every start, the GUI's too, builds this parser
    from desktop.services.admin import maintenance  # lazy: 0.5 s at start-up (see above)

    app = env.app(migrate=False)  # signs in first; refuses a missing database
    target = maintenance.backup_database(app, env.actor(app), env.args.file, force=env.args.force)
    print(f"backup written to {target} ({target.stat().st_size:,} bytes)")
    return 0


def cmd_db_restore(env: Any) -> int:
    from sqlalchemy.engine import make_url  # lazy: 0.5 s at start-up (SQLAlchemy, with the line above)

    from desktop.persistence.backups import identify  # lazy: 0.5 s at start-up (SQLAlchemy)
    from desktop.persistence.migrate import schema_state  # lazy: 0.5 s at start-up (SQLAlchemy)
    from desktop.services.admin import maintenance  # lazy: 0.5 s at start-up

    target = make_url(env.db_url)
    if target.get_backend_name() == "sqlite" and not Path(target.database or "").exists():
        identify(env.args.file)  # a file that is no backup is refused before a new database file is made for it
    app = env.app(migrate=False, sign_in=False)
    state = schema_state(app.db)
    # An empty database has no accounts to sign in with (a new workstation after a disaster); any other is
    # replaced only with --force, asked before the password, and by an administrator.
    actor = None
    if state.status != "empty":
        if not env.args.force:
            raise UserError(f"The database {app.db.display_name()} is not empty: restoring {env.args.file} would "
                            "replace everything in it; add --force to replace it (a copy of it is taken first).")
        actor = authenticate(app, env.args, any_schema=state.status != "current")
    done = maintenance.restore_database(app, actor, env.args.file, force=env.args.force)
    print(f"restored {app.db.display_name()} from {done.source} (schema {done.revision})"
          + (f"; the database as it was is at {done.safety_backup}" if done.safety_backup else ""))
    if done.old_checkpoints:
        print(f"the old trail's checkpoints were set aside in {done.old_checkpoints}; run verify-audit to anchor "
              "the restored one")
    if done.needs_upgrade:
        print("the backup has an earlier release's schema: an administrator runs `main.py --as USER db upgrade`")
    return 0


def cmd_verify_audit(env: Any) -> int:
    # lazy: the services import SQLAlchemy (~480 ms), and every start, the GUI's too, builds this parser
    from desktop.services.admin import maintenance

    app = env.app(migrate=False)
    result = maintenance.verify_audit_trail(app, env.actor(app))
    # one line per finding (each names the entry or row), on standard error with exit 3
    print(result.message(), file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 3


def cmd_users_add(env: Any) -> int:
    from desktop.services.admin import users  # lazy: 0.5 s at start-up

    app = env.app(sign_in=False)
    # the very first account of a new office is added without a sign-in (there is nobody to sign in yet)
    actor = env.actor(app) if users.has_users(app) else None  # signed in before the new password is read
    if env.args.password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise UserError("The two passwords differ.")
    if actor is None:
        if env.args.role != "admin":
            raise UserError("The first account must be an administrator.")
        uid = users.add_first_administrator(app, env.args.username, env.args.name, password)
    else:
        uid = users.add_user(app, actor, env.args.username, env.args.name, env.args.role, password)
    print(f"user {env.args.username} ({env.args.role}) added with id {uid}")
    return 0


def _new_password(env: Any, username: str) -> str:
    if env.args.password_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    password = getpass.getpass(f"New password for {username}: ")
    if getpass.getpass("Again: ") != password:
        raise UserError("The two passwords differ; nothing was changed.")
    return password


def cmd_users_passwd(env: Any) -> int:
    """Your own password (proved by the current one, which also replaces a password an administrator
    reset), or, signed in as an administrator, another user's (reset: they change it at their next sign-in)."""
    from desktop.services.admin import users  # lazy: 0.5 s at start-up

    name = env.args.username
    acting = acting_username(env.args)
    if not acting and os.environ.get("CURBDESK_TOKEN", "").strip():
        app = env.app()  # the token's user resets another's password (administrators only)
        actor = env.actor(app)
        if actor.username == name:
            raise UserError(f"Changing your own password needs your current one: main.py users passwd {name} at a "
                            "terminal, without a token.")
        users.reset_password(app, actor, name, _new_password(env, name), "command line")
        print(f"password of {name} reset; {name} chooses a new one at the next sign-in")
        return 0
    if not acting and os.environ.get("CURBDESK_PASSWORD") is None and not sys.stdin.isatty():
        raise UserError(NO_CREDENTIALS)
    if (acting or name) == name:
        app = env.app(sign_in=False)
        current = password_for(name) if os.environ.get("CURBDESK_PASSWORD") is not None or not sys.stdin.isatty() \
            else getpass.getpass(f"Current password for {name}: ")
        users.change_own_password(app, name, current, _new_password(env, name), via="command line: users passwd")
        print(f"password of {name} changed")
        return 0
    app = env.app()
    users.reset_password(app, env.actor(app), name, _new_password(env, name), "command line")
    print(f"password of {name} reset; {name} chooses a new one at the next sign-in")
    return 0


def cmd_users_list(env: Any) -> int:
    from desktop.services.admin.listing import list_users  # lazy: 0.5 s at start-up

    app = env.app()
    for u in list_users(app, env.actor(app)):
        print(f"{u.username:16} {u.role:16} {'active' if u.active else 'disabled':9} {u.full_name}")
    return 0


def cmd_token_issue(env: Any) -> int:
    from desktop.services.admin import tokens  # lazy: 0.5 s at start-up

    app = env.app()
    token_id, secret = tokens.issue(app, env.actor(app), env.args.username, env.args.scope, env.args.days)
    print(f"token {token_id} for {env.args.username} (scope {env.args.scope}, {env.args.days} days); "
          "it is shown only now, keep it where the job reads CURBDESK_TOKEN:", file=sys.stderr)
    print(secret)
    return 0


def cmd_token_list(env: Any) -> int:
    from desktop.services.admin import tokens  # lazy: 0.5 s at start-up

    app = env.app()
    now = app.now()
    for t in tokens.list_tokens(app, env.actor(app)):
        used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never"
        print(f"{t.id:5} {t.username:16} {t.scope:10} {t.status(now):8} expires {t.expires_at:%Y-%m-%d}  "
              f"last used {used}  issued by {t.created_by}")
    return 0


def cmd_token_revoke(env: Any) -> int:
    from desktop.services.admin import tokens  # lazy: 0.5 s at start-up

    app = env.app()
    tokens.revoke(app, env.actor(app), env.args.token_id)
    print(f"token {env.args.token_id} revoked")
    return 0


def cmd_export_citations(env: Any) -> int:
    from desktop.services.cases.queries import export_citations  # lazy: 0.5 s at start-up

    app = env.app()
    n = export_citations(app, env.actor(app), env.args.out)
    print(f"{n:,} citations written to {env.args.out}")
    return 0


__all__ = ["register", "argparse"]
