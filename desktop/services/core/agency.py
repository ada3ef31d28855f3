"""The agency as printed documents describe it: one `agency_info` for the notices, the letters, the
hearing packet and the docket (and any other document that carries the agency's block)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from desktop.services.core import settings
from reports.data import AgencyInfo


def agency_info(session: Session, profile_code: str | None = None) -> AgencyInfo:
    """The agency as its settings describe it, for the documents of a case of `profile_code`.

    `agency.wording` replaces wording keys for every profile; an entry named after a profile code whose
    value is itself a mapping (e.g. ``{"ENG": {"footer": "..."}}``) replaces wording for that profile's
    documents only, over the general entries. Without a `profile_code` only the general entries apply.
    """
    def get(key: str) -> Any:
        return settings.get(session, key)

    overrides: dict[str, Any] = {}
    by_profile: Mapping[str, Any] = {}
    for key, value in dict(get("agency.wording") or {}).items():
        if isinstance(value, Mapping):
            if profile_code is not None and key.upper() == profile_code.upper():
                by_profile = value
        else:
            overrides[key] = value
    overrides.update(by_profile)
    return AgencyInfo(
        name=get("agency.name"),
        department=get("agency.department"),
        return_address_lines=tuple(get("agency.address")),
        phone=get("agency.phone"),
        pay_url_template=get("agency.pay_url"),
        web_url=get("agency.web_url"),
        email=get("agency.email"),
        logo_path=get("agency.logo_path") or None,
        office_hours=get("agency.office_hours"),
        payee_name=get("agency.payee"),
        pay_by_mail_lines=tuple(get("agency.pay_by_mail_address")),
        contest_address_lines=tuple(get("agency.contest_address")),
        contest_url=get("agency.contest_url"),
        in_person_lines=tuple(get("agency.counter_address")),
        signature_name=get("agency.signature_name"),
        signature_title=get("agency.signature_title"),
        wording_overrides=overrides,
    )
