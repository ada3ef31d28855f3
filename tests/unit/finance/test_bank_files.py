"""Every shared bank file either imports with known counts and totals or is rejected for a named reason."""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

import pytest

from desktop.services.payments.importers import (
    FileKind,
    ImportRejected,
    PaymentMethod,
    read_payment_bytes,
    read_payment_file,
)
from desktop.services.payments.importers.nacha import routing_check_digit

# file: (kind, payments, payments total cents, returns, skipped, control total cents, control count)
ACCEPTED: dict[str, tuple[FileKind, int, int, int, int, int, int]] = {
    "bai2_moj/account_trailer_amount_blank_example.bai2": (FileKind.BAI2, 0, 0, 0, 0, 0, 8),
    "bai2_moj/citi_example.bai2": (FileKind.BAI2, 1, 1, 0, 0, 20001, 14),
    "bai2_moj/nwb_example.bai2": (FileKind.BAI2, 0, 0, 0, 5, 143764, 18),
    "bai2_moj/svb_us_example.bai2": (FileKind.BAI2, 2, 1395996, 0, 0, 282030196, 20),
    "bai2_moov/sample1.txt": (FileKind.BAI2, 0, 0, 0, 17, 1280000, 27),
    "bai2_moov/sample2.txt": (FileKind.BAI2, 3, 10950000, 0, 1, 345450000, 31),
    "bai2_moov/sample3.txt": (FileKind.BAI2, 13, 39713, 0, 13, 2508440, 74),
    "lockbox_fundersclub/test_empty_lockbox.bai": (FileKind.LOCKBOX, 0, 0, 0, 0, 0, 0),
    "lockbox_fundersclub/test_lockbox.bai": (FileKind.LOCKBOX, 1, 700000, 0, 0, 700000, 1),
    "nacha_ach_moov/FISERV-ZEROFILE-PIMRET825324_032720_110221.ach": (FileKind.NACHA, 0, 0, 0, 0, 0, 0),
    "nacha_ach_moov/NACHA_SAMPLE_TEL_REVERSAL.ach": (FileKind.NACHA, 1, 685100, 0, 1, 1370200, 2),
    "nacha_ach_moov/PPD-200-batches-100000-entries.ach.gz": (FileKind.NACHA, 0, 0, 0, 100199, 20123398766, 100199),
    "nacha_ach_moov/cor-example.ach": (FileKind.NACHA, 0, 0, 0, 0, 0, 2),
    "nacha_ach_moov/long-line.ach": (FileKind.NACHA, 1, 100000000, 0, 0, 100000000, 1),
    "nacha_ach_moov/ppd-debit-fixedLength.ach": (FileKind.NACHA, 1, 10500, 0, 0, 10500, 1),
    "nacha_ach_moov/ppd-debit.ach": (FileKind.NACHA, 1, 100000000, 0, 0, 100000000, 1),
    "nacha_ach_moov/ppd-mixedDebitCredit.ach": (FileKind.NACHA, 1, 200000000, 0, 2, 400000000, 3),
    "nacha_ach_moov/rck.ach": (FileKind.NACHA, 1, 11500, 0, 0, 11500, 1),
    "nacha_ach_moov/return-PPD-custom-reason-code.ach": (FileKind.NACHA, 0, 0, 1, 0, 106161, 2),
    "nacha_ach_moov/return-WEB.ach": (FileKind.NACHA, 0, 0, 2, 0, 16919, 4),
    "nacha_ach_moov/short-line.ach": (FileKind.NACHA, 1, 100000000, 0, 0, 100000000, 1),
    "nacha_ach_moov/web-debit.ach": (FileKind.NACHA, 1, 15000, 0, 5, 41820, 6),
}

