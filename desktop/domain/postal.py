"""US postal data of a mail piece: the Intelligent Mail barcode's routing code and service type.

Routing code (USPS-B-3200, "Intelligent Mail Barcode 4-State Specification", section 2.1, the Delivery
Point ZIP Code field): 0, 5, 9 or 11 digits: nothing, the 5-digit ZIP, ZIP+4, or ZIP+4 and the 2-digit
delivery point. The 11 digits are printed only when both the ZIP+4 and the delivery point are known (a
delivery point without its ZIP+4 means nothing and is dropped).

Service Type Identifier (STID): which mail class and level (Basic or Full-Service IMb) the piece is, and
which address correction the mailer asks for. Values for First-Class Mail letters from the USPS STID
Table (PostalPro, "Service Type Identifiers", https://postalpro.usps.com/mailing/service-type-identifiers,
table effective 21 January 2024): 300/310 Basic with no address correction (without/with IV MTR),
260/270 Full-Service with no address correction, 230/220 Basic with OneCode ACS "Address Service
Requested" option 1, 320/314 Full-Service with Full-Service ACS "Address Service Requested" option 1. The
USPS revises the table: an office whose mail owner or print shop uses another option sets the code itself
(setting `mail.service_type_id`), which then wins over the derived one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from desktop.domain.errors import UserError


@dataclass(frozen=True)
class ServiceType:
    """One First-Class Mail address-correction option and its two STIDs (without / with IV MTR)."""

    key: str
    label: str
    stid: str  # without Informed Visibility Mail Tracking & Reporting
    stid_iv_mtr: str  # with IV MTR
    needs: str  # what the agency must have arranged with the USPS for this option


#: The address-correction options for First-Class Mail letters (USPS STID Table, 21 Jan 2024).
SERVICE_TYPES: dict[str, ServiceType] = {s.key: s for s in (
    ServiceType("none", "Basic IMb, no address correction", "300", "310", "a Mailer ID"),
    ServiceType("basic", "Basic IMb, OneCode ACS (Address Service Requested, option 1)", "230", "220",
                "a Mailer ID enrolled in OneCode ACS (notices are billed per correction)"),
    ServiceType("full_service", "Full-Service IMb, Full-Service ACS (Address Service Requested, option 1)",
                "320", "314", "Full-Service mailings: electronic documentation (Mail.dat / Mail.XML) submitted "
                "by the mail owner or print shop, IMbs unique for 45 days, IMb tray labels"),
)}


def service_type_id(correction: str, iv_mtr: bool = False, explicit: str = "") -> str:
    """The 3-digit STID for `correction` (a key of `SERVICE_TYPES`), or `explicit` when the office set one."""
    explicit = explicit.strip()
    if explicit:
        if not (len(explicit) == 3 and explicit.isdigit()):
            raise UserError(f"mail.service_type_id '{explicit[:10]}' is not a 3-digit service type; leave it "
                            f"empty to use mail.address_correction.")
        return explicit
    try:
        option = SERVICE_TYPES[correction.strip().lower()]
    except KeyError:
        raise UserError(f"mail.address_correction '{correction[:20]}' is not one of "
                        f"{', '.join(SERVICE_TYPES)}.") from None
    return option.stid_iv_mtr if iv_mtr else option.stid


def routing_code(zip_code: str, zip4: str | None = None, delivery_point: str | None = None) -> str:
    """The IMb routing code (0, 5, 9 or 11 digits, USPS-B-3200) from what is known of the address."""
    zip5 = (zip_code or "").strip()[:5]
    if not (len(zip5) == 5 and zip5.isdigit()):
        return ""
    plus4 = (zip4 or "").strip()
    if not (len(plus4) == 4 and plus4.isdigit()):
        return zip5
    dp = (delivery_point or "").strip()
    if len(dp) == 2 and dp.isdigit():
        return zip5 + plus4 + dp
    return zip5 + plus4


def delivery_point_problem(value: str) -> str | None:
    """Why `value` is not a delivery point (two digits, 00-99), or None."""
    value = value.strip()
    if len(value) == 2 and value.isdigit():
        return None
    return f"'{value[:10]}' is not a delivery point (two digits, 00 to 99)"


def zip4_problem(value: str) -> str | None:
    """Why `value` is not a ZIP+4 add-on (four digits), or None."""
    value = value.strip()
    if len(value) == 4 and value.isdigit():
        return None
    return f"'{value[:10]}' is not a ZIP+4 add-on (four digits)"


_US_ZIP_AT_END = re.compile(r"\b(\d{5}(?:-\d{4})?)\s*$")
_UK_POSTCODE_AT_END = re.compile(r"\b([A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2})\s*$", re.IGNORECASE)


def postcode_in(lines: Sequence[str]) -> str:
    """The ZIP code (ZIP+4 kept) or UK postcode at the end of a written address's last lines ("" if none)."""
    for line in reversed([ln.strip() for ln in lines if ln and ln.strip()][-2:]):
        m = _US_ZIP_AT_END.search(line) or _UK_POSTCODE_AT_END.search(line)
        if m:
            return m.group(1).upper()
    return ""
