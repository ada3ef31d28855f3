"""Review queue assignment: a supervisor moves citations waiting for review into one clerk's queue.

A citation in review carries the clerk it is assigned to (``Citation.review_assignee_id``; NULL is
everyone's queue). The clerk sees it in "my queue" (``queue.review_queue(assignee_id=...)``); anyone
allowed to review may still decide it. Assigning is audited per citation with before and after.
"""

from __future__ import annotations

from sqlalchemy import select

from desktop.domain.errors import UserError
from desktop.domain.lifecycle import CaseStatus
from desktop.domain.roles import Permission, Role, allowed
from desktop.persistence.models import Citation, User
from desktop.services.core.context import Actor, AppContext, UnitOfWork
from desktop.services.review.checks import REVIEWABLE


def reviewer(uow: UnitOfWork, username: str) -> User:
    """The active account ``username`` if it may review citations; one sentence otherwise."""
    name = username.strip()
    user = uow.session.scalar(select(User).where(User.username == name))
    if user is None:
        raise UserError(f"There is no user called {name or '(none)'}.")
    if not user.active:
        raise UserError(f"The account {name} is disabled: choose another clerk.")
    if not allowed(Role(user.role), Permission.REVIEW_CITATIONS):
        raise UserError(f"{name} ({Role(user.role).label.lower()}) does not review citations: choose a clerk.")
    return user


def assign_in(uow: UnitOfWork, case: Citation, user: User | None) -> None:
    """Put ``case`` in ``user``'s review queue (None: back to everyone's), in the caller's unit of work."""
    if case.status not in REVIEWABLE:
        label = CaseStatus(case.status).label.lower()
        raise UserError(f"Citation {case.citation_number} is {label}: only a citation waiting for review is in a "
                        "review queue.")
    before = case.review_assignee_id
    after = user.id if user is not None else None
    case.review_assignee_id = after
    uow.audit("review.assigned", "citation", case.id, before={"assignee": before},
              after={"assignee": after, "username": user.username if user is not None else None})


def reviewers(app: AppContext, actor: Actor) -> list[tuple[str, str]]:
    """(username, full name) of every active account that reviews citations: whose queue a supervisor
    may move citations to."""
    with app.reader(actor, Permission.BULK_CHANGE) as uow:
        rows = uow.session.execute(select(User.username, User.full_name, User.role).where(User.active.is_(True))
                                   .order_by(User.username)).all()
    return [(name, full or name) for name, full, role in rows if allowed(Role(role), Permission.REVIEW_CITATIONS)]
