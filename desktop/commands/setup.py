"""Setting up a real agency from a file, for scripted installs, and importing a fine schedule.

`main.py setup --config office.toml` does what the first-run wizard does (desktop.services.office_setup): the
agency's identity per jurisdiction profile, postal settings, the database (a local file or a PostgreSQL
server, created through the migrations), the first administrator and other accounts, and the reference data
from files; nothing is left behind when any of it fails. No password is ever read from the file: each is
named by an environment variable (`password_env`) or asked on the terminal. See SETUP_EXAMPLE.
"""

from __future__ import annotations

import getpass
import os
import sys
import tomllib
from dataclasses import fields
from datetime import date
from pathlib import Path
from typing import Any

from desktop.commands._shared import subcommand_group
from desktop.domain.errors import UserError

# Deferred imports: the services and SQLAlchemy (480 ms) and the connection profiles (30 ms) load only when one
# of these commands runs; every start of the program, the GUI's too, builds this parser.

SETUP_EXAMPLE = '''\
# office.toml: main.py setup --config office.toml
[agency]
profiles = ["CA"]                    # jurisdiction profiles (CA, NYC, ENG); the first is for new cases
timezone = "America/Los_Angeles"

[agency.identity.CA]                 # one table per profile: the issuing authority on its documents
name = "City of Springfield"
department = "Parking Services Division"
address = ["PO Box 1000", "Springfield, CA 95000-1000"]
phone = "(555) 010-0100"
web_url = "springfield.example.gov/parking"
pay_url = "https://pay.springfield.example.gov/c/{citation_number}"
logo_path = "springfield-seal.png"   # relative to this file; PNG or JPEG
office_hours = "Mon-Fri 8:00 a.m. to 5:00 p.m."

[mail]                               # USPS Intelligent Mail barcode
mailer_id = "123456"                 # 6 digits, or 9 starting with 9
address_correction = "none"          # none (STID 300), basic (OneCode ACS, 230), full_service (Full-Service ACS, 320)
# service_type_id = "300"            # only to override what the address correction sets
barcode_id = "00"

[database]                           # kind = "sqlite" with path = "..." for one workstation
kind = "postgresql"
host = "db.springfield.local"
port = 5432
database = "curbdesk"
user = "curbdesk"
sslmode = "verify-full"              # disable, allow, prefer, require, verify-ca, verify-full
sslrootcert = "/etc/ssl/springfield-ca.pem"
password_env = "CURBDESK_DB_PASSWORD"
create = true                        # create the database when it does not exist

[admin]
username = "admin"
full_name = "Pat Jones"
password_env = "CURBDESK_ADMIN_PASSWORD"

[[users]]
username = "clerk1"
full_name = "Sam Lee"
role = "clerk"                       # clerk, hearing_officer, mail_office, supervisor, admin
password_env = "CLERK1_PASSWORD"

[[import]]                           # fines, zones, permits, owners (in that order)
kind = "fines"
file = "fines.csv"
effective_from = "2026-01-01"

[[import]]
kind = "zones"
file = "zones.geojson"
prefix = "Z-SPR"
'''


def register(sub: Any) -> None:
    p = sub.add_parser("setup", help="set up a real agency from a TOML file (scripted installs; see --example)")
    p.add_argument("--config", type=Path, help="the set-up file (TOML)")
    p.add_argument("--example", action="store_true", help="print an example set-up file and stop")
    p.add_argument("--no-save-connection", action="store_true",
                   help="do not make this database this user's connection profile")
    p.set_defaults(handler=cmd_setup)

    isub = subcommand_group(sub, "import", "import data from files")
    f = isub.add_parser("fines", help="the fine schedule (CSV: code,description,fine[,effective_from,kind], or "
                                      "NYC DOF's violation code list); all or nothing")
    f.add_argument("file", type=Path)
    f.add_argument("--effective-from", type=date.fromisoformat, help="in force from (default: today)")
    f.set_defaults(handler=cmd_import_fines)


