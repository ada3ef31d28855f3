"""The one agency block: appeal letters carry the whole agency as the notices do (signature, web, e-mail,
office hours, wording overrides), and wording may be overridden for one jurisdiction profile."""

from __future__ import annotations

from datetime import date

from desktop.domain.roles import Role
from desktop.services.appeals.packet import letter_data, render_letter
from desktop.services.core import settings
from desktop.services.core.agency import agency_info, save_identity
from tests.integration.appeals.test_letters_and_packet import filed, flat, text_of
from tests.integration.core.test_agency_identity import EXETER_LIKE

AGENCY = {
    "agency.signature_name": "Dana Whitfield",
    "agency.signature_title": "Chief Hearing Administrator",
    "agency.web_url": "parking.riverside-bay.gov",
    "agency.email": "appeals@riverside-bay.gov",
    "agency.office_hours": "Mon-Thu 7:00 a.m. to 6:00 p.m.",
    "agency.contest_address": ["Appeals Unit", "PO Box 77", "Los Angeles, CA 90030"],
    "agency.wording": {"footer": "Issued by Riverside Bay.", "ENG": {"footer": "Issued under the TMA 2004."}},
}


def _configure(app, admin) -> None:  # type: ignore[no-untyped-def]
    for key, value in AGENCY.items():
        settings.set_value(app, admin, key, value)


def test_appeal_letters_carry_the_whole_agency_block(app, actors) -> None:  # type: ignore[no-untyped-def]
    _configure(app, actors[Role.ADMIN])
    _cid, aid = filed(app, actors)
    with app.db.reading() as s:
        agency = letter_data(s, aid, "appeal_acknowledgement", date(2026, 11, 24)).agency
        assert agency == agency_info(s, "CA")  # the same block the notices of a California case carry
    assert agency.signature_name == "Dana Whitfield"
    assert agency.signature_title == "Chief Hearing Administrator"
    assert agency.web_url == "parking.riverside-bay.gov"
    assert agency.email == "appeals@riverside-bay.gov"
    assert agency.office_hours == "Mon-Thu 7:00 a.m. to 6:00 p.m."
    assert agency.contest_lines == ("Appeals Unit", "PO Box 77", "Los Angeles, CA 90030")
    assert dict(agency.wording_overrides) == {"footer": "Issued by Riverside Bay."}
    text = flat(text_of(render_letter(app, actors[Role.CLERK], aid, "appeal_acknowledgement")))
    assert "Dana Whitfield" in text and "Chief Hearing Administrator" in text
    assert "Mon-Thu 7:00 a.m. to 6:00 p.m." in text and "parking.riverside-bay.gov" in text


def test_an_english_case_gets_its_profiles_wording(app, actors) -> None:  # type: ignore[no-untyped-def]
    _configure(app, actors[Role.ADMIN])
    _cid, aid = filed(app, actors, profile="ENG")
    with app.db.reading() as s:
        agency = letter_data(s, aid, "appeal_acknowledgement", date(2026, 11, 24)).agency
        assert dict(agency.wording_overrides) == {"footer": "Issued under the TMA 2004."}
        assert dict(agency_info(s, "eng").wording_overrides) == {"footer": "Issued under the TMA 2004."}
        assert dict(agency_info(s).wording_overrides) == {"footer": "Issued by Riverside Bay."}
    # England's documents are issued by England's own authority: nothing of the home (California) one
    assert agency.signature_name == "" and agency.name != "City of Los Angeles"
    admin = actors[Role.ADMIN]
    with app.uow(admin) as uow:
        save_identity(uow.session, admin, "ENG", dict(EXETER_LIKE, signature_name="Morag Pell"))
        uow.commit()
    with app.db.reading() as s:
        agency = letter_data(s, aid, "appeal_acknowledgement", date(2026, 11, 24)).agency
    assert agency.name == "Exmoor Vale City Council" and agency.signature_name == "Morag Pell"
    assert agency.web_url == "www.exmoorvale.gov.uk/parking" and agency.spelling == "GB"
