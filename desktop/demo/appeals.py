"""Appeals in the demo office: a believable docket for the hearing officer.

Californian initial reviews at different ages (one overdue, one due within days, one filed late with a
supervisor's override), an administrative hearing booked in the hearing officer's availability, a
review decided (reduced) with its decision letter printed, and three English penalty charge notices
under the Traffic Management Act profile: representations awaiting a decision, representations
rejected (the tribunal window open), and one paid PCN whose representations have gone 56 days
undecided, so the daily run (``appeals deadlines``, or Run deadline rules on the Appeals screen) deems
them accepted, cancels the PCN and refunds the payment.

Everything goes through the same services the clerks use, with the clock set to the day each step
happened, so the audit trail reads like a real office's. Idempotent: a second run adds nothing.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import random
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import func, select

from desktop.demo.office import store_evidence
from desktop.demo.photos import street_photo
from desktop.domain.plates import plate_search_key as plate_key
from desktop.persistence.bulk import advance_id_sequences
from desktop.persistence.models import (
    Appeal,
    Citation,
    CitationViolation,
    Device,
    EvidencePhoto,
    LedgerEntry,
    Notice,
    Payment,
    RegisteredOwner,
    Setting,
    User,
)
from desktop.services import appeals
from desktop.services.admin import users as user_service
from desktop.services.appeals.intake import AppealRequest
from desktop.services.appeals.packet import render_letter
from desktop.services.core.context import Actor, AppContext

ORDER = 60
MARKER = "demo.appeals"
LA = ZoneInfo("America/Los_Angeles")
LONDON = ZoneInfo("Europe/London")
log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]

#: (days ago filed, grounds, statement, document kind)
CA_REVIEWS = [
    (33, ["did_not_occur"], ("I paid at the kiosk at 9:52 and the receipt was on the dashboard, face up. The "
     "officer must have missed it. A photo of the receipt is attached."), "receipt_png"),
    (26, ["disabled_placard"], ("My mother's disabled placard was hanging from the mirror the whole time. Her "
     "placard number and the DMV letter are attached."), "letter_pdf"),
    (12, ["did_not_occur", "mitigating_circumstances"], ("The meter on this block was flashing 'FAIL' all week. I "
     "called 311 that morning (ticket attached) before I parked."), "letter_pdf"),
    (3, ["vehicle_description_mismatch"], ("The citation says a white Honda; my car is a grey Toyota. I was not "
     "there. My registration card is attached."), "receipt_png"),
]
STATEMENTS_HEARING = ("The initial review ignored the broken meter. I want to explain at a hearing with the "
                      "photos I took the same day.")
STATEMENT_DECIDED = ("The street cleaning sign was turned to face the wall; I attach a photo taken that morning. "
                     "I ask for the citation to be cancelled or at least reduced.")


def _setting(session: Any, key: str) -> Any:
    row = session.get(Setting, key)
    return None if row is None else row.value


def at_clock(app: AppContext, moment: datetime) -> AppContext:
    """The same office with its clock set to ``moment`` (the demo replays the past)."""
    return dataclasses.replace(app, clock=lambda: moment)


def letter_pdf(title: str, lines: list[str]) -> bytes:
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=letter, invariant=1)
    c.setFont("Helvetica-Bold", 14)
    c.drawString(72, 720, title)
    c.setFont("Helvetica", 11)
    y = 690
    for line in lines:
        c.drawString(72, y, line)
        y -= 16
    c.showPage()
    c.save()
    return buf.getvalue()


def receipt_png(lines: list[str], seed: int) -> bytes:
    rnd = random.Random(seed)
    im = Image.new("RGB", (420, 560), (70, 70, 74))
    d = ImageDraw.Draw(im)
    d.rectangle([60, 30, 360, 530], fill=(250, 249, 242))
    try:
        font = ImageFont.load_default(size=18)
    except TypeError:  # pragma: no cover - Pillow without FreeType
        font = ImageFont.load_default()
    y = 60
    for line in lines:
        d.text((80, y), line, fill=(30, 30, 30), font=font)
        y += 30
    for _ in range(300):
        d.point((rnd.randrange(60, 360), rnd.randrange(30, 530)), fill=(200, 200, 190))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def _document(kind: str, case: Citation, filed: datetime, seed: int) -> tuple[str, bytes]:
    local = filed.astimezone(LA)
    if kind == "letter_pdf":
        return (f"letter-{case.citation_number}.pdf", letter_pdf(
            "Request for review of parking citation", [
                f"Citation {case.citation_number}, plate {case.plate}",
                f"Date {local:%B %d, %Y}", "",
                "To the Parking Adjudication office,",
                "I ask you to review this citation for the reasons on the form.",
                "Enclosed: supporting documents as listed.", "", "Sincerely,"]))
    issued = case.issued_at.astimezone(LA)
    return (f"photo-{case.citation_number}.png", receipt_png([
        "CITY OF LOS ANGELES", "PARKING METER RECEIPT", f"{issued:%m/%d/%Y}",
        f"PAID   {(issued - timedelta(minutes=40)):%H:%M}", f"EXPIRES {(issued + timedelta(minutes=80)):%H:%M}",
        "AMOUNT   $4.00", f"SPACE {case.space or 'M-1107'}", "DISPLAY ON DASHBOARD"], seed))


def _appellant(session: Any, case: Citation) -> tuple[str, str]:
    owner = session.get(RegisteredOwner, case.owner_id) if case.owner_id else None
    if owner is None or not owner.address_line1:
        return "Alex Rivera", "2210 W Olympic Blvd Apt 5\nLos Angeles, CA 90006"
    last, _, first = owner.name.partition(", ")
    name = f"{first.title()} {last.title()}".strip()
    return name, f"{owner.address_line1.title()}\n{(owner.city or '').title()}, {owner.state or 'CA'} {owner.zip or ''}"


def _pick(session: Any, used: set[int], filed_at: datetime, window_days: int = 21) -> Citation | None:
    """An open Californian case that could be contested on ``filed_at`` (within the window after issue, and
    approved before it: an appeal filed before the approval put the case's timeline out of order)."""
    lo = filed_at - timedelta(days=window_days) + timedelta(hours=2)
    hi = filed_at - timedelta(hours=6)
    q = (select(Citation).where(Citation.status == "open", Citation.profile_code == "CA",
                                Citation.issued_at >= lo, Citation.issued_at <= hi, Citation.owner_id.is_not(None),
                                Citation.evidence_status == "ok", Citation.approved_at <= filed_at - timedelta(hours=1))
         .order_by(Citation.issued_at.desc(), Citation.id))
    for case in session.scalars(q.limit(50)):
        if case.id not in used:
            used.add(case.id)
            found: Citation = case
            return found
    return None


def _day_at(day: date, hour: int, minute: int = 0, tz: ZoneInfo = LA) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


def extend_demo(app: AppContext, progress: Progress) -> None:
    with app.db.reading() as s:
        if _setting(s, MARKER) or s.scalar(select(func.count()).select_from(Appeal)):
            return
        names = {u.username: u.id for u in s.scalars(select(User))}
    if not {"clerk", "supervisor", "hearing"} <= set(names):
        log.info("demo appeals skipped: the demo accounts are missing")
        return
    clerk = user_service.actor_for(app, "clerk")
    supervisor = user_service.actor_for(app, "supervisor")
    officer = user_service.actor_for(app, "hearing")
    officer_id = names["hearing"]
    now = app.now()
    today = now.astimezone(LA).date()
    steps = 9
    progress("Appeals and hearings", 0, steps)

    # The hearing officer's availability: ten working days from tomorrow, mornings and afternoons.
    day, added = today + timedelta(days=1), 0
    while added < 10:
        if day.weekday() < 5:
            for start, end in (((9, 0), (12, 0)), ((13, 30), (16, 30))):
                appeals.add_slot(app, supervisor, officer_id, _day_at(day, *start), _day_at(day, *end))
            added += 1
        day += timedelta(days=1)
    progress("Appeals and hearings", 1, steps)

    used: set[int] = set()
    for n, (days_ago, grounds, statement, doc_kind) in enumerate(CA_REVIEWS):
        filed_at = _day_at(today - timedelta(days=days_ago), 10 + n, 15)
        _file_ca(app, clerk, used, filed_at, grounds, statement, doc_kind, n)
    progress("Appeals and hearings", 3, steps)

    # Filed late at the counter, accepted on a supervisor's override.
    filed_at = _day_at(today, 9, 40)
    with app.db.reading() as s:  # issued 24 to 30 days ago: past the 21 days of VC 40215(a)
        late_case = _pick(s, used, filed_at - timedelta(days=24), window_days=6)
    if late_case is not None:
        _file(at_clock(app, filed_at), clerk, late_case, ["not_owner"],
              "I sold this car on the 2nd; the buyer's bill of sale is attached. I was abroad until yesterday, "
              "which is why this is late.", "letter_pdf", 7,
              override=("Appellant was out of the country (passport stamps seen at the counter).", supervisor))
    progress("Appeals and hearings", 4, steps)

    _administrative_hearing(app, clerk, officer, used, today)
    progress("Appeals and hearings", 5, steps)
    _decided_with_letter(app, clerk, officer, used, today)
    progress("Appeals and hearings", 6, steps)
    _england(app, clerk, officer, now)
    progress("Appeals and hearings", 8, steps)
    with app.uow(Actor.system("demo")) as uow:
        if uow.session.get(Setting, MARKER) is None:
            uow.session.add(Setting(key=MARKER, value=1))
        uow.audit("demo.appeals", "setting", "demo", reason="demo appeals and hearings created")
        uow.commit()
    progress("Appeals and hearings", steps, steps)


def _file(app: AppContext, clerk: Actor, case: Citation, grounds: list[str], statement: str, doc_kind: str,
          seed: int, override: tuple[str, Actor] | None = None, channel: str | None = None) -> int:
    with app.db.reading() as s:
        name, address = _appellant(s, case)
    filed_at = app.now()
    doc = _document(doc_kind, case, filed_at, seed)
    req = AppealRequest(citation_number=case.citation_number, channel=channel or ["mail", "online", "counter"][seed % 3],
                        appellant_name=name, appellant_address=address, grounds=grounds, statement=statement,
                        documents=[doc], late_override_reason=override[0] if override else "")
    return appeals.file_appeal(app, clerk, req, override_by=override[1] if override else None).appeal_id


def _file_ca(app: AppContext, clerk: Actor, used: set[int], filed_at: datetime, grounds: list[str],
             statement: str, doc_kind: str, seed: int) -> int | None:
    with app.db.reading() as s:
        case = _pick(s, used, filed_at)
    if case is None:
        return None
    return _file(at_clock(app, filed_at), clerk, case, grounds, statement, doc_kind, seed)


def _administrative_hearing(app: AppContext, clerk: Actor, officer: Actor, used: set[int], today: date) -> None:
    officer_id = officer.user_id
    assert officer_id is not None
    filed_at = _day_at(today - timedelta(days=20), 11, 5)
    aid = _file_ca(app, clerk, used, filed_at, ["did_not_occur"],
                   "The meter was broken; I tried two cards and coins. Nobody answered the number on the meter.",
                   "receipt_png", 11)
    if aid is None:
        return
    appeals.decide_appeal(at_clock(app, _day_at(today - timedelta(days=8), 14, 30)), officer, aid, "upheld",
                          "The meter's maintenance log shows no fault reported for that day, and the officer's "
                          "photo shows the display reading EXPIRED. The citation stands.")
    number = _case_of(app, aid).citation_number
    hearing_filed = at_clock(app, _day_at(today - timedelta(days=5), 9, 20))
    second = appeals.file_appeal(hearing_filed, clerk, AppealRequest(
        citation_number=number, channel="mail", appellant_name=_name_of(app, aid),
        appellant_address=_address_of(app, aid), grounds=["did_not_occur"], statement=STATEMENTS_HEARING,
        documents=[("meter-photos.pdf", letter_pdf("Photographs of meter HB-1107", [
            "Photo 1: display reading FAIL at 08:55", "Photo 2: coin slot taped over", "Taken by the appellant"]))]))
    day = today + timedelta(days=2)
    for _ in range(10):
        times = appeals.free_times(app, officer, officer_id, day, 20)
        if times:
            booked = times[min(3, len(times) - 1)]
            appeals.schedule_hearing(at_clock(app, _day_at(today - timedelta(days=4), 10, 0)), officer,
                                     second.appeal_id, officer_id, booked, "in_person")
            break
        day += timedelta(days=1)


def _case_of(app: AppContext, appeal_id: int) -> Citation:
    with app.db.reading() as s:
        appeal = s.get(Appeal, appeal_id)
        case = s.get(Citation, appeal.citation_id) if appeal is not None else None
        if case is None:
            raise LookupError(f"appeal {appeal_id} has no case")
        return case


def _name_of(app: AppContext, appeal_id: int) -> str:
    with app.db.reading() as s:
        a = s.get(Appeal, appeal_id)
        return a.appellant_name if a else "Appellant"


def _address_of(app: AppContext, appeal_id: int) -> str:
    with app.db.reading() as s:
        a = s.get(Appeal, appeal_id)
        return (a.appellant_address or "") if a else ""


def _decided_with_letter(app: AppContext, clerk: Actor, officer: Actor, used: set[int], today: date) -> None:
    filed_at = _day_at(today - timedelta(days=15), 15, 45)
    aid = _file_ca(app, clerk, used, filed_at, ["did_not_occur", "mitigating_circumstances"], STATEMENT_DECIDED,
                   "letter_pdf", 13)
    if aid is None:
        return
    case = _case_of(app, aid)
    with app.db.reading() as s:
        charges, paid = appeals.ledger_money(s, case.id)
    decided = at_clock(app, _day_at(today - timedelta(days=2), 11, 10))
    appeals.decide_appeal(decided, officer, aid, "reduced",
                          "The appellant's photo shows the street-cleaning sign turned away from the kerb, so the "
                          "restriction was not clearly signed; but the vehicle was also parked across a driveway "
                          "apron. The fine is reduced by half.", max(1, (charges - paid) // 2))
    render_letter(decided, officer, aid, "decision_letter")


# --------------------------------------------------------------------------- England


ENG_CASES = [
    # (days ago issued, days from issue to NtO, days from NtO to representations, paid, decided days ago)
    (113, 28, 21, 7000, None),   # representations undecided 60 days: deemed accepted by the daily run
    (70, 28, 14, 0, None),       # representations awaiting a decision
    (100, 28, 12, 0, 9),         # representations rejected 9 days ago: tribunal window open
    (31, None, None, 0, None),   # PCN unpaid 31 days: the daily run queues its Notice to Owner
    (75, 28, None, 0, None),     # NtO mailed 47 days ago, no representations: its Charge Certificate is due
]
ENG_OWNERS = ["ELLERY, THOMAS", "OKONJO, GRACE", "MARSH, PETER", "MCDONALD, AILSA", "VAN DER BERG, JOOST"]
ENG_STATEMENTS = [
    ("procedural_impropriety", ("The Notice to Owner gave the wrong date for the contravention, and I had already "
     "paid in full within the discount period by card (reference attached). Please cancel the charge and refund me.")),
    ("did_not_occur", ("The bay markings outside No. 42 were worn away and the time plate was missing; photos "
     "attached.")),
    ("exceeded_amount", "I was charged the higher rate although this was a lower-level contravention."),
]


def _england(app: AppContext, clerk: Actor, officer: Actor, now: datetime) -> None:
    """Three English PCNs, created directly (a field sync would have brought them in)."""
    system = Actor.system("demo")
    ids = []
    with app.uow(system) as uow:
        if uow.session.get(Device, "HH-ENG-01") is None:
            uow.session.add(Device(device_id="HH-ENG-01", officer_badge="CEO 2231", endpoint_id="GW-DEMO",
                                   app_version="4.2.1", seq_gaps=[]))
            uow.commit()
    for n, (ago, nto_after, reps_after, paid, _decided) in enumerate(ENG_CASES):
        issued = datetime.combine((now - timedelta(days=ago)).astimezone(LONDON).date(), time(10 + n, 20),
                                  tzinfo=LONDON).astimezone(UTC)
        # recorded as it happened: received from the handheld 20 minutes after issue
        with at_clock(app, issued + timedelta(minutes=20)).uow(system) as uow:
            s = uow.session
            next_pay = int(s.scalar(select(func.coalesce(func.max(Payment.id), 0))) or 0) + 1
            number = f"AV8041{2001 + n:04d}"
            if s.scalar(select(Citation.id).where(Citation.citation_number == number)):
                continue
            plate = ["KX19ABC", "LD68VNR", "AV21KPT", "GU70XRM", "EK17BWD"][n]
            lat, lon = 51.14870 + 0.0004 * n, 0.87225 - 0.0006 * n
            owner = RegisteredOwner(
                plate=plate, jurisdiction="GB", name=ENG_OWNERS[n], name_key=ENG_OWNERS[n],
                address_raw=["14 Orchard Rise, Ashford TN23 7QT", "3 Mill Lane, Ashford TN24 8DB",
                             "22 Station Road, Ashford TN23 1PP", "7 Beaver Road, Ashford TN23 7RR",
                             "41 Kingsnorth Road, Ashford TN23 6HU"][n],
                address_line1=["14 Orchard Rise", "3 Mill Lane", "22 Station Road", "7 Beaver Road",
                               "41 Kingsnorth Road"][n], city="Ashford", state="",
                zip=["TN23 7QT", "TN24 8DB", "TN23 1PP", "TN23 7RR", "TN23 6HU"][n], address_status="ok",
                vehicle_make=["VAUXHALL", "FORD", "NISSAN", "KIA", "TOYOTA"][n],
                vehicle_model=["CORSA", "FOCUS", "QASHQAI", "PICANTO", "YARIS"][n],
                vehicle_year=2019, valid_from=date(2020, 1, 1), source="DVLA demo extract", imported_at=issued)
            s.add(owner)
            s.flush()
            case = Citation(
                citation_number=number, source_event_id=f"demo-{number}", device_id="HH-ENG-01",
                officer_badge="CEO 2231", issued_at=issued, received_at=issued + timedelta(minutes=20), plate=plate,
                plate_key=plate_key(plate), jurisdiction="GB", plate_type=None, make=owner.vehicle_make,
                model=owner.vehicle_model, color=["SILVER", "BLUE", "WHITE", "RED", "GREY"][n], lat=lat, lon=lon,
                accuracy_m=5.0, address=["High Street (outside No. 42), Ashford", "Bank Street, Ashford",
                                         "Elwick Road, Ashford", "North Street, Ashford", "Godinton Road, Ashford"][n],
                violation_code="01", violation_description="Parked in a restricted street during prescribed hours",
                fine_cents=7000, handheld_fine_cents=7000, observations=[], remarks="Vehicle observed 10 minutes; "
                "no loading seen.", status="open", evidence_status="ok", signature_state="valid",
                review_warnings=[], profile_code="ENG", profile_version=1, owner_id=owner.id,
                approved_at=issued + timedelta(days=1), version=1)
            case.violations.append(CitationViolation(position=0, code="01", description=case.violation_description,
                                                     handheld_fine_cents=7000, fine_cents=7000))
            s.add(case)
            s.flush()
            for p in range(2):
                data = street_photo(plate, "GB", "SL", owner.vehicle_make or "", issued - timedelta(seconds=40 - p * 20),
                                    lat + 0.00003 * p, lon, seed=9000 + n * 2 + p, caption="plate" if p == 0 else "scene")
                sha = store_evidence(app.paths.evidence_dir, data)
                s.add(EvidencePhoto(citation_id=case.id, position=p, sha256=sha, declared_bytes=len(data),
                                    taken_at=issued - timedelta(seconds=40 - p * 20),
                                    caption="plate" if p == 0 else "context", integrity="verified",
                                    gps_lat=round(lat + 0.00003 * p, 6), gps_lon=lon, width=800, height=600,
                                    verified_at=issued + timedelta(minutes=20)))
            uow.audit("citation.received", "citation", case.id, reason="field sync from HH-ENG-01")
            uow.commit()
            cid, approved_at = case.id, case.approved_at or issued
        with at_clock(app, approved_at).uow(system) as uow:
            uow.session.add(LedgerEntry(citation_id=cid, kind="fine", amount_cents=7000, at=approved_at,
                                        effective_date=issued.date(), dedupe_key="fine", memo="01 restricted street"))
            uow.audit("citation.approved", "citation", cid, after={"status": "open"})
            uow.commit()
        if nto_after is None:
            continue  # the daily run queues its Notice to Owner
        nto = issued + timedelta(days=nto_after)
        with at_clock(app, nto).uow(system) as uow:
            uow.session.add(Notice(citation_id=cid, kind="notice_to_owner", stage="notice_to_owner", status="mailed",
                                   queued_at=nto, mailed_at=nto, owner_id=owner.id, dedupe_key="stage:notice_to_owner"))
            uow.audit("notice.mailed", "citation", cid, after={"kind": "notice_to_owner"})
            uow.commit()
        if paid:
            paid_at = nto + timedelta(days=3)
            with at_clock(app, paid_at).uow(system) as uow:
                s = uow.session
                s.add(Payment(id=next_pay, source="processor", method="card", external_id=f"demo-{number}",
                              amount_cents=paid, received_at=paid_at, value_date=paid_at.date(), reference=number,
                              payer_name=owner.name, card_last4="4417", status="matched",
                              match_method="citation_number"))
                s.flush()
                advance_id_sequences(s, Payment.__tablename__)  # the explicit id above
                s.add(LedgerEntry(citation_id=cid, kind="payment", amount_cents=-paid, at=paid_at,
                                  effective_date=paid_at.date(), payment_id=next_pay, dedupe_key=f"payment:{next_pay}",
                                  memo="card payment"))
                paid_case = s.get_one(Citation, cid)
                paid_case.status = "paid"
                paid_case.closed_at = paid_at
                uow.audit("payment.posted", "citation", cid, after={"amount_cents": paid}, reason="paid in full")
                uow.commit()
        if reps_after is not None:
            ids.append((cid, number, nto + timedelta(days=reps_after), n))
    for cid, number, reps_at, n in ids:
        ground, statement = ENG_STATEMENTS[n]
        with app.db.reading() as s:
            eng_case = s.get_one(Citation, cid)
            eng_owner = s.get_one(RegisteredOwner, eng_case.owner_id)
            plate_text = eng_case.plate
            last, _, first = eng_owner.name.partition(", ")
            name = f"{first.title()} {last.title()}"
            address = f"{eng_owner.address_line1}\n{eng_owner.city} {eng_owner.zip}"
        filed_at = reps_at.astimezone(LONDON).replace(hour=11, minute=0)
        doc = ("representations.pdf", letter_pdf("Formal representations against Notice to Owner", [
            f"PCN {number}, vehicle {plate_text}", "", statement[:90], statement[90:180], statement[180:270]]))
        aid = appeals.file_appeal(at_clock(app, filed_at), clerk, AppealRequest(
            citation_number=number, channel="online", appellant_name=name, appellant_address=address,
            grounds=[ground], statement=statement, documents=[doc])).appeal_id
        decided_ago = ENG_CASES[n][4]
        if decided_ago is not None:
            when = at_clock(app, (now - timedelta(days=decided_ago)).astimezone(LONDON).replace(hour=15, minute=0))
            appeals.decide_appeal(when, officer, aid, "upheld",
                                  "The contravention is a higher-level one (restricted street during prescribed "
                                  "hours) and the charge of £70 is the correct band. The signs and lines were "
                                  "checked on 3 March and were compliant. Representations rejected.")
            render_letter(when, officer, aid, "decision_letter")
