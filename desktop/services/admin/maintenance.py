"""Database maintenance as use cases: an online backup (also nightly, with retention), a restore, the schema
upgrade, and a check of the audit trail's hash chain.

Both check the acting user's permission against the current user row (a unit of work, so a role changed
or an account disabled since sign-in counts at once) and leave an entry in the audit trail. The work
itself is the persistence layer's backup and the audit module's verification, run outside any
transaction: a backup of a large office takes a while and must not hold the write lock.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from desktop.domain.errors import UserError
from desktop.domain.roles import Permission
from desktop.persistence import backups
from desktop.persistence.migrate import backup, current_revision, head_revision, schema_state, upgrade
from desktop.services.core import seal, settings
from desktop.services.core.audit import VerifyResult, verify
from desktop.services.core.context import Actor, AppContext

log = logging.getLogger(__name__)


def _check(app: AppContext, actor: Actor, permission: Permission) -> None:
    """Refuse before any work unless the actor's current role grants `permission` (a read: no lock)."""
    with app.reader(actor, permission):
        pass


def backup_database(app: AppContext, actor: Actor, target: Path, *, force: bool = False) -> Path:
    """A consistent copy of the live database at `target` (administrators only). Returns the file written.

    An existing file is replaced only with `force`; a folder is refused (see `persistence.migrate.backup`)."""
    _check(app, actor, Permission.BACKUP)
    written = backup(app.db, Path(target), force=force)
    with app.uow(actor, Permission.BACKUP) as uow:
        uow.audit("database.backed_up", "database", app.db.display_name(),
                  after={"file": str(written), "bytes": written.stat().st_size})
        uow.commit()
    return written


def verify_audit_trail(app: AppContext, actor: Actor) -> VerifyResult:
    """Walk the audit trail's hash chain, check its seal, the checkpoints and the sealed rows (supervisors
    and administrators; a clean result appends a checkpoint); the check itself is audited, with its
    outcome, as the entry after the last one it checked."""
    _check(app, actor, Permission.VIEW_AUDIT)
    result = verify(app.db)
    with app.uow(actor, Permission.VIEW_AUDIT) as uow:
        uow.audit("audit.verified", "audit_trail", "chain",
                  after={"ok": result.ok, "checked": result.checked, "first_bad_id": result.first_bad_id,
                         "problem": result.problem})
        uow.commit()
    return result


@dataclass(frozen=True)
class Upgraded:
    before: str | None
    after: str | None
    backup: str | None


def upgrade_database(app: AppContext, actor: Actor | None) -> Upgraded:
    """Bring the schema to this program's revision (administrators only; a database without any schema yet
    may be set up without anyone signed in, as there is nobody yet). The upgrade is audited when it did
    something. The permission check reads only columns every revision has."""
    before = current_revision(app.db)
    if actor is None:
        if before is not None:
            raise UserError("Upgrading the database needs an administrator: give --as USER.")
        actor = Actor.system("migration")
    else:
        _check(app, actor, Permission.UPGRADE_DATABASE)
    # SQLite is copied beside its file; PostgreSQL is dumped into the data folder's backups/ (pg_dump)
    taken = upgrade(app.db, backup_dir=None if app.db.is_sqlite else app.paths.data_dir / "backups")
    after = current_revision(app.db)
    if before != after:
        with app.uow(actor, Permission.UPGRADE_DATABASE) as uow:
            uow.audit("database.upgraded", "database", app.db.display_name(),
                      before={"revision": before}, after={"revision": after, "backup": taken})
            uow.commit()
    return Upgraded(before, after, taken)


@dataclass(frozen=True)
class Restored:
    source: str
    revision: str
    #: the copy of the database as it was before, when it was not empty (None for an empty one)
    safety_backup: str | None
    #: the checkpoint file as it was, when it held checkpoints of this database (they describe the old trail)
    old_checkpoints: str | None
    #: the restored schema is an earlier release's: `db upgrade` next
    needs_upgrade: bool


