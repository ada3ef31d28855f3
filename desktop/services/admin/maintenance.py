"""Database maintenance as use cases: an online backup and a check of the audit trail's hash chain.

Both check the acting user's permission against the current user row (a unit of work, so a role changed
or an account disabled since sign-in counts at once) and leave an entry in the audit trail. The work
itself is the persistence layer's backup and the audit module's verification, run outside any
transaction: a backup of a large office takes a while and must not hold the write lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from desktop.domain.errors import UserError
from desktop.domain.roles import Permission
from desktop.persistence.migrate import backup, current_revision, upgrade
from desktop.services.core.audit import VerifyResult, verify
from desktop.services.core.context import Actor, AppContext


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
