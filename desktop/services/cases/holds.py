"""A supervisor's hold on a case, placed and released from the case screen.

While a case is on hold its penalties and notices pause; when the hold ends the case's dates
move by the length of the pause (``schedule.hold_changed``)."""

from __future__ import annotations

from sqlalchemy import select

from desktop.domain.errors import NotFound, UserError
from desktop.domain.roles import Permission
from desktop.persistence.models import Citation, Hold
from desktop.services.cases import steps as case_ops
from desktop.services.cases.schedule import MUST_HAVE_NEXT_ACTION
from desktop.services.core.context import Actor, AppContext, UnitOfWork, retried


@retried
def place_supervisor_hold(app: AppContext, actor: Actor, citation_id: int, reason: str) -> int:
    with app.uow(actor, Permission.PLACE_HOLDS) as uow:
        case = case_ops.load_case(uow, citation_id)
        hold = place_supervisor_hold_in(uow, case, reason)
        uow.commit()
        return hold.id


def place_supervisor_hold_in(uow: UnitOfWork, case: Citation, reason: str) -> Hold:
    """The supervisor hold on ``case``, in the caller's unit of work (also run by bulk work)."""
    if case.status not in MUST_HAVE_NEXT_ACTION:
        raise UserError(f"Citation {case.citation_number} is {case.status.replace('_', ' ')}: only an open "
                        "case can be put on hold.")
    if any(h.kind == "supervisor" for h in case_ops.active_holds(uow, case.id)):
        raise UserError(f"Citation {case.citation_number} is already on a supervisor hold.")
    return case_ops.place_hold(uow, case, "supervisor", reason)


def release_supervisor_holds_in(uow: UnitOfWork, case: Citation, reason: str) -> int:
    """End every supervisor hold of ``case`` (bulk release); the other kinds of hold (appeal, payment plan,
    returned mail) end with what they wait for. Refused when the case has no supervisor hold."""
    if not reason.strip():
        raise UserError("Say why the hold ends (it goes into the audit trail).")
    holds = [h for h in case_ops.active_holds(uow, case.id) if h.kind == "supervisor"]
    if not holds:
        raise UserError(f"Citation {case.citation_number} has no supervisor hold to release.")
    for hold in holds:
        case_ops.release_hold(uow, case, hold, reason.strip())
    return len(holds)


@retried
def release_hold(app: AppContext, actor: Actor, citation_id: int, hold_id: int, reason: str) -> None:
    if not reason.strip():
        raise UserError("Say why the hold ends (it goes into the audit trail).")
    with app.uow(actor, Permission.PLACE_HOLDS) as uow:
        case = case_ops.load_case(uow, citation_id)
        hold = uow.session.scalar(select(Hold).where(Hold.id == hold_id, Hold.citation_id == citation_id))
        if hold is None:
            raise NotFound(f"Hold {hold_id} is not on this case.")
        case_ops.release_hold(uow, case, hold, reason.strip())
        uow.commit()