def _table(data: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise UserError(f"{where}: [{key}] must be a table.")
    return value


def _password(entry: dict[str, Any], what: str, where: str) -> str | None:
    if "password" in entry:
        raise UserError(f"{where}: a password never goes in the set-up file; name an environment variable with "
                        f"password_env for {what}.")
    env = entry.get("password_env")
    if env:
        value = os.environ.get(str(env))
        if value is None:
            raise UserError(f"{where}: the environment variable {env} (the password of {what}) is not set.")
        return value
    if sys.stdin.isatty():
        return getpass.getpass(f"Password of {what}: ")
    return None


def read_plan(path: Path, paths: Any) -> tuple[Any, bool]:
    """The set-up file as an OfficePlan (relative file names from the file's folder), and whether to remember
    the database password in the keyring."""
    from desktop.persistence.connections import ConnectionProfile  # lazy: 30 ms; the parser of every start
    from desktop.services.office_setup import NewAccount, OfficePlan, ReferenceFile  # lazy: SQLAlchemy, 480 ms

    where = path.name
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"There is no set-up file {path}.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"Cannot read the set-up file {path}: {exc}.") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{where} is not valid TOML: {exc}.") from None
    base = path.resolve().parent

    def rel(value: str) -> str:
        return str((base / value).resolve()) if value and not Path(value).expanduser().is_absolute() else value

    ag = _table(data, "agency", where)
    profiles = ag.get("profiles") or []
    if not isinstance(profiles, list) or not profiles:
        raise UserError(f"{where}: [agency] profiles lists the jurisdiction profiles, e.g. profiles = [\"CA\"].")
    profiles = [str(p).upper() for p in profiles]
    from desktop.services.office_setup import known_profiles  # lazy: loaded with the line above

    codes = {p.code for p in known_profiles()}
    for code in profiles:
        if code not in codes:
            raise UserError(f"{where}: there is no jurisdiction profile {code}; the profiles are "
                            f"{', '.join(sorted(codes))}.")
    identities: dict[str, dict[str, Any]] = {}
    for code, values in _table(ag, "identity", where).items():
        if not isinstance(values, dict):
            raise UserError(f"{where}: [agency.identity.{code}] must be a table of the agency's fields.")
        values = dict(values)
        if values.get("logo_path"):
            values["logo_path"] = rel(str(values["logo_path"]))
        identities[code.upper()] = values
    for code in profiles:
        if code not in identities:
            raise UserError(f"{where}: add [agency.identity.{code}] with the agency's name, address, phone, web "
                            "and pay link for that profile's documents.")
    mail = _table(data, "mail", where)
    dbt = dict(_table(data, "database", where))
    kind = str(dbt.get("kind", "sqlite"))
    known = {f.name for f in fields(ConnectionProfile)}
    extra = set(dbt) - known - {"password_env", "password", "create", "remember_password"}
    if extra:
        raise UserError(f"{where}: [database] has no setting {', '.join(sorted(extra))}.")
    values = {k: v for k, v in dbt.items() if k in known}
    for k in ("sslrootcert", "sslcert", "sslkey"):
        if values.get(k):
            values[k] = rel(str(values[k]))
    if kind == "sqlite":
        values["path"] = rel(str(values.get("path") or paths.data_dir / "curbdesk.sqlite3"))
    profile = ConnectionProfile(**values)
    db_password = _password(dbt, f"database user {profile.user}", where) if kind == "postgresql" else None

    def account(entry: dict[str, Any], role: str | None, label: str) -> Any:
        for key in ("username", "full_name"):
            if not entry.get(key):
                raise UserError(f"{where}: {label} needs a {key}.")
        password = _password(entry, str(entry["username"]), where)
        if password is None:
            raise UserError(f"{where}: no password for {entry['username']}: name an environment variable with "
                            "password_env, or run the set-up at a terminal.")
        return NewAccount(str(entry["username"]), str(entry["full_name"]), role or str(entry.get("role", "")),
                          password)

    admin = account(_table(data, "admin", where), "admin", "[admin]")
    accounts = [account(dict(u), None, f"[[users]] {i + 1}") for i, u in enumerate(data.get("users", []))]
    refs = []
    for i, entry in enumerate(data.get("import", [])):
        if not entry.get("kind") or not entry.get("file"):
            raise UserError(f"{where}: [[import]] {i + 1} needs a kind (fines, zones, permits, owners) and a file.")
        start = entry.get("effective_from")
        if isinstance(start, str):
            try:
                start = date.fromisoformat(start)
            except ValueError:
                raise UserError(f"{where}: [[import]] {i + 1}: effective_from is a date, YYYY-MM-DD.") from None
        refs.append(ReferenceFile(str(entry["kind"]), Path(rel(str(entry["file"]))), str(entry.get("prefix", "Z")),
                                  start))
    order = {k: n for n, k in enumerate(("fines", "zones", "permits", "owners"))}
    refs.sort(key=lambda r: order.get(r.kind, 9))
    plan = OfficePlan(
        profiles=tuple(profiles), identities=identities, database=profile, admin=admin,
        timezone=str(ag.get("timezone", "America/Los_Angeles")), mailer_id=str(mail.get("mailer_id", "")),
        address_correction=str(mail.get("address_correction", "none")),
        service_type_id=str(mail.get("service_type_id", "")), barcode_id=str(mail.get("barcode_id", "00")),
        db_password=db_password, accounts=tuple(accounts), reference=tuple(refs),
        create_database=bool(dbt.get("create", True)))
    return plan, bool(dbt.get("remember_password", True))


