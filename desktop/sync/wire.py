"""Wire schemas of the field sync protocol, version 1: the event envelope and its payloads.

Everything here works on what came over the wire (a dict or one JSON line) and
turns it into either a :class:`ParsedEvent` or a :class:`Rejected` with a
one-line reason naming the field, so an ingest loop can take each event on its
own and quarantine the bad ones without stopping the feed (protocol rule 1).

Validation follows ``field-sync-protocol.md`` exactly:

* times are ISO 8601 strings that carry a UTC offset (a naive time is rejected)
  and are normalised to UTC in the parsed models; the raw dict keeps the text;
* ``lat`` is in [-90, 90], ``lon`` in [-180, 180];
* money is an integer number of cents (``7300``; ``73.0`` or ``"73.00"`` is rejected);
* types are strict (``"12"`` is not a ``seq``), unknown fields are ignored and
  kept in ``ParsedEvent.raw``;
* an unknown event ``type`` parses with ``known=False`` and its payload untouched.

Required fields beyond what the protocol spells out for ``citation.issued``:
``citation.voided`` needs ``citation_number`` and ``voided_at``;
``citation.amended`` needs ``citation_number`` and a non-empty ``changes`` object
(whose fields, when present, must have the citation's types);
``patrol.shift`` needs ``officer_badge``, ``zone`` and ``started_at``;
``patrol.check`` needs all five of its fields.

What the back office can store is checked here too, so that pydantic does it in one
pass: text no longer than its column (``max_length``), integers within the
column's 32 or 64 bits, a finite ``accuracy_m``. :func:`_describe` words these as
``payload.vehicle.make: longer than 32 characters (40)`` or ``seq: too large (...)``.

Signatures (rule 4) are Ed25519 over :func:`canonical_json` of the envelope
without ``signature``; :func:`content_fingerprint` gives the digest used to tell
"same citation_number, different content" conflicts (rule 2) from repeats.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any, Literal, TypeAlias

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, create_model, field_validator

from desktop.domain import text as widths
from desktop.domain.canonical import canonical_json as _canonical
from desktop.domain.canonical import may_spell_non_finite
from desktop.domain.errors import UserError
from desktop.domain.jsonlimits import json_depth_ok

PROTOCOL_VERSION = 1

CITATION_ISSUED = "citation.issued"
CITATION_VOIDED = "citation.voided"
CITATION_AMENDED = "citation.amended"
PATROL_SHIFT = "patrol.shift"
PATROL_CHECK = "patrol.check"

REFERENCE_KINDS: frozenset[str] = frozenset({"permits", "hotlist", "violation-codes", "assignments"})

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


class WireError(ValueError):
    """An event that does not follow the protocol; str() is a one-line reason naming the field."""

    def __init__(self, reason: str, *, field_path: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field_path = field_path


class InvalidDeviceKey(UserError):
    """A device public key registered in the back office is not a base64 Ed25519 key."""


# --------------------------------------------------------------------------- times


def parse_wire_time(value: object) -> datetime:
    """Parse a protocol time: an ISO 8601 string with a UTC offset, returned in UTC.

    Raises ValueError (turned into a field error by pydantic) for anything else.
    """
    if isinstance(value, str):
        return _parse_wire_text(str(value))  # (str() gives a subclass's plain text; a str is itself)
    if not isinstance(value, datetime):
        raise ValueError(f"time must be an ISO 8601 string, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"time has no UTC offset ({str(value)[:40]!r})")
    return value.astimezone(UTC)


@lru_cache(maxsize=1024)
def _parse_wire_text(value: str) -> datetime:
    """The usual case in the fewest steps, remembered: an event's times often repeat (``occurred_at`` is
    usually its citation's ``issued_at``); the datetimes it gives are immutable. A refusal is not cached."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = _parse_padded_time(value)
    zone = parsed.tzinfo
    if zone is UTC:
        return parsed
    if zone is None:  # fromisoformat gives a fixed offset or none: utcoffset() cannot be None otherwise
        raise ValueError(f"time has no UTC offset ({value[:40]!r})")
    return parsed.astimezone(UTC)


