"""Bulk work on the command line (supervisors and administrators), the same service as the Cases screen's
Bulk… menu:

    bulk void    (--citation NUM ... | --status S --worklist W --text T --from D --to D) --code CODE [--reason TEXT]
    bulk hold    (selection) --reason TEXT           bulk release (selection) --reason TEXT
    bulk assign  (selection) --to USERNAME           bulk approve (selection)
    ... [--yes] [--batch-size N]

One confirmation names the count (``--yes`` answers it; with no terminal it is required). Each case
refused by the rules is listed with why; the others go ahead, in batches of one transaction each.
Exit 3 when some were refused.
"""

from __future__ import annotations

import sys
from typing import Any

from desktop.commands._shared import iso_date
from desktop.domain.errors import UserError


def register(sub: Any) -> None:
    p = sub.add_parser("bulk", help="void, hold, release, assign or approve many cases at once (supervisors)")
    bsub = p.add_subparsers(dest="bulk_action", required=True, metavar="ACTION")
    for action, text in (("void", "void citations waiting for review, with a reason code"),
                         ("hold", "put open cases on a supervisor hold"),
                         ("release", "release the supervisor holds"),
                         ("assign", "move citations in review to a clerk's review queue"),
                         ("approve", "approve citations in review that have no warning")):
        a = bsub.add_parser(action, help=text)
        sel = a.add_argument_group("which cases (by hand, or by the Cases screen's filter)")
        sel.add_argument("--citation", action="append", default=[], metavar="NUMBER", help="repeat for several")
        sel.add_argument("--text", default="")
        sel.add_argument("--status", action="append", default=[], metavar="STATUS")
        sel.add_argument("--worklist", metavar="LIST")
        sel.add_argument("--from", dest="date_from", type=iso_date, metavar="DATE")
        sel.add_argument("--to-date", dest="date_to", type=iso_date, metavar="DATE")
        if action == "void":
            a.add_argument("--code", required=True, metavar="CODE",
                           help="DEFECTIVE_PLATE, MAKE_MISMATCH, VALID_PERMIT, DUPLICATE, EVIDENCE_FAILED, "
                                "ZONE_RULES, OFFICER_ERROR, OTHER")
            a.add_argument("--reason", default="", help="the note (needed with OTHER)")
        elif action in ("hold", "release"):
            a.add_argument("--reason", required=True)
        elif action == "assign":
            a.add_argument("--to", dest="assignee", required=True, metavar="USERNAME",
                           help="the clerk; '-' sends them back to everyone's queue")
        a.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        a.add_argument("--batch-size", type=int, default=200)
        a.set_defaults(handler=cmd_bulk)


def cmd_bulk(env: Any) -> int:
    # lazy: every workflow's services, 0.6-1.2 s at start-up
    from desktop.services import bulk
    from desktop.services.cases.queries import CaseFilter  # lazy: 0.5 s at start-up

    a = env.args
    app = env.app()
    actor = env.actor(app)
    request = bulk.check_request(bulk.BulkRequest(bulk.BulkAction(a.bulk_action), getattr(a, "reason", "") or "",
                                                  getattr(a, "code", "") or "", getattr(a, "assignee", "") or ""))
    bulk.check_allowed(app, actor, request)
    f = CaseFilter(text=a.text, date_from=a.date_from, date_to=a.date_to, statuses=tuple(a.status),
                   worklist=a.worklist)
    if a.citation and not f.is_empty:
        raise UserError("Choose the cases either by --citation or by a filter, not both.")
    if not a.citation and f.is_empty:
        raise UserError("Choose the cases: --citation NUMBER (repeat), or a filter (--status, --worklist, --text ...).")
    ids = bulk.ids_for_numbers(app, actor, a.citation) if a.citation else bulk.ids_for_filter(app, actor, f)
    if not ids:
        print("No case matches; nothing was changed.")
        return 0
    question = request.describe(len(ids))
    if not a.yes:
        if not sys.stdin.isatty():
            raise UserError(f"{question} Add --yes to confirm (there is no terminal to ask on).")
        if input(f"{question} [y/N] ").strip().lower() not in ("y", "yes"):
            print("Nothing was changed.")
            return 1
    tty = sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if tty:
            print(f"\r{done:,}/{total:,}", end="", file=sys.stderr)

    outcome = bulk.run_bulk(app, actor, request, ids, batch_size=max(1, a.batch_size), progress=progress)
    if tty:
        print(file=sys.stderr)
    print(outcome.summary())
    for number, why in outcome.refused:
        print(f"  refused {number}: {why}")
    return 3 if outcome.refused else 0
