"""Jurisdiction profiles stored as versions: seeded, validated, a new version only from today on, and
the ladder the escalation reads from each profile."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from desktop.domain.errors import PermissionDenied, UserError
from desktop.domain.ladder import describe_next_action, ladder
from desktop.domain.profiles import load_profile
from desktop.domain.roles import Role
from desktop.persistence.models import AuditEntry, JurisdictionProfileVersion
from desktop.services.admin import profiles as profile_store
from desktop.services.core.context import AppContext
from tests.conftest import seed_users


def test_shipped_profiles_are_stored_as_version_one(app: AppContext) -> None:
    with app.db.reading() as s:
        rows = s.scalars(select(JurisdictionProfileVersion).order_by(JurisdictionProfileVersion.code)).all()
        assert [(r.code, r.version) for r in rows] == [("CA", 1), ("ENG", 1), ("NYC", 1)]
        assert profile_store.in_force(s, "ENG", date(2024, 1, 1)).profile.discount is not None
    assert profile_store.seed(app) == 0  # nothing missing


def test_a_new_version_is_validated_and_takes_effect_from_a_date(app: AppContext, clock) -> None:  # type: ignore[no-untyped-def]
    actors = seed_users(app)
    admin = actors[Role.ADMIN]
    clock.now = datetime(2026, 11, 24, 18, tzinfo=timezone.utc)
    with app.db.reading() as s:
        ca = profile_store.in_force(s, "CA", date(2026, 11, 24)).definition
    text = json.dumps(ca)
    with pytest.raises(UserError, match="Not valid JSON"):
        profile_store.save_new_version(app, admin, "CA", text[:-1], date(2026, 12, 1), "typo")
    with pytest.raises(UserError, match="must stay 'CA'"):
        profile_store.save_new_version(app, admin, "CA", dict(ca, code="XX"), date(2026, 12, 1), "rename")
    with pytest.raises(UserError, match="in the past"):
        profile_store.save_new_version(app, admin, "CA", ca, date(2026, 11, 1), "backdated")
    with pytest.raises(UserError, match="Nothing changed"):
        profile_store.save_new_version(app, admin, "CA", ca, date(2026, 12, 1), "same")
    broken = json.loads(text)
    broken["stages"][1]["trigger"]["days"] = -3
    with pytest.raises(UserError, match="must not be negative"):
        profile_store.save_new_version(app, admin, "CA", broken, date(2026, 12, 1), "negative")
    first_notice = json.loads(text)
    first_notice["stages"][0]["notice_kind"] = "courtesy_notice"
    with pytest.raises(UserError, match="cannot send a notice"):
        profile_store.save_new_version(app, admin, "CA", first_notice, date(2026, 12, 1), "courtesy")
    with pytest.raises(PermissionDenied):
        profile_store.save_new_version(app, actors[Role.SUPERVISOR], "CA", ca, date(2026, 12, 1), "x")
    changed = json.loads(text)
    changed["stages"][1]["penalty"] = {"percent_of_fine": 50}
    stored = profile_store.save_new_version(app, admin, "CA", changed, date(2026, 12, 1), "council resolution")
    assert (stored.version, stored.effective_from) == (2, date(2026, 12, 1))
    with app.db.reading() as s:
        assert profile_store.in_force(s, "CA", date(2026, 11, 30)).version == 1
        assert profile_store.in_force(s, "CA", date(2026, 12, 1)).version == 2
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "profile.version_saved")).one()
        assert "stages[1].penalty.percent_of_fine: 100 -> 50" in entry.before["changes"]
        assert entry.reason == "council resolution"
    with pytest.raises(UserError, match="after it"):
        profile_store.save_new_version(app, admin, "CA", changed, date(2026, 11, 30), "earlier")


def test_the_form_numbers_round_trip() -> None:
    definition = json.loads(json.dumps(profile_store.shipped_definitions()["NYC"]))
    rows = profile_store.form_values(definition)
    assert [r["trigger.days"] for r in rows] == [0, 30, 60, 90, 100]
    rows[1]["penalty.fixed_cents"] = 1500
    updated = profile_store.apply_form_values(definition, rows)
    assert updated["stages"][1]["penalty"] == {"fixed_cents": 1500}
    assert profile_store.profile_changes(definition, updated) == ["stages[1].penalty.fixed_cents: 1000 -> 1500"]


def test_ladders_of_the_three_profiles() -> None:
    ca, nyc, eng = (ladder(load_profile(c)) for c in ("CA", "NYC", "ENG"))
    assert [r.key for r in ca] == ["citation", "delinquent_notice", "final_notice", "collections"]
    assert ca[3].moves_to_collections and ca[3].next_code == "review" and ca[3].days == 180
    assert [r.key for r in nyc][-1] == "final:collections_referral" and nyc[-1].moves_to_collections
    assert nyc[4].entry_action.value == "judgment" and nyc[4].is_legal_step
    assert [r.key for r in eng] == ["pcn", "notice_to_owner", "charge_certificate", "order_for_recovery",
                                    "final:collections_referral"]
    assert eng[2].penalty.percent_of_fine == 50 and eng[2].entry_action.value == "charge_certificate"
    assert eng[1].anchor.value == "mailing" and eng[1].next_code == "charge_certificate"
    assert describe_next_action("mail:notice_to_owner") == "Mail the notice to owner"
    assert describe_next_action("next_stage:final_notice", load_profile("CA")) == "If unpaid: final notice"
    assert "deemed accepted" in describe_next_action("decide:representations", load_profile("ENG"))
    assert describe_next_action(None) == "—"