def _parse_padded_time(value: str) -> datetime:
    text = value.strip()
    if not text:
        raise ValueError("time is empty")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not an ISO 8601 time ({value[:40]!r})") from None


WireTime = Annotated[datetime, BeforeValidator(parse_wire_time)]
NonEmptyStr = Annotated[str, Field(min_length=1)]
Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
#: the largest value of an integer column: an event over it says "too large" (see :func:`_describe`)
_COLUMN_MAXIMA = frozenset({INT32_MAX, INT64_MAX})
Count32 = Annotated[int, Field(ge=0, le=INT32_MAX)]


def _fits(width: int, *, required: bool = False) -> Any:
    """Text that fits a column of ``width`` characters (and is not empty when ``required``). (A NUL character
    or a lone surrogate anywhere in an event is refused before this: ``prepared._has_bad_text``.)"""
    return Field(min_length=1 if required else None, max_length=width)


class _Wire(BaseModel):
    """Base of every wire model: strict types, unknown fields ignored, immutable."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


# --------------------------------------------------------------------------- citation.issued


class VehicleChanges(_Wire):
    """A vehicle as an amendment gives it (any field); :class:`Vehicle` requires the plate and jurisdiction."""

    plate: NonEmptyStr | None = None  # its width is checked once normalised (ingest)
    jurisdiction: Annotated[str, _fits(8, required=True)] | None = None
    plate_type: Annotated[str, _fits(8)] | None = None
    make: Annotated[str, _fits(32)] | None = None
    model: Annotated[str, _fits(64)] | None = None
    color: Annotated[str, _fits(16)] | None = None
    vin: Annotated[str, _fits(32)] | None = None
    registration_expiry: Annotated[str, _fits(8)] | None = None


class Vehicle(VehicleChanges):
    plate: NonEmptyStr
    jurisdiction: Annotated[str, _fits(8, required=True)]


Latitude = Annotated[float, Field(ge=-90.0, le=90.0)]
Longitude = Annotated[float, Field(ge=-180.0, le=180.0)]
Accuracy = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]


class LocationChanges(_Wire):
    """A location as an amendment gives it (any field); :class:`Location` requires lat and lon."""

    lat: Latitude | None = None
    lon: Longitude | None = None
    accuracy_m: Accuracy | None = None
    address: Annotated[str, _fits(200)] | None = None
    zone: Annotated[str, _fits(64)] | None = None
    space: Annotated[str, _fits(32)] | None = None


class Location(LocationChanges):
    lat: Latitude
    lon: Longitude


class Violation(_Wire):
    code: Annotated[str, _fits(32, required=True)]
    description: Annotated[str, _fits(300)] | None = None
    fine_cents: Count32 | None = None


class Observation(_Wire):
    kind: NonEmptyStr
    first_seen_at: WireTime | None = None
    second_seen_at: WireTime | None = None


class PhotoRef(_Wire):
    sha256: Sha256Hex
    taken_at: WireTime | None = None
    bytes: Count32 | None = None
    caption: Annotated[str, _fits(100)] | None = None


class CitationIssued(_Wire):
    citation_number: Annotated[str, _fits(64, required=True)]
    officer_badge: Annotated[str, _fits(32, required=True)]
    issued_at: WireTime
    vehicle: Vehicle
    location: Location
    violations: Annotated[list[Violation], Field(min_length=1)]
    observations: list[Observation] | None = None
    photos: list[PhotoRef] | None = None
    remarks: Annotated[str, _fits(widths.REMARKS)] | None = None


# --------------------------------------------------------------------------- other payloads


class CitationVoided(_Wire):
    citation_number: Annotated[str, _fits(64, required=True)]
    voided_at: WireTime
    reason: Annotated[str, _fits(widths.REASON)] | None = None


class CitationChanges(_Wire):
    """The fields of a citation a ``citation.amended`` may change; all optional, same types."""

    officer_badge: Annotated[str, _fits(32, required=True)] | None = None
    issued_at: WireTime | None = None
    vehicle: VehicleChanges | None = None
    location: LocationChanges | None = None
    violations: Annotated[list[Violation], Field(min_length=1)] | None = None
    observations: list[Observation] | None = None
    photos: list[PhotoRef] | None = None
    remarks: Annotated[str, _fits(widths.REMARKS)] | None = None


class CitationAmended(_Wire):
    citation_number: Annotated[str, _fits(64, required=True)]
    changes: CitationChanges
    reason: Annotated[str, _fits(widths.REASON)] | None = None

    @field_validator("changes", mode="before")
    @classmethod
    def _changes_not_empty(cls, value: object) -> object:
        if isinstance(value, dict) and not value:
            raise ValueError("changes is empty")
        return value


class PatrolShift(_Wire):
    officer_badge: Annotated[str, _fits(32, required=True)]
    zone: Annotated[str, _fits(64, required=True)]
    started_at: WireTime
    ended_at: WireTime | None = None
    vehicles_checked: Count32 | None = None


class PatrolCheck(_Wire):
    zone: Annotated[str, _fits(64, required=True)]
    checked_at: WireTime
    plate: NonEmptyStr  # its width is checked once normalised (ingest)
    jurisdiction: Annotated[str, _fits(8, required=True)]
    result: Literal["permit_ok", "paid", "compliant"]


Payload: TypeAlias = CitationIssued | CitationVoided | CitationAmended | PatrolShift | PatrolCheck

PAYLOAD_MODELS: dict[str, type[BaseModel]] = {
    CITATION_ISSUED: CitationIssued,
    CITATION_VOIDED: CitationVoided,
    CITATION_AMENDED: CitationAmended,
    PATROL_SHIFT: PatrolShift,
    PATROL_CHECK: PatrolCheck,
}


# --------------------------------------------------------------------------- envelope


class Envelope(_Wire):
    event_id: Annotated[str, _fits(100, required=True)]
    device_id: Annotated[str, _fits(64, required=True)]
    seq: Annotated[int, Field(ge=0, le=INT64_MAX)]
    type: Annotated[str, _fits(64, required=True)]
    occurred_at: WireTime
    payload: dict[str, Any]
    signature: str | None = None


#: Envelopes of the known types with their payload typed, so that a valid event is checked in one step.
TYPED_ENVELOPES: dict[str, type[Envelope]] = {
    kind: create_model(f"{model.__name__}Envelope", __base__=Envelope, payload=(model, ...))
    for kind, model in PAYLOAD_MODELS.items()
}


@dataclass(frozen=True, slots=True)
class ReceivedEvent:
    """One event of an endpoint page: its JSON text exactly as it stood in the answer, and that text decoded.

    The ingest keeps ``text`` as the event's raw record, so it need not encode the object again.
    """

    text: str
    value: Any


@dataclass(frozen=True)
class ParsedEvent:
    """A valid envelope. ``payload`` is the typed payload, or None when ``known`` is False."""

    envelope: Envelope
    payload: Payload | None
    known: bool
    raw: dict[str, Any]

    @property
    def event_id(self) -> str:
        return self.envelope.event_id

    @property
    def device_id(self) -> str:
        return self.envelope.device_id

    @property
    def seq(self) -> int:
        return self.envelope.seq

    @property
    def type(self) -> str:
        return self.envelope.type


@dataclass(frozen=True)
class Rejected:
    """An event that failed validation: the reason, and whatever could be read of it for quarantine.

    ``raw`` is the decoded object when the JSON was readable, ``raw_text`` the
    original text when a string was given. ``event_id``/``device_id``/``seq`` are
    filled when they could be read, so the quarantine can show where it came from.
    """

    reason: str
    field_path: str | None = None
    raw: Any = None
    raw_text: str | None = None
    event_id: str | None = None
    device_id: str | None = None
    seq: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _describe(error: ValidationError, prefix: str = "") -> tuple[str, str]:
    """One line for a pydantic error: ``field.path: what is wrong`` (+N more)."""
    errors = error.errors(include_url=False)
    first = errors[0]
    path = ".".join(str(part) for part in first["loc"])
    if prefix:
        path = f"{prefix}.{path}" if path else prefix
    message = first["msg"]
    message = message.removeprefix("Value error, ")
    kind, ctx, given = first["type"], first.get("ctx") or {}, first.get("input")
    if kind == "missing":
        message = "required field is missing"
    elif kind == "string_too_long" and isinstance(given, str):
        message = f"longer than {ctx['max_length']} characters ({len(given)})"
    elif kind == "string_unicode":  # a lone surrogate, met by a width check before the text check
        message = "contains text that is not valid Unicode"
    elif kind == "less_than_equal" and ctx.get("le") in _COLUMN_MAXIMA:
        message = f"too large ({given})"
    elif kind == "finite_number":
        message = "must be a finite number"
    elif first["type"] != "value_error" and (
        isinstance(first.get("input"), (str, int, float, bool)) or first.get("input") is None
    ):
        message = f"{message} (got {first.get('input')!r:.40})"
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{path or 'event'}: {message}{more}", path


def _peek(raw: Any) -> dict[str, Any]:
    peek: dict[str, Any] = {}
    if isinstance(raw, dict):
        for key in ("event_id", "device_id"):
            if isinstance(raw.get(key), str):
                peek[key] = raw[key]
        if isinstance(raw.get("seq"), int) and not isinstance(raw.get("seq"), bool):
            peek["seq"] = raw["seq"]
    return peek


def parse_envelope(raw: dict[str, Any] | str | bytes | Any) -> ParsedEvent | Rejected:
    """Validate one event (a decoded dict, or one JSON line) and never raise for bad input."""
    raw_text: str | None = None
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return Rejected(reason=f"event: not UTF-8 ({exc.reason} at byte {exc.start})", raw_text=None)
    if isinstance(raw, str):
        raw_text = raw
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            return Rejected(reason=f"event: unreadable JSON ({str(exc)[:80]})", raw_text=raw_text)
    if not isinstance(raw, dict):
        return Rejected(
            reason=f"event: must be a JSON object, got {type(raw).__name__}", raw=raw, raw_text=raw_text
        )
    kind = raw.get("type")
    typed = TYPED_ENVELOPES.get(kind) if isinstance(kind, str) else None
    if typed is not None:
        try:
            valid = typed.__pydantic_validator__.validate_python(raw)  # model_validate without its wrapper
        except (ValidationError, RecursionError):
            pass  # checked again below, envelope first, for the reason we have always given
        else:
            return ParsedEvent(envelope=valid, payload=valid.payload, known=True, raw=raw)
    peek = _peek(raw)
    try:
        envelope = Envelope.model_validate(raw)
    except ValidationError as exc:
        reason, path = _describe(exc)
        return Rejected(reason=reason, field_path=path, raw=raw, raw_text=raw_text, **peek)
    except RecursionError:
        return Rejected(reason="event: nested too deeply", raw=raw, raw_text=raw_text, **peek)
    model = PAYLOAD_MODELS.get(envelope.type)
    if model is None:
        return ParsedEvent(envelope=envelope, payload=None, known=False, raw=raw)
    try:
        payload = model.model_validate(envelope.payload)
    except ValidationError as exc:
        reason, path = _describe(exc, prefix="payload")
        return Rejected(reason=reason, field_path=path, raw=raw, raw_text=raw_text, **peek)
    except RecursionError:
        return Rejected(reason="payload: nested too deeply", raw=raw, raw_text=raw_text, **peek)
    return ParsedEvent(envelope=envelope, payload=payload, known=True, raw=raw)  # type: ignore[arg-type]


def parse_envelope_or_raise(raw: dict[str, Any] | str | bytes) -> ParsedEvent:
    """Like :func:`parse_envelope` but raises :class:`WireError` for a bad event."""
    result = parse_envelope(raw)
    if isinstance(result, Rejected):
        raise WireError(result.reason, field_path=result.field_path)
    return result


# --------------------------------------------------------------------------- signatures


def canonical_json(envelope_without_signature: dict[str, Any]) -> bytes:
    """The bytes a device signs: sorted keys, no spaces, UTF-8, with any ``signature`` left out."""
    body = {key: value for key, value in envelope_without_signature.items() if key != "signature"}
    return _canonical(body)


def load_public_key(public_key_b64: str) -> Ed25519PublicKey:
    """Decode a device key registered in the back office (base64 of the 32 raw bytes)."""
    try:
        raw = base64.b64decode(public_key_b64.strip(), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError, AttributeError):
        raise InvalidDeviceKey(
            "The device key is not a valid Ed25519 public key (expected base64 of 32 bytes)."
        ) from None


def public_key_b64(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """Base64 of the raw public key, the form the back office registers."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    # (21 modules the sync's helper process would load at its start-up and never use)
    from cryptography.hazmat.primitives import serialization  # lazy: +5-20 ms at the sync helper's start-up

    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def sign_envelope(envelope: dict[str, Any], private_key: Ed25519PrivateKey) -> str:
    """Base64 Ed25519 signature over the canonical JSON of the envelope (what a handheld does)."""
    return base64.b64encode(private_key.sign(canonical_json(envelope))).decode("ascii")