def cmd_setup(env: Any) -> int:
    if env.args.example:
        print(SETUP_EXAMPLE, end="")
        return 0
    if env.args.config is None:
        raise UserError("Give the set-up file: main.py setup --config office.toml (main.py setup --example shows one).")
    # lazy: the set-up loads SQLAlchemy and the services (480 ms); every start builds this parser
    from desktop.bootstrap import make_app_context
    from desktop.persistence.connections import save_profile
    from desktop.services.office_setup import set_up_office

    plan, remember = read_plan(env.args.config, env.paths)
    # No sign-in: the set-up makes a new office, with its first administrator, in a database that has none
    # (it refuses a database that already holds an office or another application's tables).

    def progress(stage: str, done: int, total: int) -> None:
        if sys.stderr.isatty():
            print(f"\r[{done}/{total}] {stage}…\033[K", end="", file=sys.stderr)

    built = set_up_office(plan, env.paths, lambda db: make_app_context(db, env.paths), progress=progress)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(f"office set up: {built.display}")
    for line in built.imported:
        print(f"  imported {line}")
    print(f"  accounts: {plan.admin.username} (administrator)"
          + "".join(f", {a.username} ({a.role})" for a in plan.accounts))
    if not env.args.no_save_connection:
        where = save_profile(plan.database, plan.db_password, remember=remember)
        kept = {"keyring": "; its password is in the system keyring", "memory":
                "; this workstation has no keyring: the password is asked at each start", "none": ""}[where]
        print(f"  this user's connection profile now points at it{kept}")
    if plan.database.kind == "postgresql":
        print(f"  every workstation needs the office's audit key {env.paths.audit_key_file} (set CURBDESK_AUDIT_KEY "
              "to a protected copy on each)")
    return 0


def cmd_import_fines(env: Any) -> int:
    from desktop.services.admin.fine_schedule import import_fine_schedule  # lazy: SQLAlchemy, 480 ms

    app = env.app()
    result = import_fine_schedule(app, env.actor(app), env.args.file, env.args.effective_from)
    print(f"{result.codes} violation codes imported ({result.added} new, {result.replaced} replaced, "
          f"{result.ended} earlier lines ended) from {env.args.file.name}")
    return 0
