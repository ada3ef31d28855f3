"""A payment file's references and the counter's typed numbers find their citations through the index
``ix_citation_number_key`` on both databases (not by reading every citation); a file that pays one case
twice posts the second payment against what the first left owing; a file written a chunk at a time under
reserved ids verifies as the office's own rows."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select, text

from desktop.demo.payments import Bai2Item, build_bai2
from desktop.domain.roles import Role
from desktop.persistence.models import AuditEntry, Citation, LedgerEntry, citation_number_key
from desktop.services.core import audit
from desktop.services.core.context import AppContext
from desktop.services.payments import imports as payment_imports
from desktop.services.payments import posting as payments
from tests.conftest import seed_users
from tests.helpers.factories import add_citation
from tests.integration.payments.conftest import ledger_balance


def _plan(app: AppContext, sql: str) -> str:
    with app.db.engine.connect() as conn:
        if app.db.dialect == "sqlite":
            return " ".join(str(row[-1]) for row in conn.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
        # a test database is tiny: reading it whole is cheaper, so the planner is told not to
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        return " ".join(str(row[0]) for row in conn.execute(text(f"EXPLAIN {sql}")))


def test_the_number_lookups_use_the_index_on_both_databases(any_app: AppContext) -> None:
    # no bound parameter inside the expression: with one, neither database would match it to the index
    assert citation_number_key().compile(any_app.db.engine).params == {}
    query = select(Citation.id).where(citation_number_key().in_(["HH0001000123", "HH0002000456"]))
    sql = str(query.compile(any_app.db.engine, compile_kwargs={"literal_binds": True}))
    assert "ix_citation_number_key" in _plan(any_app, sql)


def test_counter_and_file_find_a_number_typed_without_its_dash(any_app: AppContext, tmp_path: Path) -> None:
    clerk = seed_users(any_app)[Role.CLERK]
    case = add_citation(any_app, number="HH0007-000321", plate="7ABC123", fine_cents=6300, status="open")
    found = payments.counter_lookup(any_app, clerk, "hh0007 000321")
    assert [c.id for c in found if c.primary] == [case]

    path = tmp_path / "twice.bai2"
    path.write_bytes(build_bai2([Bai2Item("142", 6300, "CIT HH0007 000321", "B1"),
                                 Bai2Item("142", 2000, "TICKET HH0007000321 AGAIN", "B2")], date(2026, 11, 24)))
    outcome = payment_imports.import_payment_file(any_app, clerk, path)
    assert (outcome.payments, outcome.matched) == (2, 2)
    # the second payment found nothing owing: all of it is an overpayment (a credit to refund)
    assert outcome.overpaid_cents == 2000
    assert ledger_balance(any_app, case) == -2000


def test_a_file_posted_in_chunks_is_sealed_and_chained(any_app: AppContext, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The payments, entries and cases of a file written a chunk at a time under reserved ids verify as the
    office's own rows (seals over their ids, the audit chain naming each entry) on both databases."""
    monkeypatch.setattr(payment_imports, "POST_FLUSH", 2)  # 5 payments: three chunks
    clerk = seed_users(any_app)[Role.CLERK]
    cases = [add_citation(any_app, number=f"HH0008-00000{n}", plate=f"7ABC12{n}", fine_cents=6300, status="open")
             for n in range(3)]
    path = tmp_path / "chunks.bai2"
    path.write_bytes(build_bai2([Bai2Item("142", 3000, "CIT HH0008-000000", "C1"),
                                 Bai2Item("142", 3300, "CIT HH0008-000000", "C2"),
                                 Bai2Item("142", 6300, "CIT HH0008-000001", "C3"),
                                 Bai2Item("142", 9999, "NO REFERENCE AT ALL", "C4"),
                                 Bai2Item("142", 7000, "CIT HH0008 000002", "C5")], date(2026, 11, 24)))
    outcome = payment_imports.import_payment_file(any_app, clerk, path)
    assert (outcome.payments, outcome.matched, outcome.unmatched, outcome.overpaid_cents) == (5, 4, 1, 700)
    assert [ledger_balance(any_app, c) for c in cases] == [0, 0, -700]
    with any_app.db.reading() as s:
        entries = dict(s.execute(select(LedgerEntry.id, LedgerEntry.payment_id)
                                 .where(LedgerEntry.payment_id.is_not(None))).all())
        named = {int(after["entry"]) for after in s.scalars(
            select(AuditEntry.after).where(AuditEntry.action == "ledger.payment"))}
        statuses = list(s.scalars(select(Citation.status).where(Citation.id.in_(cases)).order_by(Citation.id)))
    assert len(entries) == 4 and named == set(entries)
    assert statuses == ["paid", "paid", "paid"]
    verified = audit.verify(any_app.db)
    assert verified.ok, verified.message()
