"""Two imports of one statement at the same moment, on the real PostgreSQL server (issue 14, findings 3
and 4): the unique identity key lets one of them post; the other ends with a clear result, never a raw
``IntegrityError``, and every payment is posted once."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from desktop.demo.payments import Bai2Item, build_bai2
from desktop.persistence.models import LedgerEntry, Payment
from desktop.services.payments import imports as payment_imports
from desktop.services.payments.imports import ImportOutcome
from tests.integration.payments.conftest import _maker, ledger_balance
from tests.integration.payments.test_concurrency_pg import _together

pytestmark = pytest.mark.postgres


def _statement(matched: int, unmatched: int) -> bytes:
    items = [Bai2Item("142", 6300, f"CIT PG-{n:05d}", f"B{n}") for n in range(1, matched + 1)]
    items += [Bai2Item("195", 1000 + n, "WIRE NO REFERENCE", f"U{n}") for n in range(unmatched)]
    return build_bai2(items, date(2026, 11, 24))


def _settled(out: list[Any]) -> list[ImportOutcome]:
    for result in out:
        assert isinstance(result, ImportOutcome), f"an import ended with {type(result).__name__}: {result}"
    return out


@pytest.mark.parametrize("second", ["same bytes", "crlf", "bom and trailing blanks"])
def test_two_imports_of_one_statement_at_once_post_it_once(pg_app, pg_people, second) -> None:
    make = _maker(pg_app)
    ids = [make(f"PG-{n:05d}", plate=f"{n}PGX{n:03d}", fine_cents=6300) for n in range(1, 21)]
    data = _statement(20, 10)
    other = {"same bytes": data, "crlf": data.replace(b"\n", b"\r\n"),
             "bom and trailing blanks": b"\xef\xbb\xbf" + data.replace(b"/\n", b"/   \n")}[second]
    out = _settled(_together(
        lambda: payment_imports.import_payment_bytes(pg_app, pg_people["clerk"], data, "bank.bai2"),
        lambda: payment_imports.import_payment_bytes(pg_app, pg_people["clerk2"], other, "bank (copy).bai2")))
    posted = [o for o in out if o.payments]
    assert len(posted) == 1 and posted[0].payments == 30
    waited = next(o for o in out if o is not posted[0])
    assert waited.already_imported or waited.all_known
    assert "nothing" in waited.lines()[0] and len(waited.lines()) == 1
    with pg_app.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Payment)) == 30
        assert s.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "payment")) == 20
    assert all(ledger_balance(pg_app, cid) == 0 for cid in ids)  # paid once: nothing for the refund queue


def test_four_overlapping_statements_at_once_post_each_payment_once(pg_app, pg_people) -> None:
    items = [Bai2Item("195", 2000 + n, f"WIRE {n}", f"R{n}") for n in range(40)]
    files = [build_bai2(items[start:start + 20], date(2026, 11, 24)) for start in (0, 10, 20)]
    files.append(files[1].replace(b"\n", b"\r\n"))
    out = _settled(_together(*[
        (lambda data=data, k=k: payment_imports.import_payment_bytes(
            pg_app, pg_people["clerk" if k % 2 else "clerk2"], data, f"part{k}.bai2"))
        for k, data in enumerate(files)]))
    assert sum(o.payments for o in out) == 40
    with pg_app.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Payment)) == 40
        assert s.scalar(select(func.sum(Payment.amount_cents))) == sum(i.amount_cents for i in items)


def test_without_the_import_lock_the_unique_key_still_posts_once(pg_app, pg_people, monkeypatch) -> None:
    """The backstop: with the advisory lock taken away (an older workstation takes none), the loser of the
    race hits the unique identity key, is rolled back and run again, and reports the payments as posted."""
    monkeypatch.setattr(payment_imports, "_serialise_imports", lambda _s: None)
    data = _statement(0, 30)
    out = _settled(_together(
        lambda: payment_imports.import_payment_bytes(pg_app, pg_people["clerk"], data, "bank.bai2"),
        lambda: payment_imports.import_payment_bytes(pg_app, pg_people["clerk2"], data.replace(b"\n", b"\r\n"),
                                                     "bank (crlf).bai2")))
    assert sorted(o.payments for o in out) == [0, 30]
    assert any(o.all_known for o in out)
    with pg_app.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Payment)) == 30
