"""Issuing authorities for the profiles other than the home one (California), as an administrator sets them."""

from __future__ import annotations

from typing import Any

from desktop.services.core import settings
from desktop.services.core.agency import IDENTITY_SETTING, save_identity
from desktop.services.core.context import Actor, AppContext

IDENTITIES: dict[str, dict[str, Any]] = {
    "ENG": {
        "name": "Exmoor Vale City Council",
        "department": "Parking Services",
        "address": ["PO Box 417", "Exmoor Vale", "EX9 1PS"],
        "phone": "01392 000 417",
        "web_url": "www.exmoorvale.gov.uk/parking",
        "pay_url": "https://www.exmoorvale.gov.uk/pay/{citation_number}",
        "tribunal": {"name": "Traffic Penalty Tribunal",
                     "address": ["Springfield House", "Water Lane", "Wilmslow", "SK9 5BG"],
                     "web_url": "www.trafficpenaltytribunal.gov.uk"},
    },
    "NYC": {
        "name": "NYC Department of Finance",
        "department": "Parking Violations Bureau",
        "address": ["PO Box 3640", "Church Street Station", "New York, NY 10008-3640"],
        "phone": "(212) 555-0142",
        "web_url": "nyc.example.gov/finance",
        "pay_url": "https://nyc.example.gov/pay/{citation_number}",
    },
}


def give_identity(app: AppContext, code: str) -> None:
    """Set `code`'s issuing authority unless it has one already (the home profile needs none)."""
    code = code.upper()
    with app.db.reading() as s:
        if code not in IDENTITIES or code in (settings.get(s, IDENTITY_SETTING) or {}):
            return
    system = Actor.system("test")
    with app.uow(system) as uow:
        save_identity(uow.session, system, code, IDENTITIES[code], now=app.now())
        uow.commit()
