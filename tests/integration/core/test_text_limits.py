"""NUL characters and over-long text through the services, on SQLite and on the real PostgreSQL server: a
clear UserError naming the field, never a raw DataError, and nothing stored (issue 14: a 5,000-character
name, a NUL byte or a 500-character reference crashed PostgreSQL, so a SQLite office could not move)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from desktop.demo.payments import Bai2Item, build_bai2
from desktop.domain import text as widths
from desktop.domain.errors import UserError
from desktop.domain.roles import Role
from desktop.persistence.models import AuditEntry, CaseNote, Hold, Payment, Refund, RegisteredOwner
from desktop.services.admin import users
from desktop.services.appeals import intake
from desktop.services.cases import holds, notes, owners
from desktop.services.core.context import AppContext
from desktop.services.payments import imports as payment_imports
from desktop.services.payments import posting, refunds
from desktop.services.review import permits
from tests.conftest import seed_users
from tests.helpers.factories import add_citation
from tests.integration.appeals.test_intake_and_decisions import request

CHECKED = settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def bad_text(width: int) -> st.SearchStrategy[str]:
    """Text with a NUL somewhere, or one to fifty characters wider than ``width``."""
    with_nul = st.tuples(st.text(max_size=20), st.text(max_size=20)).map(lambda ab: f"x{ab[0]}\x00{ab[1]}")
    too_long = st.tuples(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Z", "Cc")), min_size=1,
                                 max_size=4), st.integers(1, 50)).map(
        lambda t: (t[0] * (width // len(t[0]) + 1))[:width] + "y" * t[1])
    return st.one_of(with_nul, too_long)


def _count(app: AppContext, model: type) -> int:
    with app.db.reading() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _refused(app: AppContext, call: Callable[[], Any], *nothing_in: type, audited: bool = False) -> None:
    """``call`` raises a UserError and stores nothing (``audited``: but for the audit entry of a refused file)."""
    nothing_in = nothing_in if audited else (AuditEntry, *nothing_in)
    before = [_count(app, m) for m in nothing_in]
    with pytest.raises(UserError) as raised:
        call()
    # one sentence naming the field: a NUL, the limit, or (all blank) what to enter; a file with a NUL byte may
    # instead be refused whole as binary by the importers' first check (desktop/domain/imports.looks_binary)
    message = str(raised.value)
    assert any(words in message for words in ("NUL", "at most", "longer than", "Enter", "Give", "Write",
                                              "looks like a binary")), message
    assert [_count(app, m) for m in nothing_in] == before


def test_case_forms_refuse_unstorable_text(any_app: AppContext) -> None:
    actors = seed_users(any_app)
    clerk, supervisor = actors[Role.CLERK], actors[Role.SUPERVISOR]
    cid = add_citation(any_app)

    @CHECKED
    @given(name=bad_text(widths.NAME), address=bad_text(widths.ADDRESS), note=bad_text(notes.MAX_NOTE_CHARS),
           reason=bad_text(widths.REASON))
    def check(name: str, address: str, note: str, reason: str) -> None:
        _refused(any_app, lambda: owners.enter_owner(any_app, clerk, cid, name, "1 Main St, Los Angeles, CA 90012",
                                                     reason="letter"), RegisteredOwner)
        _refused(any_app, lambda: owners.enter_owner(any_app, clerk, cid, "GARCIA, MARIA", address,
                                                     reason="letter"), RegisteredOwner)
        _refused(any_app, lambda: notes.add_note(any_app, clerk, cid, note), CaseNote)
        _refused(any_app, lambda: holds.place_supervisor_hold(any_app, supervisor, cid, reason), Hold)
        _refused(any_app, lambda: users.add_user(any_app, actors[Role.ADMIN], "someone", name, "clerk",
                                                 "a-long-password-1"))

    check()


def test_money_forms_refuse_unstorable_text(any_app: AppContext) -> None:
    actors = seed_users(any_app)
    clerk = actors[Role.CLERK]
    cid = add_citation(any_app, fine_cents=6300)
    overpaid = add_citation(any_app, fine_cents=6300)
    posting.post_counter_payment(any_app, clerk, [overpaid], 7300, "cash")

    @CHECKED
    @given(payer=bad_text(widths.NAME), reference=bad_text(widths.REFERENCE), reason=bad_text(widths.REASON))
    def check(payer: str, reference: str, reason: str) -> None:
        _refused(any_app, lambda: posting.post_counter_payment(any_app, clerk, [cid], 6300, "cash", payer_name=payer),
                 Payment)
        _refused(any_app, lambda: posting.post_counter_payment(any_app, clerk, [cid], 6300, "card",
                                                               card_reference=reference, card_last4="4242"), Payment)
        _refused(any_app, lambda: refunds.request_refund(any_app, clerk, overpaid, reason=reason), Refund)

    check()


def test_appeals_and_permits_refuse_unstorable_text(any_app: AppContext) -> None:
    actors = seed_users(any_app)
    cid = add_citation(any_app)

    @CHECKED
    @given(name=bad_text(widths.NAME), statement=bad_text(widths.STATEMENT), holder=bad_text(200))
    def check(name: str, statement: str, holder: str) -> None:
        _refused(any_app, lambda: intake.file_appeal(any_app, actors[Role.CLERK],
                                                     request(any_app, cid, appellant_name=name)))
        _refused(any_app, lambda: intake.file_appeal(any_app, actors[Role.CLERK],
                                                     request(any_app, cid, statement=statement)))
        values = {"permit_number": "RPP-9", "type": "residential", "holder_name": holder, "plates": "7ABC123:CA",
                  "zones": "", "valid_from": "2026-01-01", "valid_to": "2026-12-31"}
        _refused(any_app, lambda: permits.save_permit(any_app, actors[Role.SUPERVISOR], values))

    check()


def test_imports_refuse_unstorable_text(any_app: AppContext, tmp_path: Path) -> None:
    actors = seed_users(any_app)
    add_citation(any_app, number="LIM-00001")

    @CHECKED
    @given(payer=bad_text(widths.REFERENCE), owner=bad_text(widths.NAME))
    def check(payer: str, owner: str) -> None:
        bank = tmp_path / "bank.bai2"
        # the bank's text for the item (its reference): ASCII without line breaks or the format's separators
        clean = payer.encode("ascii", "replace").decode("ascii")
        clean = clean.replace("\n", " ").replace("\r", " ").replace(",", ".").replace("/", ".")
        bank.write_bytes(build_bai2([Bai2Item("142", 6300, f"CIT LIM-00001 {clean}", "B1")], date(2026, 11, 24)))
        if "\x00" in clean or len(clean) + 14 > widths.REFERENCE:
            _refused(any_app, lambda: payment_imports.import_payment_file(any_app, actors[Role.CLERK], bank), Payment,
                     audited=True)
        registry = tmp_path / "owners.csv"
        cell = '"' + owner.replace('"', '""') + '"'
        # every column of the header, the owner's name the only bad one (a row shorter than its header is
        # refused for that before its values are read)
        fields = ["7ABC123", "CA", cell, '"1 Main St, Los Angeles, CA 90012"', "", "", "", "", "2020-01-01", ""]
        fields += [""] * (len(owners.COLUMNS) - len(fields))
        registry.write_text(f"{','.join(owners.COLUMNS)}\n{','.join(fields)}\n", encoding="utf-8")
        if owner.strip():
            _refused(any_app, lambda: owners.import_owners(any_app, actors[Role.SUPERVISOR], registry),
                     RegisteredOwner)

    check()


def test_the_orm_net_refuses_what_no_form_checked(any_app: AppContext) -> None:
    """Anything written through the ORM: a NUL or a value wider than its column is a UserError on both
    databases before the database sees it."""
    with any_app.db.write_session() as s:
        s.add(RegisteredOwner(plate="NUL1", jurisdiction="CA", name="A\x00B", name_key="A", valid_from=date(2020, 1, 1),
                              source="test", address_raw="x", imported_at=any_app.now()))
        with pytest.raises(UserError, match="The registered owner's name contains a NUL character"):
            s.flush()
        s.rollback()
        s.add(RegisteredOwner(plate="LONG1", jurisdiction="CA", name="N" * 5000, name_key="N",
                              valid_from=date(2020, 1, 1), source="test", address_raw="x", imported_at=any_app.now()))
        with pytest.raises(UserError, match="The registered owner's name is 5,000 characters long; at most 200"):
            s.flush()
        s.rollback()
