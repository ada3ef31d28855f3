"""A clerk's click writes each row once: the statements a hold and a counter payment send, on both databases.

Twenty workstations share one server and one audit chain: every statement a click sends is a round trip
and work for the server while the others wait (issue 19, item 3). These tests read the statements sent and
fail if a row goes back to being written twice (a case row per query in between, a payment inserted and
then updated for its seal and for its receipt number, a read-only transaction before the write)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

from sqlalchemy import event, select, text

from desktop.domain.roles import Role
from desktop.persistence.bulk import reserve_ids_of
from desktop.persistence.models import Citation, LedgerEntry, Payment
from desktop.services.admin import profiles
from desktop.services.cases import holds
from desktop.services.core import audit
from desktop.services.core.context import Actor, AppContext
from desktop.services.payments import posting
from tests.conftest import seed_users
from tests.helpers.factories import add_citation

T0 = datetime(2026, 10, 25, 16, 34, tzinfo=timezone.utc)


@contextmanager
def _statements(app: AppContext) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        seen.append(" ".join(statement.lower().split()))

    event.listen(app.db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(app.db.engine, "before_cursor_execute", note)


def _count(seen: list[str], test: Callable[[str], bool]) -> int:
    return sum(1 for st in seen if test(st))


def test_a_hold_writes_the_case_row_once_when_placed_and_once_when_released(any_app: AppContext) -> None:
    sup = seed_users(any_app)[Role.SUPERVISOR]
    cid = add_citation(any_app, issued_at=T0)
    with _statements(any_app) as placed:
        hid = holds.place_supervisor_hold(any_app, sup, cid, "Owner disputes the plate: checking photos.")
    assert _count(placed, lambda st: st.startswith("update citations")) == 1, placed
    # the stored profiles are read once for the click, not once per question asked of them
    assert _count(placed, lambda st: "from jurisdiction_profiles" in st) == 1, placed
    with any_app.db.reading() as s:
        case = s.get(Citation, cid)
        assert case is not None and case.on_hold and case.next_action == "hold:supervisor"
    with _statements(any_app) as released:
        holds.release_hold(any_app, sup, cid, hid, "Photos checked: the plate is right.")
    assert _count(released, lambda st: st.startswith("update citations")) == 1, released
    with any_app.db.reading() as s:
        case = s.get(Citation, cid)
        assert case is not None and not case.on_hold and not (case.next_action or "").startswith("hold:")
    assert audit.verify(any_app.db).ok


def test_a_counter_payment_is_one_transaction_writing_each_row_once_and_sealed(any_app: AppContext) -> None:
    clerk = seed_users(any_app)[Role.CLERK]
    first, second = add_citation(any_app, issued_at=T0), add_citation(any_app, issued_at=T0)
    with _statements(any_app) as seen:
        result = posting.post_counter_payment(any_app, clerk, [first, second], 6300 + 2000, "cash",
                                              request_id="click-1")
    assert _count(seen, lambda st: st.startswith("update payments")) == 0, seen  # sealed, numbered on insert
    assert _count(seen, lambda st: st.startswith("update ledger_entries")) == 0, seen
    assert _count(seen, lambda st: st.startswith("insert into ledger_entries")) == 1, seen  # both cases' entries
    assert _count(seen, lambda st: "from ledger_entries" in st and "sum(" in st) == 1, seen  # one balance read
    assert _count(seen, lambda st: "from users" in st) == 1, seen  # one unit of work (one permission check)
    with any_app.db.reading() as s:
        payment = s.get(Payment, result.payment_id)
        assert payment is not None and payment.receipt_number == result.receipt_number
        assert payment.receipt_number.endswith(f"-{payment.id:06d}")
        entries = list(s.scalars(select(LedgerEntry).where(LedgerEntry.payment_id == payment.id)))
        assert sorted(-e.amount_cents for e in entries) == [2000, 6300]
    assert audit.verify(any_app.db).ok  # the seals of the payment and its entries hold
    again = posting.post_counter_payment(any_app, clerk, [first, second], 8300, "cash", request_id="click-1")
    assert again.already_posted and again.payment_id == result.payment_id  # still idempotent


def test_ids_reserved_for_several_tables_at_once_are_new_and_distinct(any_app: AppContext) -> None:
    with any_app.uow(Actor.system("test")) as uow:
        got = reserve_ids_of(uow.session, {"payments": 1, "ledger_entries": 3, "notices": 0})
        top = {t: int(uow.session.scalar(text(f"SELECT COALESCE(MAX(id), 0) FROM {t}")) or 0)
               for t in ("payments", "ledger_entries")}
        uow.commit()
    assert len(got["payments"]) == 1 and len(set(got["ledger_entries"])) == 3 and got["notices"] == []
    assert min(got["payments"]) > top["payments"] and min(got["ledger_entries"]) > top["ledger_entries"]


def test_a_profile_version_saved_in_the_transaction_is_seen_by_the_next_read(any_app: AppContext) -> None:
    """The per-transaction reading of the stored profiles follows a version the same transaction saves."""
    profiles.seed(any_app)
    with any_app.uow(Actor.system("test")) as uow:
        before = profiles.all_versions(uow.session)
        ca = [v for v in before if v.code == "CA"][-1]
        from desktop.persistence.models import JurisdictionProfileVersion

        uow.session.add(JurisdictionProfileVersion(code="CA", version=ca.version + 1, effective_from=ca.effective_from,
                                                   definition=ca.definition, created_at=T0, created_by=None))
        uow.session.flush()
        after = profiles.all_versions(uow.session)
        assert len(after) == len(before) + 1
        uow.session.rollback()
    with any_app.db.reading() as s:
        assert len(profiles.all_versions(s)) == len(before)  # the next transaction reads them again
