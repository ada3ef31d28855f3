"""Settings are read once per session: the first read loads every row (one statement), later reads of any
key, set or never set, ask the database nothing; a row the session adds (flushed or not) is read as stored."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from desktop.persistence.models import Setting
from desktop.services.core import settings
from desktop.services.core.context import AppContext


@contextmanager
def _statements(app: AppContext) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(app.db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(app.db.engine, "before_cursor_execute", note)


def test_a_session_reads_its_settings_in_one_statement(any_app: AppContext) -> None:
    with any_app.db.write_session() as s:
        s.add(Setting(key="review.zone_metres", value=42))
        s.commit()
    with any_app.db.reading() as s, _statements(any_app) as seen:
        assert settings.get(s, "review.zone_metres") == 42
        first = len(seen)
        for _ in range(5):
            assert settings.get(s, "review.zone_metres") == 42
            assert settings.get(s, "sync.max_pages") == settings.SETTINGS["sync.max_pages"].default  # never set
    assert len(seen) == first  # (the first read: the transaction's start, and one statement for the settings)
    assert sum("settings" in statement for statement in seen) == 1


def test_a_row_the_session_adds_is_read_back_flushed_or_not(any_app: AppContext) -> None:
    with any_app.db.write_session() as s:
        assert settings.get(s, "sync.max_pages") == settings.SETTINGS["sync.max_pages"].default
        s.add(Setting(key="sync.max_pages", value=7))
        assert settings.get(s, "sync.max_pages") == 7  # pending
        s.flush()
        assert settings.get(s, "sync.max_pages") == 7  # flushed (the object itself may be gone from the session)
        s.commit()
    with any_app.db.reading() as s:
        assert settings.get(s, "sync.max_pages") == 7


def test_the_next_transaction_of_a_session_reads_them_again(any_app: AppContext) -> None:
    """An administrator's change made meanwhile on another workstation is seen by the next transaction."""
    with any_app.db.reading() as s:
        assert settings.get(s, "review.zone_metres") == settings.SETTINGS["review.zone_metres"].default
        with any_app.db.write_session() as other:
            other.add(Setting(key="review.zone_metres", value=9))
            other.commit()
        s.commit()
        assert settings.get(s, "review.zone_metres") == 9


def test_a_count_setting_below_its_minimum_is_refused_and_nothing_is_written(app: AppContext) -> None:
    import pytest

    from desktop.domain.errors import UserError
    from desktop.domain.roles import Role
    from tests.conftest import seed_users

    admin = seed_users(app)[Role.ADMIN]
    for key in ("plates.daily_run_max_photos", "mail.run_max_pieces"):
        with pytest.raises(UserError, match=f"{key} must be 0 or more, not -1"):
            settings.set_value(app, admin, key, "-1")
        assert settings.read(app, key) == settings.SETTINGS[key].default
        settings.set_value(app, admin, key, 0)  # 0 (no limit) is taken
        assert settings.read(app, key) == 0


def test_the_office_currency_is_one_the_notices_can_print_and_is_stored_as_its_code(app: AppContext) -> None:
    """A currency no notice, receipt or screen can write (EUR) is refused with the ones that can, before anything
    is written: every payment screen would fail on it; " gbp" is taken as GBP."""
    import pytest

    from desktop.domain.errors import UserError
    from desktop.domain.roles import Role
    from tests.conftest import seed_users

    admin = seed_users(app)[Role.ADMIN]
    with pytest.raises(UserError, match=r"agency.currency is one of GBP, USD, not 'EUR'"):
        settings.set_value(app, admin, "agency.currency", "eur")
    assert settings.read(app, "agency.currency") == "USD"
    settings.set_value(app, admin, "agency.currency", " gbp")
    assert settings.read(app, "agency.currency") == "GBP"
    with app.db.reading() as s:
        assert settings.office_currency(s) == "GBP"
