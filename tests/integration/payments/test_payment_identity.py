"""A payment is identified by what it is, not by the bytes of its file (issue 14, finding 3).

The same BAI2 statement saved with CRLF line ends, a byte-order mark, trailing blanks or another
payer name, re-sent, or overlapping an earlier statement posts each payment once; the same holds for
lockbox, NACHA and processor files. Existing rows are backfilled by the migration with the same
function the importers use.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from desktop.demo.payments import Bai2Item, build_bai2
from desktop.domain.payment_identity import identity_key, stored_identity_key
from desktop.domain.roles import Role
from desktop.persistence.migrate import alembic_config, current_revision, head_revision, upgrade
from desktop.persistence.models import LedgerEntry, Payment, PaymentImport
from desktop.persistence.types import UTCDateTime
from desktop.services.core.context import AppContext
from desktop.services.payments import imports as payment_imports
from desktop.services.payments.importers import read_payment_bytes, read_payment_file
from tests.conftest import seed_users
from tests.integration.payments.conftest import ledger_balance

PAYMENT_TYPES = ("142", "165", "191", "195")  # credits that are payments (115/147/175/301 are deposits)


def _counts(app: AppContext) -> tuple[int, int, int]:
    with app.db.reading() as s:
        return (int(s.scalar(select(func.count()).select_from(Payment)) or 0),
                int(s.scalar(select(func.count()).select_from(LedgerEntry)) or 0),
                int(s.scalar(select(func.count()).select_from(PaymentImport)) or 0))


def _crlf(data: bytes) -> bytes:
    return data.replace(b"\n", b"\r\n")


def _bom(data: bytes) -> bytes:
    return b"\xef\xbb\xbf" + data


def _trailing_blanks(data: bytes) -> bytes:
    return b"\n".join(line + b"   " if line else line for line in data.split(b"\n"))


def _other_payer(data: bytes) -> bytes:
    return data.replace(b"From: JOHN Q PUBLIC", b"From: J PUBLIC ON BEHALF OF MARY")


def _number(k: int) -> str:
    return f"HH{k + 1:04d}-{k + 100:06d}"


def _items(n: int, *, bank_refs: bool = True) -> list[Bai2Item]:
    return [Bai2Item("142", 6300 + k, f"CIT {_number(k)} From: JOHN Q PUBLIC", f"B{k:06d}" if bank_refs else "",
                     f"CUST{k}") for k in range(n)]


@pytest.mark.parametrize("encode", [_crlf, _bom, _trailing_blanks, _other_payer,
                                    lambda d: _crlf(_bom(_trailing_blanks(_other_payer(d))))],
                         ids=["crlf", "bom", "trailing-blanks", "payer-name", "all-four"])
def test_a_reencoded_statement_posts_nothing_again(app, people, make_case, encode) -> None:
    ids = [make_case(_number(k), fine_cents=6300 + k) for k in range(5)]
    original = build_bai2(_items(5), date(2026, 11, 24))
    first = payment_imports.import_payment_bytes(app, people["clerk"], original, "statement.bai2")
    assert first.payments == 5 and first.matched == 5
    before = _counts(app)
    again = payment_imports.import_payment_bytes(app, people["clerk2"], encode(original), "statement (resent).bai2")
    assert _counts(app) == before  # no payment, ledger entry or import recorded
    assert all(ledger_balance(app, cid) == 0 for cid in ids)  # paid once, nothing in the refund queue
    assert again.payments == 0 and again.all_known and again.already_known == 5
    assert again.lines() == ["statement (resent).bai2: all 5 payment(s) in it were already posted from earlier "
                             "files; nothing was added."]


def test_an_overlapping_statement_posts_only_the_new_payments(app, people) -> None:
    items = _items(8)
    payment_imports.import_payment_bytes(app, people["clerk"], build_bai2(items[:5], date(2026, 11, 24)), "a.bai2")
    later = payment_imports.import_payment_bytes(app, people["clerk"],
                                                 build_bai2(items[3:], date(2026, 11, 24)), "b.bai2")
    assert later.payments == 3 and later.already_known == 2 and not later.all_known
    assert "2 payment(s) were already recorded from an earlier file and were not added again." in \
        " ".join(later.lines())
    assert _counts(app)[0] == 8


def test_payments_without_a_bank_reference_are_told_apart_by_their_order(app, people) -> None:
    """Two identical cheques (same account, day, amount, customer reference, no bank reference) are two
    payments; a statement that later adds a third identical one posts only the third."""
    same = Bai2Item("195", 5000, "TRANSFER", "", "PLATE 7ABC123")
    one = payment_imports.import_payment_bytes(app, people["clerk"], build_bai2([same, same], date(2026, 11, 24)),
                                               "a.bai2")
    assert one.payments == 2
    two = payment_imports.import_payment_bytes(app, people["clerk"],
                                               _crlf(build_bai2([same, same, same], date(2026, 11, 24))), "b.bai2")
    assert two.payments == 1 and two.already_known == 2
    other_day = payment_imports.import_payment_bytes(app, people["clerk"],
                                                     build_bai2([same], date(2026, 11, 25)), "c.bai2")
    assert other_day.payments == 1


def test_a_resent_statement_does_not_report_its_deposits_twice(app, people) -> None:
    items = [Bai2Item("115", 450000, "LOCKBOX DEPOSIT", "L1"), Bai2Item("142", 6300, "CIT X", "B1")]
    first = payment_imports.import_payment_bytes(app, people["clerk"], build_bai2(items, date(2026, 11, 24)), "a.bai2")
    assert len(first.deposits) == 1
    again = payment_imports.import_payment_bytes(app, people["clerk"],
                                                 _bom(build_bai2(items, date(2026, 11, 24))), "b.bai2")
    assert again.all_known and "(and its 1 deposit(s) reported)" in again.lines()[0]
    only_deposit = payment_imports.import_payment_bytes(app, people["clerk"],
                                                        _crlf(build_bai2(items[:1], date(2026, 11, 24))), "c.bai2")
    assert only_deposit.all_known and _counts(app)[2] == 1


def test_lockbox_nacha_and_processor_files_are_recognised_in_another_encoding(app, people, bank_files) -> None:
    for name in ("lockbox_fundersclub/test_lockbox.bai", "nacha_ach_moov/ppd-debit.ach",
                 "nacha_ach_moov/web-debit.ach"):
        data = (bank_files / name).read_bytes()
        first = payment_imports.import_payment_bytes(app, people["clerk"], data, Path(name).name)
        assert first.payments == 1
        crlf = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        assert crlf != data
        again = payment_imports.import_payment_bytes(app, people["clerk"], crlf, "crlf-" + Path(name).name)
        assert again.all_known and again.already_known == 1, (name, again.lines())
    csv = ("transaction_id,settled_at,amount,currency,card_brand,card_last4,citation_number,plate,payer_name,status\n"
           "ch_9,2026-11-24T10:00:00-08:00,63.00,USD,visa,4242,,,Ann Lee,settled\n")
    payment_imports.import_payment_bytes(app, people["clerk"], csv.encode(), "cards.csv")
    renamed = csv.replace("Ann Lee", "ANN LEE").replace("\n", "\r\n").encode()
    assert payment_imports.import_payment_bytes(app, people["clerk"], renamed, "cards-2.csv").all_known
    assert _counts(app)[0] == 4


_account = itertools.count(1)

reencodings = st.lists(st.sampled_from(["crlf", "bom", "blanks", "payer"]), min_size=1, max_size=4, unique=True)
item_lists = st.lists(
    st.tuples(st.sampled_from(PAYMENT_TYPES), st.integers(1, 10**9),
              st.sampled_from(["", "B1", "B2", "REF 9"]), st.sampled_from(["", "C1", "CIT 42"])),
    min_size=1, max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=item_lists, how=reencodings, payer=st.text("ABCDEFGHIJ KLMNOP", min_size=1, max_size=30))
def test_any_reencoding_of_a_statement_posts_nothing_the_second_time(app, people, rows, how, payer) -> None:
    """Property: whatever statement (repeated items, with or without references), re-encoded in any of
    the ways a file is re-saved or re-sent, posts nothing the second time."""
    account = f"{next(_account):012d}"
    items = [Bai2Item(code, amount, f"PAYMENT From: {payer}", ref, cust) for code, amount, ref, cust in rows]
    original = build_bai2(items, date(2026, 11, 24), account=account)
    first = payment_imports.import_payment_bytes(app, people["clerk"], original, f"{account}.bai2")
    assert first.payments == len(items)
    data = original
    for step in how:
        data = {"crlf": _crlf, "bom": _bom, "blanks": _trailing_blanks,
                "payer": lambda d: d.replace(f"From: {payer}".encode(), b"From: SOMEONE ELSE")}[step](data)
    before = _counts(app)
    again = payment_imports.import_payment_bytes(app, people["clerk"], data, f"{account}-again.bai2")
    assert _counts(app) == before
    assert getattr(again, "all_known", False) or again.already_imported


def test_the_identity_comes_from_the_banks_identifiers(bank_files) -> None:
    parsed = read_payment_file(bank_files / "bai2_moj/svb_us_example.bai2")
    assert [p.identity.split(":")[0] for p in parsed.payments] == ["bai2", "bai2"]
    lockbox_file = read_payment_file(bank_files / "lockbox_fundersclub/test_lockbox.bai")
    lockbox = lockbox_file.payments[0]
    assert lockbox.identity.startswith("lockbox:") and lockbox_file.sha256[:16] not in lockbox.identity
    assert lockbox.value_date.isoformat() in lockbox.identity
    ach = read_payment_file(bank_files / "nacha_ach_moov/ppd-debit.ach").payments[0]
    assert ach.identity == f"ach:{ach.external_id.rsplit(':', 1)[-1]}:{ach.value_date.isoformat()}"
    # The file digest is not part of any identity: CRLF gives the same identities.
    data = (bank_files / "bai2_moov/sample3.txt").read_bytes()
    assert [p.identity for p in read_payment_bytes(data).payments] == \
        [p.identity for p in read_payment_bytes(_crlf(data)).payments]


_OLD_PAYMENTS = sa.table(
    "payments", sa.column("id", sa.BigInteger), sa.column("source", sa.String), sa.column("method", sa.String),
    sa.column("external_id", sa.String), sa.column("amount_cents", sa.BigInteger),
    sa.column("received_at", UTCDateTime()), sa.column("value_date", sa.Date), sa.column("status", sa.String))


def _legacy_rows(conn: sa.Connection, digest: str) -> None:
    """Payments as the version before this revision wrote them (ids far above the sequence)."""
    rows = [
        # a BAI2 credit with a bank reference, posted by an earlier version
        (900001, "bank", "wire", f"bai2:{digest}:000123456789:R4:B000001", 6301, date(2026, 11, 24)),
        # ...and posted again from the CRLF copy of the same statement (the finding)
        (900002, "bank", "wire", "bai2:0123456789abcdef:000123456789:R4:B000001", 6301, date(2026, 11, 24)),
        (900003, "bank", "ach", f"bai2:{digest}:000123456789:R5:", 5000, date(2026, 11, 24)),
        (900004, "lockbox", "lockbox", f"lockbox:{digest}:1234567:001:001:1234", 700000, date(2026, 11, 23)),
        (900005, "ach", "ach", "ach:121042880000001:2019-06-25", 100000000, date(2019, 6, 25)),
        (900006, "processor", "card", "processor:ch_1", 6300, date(2026, 11, 24)),
        (900007, "counter", "cash", "counter:req-1", 6300, date(2026, 11, 24)),
    ]
    conn.execute(sa.insert(_OLD_PAYMENTS), [
        {"id": pid, "source": source, "method": method, "external_id": ext, "amount_cents": amount,
         "received_at": datetime(day.year, day.month, day.day, 20, tzinfo=UTC), "value_date": day,
         "status": "unmatched"} for pid, source, method, ext, amount, day in rows])


def test_the_migration_backfills_existing_payments_with_the_same_function(any_app) -> None:
    """Downgrade to the revision before, write rows as an earlier version did (one bank payment posted
    twice by the finding), upgrade: each row gets the key a new import computes; the duplicate keeps none;
    re-importing the statement in another encoding posts nothing."""
    app = any_app
    cfg = alembic_config(app.db)
    with app.db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "casework_0002")
    with app.db.engine.begin() as conn:
        _legacy_rows(conn, "a17a64c326c4c328")
    upgrade(app.db)
    assert current_revision(app.db) == head_revision(app.db)
    with app.db.reading() as s:
        keys = dict(s.execute(select(Payment.id, Payment.identity_key)).all())
        rows = {p.id: p for p in s.scalars(select(Payment))}
    assert keys[900007] is None  # a counter payment has its own idempotency
    assert keys[900002] is None  # the duplicate the earlier version posted: named in the log, not keyed
    for pid in (900001, 900003, 900004, 900005, 900006):
        p = rows[pid]
        assert keys[pid] == stored_identity_key(p.source, p.external_id, p.amount_cents, p.value_date)
    statement = build_bai2([Bai2Item("195", 6301, "WIRE From: ACME", "B000001", "")], date(2026, 11, 24))
    parsed = read_payment_bytes(statement)
    assert keys[900001] == identity_key("bank", parsed.payments[0].identity)
    clerk = seed_users(app)[Role.CLERK]
    again = payment_imports.import_payment_bytes(app, clerk, _crlf(statement), "statement.bai2")
    assert again.all_known
    ach = Path("/work/shared/data/bank_payment_files/nacha_ach_moov/ppd-debit.ach")
    if ach.is_file():  # the ACH entry the earlier version posted is recognised in the shared file
        assert keys[900005] == identity_key("ach", read_payment_file(ach).payments[0].identity)
        assert payment_imports.import_payment_file(app, clerk, ach).all_known
