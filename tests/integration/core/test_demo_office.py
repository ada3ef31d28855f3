"""The demo office looks lived-in: every handheld that wrote citations has been seen, and the
registry addresses that cannot be mailed carry the reason the owners import would give."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from desktop.demo.office import build_demo
from desktop.domain.roles import Role
from desktop.persistence.models import Appeal, Citation, Device, Officer, OwnerLookup, Payment, RegisteredOwner
from desktop.services.admin import users
from desktop.services.core.context import Actor, AppContext
from desktop.services.payments import posting
from tests.helpers.factories import add_citation


def seed_clerk(app: AppContext) -> Actor:
    users.add_user(app, Actor.system("test"), "counterclerk", "Counter Clerk", Role.CLERK.value, "clerk-password-1")
    return users.actor_for(app, "counterclerk")


def test_demo_devices_were_seen_and_bad_addresses_say_why(app: AppContext) -> None:
    build_demo(app, 120, seed=7)
    with app.db.reading() as s:
        seen = dict(s.execute(select(Device.device_id, Device.last_seen_at)).all())
        problems = set(s.scalars(select(RegisteredOwner.address_problem)
                                 .where(RegisteredOwner.address_problem.is_not(None))).all())
    assert all(seen[f"HH-{n:04d}"] is not None for n in range(1, 13)), seen
    assert problems and all("cannot be mailed" not in p for p in problems), problems
    # issue 16: every handheld's officer is on the roster; no appeal was filed before its case was approved;
    # the owner lookups the demo's clerks made are recorded as a clerk's, with the clerk's purpose
    with app.db.reading() as s:
        unnamed = s.scalars(select(Device.device_id).outerjoin(Officer, Officer.badge == Device.officer_badge)
                            .where(Device.officer_badge.is_not(None), Officer.name.is_(None))).all()
        early = s.scalar(select(func.count()).select_from(Appeal).join(Citation, Citation.id == Appeal.citation_id)
                         .where(Appeal.filed_at < Citation.approved_at))
        automatic_enquiries = s.scalar(select(func.count()).select_from(OwnerLookup).where(
            OwnerLookup.user_id.is_(None), OwnerLookup.purpose.like("clerk enquiry%")))
    assert unnamed == [] and early == 0 and automatic_enquiries == 0


def _unsealed(app: AppContext) -> dict[str, int]:
    from desktop.services.core.seal import SEALED

    with app.db.reading() as s:
        return {model.__tablename__: int(s.scalar(select(func.count()).select_from(model)  # type: ignore[attr-defined]
                                                  .where(model.row_mac.is_(None))) or 0)  # type: ignore[attr-defined]
                for model in SEALED}


def test_the_demo_seals_its_rows_as_the_application_does(app: AppContext) -> None:
    """The demo's bulk-inserted citations, payments and ledger entries carry their seals: otherwise the office's
    first audit checkpoint (its first daily run) adopted every row, at a million citations a million-row
    UPDATE of each sealed table."""
    from desktop.services.core import audit
    from desktop.services.core.seal import seal_of_db

    assert seal_of_db(app.db) is not None
    build_demo(app, 120, seed=7)
    assert _unsealed(app) == {"citations": 0, "ledger_entries": 0, "payments": 0, "users": 0}
    result = audit.verify(app.db)
    assert result.ok and result.rows > 120, result.message()


@pytest.mark.postgres
def test_demo_on_a_new_postgresql_database_then_the_office_numbers_its_own_rows(pg_app: AppContext) -> None:
    """The demo writes citations and payments with explicit ids; PostgreSQL's sequences must be moved past
    them, or the demo's own later steps (and the office's next citation or payment) collide (issue 14)."""
    build_demo(pg_app, 150, seed=7)
    build_demo(pg_app, 200, seed=7)  # extended: more rows with explicit ids after the sequences moved
    clerk = seed_clerk(pg_app)
    cid = add_citation(pg_app, number="AFTER-DEMO-1")
    paid = posting.post_counter_payment(pg_app, clerk, [cid], 6300, "cash")
    with pg_app.db.reading() as s:
        assert cid > int(s.scalar(select(func.max(Citation.id)).where(Citation.citation_number != "AFTER-DEMO-1")))
        assert paid.payment_id == int(s.scalar(select(func.max(Payment.id))))
        assert s.get(Citation, cid).status == "paid"
    assert _unsealed(pg_app) == {"citations": 0, "ledger_entries": 0, "payments": 0, "users": 0}


def test_the_large_office_leaves_its_review_queue_checked(app: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    """The large office (bulk rows, `demo --citations 1000000`) writes its citations without the review checks;
    those in review must then be checked, as a sync leaves them: before, each approval at a million found
    "new warnings since you opened it" (the twenty-workstation harness met it on all 127 of its approvals)."""
    from desktop.demo import office
    from desktop.services.review import checks, queue

    monkeypatch.setattr(office, "LARGE_FROM", 300)
    build_demo(app, 420, seed=7)
    with app.db.write_session() as s:
        pending = checks._load(s, list(s.scalars(select(Citation.id).where(
            Citation.status.in_(checks.REVIEWABLE)).order_by(Citation.id))))
        outcomes = checks.evaluate(s, pending, app.paths.evidence_dir)
        stored = {c.id: c.review_warnings for c in pending}
        first = (pending[0].id, pending[0].citation_number)
        s.rollback()
    assert len(stored) >= 3, len(stored)
    assert all(stored[o.citation_id] == o.warnings for o in outcomes)  # what the checks find now is stored
    assert any(stored.values())  # and they did find something
    clerk = users.actor_for(app, "clerk")
    item = queue.review_item(app, clerk, first[0])
    approved = queue.approve(app, clerk, first[0], seen_warnings=[str(w["code"]) for w in item.warnings])
    assert approved.citation_number == first[1]  # no "new warnings since you opened it"
