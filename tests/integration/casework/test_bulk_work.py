"""Bulk work (issue 16, point 5): void, hold, release, assign and approve many cases, in batches with
Cancel between them, each case by its single action's rules and audited, supervisors only."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from desktop.domain.errors import PermissionDenied, UserError
from desktop.domain.roles import Role
from desktop.persistence.models import AuditEntry, Citation, Hold
from desktop.services.bulk import BulkAction, BulkRequest, ids_for_filter, ids_for_numbers, run_bulk
from desktop.services.cases.queries import CaseFilter
from desktop.services.core.context import Actor, AppContext
from desktop.services.review.queue import review_queue
from tests.conftest import PASSWORDS, seed_users
from tests.helpers.factories import add_citation
from tests.helpers.signed_in import signed_in


def _statuses(app: AppContext, ids: list[int]) -> list[str]:
    with app.db.read_session() as s:
        by_id = dict(s.execute(select(Citation.id, Citation.status).where(Citation.id.in_(ids))).all())
    return [by_id[i] for i in ids]


def _audit(app: AppContext, action: str) -> list[AuditEntry]:
    with app.db.read_session() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def test_bulk_void_refuses_a_paid_case_with_the_reason_and_voids_the_rest(any_app: AppContext) -> None:
    """On SQLite and on the real PostgreSQL server (each refusal rolls back to its savepoint)."""
    app, actors = any_app, seed_users(any_app)
    ids = [add_citation(app, status="pending_review", number=f"V-{i}") for i in range(5)]
    paid = add_citation(app, status="paid", number="PAID-9")
    outcome = run_bulk(app, actors[Role.SUPERVISOR], BulkRequest(BulkAction.VOID, "signs missing", "OTHER"),
                       [*ids[:2], paid, *ids[2:]])
    assert outcome.done == ["V-0", "V-1", "V-2", "V-3", "V-4"]
    assert outcome.refused == [("PAID-9", "it is paid: only a citation waiting for review can be voided")]
    assert _statuses(app, ids) == ["voided"] * 5 and _statuses(app, [paid]) == ["paid"]
    # audited per case, with the reason, and once for the batch
    voided = _audit(app, "citation.voided")
    assert sorted(e.entity_id for e in voided) == sorted(str(i) for i in ids)
    assert all("signs missing" in (e.reason or "") for e in voided)
    batch = _audit(app, "bulk.void")
    assert len(batch) == 1 and batch[0].after["refused"] == [
        "PAID-9: it is paid: only a citation waiting for review can be voided"]


def test_batches_commit_one_by_one_and_cancel_stops_between_them(app: AppContext,
                                                                 actors: dict[Role, Actor]) -> None:
    ids = [add_citation(app, number=f"H-{i}") for i in range(7)]
    batches_seen: list[int] = []

    def progress(done: int, total: int) -> None:
        batches_seen.append(done)

    outcome = run_bulk(app, actors[Role.SUPERVISOR], BulkRequest(BulkAction.HOLD, "audit of the meter zone"), ids,
                       batch_size=3, progress=progress, cancel=lambda: len(batches_seen) >= 2)
    assert outcome.cancelled and outcome.batches == 2 and batches_seen == [3, 6]
    assert len(outcome.done) == 6 and outcome.untouched == 1
    with app.db.read_session() as s:
        held = set(s.scalars(select(Hold.citation_id).where(Hold.kind == "supervisor", Hold.ended_at.is_(None))))
    assert held == set(ids[:6])  # the finished batches stay, the last case was not touched
    assert "cancelled: 1 not touched" in outcome.summary()
    # released again in bulk; the one never held is refused with why
    released = run_bulk(app, actors[Role.SUPERVISOR], BulkRequest(BulkAction.RELEASE, "audit done"), ids)
    assert len(released.done) == 6 and released.refused == [("H-6", "has no supervisor hold to release")]


def test_assign_to_a_clerks_review_queue(app: AppContext, actors: dict[Role, Actor]) -> None:
    ids = [add_citation(app, status="pending_review", number=f"R-{i}") for i in range(3)]
    outcome = run_bulk(app, actors[Role.SUPERVISOR], BulkRequest(BulkAction.ASSIGN, assignee="clerk"), ids[:2])
    assert outcome.done == ["R-0", "R-1"]
    clerk = actors[Role.CLERK]
    mine = review_queue(app, clerk, assignee_id=clerk.user_id)
    assert [e.citation_number for e in mine.entries] == ["R-0", "R-1"]
    assert review_queue(app, clerk).total == 3
    back = run_bulk(app, actors[Role.SUPERVISOR], BulkRequest(BulkAction.ASSIGN, assignee="-"), ids[:1])
    assert back.done == ["R-0"]
    assert [e.citation_number for e in review_queue(app, clerk, assignee_id=clerk.user_id).entries] == ["R-1"]
    assert BulkRequest(BulkAction.ASSIGN, assignee="-").describe(2) == "Move 2 citations back to everyone's review queue?"
    assert BulkRequest(BulkAction.ASSIGN, assignee="clerk").describe(1) == "Move 1 citation to clerk's review queue?"
    with pytest.raises(UserError, match="does not review citations"):
        run_bulk(app, actors[Role.SUPERVISOR], BulkRequest(BulkAction.ASSIGN, assignee="mail_office"), ids)


def test_only_supervisors_and_administrators(app: AppContext, actors: dict[Role, Actor]) -> None:
    ids = [add_citation(app, number="C-1")]
    for role in (Role.CLERK, Role.HEARING_OFFICER, Role.MAIL_OFFICE):
        with pytest.raises(PermissionDenied):
            run_bulk(app, actors[role], BulkRequest(BulkAction.HOLD, "x"), ids)
    assert _audit(app, "hold.placed") == []
    assert run_bulk(app, actors[Role.ADMIN], BulkRequest(BulkAction.HOLD, "x"), ids).done == ["C-1"]


def test_bad_requests_are_one_sentence_before_anything_changes(app: AppContext, actors: dict[Role, Actor]) -> None:
    ids = [add_citation(app, status="pending_review", number="B-1")]
    sup = actors[Role.SUPERVISOR]
    with pytest.raises(UserError, match="is not a void reason"):
        run_bulk(app, sup, BulkRequest(BulkAction.VOID, "", "NOPE"), ids)
    with pytest.raises(UserError, match="Say why"):
        run_bulk(app, sup, BulkRequest(BulkAction.HOLD, "  "), ids)
    with pytest.raises(UserError, match="No case is selected"):
        run_bulk(app, sup, BulkRequest(BulkAction.HOLD, "x"), [])
    with pytest.raises(UserError, match="There is no citation NOPE-1"):
        ids_for_numbers(app, sup, ["B-1", "NOPE-1"])
    assert _statuses(app, ids) == ["pending_review"]


def test_select_by_filter_is_what_the_case_list_shows(app: AppContext, actors: dict[Role, Actor]) -> None:
    open_ids = [add_citation(app, number=f"O-{i}") for i in range(3)]
    add_citation(app, status="paid", number="P-1")
    assert sorted(ids_for_filter(app, actors[Role.SUPERVISOR], CaseFilter(statuses=("open",)))) == sorted(open_ids)


def test_bulk_approve_opens_clean_citations_and_lists_the_rest(app: AppContext, actors: dict[Role, Actor]) -> None:
    ids = [add_citation(app, status="pending_review", number=f"A-{i}") for i in range(2)]
    open_case = add_citation(app, number="A-OPEN")
    outcome = run_bulk(app, actors[Role.SUPERVISOR], BulkRequest(BulkAction.APPROVE), [*ids, open_case])
    assert ("A-OPEN", "it is open") in outcome.refused
    assert len(outcome.done) + len(outcome.refused) == 3
    assert BulkRequest(BulkAction.VOID, "dup", "DUPLICATE").describe(5) == "Void 5 citations (DUPLICATE: dup)?"


def test_bulk_command_confirms_with_the_count_and_lists_refusals(
        app: AppContext, actors: dict[Role, Actor], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    ids = [add_citation(app, status="pending_review", number=f"K-{i}") for i in range(2)]
    add_citation(app, status="paid", number="K-PAID")
    main = signed_in(monkeypatch, {r.value: p for r, p in PASSWORDS.items()})
    base = ["--db", app.db.engine.url.render_as_string(hide_password=False), "--data-dir", str(app.paths.data_dir),
            "--as", "supervisor", "bulk", "void", "--citation", "K-0", "--citation", "K-1", "--citation", "K-PAID",
            "--code", "DUPLICATE"]
    assert main(base) == 2  # no terminal to ask on: nothing changed, the question named the count
    assert "Void 3 citations (DUPLICATE)? Add --yes" in capsys.readouterr().err
    assert _statuses(app, ids) == ["pending_review"] * 2
    assert main([*base, "--yes"]) == 3
    out = capsys.readouterr().out
    assert "2 of 3 done (void); 1 refused." in out and "refused K-PAID: it is paid" in out
    assert _statuses(app, ids) == ["voided"] * 2
