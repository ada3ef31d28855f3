"""The demo office looks lived-in: every handheld that wrote citations has been seen, and the
registry addresses that cannot be mailed carry the reason the owners import would give."""

from __future__ import annotations

from sqlalchemy import select

from desktop.demo.office import build_demo
from desktop.persistence.models import Device, RegisteredOwner
from desktop.services.core.context import AppContext


def test_demo_devices_were_seen_and_bad_addresses_say_why(app: AppContext) -> None:
    build_demo(app, 120, seed=7)
    with app.db.reading() as s:
        seen = dict(s.execute(select(Device.device_id, Device.last_seen_at)).all())
        problems = set(s.scalars(select(RegisteredOwner.address_problem)
                                 .where(RegisteredOwner.address_problem.is_not(None))).all())
    assert all(seen[f"HH-{n:04d}"] is not None for n in range(1, 13)), seen
    assert problems and all("cannot be mailed" not in p for p in problems), problems
