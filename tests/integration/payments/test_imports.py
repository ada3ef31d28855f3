"""Payment file imports through the service: every shared bank file, matching, double imports,
malformed files rejected whole, cancellation, and ACH returns feeding reversals."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from desktop.demo.payments import Bai2Item, build_bai2
from desktop.domain.errors import UserError
from desktop.persistence.models import AuditEntry, LedgerEntry, Notice, Payment, PaymentImport
from desktop.services.core.context import AppContext
from desktop.services.payments import imports as payment_imports
from desktop.services.payments import posting as payments
from desktop.services.payments import refunds
from desktop.services.payments.importers import ImportRejected, read_payment_file
from tests.integration.payments.conftest import ledger_balance


def _all_bank_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _counts(app: AppContext) -> tuple[int, int, int]:
    with app.db.reading() as s:
        return (int(s.scalar(select(func.count()).select_from(Payment)) or 0),
                int(s.scalar(select(func.count()).select_from(PaymentImport)) or 0),
                int(s.scalar(select(func.count()).select_from(LedgerEntry)) or 0))


SHARED = Path("/work/shared/data/bank_payment_files")


@pytest.mark.parametrize("name", _all_bank_files(SHARED) if SHARED.is_dir() else [])
def test_every_shared_bank_file_through_the_service(app, people, bank_files, name) -> None:
    """Each file imports (then a second import adds nothing) or is refused whole with its line and reason."""
    clerk = people["clerk"]
    path = bank_files / name
    try:
        parsed = read_payment_file(path, currency="USD")  # the office's currency (agency.currency)
    except ImportRejected as rejected:
        with pytest.raises(ImportRejected) as caught:
            payment_imports.import_payment_file(app, clerk, path)
        assert caught.value.reason == rejected.reason and caught.value.line == rejected.line
        assert "nothing in it was posted" in str(caught.value) and path.name in str(caught.value)
        assert _counts(app) == (0, 0, 0)
        with app.db.reading() as s:
            audit = s.scalar(select(AuditEntry).where(AuditEntry.action == "payment_import.rejected"))
            assert audit is not None and audit.reason == rejected.reason
        return
    outcome = payment_imports.import_payment_file(app, clerk, path)
    deposits = [p for p in parsed.payments if parsed.kind.value == "bai2"
                and p.type_code in payment_imports.DEPOSIT_TYPE_CODES]
    assert outcome.payments == len(parsed.payments) - len(deposits)
    assert outcome.total_cents == parsed.payments_total_cents - sum(d.amount_cents for d in deposits)
    assert len(outcome.deposits) == len(deposits)
    # No case exists, so every payment waits in the unmatched queue with a reason.
    assert outcome.unmatched == outcome.payments and outcome.matched == 0
    queue = payments.unmatched_payments(app, clerk)
    assert len(queue) == outcome.payments and all(row.match_note for row in queue)
    assert sum(row.amount_cents for row in queue) == outcome.total_cents
    # ACH returns name the trace they could not find.
    assert len(outcome.returns_not_applied) == len(parsed.returns)
    before = _counts(app)
    again = payment_imports.import_payment_file(app, clerk, path)
    assert again.already_imported and "nothing added" in again.lines()[0]
    assert _counts(app) == before


def test_shared_bai2_files_import_with_their_deposits_kept_apart(app, people, bank_files) -> None:
    outcome = payment_imports.import_payment_file(app, people["clerk"], bank_files / "bai2_moov/sample2.txt")
    # Two lockbox deposit totals (type 115) are not payments; the wire (195) is.
    assert [(d["type_code"], d["amount_cents"]) for d in outcome.deposits] == [("115", 450000), ("115", 500000)]
    assert outcome.payments == 1 and outcome.total_cents == 10000000
    with app.db.reading() as s:
        imp = s.get(PaymentImport, outcome.import_id)
        assert imp.kind == "bai2" and imp.value_date == date(2004, 6, 20)
        assert imp.summary["deposits"][0]["category"] == "lockbox"
        assert imp.summary["skipped_count"] == 1


def _statement(app: AppContext, tmp_path: Path, items: list[Bai2Item], name: str = "bank.bai2") -> Path:
    path = tmp_path / name
    path.write_bytes(build_bai2(items, date(2026, 11, 24)))
    return path


def test_matching_by_citation_number_then_plate_and_amount(app, people, make_case, tmp_path) -> None:
    a = make_case("HH0001-000123", plate="7ABC123")
    b = make_case("HH0002-000456", plate="6DEF456")
    plate_case = make_case("HH0003-000789", plate="5GHI789", fine_cents=9300)
    review = make_case("HH0004-000999", plate="4JKL000", status="pending_review", with_fine=False)
    path = _statement(app, tmp_path, [
        Bai2Item("142", 6300, "ACH CREDIT CIT HH0001-000123 OB: MARIA GARCIA", "B1"),
        Bai2Item("142", 6300, "TICKET hh0002 000456", "B2"),
        Bai2Item("195", 9300, "WIRE PLATE 5GHI789", "B3"),
        Bai2Item("142", 7300, "PARKING TICKET PAYMENT", "B4"),
        Bai2Item("142", 6300, "CIT HH0004-000999", "B5"),
        Bai2Item("301", 50000, "COUNTER DEPOSIT", "B6"),
    ])
    outcome = payment_imports.import_payment_file(app, people["clerk"], path)
    assert (outcome.payments, outcome.matched, outcome.unmatched) == (5, 3, 2)
    assert outcome.deposits[0]["category"] == "counter"
    assert ledger_balance(app, a) == ledger_balance(app, b) == ledger_balance(app, plate_case) == 0
    assert ledger_balance(app, review) == 0
    with app.db.reading() as s:
        methods = dict(s.execute(select(Payment.reference, Payment.match_method)).all())
        assert methods["ACH CREDIT CIT HH0001-000123 OB: MARIA GARCIA"] == "citation"
        assert methods["WIRE PLATE 5GHI789"] == "plate_amount"
        payer = s.scalar(select(Payment.payer_name).where(Payment.match_method == "citation").order_by(Payment.id))
        assert payer == "MARIA GARCIA"
    queue = {row.reference: row for row in payments.unmatched_payments(app, people["clerk"])}
    assert "still in review" in queue["CIT HH0004-000999"].match_note or "pending review" in \
        queue["CIT HH0004-000999"].match_note
    assert "no citation number or known plate" in queue["PARKING TICKET PAYMENT"].match_note


def test_clerk_clears_the_unmatched_queue_by_hand(app, people, make_case, tmp_path) -> None:
    cid = make_case("HH0009-000001", plate="9ZZZ999", fine_cents=7300)
    path = _statement(app, tmp_path, [Bai2Item("142", 7300, "PARKING TICKET PAYMENT OB: R JOHNSON", "B1")])
    payment_imports.import_payment_file(app, people["clerk"], path)
    (row,) = payments.unmatched_payments(app, people["clerk"])
    allocations = payments.match_by_hand(app, people["clerk"], row.id, [cid], note="phoned in: plate 9ZZZ999")
    assert allocations[0].balance_after_cents == 0 and ledger_balance(app, cid) == 0
    assert payments.unmatched_payments(app, people["clerk"]) == []
    with pytest.raises(UserError, match="not waiting to be matched"):
        payments.match_by_hand(app, people["clerk"], row.id, [cid])
    matched = payments.payment_row(app, people["clerk"], row.id)
    assert matched.match_method == "manual" and "phoned in" in matched.match_note


def test_processor_csv_matches_and_a_resent_transaction_adds_nothing(app, people, make_case, tmp_path) -> None:
    cid = make_case("HH0001-000777", plate="7ABC123")
    header = ("transaction_id,settled_at,amount,currency,card_brand,card_last4,citation_number,plate,payer_name,"
              "status\n")
    row = "ch_1,2026-11-24T09:30:00-08:00,63.00,USD,visa,4242,HH0001-000777,,Ana Lopez,settled\n"
    first = tmp_path / "day1.csv"
    first.write_text(header + row)
    second = tmp_path / "day1-resent.csv"
    second.write_text(header + row + "ch_2,2026-11-24T10:00:00-08:00,10.00,USD,visa,1111,,,,settled\n")
    one = payment_imports.import_payment_file(app, people["clerk"], first)
    assert one.matched == 1 and ledger_balance(app, cid) == 0
    two = payment_imports.import_payment_file(app, people["clerk"], second)
    assert two.already_known == 1 and two.payments == 1 and two.unmatched == 1
    assert ledger_balance(app, cid) == 0
    assert any("already recorded" in line for line in two.lines())
    with app.db.reading() as s:
        assert s.scalar(select(Payment.external_id).where(Payment.amount_cents == 6300)) == "processor:ch_1"


def test_malformed_file_is_rejected_whole_with_nothing_posted(app, people, make_case, tmp_path) -> None:
    cid = make_case("HH0001-000888")
    header = ("transaction_id,settled_at,amount,currency,card_brand,card_last4,citation_number,plate,payer_name,"
              "status\n")
    good = "ch_1,2026-11-24T09:30:00-08:00,63.00,USD,visa,4242,HH0001-000888,,A,settled\n"
    bad = "ch_2,2026-11-24T09:31:00-08:00,sixty,USD,visa,4242,,,B,settled\n"
    path = tmp_path / "bad.csv"
    path.write_text(header + good + good.replace("ch_1", "ch_3") + bad)
    with pytest.raises(ImportRejected) as caught:
        payment_imports.import_payment_file(app, people["clerk"], path)
    assert caught.value.line == 4 and "'sixty' is not an amount of money" in caught.value.reason
    assert _counts(app)[:2] == (0, 0)
    assert ledger_balance(app, cid) == 6300
    tampered = build_bai2([Bai2Item("142", 6300, "CIT HH0001-000888", "B1")], date(2026, 11, 24))
    tampered = tampered.replace(b"16,142,6300,", b"16,142,6301,")
    with pytest.raises(ImportRejected, match="control total"):
        payment_imports.import_payment_bytes(app, people["clerk"], tampered, "tampered.bai2")
    assert _counts(app)[:2] == (0, 0) and ledger_balance(app, cid) == 6300


def test_full_card_number_in_a_processor_file_rejects_it(app, people, tmp_path) -> None:
    path = tmp_path / "pan.csv"
    path.write_text("transaction_id,settled_at,amount,currency,card_brand,card_last4,citation_number,plate,"
                    "payer_name,status\nch_1,2026-11-24T09:30:00-08:00,63.00,USD,visa,4242,,,"
                    "4111 1111 1111 1111,settled\n")
    with pytest.raises(ImportRejected, match="full card number"):
        payment_imports.import_payment_file(app, people["clerk"], path)
    assert _counts(app)[:2] == (0, 0)


def test_cancelling_an_import_posts_nothing(app, people, make_case, tmp_path) -> None:
    cases = [make_case(f"HH0005-{n:06d}", plate=f"7CAN{n:03d}") for n in range(60)]
    items = [Bai2Item("142", 6300, f"CIT HH0005-{n:06d}", f"B{n}") for n in range(60)]
    path = _statement(app, tmp_path, items)

    class Stop(Exception):
        pass

    def progress(done: int, total: int, text: str) -> None:
        if done >= 50:
            raise Stop

    with pytest.raises(Stop):
        payment_imports.import_payment_file(app, people["clerk"], path, progress)
    assert _counts(app)[:2] == (0, 0)
    assert all(ledger_balance(app, cid) == 6300 for cid in cases)
    outcome = payment_imports.import_payment_file(app, people["clerk"], path)
    assert outcome.matched == 60


def test_nacha_entry_seen_in_two_encodings_is_posted_once(app, people, bank_files) -> None:
    one = payment_imports.import_payment_file(app, people["clerk"], bank_files / "nacha_ach_moov/ppd-debit.ach")
    two = payment_imports.import_payment_file(app, people["clerk"], bank_files / "nacha_ach_moov/long-line.ach")
    three = payment_imports.import_payment_file(app, people["clerk"], bank_files / "nacha_ach_moov/short-line.ach")
    assert one.payments == 1 and two.payments == three.payments == 0
    assert two.already_known == three.already_known == 1
    assert _counts(app)[0] == 1


def _ach_payment(app: AppContext, actor, cid: int, trace: str, amount: int) -> int:
    with app.uow(actor) as uow:
        p = payments._new_payment(uow, source="ach", method="ach", external_id=f"ach:{trace}:2026-11-20",
                                  amount_cents=amount, received_at=app.now(), value_date=date(2026, 11, 20),
                                  payer_name="Paul Jones", match_method="citation")
        from desktop.services.cases import steps as case_ops

        payments.apply_to_cases(uow, p, [case_ops.load_case(uow, cid)], memo="ACH debit")
        uow.commit()
        return p.id


def test_ach_return_file_reverses_the_payment_and_queues_a_letter(app, people, make_case, bank_files) -> None:
    cid = make_case("HH0001-000555", fine_cents=12354)
    pid = _ach_payment(app, people["admin"], cid, "091400600000001", 12354)
    assert ledger_balance(app, cid) == 0
    outcome = payment_imports.import_payment_file(app, people["clerk"], bank_files / "nacha_ach_moov/return-WEB.ach")
    assert len(outcome.returns_applied) == 1 and "R01 (Insufficient funds)" in outcome.returns_applied[0]
    assert len(outcome.returns_not_applied) == 1 and "091400600000003" in outcome.returns_not_applied[0]
    assert ledger_balance(app, cid) == 12354
    with app.db.reading() as s:
        p = s.get(Payment, pid)
        assert p.status == "reversed" and p.reversal_reason.startswith("ACH return R01")
        from desktop.persistence.models import Citation

        assert s.get(Citation, cid).status == "open"
        notice = s.scalar(select(Notice).where(Notice.citation_id == cid))
        assert (notice.kind, notice.status) == ("reversal_letter", "queued")
        reversal = s.scalar(select(LedgerEntry).where(LedgerEntry.kind == "reversal"))
        assert reversal.amount_cents == 12354 and reversal.payment_id == pid and reversal.reverses_id is not None
    assert refunds.unnoticed_overpayments(app, people["clerk"]) == []


def test_import_needs_the_permission(app, people, tmp_path) -> None:
    from desktop.domain.errors import PermissionDenied

    path = _statement(app, tmp_path, [Bai2Item("142", 100, "X", "B1")])
    with pytest.raises(PermissionDenied):
        payment_imports.import_payment_file(app, people["hearing"], path)
