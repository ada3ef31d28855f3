"""Case processing commands: the daily escalation, registered-owner imports, the collections file,
and jurisdiction profiles."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from desktop.commands._shared import subcommand_group
from desktop.domain.errors import UserError


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date (YYYY-MM-DD)") from None


def register(sub: Any) -> None:
    p = sub.add_parser("escalate", help="the daily run: penalties, due notices, collections, hot list")
    p.add_argument("--as-of", type=_date, metavar="DATE",
                   help="run for this day (YYYY-MM-DD; default: today in the agency's time zone)")
    p.set_defaults(handler=cmd_escalate)

    isub = subcommand_group(sub, "import", "import data files")
    o = isub.add_parser("owners", help="registry responses (CSV: plate,jurisdiction,owner_name,address,"
                                       "vehicle_make,vehicle_model,vehicle_year,vin,valid_from,valid_to)")
    o.add_argument("file", type=Path)
    o.set_defaults(handler=cmd_import_owners)

    esub = subcommand_group(sub, "export", "export data as CSV")
    c = esub.add_parser("collections", help="the cases referred to collections, with balance and owner address")
    c.add_argument("--out", type=Path, required=True)
    c.set_defaults(handler=cmd_export_collections)

    p = sub.add_parser("profiles", help="jurisdiction profiles (notice stages, penalties, deadlines)")
    psub = p.add_subparsers(dest="profiles_command", required=True, metavar="ACTION")
    ls = psub.add_parser("list", help="every stored version")
    ls.set_defaults(handler=cmd_profiles_list)
    show = psub.add_parser("show", help="print a version's JSON")
    show.add_argument("code")
    show.add_argument("--version", type=int, help="default: the newest")
    show.set_defaults(handler=cmd_profiles_show)
    save = psub.add_parser("save", help="store a new version from a JSON file, in force from a date")
    save.add_argument("code")
    save.add_argument("file", type=Path)
    save.add_argument("--effective-from", type=_date, required=True, metavar="DATE")
    save.add_argument("--reason", required=True)
    save.set_defaults(handler=cmd_profiles_save)


def cmd_escalate(env: Any) -> int:
    from desktop.services.cases.escalation import cases_without_next_action  # lazy: 0.5 s at start-up
    from desktop.services.daily_run import run_daily  # lazy: 0.5 s at start-up

    app = env.app()
    tty = sys.stderr.isatty()

    def progress(done: int, total: int, text: str) -> None:
        if tty:
            print(f"\r{done}/{total} {text:<60}", end="", file=sys.stderr)

    result = run_daily(app, env.actor(app), env.args.as_of, progress)
    if tty:
        print(file=sys.stderr)
    print("\n".join(result.lines()))
    if result.without_next_action:
        for case in cases_without_next_action(app, limit=20):
            print(f"  no next action: {case.citation_number} ({case.status}, stage {case.stage or '—'})",
                  file=sys.stderr)
        return 3
    return 0


def cmd_import_owners(env: Any) -> int:
    from desktop.services.cases.owners import import_owners  # lazy: 0.5 s at start-up

    app = env.app()
    result = import_owners(app, env.actor(app), env.args.file)
    print(result.message())
    return 0


def cmd_export_collections(env: Any) -> int:
    from desktop.services.cases.collections import export_collections  # lazy: 0.5 s at start-up

    app = env.app()
    n = export_collections(app, env.actor(app), env.args.out)
    print(f"{n:,} cases in collections written to {env.args.out}")
    return 0


def cmd_profiles_list(env: Any) -> int:
    from desktop.services.admin import profiles as profile_store  # lazy: 0.5 s at start-up

    app = env.app()
    actor = env.actor(app)
    using = profile_store.cases_using(app, actor)
    for v in profile_store.list_versions(app, actor):
        print(f"{v.code:5} v{v.version:<3} from {v.effective_from}  {len(v.profile.stages)} stages  "
              f"{using.get((v.code, v.version), 0):>9,} cases  {v.profile.name}")
    return 0


def cmd_profiles_show(env: Any) -> int:
    from desktop.services.admin import profiles as profile_store  # lazy: 0.5 s at start-up

    app = env.app()
    versions = [v for v in profile_store.list_versions(app, env.actor(app)) if v.code == env.args.code.upper()]
    if env.args.version is not None:
        versions = [v for v in versions if v.version == env.args.version]
    if not versions:
        raise UserError(f"There is no profile {env.args.code}" + (f" version {env.args.version}." if env.args.version else "."))
    print(json.dumps(versions[-1].definition, indent=2, ensure_ascii=False))
    return 0


def cmd_profiles_save(env: Any) -> int:
    from desktop.services.admin import profiles as profile_store  # lazy: 0.5 s at start-up

    try:
        text = env.args.file.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"Cannot read {env.args.file}: {exc.strerror}.") from None
    app = env.app()
    stored = profile_store.save_new_version(app, env.actor(app), env.args.code.upper(), text,
                                            env.args.effective_from, env.args.reason)
    print(f"profile {stored.code} version {stored.version} stored, in force for cases issued from "
          f"{stored.effective_from}")
    return 0
