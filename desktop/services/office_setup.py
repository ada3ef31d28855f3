"""Setting up a real agency: its identity per jurisdiction profile, postal settings, the database (a local
file or a PostgreSQL server), the first administrator and other accounts, and the reference data from files.
An orchestrator over several workflows' importers, like daily_run: nothing in the services imports it.

One use case for the first-run wizard and for `main.py setup --config FILE.toml`. Everything that can be
checked is checked before anything is created (`check_plan`); then the office is built, and a failure at any
step leaves nothing behind: a SQLite office is built in a temporary file beside its final name and moved
there only when complete; a PostgreSQL database the set-up created is dropped, and the tables it created in
an empty database that already existed are dropped. Each refusal is one sentence naming what to fix.

Where the agency identity comes from: `desktop.services.core.agency` (per profile, validated there). The flat
`agency.*` settings (the home profile's fallback, whose defaults describe the demo's Los Angeles) are blanked
in a new office, so nothing of the demo's letterhead can reach a real agency's notices.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import OperationalError, ProgrammingError, SQLAlchemyError

from desktop.domain import profiles as prof
from desktop.domain.errors import UserError
from desktop.domain.roles import Role
from desktop.paths import AppPaths
from desktop.persistence.connections import ConnectionProfile, check_profile, explain_connection_error
from desktop.persistence.db import Database
from desktop.persistence.migrate import current_revision, head_revision, upgrade
from desktop.persistence.models import Base, Setting
from desktop.services.admin import users
from desktop.services.core import agency, settings
from desktop.services.core.context import Actor, AppContext

log = logging.getLogger(__name__)

#: reference data the set-up imports, in this order (zones before permits: a permit names its zones)
IMPORT_KINDS = ("fines", "zones", "permits", "owners")
ROLES = tuple(r.value for r in Role)
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class NewAccount:
    username: str
    full_name: str
    role: str
    password: str


@dataclass(frozen=True)
class ReferenceFile:
    kind: str  # one of IMPORT_KINDS
    path: Path
    zone_prefix: str = "Z"
    effective_from: date | None = None


@dataclass(frozen=True)
class OfficePlan:
    """Everything the set-up needs. `identities` maps each profile code to its identity fields
    (`agency.IDENTITY_FIELDS` keys); the first of `profiles` is the home profile (new cases get it)."""

    profiles: tuple[str, ...]
    identities: Mapping[str, Mapping[str, Any]]
    database: ConnectionProfile
    admin: NewAccount
    timezone: str = "America/Los_Angeles"
    mailer_id: str = ""
    #: Address correction the barcode asks for (none, basic, full_service): it sets the IMb service type
    address_correction: str = "none"
    #: an explicit IMb service type; empty: derived from the address correction (or the program's default)
    service_type_id: str = ""
    barcode_id: str = "00"
    db_password: str | None = None
    accounts: tuple[NewAccount, ...] = ()
    reference: tuple[ReferenceFile, ...] = ()
    create_database: bool = True


@dataclass
class OfficeBuilt:
    db_url: str
    display: str
    imported: list[str] = field(default_factory=list)


def known_profiles() -> list[prof.JurisdictionProfile]:
    return prof.all_profiles()


# --------------------------------------------------------------------------- checks before anything is made


ADDRESS_CORRECTION = ("none", "basic", "full_service")


def check_postal(mailer_id: str, service_type_id: str, barcode_id: str, address_correction: str = "none") -> None:
    """The Intelligent Mail barcode's fields (USPS-B-3200, "Intelligent Mail Barcode 4-State Specification",
    section 2.1): a Mailer ID of 6 digits (first digit 0-8) or 9 digits (first digit 9); a 3-digit Service
    Type Identifier when one is given (else it follows the address correction); a 2-digit Barcode Identifier
    whose second digit is 0-4."""
    if not re.fullmatch(r"[0-8]\d{5}|9\d{8}", mailer_id or ""):
        raise UserError("The USPS Mailer ID is 6 digits (not starting with 9) or 9 digits (starting with 9), as "
                        "the Business Customer Gateway shows it.")
    if address_correction not in ADDRESS_CORRECTION:
        raise UserError("Address correction is none, basic (OneCode ACS) or full_service (Full-Service ACS).")
    if service_type_id and not re.fullmatch(r"\d{3}", service_type_id):
        raise UserError("The IMb service type is 3 digits (300: First-Class Mail without extra services), or "
                        "empty to follow the address correction.")
    if not re.fullmatch(r"\d[0-4]", barcode_id or ""):
        raise UserError("The IMb barcode identifier is 2 digits, the second 0-4 (00: no presort endorsement).")


def check_identities(profiles: tuple[str, ...], identities: Mapping[str, Mapping[str, Any]]) -> None:
    """Each profile's identity as `agency.save_identity` would take it, checked on a scratch database in memory
    (a logo that is not an image, a pay link without {citation_number}, a required field missing: one sentence
    naming the profile and the fields)."""
    scratch = Database("sqlite://")
    try:
        Base.metadata.create_all(scratch.engine)
        with scratch.write_session() as s:
            _blank_flat_settings(s, profiles[0])
            for code in profiles:
                try:
                    agency.save_identity(s, Actor.system("setup"), code, dict(identities.get(code, {})))
                except UserError as exc:
                    missing = agency.missing_identity_fields(s, code)
                    if not missing or "is missing:" not in str(exc):
                        raise  # a field given is wrong (a logo that is not an image...): agency says which
                    labels = ", ".join(agency.FIELDS_BY_KEY[k].label for k in missing)
                    raise UserError(f"The agency identity for {code} lacks what its documents print: {labels}; "
                                    "fill it in and set up again.") from None
            s.rollback()
    finally:
        scratch.dispose()


def check_accounts(plan: OfficePlan) -> None:
    names: set[str] = set()
    for account in (plan.admin, *plan.accounts):
        who = account.username or "(no name)"
        if account.username in names:
            raise UserError(f"The username {who} is given twice; each account needs its own.")
        names.add(account.username)
        if account.role not in ROLES:
            raise UserError(f"The role of {who} is '{account.role}': choose one of {', '.join(ROLES)}.")
        if not account.full_name.strip():
            raise UserError(f"Enter the full name of {who}.")
        users.check_password_policy(account.password, account.username, account.full_name)
        users.check_username(account.username)
    if plan.admin.role != "admin":
        raise UserError("The first account must be an administrator.")


def check_data_folder(paths: AppPaths) -> None:
    """The data folder (evidence, print files, logs, the audit key) must be writable."""
    try:
        paths.ensure()
        fd, probe = tempfile.mkstemp(prefix=".write-test-", dir=paths.data_dir)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise UserError(f"The data folder {paths.data_dir} cannot be written ({exc.strerror or exc}): choose a "
                        "folder you may write to, or ask IT for write access.") from None


def check_plan(plan: OfficePlan, paths: AppPaths) -> OfficePlan:
    """Everything checkable without creating anything; returns the plan with its database profile trimmed."""
    if not plan.profiles:
        raise UserError("Choose at least one jurisdiction profile.")
    known = {p.code for p in known_profiles()}
    for code in plan.profiles:
        if code not in known:
            raise UserError(f"There is no jurisdiction profile {code}; the profiles are {', '.join(sorted(known))}.")
    try:
        zoneinfo.ZoneInfo(plan.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise UserError(f"'{plan.timezone}' is not a time zone; use its IANA name, e.g. America/Los_Angeles.") from None
    check_postal(plan.mailer_id, plan.service_type_id, plan.barcode_id, plan.address_correction)
    check_identities(plan.profiles, plan.identities)
    check_accounts(plan)
    for ref in plan.reference:
        if ref.kind not in IMPORT_KINDS:
            raise UserError(f"'{ref.kind}' is not reference data the set-up imports ({', '.join(IMPORT_KINDS)}).")
        if not Path(ref.path).is_file():
            raise UserError(f"The {ref.kind} file {ref.path} is not a file that can be read.")
    check_data_folder(paths)
    return replace(plan, database=check_profile(plan.database))


# --------------------------------------------------------------------------- the database


@dataclass(frozen=True)
class DatabaseState:
    """What a connection test found: `state` is "missing" (no such database, the set-up creates it), "empty",
    "curbdesk" (an office already: connect to it) or "foreign" (another application's tables)."""

    state: str
    revision: str | None = None
    tables: tuple[str, ...] = ()
    server: str = ""

    def sentence(self, profile: ConnectionProfile) -> str:
        where = profile.display()
        return {
            "missing": f"Connected to the server; the database {profile.database} does not exist yet: the set-up "
                       "creates it.",
            "empty": f"Connected: {where} is empty, ready for a new office.",
            "curbdesk": f"Connected: {where} already holds a Curbdesk office (schema {self.revision}); this "
                        "workstation can join it.",
            "foreign": f"{where} holds another application's tables ({', '.join(self.tables[:3])}): choose an "
                       "empty database or a new name.",
        }[self.state]


def _pg_error(exc: BaseException, profile: ConnectionProfile) -> UserError:
    detail = " ".join(str(getattr(exc, "orig", exc)).split())
    return UserError(explain_connection_error(detail, profile)
                     or f"Cannot reach the database {profile.display()}: {detail[:200]}")


def _state_of(db: Database) -> DatabaseState:
    with db.engine.connect() as conn:
        names = tuple(sorted(inspect(conn).get_table_names()))
        server = ""
        if db.dialect == "postgresql":
            server = str(conn.execute(text("SHOW server_version")).scalar())
    if not names:
        return DatabaseState("empty", server=server)
    if "alembic_version" in names:
        revision = current_revision(db)
        if revision is not None and revision in _known_revisions():
            return DatabaseState("curbdesk", revision, names, server)
    return DatabaseState("foreign", None, tuple(n for n in names if n != "alembic_version") or names, server)


def _known_revisions() -> set[str]:
    from desktop.persistence.migrate import MIGRATIONS  # lazy: only a connection test needs it, under 1 ms

    found: set[str] = set()
    for f in (MIGRATIONS / "versions").glob("*.py"):
        m = re.search(r"^revision\s*(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", f.read_text(encoding="utf-8"), re.M)
        if m:
            found.add(m.group(1))
    return found


def test_connection(profile: ConnectionProfile, password: str | None) -> DatabaseState:
    """Connect (nothing is written) and say what is there; a failure is one sentence naming what to fix."""
    profile = check_profile(profile)
    if profile.kind == "sqlite":
        path = Path(profile.path)
        if not path.exists():
            return DatabaseState("missing")
        db = Database(profile.url())
        try:
            return _state_of(db)
        except SQLAlchemyError as exc:
            raise UserError(f"{path} is not a database Curbdesk can open ({type(exc).__name__}).") from None
        finally:
            db.dispose()
    db = Database(profile.url(password))
    try:
        return _state_of(db)
    except OperationalError as exc:
        if re.search(r'database "[^"]*" does not exist', str(exc.orig)):
            _server_state(profile, password)  # the server and the credentials are fine: the set-up creates it
            return DatabaseState("missing")
        raise _pg_error(exc, profile) from None
    except ProgrammingError as exc:
        raise _pg_error(exc, profile) from None
    finally:
        db.dispose()


def _maintenance_url(profile: ConnectionProfile, password: str | None) -> str:
    return profile.with_database("postgres").url(password)


def _server_state(profile: ConnectionProfile, password: str | None) -> None:
    engine = create_engine(_maintenance_url(profile, password), connect_args={"connect_timeout": 10})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise _pg_error(exc, profile) from None
    finally:
        engine.dispose()


def _create_pg_database(profile: ConnectionProfile, password: str | None) -> None:
    engine = create_engine(_maintenance_url(profile, password), isolation_level="AUTOCOMMIT",
                           connect_args={"connect_timeout": 10})
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{profile.database}" ENCODING \'UTF8\' TEMPLATE template0'))
    except SQLAlchemyError as exc:
        raise _pg_error(exc, profile) from None
    finally:
        engine.dispose()


def _drop_pg_database(profile: ConnectionProfile, password: str | None) -> None:
    engine = create_engine(_maintenance_url(profile, password), isolation_level="AUTOCOMMIT",
                           connect_args={"connect_timeout": 10})
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{profile.database}" WITH (FORCE)'))
    except SQLAlchemyError:
        log.exception("could not drop the half-made database %s", profile.database)
    finally:
        engine.dispose()


def _drop_tables(db: Database) -> None:
    """Undo a set-up in a database that was empty before it: every table it made goes."""
    try:
        with db.engine.begin() as conn:
            for name in inspect(conn).get_table_names():
                conn.execute(text(f'DROP TABLE IF EXISTS "{name}" CASCADE'))
    except SQLAlchemyError:
        log.exception("could not drop the tables of a failed set-up in %s", db.display_name())


# --------------------------------------------------------------------------- building the office


def _blank_flat_settings(session: Any, home: str) -> None:
    """A new office starts with no demo letterhead: the home profile's flat agency.* fallbacks are emptied
    (its identity is saved per profile next)."""
    for f in agency.IDENTITY_FIELDS:
        if f.flat_setting:
            _put(session, f.flat_setting, [] if f.kind is list else "")
    _put(session, "agency.profile", home)


def _put(session: Any, key: str, value: Any) -> None:
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value


def _configure(app: AppContext, plan: OfficePlan, actor: Actor) -> None:
    with app.uow(actor) as uow:
        s = uow.session
        home = plan.profiles[0]
        _blank_flat_settings(s, home)
        values = {"agency.timezone": plan.timezone, "agency.currency": prof.load_profile(home).currency,
                  "mail.mailer_id": plan.mailer_id, "mail.barcode_id": plan.barcode_id}
        if plan.service_type_id:  # else the setting's own default (or what the address correction derives)
            values["mail.service_type_id"] = plan.service_type_id
        if "mail.address_correction" in settings.SETTINGS:  # the postal settings of issue 15 (branch mail-law)
            values["mail.address_correction"] = plan.address_correction
        elif plan.address_correction != "none" and not plan.service_type_id:
            values["mail.service_type_id"] = {"basic": "230", "full_service": "320"}[plan.address_correction]
        for key, value in values.items():
            _put(s, key, value)
        s.flush()
        for code in plan.profiles:
            agency.save_identity(s, actor, code, dict(plan.identities.get(code, {})), now=app.now())
        uow.audit("office.set_up", "setting", "office",
                  after={"profiles": list(plan.profiles), "timezone": plan.timezone, "mailer_id": plan.mailer_id,
                         "address_correction": plan.address_correction,
                         "database": app.db.display_name()})
        uow.commit()


def import_reference(app: AppContext, actor: Actor, ref: ReferenceFile) -> str:
    """One reference file through its importer; returns one line saying what was imported."""
    # lazy: each importer loads its workflow's modules (shapely for zones, usaddress for owners), 150-400 ms
    if ref.kind == "fines":
        from desktop.services.admin.fine_schedule import import_fine_schedule  # lazy: see above, 20 ms

        f = import_fine_schedule(app, actor, ref.path, ref.effective_from)
        return f"fine schedule {ref.path.name}: {f.codes} violation codes ({f.added} new)"
    if ref.kind == "zones":
        from desktop.services.review.zone_imports import import_zones  # lazy: shapely, 150 ms

        z = import_zones(app, actor, ref.path, ref.zone_prefix)
        return f"zones {ref.path.name}: {z.features} zones, {z.regulations} regulations"
    if ref.kind == "permits":
        from desktop.services.review.permits import import_permits  # lazy: 60 ms

        p = import_permits(app, actor, ref.path)
        return f"permits {ref.path.name}: {p.permits} permits"
    from desktop.services.cases.owners import import_owners  # lazy: usaddress, 400 ms

    o = import_owners(app, actor, ref.path)
    return f"registered owners {ref.path.name}: {o.rows} rows"


def set_up_office(plan: OfficePlan, paths: AppPaths, make_app: Callable[[Database], AppContext], *,
                  progress: Progress | None = None) -> OfficeBuilt:
    """Create the office of `plan` (checked first); nothing is left behind when any step fails."""
    plan = check_plan(plan, paths)
    say = progress or (lambda _stage, _done, _total: None)
    steps = 4 + len(plan.accounts) + len(plan.reference)
    profile = plan.database
    if profile.kind == "sqlite":
        return _build_sqlite(plan, paths, make_app, say, steps)
    return _build_postgresql(plan, make_app, say, steps)


def _build(plan: OfficePlan, app: AppContext, say: Progress, steps: int) -> list[str]:
    say("Creating the tables", 1, steps)
    upgrade(app.db)
    say("Saving the agency and its settings", 2, steps)
    _configure(app, plan, Actor.system("setup"))
    say("Creating the administrator", 3, steps)
    users.add_first_administrator(app, plan.admin.username, plan.admin.full_name, plan.admin.password)
    admin = users.actor_for(app, plan.admin.username)
    done = 3
    for account in plan.accounts:
        done += 1
        say(f"Adding {account.username}", done, steps)
        users.add_user(app, admin, account.username, account.full_name, account.role, account.password)
    imported = []
    for ref in plan.reference:
        done += 1
        say(f"Importing {ref.kind} ({ref.path.name})", done, steps)
        try:
            imported.append(import_reference(app, admin, ref))
        except UserError as exc:
            raise UserError(f"The {ref.kind} file {ref.path.name} was refused, so nothing was set up: {exc}") from None
    say("Done", steps, steps)
    return imported


def _build_sqlite(plan: OfficePlan, paths: AppPaths, make_app: Callable[[Database], AppContext], say: Progress,
                  steps: int) -> OfficeBuilt:
    target = Path(plan.database.path)
    if target.exists():
        raise UserError(f"{target} already exists: choose a new file name for the office's database (or open "
                        "that one instead).")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}-setup-", suffix=".sqlite3", dir=target.parent)
        os.close(fd)
        os.unlink(tmp_name)
    except OSError as exc:
        raise UserError(f"The folder {target.parent} cannot be written ({exc.strerror or exc}): choose a folder "
                        "you may write to.") from None
    tmp = Path(tmp_name)
    db = Database(f"sqlite:///{tmp}")
    try:
        imported = _build(plan, make_app(db), say, steps)
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        db.dispose()
        try:
            os.link(tmp, target)  # never replaces a file that appeared meanwhile
        except FileExistsError:
            raise UserError(f"{target} appeared while the office was being set up; nothing was replaced.") from None
        except OSError:
            if target.exists():
                raise UserError(f"{target} already exists; nothing was replaced.") from None
            shutil.move(str(tmp), target)
        return OfficeBuilt(f"sqlite:///{target}", str(target), imported)
    finally:
        db.dispose()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(tmp) + suffix).unlink(missing_ok=True)


