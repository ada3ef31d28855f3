"""Backups as files: what a file is (a Curbdesk backup, and of which schema), restoring one atomically, and the
nightly backups' names and retention. Taking a backup is `migrate.backup` (SQLite's online backup API, or
pg_dump in its custom format).

A restore is all or nothing. SQLite: the backup is checked (`PRAGMA quick_check`) and then copied into the
database through SQLite's online backup API in one step, which is one write transaction on the destination
(https://www.sqlite.org/backup.html: "sqlite3_backup_step() ... obtains a write lock ... the destination is
updated atomically"), so a failure leaves the old database. PostgreSQL: pg_restore turns the dump into SQL,
which psql runs in one transaction (``--single-transaction``, ``ON_ERROR_STOP``) after dropping the old
tables in that same transaction; a failure rolls all of it back.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from desktop.domain.errors import UserError
from desktop.persistence.db import Database
from desktop.persistence.migrate import CURBDESK_TABLES, backup, head_revision, known_revisions, pg_connection_env

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
#: how long a restore waits for another connection's transaction before it gives up, changing nothing
LOCK_TIMEOUT_SECONDS = 10.0
NIGHTLY = re.compile(r"^curbdesk-nightly-(\d{8})\.(sqlite3|pgdump)$")


@dataclass(frozen=True)
class BackupInfo:
    """What a backup file holds: ``kind`` sqlite or pgdump, its schema revision, and the id of the audit key
    its trail was sealed with (None before the office had one)."""

    path: Path
    kind: str
    revision: str
    key_id: str | None

    @property
    def dialect(self) -> str:
        return "sqlite" if self.kind == "sqlite" else "postgresql"


def _not_ours(path: Path) -> UserError:
    return UserError(f"{path} is a backup of another application's database (it has no Curbdesk tables); "
                     "nothing was restored.")


def identify(path: Path) -> BackupInfo:
    """Read a file as a Curbdesk backup, or refuse it in one sentence (not a backup, damaged, another
    application's, or made by a newer release)."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except IsADirectoryError:
        raise UserError(f"{path} is a folder: give the backup file.") from None
    except FileNotFoundError:
        raise UserError(f"There is no file {path}.") from None
    except OSError as exc:
        raise UserError(f"{path} cannot be read: {exc.strerror}.") from None
    if head.startswith(SQLITE_MAGIC):
        info = _identify_sqlite(path)
    elif head.startswith(PGDUMP_MAGIC):
        info = _identify_pgdump(path)
    else:
        raise UserError(f"{path} is not a Curbdesk backup (neither a SQLite database nor a pg_dump custom-format "
                        "file); nothing was restored.")
    if info.revision not in known_revisions():
        raise UserError(f"{path} was made by a newer release of Curbdesk (schema {info.revision}); this one knows "
                        f"schemas up to {head_revision()}: restore it with that release.")
    return info


def _identify_sqlite(path: Path) -> BackupInfo:
    try:
        # immutable: read as a plain file, no lock, no -wal or -shm file made beside it
        conn = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if not CURBDESK_TABLES <= tables or "alembic_version" not in tables:
                raise _not_ours(path)
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise UserError(f"{path} is a damaged backup ({check}); nothing was restored: use another one.")
            revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
            key_id = None
            if "audit_head" in tables:
                cols = {r[1] for r in conn.execute("PRAGMA table_info(audit_head)")}
                if "key_id" in cols:
                    row = conn.execute("SELECT key_id FROM audit_head ORDER BY id LIMIT 1").fetchone()
                    key_id = row[0] if row else None
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise UserError(f"{path} is a damaged backup ({exc}); nothing was restored: use another one.") from None
    return BackupInfo(path, "sqlite", str(revision), key_id)


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise UserError(f"{name} is not installed on this workstation; install the PostgreSQL client tools "
                        "(postgresql-client).")
    return found


def _copy_rows(path: Path, table: str) -> list[dict[str, str]]:
    """One table's rows from a custom-format dump (text COPY format; every table here is small)."""
    out = subprocess.run([_pg_tool("pg_restore"), "--data-only", f"--table={table}", "-f", "-", str(path)],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise UserError(f"{path} is a damaged backup ({_last_line(out.stderr)}); nothing was restored.")
    rows: list[dict[str, str]] = []
    columns: list[str] = []
    copying = False
    for line in out.stdout.splitlines():
        match = re.match(r"^COPY \S+ \((.*)\) FROM stdin;$", line)
        if match:
            columns = [c.strip().strip('"') for c in match.group(1).split(",")]
            copying = True
        elif copying and line == "\\.":
            copying = False
        elif copying:
            rows.append(dict(zip(columns, line.split("\t"), strict=False)))
    return rows


def _identify_pgdump(path: Path) -> BackupInfo:
    listed = subprocess.run([_pg_tool("pg_restore"), "--list", str(path)], capture_output=True, text=True,
                            check=False)
    if listed.returncode != 0:
        raise UserError(f"{path} is a damaged backup ({_last_line(listed.stderr)}); nothing was restored.")
    tables = set(re.findall(r"^\d+; \d+ \d+ TABLE \S+ (\S+) ", listed.stdout, re.M))
    if not CURBDESK_TABLES <= tables or "alembic_version" not in tables:
        raise _not_ours(path)
    versions = _copy_rows(path, "alembic_version")
    if not versions:
        raise UserError(f"{path} holds no schema revision; nothing was restored.")
    heads = _copy_rows(path, "audit_head") if "audit_head" in tables else []
    key_id = heads[0].get("key_id") if heads else None
    return BackupInfo(path, "pgdump", versions[0]["version_num"], None if key_id in (None, "\\N") else key_id)


def _last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1].strip() if lines else "no output"


# ---------------------------------------------------------------------------------------------- restore

def check_kind(db: Database, info: BackupInfo) -> None:
    """A SQLite backup goes into a SQLite database, a pg_dump into PostgreSQL."""
    if info.dialect != db.dialect:
        here = "SQLite" if db.is_sqlite else "PostgreSQL"
        raise UserError(f"{info.path} is a {'SQLite' if info.kind == 'sqlite' else 'PostgreSQL'} backup and this "
                        f"database is {here}: restore it into a {info.dialect} database.")


def restore(db: Database, info: BackupInfo) -> None:
    """Replace the database's content with the backup's, all or nothing. The caller has checked that it may
    (empty database, or --force by an administrator) and disposed of its own connections."""
    check_kind(db, info)
    if db.is_sqlite:
        _restore_sqlite(db, info.path)
    else:
        _restore_pg(db, info.path)


class _DatabaseBusy(sqlite3.OperationalError):
    pass


def _give_up_after(seconds: float) -> Callable[[int, int, int], None]:
    deadline = time.monotonic() + seconds

    def progress(status: int, _remaining: int, _total: int) -> None:
        if status in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) and time.monotonic() > deadline:
            raise _DatabaseBusy("the database is in use by another program")
    return progress


