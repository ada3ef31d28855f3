"""Review commands: import zones (GeoJSON) and permits (CSV), show the review queue, check it again, read the
plates in the evidence photos."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from desktop.commands._shared import subcommand_group
from desktop.commands.casework import _date
from desktop.domain.roles import Permission, require


def register(sub: Any) -> None:
    kinds = subcommand_group(sub, "import", "import reference data and files (zones, permits, payments, owners...)")
    p = kinds.add_parser("zones", help="zone polygons and street segments with their parking regulations (GeoJSON)")
    p.add_argument("file", type=Path)
    p.add_argument("--prefix", default="Z-SF",
                   help="code for features without their own: PREFIX-<feature number> (default Z-SF)")
    p.set_defaults(handler=cmd_import_zones)
    p = kinds.add_parser("permits", help="parking permits (CSV: permit_number,type,holder_name,plates,zones,"
                                         "valid_from,valid_to[,status])")
    p.add_argument("file", type=Path)
    p.set_defaults(handler=cmd_import_permits)

    p = sub.add_parser("review", help="the citation review queue")
    rsub = p.add_subparsers(dest="review_command", required=True, metavar="ACTION")
    q = rsub.add_parser("queue", help="how many citations wait for review, and their warnings")
    q.add_argument("--list", action="store_true", help="list every waiting citation")
    q.set_defaults(handler=cmd_review_queue)
    r = rsub.add_parser("recheck", help="run the review checks again on every waiting citation")
    r.set_defaults(handler=cmd_review_recheck)

    p = sub.add_parser("plates", help="plates read from the evidence photos")
    psub = p.add_subparsers(dest="plates_command", required=True, metavar="ACTION")
    r = psub.add_parser("read", help="read the plate in every photo not read yet and check those citations again")
    r.add_argument("--since", type=_date, metavar="DATE",
                   help="only photos of citations issued on or after this date (YYYY-MM-DD)")
    r.set_defaults(handler=cmd_plates_read)


def cmd_import_zones(env: Any) -> int:
    from desktop.services.review.zone_imports import import_zones  # lazy: 0.8 s at start-up

    app = env.app()
    result = import_zones(app, env.actor(app), env.args.file, code_prefix=env.args.prefix)
    print(f"{result.features:,} zones read from {env.args.file.name}: {result.added:,} added, {result.updated:,} "
          f"updated, {result.regulations:,} regulations; {result.rechecked:,} waiting citations checked again")
    return 0


def cmd_import_permits(env: Any) -> int:
    from desktop.services.review.permits import import_permits  # lazy: 0.8 s at start-up

    app = env.app()
    result = import_permits(app, env.actor(app), env.args.file)
    print(f"{result.permits:,} permits read from {env.args.file.name}: {result.added:,} added, "
          f"{result.updated:,} updated; {result.rechecked:,} waiting citations checked again")
    return 0


def cmd_review_queue(env: Any) -> int:
    from desktop.services.review.queue import review_queue  # lazy: 0.8 s at start-up

    app = env.app()
    queue = review_queue(app, env.actor(app))
    print(queue.summary())
    if env.args.list:
        for e in queue.entries:
            flag = ",".join(e.warning_codes) or "-"
            print(f"{e.citation_number:18} {e.issued_at:%Y-%m-%d %H:%M}Z {e.plate:9} {e.jurisdiction:3} "
                  f"{e.violation_code:10} {flag}", file=sys.stdout)
    return 0


def cmd_review_recheck(env: Any) -> int:
    from desktop.services.review.checks import recheck_pending  # lazy: 0.8 s at start-up

    app = env.app()
    actor = env.actor(app)
    require(actor.role, Permission.REVIEW_CITATIONS, actor.username)
    n = recheck_pending(app)
    print(f"{n:,} waiting citations checked again")
    return 0


def cmd_plates_read(env: Any) -> int:
    """Exit 0 when done (also with unreadable or skipped photos), 3 when the plate reader is unavailable."""
    from desktop.services.review.plates import read_plates  # lazy: 0.8 s at start-up

    app = env.app()
    result = read_plates(app, env.actor(app), env.args.since)
    for line in result.lines():
        print(line)
    return 3 if result.unavailable else 0
