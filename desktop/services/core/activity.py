"""The administrator's activity: which audit actions count, their kind and outcome, and one line each in the
rotating log (``<data folder>/logs/curbdesk.log``, logger ``curbdesk.activity``) once they are committed.

The audit trail is the record; this module only names the part of it an administrator follows day to day
(sign-ins, sign-outs, lockouts, payments posted, approvals, syncs, notice runs, escalations, the database's
backups, upgrades and restores) and writes each such entry to the log as it commits: an entry of a rolled
back transaction never reaches the log. The Activity screen reads the same entries from the trail
(`desktop.services.admin.activity`).

Other areas add an action by listing it in ``KINDS``; the accounts work records a sign-out with
``desktop.services.admin.users.sign_out`` and failed sign-ins as ``user.sign_in_failed``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger("curbdesk.activity")

SIGNED_IN = "user.signed_in"
SIGNED_OUT = "user.signed_out"
SIGN_IN_FAILED = "user.sign_in_failed"

#: kind (as the screen's filter names it) -> the audit actions of that kind
KINDS: dict[str, tuple[str, ...]] = {
    "sign-in": (SIGNED_IN, SIGN_IN_FAILED, "token.used"),
    "sign-out": (SIGNED_OUT,),
    "lockout": ("user.locked", "user.unlocked"),
    "payment": ("payment.posted", "payment.counter", "payment_import.imported", "payment_import.rejected",
                "payment.reversed", "payment.matched_by_hand"),
    "approval": ("citation.approved", "review.bulk_approved", "refund.approved", "refund.rejected"),
    "sync": ("sync.finished", "bundle.accepted", "bundle.held", "bundle.refused"),
    "notice run": ("notice_batch.rendered", "notice_batch.mailed", "notice_batch.cancelled"),
    "escalation": ("escalation.run",),
    "database": ("database.backed_up", "database.upgraded", "database.restored"),
}
KIND_OF: dict[str, str] = {action: kind for kind, actions in KINDS.items() for action in actions}
ACTIONS: frozenset[str] = frozenset(KIND_OF)

OUTCOMES = ("ok", "failed", "locked", "held", "rejected", "cancelled")
#: actions whose outcome is always the same other than ok
FIXED_OUTCOME = {SIGN_IN_FAILED: "failed", "payment_import.rejected": "failed", "bundle.refused": "failed",
                 "user.locked": "locked", "bundle.held": "held", "refund.rejected": "rejected",
                 "notice_batch.cancelled": "cancelled"}
#: sync.finished says how it ended at the start of its reason
REASON_OUTCOME = {"sync.finished": (("failed:", "failed"), ("cancelled", "cancelled"))}

_PENDING = "curbdesk.activity.pending"
#: more entries than this in one bulk append are logged as one line per action with their number
BULK_LINE = 20


def outcome(action: str, reason: str | None) -> str:
    fixed = FIXED_OUTCOME.get(action)
    if fixed:
        return fixed
    for prefix, result in REASON_OUTCOME.get(action, ()):
        if (reason or "").startswith(prefix):
            return result
    return "ok"


def summary(entity_type: str, entity_id: str, after: Any, reason: str | None) -> str:
    """What the entry is about, in one short line: the entity, then the reason or the first facts recorded."""
    text = f"{entity_type} {entity_id}"
    if reason:
        text += f": {reason}"
    elif isinstance(after, dict) and after:
        facts = ", ".join(f"{k}={v}" for k, v in list(after.items())[:4] if not isinstance(v, (dict, list)))
        if facts:
            text += f" ({facts})"
    return " ".join(text.split())[:300]


def line(at: datetime, username: str, action: str, entity_type: str, entity_id: str, after: Any,
         reason: str | None) -> str:
    """The log line: kind, outcome, who, action, what (the time is the log record's own)."""
    return (f"{KIND_OF[action]} {outcome(action, reason)} user={username} action={action} "
            f"{summary(entity_type, entity_id, after, reason)}")


def note(session: Session, entries: Iterable[tuple[datetime, str, str, str, str, Any, str | None]]) -> None:
    """Keep the activity lines of entries just appended in `session`; they are logged when it commits."""
    lines = [line(*e) for e in entries if e[2] in ACTIONS]
    if not lines:
        return
    pending: list[str] = session.info.setdefault(_PENDING, [])
    if len(lines) > BULK_LINE:
        counts: dict[str, int] = {}
        for ln in lines:
            head = ln.split(" ", 4)
            key = " ".join(head[:4])
            counts[key] = counts.get(key, 0) + 1
        pending.extend(f"{k} ×{n} (one bulk append)" for k, n in counts.items())
    else:
        pending.extend(lines)


@event.listens_for(Session, "after_commit")
def _log_committed(session: Session) -> None:
    for text in session.info.pop(_PENDING, ()):
        log.info("%s", text)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)
