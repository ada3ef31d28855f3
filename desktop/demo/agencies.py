"""The demo office's issuing authorities, one per jurisdiction profile it runs cases under.

California (the home profile) is the City of Los Angeles of the flat `agency.*` settings, with the county's
superior court as the next appeal level; England is a fictional Kent borough council outside London (its
cases are in Ashford), so its next level is the Traffic Penalty Tribunal (London Tribunals hears only
London's councils). The telephone numbers are in Ofcom's range reserved for drama (01632 960xxx).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from desktop.services.core import settings
from desktop.services.core.agency import IDENTITY_SETTING, save_identity
from desktop.services.core.context import Actor

IDENTITIES: dict[str, dict[str, Any]] = {
    "CA": {
        "tribunal": {"name": "Superior Court of California, County of Los Angeles",
                     "address": ["Stanley Mosk Courthouse", "111 N Hill St", "Los Angeles, CA 90012"],
                     "web_url": "www.lacourt.org"},
    },
    "ENG": {
        "name": "Weald Vale Borough Council",
        "department": "Parking Services",
        "address": ["PO Box 2231", "Ashford", "TN23 9WV"],
        "phone": "01632 960 231",
        "web_url": "www.wealdvale.example.uk/parking",
        "pay_url": "https://www.wealdvale.example.uk/pay/{citation_number}",
        "email": "parking@wealdvale.example.uk",
        "office_hours": "Mon-Fri 9am to 5pm",
        "payee": "Weald Vale Borough Council",
        "contest_address": ["Parking Services (Representations)", "PO Box 2232", "Ashford", "TN23 9WW"],
        "contest_url": "www.wealdvale.example.uk/challenge",
        "counter_address": ["Civic Offices, Tannery Road", "Ashford TN23 1PL"],
        "signature_name": "Helen Marchbank",
        "signature_title": "Parking Services Manager",
        "currency": "GBP",
        "spelling": "GB",
        "tribunal": {"name": "Traffic Penalty Tribunal",
                     "address": ["Springfield House", "Water Lane", "Wilmslow", "SK9 5BG"],
                     "web_url": "www.trafficpenaltytribunal.gov.uk"},
    },
}


def set_identities(session: Session, actor: Actor) -> None:
    """Give each demo profile its issuing authority, once (an identity an administrator changed is kept)."""
    stored = settings.get(session, IDENTITY_SETTING) or {}
    for code, values in IDENTITIES.items():
        if code not in stored:
            save_identity(session, actor, code, values)
