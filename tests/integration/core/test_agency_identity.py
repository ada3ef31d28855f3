"""The agency identity per jurisdiction profile: the home profile falls back to the flat agency settings, any
other profile has only its own entry (never the home authority's name), saving is for administrators,
validated as a whole and audited."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from desktop.domain.errors import PermissionDenied, UserError
from desktop.domain.roles import Role
from desktop.persistence.models import AuditEntry, Notice, Setting
from desktop.services.core import settings
from desktop.services.core.agency import agency_info, identity, missing_identity_fields, save_identity
from desktop.services.notices import runs as nr
from tests.helpers.identities import IDENTITIES
from tests.helpers.notice_cases import queue_case

EXETER_LIKE = IDENTITIES["ENG"]


def test_the_home_profile_falls_back_to_the_flat_settings_and_others_do_not(app, actors) -> None:  # type: ignore[no-untyped-def]
    settings.set_value(app, actors[Role.ADMIN], "agency.name", "City of Riverside Bay")
    with app.db.reading() as s:
        ca = agency_info(s, "CA")
        eng = identity(s, "ENG")
        assert missing_identity_fields(s, "CA") == []
        assert missing_identity_fields(s, "ENG") == ["name", "address", "phone", "web_url", "pay_url", "tribunal"]
    assert ca.name == "City of Riverside Bay" and ca.currency == "USD" and ca.spelling == "US"
    assert ca.tribunal_name == "Superior Court of California"  # the law names the court for every CA agency
    assert ca.spell("Check") == "Check"
    # nothing of the home authority leaks into England's identity; what England's law fixes is there
    assert eng["name"] == "" and eng["address"] == [] and eng["pay_url"] == ""
    assert eng["currency"] == "GBP" and eng["spelling"] == "GB" and eng["tribunal"]["name"] == ""


def test_an_administrator_saves_a_profiles_identity_and_it_is_audited(app, actors) -> None:  # type: ignore[no-untyped-def]
    admin = actors[Role.ADMIN]
    with app.uow(admin) as uow:
        save_identity(uow.session, admin, "eng", EXETER_LIKE, now=app.now())
        uow.commit()
    with app.db.reading() as s:
        eng = agency_info(s, "ENG")
        assert missing_identity_fields(s, "ENG") == []
        ca = agency_info(s, "CA")
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "agency.identity_changed")).one()
    assert eng.name == "Exmoor Vale City Council" and eng.return_address_lines == ("PO Box 417", "Exmoor Vale",
                                                                                   "EX9 1PS")
    assert eng.pay_url("PCN123") == "https://www.exmoorvale.gov.uk/pay/PCN123"
    assert eng.currency == "GBP" and eng.spell("Check") == "Cheque" and eng.spell("check") == "cheque"
    assert eng.tribunal_name == "Traffic Penalty Tribunal" and eng.tribunal_address_lines[-1] == "SK9 5BG"
    assert ca.name == "City of Los Angeles"  # the home profile is untouched
    assert entry.entity_id == "agency.identity.ENG" and entry.after["name"] == "Exmoor Vale City Council"
    # one field changed later keeps the rest; clearing a required one is refused with its name
    with app.uow(admin) as uow:
        save_identity(uow.session, admin, "ENG", {"phone": "01392 111 222"})
        uow.commit()
    with app.uow(admin) as uow, pytest.raises(UserError, match="missing: public telephone number"):
        save_identity(uow.session, admin, "ENG", {"phone": ""})
    with app.db.reading() as s:
        assert identity(s, "ENG")["phone"] == "01392 111 222"
        assert identity(s, "ENG")["name"] == "Exmoor Vale City Council"


def test_only_administrators_save_an_identity(app, actors) -> None:  # type: ignore[no-untyped-def]
    for role in (Role.SUPERVISOR, Role.MAIL_OFFICE, Role.CLERK):
        with app.uow(actors[role]) as uow, pytest.raises(PermissionDenied):
            save_identity(uow.session, actors[role], "ENG", EXETER_LIKE)
    with app.db.reading() as s:
        assert identity(s, "ENG")["name"] == ""


@pytest.mark.parametrize(("change", "message"), [
    ({"logo_path": "__text__"}, "is not a readable image"),
    ({"logo_path": "/nonexistent/logo.png"}, "is not a file that can be read"),
    ({"pay_url": "https://pay.example/{pcn}"}, "must contain {citation_number}"),
    ({"pay_url": "https://pay.example/"}, "must contain {citation_number}"),
    ({"currency": "XYZ"}, "currency XYZ is not one"),
    ({"spelling": "FR"}, "spelling is US"),
    ({"colour": "red"}, "has no field colour"),
    ({"name": ""}, "missing: name of the issuing authority"),
])
def test_bad_identity_values_are_refused_with_the_field_named(app, actors, tmp_path: Path, change,  # type: ignore[no-untyped-def]
                                                              message) -> None:
    admin = actors[Role.ADMIN]
    text = tmp_path / "logo.png"
    text.write_text("not an image")
    values = dict(EXETER_LIKE, **change)
    if values.get("logo_path") == "__text__":
        values["logo_path"] = str(text)
    with app.uow(admin) as uow, pytest.raises(UserError, match=message.replace("{", r"\{").replace("}", r"\}")):
        save_identity(uow.session, admin, "ENG", values)
    with app.db.reading() as s:
        assert identity(s, "ENG")["name"] == ""  # nothing half-written


def test_a_readable_logo_is_accepted(app, actors, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    logo = tmp_path / "crest.png"
    Image.new("RGB", (40, 40), "navy").save(logo)
    admin = actors[Role.ADMIN]
    with app.uow(admin) as uow:
        save_identity(uow.session, admin, "ENG", dict(EXETER_LIKE, logo_path=str(logo)))
        uow.commit()
    with app.db.reading() as s:
        assert agency_info(s, "ENG").logo_path == str(logo)


def test_a_notice_run_refuses_a_profile_without_its_identity(app, actors, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    queue_case(app)  # California: the home profile's flat settings are its identity
    queue_case(app, profile="ENG", kind="notice_to_owner", stage="notice_to_owner", penalty_cents=0,
               owner_kwargs={"address_line1": "14 Orchard Rise", "city": "Ashford", "state": "", "zip": "TN23 7QT"})
    with app.db.write_session() as s:  # an office that added England without setting up its council
        s.delete(s.get_one(Setting, "agency.identity"))
        s.commit()
    with pytest.raises(UserError, match=r"identity for ENG .* missing: name of the issuing authority, return "
                                        r"address, public telephone number, web address, online payment link"):
        nr.run_notices(app, actors[Role.MAIL_OFFICE], tmp_path)
    with app.db.reading() as s:  # nothing printed, nothing held: both wait for the identity
        assert set(s.scalars(select(Notice.status))) == {"queued"}
    assert not list(tmp_path.glob("*.pdf"))
