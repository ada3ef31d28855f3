"""The demo office's mail room: notices in every state, so the Notices screen shows its whole workflow.

Runs after the escalation's demo (ORDER 70). It prints with what the escalation queued; on a database
where nothing is queued and no notice exists yet, it queues the notices of delinquent violation that the
escalation would have queued (open cases past the 21-day payment period, to the owner registered on the
violation date, with the delinquent penalty on the ledger). Then, as the mail office would: one batch is
printed and confirmed mailed, a second is printed and waits for confirmation, one mailed piece comes back
(returned mail: the clerk's owner-lookup list), one piece is reprinted, and the rest stay due. Owners whose
registry address cannot be mailed end up on the held list. Idempotent: a second run adds nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import func, select

from desktop.domain.lifecycle import CaseStatus
from desktop.domain.profiles import load_profile
from desktop.persistence.models import Citation, LedgerEntry, Notice, NoticeBatch, RegisteredOwner, Setting
from desktop.services.admin import users
from desktop.services.core.context import Actor, AppContext
from desktop.services.notices import runs as nr
from desktop.services.notices.documents import address_snapshot

ORDER = 70
MARKER = "demo.notices"
log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]


def extend_demo(app: AppContext, progress: Progress) -> None:
    with app.db.reading() as s:
        if s.get(Setting, MARKER) is not None:
            return
        have_notices = int(s.scalar(select(func.count()).select_from(Notice)) or 0)
        have_batches = int(s.scalar(select(func.count()).select_from(NoticeBatch)) or 0)
    try:
        mail = users.actor_for(app, "mail")
        clerk = users.actor_for(app, "clerk")
    except Exception:  # noqa: BLE001 - not the demo office's accounts: leave the mail room alone
        log.info("demo notices skipped: the demo accounts are missing")
        return
    if not have_notices:
        _queue_delinquent_notices(app, progress)
    if not have_batches:
        _work_the_mail_room(app, mail, clerk, progress)
    with app.uow(Actor.system("demo")) as uow:
        if uow.session.get(Setting, MARKER) is None:
            uow.session.add(Setting(key=MARKER, value=True))
        uow.commit()


def _queue_delinquent_notices(app: AppContext, progress: Progress) -> int:
    """What the daily escalation queues for the demo's unpaid cases past the CA payment period."""
    profile = load_profile("CA")
    stage = profile.stage("delinquent_notice")
    today = app.now().astimezone(profile.tz).date()
    with app.uow(Actor.system("demo")) as uow:
        s = uow.session
        cases = list(s.execute(
            select(Citation, RegisteredOwner)
            .outerjoin(RegisteredOwner, RegisteredOwner.id == Citation.owner_id)
            .where(Citation.status == CaseStatus.OPEN.value, Citation.profile_code == "CA")
            .order_by(Citation.issued_at)).all())
        due = [(c, o) for c, o in cases
               if c.issued_at.astimezone(profile.tz).date() + timedelta(days=stage.trigger.days) <= today]
        now = app.now()
        for i, (c, owner) in enumerate(due):
            penalty = stage.penalty.amount_cents(c.fine_cents)
            exists = s.scalar(select(LedgerEntry.id).where(LedgerEntry.citation_id == c.id,
                                                           LedgerEntry.dedupe_key == f"penalty:{stage.key}"))
            start = c.issued_at.astimezone(profile.tz).date() + timedelta(days=stage.trigger.days)
            if not exists and penalty:
                s.add(LedgerEntry(citation_id=c.id, kind="penalty", amount_cents=penalty, at=now,
                                  effective_date=start, dedupe_key=f"penalty:{stage.key}",
                                  memo="Delinquent penalty (VC 40203.5)"))
            s.add(Notice(citation_id=c.id, kind=stage.notice_kind or "notice_of_delinquent_violation",
                         stage=stage.key, status="queued", queued_at=now, owner_id=owner.id if owner else None,
                         address_snapshot=address_snapshot(owner) if owner is not None else None,
                         dedupe_key=f"notice:{stage.key}"))
            c.stage = stage.key
            uow.audit("notice.queued", "citation", c.id, after={"kind": stage.notice_kind, "stage": stage.key},
                      reason="demo: delinquent notice due")
            if i % 50 == 0:
                progress("Queuing notices", i, len(due))
        uow.commit()
    return len(due)


def _work_the_mail_room(app: AppContext, mail: Actor, clerk: Actor, progress: Progress) -> None:
    with app.db.reading() as s:
        queued = list(s.scalars(select(Notice.id).where(Notice.status == "queued").order_by(Notice.id)))
    if not queued:
        return

    def note(done: int, total: int, text: str) -> None:
        progress("Printing demo notices", done, total)

    keep_due = max(3, min(24, len(queued) // 6))
    printable = queued[:-keep_due] if len(queued) > keep_due + 2 else queued
    half = max(1, len(printable) * 3 // 5)
    first = nr.run_notices(app, mail, None, note, notice_ids=printable[:half])
    if first.batches:
        nr.confirm_mailed(app, mail, first.batches[0].batch_id)
        with app.db.reading() as s:
            mailed = list(s.scalars(select(Notice.id).where(Notice.batch_id == first.batches[0].batch_id)
                                    .order_by(Notice.id)))
        if mailed:
            nr.record_returned(app, clerk, mailed[0], "Moved, left no address")
        if len(mailed) > 1:
            nr.reprint(app, mail, mailed[1], "Owner phoned: the notice never arrived")
    if printable[half:]:
        nr.run_notices(app, mail, None, note, notice_ids=printable[half:])
