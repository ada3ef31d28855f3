"""Schema migrations with Alembic, and the online backup taken before migrating a real database."""

from __future__ import annotations

import logging
import re
import shutil
import sqlite3
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text

from desktop.domain.errors import UserError
from desktop.persistence.db import Database

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


def head_revision(db: Database | None = None) -> str | None:
    """The newest revision in the migrations folder: the one no other revision builds on."""
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
    heads = revisions - parents
    if len(heads) > 1:
        raise UserError(f"The schema has several newest revisions ({', '.join(sorted(heads))}); merge them.")
    return next(iter(heads), None)


def upgrade(db: Database, *, backup_dir: Path | None = None) -> str | None:
    """Bring the schema to the newest revision; back up a non-empty SQLite file first.

    Returns the path of the backup taken, if any.
    """
    current = current_revision(db)
    head = head_revision(db)
    if current == head:
        return None
    taken: str | None = None
    if current is not None and db.is_sqlite and db.url.database not in (None, "", ":memory:"):
        folder = backup_dir or Path(str(db.url.database)).parent / "backups"
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        target = folder / f"before-{head}-{stamp}.sqlite3"
        backup(db, target)
        taken = str(target)
        log.info("backed up %s to %s before migrating", db.display_name(), target)
    from alembic import command  # lazy: alembic costs 260 ms, and a schema already at head never needs it

    cfg = alembic_config(db)
    if not db.is_sqlite:
        with db.engine.begin() as conn:
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


def backup(db: Database, target: Path) -> Path:
    """A consistent copy of a live database: SQLite's online backup API, or pg_dump."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    if db.is_sqlite:
        source_path = db.url.database
        if not source_path or source_path == ":memory:":
            raise UserError("An in-memory database cannot be backed up.")
        if not Path(source_path).exists():
            raise UserError(f"There is no database at {source_path} to back up.")
        src = sqlite3.connect(source_path)
        try:
            dest = sqlite3.connect(partial)
            try:
                src.backup(dest)
            finally:
                dest.close()
        finally:
            src.close()
    elif db.dialect == "postgresql":
        if shutil.which("pg_dump") is None:
            raise UserError("pg_dump is not installed on this workstation; install the PostgreSQL client tools.")
        url = db.url.set(drivername="postgresql")
        result = subprocess.run(
            ["pg_dump", "--format=custom", "--file", str(partial),
             url.render_as_string(hide_password=False)],
            capture_output=True, text=True, check=False,
        )
        if result.returncode != 0:
            partial.unlink(missing_ok=True)
            raise UserError(f"pg_dump failed: {result.stderr.strip().splitlines()[-1] if result.stderr else 'no output'}")
    else:
        raise UserError(f"Backups of {db.dialect} databases are not supported.")
    partial.replace(target)
    return target


def make_revision(message: str, scratch_db: Path) -> None:
    """Developers: write a new revision from the difference between the models and head."""
    from alembic import command  # lazy: alembic costs 260 ms at start-up; only developers call this

    db = Database(f"sqlite:///{scratch_db}")
    upgrade(db)
    cfg = alembic_config(db)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message=message, autogenerate=True)
