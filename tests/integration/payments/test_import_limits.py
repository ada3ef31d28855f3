"""Payment files are bounded and checked before anything is posted (issue 14, finding 9, payment files):
other currencies refused with the reason, BAI2 times validated at their limits, a size limit checked
before reading, gzip undone in bounded memory, and error lines cut to a readable length."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
import tracemalloc
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from desktop.demo.payments import Bai2Item, build_bai2
from desktop.persistence.models import AuditEntry, Payment, PaymentImport
from desktop.services.core import settings as app_settings
from desktop.services.core.context import AppContext
from desktop.services.payments import imports as payment_imports
from desktop.services.payments.importers import ImportRejected, read_payment_bytes

MB = 1024 * 1024
CSV_HEADER = "transaction_id,settled_at,amount,currency,card_brand,card_last4,citation_number,plate,payer_name,status"


def _nothing_posted(app: AppContext) -> bool:
    with app.db.reading() as s:
        return not s.scalar(select(func.count()).select_from(Payment)) and \
            not s.scalar(select(func.count()).select_from(PaymentImport))


def _statement(*items: Bai2Item) -> bytes:
    return build_bai2(list(items) or [Bai2Item("195", 6300, "WIRE", "B1")], date(2026, 11, 24))


# --- currencies -----------------------------------------------------------------------------------


def _group_in(code: str) -> bytes:
    """The group header (02) says the currency; the account (03) names none, so the group's applies."""
    return _statement().replace(b"261124,0600,USD,", b"261124,0600," + code.encode() + b",").replace(
        b"03,000123456789,USD,", b"03,000123456789,,")


@pytest.mark.parametrize(("data", "code"), [
    (_group_in("EUR"), "EUR"),
    (_statement().replace(b"03,000123456789,USD,", b"03,000123456789,EUR,"), "EUR"),
    (_statement().replace(b",USD,", b",XYZ,"), "XYZ"),
], ids=["group-eur", "account-eur", "unknown-code"])
def test_bai2_in_another_currency_is_refused_with_the_reason(app, people, data, code) -> None:
    with pytest.raises(ImportRejected) as caught:
        payment_imports.import_payment_bytes(app, people["clerk"], data, "bank.bai2")
    assert caught.value.reason == f"{code} amounts cannot be posted: this office takes USD."
    assert caught.value.line == 4 and "nothing in it was posted" in str(caught.value)
    assert _nothing_posted(app)
    with app.db.reading() as s:
        assert s.scalar(select(AuditEntry.reason).where(AuditEntry.action == "payment_import.rejected")) == \
            caught.value.reason


def test_the_shared_gbp_and_cad_statements(app, people, bank_files) -> None:
    """citi_example is a GBP statement with one payment: refused in a USD office, imported in a GBP one.
    sample1 is a CAD statement with no payment (only skipped records): nothing to post, so it imports."""
    with pytest.raises(ImportRejected, match="GBP amounts cannot be posted: this office takes USD"):
        payment_imports.import_payment_file(app, people["clerk"], bank_files / "bai2_moj/citi_example.bai2")
    assert payment_imports.import_payment_file(app, people["clerk"], bank_files / "bai2_moov/sample1.txt").payments == 0
    app_settings.set_value(app, people["admin"], "agency.currency", "GBP")
    assert payment_imports.import_payment_file(app, people["clerk"], bank_files / "bai2_moj/citi_example.bai2").payments


def test_nacha_is_dollars_only_and_the_processor_csv_says_its_currency(app, people, bank_files) -> None:
    euros = f"{CSV_HEADER}\nch_1,2026-11-24T10:00:00+01:00,63.00,EUR,visa,4242,,,A B,settled\n".encode()
    with pytest.raises(ImportRejected) as caught:
        payment_imports.import_payment_bytes(app, people["clerk"], euros, "cards.csv")
    assert caught.value.reason == "EUR amounts cannot be posted: this office takes USD." and caught.value.line == 2
    app_settings.set_value(app, people["admin"], "agency.currency", "GBP")
    with pytest.raises(ImportRejected, match="USD amounts cannot be posted: this office takes GBP"):
        payment_imports.import_payment_file(app, people["clerk"], bank_files / "nacha_ach_moov/ppd-debit.ach")
    assert _nothing_posted(app)


# --- BAI2 times -----------------------------------------------------------------------------------


