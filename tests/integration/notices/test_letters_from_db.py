"""Letters other areas queue (refund, returned payment, decision, hearing, acknowledgement) print from the
database through the same run, with the matching reports class."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from desktop.domain.roles import Role
from desktop.persistence.models import Appeal, AppealDocument, Hearing, LedgerEntry, Notice, Payment, Refund
from desktop.services.core.context import Actor, AppContext
from desktop.services.notices import runs as nr
from tests.helpers.notice_cases import queue_case
from tests.integration.reports.pdfprobe import reader

T0 = datetime(2026, 11, 2, 18, 0, tzinfo=UTC)


def _text(path: Path) -> str:
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in reader(path.read_bytes()).pages))


def _queue(app: AppContext, citation_id: int, kind: str, target: int) -> int:
    with app.db.write_session() as s:
        from desktop.persistence.models import Citation

        c = s.get(Citation, citation_id)
        assert c is not None
        n = Notice(citation_id=citation_id, kind=kind, status="queued", queued_at=T0, owner_id=c.owner_id,
                   dedupe_key=f"{kind}:{target}")
        s.add(n)
        s.commit()
        return n.id


def _appeal(app: AppContext, citation_id: int, **kw: object) -> int:
    fields: dict[str, object] = {"citation_id": citation_id, "level": "initial_review", "channel": "online",
                                     "appellant_name": "MARIA GARCIA", "grounds": ["did_not_occur"],
                                     "statement": "The meter was broken.", "filed_at": T0, "status": "open"}
    fields.update(kw)
    with app.db.write_session() as s:
        a = Appeal(**fields)
        s.add(a)
        s.commit()
        return a.id


def _paid(s: Session, citation_id: int, memo: str, *, dedupe: bool = False, **payment: object) -> Payment:
    """A $63 payment received at T0 and its entry on the case's ledger (keyed against a second posting when
    ``dedupe``)."""
    p = Payment(amount_cents=6300, received_at=T0, value_date=T0.date(), **payment)
    s.add(p)
    s.flush()
    s.add(LedgerEntry(citation_id=citation_id, kind="payment", amount_cents=-6300, at=T0, effective_date=T0.date(),
                      payment_id=p.id, dedupe_key=f"payment:{p.id}" if dedupe else None, memo=memo))
    return p


def test_every_letter_kind_prints_from_the_database(app: AppContext, actors: dict[Role, Actor], tmp_path: Path) -> None:
    hearing_officer = actors[Role.HEARING_OFFICER]
    # refund after a dismissal
    refund_case, _ = queue_case(app, kind="x_unused", stage=None, photo=False)
    with app.db.write_session() as s:
        _paid(s, refund_case, "card payment", dedupe=True, source="processor", method="card", external_id="ch_1",
              status="matched", card_last4="4242")
        s.add(LedgerEntry(citation_id=refund_case, kind="adjustment", amount_cents=-6300, at=T0,
                          effective_date=T0.date(), memo="Dismissed on review"))
        r = Refund(citation_id=refund_case, amount_cents=6300, reason="The citation was dismissed on review; your "
                   "payment is returned in full.", status="approved", requested_at=T0, decided_at=T0)
        s.add(r)
        s.commit()
        refund_id = r.id
    _queue(app, refund_case, "refund_letter", refund_id)
    # returned cheque with a fee
    rev_case, _ = queue_case(app, kind="x_unused", stage=None, photo=False)
    with app.db.write_session() as s:
        p = _paid(s, rev_case, "check payment", source="lockbox", method="check", external_id="lb-77",
                  status="reversed", cheque_number="1042")
        s.add(LedgerEntry(citation_id=rev_case, kind="reversal", amount_cents=6300, at=T0 + timedelta(days=3),
                          effective_date=(T0 + timedelta(days=3)).date(), payment_id=p.id,
                          memo="R01 Insufficient funds"))
        s.add(LedgerEntry(citation_id=rev_case, kind="penalty", amount_cents=2500, at=T0 + timedelta(days=3),
                          effective_date=(T0 + timedelta(days=3)).date(), memo="Returned item fee",
                          dedupe_key=f"returned_fee:{p.id}"))
        s.commit()
        payment_id = p.id
    _queue(app, rev_case, "reversal_letter", payment_id)
    # decision (reduced), acknowledgement, hearing notice
    dec_case, _ = queue_case(app, kind="x_unused", stage=None, photo=False)
    with app.db.write_session() as s:  # the appeals area lowers the amount on the ledger when it decides
        s.add(LedgerEntry(citation_id=dec_case, kind="adjustment", amount_cents=-3800, at=T0 + timedelta(days=10),
                          effective_date=(T0 + timedelta(days=10)).date(), memo="Fine reduced on review"))
        s.commit()
    appeal = _appeal(app, dec_case, status="decided", decision="reduced", reduced_fine_cents=2500,
                     decision_reason="The pay station log shows it was out of order.",
                     decided_by=hearing_officer.user_id, decided_at=T0 + timedelta(days=10))
    _queue(app, dec_case, "decision_letter", appeal)
    ack_case, _ = queue_case(app, kind="x_unused", stage=None, photo=False)
    ack = _appeal(app, ack_case, decide_by=date(2026, 12, 2))
    with app.db.write_session() as s:
        s.add(AppealDocument(appeal_id=ack, sha256="c" * 64, filename="meter-receipt.jpg", mime_type="image/jpeg",
                             size_bytes=1000, added_at=T0))
        s.commit()
    _queue(app, ack_case, "appeal_acknowledgement", ack)
    hear_case, _ = queue_case(app, kind="x_unused", stage=None, photo=False)
    hap = _appeal(app, hear_case, level="administrative_hearing", status="scheduled")
    with app.db.write_session() as s:
        h = Hearing(appeal_id=hap, hearing_officer_id=hearing_officer.user_id,
                    scheduled_at=datetime(2026, 12, 10, 17, 30, tzinfo=UTC), mode="in_person",
                    location="Hearing Room 2, 200 N Spring St, Los Angeles CA", status="scheduled")
        s.add(h)
        s.commit()
        hearing_id = h.id
    _queue(app, hear_case, "hearing_notice", hearing_id)

    result = nr.run_notices(app, actors[Role.MAIL_OFFICE], tmp_path)
    by_kind = {b.kind: b for b in result.batches}
    assert set(by_kind) == {"refund_letter", "reversal_letter", "decision_letter", "appeal_acknowledgement",
                            "hearing_notice"}, result.summary()
    # the queued 'x_unused' pieces have no document: held with a reason, not printed
    assert result.held_count == 5 and all("no printed document" in h.reason for h in result.held)
    t = _text(by_kind["refund_letter"].path)
    assert "REFUND" in t and "$63.00" in t and "dismissed on review" in t and "ending 4242" in t
    t = _text(by_kind["reversal_letter"].path)
    assert "RETURNED PAYMENT" in t and "R01" in t and "Insufficient funds" in t and "$25.00" in t
    assert "no. 1042" in t and "$88.00" in t  # 63 + 25 now due
    t = _text(by_kind["decision_letter"].path)
    assert "NOTICE OF DECISION" in t and "REDUCED" in t and "$25.00" in t and "out of order" in t
    assert "Please pay $25.00" in t
    assert "Administrative hearing" in t  # the next level, from the CA profile
    assert "Hearing officer" in t or "Hearing Officer" in t
    t = _text(by_kind["appeal_acknowledgement"].path)
    assert "ACKNOWLEDGEMENT" in t and "meter-receipt.jpg" in t and "December 2, 2026" in t
    assert "The violation did not occur" in t
    t = _text(by_kind["hearing_notice"].path)
    assert "NOTICE OF HEARING" in t and "December 10, 2026" in t and "Hearing Room 2" in t and "In person" in t
    for b in result.batches:
        assert "MARIA GARCIA" in _text(b.path)
        assert len(reader(b.path.read_bytes()).pages) == b.pages


def test_a_letter_reprint_is_stamped(app: AppContext, actors: dict[Role, Actor], tmp_path: Path) -> None:
    case, _ = queue_case(app, kind="x_unused", stage=None, photo=False)
    ack = _appeal(app, case)
    nid = _queue(app, case, "appeal_acknowledgement", ack)
    mail = actors[Role.MAIL_OFFICE]
    first = nr.run_notices(app, mail, tmp_path, notice_ids=[nid])
    assert first.printed == 1 and "REPRINT" not in _text(first.batches[0].path)
    again = nr.reprint(app, mail, nid, "lost in the post", out_dir=tmp_path / "r")
    assert again.run is not None and again.run.printed == 1
    assert "REPRINT" in _text(again.run.batches[0].path)


def test_appeal_letters_go_to_the_appellant_when_the_case_has_no_owner_address(
        app: AppContext, actors: dict[Role, Actor], tmp_path: Path) -> None:
    case, _ = queue_case(app, kind="x_unused", stage=None, photo=False, owner=False)
    ack = _appeal(app, case, appellant_name="Dana Brooks",
                  appellant_address="77 E Colorado Blvd Apt 5, Pasadena, CA 91105")
    _queue(app, case, "appeal_acknowledgement", ack)
    result = nr.run_notices(app, actors[Role.MAIL_OFFICE], tmp_path, notice_ids=None)
    letters = [b for b in result.batches if b.kind == "appeal_acknowledgement"]
    assert len(letters) == 1
    t = _text(letters[0].path)
    assert "DANA BROOKS" in t and "77 E COLORADO BLVD APT 5" in t and "PASADENA CA 91105" in t
