"""The first stage of the ingest: one received event, decoded, checked and reduced to plain values.

:func:`prepare` does everything about an event that needs no database: the wire schema (pydantic), the
checks the schema cannot make (a plate's width once normalised, the total of the fines, text that cannot
be stored), the content fingerprint of a citation, and the values its rows will need. It is the same for
an endpoint page and a dock bundle (one pipeline: :mod:`desktop.services.sync.ingest` applies what it gives).

This module imports no SQLAlchemy, and a :class:`PreparedEvent` is plain values (text, numbers,
datetimes, tuples), so a large sync prepares its events in a helper process
(:mod:`desktop.sync.decoder`) while the ingest stores the batch before. The typed event itself (pydantic
models) stays where it was made; after crossing to another process it is parsed again from the event's
text only where it is needed (a void, an amendment, a signature to verify), which is rare.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from desktop.domain.plates import normalize_plate
from desktop.sync import wire
from desktop.sync.bundle import BundleLine
from desktop.sync.wire import INT32_MAX, ParsedEvent, ReceivedEvent, Rejected


class PhotoLine(NamedTuple):
    """A photo an event references: its digest, declared size, when it was taken, its caption."""

    sha256: str
    bytes: int | None
    taken_at: datetime | None
    caption: str | None


class ViolationLine(NamedTuple):
    """A violation as the handheld gave it (its fine in cents, if it showed one)."""

    code: str
    description: str | None
    fine_cents: int | None


class IssuedCitation(NamedTuple):
    """A ``citation.issued`` payload as the citation row needs it (the plate already normalised)."""

    citation_number: str
    officer_badge: str
    issued_at: datetime
    plate: str
    jurisdiction: str
    plate_type: str | None
    make: str | None
    model: str | None
    color: str | None
    vin: str | None
    registration_expiry: str | None
    lat: float
    lon: float
    accuracy_m: float | None
    address: str | None
    zone: str | None
    space: str | None
    violations: tuple[ViolationLine, ...]
    #: the observations as received (any JSON), or None
    observations: Any
    remarks: str | None


@dataclass(eq=False)
class PreparedEvent:
    """One received item: what could be read of it, and either the reason it is refused (``reason``) or
    what the ingest needs of it in plain values. ``parsed`` is the typed event (None when refused)."""

    raw_text: str
    reason: str | None
    event_id: str | None
    device_id: str | None
    seq: int | None
    type: str | None
    occurred_at: datetime | None = None
    #: a type this version knows (an unknown one is kept and skipped)
    known: bool = False
    #: the envelope carries a signature
    signed: bool = False
    #: the payload's officer badge (a citation's or a shift's), for the device it came from
    officer_badge: str | None = None
    #: the citation a ``citation.*`` event is about
    citation_number: str | None = None
    #: ``citation.issued``: the payload's content fingerprint and the values of its row
    digest: str | None = None
    issued: IssuedCitation | None = None
    #: ``patrol.shift`` / ``patrol.check``: the row, ready to insert
    patrol: dict[str, Any] | None = None
    #: the photos a citation (or an amendment) references
    photos: tuple[PhotoLine, ...] = ()
    #: the event id when it can key the field_events table
    storable_id: str | None = field(init=False)
    _parsed: ParsedEvent | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        event_id = self.event_id
        self.storable_id = event_id if event_id is not None and 0 < len(event_id) <= 100 else None

    @property
    def ok(self) -> bool:
        return self.reason is None

    @property
    def parsed(self) -> ParsedEvent | None:
        """The typed event (parsed again from its text after crossing from another process)."""
        if self._parsed is None and self.reason is None:
            result = wire.parse_envelope(self.raw_text)
            self._parsed = result if isinstance(result, ParsedEvent) else None
        return self._parsed

    def refuse(self, reason: str) -> None:
        self.reason = reason
        self._parsed = None

    def plain(self) -> tuple[Any, ...]:
        """Its values as plain tuples (what a process sends another; :meth:`from_plain` rebuilds it). The
        typed event stays behind: it is parsed again from the text where it is needed."""
        c = self.issued
        issued = None if c is None else (*c[:17], tuple(map(tuple, c.violations)), c.observations, c.remarks)
        return (self.raw_text, self.reason, self.event_id, self.device_id, self.seq, self.type, self.occurred_at,
                self.known, self.signed, self.officer_badge, self.citation_number, self.digest, issued,
                self.patrol, tuple(map(tuple, self.photos)) if self.photos else ())

    @classmethod
    def from_plain(cls, values: tuple[Any, ...]) -> PreparedEvent:
        (raw_text, reason, event_id, device_id, seq, kind, occurred_at, known, signed, officer_badge,
         citation_number, digest, issued, patrol, photos) = values
        citation = None
        if issued is not None:
            violations = tuple(ViolationLine._make(v) for v in issued[17])
            citation = IssuedCitation._make((*issued[:17], violations, issued[18], issued[19]))
        return cls(raw_text, reason, event_id, device_id, seq, kind, occurred_at, known=known, signed=signed,
                   officer_badge=officer_badge, citation_number=citation_number, digest=digest, issued=citation,
                   patrol=patrol, photos=tuple(PhotoLine._make(ph) for ph in photos) if photos else ())


def _raw_text(item: Any) -> str:
    if isinstance(item, str):
        # a NUL cannot be stored in a PostgreSQL text column; everything else is kept as received
        return item.replace("\x00", "\ufffd")
    if isinstance(item, (bytes, bytearray)):
        return bytes(item).decode("utf-8", "replace").replace("\x00", "\ufffd")
    try:
        text = json.dumps(item, ensure_ascii=False, separators=(",", ":"))
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:  # lone surrogates: keep them escaped
        return json.dumps(item, ensure_ascii=True, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):
        return repr(item)[:100_000]


def clip(value: Any, width: int) -> str | None:
    if not isinstance(value, str):
        return None
    return value if len(value) <= width else value[: width - 1] + "…"


def _has_bad_text(value: Any, depth: int = 0) -> str | None:
    """A NUL character or a lone surrogate anywhere in a decoded JSON value (neither can be stored)."""
    if depth > 200:
        return "nested too deeply"
    if isinstance(value, str):
        if "\x00" in value:
            return "contains a NUL character"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "contains text that is not valid Unicode"
        return None
    if isinstance(value, dict):
        for key, inner in value.items():
            problem = _has_bad_text(key, depth + 1) or _has_bad_text(inner, depth + 1)
            if problem:
                return problem
    elif isinstance(value, list):
        for inner in value:
            problem = _has_bad_text(inner, depth + 1)
            if problem:
                return problem
    return None


def _plate_problem(path: str, plate: str | None) -> str | None:
    """A plate is stored normalised: it must keep a letter or digit and fit its 16 characters."""
    if plate is None:
        return None
    normalised = normalize_plate(plate)
    if not normalised:
        return f"{path}: has no letters or digits ({plate[:20]!r})"
    if len(normalised) > 16:
        return f"{path}: longer than 16 characters ({len(normalised)})"
    return None


def _fines_problem(path: str, violations: Sequence[wire.Violation] | None) -> str | None:
    """Each fine fits 32 bits (the wire schema says so); their total must too."""
    if violations and sum(v.fine_cents or 0 for v in violations) > INT32_MAX:
        return f"{path}: the fines add up to more than {INT32_MAX} cents"
    return None


def _payload_problems(parsed: ParsedEvent) -> str | None:
    """What the wire schema cannot check (it checks the column widths, integer ranges and finite numbers):
    a plate's width once normalised, and the total of a citation's fines."""
    p = parsed.payload
    if isinstance(p, wire.CitationIssued):
        return (_plate_problem("payload.vehicle.plate", p.vehicle.plate)
                or _fines_problem("payload.violations", p.violations))
    if isinstance(p, wire.CitationAmended):
        c = p.changes
        return (_plate_problem("payload.changes.vehicle.plate", c.vehicle.plate if c.vehicle else None)
                or _fines_problem("payload.changes.violations", c.violations))
    if isinstance(p, wire.PatrolCheck):
        return _plate_problem("payload.plate", p.plate)
    return None


def photo_lines(refs: Sequence[wire.PhotoRef] | None) -> tuple[PhotoLine, ...]:
    return tuple(PhotoLine(ph.sha256, ph.bytes, ph.taken_at, ph.caption) for ph in refs or ())


def prepare(item: Any) -> PreparedEvent:
    """Parse one received item and check everything that does not need the database.

    ``item`` is a decoded event (a dict), an endpoint page's :class:`~desktop.sync.wire.ReceivedEvent`
    (its text and value), one JSON line, or a dock bundle's :class:`~desktop.sync.bundle.BundleLine` (whose
    reasons then name the line). An item prepared already is returned as it is.
    """
    if isinstance(item, PreparedEvent):
        return item
    if isinstance(item, BundleLine):
        prepared = prepare(item.text)
        if item.utf8_error:
            prepared.refuse(f"event: {item.utf8_error}")
        if prepared.reason:
            prepared.reason = f"line {item.number}: {prepared.reason}"
        return prepared
    if isinstance(item, ReceivedEvent):
        if not isinstance(item.value, dict):
            return prepare(item.value)  # a string is read as a JSON line, anything else is refused as before
        raw_text, item = item.text, item.value  # the text as received: no need to encode it again
    else:
        raw_text = _raw_text(item)
    result = wire.parse_envelope(item)
    if isinstance(result, Rejected):
        raw = result.raw if isinstance(result.raw, dict) else None
        return PreparedEvent(raw_text, result.reason, result.event_id, result.device_id, result.seq,
                             raw.get("type") if raw is not None and isinstance(raw.get("type"), str) else None)
    env = result.envelope
    it = PreparedEvent(raw_text, None, env.event_id, env.device_id, env.seq, env.type, env.occurred_at,
                       _parsed=result)
    problem = None
    if "\\u" in raw_text or "\x00" in raw_text:  # control characters and lone surrogates come escaped
        problem = _has_bad_text(result.raw)
        if problem:
            problem = f"event: {problem}"
    if problem is None:
        try:
            raw_text.encode("utf-8")
        except UnicodeEncodeError:
            problem = "event: contains text that is not valid Unicode"
    problem = problem or _payload_problems(result)
    if problem:
        it.refuse(problem)
        return it
    _reduce(it, result)
    return it


def _reduce(it: PreparedEvent, result: ParsedEvent) -> None:
    """Fill in the plain values the ingest takes from a valid event."""
    raw = result.raw
    it.known = result.known
    it.signed = bool(raw.get("signature"))
    p = result.payload
    if isinstance(p, wire.CitationIssued):
        v, loc = p.vehicle, p.location
        it.officer_badge = p.officer_badge
        it.citation_number = p.citation_number
        it.digest = wire.content_fingerprint(raw["payload"], it.raw_text)
        it.photos = photo_lines(p.photos)
        it.issued = IssuedCitation(
            p.citation_number, p.officer_badge, p.issued_at, normalize_plate(v.plate), v.jurisdiction,
            v.plate_type, v.make, v.model, v.color, v.vin, v.registration_expiry, loc.lat, loc.lon,
            loc.accuracy_m, loc.address, loc.zone, loc.space,
            tuple(ViolationLine(x.code, x.description, x.fine_cents) for x in p.violations),
            raw["payload"].get("observations"), p.remarks)
    elif isinstance(p, wire.PatrolCheck):
        it.patrol = {"event_id": it.event_id, "zone_code": p.zone, "checked_at": p.checked_at,
                     "plate": normalize_plate(p.plate), "jurisdiction": p.jurisdiction, "result": p.result}
    elif isinstance(p, wire.PatrolShift):
        it.officer_badge = p.officer_badge
        it.patrol = {"event_id": it.event_id, "officer_badge": p.officer_badge, "zone_code": p.zone,
                     "started_at": p.started_at, "ended_at": p.ended_at,
                     "vehicles_checked": p.vehicles_checked or 0}
    elif isinstance(p, wire.CitationAmended):
        it.citation_number = p.citation_number
        it.photos = photo_lines(p.changes.photos)
    elif isinstance(p, wire.CitationVoided):
        it.citation_number = p.citation_number


def photo_refs(item: PreparedEvent) -> list[tuple[str, int | None]]:
    """The photos an event references (also those of a quarantined event, so a re-submission finds them)."""
    if item.reason is None:
        return [(ph.sha256, ph.bytes) for ph in item.photos]
    refs: list[tuple[str, int | None]] = []
    payload: Any = None
    try:
        raw = json.loads(item.raw_text)
    except (ValueError, RecursionError):
        return []
    if isinstance(raw, dict):
        payload = raw.get("payload")
        if isinstance(payload, dict) and isinstance(payload.get("changes"), dict):
            payload = payload["changes"]
    if isinstance(payload, dict) and isinstance(payload.get("photos"), list):
        for ph in payload["photos"][:50]:
            if isinstance(ph, dict) and wire.is_sha256_hex(ph.get("sha256")):
                size = ph.get("bytes")
                ok_size = isinstance(size, int) and not isinstance(size, bool) and 0 <= size <= INT32_MAX
                refs.append((ph["sha256"], size if ok_size else None))
    return refs
