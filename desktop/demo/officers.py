"""The demo's officer roster covers every handheld: the fleet simulator's devices (and the English demo's)
carry badges the office's first twelve officers do not have, and a handheld listed with a bare badge and no
name is not what an agency's roster looks like."""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import select

from desktop.demo.office import FIRST, LAST
from desktop.persistence.models import Device, Officer
from desktop.services.core.context import Actor, AppContext

ORDER = 90  # after every area that registers devices


def extend_demo(app: AppContext, progress: Any) -> None:
    with app.uow(Actor.system("demo")) as uow:
        s = uow.session
        known = set(s.scalars(select(Officer.badge)))
        badges = sorted({b for b in s.scalars(select(Device.officer_badge)) if b and b not in known})
        for badge in badges:
            rnd = random.Random(badge)  # the same name for the same badge on every run
            s.add(Officer(badge=badge, name=f"{rnd.choice(FIRST).title()} {rnd.choice(LAST).title()}"))
        if badges:
            uow.audit("demo.officers", "setting", "demo", after={"badges": badges})
        uow.commit()
