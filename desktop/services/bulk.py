"""Bulk work for supervisors (issue 16, point 5): many citations or cases at once, chosen by a filter or
by hand, voided with a reason, put on or released from a supervisor hold, moved to a clerk's review
queue, or approved.

Each case goes through the same per-case step as the single action (``review.queue.void_in``,
``cases.holds.place_supervisor_hold_in`` / ``release_supervisor_holds_in``,
``review.assignment.assign_in``, ``review.queue.approve_if_clean``), with its rules and its audit
entry: a case the rules refuse (a paid case cannot be voided, a case already on hold) is listed in the
result with the reason, inside a savepoint, and the rest go ahead.

The cases are worked in batches (``BATCH_SIZE``), one transaction each, with a ``bulk.<action>`` audit
entry per batch naming every case it changed or refused. ``cancel()`` is looked at between batches:
what the finished batches did stays, the rest is not touched. Only supervisors and administrators may
(``Permission.BULK_CHANGE``, and the permission of the single action, e.g. placing holds), checked
before the first batch and again by each batch's unit of work.

Nothing imports this module but the screens and the command line (like ``daily_run``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from desktop.domain.errors import NotFound, UserError
from desktop.domain.lifecycle import CaseStatus
from desktop.domain.roles import Permission
from desktop.persistence.models import Citation, User
from desktop.services.cases import holds
from desktop.services.cases import queries as case_queries
from desktop.services.cases import steps as case_ops
from desktop.services.cases.queries import CaseFilter
from desktop.services.core.context import Actor, AppContext, UnitOfWork
from desktop.services.review import assignment
from desktop.services.review import queue as review
from desktop.services.review.checks import REVIEWABLE

#: cases per transaction: small enough that a batch holds its row locks for well under a second on the
#: shared PostgreSQL server, large enough that the per-batch work (lock, audit head) is paid rarely
BATCH_SIZE = 200
#: the assignee that sends citations back to everyone's review queue
EVERYONE = "-"
#: the most cases one bulk action may take (a filter that selects more is refused: narrow it)
MAX_CASES = 20_000


class BulkAction(StrEnum):
    VOID = "void"
    HOLD = "hold"
    RELEASE = "release"
    ASSIGN = "assign"
    APPROVE = "approve"

    @property
    def verb(self) -> str:
        return _VERBS[self]


_VERBS = {BulkAction.VOID: "void", BulkAction.HOLD: "put on hold", BulkAction.RELEASE: "release from hold",
          BulkAction.ASSIGN: "move to a clerk's review queue", BulkAction.APPROVE: "approve"}

#: the permission of the single action each bulk action repeats
PERMISSIONS = {BulkAction.VOID: Permission.REVIEW_CITATIONS, BulkAction.HOLD: Permission.PLACE_HOLDS,
               BulkAction.RELEASE: Permission.PLACE_HOLDS, BulkAction.ASSIGN: Permission.REVIEW_CITATIONS,
               BulkAction.APPROVE: Permission.BULK_APPROVE}


@dataclass(frozen=True)
class BulkRequest:
    """What to do to every case: the action, and what it needs (a void reason code and note, a hold's
    reason, the clerk's username)."""

    action: BulkAction
    reason: str = ""
    void_code: str = ""
    assignee: str = ""

    def describe(self, count: int) -> str:
        """The confirmation's sentence, naming the count: "Void 5 citations (Duplicate: ...)?"."""
        what = f"{count:,} citation{'s' if count != 1 else ''}"
        if self.action is BulkAction.ASSIGN:
            where = "back to everyone's" if self.assignee == EVERYONE else f"to {self.assignee}'s"
            return f"Move {what} {where} review queue?"
        extra = {BulkAction.VOID: f" ({self.void_code}{': ' + self.reason if self.reason else ''})",
                 BulkAction.HOLD: f" ({self.reason})", BulkAction.RELEASE: f" ({self.reason})",
                 BulkAction.ASSIGN: "", BulkAction.APPROVE: " (those without warnings)"}
        return f"{self.action.verb.capitalize()} {what}{extra[self.action]}?"


@dataclass
class BulkOutcome:
    """What a bulk action did: the cases changed and those refused with why, whether Cancel stopped it."""

    action: BulkAction
    total: int
    done: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    changed_ids: list[int] = field(default_factory=list)
    batches: int = 0
    cancelled: bool = False

    @property
    def untouched(self) -> int:
        return self.total - len(self.done) - len(self.refused)

    def summary(self) -> str:
        parts = [f"{len(self.done):,} of {self.total:,} done ({self.action.verb})"]
        if self.refused:
            parts.append(f"{len(self.refused):,} refused")
        if self.cancelled:
            parts.append(f"cancelled: {self.untouched:,} not touched (the finished batches stay)")
        return "; ".join(parts) + "."


Progress = Callable[[int, int], None]
Cancel = Callable[[], bool]


def check_request(request: BulkRequest) -> BulkRequest:
    """The request with its texts cleaned; one sentence when something it needs is missing."""
    reason = " ".join(request.reason.split())
    if request.action is BulkAction.VOID:
        code, note = review.void_reason(request.void_code, reason)
        return BulkRequest(request.action, note, code.value)
    if request.action in (BulkAction.HOLD, BulkAction.RELEASE) and not reason:
        raise UserError("Say why (the reason goes into the audit trail of every case).")
    if request.action is BulkAction.ASSIGN and not request.assignee.strip():
        raise UserError("Choose the clerk whose review queue the citations go to.")
    return BulkRequest(request.action, reason, request.void_code, request.assignee.strip())


def check_allowed(app: AppContext, actor: Actor, request: BulkRequest) -> None:
    """Refuse at once (PermissionDenied, one sentence) a user who may not do ``request`` in bulk, and a clerk's
    queue that is no reviewer's."""
    with app.reader(actor, Permission.BULK_CHANGE) as uow:
        uow.require(PERMISSIONS[request.action])
        if request.action is BulkAction.ASSIGN and request.assignee != EVERYONE:
            assignment.reviewer(uow, request.assignee)


def ids_for_filter(app: AppContext, actor: Actor, f: CaseFilter) -> list[int]:
    """The cases the case list shows for ``f`` (in its order), refused past ``MAX_CASES``."""
    out: list[int] = []
    while True:
        page = case_queries.case_page(app, actor, f, len(out), 2000)
        out.extend(r.id for r in page)
        if len(out) > MAX_CASES:
            raise UserError(f"The filter selects more than {MAX_CASES:,} cases: narrow it and do them in parts.")
        if len(page) < 2000 or (case_queries.count_cap(f) is not None and len(out) > case_queries.SEARCH_COUNT_CAP):
            return out


def ids_for_numbers(app: AppContext, actor: Actor, numbers: Sequence[str]) -> list[int]:
    """The cases of citation numbers typed by hand; one sentence naming those that do not exist."""
    ids, missing = [], []
    for number in numbers:
        try:
            ids.append(case_queries.find_case_id(app, actor, number))
        except NotFound:
            missing.append(number.strip())
    if missing:
        raise UserError(f"There is no citation {', '.join(missing[:10])}{' …' if len(missing) > 10 else ''}; "
                        "nothing was changed.")
    return ids


def _apply(uow: UnitOfWork, request: BulkRequest, case: Citation, assignee: User | None) -> None:
    action = request.action
    if action is BulkAction.VOID:
        if case.status not in REVIEWABLE:
            label = CaseStatus(case.status).label.lower()
            raise UserError(f"it is {label}: only a citation waiting for review can be voided")
        code, note = review.void_reason(request.void_code, request.reason)
        review.void_in(uow, case, code, note)
    elif action is BulkAction.HOLD:
        holds.place_supervisor_hold_in(uow, case, request.reason)
    elif action is BulkAction.RELEASE:
        holds.release_supervisor_holds_in(uow, case, request.reason)
    elif action is BulkAction.ASSIGN:
        assignment.assign_in(uow, case, assignee)
    else:
        why = review.approve_if_clean(uow, case)
        if why is not None:
            raise UserError(f"it {why}")


def run_bulk(app: AppContext, actor: Actor, request: BulkRequest, citation_ids: Sequence[int], *,
             batch_size: int = BATCH_SIZE, progress: Progress | None = None,
             cancel: Cancel | None = None) -> BulkOutcome:
    """Apply ``request`` to every case of ``citation_ids``, ``batch_size`` per transaction."""
    request = check_request(request)
    ids = list(dict.fromkeys(citation_ids))  # each case once, in the order given
    if not ids:
        raise UserError("No case is selected.")
    if len(ids) > MAX_CASES:
        raise UserError(f"{len(ids):,} cases are more than one bulk action takes ({MAX_CASES:,}): do them in parts.")
    check_allowed(app, actor, request)  # refused before anything is touched
    outcome = BulkOutcome(request.action, len(ids))
    for start in range(0, len(ids), batch_size):
        if cancel is not None and cancel():
            outcome.cancelled = True
            break
        _run_batch(app, actor, request, ids[start:start + batch_size], outcome)
        if progress is not None:
            progress(min(start + batch_size, len(ids)), len(ids))
    return outcome


def _run_batch(app: AppContext, actor: Actor, request: BulkRequest, batch: Sequence[int],
               outcome: BulkOutcome) -> None:
    done: list[tuple[int, str]] = []
    refused: list[tuple[str, str]] = []
    with app.uow(actor, Permission.BULK_CHANGE) as uow:
        uow.require(PERMISSIONS[request.action])
        assignee = (assignment.reviewer(uow, request.assignee)
                    if request.action is BulkAction.ASSIGN and request.assignee != EVERYONE else None)
        for cid in batch:
            try:
                case = case_ops.load_case(uow, cid)
            except NotFound:
                refused.append((str(cid), "no such case"))
                continue
            number = case.citation_number
            try:
                with uow.session.begin_nested():
                    _apply(uow, request, case, assignee)
            except UserError as exc:
                refused.append((number, _why(str(exc), number)))
                continue
            done.append((cid, number))
        uow.audit(f"bulk.{request.action.value}", "bulk", f"{request.action.value}:{batch[0]}", after={
            "done": [n for _c, n in done], "refused": [f"{n}: {why}" for n, why in refused],
            "void_code": request.void_code or None, "assignee": request.assignee or None},
            reason=request.reason or None)
        uow.commit()
    outcome.batches += 1
    outcome.done.extend(n for _c, n in done)
    outcome.changed_ids.extend(c for c, _n in done)
    outcome.refused.extend(refused)


def _why(message: str, number: str) -> str:
    """A refusal as listed beside its citation number: without the number repeated at its start."""
    for lead in (f"Citation {number} ", f"citation {number} "):
        if message.startswith(lead):
            message = message[len(lead):]
    return message.rstrip(".")