# file: (line, start of the reason)
REJECTED: dict[str, tuple[int | None, str]] = {
    "bai2_moov/sample-parseError.txt": (1, "record type 00 is not a BAI2 record type"),
    "bai2_moov/sample4-continuations-newline-delimited.txt":
        (22, ("the account trailer (49) declares a control total of -1260161341762 but the amounts it covers "
              "add up to 7999960")),
    "bai2_moov/sample5-issue113.txt":
        (22, "the account trailer (49) declares a control total of -1260161341762"),
    "nacha_ach_moov/20110729A-invalid.ach": (1, "the file header gives a record size of '941'"),
    "nacha_ach_moov/20110805A.ach": (93, "the file control declares batch count 5, but the file holds 4"),
    "nacha_ach_moov/crashers/0.ach": (1, "the file starts with a record of type '5'"),
    "nacha_ach_moov/crashers/d8f3557bf70ce706c9efbfcfd8143f131a2eef20": (1, "column 435 holds the byte 0xEF"),
    "nacha_ach_moov/extended-ascii.ach": (15, "column 68 holds the byte 0xC5"),
    "nacha_ach_moov/nonascii-utf8.ach": (3, "column 67 holds the byte 0xC2"),
    "nacha_ach_moov/nonascii.ach": (3, "column 67 holds the byte 0xA6"),
    "nacha_ach_moov/ppd-debit-fixedLengthInvalid.ach": (1, "this line is 471 characters long"),
    "nacha_ach_moov/ppd-debit-invalid-entryDetail-checkDigit.ach":
        (3, "the routing number 231380105 fails its check digit (expected 4)"),
    "nacha_ach_moov/return-no-batch-controls.ach": (1, "the file starts with a record of type '5'"),
    "nacha_ach_moov/return-no-file-header-control.ach": (1, "the file starts with a record of type '5'"),
}


def test_every_shared_file_is_listed(bank_files: Path) -> None:
    on_disk = {str(path.relative_to(bank_files)) for path in bank_files.rglob("*") if path.is_file()}
    assert on_disk == set(ACCEPTED) | set(REJECTED)


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_accepted_file(bank_files: Path, name: str) -> None:
    kind, payments, total, returns, skipped, control_total, control_count = ACCEPTED[name]
    result = read_payment_file(bank_files / name)
    assert result.kind is kind
    assert len(result.payments) == payments
    assert result.payments_total_cents == total
    assert len(result.returns) == returns
    assert len(result.skipped) == skipped
    assert result.control_total_cents == control_total
    assert result.control_count == control_count
    ids = [payment.external_id for payment in result.payments]
    assert len(set(ids)) == len(ids)
    assert all(payment.amount_cents > 0 for payment in result.payments)
    assert all(p.received_at is None or p.received_at.utcoffset() is not None for p in result.payments)


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_rejected_file_names_line_and_reason(bank_files: Path, name: str) -> None:
    line, reason = REJECTED[name]
    with pytest.raises(ImportRejected) as caught:
        read_payment_file(bank_files / name)
    assert caught.value.line == line
    assert caught.value.reason.startswith(reason)
    message = str(caught.value)
    assert Path(name).name in message and "nothing in it was posted" in message


def test_same_file_twice_has_same_digest_and_ids(bank_files: Path) -> None:
    first = read_payment_file(bank_files / "bai2_moov/sample3.txt")
    second = read_payment_file(bank_files / "bai2_moov/sample3.txt")
    assert first.sha256 == second.sha256
    assert [p.external_id for p in first.payments] == [p.external_id for p in second.payments]
    other = read_payment_file(bank_files / "bai2_moj/svb_us_example.bai2")
    assert other.sha256 != first.sha256


def test_lockbox_check_details(bank_files: Path) -> None:
    result = read_payment_file(bank_files / "lockbox_fundersclub/test_lockbox.bai")
    (check,) = result.payments
    assert check.payer == "BOB E SMITH"
    assert check.method is PaymentMethod.LOCKBOX
    assert check.value_date == date(2016, 5, 23)
    assert "CE554" in check.reference_text
    assert check.line_numbers == (4, 5)


def test_bai2_multi_record_lines_and_wrapped_records(bank_files: Path) -> None:
    result = read_payment_file(bank_files / "bai2_moov/sample3.txt")
    first, second = result.payments[:2]
    assert (first.amount_cents, first.reference_text, first.line_numbers) == (2500, "TRANSFER PAYPAL PPD", (3,))
    assert (second.amount_cents, second.reference_text) == (500, "TRANSFER MSPBNA BANK PPD")
    wrapped = result.payments[3]
    assert wrapped.line_numbers == (18, 19, 20)
    assert wrapped.reference_text.startswith("111111 ACH_SETL 1111111111111111111111111")
    assert {p.method for p in result.payments} == {PaymentMethod.ACH, PaymentMethod.WIRE}


def test_bai2_continuation_splitting_a_summary(bank_files: Path) -> None:
    # The package alone reads "190/" + "88,500000" as type code 190500000; we do not.
    result = read_payment_file(bank_files / "bai2_moov/sample2.txt")
    assert [(p.type_code, p.amount_cents, p.method) for p in result.payments] == [
        ("115", 450000, PaymentMethod.LOCKBOX), ("115", 500000, PaymentMethod.LOCKBOX),
        ("195", 10000000, PaymentMethod.WIRE),
    ]
    assert result.payments[1].reference_text == "LOCK BOX NO.68751"
    assert result.skipped[0].type_code == "218"


