"""Patrol plans on the command line: ``patrol plan --date D [--out FILE.pdf]`` and ``patrol actual --date D``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from desktop.commands._shared import iso_date, subcommand_group


def register(sub: Any) -> None:
    psub = subcommand_group(sub, "patrol", "patrol plans and what the officers patrolled")
    p = psub.add_parser("plan", help="the day's patrol plan as a PDF, one page per beat; made and saved first when "
                                     "the day has none (supervisors and administrators)")
    p.add_argument("--date", type=iso_date, required=True, help="the day (YYYY-MM-DD)")
    p.add_argument("--out", type=Path, help="the PDF to write (default: patrol-plan-DAY.pdf in the print folder)")
    p.set_defaults(handler=cmd_patrol_plan)
    a = psub.add_parser("actual", help="each beat's planned zones against the zones its officer patrolled")
    a.add_argument("--date", type=iso_date, required=True, help="the day (YYYY-MM-DD), or the first of a period")
    a.add_argument("--to", type=iso_date, help="the last day of a period: a line per officer over it")
    a.set_defaults(handler=cmd_patrol_actual)


def _print_table(rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, r in enumerate(rows):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def cmd_patrol_plan(env: Any) -> int:
    from desktop.services.patrol import plans  # lazy: SQLAlchemy and the services, 0.5 s at start-up

    app = env.app()
    actor = env.actor(app)
    day = env.args.date
    draft = plans.load_plan(app, actor, day)
    if draft is None:
        draft = plans.save_plan(app, actor, plans.make_plan(app, actor, day), reason="made by main.py patrol plan")
        print(f"Made and saved the patrol plan of {day.isoformat()} (version {draft.version}).")
    for problem in draft.problems:
        print(f"note: {problem}")
    out = env.args.out or env.paths.print_dir / f"patrol-plan-{day.isoformat()}.pdf"
    plans.print_plan(app, actor, day, out)
    zones = sorted({z for b in draft.beats for z in b.zones})
    print(f"{out}: {len(draft.beats)} beat(s), {len(zones)} zone(s), version {draft.version}.")
    return 0


def cmd_patrol_actual(env: Any) -> int:
    from desktop.services.patrol import actual  # lazy: SQLAlchemy and the services, 0.5 s at start-up

    app = env.app()
    actor = env.actor(app)
    day = env.args.date
    if env.args.to is not None:
        rows = [["Badge", "Officer", "Days", "Planned", "Covered", "Coverage", "Planned min", "Actual min", "Extra"]]
        for o in actual.officers_over_period(app, actor, day, env.args.to):
            rows.append([o.badge, o.name, str(o.days), str(o.planned), str(o.covered),
                         "—" if o.coverage is None else f"{o.coverage:.0f} %", str(o.planned_minutes),
                         str(o.actual_minutes), str(o.extra_zones)])
        if len(rows) == 1:
            print(f"No patrol plan is saved between {day.isoformat()} and {env.args.to.isoformat()}.")
            return 0
        _print_table(rows)
        return 0
    result = actual.plan_vs_actual(app, actor, day)
    if result.version is None and not result.beats:
        print(f"No patrol plan is saved for {day.isoformat()} and no officer patrolled that day.")
        return 0
    head = (f"Plan of {day.isoformat()}, version {result.version}" if result.version is not None
            else f"No plan saved for {day.isoformat()}")
    cover = "—" if result.coverage is None else f"{result.coverage:.0f} %"
    print(f"{head}: {len(result.beats)} beat(s), coverage {cover}")
    _print_table(actual.actual_table(result))
    return 0
