"""The demo office's owners whose names test the printed page: letters beyond Latin-1, a name long enough to
wrap in the envelope window, and a company name too long for any window (its notice is held, with the
reason, on the clerk's list).

Runs before the mail room (ORDER 65 < notices' 70): a few owners of the earliest open California cases,
whose delinquent notices the mail room prints in its first batches, get these names as a registry would
send them ("LAST, FIRST"). Idempotent: a second run changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from desktop.domain.lifecycle import CaseStatus
from desktop.persistence.models import Citation, RegisteredOwner, Setting
from desktop.services.core.context import Actor, AppContext

ORDER = 65
MARKER = "demo.print_names"

Progress = Callable[[str, int, int], None]

#: Registry names as printed notices meet them (the envelope shows them as "FIRST LAST", upper case).
NAMES = (
    "BRZĘCZYSZCZYKIEWICZ, ŁUKASZ",
    "NGUYỄN, THỊ MINH KHAI",
    "ŞAHIN, AYŞE",
    "HERNÁNDEZ-VILLANUEVA RUIZ, MARÍA DE LOS ÁNGELES GUADALUPE",
    # four lines of name in a #10 window: the notice is held, "shorten the name or the address lines"
    "PACIFIC COAST EQUIPMENT LEASING AND RENTAL COMPANY OF SOUTHERN CALIFORNIA AND NEVADA, A LIMITED "
    "LIABILITY COMPANY DOING BUSINESS AS COASTAL FLEET SERVICES LLC",
)


def extend_demo(app: AppContext, progress: Progress) -> None:
    with app.uow(Actor.system("demo")) as uow:
        s = uow.session
        if s.get(Setting, MARKER) is not None:
            return
        owners = list(s.scalars(
            select(RegisteredOwner).join(Citation, Citation.owner_id == RegisteredOwner.id)
            .where(Citation.status == CaseStatus.OPEN.value, Citation.profile_code == "CA",
                   RegisteredOwner.address_status == "ok")
            .order_by(Citation.issued_at, Citation.id).limit(40)))
        picked = list(dict.fromkeys(owners))[2:2 + len(NAMES)]  # an owner with two cases once
        for i, (owner, name) in enumerate(zip(picked, NAMES, strict=False)):
            before = owner.name
            owner.name = owner.name_key = name
            uow.audit("owner.corrected", "registered_owner", owner.id, before={"name": before}, after={"name": name},
                      reason="demo: names that test the printed notice")
            progress("Owners with long and accented names", i + 1, len(picked))
        s.add(Setting(key=MARKER, value=True))
        uow.commit()
