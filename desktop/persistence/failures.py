"""What the database server says when it cannot do what a click asked, in one sentence a clerk can act on.

A unit of work (``desktop.services.core.context.UnitOfWork``) hands every driver error it meets to
:func:`translate`; what comes back is a :class:`UserError` (or None: a bug, raised as it is). Nothing of the
unit of work was stored in any of these cases (the transaction is rolled back) except where the server went
away *during* the commit: then nobody can know whether the commit landed, and the sentence says so.

The SQLSTATE codes are PostgreSQL's (https://www.postgresql.org/docs/15/errcodes-appendix.html): 40P01
deadlock_detected, 40001 serialization_failure (both: the server undid one transaction so the other could
go on; run it again), 55P03 lock_not_available (``lock_timeout``), 57014 query_canceled
(``statement_timeout``), 57P01-57P03 the server shutting down or restarting, class 08 connection exceptions.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError

from desktop.domain.errors import ConcurrencyConflict, UserError

DEADLOCK = "40P01"
SERIALIZATION = "40001"
LOCK_NOT_AVAILABLE = "55P03"
QUERY_CANCELED = "57014"
_SERVER_GOING = {"57P01", "57P02", "57P03"}


class TransientConflict(ConcurrencyConflict):
    """The server undid this transaction to let a concurrent one through (deadlock, serialization): running
    the same work again is safe and usually succeeds; services do so (``context.retrying``) before a user
    ever sees this sentence."""


class ConnectionLost(UserError):
    """The connection to the database server broke (a restart, a network cut, an administrator)."""

    def __init__(self, message: str, *, uncertain: bool = False) -> None:
        super().__init__(message)
        #: True when it broke during the commit: the work may have been stored
        self.uncertain = uncertain


class RowsBusy(UserError):
    """``lock_timeout``: another job holds the rows this click wants to change."""


class TooSlow(UserError):
    """``statement_timeout``: the server gave up on a statement of a click."""


CONFLICT = ("Another workstation was changing the same cases at the same moment and the database undid this "
            "change; nothing was saved. Try again.")
LOST = ("The connection to the database server was lost (the server may be restarting); nothing was saved. "
        "Try again in a minute; if it keeps happening, call whoever looks after the server.")
LOST_AT_COMMIT = ("The connection to the database server was lost while this change was being saved, so it may or "
                  "may not have been stored: look at the case before doing it again.")
BUSY = ("Another job (an import, the daily run or another workstation) is changing these records right now; "
        "nothing was saved. Try again in a moment.")
SLOW = ("The database took too long to answer and gave up; nothing was changed. Narrow the search, or try again "
        "when the office is quieter.")


def sqlstate(exc: BaseException) -> str | None:
    return getattr(getattr(exc, "orig", None), "sqlstate", None)


def is_disconnect(exc: BaseException) -> bool:
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated or sqlstate(exc) in _SERVER_GOING:
        return True
    code = sqlstate(exc)
    # no SQLSTATE at all on an OperationalError: libpq's own failures (refused, closed, unreachable)
    return (code is None and isinstance(exc, OperationalError)) or (code or "").startswith("08")


def translate(exc: BaseException, *, committing: bool = False) -> UserError | None:
    """The sentence for a driver error met by a unit of work; None for anything that is a bug."""
    if not isinstance(exc, DBAPIError):
        return None
    code = sqlstate(exc)
    if code in (DEADLOCK, SERIALIZATION):
        return TransientConflict(CONFLICT)
    if is_disconnect(exc):
        # The server's own "terminating connection" (57P0x) arrives before a COMMIT it never ran: nothing was
        # stored. A connection that just broke during the commit leaves no one knowing.
        if committing and code not in _SERVER_GOING:
            return ConnectionLost(LOST_AT_COMMIT, uncertain=True)
        return ConnectionLost(LOST)
    if code == LOCK_NOT_AVAILABLE:
        return RowsBusy(BUSY)
    if code == QUERY_CANCELED:
        return TooSlow(SLOW)
    return None
