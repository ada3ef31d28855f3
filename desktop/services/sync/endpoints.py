"""Field endpoints and their tokens: the addresses Curbdesk syncs with, added, changed and removed.

Tokens are secrets: they live in the system keyring when there is one
(``keyring``), otherwise only in this process's memory, never in the database
or a file (:class:`TokenStore`).
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from desktop.domain.errors import NotFound, UserError
from desktop.domain.roles import Permission
from desktop.persistence.models import SyncEndpoint
from desktop.secrets import SecretStore
from desktop.services.core.context import Actor, AppContext

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- tokens


class TokenStore(SecretStore):
    """Endpoint tokens: the system keyring where available, else this process's memory only.

    A token is never written to the database or to a file: without a keyring the
    user gives it again after each start (``--token`` on the command line).
    """

    SERVICE = "Curbdesk field sync"


TOKENS = TokenStore()


# --------------------------------------------------------------------------- endpoints


@dataclass(frozen=True)
class EndpointRow:
    id: int
    name: str
    url: str
    ca_bundle: str | None
    auto_sync_minutes: int
    cursor: str | None
    acked_cursor: str | None
    last_sync_at: datetime | None
    last_result: str | None
    reference_versions: dict[str, Any]
    has_token: bool


def _endpoint_row(ep: SyncEndpoint, with_token: bool = True) -> EndpointRow:
    return EndpointRow(ep.id, ep.name, ep.url, ep.ca_bundle, ep.auto_sync_minutes or 0, ep.cursor, ep.acked_cursor,
                       ep.last_sync_at, ep.last_result, dict(ep.reference_versions or {}),
                       TOKENS.has(ep.url) if with_token else False)


def normalise_url(url: str) -> str:
    """Check an endpoint address: http(s), and plain http only on this computer (the protocol says so)."""
    url = (url or "").strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(f"'{url}' is not an endpoint address (expected https://host[:port]).")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise UserError(f"Plain http is only allowed on this computer (127.0.0.1 or localhost); "
                        f"use https for {parts.hostname}.")
    return url


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def list_endpoints(app: AppContext, actor: Actor) -> list[EndpointRow]:
    with app.reader(actor, Permission.SYNC_FIELD_DATA) as uow:
        return [_endpoint_row(ep) for ep in uow.session.scalars(select(SyncEndpoint).order_by(SyncEndpoint.name))]


def get_endpoint(app: AppContext, actor: Actor, endpoint_id: int, with_token: bool = False) -> EndpointRow:
    with app.reader(actor, Permission.SYNC_FIELD_DATA) as uow:
        ep = uow.session.get(SyncEndpoint, endpoint_id)
        if ep is None:
            raise NotFound(f"Field endpoint {endpoint_id} does not exist.")
        return _endpoint_row(ep, with_token)


def save_endpoint(app: AppContext, actor: Actor, endpoint_id: int | None, *, name: str, url: str,
                  ca_bundle: str | None = None, auto_sync_minutes: int = 0, token: str | None = None,
                  remember_token: bool = True) -> tuple[int, str | None]:
    """Add (``endpoint_id`` None) or change an endpoint. Returns its id and where the token went.

    Changing the address starts the new endpoint from its beginning (the old cursor
    and reference versions belonged to the old one); events already stored are
    recognised by their ids, so nothing is duplicated.
    """
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise UserError("Give the endpoint a name (at most 100 characters).")
    url = normalise_url(url)
    if ca_bundle:
        ca_bundle = ca_bundle.strip()
        if not Path(ca_bundle).is_file():
            raise UserError(f"The CA bundle {ca_bundle} does not exist.")
    else:
        ca_bundle = None
    if not 0 <= int(auto_sync_minutes) <= 24 * 60:
        raise UserError("Automatic sync is every 0 (off) to 1440 minutes.")
    with app.uow(actor, Permission.MANAGE_DEVICES) as uow:
        s = uow.session
        clash = s.scalar(select(SyncEndpoint.id).where(SyncEndpoint.name == name))
        if clash is not None and clash != endpoint_id:
            raise UserError(f"There is already an endpoint called {name}.")
        if endpoint_id is None:
            ep = SyncEndpoint(name=name, url=url, ca_bundle=ca_bundle, auto_sync_minutes=int(auto_sync_minutes),
                              reference_versions={})
            s.add(ep)
            s.flush()
            uow.audit("endpoint.added", "sync_endpoint", ep.id, after={"name": name, "url": url})
        else:
            found = s.get(SyncEndpoint, endpoint_id)
            if found is None:
                raise NotFound(f"Field endpoint {endpoint_id} does not exist.")
            ep = found
            before = {"name": ep.name, "url": ep.url, "ca_bundle": ep.ca_bundle,
                      "auto_sync_minutes": ep.auto_sync_minutes}
            if ep.url != url:
                TOKENS.forget(ep.url)
                ep.cursor = None
                ep.acked_cursor = None
                ep.reference_versions = {}
            ep.name, ep.url, ep.ca_bundle, ep.auto_sync_minutes = name, url, ca_bundle, int(auto_sync_minutes)
            uow.audit("endpoint.changed", "sync_endpoint", ep.id, before=before,
                      after={"name": name, "url": url, "ca_bundle": ca_bundle,
                             "auto_sync_minutes": int(auto_sync_minutes)})
        uow.commit()
        new_id = ep.id
    where = TOKENS.remember(url, token, remember_token) if token else None
    return new_id, where


def delete_endpoint(app: AppContext, actor: Actor, endpoint_id: int) -> None:
    with app.uow(actor, Permission.MANAGE_DEVICES) as uow:
        ep = uow.session.get(SyncEndpoint, endpoint_id)
        if ep is None:
            raise NotFound(f"Field endpoint {endpoint_id} does not exist.")
        uow.audit("endpoint.removed", "sync_endpoint", ep.id, before={"name": ep.name, "url": ep.url})
        url = ep.url
        uow.session.delete(ep)
        uow.commit()
    TOKENS.forget(url)


def endpoint_for_url(app: AppContext, actor: Actor, url: str, ca_bundle: str | None = None) -> int:
    """The endpoint with this address, registered on first use (the command line names endpoints by URL)."""
    url = normalise_url(url)
    with app.uow(actor, Permission.SYNC_FIELD_DATA) as uow:
        s = uow.session
        found = s.scalar(select(SyncEndpoint.id).where(SyncEndpoint.url == url))
        if found is not None:
            if ca_bundle:
                s.get(SyncEndpoint, found).ca_bundle = ca_bundle  # type: ignore[union-attr]
                uow.commit()
            return int(found)
        parts = urlsplit(url)
        base = (parts.netloc + parts.path)[:90]
        name, n = base, 1
        while s.scalar(select(SyncEndpoint.id).where(SyncEndpoint.name == name)) is not None:
            n += 1
            name = f"{base} ({n})"
        ep = SyncEndpoint(name=name, url=url, ca_bundle=ca_bundle, auto_sync_minutes=0, reference_versions={})
        s.add(ep)
        s.flush()
        uow.audit("endpoint.added", "sync_endpoint", ep.id, after={"name": name, "url": url},
                  reason="first sync from the command line")
        uow.commit()
        return int(ep.id)