def verify_signature(envelope: dict[str, Any], public_key_b64: str) -> bool:
    """True only when ``envelope['signature']`` is a valid signature by that device key.

    A missing, malformed or wrong signature gives False. A key that cannot be
    decoded raises :class:`InvalidDeviceKey` (a configuration problem, not the event's).
    """
    key = load_public_key(public_key_b64)
    signature = envelope.get("signature")
    if not isinstance(signature, str) or not signature:
        return False
    try:
        signature_bytes = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    try:
        key.verify(signature_bytes, canonical_json(envelope))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


# --------------------------------------------------------------------------- fingerprints


def content_fingerprint(payload: dict[str, Any], text: str | None = None) -> str:
    """SHA-256 hex of the canonical JSON of a payload, as received (``text``: the event's JSON text it was
    decoded from, which lets the canonical JSON be written by the fast encoder when it spells no NaN).

    Two ``citation.issued`` events with the same ``citation_number`` and the
    same fingerprint are a repeat; a different fingerprint is a conflict.
    """
    finite = text is not None and not may_spell_non_finite(text)
    return hashlib.sha256(_canonical(payload, finite=finite)).hexdigest()


def is_sha256_hex(value: object) -> bool:
    """True for a lowercase 64-digit hex digest."""
    return isinstance(value, str) and SHA256_HEX.match(value) is not None


# --------------------------------------------------------------------------- endpoint answers


class DeviceStatus(_Wire):
    device_id: NonEmptyStr
    officer_badge: str | None = None
    last_seen_at: WireTime | None = None
    app_version: str | None = None
    pending_events: Annotated[int, Field(ge=0)] | None = None


class EndpointStatus(_Wire):
    protocol: int
    endpoint_id: str | None = None
    devices: list[DeviceStatus] = Field(default_factory=list)


class ErrorBody(BaseModel):
    """An endpoint's error answer; lax, since we only show it."""

    model_config = ConfigDict(extra="allow")
    error: str = ""
    detail: str = ""


def error_body(text: str) -> ErrorBody:
    """Read ``{"error", "detail"}`` from an error answer, tolerating anything."""
    try:
        if not json_depth_ok(text):
            raise ValueError("nested too deeply")
        data = json.loads(text)
        if isinstance(data, dict):
            return ErrorBody.model_validate(
                {
                    **data,
                    "error": str(data.get("error", "")),
                    "detail": str(data.get("detail", "")),
                }
            )
    except (ValueError, ValidationError):
        pass
    return ErrorBody(error="", detail=text[:200])


def now_utc() -> datetime:
    return datetime.now(UTC)