def _build_postgresql(plan: OfficePlan, make_app: Callable[[Database], AppContext], say: Progress,
                      steps: int) -> OfficeBuilt:
    profile, password = plan.database, plan.db_password
    say("Connecting to the server", 0, steps)
    state = test_connection(profile, password)
    if state.state == "foreign":
        raise UserError(state.sentence(profile))
    if state.state == "curbdesk":
        raise UserError(f"{profile.display()} already holds a Curbdesk office: connect this workstation to it "
                        "instead of setting up a new one.")
    created = False
    if state.state == "missing":
        if not plan.create_database:
            raise UserError(f"There is no database {profile.database} on {profile.host}: create it, or let the "
                            "set-up create it.")
        _create_pg_database(profile, password)
        created = True
    db = Database(profile.url(password))
    try:
        imported = _build(plan, make_app(db), say, steps)
    except BaseException:
        db.dispose()
        if created:
            _drop_pg_database(profile, password)
        else:
            cleanup = Database(profile.url(password))
            _drop_tables(cleanup)
            cleanup.dispose()
        raise
    db.dispose()
    return OfficeBuilt(profile.url(), profile.display(), imported)


def schema_is_current(db: Database) -> bool:
    return current_revision(db) == head_revision(db)


__all__ = ["OfficePlan", "NewAccount", "ReferenceFile", "set_up_office", "test_connection", "check_plan",
           "DatabaseState"]
