"""The collections referral file: every case the escalation referred to collections, as CSV."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import case, func, select

from desktop.domain.errors import UserError
from desktop.domain.lifecycle import CaseStatus
from desktop.domain.roles import Permission
from desktop.persistence.models import AuditEntry, Citation, LedgerEntry, RegisteredOwner
from desktop.services.core.context import Actor, AppContext
from desktop.services.core.imports import csv_writer

COLUMNS = [
    "citation_number", "issued_at", "plate", "jurisdiction", "violation_code", "violation_description",
    "fine_cents", "penalties_cents", "paid_cents", "balance_cents", "referred_on", "profile", "stage",
    "owner_name", "owner_address_line1", "owner_address_line2", "owner_city", "owner_state", "owner_zip",
    "owner_address_status", "owner_address_raw",
]


def export_collections(app: AppContext, actor: Actor, out: Path,
                       progress: Callable[[int], None] | None = None, batch: int = 5000) -> int:
    """Write the cases in collections with what is owed and the owner's address (written to a temporary
    file and renamed when complete). Money in integer cents; ``paid_cents`` is everything that lowered
    the balance (payments, discounts, waivers, write-offs) as a positive number."""
    out = Path(out)
    tmp = out.with_name(out.name + ".partial")
    written = 0
    with app.reader(actor, Permission.EXPORT_DATA) as uow:
        s = uow.session
        referred = {
            int(entity_id): at for entity_id, at in s.execute(
                select(AuditEntry.entity_id, func.max(AuditEntry.at))
                .where(AuditEntry.entity_type == "citation", AuditEntry.action == "citation.in_collections")
                .group_by(AuditEntry.entity_id))
        }
        sums = (select(LedgerEntry.citation_id,
                       func.sum(case((LedgerEntry.kind == "fine", LedgerEntry.amount_cents), else_=0)).label("fine"),
                       func.sum(case((LedgerEntry.kind.in_(("penalty", "reinstatement")), LedgerEntry.amount_cents),
                                     else_=0)).label("penalties"),
                       func.sum(case((LedgerEntry.amount_cents < 0, -LedgerEntry.amount_cents), else_=0)).label("paid"),
                       func.sum(LedgerEntry.amount_cents).label("balance"))
                .group_by(LedgerEntry.citation_id).subquery())
        try:
            with tmp.open("w", newline="", encoding="utf-8") as fh:
                w = csv_writer(fh)  # formulas neutralised (issue 14)
                w.writerow(COLUMNS)
                last = 0
                while True:
                    rows = s.execute(
                        select(Citation.id, Citation.citation_number, Citation.issued_at, Citation.plate,
                               Citation.jurisdiction, Citation.violation_code, Citation.violation_description,
                               func.coalesce(sums.c.fine, 0), func.coalesce(sums.c.penalties, 0),
                               func.coalesce(sums.c.paid, 0), func.coalesce(sums.c.balance, 0),
                               Citation.profile_code, Citation.profile_version, Citation.stage,
                               RegisteredOwner.name, RegisteredOwner.address_line1, RegisteredOwner.address_line2,
                               RegisteredOwner.city, RegisteredOwner.state, RegisteredOwner.zip,
                               RegisteredOwner.address_status, RegisteredOwner.address_raw)
                        .outerjoin(sums, sums.c.citation_id == Citation.id)
                        .outerjoin(RegisteredOwner, RegisteredOwner.id == Citation.owner_id)
                        .where(Citation.status == CaseStatus.IN_COLLECTIONS.value, Citation.id > last)
                        .order_by(Citation.id).limit(batch)).all()
                    if not rows:
                        break
                    for r in rows:
                        at = referred.get(int(r[0]))
                        w.writerow([r[1], r[2].isoformat(), r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10],
                                    at.date().isoformat() if at else "", f"{r[11]} v{r[12]}", r[13] or "",
                                    *["" if v is None else v for v in r[14:]]])
                    written += len(rows)
                    last = int(rows[-1][0])
                    if progress:
                        progress(written)
            tmp.replace(out)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise UserError(f"Cannot write {out}: {exc.strerror}.") from exc
    return written
