"""The case timeline tells the story in the order it happened: each event at its effective time (a citation
is received when it reached Curbdesk, even if its audit entry was written later), and at one instant the
cause before its effect (the payment before "paid", the owner lookup before the notice it addresses)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from desktop.domain.roles import Role
from desktop.persistence.models import LedgerEntry, Notice, OwnerLookup
from desktop.services.cases import queries as cases
from desktop.services.core import audit
from desktop.services.payments import posting as payments
from tests.conftest import seed_users
from tests.helpers.factories import add_citation

T0 = datetime(2026, 10, 25, 16, 34, tzinfo=timezone.utc)


def _whats(detail: cases.CaseDetail) -> list[str]:
    return [t.what for t in detail.timeline]


def test_a_late_written_receipt_still_comes_before_the_fine(app) -> None:
    """Received 17:59, approved and fined the next day; the received/approved audit entries were written a
    month later (a dock bundle imported late, the demo office): the fine is not shown before the receipt."""
    clerk = seed_users(app)[Role.CLERK]
    received, approved = T0 + timedelta(minutes=10), T0 + timedelta(days=1)  # the factory: received 10 min later
    cid = add_citation(app, issued_at=T0, with_fine=False, approved_at=approved)
    later = T0 + timedelta(days=40)
    with app.db.write_session() as s:
        s.add(LedgerEntry(citation_id=cid, kind="fine", amount_cents=6300, at=approved,
                          effective_date=approved.date(), dedupe_key="fine", memo="88.13B+ METER EXP."))
        audit.append(s, at=later, user_id=None, username="system:field-sync", action="citation.received",
                     entity_type="citation", entity_id=cid, reason="field sync from HH-0001")
        audit.append(s, at=later, user_id=None, username="system:review", action="citation.approved",
                     entity_type="citation", entity_id=cid, after={"status": "open"})
        s.commit()
    d = cases.case_detail(app, clerk, cid)
    whats = _whats(d)
    assert whats.index("Received from the field") < whats.index("Approved in review") < whats.index("Fine +$63.00")
    rec = d.timeline[whats.index("Received from the field")]
    assert rec.at == received and rec.recorded == later  # shown at when it happened; when it was written kept


def test_at_one_instant_the_payment_comes_before_paid(app, clock) -> None:
    actors = seed_users(app)
    cid = add_citation(app, issued_at=T0)
    payments.post_counter_payment(app, actors[Role.CLERK], [cid], 6300, "cash")
    whats = _whats(cases.case_detail(app, actors[Role.CLERK], cid))
    assert whats.index("Payment −$63.00") < whats.index("Citation paid")


def test_at_one_instant_the_lookup_comes_before_the_notice_and_its_penalty(app) -> None:
    clerk = seed_users(app)[Role.CLERK]
    cid = add_citation(app, issued_at=T0)
    run = T0 + timedelta(days=21)
    with app.db.write_session() as s:
        s.add(LedgerEntry(citation_id=cid, kind="penalty", amount_cents=6300, at=run, effective_date=run.date(),
                          dedupe_key="penalty:1", memo="late"))
        s.add(Notice(citation_id=cid, kind="delinquent_notice", stage="delinquent_notice", status="queued",
                     queued_at=run, dedupe_key="stage:1"))
        s.add(OwnerLookup(citation_id=cid, plate="7ABC123", purpose="x", user_id=None, at=run, owner_id=None))
        s.commit()
    whats = [w.split(":")[0] for w in _whats(cases.case_detail(app, clerk, cid))]
    assert whats.index("Owner lookup") < whats.index("Notice queued") < whats.index("Penalty +$63.00")
