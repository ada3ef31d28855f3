"""Lists out on the command line: any list a screen shows, printed to PDF or exported to XLSX or CSV
(the format from the file's extension), with the same filters as the screen:

    export cases [--text T] [--status S ...] [--worklist W] [--from D] [--to D] --out FILE.pdf|.xlsx|.csv
    export review-queue --out FILE       export held-notices --out FILE
    export appeals [--all] [--text T] --out FILE
    export mail-log [--text T] [--status S] [--kind K] [--batch N] --out FILE
    export payment-list [--day D] [--source S] [--status S] --out FILE
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from desktop.commands._shared import iso_date, subcommand_group


def _out(p: Any) -> None:
    p.add_argument("--out", type=Path, required=True, metavar="FILE",
                   help="FILE.pdf to print, FILE.xlsx for a spreadsheet, FILE.csv")


def register(sub: Any) -> None:
    esub = subcommand_group(sub, "export", "export data as CSV")
    c = esub.add_parser("cases", help="the case list or a work list, as on the Cases screen (PDF, XLSX or CSV)")
    c.add_argument("--text", default="", help="citation number, plate, owner name, VIN or street address")
    c.add_argument("--status", action="append", default=[], metavar="STATUS",
                   help="open, paid, under_appeal ... (repeat for several)")
    c.add_argument("--worklist", metavar="LIST",
                   help="due, without_next_action, held_notices, owner_address, no_owner, on_hold, in_collections")
    c.add_argument("--from", dest="date_from", type=iso_date, metavar="DATE", help="issued on or after")
    c.add_argument("--to", dest="date_to", type=iso_date, metavar="DATE", help="issued on or before")
    _out(c)
    c.set_defaults(handler=cmd_export_cases)
    r = esub.add_parser("review-queue", help="the review queue (PDF, XLSX or CSV)")
    _out(r)
    r.set_defaults(handler=cmd_export_list, list_key="review-queue")
    h = esub.add_parser("held-notices", help="the held notices with why (PDF, XLSX or CSV)")
    _out(h)
    h.set_defaults(handler=cmd_export_list, list_key="held-notices")
    a = esub.add_parser("appeals", help="the appeals docket (PDF, XLSX or CSV)")
    a.add_argument("--all", action="store_true", help="decided appeals too")
    a.add_argument("--text", default="")
    _out(a)
    a.set_defaults(handler=cmd_export_appeals)
    m = esub.add_parser("mail-log", help="the mail log (PDF, XLSX or CSV)")
    m.add_argument("--text", default="", help="citation number, plate, serial or piece id")
    m.add_argument("--status", default="")
    m.add_argument("--kind", default="")
    m.add_argument("--batch", type=int)
    _out(m)
    m.set_defaults(handler=cmd_export_mail_log)
    p = esub.add_parser("payment-list", help="payments as listed on screen (PDF, XLSX or CSV)")
    p.add_argument("--day", type=iso_date, metavar="DATE", help="value date")
    p.add_argument("--source", default="")
    p.add_argument("--status", default="")
    _out(p)
    p.set_defaults(handler=cmd_export_payment_list)


def _run(env: Any, key: str, flt: Any) -> int:
    from desktop.services.lists import export_list  # lazy: every workflow's services, 0.6-1.2 s at start-up

    app = env.app()
    tty = sys.stderr.isatty()

    def progress(done: int, _total: int) -> None:
        if tty:
            print(f"\r{done:,} rows", end="", file=sys.stderr)

    result = export_list(app, env.actor(app), key, flt, env.args.out, progress=progress)
    if tty:
        print(file=sys.stderr)
    print(f"{result.rows:,} rows written to {result.path} ({result.format.upper()})")
    return 0


def cmd_export_list(env: Any) -> int:
    return _run(env, env.args.list_key, None)


def cmd_export_cases(env: Any) -> int:
    from desktop.services.cases.queries import CaseFilter  # lazy: 0.5 s at start-up

    a = env.args
    return _run(env, "cases", CaseFilter(text=a.text, date_from=a.date_from, date_to=a.date_to,
                                         statuses=tuple(a.status), worklist=a.worklist))


def cmd_export_appeals(env: Any) -> int:
    from desktop.services.lists import AppealsFilter  # lazy: every workflow's services, 0.6-1.2 s at start-up

    return _run(env, "appeals", AppealsFilter(pending_only=not env.args.all, text=env.args.text))


def cmd_export_mail_log(env: Any) -> int:
    from desktop.services.notices.runs import MailLogFilter  # lazy: 0.7 s at start-up

    a = env.args
    return _run(env, "mail-log", MailLogFilter(text=a.text, status=a.status, kind=a.kind, batch_id=a.batch))


def cmd_export_payment_list(env: Any) -> int:
    from desktop.services.lists import PaymentsFilter  # lazy: every workflow's services, 0.6-1.2 s at start-up

    a = env.args
    return _run(env, "payment-list", PaymentsFilter(day=a.day, source=a.source, status=a.status))
