"""Reference data out: permits, the hot list, violation codes and patrol assignments pushed to an endpoint.

Each kind is pushed only when its content changed since the last push, with the next version number.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop.domain.errors import NotFound, UserError
from desktop.domain.roles import Permission
from desktop.persistence.models import HotlistEntry, Permit, SyncEndpoint, ViolationCode
from desktop.services.core.context import Actor, AppContext
from desktop.services.patrol.plans import assignments as patrol_assignments
from desktop.services.sync.endpoints import TOKENS, get_endpoint
from desktop.sync.client import FieldClient, ReferenceVersionConflict

REFERENCE_ORDER = ("violation-codes", "permits", "hotlist", "assignments")


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _permits(session: Session, now: datetime) -> list[dict[str, Any]]:
    items = []
    for p in session.scalars(select(Permit).where(Permit.status == "active", Permit.valid_to >= now)
                             .order_by(Permit.permit_number)):
        items.append({"permit_number": p.permit_number, "type": p.type,
                      "plates": [{"plate": pp.plate, "jurisdiction": pp.jurisdiction} for pp in p.plates],
                      "zones": list(p.zones or []), "valid_from": _iso(p.valid_from), "valid_to": _iso(p.valid_to)})
    return items


def _hotlist(session: Session, now: datetime) -> list[dict[str, Any]]:
    return [{"plate": h.plate, "jurisdiction": h.jurisdiction, "reason": h.reason, "since": _iso(h.since)}
            for h in session.scalars(select(HotlistEntry).where(HotlistEntry.active.is_(True))
                                     .order_by(HotlistEntry.plate, HotlistEntry.id))]


def _violation_codes(session: Session, now: datetime) -> list[dict[str, Any]]:
    today = now.date()
    return [{"code": v.code, "description": v.description, "fine_cents": v.fine_cents,
             "effective_from": _iso(v.effective_from)}
            for v in session.scalars(select(ViolationCode).where(
                (ViolationCode.effective_to.is_(None)) | (ViolationCode.effective_to >= today))
                .order_by(ViolationCode.code, ViolationCode.effective_from))]


#: Where each kind of reference data comes from; another area (patrol planning) may replace a provider.
REFERENCE_PROVIDERS: dict[str, Callable[[Session, datetime], list[dict[str, Any]]]] = {
    "permits": _permits, "hotlist": _hotlist, "violation-codes": _violation_codes,
    # the saved patrol plans of the days ahead; the hand-written ``patrol.assignments`` setting for other days
    "assignments": patrol_assignments,
}


def reference_items(app: AppContext, kind: str) -> list[dict[str, Any]]:
    with app.db.reading() as s:
        return REFERENCE_PROVIDERS[kind](s, app.now())


def push_reference(app: AppContext, actor: Actor, endpoint_id: int, *, client: FieldClient | None = None,
                   token: str | None = None, kinds: tuple[str, ...] = REFERENCE_ORDER,
                   force: bool = False) -> dict[str, str]:
    """``PUT /v1/reference/<kind>`` for each kind whose content changed since the last push (all with ``force``).

    Versions only grow: each push is the last accepted version + 1. A ``409`` means
    the endpoint holds a version we did not know about: we push once more with its
    version + 1. Returns kind -> accepted version (as text) or 'unchanged'.
    """
    ep = get_endpoint(app, actor, endpoint_id)
    own_client = client is None
    if client is None:
        token = token or TOKENS.get(ep.url)
        if not token:
            raise UserError(f"No token for the endpoint {ep.name}.")
        client = FieldClient(ep.url, token, ca_bundle=ep.ca_bundle)
    results: dict[str, str] = {}
    try:
        for kind in kinds:
            items = reference_items(app, kind)
            digest = hashlib.sha256(json.dumps(items, sort_keys=True, separators=(",", ":"),
                                               ensure_ascii=False).encode("utf-8")).hexdigest()
            versions = get_endpoint(app, actor, endpoint_id).reference_versions
            found = versions.get(kind)
            held: dict[str, Any] = found if isinstance(found, dict) else {}
            if not force and held.get("digest") == digest:
                results[kind] = "unchanged"
                continue
            version = int(held.get("version", 0)) + 1
            try:
                accepted = client.put_reference(kind, version, items)
            except ReferenceVersionConflict as conflict:
                version = max(conflict.held_version or version, version) + 1
                accepted = client.put_reference(kind, version, items)
            with app.uow(actor, Permission.SYNC_FIELD_DATA) as uow:
                row = uow.session.get(SyncEndpoint, endpoint_id)
                if row is None:
                    raise NotFound(f"Field endpoint {endpoint_id} does not exist.")
                current = dict(row.reference_versions or {})
                current[kind] = {"version": accepted, "digest": digest, "items": len(items),
                                 "pushed_at": app.now().isoformat()}
                row.reference_versions = current
                uow.audit("reference.pushed", "sync_endpoint", endpoint_id,
                          after={"kind": kind, "version": accepted, "items": len(items)})
                uow.commit()
            results[kind] = str(accepted)
    finally:
        if own_client:
            client.close()
    return results
