"""Schema migrations with Alembic, and the online backup taken before migrating a real database."""

from __future__ import annotations

import logging
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text

from desktop import __version__
from desktop.domain.errors import UserError
from desktop.persistence.db import Database
from desktop.persistence.files import fsync_dir, fsync_file

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_REV = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(.+)$", re.M)


def alembic_config(db: Database) -> Config:
    from alembic.config import Config  # lazy: alembic costs 260 ms, and a schema already at head never needs it

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", db.url.render_as_string(hide_password=False))
    return cfg


def current_revision(db: Database) -> str | None:
    """The schema's revision, read without importing Alembic (start-up time matters)."""
    with db.engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _revision_graph() -> tuple[set[str], set[str]]:
    """Every revision in the migrations folder, and every revision another one builds on."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for f in (MIGRATIONS / "versions").glob("*.py"):
        found = dict((k, v.strip()) for k, v in _REV.findall(f.read_text(encoding="utf-8")))
        if "revision" not in found:
            continue
        revisions.add(found["revision"].strip("'\""))
        down = found.get("down_revision", "None")
        for part in re.findall(r"['\"]([^'\"]+)['\"]", down):
            parents.add(part)
    return revisions, parents


def known_revisions() -> set[str]:
    """Every revision this program's migrations know (an older schema is one of them)."""
    return _revision_graph()[0]


def head_revision(db: Database | None = None) -> str | None:
    """The newest revision in the migrations folder: the one no other revision builds on."""
    revisions, parents = _revision_graph()
    heads = revisions - parents
    if len(heads) > 1:
        raise UserError(f"The schema has several newest revisions ({', '.join(sorted(heads))}); merge them.")
    return next(iter(heads), None)


#: tables every Curbdesk schema has had since the first revision: a database without them is not ours
CURBDESK_TABLES = frozenset({"users", "citations", "audit_log", "settings"})


@dataclass(frozen=True)
class SchemaState:
    """How a database's schema stands against this program's migrations.

    ``status`` is one of ``empty`` (no tables at all: set it up), ``current``, ``older`` (a revision of an
    earlier release: ``db upgrade``), ``newer`` (a revision this program does not know, on a Curbdesk
    database: made by a newer release) or ``foreign`` (tables, but not Curbdesk's)."""

    current: str | None
    head: str | None
    status: str

    def refusal(self, display_name: str) -> str | None:
        """The one sentence that refuses to work on this database, or None when the schema is this program's
        (``older`` is left to the caller: administrators upgrade it, everybody else is told to ask one)."""
        if self.status == "newer":
            return (f"The database {display_name} was made by a newer release of Curbdesk (schema {self.current}); "
                    f"this Curbdesk {__version__} knows schemas up to {self.head}: install the newer release.")
        if self.status == "foreign":
            return (f"The database {display_name} belongs to another application (it has no Curbdesk tables): "
                    "choose an empty database or a Curbdesk one.")
        return None

    def older_message(self, display_name: str, how: str = "an administrator upgrades it") -> str:
        return (f"The database {display_name} has the schema of an earlier release ({self.current}); this Curbdesk "
                f"{__version__} needs {self.head}: {how} (a backup is taken first).")


def schema_state(db: Database) -> SchemaState:
    """Read the schema's revision and tables (no Alembic import) and compare them with this program's."""
    with db.engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        current = (conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
                   if "alembic_version" in tables else None)
    revisions, _parents = _revision_graph()
    head = head_revision(db)
    if not tables:
        status = "empty"
    elif not CURBDESK_TABLES <= tables:
        status = "foreign"
    elif current is None:
        status = "foreign"  # our tables but no revision: not made by our migrations
    elif current == head:
        status = "current"
    elif current in revisions:
        status = "older"
    else:
        status = "newer"
    return SchemaState(current, head, status)


def upgrade(db: Database, *, backup_dir: Path | None = None) -> str | None:
    """Bring the schema to the newest revision; back up a non-empty SQLite file (or, given ``backup_dir``, a
    PostgreSQL database) first.

    Returns the path of the backup taken, if any. A database of another application, or one made by a newer
    release, is refused in one sentence before anything is touched.
    """
    state = schema_state(db)
    refusal = state.refusal(db.display_name())
    if refusal:
        raise UserError(refusal)
    current, head = state.current, state.head
    if current == head:
        return None
    taken: str | None = None
    sqlite_file = db.is_sqlite and db.url.database not in (None, "", ":memory:")
    # a PostgreSQL database is dumped (pg_dump) when the caller names a folder: the upgrade use case does
    if current is not None and (sqlite_file or (not db.is_sqlite and backup_dir is not None)):
        folder = backup_dir or Path(str(db.url.database)).parent / "backups"
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        target = folder / f"before-{head}-{stamp}.{'sqlite3' if db.is_sqlite else 'pgdump'}"
        backup(db, target)
        taken = str(target)
        log.info("backed up %s to %s before migrating", db.display_name(), target)
    from alembic import command  # lazy: alembic costs 260 ms, and a schema already at head never needs it

    cfg = alembic_config(db)
    if not db.is_sqlite:
        with db.engine.begin() as conn:
            # an upgrade rewrites and indexes whole tables: no per-statement limit of a clerk's click
            conn.execute(text("SET LOCAL statement_timeout = 0"))
            conn.execute(text("SET LOCAL lock_timeout = '10min'"))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
        return taken
    # SQLite changes a table by rebuilding it (alembic's batch mode), which a populated office's foreign keys
    # refuse: the procedure of https://www.sqlite.org/lang_altertable.html#otheralter turns them off outside
    # the transaction, and checks every reference before the migration commits.
    with db.engine.connect() as conn:
        raw = conn.connection.dbapi_connection  # outside any transaction, where the pragma takes effect
        assert raw is not None
        raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise UserError(f"The upgrade would leave {len(broken)} broken reference(s) (first: table "
                                    f"{broken[0][0]}, row {broken[0][1]}); nothing was changed.")
        finally:
            raw.execute("PRAGMA foreign_keys=ON")
    return taken


