"""The demo office's owners whose names test the printed page: letters beyond Latin-1, a name long enough to
wrap in the envelope window, and a company name too long for any window (its notice is held, with the
reason, on the clerk's list).

Runs after the daily escalation's demo (ORDER 90 > casework's 80): the owners of a few California cases
whose notice of delinquent violation is due (queued) get these names as a registry would send them
("LAST, FIRST"), and so do the address snapshots of those queued notices. The mail office's next run
(`main.py notices --due`, or printing the due notices on the Notices screen) prints them and holds the
company's with the reason. Idempotent: a second run changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from desktop.persistence.models import Citation, Notice, RegisteredOwner, Setting
from desktop.services.core.context import Actor, AppContext

ORDER = 90
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
        due = list(s.execute(
            select(Notice, RegisteredOwner).join(RegisteredOwner, RegisteredOwner.id == Notice.owner_id)
            .join(Citation, Citation.id == Notice.citation_id)
            .where(Notice.status == "queued", Notice.kind == "notice_of_delinquent_violation",
                   Citation.profile_code == "CA", RegisteredOwner.address_status == "ok")
            .order_by(Notice.id).limit(40)).all())
        by_owner: dict[int, list[Notice]] = {}
        owners: dict[int, RegisteredOwner] = {}
        for notice, owner in due:
            by_owner.setdefault(owner.id, []).append(notice)
            owners[owner.id] = owner
        for i, (owner_id, name) in enumerate(zip(list(by_owner)[:len(NAMES)], NAMES, strict=False)):
            owner = owners[owner_id]
            before = owner.name
            owner.name = owner.name_key = name
            for notice in by_owner[owner_id]:  # what the escalation snapshotted is what prints
                notice.address_snapshot = {**(notice.address_snapshot or {}), "name": name}
            uow.audit("owner.corrected", "registered_owner", owner.id, before={"name": before}, after={"name": name},
                      reason="demo: names that test the printed notice")
            progress("Owners with long and accented names", i + 1, len(NAMES))
        s.add(Setting(key=MARKER, value=True))
        uow.commit()