def _with_times(creation: str = "0600", as_of: str = "0600", value_time: str | None = None) -> bytes:
    detail = Bai2Item("195", 6300, "WIRE", "B1")
    data = _statement(detail).decode()
    data = data.replace("01,CITYBANK,CURBDESK,261124,0600,", f"01,CITYBANK,CURBDESK,261124,{creation},")
    data = data.replace("02,CURBDESK,121000358,1,261124,0600,", f"02,CURBDESK,121000358,1,261124,{as_of},")
    if value_time is not None:
        data = data.replace("16,195,6300,Z,", f"16,195,6300,V,261125,{value_time},")
    return data.encode()


@pytest.mark.parametrize(("creation", "as_of", "value_time"), [
    ("0000", "0000", "0000"), ("2359", "2359", "2359"), ("1200", "2400", "2400"), ("1200", "9999", "9999"),
    ("14:59:35", "", None),
])
def test_bai2_times_at_their_limits_are_read(creation, as_of, value_time) -> None:
    parsed = read_payment_bytes(_with_times(creation, as_of, value_time), "bank.bai2")
    assert len(parsed.payments) == 1


@pytest.mark.parametrize(("creation", "as_of", "value_time", "reason"), [
    ("9999", "0600", None, "the creation time '9999' is not valid: 9999 (end of day) is only allowed as an as-of"),
    ("2400", "0600", None, "the creation time '2400' is not valid: 2400 (end of day)"),
    ("2360", "0600", None, "the creation time '2360' is not valid: it is not a time between 0000 and 2359."),
    ("0600", "2360", None, "the as-of time '2360' is not valid: it is not a time between 0000 and 2359 (or"),
    ("0600", "9998", None, "the as-of time '9998' is not valid"),
    ("0600", "2401", None, "the as-of time '2401' is not valid"),
    ("0600", "123", None, "the as-of time '123' is not valid: it is not four digits"),
    ("0600", "0600", "2500", "the value time '2500' is not valid"),
    ("0600", "0600", "24:00:00", "the value time '24:00:00' is not valid"),
])
def test_bai2_times_past_their_limits_are_refused(creation, as_of, value_time, reason) -> None:
    with pytest.raises(ImportRejected) as caught:
        read_payment_bytes(_with_times(creation, as_of, value_time), "bank.bai2")
    assert caught.value.reason.startswith(reason), caught.value.reason


def test_end_of_day_as_of_time_is_the_last_second_of_the_day() -> None:
    parsed = read_payment_bytes(_with_times(as_of="9999"), "bank.bai2")
    assert parsed.payments[0].received_at.isoformat() == "2026-11-24T23:59:59+00:00"


# --- size -----------------------------------------------------------------------------------------


def test_a_200_mb_statement_is_refused_before_it_is_read(app, people, tmp_path) -> None:
    """The finding: 218 s and 5 GB to refuse. Now the size is checked before the first byte is read."""
    path = tmp_path / "huge.bai2"
    with path.open("wb") as handle:
        handle.write(_statement())
        handle.truncate(200 * MB)
    started = time.perf_counter()
    with pytest.raises(ImportRejected) as caught:
        payment_imports.import_payment_file(app, people["clerk"], path)
    assert time.perf_counter() - started < 2
    assert caught.value.reason.startswith("the file is larger than 20 MB (200.0 MB or more)")
    assert _nothing_posted(app)
    app_settings.set_value(app, people["admin"], "payments.max_file_mb", 1)
    small = tmp_path / "two-mb.bai2"
    small.write_bytes(_statement() + b" " * (2 * MB))
    with pytest.raises(ImportRejected, match="larger than 1 MB"):
        payment_imports.import_payment_file(app, people["clerk"], small)
    with pytest.raises(ImportRejected, match="larger than 1 MB"):
        payment_imports.import_payment_bytes(app, people["clerk"], small.read_bytes(), small.name)


