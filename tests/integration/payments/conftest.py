"""Fixtures for the payments tests: signed-in clerks and supervisors, and cases to pay."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from desktop.domain.roles import Role
from desktop.persistence.models import LedgerEntry
from desktop.services.admin import users
from desktop.services.core.context import Actor, AppContext
from tests.conftest import seed_users
from tests.helpers.factories import add_citation

BANK_FILES = Path("/work/shared/data/bank_payment_files")


@pytest.fixture
def bank_files() -> Path:
    if not BANK_FILES.is_dir():
        pytest.skip("shared bank payment files are not available")
    return BANK_FILES


@pytest.fixture
def people(app: AppContext) -> dict[str, Actor]:
    """clerk, clerk2, supervisor, supervisor2, admin, mail."""
    return _people(app)


def _people(app: AppContext) -> dict[str, Actor]:
    actors = seed_users(app)
    admin = actors[Role.ADMIN]
    users.add_user(app, admin, "clerk2", "Second Clerk", "clerk", "clerk2-password-1")
    users.add_user(app, admin, "supervisor2", "Second Supervisor", "supervisor", "super2-password-1")
    return {"clerk": actors[Role.CLERK], "clerk2": users.actor_for(app, "clerk2"),
            "supervisor": actors[Role.SUPERVISOR], "supervisor2": users.actor_for(app, "supervisor2"),
            "admin": admin, "mail": actors[Role.MAIL_OFFICE], "hearing": actors[Role.HEARING_OFFICER]}


@pytest.fixture
def pg_people(pg_app: AppContext) -> dict[str, Actor]:
    return _people(pg_app)


CaseMaker = Callable[..., int]


@pytest.fixture
def make_case(app: AppContext) -> CaseMaker:
    return _maker(app)


def _maker(app: AppContext) -> CaseMaker:
    count = [0]

    def make(number: str | None = None, *, plate: str = "7ABC123", fine_cents: int = 6300, days_ago: int = 10,
             status: str = "open", **extra: Any) -> int:
        count[0] += 1
        issued = datetime(2026, 11, 24, 17, 0, tzinfo=UTC) - timedelta(days=days_ago, minutes=count[0])
        return add_citation(app, plate=plate, fine_cents=fine_cents, number=number, issued_at=issued, status=status,
                            **extra)

    return make


def ledger_balance(app: AppContext, citation_id: int) -> int:
    with app.db.reading() as s:
        return int(s.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0))
                            .where(LedgerEntry.citation_id == citation_id)) or 0)


def add_penalty(app: AppContext, citation_id: int, cents: int, key: str = "penalty:late") -> None:
    with app.db.write_session() as s:
        s.add(LedgerEntry(citation_id=citation_id, kind="penalty", amount_cents=cents,
                          at=datetime(2026, 11, 20, tzinfo=UTC), effective_date=datetime(2026, 11, 20).date(),
                          dedupe_key=key, memo="late fee"))
        s.commit()
