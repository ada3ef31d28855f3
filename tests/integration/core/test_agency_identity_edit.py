"""Administration › Settings › Agency identity as a service: every profile the office runs is offered with
what its documents print today; only fields that changed are written (the home profile keeps following its
flat settings for the rest); a refused form leaves every profile as it was; administrators only."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from desktop.domain.errors import PermissionDenied, UserError
from desktop.domain.roles import Role
from desktop.persistence.models import AuditEntry
from desktop.services.core import settings
from desktop.services.core.agency import identity, office_identities, update_identities
from tests.helpers.identities import IDENTITIES


def test_every_profile_of_the_office_is_offered_home_first(app, actors) -> None:  # type: ignore[no-untyped-def]
    admin = actors[Role.ADMIN]
    offered = office_identities(app, admin)
    codes = [p.code for p in offered]
    assert codes[0] == "CA" and "ENG" in codes
    eng = next(p for p in offered if p.code == "ENG")
    assert eng.law_names_tribunal is False and "name of the issuing authority" in " ".join(eng.missing)
    ca = offered[0]
    assert ca.values["name"] == identity_name(app) and ca.law_names_tribunal is True


def identity_name(app) -> str:  # type: ignore[no-untyped-def]
    with app.db.reading() as s:
        return str(identity(s, "CA")["name"])


def test_only_changed_fields_are_written_and_the_rest_follow_the_flat_settings(app, actors) -> None:  # type: ignore[no-untyped-def]
    admin = actors[Role.ADMIN]
    ca = office_identities(app, admin)[0]
    form = dict(ca.values, phone="(555) 010-0199")
    assert update_identities(app, admin, {"CA": form}) == {"CA": ["phone"]}
    with app.db.reading() as s:
        stored = settings.get(s, "agency.identity")
    assert stored["CA"] == {"phone": "(555) 010-0199"}  # the name was not copied out of its flat setting
    settings.set_value(app, admin, "agency.name", "City of Riverside Bay")
    assert identity_name(app) == "City of Riverside Bay"
    # saving the same form again changes nothing and audits nothing new
    before = _audits(app)
    assert update_identities(app, admin, {"CA": dict(form, name="City of Riverside Bay")}) == {}
    assert _audits(app) == before


def _audits(app) -> int:  # type: ignore[no-untyped-def]
    with app.db.reading() as s:
        return len(s.scalars(select(AuditEntry.id).where(AuditEntry.action == "agency.identity_changed")).all())


def test_a_refused_form_leaves_every_profile_as_it_was(app, actors) -> None:  # type: ignore[no-untyped-def]
    admin = actors[Role.ADMIN]
    ca = office_identities(app, admin)[0]
    bad_eng = dict(IDENTITIES["ENG"], pay_url="https://pay.example.gov.uk/")  # no {citation_number}
    with pytest.raises(UserError, match=r"^ENG: .*citation_number"):
        update_identities(app, admin, {"CA": dict(ca.values, phone="(555) 010-0100"), "ENG": bad_eng})
    with app.db.reading() as s:
        assert identity(s, "CA")["phone"] == ca.values["phone"]
        assert identity(s, "ENG")["name"] == ""


@pytest.mark.parametrize("role", [Role.CLERK, Role.SUPERVISOR])
def test_only_an_administrator_sees_or_changes_it(app, actors, role) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        office_identities(app, actors[role])
    with pytest.raises(PermissionDenied):
        update_identities(app, actors[role], {"CA": {"phone": "1"}})
