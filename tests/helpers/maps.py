"""The demo office's nine downtown zones on a test database (what the demo's street map is drawn over)."""

from __future__ import annotations

from desktop.demo.office import ZONES
from desktop.persistence.models import Zone
from desktop.services.core.context import Actor, AppContext


def add_demo_zones(app: AppContext, actor: Actor) -> None:
    with app.uow(actor) as uow:
        for code, name, south, west, north, east in ZONES:
            ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
            uow.session.add(Zone(code=code, name=name, regulations=[],
                                 geometry={"type": "Polygon", "coordinates": [ring]}))
        uow.commit()
