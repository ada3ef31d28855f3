"""The daily-run lock: how the set-based daily escalation and every other write serialise on PostgreSQL.

The scheme (issue 14): ONE transaction-level advisory lock. The daily escalation takes it in EXCLUSIVE
mode at the start of its single transaction; every other write unit of work takes it SHARED as its first
statement, before it reads anything it decides on. Shared holders never wait for one another, so clerks,
imports, refunds and appeal decisions run side by side exactly as before (their row locks on the cases
and the version counters order them among themselves); the escalation starts only when the writes in
flight have committed and, while it runs, no write starts, so every write sees the cases either wholly
before or wholly after the run. Both are released by the commit or rollback (``pg_advisory_xact_lock``),
so a crashed run or a killed client can never leave it held.

Why not the alternatives. Row locks in one order: the escalation is set-based (``INSERT ... SELECT`` over
every open case, work tables filled early and read later), so it would have to lock every open case up
front, which makes a counter payment wait for the whole run anyway, and its reads of ledgers, notices and
holds would need locks of their own. An advisory lock per case: the same, a million locks. SERIALIZABLE
with retry: a run that reads every open case conflicts with any payment made meanwhile, so a run of
minutes would be aborted and retried over and over during office hours.

The price: a write that starts while the escalation runs waits. (It already waited before this lock,
without knowing why: the run holds the audit chain's head from its first audited legal step to its
commit.) It waits at most :data:`WAIT_SECONDS`, then the clerk is told "The daily run is in progress..."
(:class:`DailyRunInProgress`) rather than left hanging; nothing of that write was stored. The run itself
waits for the writes in flight (they are short; an import of a large file finishes first), up to
:data:`RUN_WAIT_SECONDS`.

SQLite needs none of this: every write transaction there begins with ``BEGIN IMMEDIATE`` and holds the
database's single write lock until it commits, so writers are serialised already (the lock is a no-op).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from desktop.domain.errors import UserError

#: the advisory lock's key (any 64-bit number no other lock of the database uses: "CURBRUN!")
DAILY_RUN_LOCK_KEY = 0x4355_5242_5255_4E21
#: how long a write waits for a running daily escalation before the clerk is told to try again
WAIT_SECONDS = 10.0
#: how long the daily escalation waits for the writes in flight (a large import) before giving up
RUN_WAIT_SECONDS = 600.0
#: PostgreSQL's SQLSTATE for "lock_not_available" (lock_timeout expired)
_LOCK_NOT_AVAILABLE = "55P03"


class DailyRunInProgress(UserError):
    """A write waited :data:`WAIT_SECONDS` for the daily escalation; nothing was stored."""


_MESSAGE = ("The daily run is in progress, so changes to cases wait for it to finish; nothing was saved. "
            "Try again in a minute.")
_RUN_WAITED = ("The daily run waited {minutes:.0f} minutes for other work on the cases to finish (a payment import, or a "
               "workstation that left a change open) and did not start; nothing was changed. Run it again later.")


def enter_write(session: Session, *, daily_run: bool = False) -> None:
    """Take the daily-run lock for the rest of ``session``'s transaction (PostgreSQL; no-op on SQLite):
    shared for an ordinary write, exclusive for the daily escalation (``daily_run=True``)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    mode = "" if daily_run else "_shared"
    # The first attempt never waits: the usual case (no run, or no write in flight) costs one round trip.
    if session.execute(text(f"SELECT pg_try_advisory_xact_lock{mode}(:key)"), {"key": DAILY_RUN_LOCK_KEY}).scalar():
        return
    wait = RUN_WAIT_SECONDS if daily_run else WAIT_SECONDS
    before = session.execute(text("SELECT current_setting('lock_timeout')")).scalar()
    session.execute(text("SELECT set_config('lock_timeout', :ms, true)"), {"ms": f"{int(wait * 1000)}ms"})
    try:
        session.execute(text(f"SELECT pg_advisory_xact_lock{mode}(:key)"), {"key": DAILY_RUN_LOCK_KEY})
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) == _LOCK_NOT_AVAILABLE:
            raise DailyRunInProgress(_RUN_WAITED.format(minutes=wait / 60) if daily_run else _MESSAGE) from exc
        raise
    session.execute(text("SELECT set_config('lock_timeout', :ms, true)"), {"ms": str(before)})
