"""The audit trail is a hash chain: any edit, deletion or insertion is found and named."""

from sqlalchemy import text

from desktop.services.core import audit
from desktop.services.core.context import Actor, AppContext


def _write(app: AppContext, n: int) -> None:
    actor = Actor.system("test")
    for i in range(n):
        with app.uow(actor) as uow:
            uow.audit("thing.changed", "thing", i, before={"v": i}, after={"v": i + 1}, reason=f"step {i}")
            uow.commit()


def _verify_after(app: AppContext, sql: str) -> audit.VerifyResult:
    """Five entries written, then ``sql`` run on the log behind the application's back: what verify says."""
    _write(app, 5)
    with app.db.engine.begin() as c:
        c.execute(text(sql))
    return audit.verify(app.db)


def test_intact_chain_verifies(any_app: AppContext) -> None:
    _write(any_app, 5)
    result = audit.verify(any_app.db)
    assert result.ok and result.checked == 5


def test_edited_entry_is_named(any_app: AppContext) -> None:
    result = _verify_after(any_app, "UPDATE audit_log SET reason = 'nothing to see' WHERE id = 3")
    assert not result.ok and result.first_bad_id == 3
    assert "changed" in result.message()


def test_deleted_entry_is_found(app: AppContext) -> None:
    result = _verify_after(app, "DELETE FROM audit_log WHERE id = 2")
    assert not result.ok and result.first_bad_id == 2


def test_truncated_tail_is_found(app: AppContext) -> None:
    result = _verify_after(app, "DELETE FROM audit_log WHERE id = 5")
    assert not result.ok and "removed" in (result.problem or "")


def test_rolled_back_work_leaves_no_audit(app: AppContext) -> None:
    with app.uow(Actor.system("test")) as uow:
        uow.audit("thing.changed", "thing", 1)
        # no commit: the block rolls back
    assert audit.verify(app.db).checked == 0


def test_concurrent_writers_keep_one_chain(pg_app: AppContext) -> None:
    """Several workstations appending at once on PostgreSQL never fork the chain."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda k: _write(pg_app, 5), range(6)))
    result = audit.verify(pg_app.db)
    assert result.ok and result.checked == 30


def test_a_clicks_entries_at_their_own_moments_take_the_head_once(any_app: AppContext, clock) -> None:  # type: ignore[no-untyped-def]
    """A click's entries keep the moment of each, and all of them are chained under one lock of the head:
    one read and one move of the head per commit, not one per entry (every writer of the office waits on it)."""
    from datetime import timedelta

    from sqlalchemy import event

    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        seen.append(" ".join(statement.lower().split()))

    start = clock.now
    with any_app.uow(Actor.system("test")) as uow:
        for i in range(3):
            clock.now = start + timedelta(seconds=i)
            uow.audit("thing.changed", "thing", i, after={"v": i})
        event.listen(any_app.db.engine, "before_cursor_execute", note)
        try:
            uow.commit()
        finally:
            event.remove(any_app.db.engine, "before_cursor_execute", note)
    head_reads = [st for st in seen if st.startswith("select") and "from audit_head" in st]
    head_moves = [st for st in seen if st.startswith("update audit_head")]
    assert (len(head_reads), len(head_moves)) == (1, 1), seen
    with any_app.db.engine.connect() as c:
        moments = list(c.execute(text("SELECT at FROM audit_log ORDER BY id")).scalars())
    assert len(moments) == 3 and len(set(moments)) == 3  # each entry kept its own moment
    result = audit.verify(any_app.db)
    assert result.ok and result.checked == 3, result.message()
