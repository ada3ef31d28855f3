"""The demo's bulk work and printed lists (issue 16, points 4 and 5), done through the same services as
the screens, so a newcomer finds them in the office:

- the supervisor has moved a dozen citations waiting for review into clerk2's review queue (Review:
  "My queue" when signed in as clerk2; "· another clerk's" for the others);
- the supervisor has put the open cases of one block on a supervisor hold in one go (a meter audit):
  Cases, work list "On hold";
- the clerk has printed the "Next action due" work list: a PDF in the data folder's ``print/lists``.

The citations left in review are for the reader to bulk-void or approve (Cases, Bulk…).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import select

from desktop.domain.lifecycle import CaseStatus
from desktop.persistence.models import Citation, Setting, User
from desktop.services import bulk, lists
from desktop.services.admin import users as user_service
from desktop.services.cases.queries import CaseFilter
from desktop.services.core.context import AppContext

ORDER = 90  # after casework: the cases have their next actions
MARKER = "demo.bulk"
ASSIGNED = 12
AUDITED = 5
log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]


def extend_demo(app: AppContext, progress: Progress) -> None:
    with app.db.reading() as s:
        if s.get(Setting, MARKER) is not None:
            return
        names = set(s.scalars(select(User.username)))
        in_review = list(s.scalars(select(Citation.id).where(Citation.status == CaseStatus.PENDING_REVIEW.value)
                                   .order_by(Citation.issued_at, Citation.id).limit(ASSIGNED)))
        # one street's open cases, as a supervisor auditing its meters would pick them
        by_street: dict[str, list[int]] = {}
        for cid, address in s.execute(select(Citation.id, Citation.address).where(
                Citation.status == CaseStatus.OPEN.value, Citation.on_hold.is_(False),
                Citation.address.is_not(None)).order_by(Citation.id)):
            number, _, name = str(address).partition(" ")
            by_street.setdefault(name if number.isdigit() else str(address), []).append(int(cid))
        street = max(sorted(by_street), key=lambda k: len(by_street[k]), default=None)
        audited = by_street[street][:AUDITED] if street else []
    if not {"supervisor", "clerk", "clerk2"} <= names:
        log.info("demo bulk work skipped: the demo accounts are missing")
        return
    supervisor = user_service.actor_for(app, "supervisor")
    clerk = user_service.actor_for(app, "clerk")
    progress("Bulk work and printed lists", 0, 3)
    if in_review:
        bulk.run_bulk(app, supervisor, bulk.BulkRequest(bulk.BulkAction.ASSIGN, assignee="clerk2"), in_review)
    progress("Bulk work and printed lists", 1, 3)
    if audited:
        bulk.run_bulk(app, supervisor, bulk.BulkRequest(
            bulk.BulkAction.HOLD, f"Meter audit at {street}: the meters there were reported out of order"), audited)
    progress("Bulk work and printed lists", 2, 3)
    folder = app.paths.print_dir / "lists"
    folder.mkdir(parents=True, exist_ok=True)
    lists.export_list(app, clerk, "cases", CaseFilter(worklist="due"), folder / "work-list-next-action-due.pdf")
    with app.uow(supervisor) as uow:
        if uow.session.get(Setting, MARKER) is None:
            uow.session.add(Setting(key=MARKER, value=True))
        uow.commit()
    progress("Bulk work and printed lists", 3, 3)
