"""Cases with registered owners, evidence photos and queued notices, as the escalation leaves them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from desktop.bootstrap import make_app_context
from desktop.demo.photos import street_photo
from desktop.paths import AppPaths
from desktop.persistence.db import Database
from desktop.persistence.evidence import EvidenceStore
from desktop.persistence.migrate import upgrade
from desktop.persistence.models import EvidencePhoto, LedgerEntry, Notice, RegisteredOwner
from desktop.services.admin import users
from desktop.services.core.context import Actor, AppContext
from desktop.services.notices.documents import address_snapshot
from tests.helpers.factories import add_citation
from tests.helpers.identities import give_identity

_n = [0]

CA_ADDRESS = {"address_line1": "4410 W OLYMPIC BLVD APT 12", "city": "LOS ANGELES", "state": "CA", "zip": "90019"}


def add_owner(app: AppContext, *, plate: str, name: str = "GARCIA, MARIA", jurisdiction: str = "CA",
              address_raw: str | None = None, **address: Any) -> int:
    fields = dict(CA_ADDRESS) if not address and address_raw is None else address
    raw = address_raw if address_raw is not None else (
        f"{fields.get('address_line1', '')}, {fields.get('city', '')}, {fields.get('state', '')} {fields.get('zip', '')}")
    with app.db.write_session() as s:
        o = RegisteredOwner(plate=plate, jurisdiction=jurisdiction, name=name, name_key=name.upper(),
                            address_raw=raw, address_line1=fields.get("address_line1"),
                            address_line2=fields.get("address_line2"), city=fields.get("city"),
                            state=fields.get("state"), zip=fields.get("zip"), address_status="ok",
                            valid_from=date(2020, 1, 1), source="test registry",
                            imported_at=datetime(2026, 1, 1, tzinfo=UTC))
        s.add(o)
        s.commit()
        return o.id


def store_photo(app: AppContext, citation_id: int, data: bytes, *, integrity: str = "verified",
                sha256: str | None = None, put: bool = True) -> str:
    sha = EvidenceStore(app.paths.evidence_dir).put(data).sha256 if put else (sha256 or "0" * 64)
    with app.db.write_session() as s:
        s.add(EvidencePhoto(citation_id=citation_id, position=0, sha256=sha, declared_bytes=len(data),
                            taken_at=datetime(2026, 10, 30, 17, 14, tzinfo=UTC), caption="plate",
                            integrity=integrity))
        s.commit()
    return sha


def queue_case(app: AppContext, *, kind: str = "notice_of_delinquent_violation", stage: str | None = "delinquent_notice",
               profile: str = "CA", issued_at: datetime | None = None, fine_cents: int = 6300,
               penalty_cents: int | None = None, owner: bool = True, photo: bytes | None | bool = True,
               owner_kwargs: dict[str, Any] | None = None, status: str = "open", snapshot: bool = True,
               **citation: Any) -> tuple[int, int]:
    """One case at `stage` with its notice queued; returns (citation_id, notice_id)."""
    _n[0] += 1
    i = _n[0]
    give_identity(app, profile)
    plate = citation.pop("plate", f"8NTC{i:03d}")
    issued = issued_at or datetime(2026, 10, 30, 17, 15, tzinfo=UTC)
    owner_id = add_owner(app, plate=plate, jurisdiction="GB" if profile == "ENG" else "CA",
                         **(owner_kwargs or {})) if owner else None
    cid = add_citation(app, plate=plate, fine_cents=fine_cents, issued_at=issued, status=status,
                       owner_id=owner_id, profile_code=profile, address=citation.pop("address", "1200 S FIGUEROA ST"),
                       color=citation.pop("color", "WT"), jurisdiction="GB" if profile == "ENG" else "CA",
                       **citation)
    if photo is True:
        photo = street_photo(plate, "CA", "WT", "TOYT", issued, 34.04, -118.26, seed=i)
    if photo:
        store_photo(app, cid, photo)
    with app.db.write_session() as s:
        if penalty_cents is None:
            penalty_cents = fine_cents if stage in ("delinquent_notice", "final_notice") else 0
        if penalty_cents:
            s.add(LedgerEntry(citation_id=cid, kind="penalty", amount_cents=penalty_cents,
                              at=issued + timedelta(days=21), effective_date=(issued + timedelta(days=21)).date(),
                              dedupe_key=f"penalty:{stage}", memo="Delinquent penalty"))
        o = s.get(RegisteredOwner, owner_id) if owner_id else None
        n = Notice(citation_id=cid, kind=kind, stage=stage, status="queued", queued_at=issued + timedelta(days=22),
                   owner_id=owner_id, address_snapshot=address_snapshot(o) if o is not None and snapshot else None,
                   dedupe_key=f"notice:{stage or kind}")
        s.add(n)
        s.commit()
        return cid, n.id


def mail_office(data: Path, *, clerk: bool = False) -> AppContext:
    """A new office in ``data`` on 24 November 2026 at 18:00 UTC, with an administrator and a mail office (and a
    clerk) whose passwords are ``<role>-password-1``, for the notice commands."""
    paths = AppPaths(data)
    paths.ensure()
    db = Database(paths.default_db_url)
    upgrade(db)
    app = make_app_context(db, paths, clock=lambda: datetime(2026, 11, 24, 18, 0, tzinfo=UTC))
    users.add_user(app, Actor.system("test"), "admin", "Ada Admin", "admin", "admin-password-1")
    admin = users.actor_for(app, "admin")
    users.add_user(app, admin, "mail", "Morgan Diaz", "mail_office", "mail-password-1")
    if clerk:
        users.add_user(app, admin, "clerk", "Casey Nguyen", "clerk", "clerk-password-1")
    return app
