"""Management reports on the command line (issue 18, point 6):

    report --list
    report NAME --from DATE --to DATE [--zone Z] [--officer BADGE] [--code C] [--profile P] [--by day|officer|zone|code]
           --out FILE.pdf|.xlsx|.csv

Supervisors and administrators only (the service checks ``Permission.REPORTS_VIEW``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from desktop.commands._shared import iso_date
from desktop.domain.errors import UserError


def register(sub: Any) -> None:
    p = sub.add_parser("report", help="a management report for a period, printed (PDF) or as XLSX or CSV")
    p.add_argument("name", nargs="?", metavar="NAME",
                   help="citations, review, revenue, ageing, notices, appeals or plans (see --list)")
    p.add_argument("--list", action="store_true", help="list the reports and what each shows")
    p.add_argument("--from", dest="date_from", type=iso_date, metavar="DATE", help="first day of the period")
    p.add_argument("--to", dest="date_to", type=iso_date, metavar="DATE", help="last day of the period")
    p.add_argument("--zone", default="", help="only citations of this zone (its code)")
    p.add_argument("--officer", default="", metavar="BADGE", help="only citations of this officer")
    p.add_argument("--code", default="", help="only this violation code")
    p.add_argument("--profile", default="", help="only this jurisdiction profile (CA, NYC, ENG)")
    p.add_argument("--by", default="day", choices=("day", "officer", "zone", "code"),
                   help="citations report: group by (default day)")
    p.add_argument("--out", type=Path, metavar="FILE", help="FILE.pdf to print, FILE.xlsx, FILE.csv")
    p.set_defaults(handler=cmd_report)


def cmd_report(env: Any) -> int:
    from desktop.services.reports import catalog, output  # lazy: the services, 0.6 s at start-up
    from desktop.services.reports.model import ReportFilter  # lazy: with the services above, 0.6 s

    a = env.args
    if a.list:
        for rep in catalog.REPORTS.values():
            print(f"{rep.key:<10} {rep.title}: {rep.what}")
        return 0
    if not a.name:
        raise UserError("Name a report (main.py report --list shows them), with --from, --to and --out.")
    catalog.report(a.name)
    if a.date_from is None or a.date_to is None or a.out is None:
        raise UserError("Give the period and the file: --from DATE --to DATE --out FILE.pdf|.xlsx|.csv.")
    flt = ReportFilter(a.date_from, a.date_to, a.zone, a.officer, a.code, a.profile, a.by).checked()
    output.format_of_report(a.out)
    app = env.app()
    result = output.export_report(app, env.actor(app), a.name, flt, a.out)
    print(f"{a.name} report, {flt.describe()}: {result.rows:,} table rows written to {result.path} "
          f"({result.format.upper()})")
    return 0
