"""Administration › Activity and the rotating log: sign-ins, failed sign-ins and lockouts, sign-outs, payments,
approvals, syncs, notice runs and the daily run, each with user and outcome; filterable by user, kind, date
range and outcome; paged; administrators only; one log line per committed entry (none for a rolled-back one)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from desktop.domain.errors import PermissionDenied, UserError
from desktop.domain.roles import Role
from desktop.services.admin import users
from desktop.services.admin.activity import ActivityFilter, list_activity
from desktop.services.core import activity as vocabulary
from desktop.services.core.context import Actor
from tests.conftest import PASSWORDS


def office_day(app, actors, clock) -> None:  # type: ignore[no-untyped-def]
    """A morning at the office, through the services: sign-ins, a clerk locked out, work, a sign-out."""
    users.login(app, "clerk", PASSWORDS[Role.CLERK])
    for _ in range(users.LOCKOUT_AFTER):
        with pytest.raises(UserError):
            users.login(app, "mail_office", "wrong password")
    clock.now += timedelta(hours=1)
    with app.uow(actors[Role.CLERK]) as uow:  # what the payment and review services write
        uow.audit("payment.counter", "payment", 17, after={"amount_cents": 6300, "method": "cash"})
        uow.audit("citation.approved", "citation", 4, after={"status": "open"})
        uow.commit()
    with app.uow(actors[Role.SUPERVISOR]) as uow:
        uow.audit("sync.finished", "sync_endpoint", 1, reason="failed: the endpoint answered 503")
        uow.audit("notice_batch.rendered", "notice_batch", 3, after={"pieces": 120})
        uow.commit()
    with app.uow(Actor.system("daily-run by supervisor")) as uow:  # what a daily run that changed cases writes
        uow.audit("escalation.run", "escalation", "2026-11-24", after={"penalties": 12, "notices_queued": 30})
        uow.commit()
    users.sign_out(app, actors[Role.CLERK], "File › Sign out")


def test_the_administrators_activity_newest_first_with_kind_user_and_outcome(app, actors, clock) -> None:
    office_day(app, actors, clock)
    page = list_activity(app, actors[Role.ADMIN])
    kinds = [(r.kind, r.action, r.username, r.outcome) for r in page.rows]
    assert kinds[0] == ("sign-out", "user.signed_out", "clerk", "ok")
    assert ("escalation", "escalation.run", "system:daily-run by supervisor", "ok") in kinds
    assert ("sync", "sync.finished", "supervisor", "failed") in kinds
    assert ("notice run", "notice_batch.rendered", "supervisor", "ok") in kinds
    assert ("payment", "payment.counter", "clerk", "ok") in kinds
    assert ("approval", "citation.approved", "clerk", "ok") in kinds
    assert ("lockout", "user.locked", "system:login", "locked") in kinds
    assert ("sign-in", "user.signed_in", "clerk", "ok") in kinds
    assert [r.id for r in page.rows] == sorted((r.id for r in page.rows), reverse=True)
    assert "user.created" not in {r.action for r in page.rows}  # not an administrator's day-to-day activity
    sync = next(r for r in page.rows if r.action == "sync.finished")
    assert "503" in sync.summary


def test_filters_by_user_kind_outcome_and_dates_and_pages(app, actors, clock) -> None:
    start = clock.now
    office_day(app, actors, clock)
    admin = actors[Role.ADMIN]
    clerk_rows = list_activity(app, admin, ActivityFilter(username="clerk")).rows
    assert clerk_rows and {r.username for r in clerk_rows} == {"clerk"}
    assert {r.kind for r in list_activity(app, admin, ActivityFilter(kind="sign-in")).rows} == {"sign-in"}
    failed = list_activity(app, admin, ActivityFilter(outcome="failed")).rows
    # the sync that failed, and the wrong passwords (each failed sign-in is audited)
    assert sorted({r.action for r in failed}) == ["sync.finished", "user.sign_in_failed"]
    assert sum(r.action == "user.sign_in_failed" for r in failed) == users.LOCKOUT_AFTER
    assert [r.action for r in list_activity(app, admin, ActivityFilter(outcome="locked")).rows] == ["user.locked"]
    ok = list_activity(app, admin, ActivityFilter(outcome="ok")).rows
    assert "sync.finished" not in {r.action for r in ok} and "user.locked" not in {r.action for r in ok}
    first_hour = list_activity(app, admin, ActivityFilter(since=start, until=start + timedelta(minutes=30))).rows
    assert {r.kind for r in first_hour} <= {"sign-in", "lockout"} and first_hour
    later = list_activity(app, admin, ActivityFilter(since=start + timedelta(minutes=30))).rows
    assert not {r.id for r in later} & {r.id for r in first_hour}
    everything = list_activity(app, admin)
    pages = [list_activity(app, admin, page=i, page_size=3) for i in range(list_activity(app, admin, page_size=3).pages)]
    paged = [r.id for p in pages for r in p.rows]
    assert paged == [r.id for r in everything.rows]
    assert pages[0].caption().startswith(f"1–3 of {everything.total} entries (page 1 of ")


def test_only_administrators_see_the_activity_and_bad_filters_are_one_sentence(app, actors) -> None:
    for role in (Role.CLERK, Role.SUPERVISOR, Role.MAIL_OFFICE, Role.HEARING_OFFICER):
        with pytest.raises(PermissionDenied, match="may not view the activity log"):
            list_activity(app, actors[role])
    with pytest.raises(UserError, match="no kind of activity called parking"):
        list_activity(app, actors[Role.ADMIN], ActivityFilter(kind="parking"))
    with pytest.raises(UserError, match="ends before it begins"):
        now = app.now()
        list_activity(app, actors[Role.ADMIN], ActivityFilter(since=now, until=now - timedelta(days=1)))


def test_each_committed_entry_is_one_line_in_the_rotating_log(app, actors, clock, caplog) -> None:
    caplog.set_level(logging.INFO, logger="curbdesk.activity")
    users.login(app, "clerk", PASSWORDS[Role.CLERK])
    with app.uow(actors[Role.CLERK]) as uow:  # rolled back: never happened, never logged
        uow.audit("payment.counter", "payment", 99, after={"amount_cents": 100})
    with app.uow(actors[Role.CLERK]) as uow:
        uow.audit("payment.counter", "payment", 18, after={"amount_cents": 4500, "method": "check"})
        uow.audit("note.added", "citation", 4)  # not activity
        uow.commit()
    users.sign_out(app, actors[Role.CLERK])
    lines = [r.getMessage() for r in caplog.records if r.name == "curbdesk.activity"]
    assert lines == [
        "sign-in ok user=clerk action=user.signed_in user 2",
        "payment ok user=clerk action=payment.counter payment 18 (amount_cents=4500, method=check)",
        "sign-out ok user=clerk action=user.signed_out user 2: signed out",
    ]


def test_a_bulk_append_is_summarised_in_the_log(app, actors, caplog) -> None:
    from desktop.services.core import audit

    caplog.set_level(logging.INFO, logger="curbdesk.activity")
    records = [audit.AuditRecord("citation.approved", "citation", i) for i in range(500)]
    with app.uow(actors[Role.SUPERVISOR]) as uow:
        audit.append_many(uow.session, records, at=app.now(), user_id=actors[Role.SUPERVISOR].user_id,
                          username="supervisor")
        uow.commit()
    lines = [r.getMessage() for r in caplog.records if r.name == "curbdesk.activity"]
    assert lines == ["approval ok user=supervisor action=citation.approved ×500 (one bulk append)"]


def test_the_kinds_cover_what_the_issue_names() -> None:
    assert set(vocabulary.KINDS) >= {"sign-in", "sign-out", "lockout", "payment", "approval", "sync", "notice run",
                                     "escalation"}
    assert vocabulary.SIGNED_OUT in vocabulary.KINDS["sign-out"]
    assert Actor.system("x").is_system
