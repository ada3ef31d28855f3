"""Foundation commands: demo, db upgrade/backup, verify-audit, users, export citations."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

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
    b.set_defaults(handler=cmd_db_backup)

    p = sub.add_parser("verify-audit", help="check the audit trail's hash chain")
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
    ls = usub.add_parser("list", help="list the accounts")
    ls.set_defaults(handler=cmd_users_list)

    esub = subcommand_group(sub, "export", "export data as CSV")
    c = esub.add_parser("citations", help="every citation with its status, evidence and balance")
    c.add_argument("--out", type=Path, required=True)
    c.set_defaults(handler=cmd_export_citations)


def cmd_demo(env: Any) -> int:
    from desktop.demo.office import build_demo  # lazy: 0.5 s at start-up

    if env.args.citations < 1:
        raise UserError("--citations must be at least 1.")
    app = env.app()
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
    from desktop.persistence.db import Database  # lazy: 0.5 s at start-up
    from desktop.persistence.migrate import current_revision, upgrade  # lazy: 0.5 s at start-up

    db = Database(env.db_url)
    db.check_connection()
    before = current_revision(db)
    backup = upgrade(db)
    after = current_revision(db)
    if before == after:
        print(f"schema already at {after}")
    else:
        print(f"schema upgraded from {before or 'empty'} to {after}" + (f"; backup at {backup}" if backup else ""))
    return 0


def cmd_db_backup(env: Any) -> int:
    # lazy: the services import SQLAlchemy (~480 ms), and every start, the GUI's too, builds this parser
    from desktop.persistence.migrate import current_revision  # lazy: 0.5 s at start-up (see above)
    from desktop.services.admin import maintenance  # lazy: 0.5 s at start-up (see above)

    app = env.app(migrate=False)
    if current_revision(app.db) is None:
        raise UserError(f"There is no Curbdesk database at {app.db.display_name()} to back up.")
    target = maintenance.backup_database(app, env.actor(app), env.args.file)
    print(f"backup written to {target} ({target.stat().st_size:,} bytes)")
    return 0


def cmd_verify_audit(env: Any) -> int:
    # lazy: the services import SQLAlchemy (~480 ms), and every start, the GUI's too, builds this parser
    from desktop.services.admin import maintenance

    app = env.app(migrate=False)
    result = maintenance.verify_audit_trail(app, env.actor(app))
    print(result.message(), file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 3


def cmd_users_add(env: Any) -> int:
    from desktop.services.admin import users  # lazy: 0.5 s at start-up

    if env.args.password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise UserError("The two passwords differ.")
    app = env.app()
    actor = env.actor(app)
    uid = users.add_user(app, actor, env.args.username, env.args.name, env.args.role, password)
    print(f"user {env.args.username} ({env.args.role}) added with id {uid}")
    return 0


def cmd_users_list(env: Any) -> int:
    from sqlalchemy import select  # lazy: 0.5 s at start-up

    from desktop.persistence.models import User  # lazy: 0.5 s at start-up

    app = env.app()
    with app.db.reading() as s:
        for u in s.scalars(select(User).order_by(User.username)):
            print(f"{u.username:16} {u.role:16} {'active' if u.active else 'disabled':9} {u.full_name}")
    return 0


def cmd_export_citations(env: Any) -> int:
    from desktop.services.cases.queries import export_citations  # lazy: 0.5 s at start-up

    app = env.app()
    n = export_citations(app, env.actor(app), env.args.out)
    print(f"{n:,} citations written to {env.args.out}")
    return 0


__all__ = ["register", "argparse"]
