"""Case processing in the demo office: a backlog of older cases, owner lookups, a few supervisor holds,
and the daily escalation replayed week by week up to the demo's today.

So a newcomer finds penalties on the ledgers, notices queued and mailed (the demo stands in for the
mail office and mails each week's notices the next day), a few notices held for bad owner addresses,
cases referred to collections, and one scofflaw plate on the hot list as boot-eligible.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select, update

from desktop.demo.office import LA, STREETS, VIOLATIONS, ZONES, demo_plate
from desktop.domain.roles import Role
from desktop.persistence.models import Citation, CitationViolation, LedgerEntry, Notice, RegisteredOwner, Setting, User
from desktop.services.admin import profiles as profile_store
from desktop.services.admin import users as user_service
from desktop.services.cases import owners
from desktop.services.cases import steps as case_ops
from desktop.services.cases.escalation import run_escalation
from desktop.services.core import audit
from desktop.services.core.context import Actor, AppContext

ORDER = 80  # after the areas that add cases, payments and appeals
DONE_KEY = "demo.casework"
BACKLOG = 140
MIN_OFFICE = 500
SCOFFLAW_CASES = 5


def _setting(app: AppContext, key: str) -> Any:
    with app.db.reading() as s:
        row = s.get(Setting, key)
        return None if row is None else row.value


def _at(day: Any, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LA)


def _backlog(app: AppContext, anchor: datetime, seed: int = 7) -> int:
    """Older cases (60 to 200 days old) so the ladder has somewhere to go; one plate is a scofflaw."""
    with app.db.reading() as s:
        if s.scalar(select(func.count()).select_from(Citation).where(Citation.citation_number.like("BK-%"))):
            return 0
        if int(s.scalar(select(func.count()).select_from(Citation)) or 0) < MIN_OFFICE:
            return 0  # a tiny office (tests, quick looks) keeps exactly the cases it asked for
        plates = [p for (p,) in s.execute(select(RegisteredOwner.plate).where(RegisteredOwner.valid_to.is_(None),
                                                                               RegisteredOwner.address_status == "ok")
                                          .order_by(RegisteredOwner.id).limit(400))]
        clerk = s.scalar(select(User.id).where(User.username == "clerk"))
    if not plates:
        plates = [demo_plate(i, seed)[0] for i in range(400)]
    rnd = random.Random(seed + 5150)
    scofflaw = plates[7]
    with app.uow(Actor.system("demo")) as uow:
        s = uow.session
        by_plate = {o.plate: o for o in s.scalars(select(RegisteredOwner).where(RegisteredOwner.plate.in_(plates)))}
        added: list[Citation] = []
        for i in range(BACKLOG):
            plate = scofflaw if i < SCOFFLAW_CASES else plates[rnd.randrange(len(plates))]
            with_owner = by_plate.get(plate)
            state = with_owner.jurisdiction if with_owner else "CA"
            make = (with_owner.vehicle_make if with_owner else None) or "TOYT"
            zcode, _n, south, west, north, east = ZONES[rnd.randrange(len(ZONES))]
            code, desc, fine, _kind, _w = rnd.choices(VIOLATIONS, [v[4] for v in VIOLATIONS])[0]
            age = 60 + (i * 140) // BACKLOG if i >= SCOFFLAW_CASES else 150 + i * 9
            issued = datetime.combine((anchor - timedelta(days=age)).astimezone(LA).date(),
                                      time(rnd.randint(8, 18), rnd.randrange(60)), tzinfo=LA)
            number = f"BK-{issued:%y%m}-{i + 1:04d}"
            c = Citation(citation_number=number, source_event_id=f"demo-{number}", device_id=f"HH-{i % 12 + 1:04d}",
                         officer_badge=str(1234 + (i % 12) * 17), issued_at=issued,
                         received_at=issued + timedelta(minutes=rnd.randint(3, 60)), plate=plate,
                         plate_key=plate.translate(str.maketrans("OIBSZ", "01852")), jurisdiction=state,
                         plate_type="PAS", make=make, model=with_owner.vehicle_model if with_owner else None,
                         color=rnd.choice(["WT", "BK", "GY", "SL", "BL"]), lat=round(rnd.uniform(south, north), 6),
                         lon=round(rnd.uniform(west, east), 6), accuracy_m=round(rnd.uniform(3, 12), 1),
                         address=f"{rnd.randint(1, 19) * 100 + rnd.randint(0, 98)} {rnd.choice(STREETS[zcode])}",
                         zone_code=zcode, violation_code=code, violation_description=desc, fine_cents=fine,
                         handheld_fine_cents=fine, observations=[], status="open", evidence_status="none",
                         review_warnings=[], profile_code="CA", approved_at=issued + timedelta(days=1))
            c.violations.append(CitationViolation(code=code, description=desc, fine_cents=fine,
                                                  handheld_fine_cents=fine))
            s.add(c)
            added.append(c)
        s.flush()
        for c in added:
            s.add(LedgerEntry(citation_id=c.id, kind="fine", amount_cents=c.fine_cents, at=c.approved_at,
                              effective_date=c.issued_at.astimezone(LA).date(), user_id=clerk, dedupe_key="fine",
                              memo=f"{c.violation_code} {c.violation_description}"))
        uow.audit("demo.backlog", "setting", "demo", after={"cases": BACKLOG, "scofflaw_plate": scofflaw})
        uow.commit()
    # Received from the field, approved the day after: recorded at those times.
    with app.db.reading() as s:
        rows = s.execute(select(Citation.id, Citation.device_id, Citation.received_at, Citation.approved_at)
                         .where(Citation.citation_number.like("BK-%"))).all()
    events = sorted([(received, cid, "citation.received", device) for cid, device, received, _a in rows]
                    + [(approved, cid, "citation.approved", None) for cid, _d, _r, approved in rows if approved])
    with app.uow(Actor.system("demo")) as uow:
        for at, cid, action, device in events:
            if device:
                audit.append(uow.session, at=at, user_id=None, username="system:field-sync", action=action,
                             entity_type="citation", entity_id=cid, reason=f"field sync from {device}")
            else:
                audit.append(uow.session, at=at, user_id=None, username="system:demo", action=action,
                             entity_type="citation", entity_id=cid, after={"status": "open"})
        uow.commit()
    return BACKLOG


def _clock(moment: datetime) -> Any:
    return lambda: moment


def _mail_office(app: AppContext, day: Any) -> int:
    """The demo stands in for the mail office: what was queued is mailed the next day."""
    mailed_at = _at(day, 15)
    with app.uow(Actor.system("demo-mail")) as uow:
        notices = list(uow.session.scalars(select(Notice).where(Notice.status == "queued",
                                                                Notice.queued_at < mailed_at)))
        for n in notices:
            n.status, n.mailed_at = "mailed", mailed_at
        if notices:
            uow.audit("demo.mailed", "notice", "demo", after={"pieces": len(notices), "on": day})
        uow.commit()
        return len(notices)


def _holds(app: AppContext, day: Any, step: int) -> None:
    """Two supervisor holds: one still in place, one released a few weeks later (its dates moved)."""
    with app.db.reading() as s:
        supervisor = s.scalar(select(User).where(User.username == "supervisor"))
        candidates = list(s.scalars(select(Citation.id).where(Citation.citation_number.like("BK-%"),
                                                              Citation.status == "open")
                                    .order_by(Citation.id).offset(20).limit(2)))
    if supervisor is None or len(candidates) < 2:
        return
    actor = Actor(supervisor.id, supervisor.username, Role(supervisor.role), supervisor.full_name)
    at_app = replace(app, clock=lambda: _at(day, 11))
    with at_app.uow(actor) as uow:
        if step == 0:
            for cid, why in zip(candidates, ("Owner in hospital (letter from the family)",
                                             "Vehicle reported stolen; waiting for the police report"), strict=False):
                case = case_ops.load_case(uow, cid)
                if not case_ops.active_holds(uow, cid):
                    case_ops.place_hold(uow, case, "supervisor", why)
        else:
            case = case_ops.load_case(uow, candidates[0])
            active = case_ops.active_holds(uow, candidates[0])
            if active:
                case_ops.release_hold(uow, case, active[0], "Owner back home; payment promised")
        uow.commit()


def extend_demo(app: AppContext, progress: Any) -> None:
    if _setting(app, DONE_KEY):
        return
    profile_store.seed(app)
    anchor_text = _setting(app, "demo.anchor")
    anchor = datetime.fromisoformat(anchor_text) if anchor_text else app.now()
    progress("Case backlog", 0, 1)
    _backlog(app, anchor)
    system = Actor.system("demo")
    # The demo's base data set the current owner on every case; the escalation looks owners up as
    # registered on each violation date (a few vehicles changed hands) when a notice is due.
    with app.uow(system) as uow:
        uow.session.execute(update(Citation).values(owner_id=None))
        uow.commit()
    today = anchor.astimezone(LA).date()
    start = today - timedelta(days=210)
    days = [start + timedelta(days=7 * k) for k in range((today - start).days // 7 + 1)]
    if days[-1] != today:
        days.append(today)
    place_on, release_on = days[-7], days[-3]
    for k, day in enumerate(days):
        progress("Daily escalation, replayed week by week", k, len(days))
        if day == place_on:
            _holds(app, day, 0)
        if day == release_on:
            _holds(app, day, 1)
        run_escalation(replace(app, clock=_clock(_at(day, 6))), system, day)
        if day != today:
            _mail_office(app, day + timedelta(days=1))
    # Cases that did not need a notice yet: the clerks looked their owners up (each lookup recorded).
    at_today = replace(app, clock=lambda: _at(today, 8))
    owners.assign_owners(at_today, user_service.actor_for(app, "clerk"), owners.PURPOSES[1], statuses=None)
    with app.uow(system) as uow:
        uow.session.add(Setting(key=DONE_KEY, value=today.isoformat()))
        uow.commit()
    progress("Daily escalation, replayed week by week", len(days), len(days))