def backup(db: Database, target: Path, *, force: bool = False) -> Path:
    """A consistent copy of a live database: SQLite's online backup API, or pg_dump.

    The copy is written to a temporary file in the target's folder, flushed to disk (the file and then
    the folder), and only then takes its name: a crash leaves either no backup or a whole one. An existing
    file is never replaced unless ``force``; a folder is refused before any work. On PostgreSQL the
    password reaches pg_dump through a temporary password file (mode 0600) named in its environment,
    never on its command line (which every user of the machine can read in the process list).
    """
    target = Path(target)
    if target.is_dir():
        raise UserError(f"{target} is a folder: give the backup a file name, "
                        f"e.g. {target / 'curbdesk-backup.sqlite3'}.")
    if (target.exists() or target.is_symlink()) and not force:
        raise UserError(f"{target} already exists: choose another file name, or replace it with --force.")
    if db.is_sqlite:
        source_path = db.url.database
        if not source_path or source_path == ":memory:":
            raise UserError("An in-memory database cannot be backed up.")
        if not Path(source_path).exists():
            raise UserError(f"There is no database at {source_path} to back up.")
    elif db.dialect == "postgresql":
        if shutil.which("pg_dump") is None:
            raise UserError("pg_dump is not installed on this workstation; install the PostgreSQL client tools.")
    else:
        raise UserError(f"Backups of {db.dialect} databases are not supported.")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, partial_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    except OSError as exc:
        raise UserError(f"Cannot write a backup in {target.parent}: {exc.strerror}.") from exc
    os.close(fd)
    partial = Path(partial_name)
    try:
        if db.is_sqlite:
            _sqlite_copy(str(db.url.database), partial)
        else:
            _pg_dump(db, partial)
        fsync_file(partial)
        fsync_dir(target.parent)  # the temporary file's entry, then its final name (in _settle)
        _settle(partial, target, force)
    finally:
        partial.unlink(missing_ok=True)
    return target


def _sqlite_copy(source_path: str, partial: Path) -> None:
    src = sqlite3.connect(source_path)
    try:
        dest = sqlite3.connect(partial)
        try:
            src.backup(dest)
        finally:
            dest.close()
    finally:
        src.close()


@contextmanager
def pg_connection_env(db: Database) -> Iterator[tuple[str, dict[str, str]]]:
    """The libpq URL without its password, and an environment that hands the password to pg_dump, pg_restore
    or psql through a temporary password file (mode 0600), never on a command line (every user of the
    machine can read those in the process list)."""
    url = db.url.set(drivername="postgresql")
    password = url.password
    env = {k: v for k, v in os.environ.items() if k not in ("PGPASSWORD", "PGPASSFILE")}
    passfile: str | None = None
    if password is not None:
        fd, passfile = tempfile.mkstemp(prefix="curbdesk-pgpass-")  # mode 0600: only this user reads it
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            value = str(password).replace("\\", "\\\\").replace(":", "\\:")
            fh.write(f"*:*:*:*:{value}\n")
        env["PGPASSFILE"] = passfile
        url = url._replace(password=None)  # URL.set() ignores None
    try:
        yield url.render_as_string(hide_password=False), env
    finally:
        if passfile is not None:
            os.unlink(passfile)


def _pg_dump(db: Database, partial: Path) -> None:
    with pg_connection_env(db) as (url, env):
        result = subprocess.run(
            ["pg_dump", "--format=custom", "--no-password", "--file", str(partial), "--dbname", url],
            capture_output=True, text=True, check=False, env=env,
        )
    if result.returncode != 0:
        last = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "no output"
        raise UserError(f"pg_dump failed: {last}")


def _settle(partial: Path, target: Path, force: bool) -> None:
    """Give the finished copy its name: replace only when forced; otherwise a link that fails if a file
    of that name appeared meanwhile (never overwrites, even against a race)."""
    if force:
        os.replace(partial, target)
    else:
        try:
            os.link(partial, target)
        except FileExistsError:
            raise UserError(f"{target} already exists: choose another file name, or replace it with "
                            "--force.") from None
        except OSError:  # file systems without hard links
            if target.exists():
                raise UserError(f"{target} already exists: choose another file name, or replace it with "
                                "--force.") from None
            os.replace(partial, target)
    fsync_dir(target.parent)


def make_revision(message: str, scratch_db: Path) -> None:
    """Developers: write a new revision from the difference between the models and head."""
    from alembic import command  # lazy: alembic costs 260 ms at start-up; only developers call this

    db = Database(f"sqlite:///{scratch_db}")
    upgrade(db)
    cfg = alembic_config(db)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message=message, autogenerate=True)