def _restore_sqlite(db: Database, source: Path) -> None:
    target = db.url.database
    if not target or target == ":memory:":
        raise UserError("An in-memory database cannot be restored into.")
    target_path = Path(target)
    created = not target_path.exists()
    try:
        target_path.parent.mkdir(parents=True, exist_ok=True)
        dest = sqlite3.connect(target_path, timeout=LOCK_TIMEOUT_SECONDS)
    except (OSError, sqlite3.Error) as exc:
        raise UserError(f"Cannot write the database {target_path}: {exc}.") from None
    try:
        src = sqlite3.connect(f"file:{source}?immutable=1", uri=True)
        try:
            # one step (pages=-1): one write transaction on the destination. Python's backup() retries a busy
            # destination for ever; this gives up after LOCK_TIMEOUT_SECONDS (nothing copied by then)
            src.backup(dest, progress=_give_up_after(LOCK_TIMEOUT_SECONDS))
        finally:
            src.close()
        dest.execute("PRAGMA journal_mode=WAL")  # as every Curbdesk database runs (persistence.db)
    except sqlite3.Error as exc:
        dest.close()
        if created:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{target_path}{suffix}").unlink(missing_ok=True)
        raise UserError(f"The restore failed ({exc}); the database is as it was.") from None
    dest.close()


def _pg_preamble() -> bytes:
    """Run before the dump's own SQL, in the same transaction: the old tables go only if the new ones arrive."""
    return (f"SET lock_timeout = '{int(LOCK_TIMEOUT_SECONDS * 1000)}ms';\n"
            "DROP SCHEMA IF EXISTS public CASCADE;\nCREATE SCHEMA public;\n").encode()


def _restore_pg(db: Database, source: Path) -> None:
    pg_restore, psql = _pg_tool("pg_restore"), _pg_tool("psql")
    with pg_connection_env(db) as (url, env), tempfile.TemporaryFile() as restore_err, \
            tempfile.TemporaryFile() as psql_err:
        producer = subprocess.Popen([pg_restore, "--no-owner", "--no-privileges", "-f", "-", str(source)],
                                    stdout=subprocess.PIPE, stderr=restore_err, env=env)
        consumer = subprocess.Popen([psql, "--no-psqlrc", "--quiet", "--single-transaction", "-v", "ON_ERROR_STOP=1",
                                     "--dbname", url], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                    stderr=psql_err, env=env)
        assert producer.stdout is not None and consumer.stdin is not None
        try:
            consumer.stdin.write(_pg_preamble())
            shutil.copyfileobj(producer.stdout, consumer.stdin, 1 << 20)
            consumer.stdin.close()
        except BrokenPipeError:
            pass  # psql stopped on an error: its message says which
        producer.stdout.close()
        produced, consumed = producer.wait(), consumer.wait()
        restore_err.seek(0)
        psql_err.seek(0)
        restore_text = restore_err.read().decode("utf-8", "replace")
        psql_text = psql_err.read().decode("utf-8", "replace")
    if consumed != 0:
        detail = _last_line(psql_text)
        if "lock timeout" in detail:
            raise UserError("The database is in use on another workstation; sign everyone out and restore again "
                            "(nothing was changed).")
        raise UserError(f"The restore failed ({detail}); the database is as it was.")
    if produced != 0:
        raise UserError(f"The restore failed (pg_restore: {_last_line(restore_text)}); the database is as it was.")


# ---------------------------------------------------------------------------------------------- nightly

def nightly_name(day: date, sqlite: bool) -> str:
    return f"curbdesk-nightly-{day:%Y%m%d}.{'sqlite3' if sqlite else 'pgdump'}"


def nightly(db: Database, folder: Path, day: date, keep: int) -> tuple[Path | None, list[Path]]:
    """Tonight's backup in `folder` (none if tonight's is there already: the daily run may run twice), then
    only the `keep` newest nightly backups kept. Returns (the backup written or None, the files removed).
    Only files named like the nightly backups are ever removed."""
    folder = Path(folder)
    target = folder / nightly_name(day, db.is_sqlite)
    written: Path | None = None
    if not target.exists():
        written = backup(db, target)
    dated = sorted((m.group(1), p) for p in folder.iterdir() if (m := NIGHTLY.match(p.name)) and p.is_file())
    removed = [p for _d, p in dated[:-keep]] if keep > 0 else []
    for p in removed:
        p.unlink(missing_ok=True)
    return written, removed
