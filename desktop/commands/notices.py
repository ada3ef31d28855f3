"""Notice commands: print the due notices as batches, confirm a batch mailed, record returned mail.

    notices --due [--out DIR] [--batch-size N] [--workers N] [--max-pieces N]
    notices confirm BATCH_ID [--mailed-on YYYY-MM-DD]
    notices returned NOTICE_ID --reason TEXT
    notices log [--status S] [--limit N]
"""

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
        raise argparse.ArgumentTypeError(f"'{text}' is not a date like 2026-11-24") from None


def register(sub: Any) -> None:
    p = sub.add_parser("notices", help="print the due notices as batches; confirm mailing; returned mail",
                       description="Print the queued notices as print batches (one PDF per batch), confirm a "
                                   "batch mailed, record returned mail, or list the mail log.")
    p.add_argument("--due", action="store_true", help="render the due notices as print batches")
    p.add_argument("--out", type=Path, help="folder for the batch PDFs (default: the mail.out_dir setting "
                                            "or the data folder's print/batches)")
    p.add_argument("--batch-size", type=int, help="pieces per PDF (default: the mail.batch_size setting)")
    p.add_argument("--workers", type=int, help="processes for large runs (default: mail.render_processes)")
    p.add_argument("--max-pieces", type=int, help="print at most N pieces, oldest queued first; the rest wait for "
                                                  "the next run (default: mail.run_max_pieces; 0: no limit)")
    p.set_defaults(handler=cmd_notices)
    nsub = p.add_subparsers(dest="notices_command", metavar="ACTION")
    c = nsub.add_parser("confirm", help="the batch was printed and posted: the mailing date starts the clocks")
    c.add_argument("batch_id", type=int)
    c.add_argument("--mailed-on", type=_date, help="the posting date (default: today)")
    c.set_defaults(handler=cmd_confirm)
    r = nsub.add_parser("returned", help="a mailed piece came back: flag the address, hold further pieces")
    r.add_argument("notice_id", type=int)
    r.add_argument("--reason", required=True, help="what the post office marked, e.g. 'Moved, left no address'")
    r.set_defaults(handler=cmd_returned)
    lg = nsub.add_parser("log", help="the mail log: every piece with its status, batch, serial and dates")
    lg.add_argument("--status", choices=["queued", "held", "printed", "mailed", "returned", "cancelled"])
    lg.add_argument("--limit", type=int, default=50)
    lg.set_defaults(handler=cmd_log)


def cmd_notices(env: Any) -> int:
    from desktop.services.notices.runs import run_notices  # lazy: 0.7 s at start-up

    if not env.args.due:
        raise UserError("Say what to do: 'notices --due' prints the due notices; see 'notices --help'.")
    app = env.app()
    actor = env.actor(app)
    last = [-1]

    def progress(done: int, total: int, text: str) -> None:
        pct = done * 100 // max(total, 1)
        if pct != last[0] and sys.stderr.isatty():
            print(f"\r{text[:70]:70} {pct:3d}%", end="", file=sys.stderr)
            last[0] = pct

    result = run_notices(app, actor, env.args.out, progress, batch_size=env.args.batch_size,
                         workers=env.args.workers, max_pieces=env.args.max_pieces)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(result.summary())
    for h in result.held:
        what = "withdrawn" if h.cancelled else "waiting" if h.waiting else "held"
        print(f"  {what} notice {h.notice_id} ({h.citation_number}): {h.reason}", file=sys.stderr)
    return 0


def cmd_confirm(env: Any) -> int:
    from desktop.services.notices.runs import confirm_mailed  # lazy: 0.7 s at start-up

    app = env.app()
    done = confirm_mailed(app, env.actor(app), env.args.batch_id, env.args.mailed_on)
    print(f"batch {done.batch_id}: {done.pieces:,} pieces confirmed mailed on {done.mailed_on:%Y-%m-%d}")
    return 0


def cmd_returned(env: Any) -> int:
    from desktop.services.notices.runs import record_returned  # lazy: 0.7 s at start-up

    app = env.app()
    got = record_returned(app, env.actor(app), env.args.notice_id, env.args.reason)
    print(f"notice {got.notice_id} recorded as returned; the owner's address is marked bad, "
          f"{got.held_pieces} queued piece(s) held, the case is on the owner-lookup list")
    return 0


def cmd_log(env: Any) -> int:
    from desktop.services.notices.runs import MailLogFilter, mail_log  # lazy: 0.7 s at start-up

    app = env.app()
    rows = mail_log(app, env.actor(app), MailLogFilter(status=env.args.status or ""), 0, env.args.limit)
    for r in rows:
        mailed = f"{r.mailed_at:%Y-%m-%d}" if r.mailed_at else "-"
        print(f"{r.id:8} {r.citation_number:16} {r.kind:34} {r.status:9} batch {r.batch_id or '-':>5} "
              f"serial {r.serial or '-':>10} mailed {mailed:10} {r.note[:60]}")
    return 0