def test_bai2_debits_and_unlisted_credits_are_skipped_not_posted(bank_files: Path) -> None:
    result = read_payment_file(bank_files / "bai2_moov/sample1.txt")
    reasons = {record.type_code: record.reason for record in result.skipped}
    assert reasons["409"].startswith("debit")
    assert "not treated as a payment" in reasons["108"]


def test_bai2_control_total_mismatch_rejects_whole_file(bank_files: Path) -> None:
    data = (bank_files / "bai2_moj/svb_us_example.bai2").read_bytes().replace(b"16,142,490196", b"16,142,490197")
    with pytest.raises(ImportRejected) as caught:
        read_payment_bytes(data, "tampered.bai2")
    assert caught.value.line == 9
    assert "add up to 138884259" in caught.value.reason


def test_nacha_returns_carry_reason_and_original_trace(bank_files: Path) -> None:
    result = read_payment_file(bank_files / "nacha_ach_moov/return-WEB.ach")
    first, second = result.returns
    assert (first.original_trace, first.return_code, first.description, first.amount_cents) == (
        "091400600000001", "R01", "Insufficient funds", 12354)
    assert (second.return_code, second.description, second.amount_cents) == (
        "R03", "No account / unable to locate account", 4565)
    custom = read_payment_file(bank_files / "nacha_ach_moov/return-PPD-custom-reason-code.ach").returns[0]
    assert custom.return_code == "R97" and "not in the NACHA table" in custom.description


def test_nacha_notice_of_change(bank_files: Path) -> None:
    result = read_payment_file(bank_files / "nacha_ach_moov/cor-example.ach")
    assert result.notices_of_change == [
        "C01 (Incorrect bank account number) for trace 121042880000001 (Best Co. #23): corrected data '1918171614'"
    ]


def test_nacha_debit_entry_becomes_payment(bank_files: Path) -> None:
    result = read_payment_file(bank_files / "nacha_ach_moov/web-debit.ach")
    (payment,) = result.payments
    assert payment.amount_cents == 15000
    assert payment.payer == "Jane Doe"
    assert payment.external_id.endswith(":081000030000005")
    assert payment.value_date == date(2015, 3, 6)
    assert all("credit entry" in record.reason for record in result.skipped)


def test_nacha_gz_and_plain_give_the_same_entries(bank_files: Path, tmp_path: Path) -> None:
    plain = tmp_path / "ppd.ach"
    plain.write_bytes(gzip.decompress((bank_files / "nacha_ach_moov/PPD-200-batches-100000-entries.ach.gz").read_bytes()))
    from_gz = read_payment_file(bank_files / "nacha_ach_moov/PPD-200-batches-100000-entries.ach.gz")
    from_plain = read_payment_file(plain)
    assert len(from_plain.skipped) == len(from_gz.skipped) == 100199
    assert from_plain.control_credit_cents == from_gz.control_credit_cents == 20123398766


def test_nacha_tampered_amount_fails_batch_control(bank_files: Path) -> None:
    lines = (bank_files / "nacha_ach_moov/ppd-debit.ach").read_text().split("\n")
    lines[2] = lines[2][:29] + "0100000001" + lines[2][39:]
    with pytest.raises(ImportRejected) as caught:
        read_payment_bytes("\n".join(lines).encode(), "ppd.ach")
    assert caught.value.line == 4
    assert "total debit amount (cents) 100000000, but the batch holds 100000001" in caught.value.reason


def test_routing_check_digit() -> None:
    assert routing_check_digit("23138010") == 4
    assert routing_check_digit("09100001") == 9


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ImportRejected, match="not a payment file we can read"):
        read_payment_bytes(b"%PDF-1.7 hello", "statement.pdf")


@pytest.mark.parametrize("garbage", [b"", b"\x00\x01\x02", b"01,", b"01,a,b\n99,x", b"1" * 94, b"5" * 200,
                                     b"\x1f\x8b broken gzip", b"100ABC\n2", b"01,1,2,3\n88,x\n"])
def test_garbage_never_raises_anything_but_import_rejected(garbage: bytes) -> None:
    with pytest.raises(ImportRejected):
        read_payment_bytes(garbage, "garbage")