def restore_database(app: AppContext, actor: Actor | None, source: Path, *, force: bool = False) -> Restored:
    """Replace the database with a backup, all or nothing (`persistence.backups.restore`).

    The file is checked first: a Curbdesk backup (SQLite or pg_dump custom format), undamaged, of a schema this
    program knows, of the same kind of database, sealed with this office's audit key. An empty database is
    restored into without anyone signed in (a new workstation after a disaster has no accounts yet); a
    database with anything in it only with ``force`` and by an administrator, and a copy of it is taken
    first. The checkpoints of the old trail are set aside (they would read the restored trail as cut short);
    the restore is the first entry of the restored trail."""
    name = app.db.display_name()
    state = schema_state(app.db)
    refusal = state.refusal(name)
    if refusal:
        raise UserError(refusal)
    empty = state.status == "empty"
    if not empty:
        if not force:
            raise UserError(f"The database {name} is not empty: restoring {source} would replace everything in it; "
                            "add --force to replace it (a copy of it is taken first).")
        if actor is None:
            raise UserError("Restoring over a database needs an administrator: give --as USER.")
        _check(app, actor, Permission.RESTORE_DATABASE)
    info = backups.identify(Path(source))
    backups.check_kind(app.db, info)
    office = seal.seal_of_db(app.db)
    if info.key_id and office is not None and info.key_id != office.key_id():
        raise UserError(f"{source} was sealed with another audit key than {office.key_file}: put the office's "
                        "audit.key there (or point CURBDESK_AUDIT_KEY at it) and restore again; nothing was "
                        "restored.")
    safety: Path | None = None
    if not empty:
        stamp = app.now().strftime("%Y%m%dT%H%M%SZ")
        safety = backup(app.db, app.paths.data_dir / "backups" /
                        f"before-restore-{stamp}.{'sqlite3' if app.db.is_sqlite else 'pgdump'}")
    app.db.dispose()  # this process's connections; the restore waits for (SQLite) or refuses (PostgreSQL) others
    backups.restore(app.db, info)
    set_aside = _set_checkpoints_aside(app)
    needs_upgrade = info.revision != head_revision()
    if not needs_upgrade:  # an earlier schema is audited by its upgrade (the trail's columns may differ)
        # the restored trail names who restored it; their account row is the old database's, not this one's
        by = Actor.system(f"restore by {actor.username}"[:57] if actor else "restore")
        with app.uow(by) as uow:
            uow.audit("database.restored", "database", name, reason=f"restored from {source}",
                      after={"file": str(source), "revision": info.revision,
                             "safety_backup": str(safety) if safety else None})
            uow.commit()
    log.info("restored %s from %s (schema %s)", name, source, info.revision)
    return Restored(str(source), info.revision, str(safety) if safety else None, set_aside, needs_upgrade)


def _set_checkpoints_aside(app: AppContext) -> str | None:
    """Keep the checkpoint file's lines of other databases; this database's old ones go to a dated copy of the
    file (each line is signed on its own, so the others stay valid)."""
    office = seal.seal_of_db(app.db)
    if office is None or not office.checkpoint_file.exists():
        return None
    ident = seal.db_ident(app.db)
    path = office.checkpoint_file
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    keep = [ln for ln in lines if f'"db":"{ident}"' not in ln]
    if len(keep) == len(lines):
        return None
    aside = path.with_name(f"{path.name}.before-restore-{app.now():%Y%m%dT%H%M%SZ}")
    shutil.copyfile(path, aside)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("".join(keep), encoding="utf-8")
    os.replace(tmp, path)
    return str(aside)


@dataclass(frozen=True)
class NightlyBackup:
    written: Path | None
    removed: list[Path]
    keep: int

    def line(self) -> str:
        if self.keep <= 0:
            return "Nightly backup: off (setting backup.nightly_keep)."
        took = f"written to {self.written}" if self.written else "tonight's is there already"
        return f"Nightly backup: {took}; {len(self.removed)} older removed (keeping {self.keep})."


def nightly_backup(app: AppContext, actor: Actor, day: date) -> NightlyBackup:
    """The daily run's backup: `backup.nightly_keep` newest kept in `backup.nightly_dir` (default: the data
    folder's backups/); nothing when the setting is 0. Audited when a file was written."""
    with app.reader(actor, Permission.BACKUP) as uow:
        keep = int(settings.get(uow.session, "backup.nightly_keep"))
        folder = str(settings.get(uow.session, "backup.nightly_dir")) or str(app.paths.data_dir / "backups")
    if keep <= 0:
        return NightlyBackup(None, [], keep)
    written, removed = backups.nightly(app.db, Path(folder), day, keep)
    if written is not None:
        with app.uow(actor, Permission.BACKUP) as uow:
            uow.audit("database.backed_up", "database", app.db.display_name(),
                      after={"file": str(written), "bytes": written.stat().st_size, "nightly": True,
                             "removed": [p.name for p in removed]})
            uow.commit()
    return NightlyBackup(written, removed, keep)
