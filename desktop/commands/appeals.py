"""Appeals commands: the daily deadline rule, the open docket, a day's hearing docket, an evidence packet."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any

from desktop.domain.errors import UserError


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-24") from None


def register(sub: Any) -> None:
    p = sub.add_parser("appeals", help="appeals and hearings")
    asub = p.add_subparsers(dest="appeals_command", required=True)
    d = asub.add_parser("deadlines", help="apply the decision deadlines (England: deemed acceptance after 56 days) "
                                          "and list overdue appeals; part of the daily run")
    d.add_argument("--as-of", type=_date, help="the day to judge by (default: today in each case's time zone)")
    d.set_defaults(handler=cmd_deadlines)
    ls = asub.add_parser("list", help="open appeals, fewest days left first")
    ls.set_defaults(handler=cmd_list)
    k = asub.add_parser("docket", help="print a day's hearing docket as PDF")
    k.add_argument("--date", type=_date, required=True, help="the hearing day, e.g. 2026-11-26")
    k.add_argument("--out", type=Path, required=True, help="PDF file to write")
    k.add_argument("--officer", help="only this hearing officer's hearings (username)")
    k.set_defaults(handler=cmd_docket)
    pk = asub.add_parser("packet", help="print the evidence packet of a citation's latest appeal as PDF")
    pk.add_argument("citation_number")
    pk.add_argument("--out", type=Path, required=True, help="PDF file to write")
    pk.set_defaults(handler=cmd_packet)


def cmd_deadlines(env: Any) -> int:
    from desktop.services.appeals.deadlines import apply_appeal_deadlines  # lazy: 0.5 s at start-up

    app = env.app()
    summary = apply_appeal_deadlines(app, env.actor(app), env.args.as_of)
    for line in summary.lines():
        print(line)
    return 0


def cmd_list(env: Any) -> int:
    from desktop.services.appeals.lists import list_appeals  # lazy: 0.5 s at start-up

    app = env.app()
    rows = list_appeals(app, env.actor(app))
    if not rows:
        print("no open appeals")
    for r in rows:
        left = "—" if r.days_left is None else (f"{-r.days_left} days OVERDUE" if r.days_left < 0
                                                 else f"{r.days_left} days left")
        print(f"{r.number}  {r.citation_number:16} {r.profile_code:4} {r.level_name:28} "
              f"decide by {r.decide_by.isoformat() if r.decide_by else '—':10}  {left:18} {r.appellant_name}")
    return 0


def cmd_docket(env: Any) -> int:
    from sqlalchemy import select  # lazy: 0.5 s at start-up

    from desktop.persistence.models import User  # lazy: 0.5 s at start-up
    from desktop.services.appeals.lists import docket  # lazy: 0.5 s at start-up
    from desktop.services.appeals.packet import render_docket  # lazy: 0.5 s at start-up

    app = env.app()
    actor = env.actor(app)
    officer_id = None
    if env.args.officer:
        with app.db.reading() as s:
            officer_id = s.scalar(select(User.id).where(User.username == env.args.officer))
        if officer_id is None:
            raise UserError(f"There is no user called {env.args.officer}.")
    rows = docket(app, actor, env.args.date, officer_id)
    path = render_docket(app, actor, env.args.date, env.args.out, officer_id)
    print(f"docket for {env.args.date.isoformat()}: {len(rows)} hearings, written to {path}")
    return 0


def cmd_packet(env: Any) -> int:
    from desktop.services.appeals.lists import latest_appeal_id  # lazy: 0.5 s at start-up
    from desktop.services.appeals.packet import print_packet  # lazy: 0.5 s at start-up

    app = env.app()
    actor = env.actor(app)
    appeal_id = latest_appeal_id(app, actor, env.args.citation_number)
    result = print_packet(app, actor, appeal_id, env.args.out)
    path = result.path
    print(f"evidence packet written to {path} ({path.stat().st_size:,} bytes)")
    if not result.digests_ok:
        print("error: a photo or document of this appeal does not match its recorded digest: evidence may have "
              "been altered (the packet lists which). Restore the file from a backup before the hearing.",
              file=sys.stderr)
        return 3
    return 0