def _gzip_bomb(expanded: int) -> bytes:
    """A valid gzip file (many members) that expands to ``expanded`` bytes of a BAI2-looking text."""
    member = gzip.compress(b"01," + b"0" * (MB - 3), 9)
    return member * (expanded // MB)


def test_a_gzip_bomb_is_refused_in_bounded_memory() -> None:
    """1 GiB once uncompressed from about 1 MB: refused as soon as the limit is passed (the finding used
    2.15 GB). tracemalloc sees every Python allocation of the read."""
    bomb = _gzip_bomb(1024 * MB)
    assert len(bomb) < 2 * MB
    tracemalloc.start()
    try:
        with pytest.raises(ImportRejected) as caught:
            read_payment_bytes(bomb, "statement.bai2.gz")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.reason.startswith("the file once uncompressed is larger than 20 MB")
    assert peak < 30 * MB, f"peak {peak / MB:.1f} MB"
    tracemalloc.start()
    try:
        with pytest.raises(ImportRejected):
            read_payment_bytes(bomb, "statement.bai2.gz", max_bytes=4 * MB)
        _current, small_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert small_peak < 8 * MB, f"peak {small_peak / MB:.1f} MB"


def test_a_gzip_bomb_read_in_a_process_of_its_own(tmp_path) -> None:
    """The peak resident memory of a whole process that reads the 1 GiB bomb (resource.getrusage)."""
    bomb = tmp_path / "statement.bai2.gz"
    bomb.write_bytes(_gzip_bomb(1024 * MB))
    script = (
        "import json, resource, sys\n"
        "from desktop.services.payments.importers import ImportRejected, read_payment_file\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n"
        "    read_payment_file(sys.argv[1])\n"
        "    reason = None\n"
        "except ImportRejected as exc:\n"
        "    reason = exc.reason\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(json.dumps({'before_kb': before, 'after_kb': after, 'reason': reason}))\n")
    out = subprocess.run([sys.executable, "-c", script, str(bomb)], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[3], env={**os.environ, "PYTHONHASHSEED": "0"})
    result = json.loads(out.stdout)
    assert result["reason"].startswith("the file once uncompressed is larger than 20 MB")
    grew_mb = (result["after_kb"] - result["before_kb"]) / 1024
    assert grew_mb < 80, f"peak RSS grew by {grew_mb:.0f} MB"


def test_a_damaged_gzip_is_refused() -> None:
    with pytest.raises(ImportRejected, match="the compressed file is damaged"):
        read_payment_bytes(gzip.compress(_statement())[:-12], "statement.bai2.gz")


# --- unreadable input -----------------------------------------------------------------------------


def _wrap(record: bytes) -> bytes:
    return (b"01,A,B,240101,0600,1,,,2/\n02,B,1,1,240101,0600,USD,2/\n03,1,USD/\n" + record +
            b"\n49,0,3/\n98,0,1,5/\n99,0,1,7/\n")


@pytest.mark.parametrize("data", [
    _wrap(b"16," + b"9" * 20000 + b",100,Z,,,x/"),
    _wrap(b"16,195,100," + b"Q" * 20000 + b",,,x/"),
    b"01,A,B," + b"2" * 20000 + b",0600,1,,,2/\n02,B,1,1,240101,0600,USD,2/\n03,1,USD/\n49,0,2/\n98,0,1,4/\n99,0,1,6/\n",
    b"1" + bytes(range(256)) * 100,
    os.urandom(100_000),
], ids=["type-code", "funds-type", "date", "nacha-binary", "random"])
def test_error_lines_are_cut_to_a_readable_length(data) -> None:
    """Each of these printed a line of 20,000 characters or more."""
    with pytest.raises(ImportRejected) as caught:
        read_payment_bytes(data, "upload.bin")
    message = str(caught.value)
    assert len(message) < 450 and message.isprintable(), message


@settings(max_examples=200, deadline=None)
@given(prefix=st.sampled_from([b"", b"01,", b"1", b"5", b"transaction_id,settled_at,amount\n"]),
       body=st.binary(max_size=5000))
def test_any_bytes_give_one_readable_line(prefix, body) -> None:
    try:
        read_payment_bytes(prefix + body, "upload.bin")
    except ImportRejected as rejected:
        assert len(str(rejected)) < 450 and str(rejected).isprintable()


def test_a_statement_in_another_currency_writes_its_skipped_lines_in_that_currency(app, people, bank_files) -> None:
    """sample1 (a CAD account, no payment in it) imports in a pound office as in a dollar one; its debits and
    unpaid credits are listed for the clerk in Canadian dollars, not with the office's sign."""
    app_settings.set_value(app, people["admin"], "agency.currency", "GBP")
    outcome = payment_imports.import_payment_file(app, people["clerk"], bank_files / "bai2_moov/sample1.txt")
    assert outcome.payments == 0 and outcome.skipped
    assert all(" CAD " in line for line in outcome.skipped), outcome.skipped[:3]
    assert "line 5: CAD 25.00 debit" in outcome.skipped[0]
    assert not any("£" in line or "$" in line for line in outcome.skipped)
