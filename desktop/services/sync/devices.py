"""Handheld devices: the list with last seen, sequence gaps and pending events; registering a device's key."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from desktop.domain.errors import UserError
from desktop.domain.roles import Permission
from desktop.persistence.models import Device, Officer
from desktop.services.core.context import Actor, AppContext
from desktop.sync import wire


@dataclass(frozen=True)
class DeviceRow:
    device_id: str
    officer_badge: str | None
    officer_name: str | None
    last_seen_at: datetime | None
    last_seq: int | None
    gaps: list[list[int]]
    pending_events: int | None
    has_key: bool
    app_version: str | None
    endpoint_id: str | None

    @property
    def missing(self) -> int:
        return sum(int(b) - int(a) + 1 for a, b in self.gaps)

    def gaps_text(self, limit: int = 3) -> str:
        if not self.gaps:
            return ""
        parts = [f"{a}" if a == b else f"{a}–{b}" for a, b in self.gaps[:limit]]
        more = f" +{len(self.gaps) - limit} more" if len(self.gaps) > limit else ""
        return f"{self.missing} missing: " + ", ".join(parts) + more


def list_devices(app: AppContext, actor: Actor) -> list[DeviceRow]:
    with app.reader(actor, Permission.SYNC_FIELD_DATA) as uow:
        rows = uow.session.execute(
            select(Device, Officer.name).outerjoin(Officer, Officer.badge == Device.officer_badge)
            .order_by(Device.device_id)).all()
        return [DeviceRow(d.device_id, d.officer_badge, name, d.last_seen_at, d.last_seq,
                          [list(g) for g in d.seq_gaps or []], d.pending_events, bool(d.public_key),
                          d.app_version, d.endpoint_id) for d, name in rows]


def register_device(app: AppContext, actor: Actor, device_id: str, public_key_b64: str,
                    officer_badge: str | None = None) -> str:
    """Register a handheld's Ed25519 key; from now on its unsigned or wrongly signed events are quarantined.

    Returns the key's fingerprint (first 16 hex digits of the SHA-256 of the raw key).
    """
    device_id = (device_id or "").strip()
    if not device_id or len(device_id) > 64:
        raise UserError("A device id is 1 to 64 characters (e.g. HH-0042).")
    key = wire.load_public_key(public_key_b64)
    canonical = wire.public_key_b64(key)
    fingerprint = hashlib.sha256(canonical.encode("ascii")).hexdigest()[:16]
    if officer_badge is not None and (not officer_badge.strip() or len(officer_badge) > 32):
        raise UserError("An officer badge is 1 to 32 characters.")
    with app.uow(actor, Permission.MANAGE_DEVICES) as uow:
        s = uow.session
        device = s.get(Device, device_id)
        before = None
        if device is None:
            device = Device(device_id=device_id, seq_gaps=[], active=True)
            s.add(device)
        else:
            before = {"key": hashlib.sha256(device.public_key.encode("ascii")).hexdigest()[:16]
                      if device.public_key else None, "officer_badge": device.officer_badge}
        device.public_key = canonical
        if officer_badge is not None:
            device.officer_badge = officer_badge.strip()
        uow.audit("device.key_registered", "device", device_id, before=before,
                  after={"key": fingerprint, "officer_badge": device.officer_badge})
        uow.commit()
    return fingerprint


def add_device(app: AppContext, actor: Actor, device_id: str, officer_badge: str | None = None) -> None:
    """Register a handheld without a key (its events are then accepted unsigned, as ``unsigned``): a
    supervisor's word that the device is the office's. Registering its key (:func:`register_device`) is
    stronger: then only events it signed are accepted. Nothing happens if it is registered already."""
    device_id = (device_id or "").strip()
    if not device_id or len(device_id) > 64:
        raise UserError("A device id is 1 to 64 characters (e.g. HH-0042).")
    if officer_badge is not None and (not officer_badge.strip() or len(officer_badge) > 32):
        raise UserError("An officer badge is 1 to 32 characters.")
    with app.uow(actor, Permission.MANAGE_DEVICES) as uow:
        s = uow.session
        if s.get(Device, device_id) is not None:
            return
        s.add(Device(device_id=device_id, seq_gaps=[], active=True,
                     officer_badge=officer_badge.strip() if officer_badge else None))
        uow.audit("device.registered", "device", device_id, after={"key": None, "officer_badge": officer_badge})
        uow.commit()


def is_registered(app: AppContext, device_id: str) -> bool:
    with app.db.reading() as s:
        return s.get(Device, device_id) is not None
