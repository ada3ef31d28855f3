"""The demo's part for the management reports (issue 18): what the other areas leave empty.

Through the services, as clerks and the daily run would: a few citations waiting for review are corrected (make
or colour) and approved, a few are voided with their reason codes (the Review outcomes report); a handful of
mailed notices come back (the returned-mail rate); a dozen payment plans are set up over the last three months
and the plan check finds the ones whose instalments were never paid defaulted (Payment plans). Idempotent: done
once, marked by the ``demo.reports`` setting.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from desktop.domain.errors import UserError
from desktop.domain.review import VoidReason
from desktop.persistence.models import Citation, Notice, Setting
from desktop.services.admin import users
from desktop.services.core.clock import agency_date
from desktop.services.core.context import Actor, AppContext
from desktop.services.notices import runs as notice_runs
from desktop.services.payments import plans
from desktop.services.review import queue as review

ORDER = 85  # after the notices, payments and casework; before the go-live check
Progress = Callable[[str, int, int], None]

#: (reason code, note) of the demo's voids, as a clerk would choose them
VOIDS = ((VoidReason.DUPLICATE, ""), (VoidReason.VALID_PERMIT, ""), (VoidReason.DEFECTIVE_PLATE, ""),
         (VoidReason.OFFICER_ERROR, ""), (VoidReason.DUPLICATE, ""), (VoidReason.MAKE_MISMATCH, ""),
         (VoidReason.OTHER, "Vehicle was a marked city car on duty"), (VoidReason.VALID_PERMIT, ""))
RETURNS = ("Moved, left no address", "Addressee unknown", "Insufficient address", "No such street number")


def extend_demo(app: AppContext, progress: Progress) -> None:
    with app.db.reading() as s:
        if s.get(Setting, "demo.reports") is not None:
            return
    rnd = random.Random(18)
    clerk = users.actor_for(app, "clerk")
    progress("Report data", 0, 3)
    with app.db.reading() as s:
        waiting = list(s.scalars(select(Citation.id).where(Citation.status == "pending_review")
                                 .order_by(Citation.id).limit(60)))
    for n, cid in enumerate(waiting[:30]):
        try:
            if n < len(VOIDS):
                reason, note = VOIDS[n]
                review.void(app, clerk, cid, reason.value, note)
            elif n % 2:
                review.correct(app, clerk, cid, "colour", rnd.choice(["BLK", "WHT", "SIL", "GRY"]),
                               "colour read again from the photo")
                review.approve(app, clerk, cid, seen_warnings=None)
            else:
                review.correct(app, clerk, cid, "make", rnd.choice(["TOYT", "HOND", "FORD", "CHEV"]),
                               "make read again from the photo")
                review.approve(app, clerk, cid, seen_warnings=None)
        except UserError:
            continue  # a citation the checks keep in review stays there
    progress("Report data", 1, 3)
    with app.db.reading() as s:
        mailed = list(s.scalars(select(Notice.id).where(Notice.status == "mailed").order_by(Notice.id.desc())
                                .limit(400)))
    for nid in rnd.sample(mailed, min(9, len(mailed))):
        try:
            notice_runs.record_returned(app, clerk, nid, rnd.choice(RETURNS))
        except UserError:
            continue
    progress("Report data", 2, 3)
    _plans(app, clerk, rnd)
    with app.uow(Actor.system("demo")) as uow:
        uow.session.add(Setting(key="demo.reports", value="done"))
        uow.commit()
    progress("Report data", 3, 3)


def _plans(app: AppContext, clerk: Actor, rnd: random.Random) -> None:
    """Twelve agency plans started 10 to 95 days ago; the plan check defaults those long unpaid."""
    with app.db.reading() as s:
        today = agency_date(s, app.now())
        open_cases = list(s.scalars(select(Citation.id).where(Citation.status == "open", Citation.on_hold.is_(False))
                                    .order_by(Citation.id.desc()).limit(300)))
    for n, cid in enumerate(rnd.sample(open_cases, min(12, len(open_cases)))):
        try:
            plans.enrol_plan(app, clerk, cid, "agency", months=3, start_date=today - timedelta(days=10 + 8 * n),
                             reason="asked to pay monthly")
        except UserError:
            continue
    plans.check_plans(app, Actor.system("demo"), today)
