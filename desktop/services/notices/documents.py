"""What a queued mail piece prints: the document for its kind, and its data built from the database.

(Over 600 lines, knowingly: one builder per document kind, sharing the address, agency and photo derivation
they all need.)

A `Notice` row says which case and which kind of document; this module turns it into the frozen data
that `reports` prints (NoticeData, RefundLetterData, ...), or into the reason it cannot be printed (a
`Held` with a clerk-readable reason). Nothing here writes to the database: `notice_runs` does that.

Where each part comes from:
- the agency (names, addresses, wording, pay address, spelling, tribunal) from the identity of the case's
  profile (`desktop.services.core.agency`: `agency.identity`, the flat `agency.*` for the home profile);
- the recipient from the notice's address snapshot (or the case's registered owner), standardised the
  USPS way by `desktop.domain.addresses.standardize`; an address that cannot be standardised holds the
  notice, and so does an owner whose mail came back;
- the amounts from the ledger (the balance is the sum of the entries, never a stored number) and the
  dates from the jurisdiction profile (`plan_case`): the printed deadlines take the piece as mailed on the
  day it is printed (so a batch printed late is counted again) and served as the profile's service rule
  says; a notice before its legal date, or whose pay-by date is past, is held with the reason;
- the main evidence photo from a print derivative made once per photo and kept under
  `print/derivatives`; a missing, altered or damaged photo holds the notice;
- the Intelligent Mail barcode from the Mailer ID setting and the piece's serial.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop.domain import case_plan, postal
from desktop.domain import profiles as prof
from desktop.domain.addresses import AddressProblem, standardize
from desktop.domain.appeals import appeal_number as appeal_reference
from desktop.domain.colours import colour_name, make_name
from desktop.domain.errors import UserError
from desktop.domain.lifecycle import CLOSED_STATES, CaseStatus
from desktop.paths import AppPaths
from desktop.persistence.evidence import MISMATCH_REASON, EvidenceMissing, EvidenceStore, EvidenceTampered
from desktop.persistence.models import (
    Appeal,
    AppealDocument,
    Citation,
    Hearing,
    Hold,
    LedgerEntry,
    Notice,
    Payment,
    Refund,
    RegisteredOwner,
    User,
)
from desktop.persistence.models import EvidencePhoto as EvidenceRow
from desktop.services.appeals.letter_terms import decision_expected, decision_terms, reschedule_by
from desktop.services.core import settings
from desktop.services.core.agency import agency_info
from desktop.services.core.printing import DocumentRenderer
from reports.data import (
    AcknowledgementData,
    AgencyInfo,
    CitationFacts,
    Decision,
    DecisionLetterData,
    EvidencePhoto,
    HearingNoticeData,
    LedgerLine,
    MailPiece,
    NoticeData,
    NoticeKind,
    PenaltyStep,
    Recipient,
    RefundLetterData,
    ReversalLetterData,
)

# --------------------------------------------------------------------------- the kinds


@dataclass(frozen=True)
class DocumentKind:
    """One kind of mail piece: its label and what prints it.

    `notice_kind` is set for the notices of the escalation ladder (one page each); `letter` names the
    document of the letters other areas queue (the renderer picks it from the letter's data).
    """

    key: str
    label: str
    notice_kind: NoticeKind | None = None
    letter: str | None = None

    @property
    def is_notice(self) -> bool:
        return self.notice_kind is not None


#: Notice.kind -> what prints it. The escalation queues the profile's `notice_kind` names (first block);
#: the short names are accepted as the same documents; the letters come from the other areas.
DOCUMENT_KINDS: dict[str, DocumentKind] = {k.key: k for k in [
    DocumentKind("notice_of_violation", "Notice of parking violation", NoticeKind.VIOLATION),
    DocumentKind("notice_of_delinquent_violation", "Notice of delinquent violation", NoticeKind.DELINQUENT),
    DocumentKind("penalty_notice", "Notice of penalty", NoticeKind.DELINQUENT),
    DocumentKind("final_notice", "Final notice", NoticeKind.FINAL),
    DocumentKind("notice_of_impending_default_judgment", "Final notice before judgment", NoticeKind.FINAL),
    DocumentKind("notice_to_owner", "Notice to Owner", NoticeKind.NOTICE_TO_OWNER),
    DocumentKind("charge_certificate", "Charge Certificate", NoticeKind.CHARGE_CERTIFICATE),
    DocumentKind("violation", "Notice of parking violation", NoticeKind.VIOLATION),
    DocumentKind("delinquent", "Notice of delinquent violation", NoticeKind.DELINQUENT),
    DocumentKind("final", "Final notice", NoticeKind.FINAL),
    DocumentKind("reversal_letter", "Returned payment letter", letter="ReversalLetter"),
    DocumentKind("refund_letter", "Refund letter", letter="RefundLetter"),
    DocumentKind("decision_letter", "Decision letter", letter="DecisionLetter"),
    DocumentKind("hearing_notice", "Notice of hearing", letter="HearingNotice"),
    DocumentKind("appeal_acknowledgement", "Appeal acknowledgement", letter="AppealAcknowledgement"),
]}


def kind_label(kind: str) -> str:
    dk = DOCUMENT_KINDS.get(kind)
    return dk.label if dk else kind.replace("_", " ").capitalize()


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Held:
    """Why a piece cannot be printed; `cancel` when it should not go out at all (the case closed); `wait`
    when it may go out later by itself (its legal date has not come: it stays queued with the reason, and
    the first run on or after that date prints it)."""

    reason: str
    cancel: bool = False
    wait: bool = False


@dataclass(frozen=True)
class PieceData:
    """A piece ready to render: its document data and what the run needs to know about it."""

    notice_id: int
    citation_id: int
    citation_number: str
    kind: str
    profile_code: str
    data: Any  # NoticeData or one of the letter data classes
    sort_key: str  # presort: ZIP+4 (then the citation) so the mail goes at automation rates
    serial: int = 0
    reprint: bool = False

    @property
    def is_notice(self) -> bool:
        return isinstance(self.data, NoticeData)


# --------------------------------------------------------------------------- agency and mail settings


@dataclass(frozen=True)
class MailSettings:
    mailer_id: str
    service_type_id: str
    barcode_id: str
    timezone: str
    colour: bool = False  # mail.colour
    envelope: str = ""  # mail.envelope: a name or a JSON definition (a file's contents, read once)

    def piece(self, serial: int) -> MailPiece:
        digits = 15 - len(self.mailer_id) if self.mailer_id else 9
        return MailPiece(self.mailer_id, serial % 10**digits, self.barcode_id, self.service_type_id,
                         colour=self.colour, envelope=self.envelope)


def envelope_setting(session: Session) -> str:
    """`mail.envelope` as the documents take it: a name or JSON as set, or the contents of the JSON file it
    names; UserError when that file cannot be read (a definition that does not hold together holds the
    pieces, with the reason, when the run lays them out)."""
    value = str(settings.get(session, "mail.envelope") or "").strip()
    if not value or value.startswith("{") or value.replace("_", "").isalnum():
        return value
    try:
        return Path(value).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"mail.envelope names the file {value}, which cannot be read ({exc.__class__.__name__}); "
                        f"fix the setting or the file.") from None


def mail_settings(session: Session, renderer: DocumentRenderer) -> MailSettings:
    """The IMb settings, checked: a bad Mailer ID is the operator's to fix, not a crash."""
    stid = postal.service_type_id(str(settings.get(session, "mail.address_correction")),
                                  explicit=str(settings.get(session, "mail.service_type_id") or ""))
    ms = MailSettings(str(settings.get(session, "mail.mailer_id")).strip(), stid,
                      str(settings.get(session, "mail.barcode_id")).strip(),
                      str(settings.get(session, "agency.timezone")),
                      bool(settings.get(session, "mail.colour")), envelope_setting(session))
    if ms.mailer_id:
        try:
            renderer.tracking_code(ms.piece(0))
        except ValueError as exc:
            raise UserError(f"The mail settings are wrong for the Intelligent Mail barcode: {exc}. "
                            f"Fix mail.mailer_id / mail.address_correction / mail.service_type_id / "
                            f"mail.barcode_id.") from None
    try:
        ZoneInfo(ms.timezone)
    except Exception:  # noqa: BLE001 - any failure means the setting is unusable
        raise UserError(f"agency.timezone '{ms.timezone}' is not a time zone name.") from None
    return ms


# --------------------------------------------------------------------------- the recipient

_BUSINESS = re.compile(r"\b(INC|LLC|LTD|CORP|CO|COMPANY|LEASING|RENTAL|TRUST|BANK|PLC|LP|LLP)\b\.?", re.IGNORECASE)
_UK_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$", re.IGNORECASE)
_UK_POSTCODE_IN = re.compile(r"\b[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}\b", re.IGNORECASE)


def mailing_name(name: str) -> str:
    """A registry name as it goes on an envelope: "GARCIA, MARIA" -> "MARIA GARCIA" (businesses kept)."""
    name = " ".join(name.split())
    if name.count(",") == 1 and not _BUSINESS.search(name):
        last, first = (p.strip() for p in name.split(","))
        if last and first:
            return f"{first} {last}"
    return name


_PARTICLES = {"van", "von", "de", "der", "den", "da", "di", "du", "la", "le", "del", "bin", "binti", "al"}


def _cased(word: str) -> str:
    """One word of an all-capitals registry name in ordinary case: MCDONALD -> McDonald, O'BRIEN -> O'Brien,
    SMITH-JONES -> Smith-Jones; particles (van, de, ...) stay lower case inside a name."""
    if "-" in word:
        return "-".join(_cased(p) for p in word.split("-"))
    if "'" in word[1:]:
        head, _, tail = word.partition("'")
        return f"{_cased(head)}'{_cased(tail)}" if len(head) <= 2 else word.capitalize()
    low = word.lower()
    if low.startswith("mc") and len(low) > 2:
        return "Mc" + low[2:].capitalize()
    return low.capitalize()


def envelope_name(name: str, uk: bool = False) -> str:
    """The addressee line: registry order turned into mailing order ("MARSH, PETER" -> "PETER MARSH"); in the
    UK style an all-capitals name is written in ordinary case ("Peter Marsh", as Royal Mail addresses it), a
    name already in mixed case is kept as written."""
    name = mailing_name(name)
    if not uk or not name.isupper() or _BUSINESS.search(name):
        return name
    words = name.split()
    return " ".join(w.lower() if 0 < i < len(words) - 1 and w.lower() in _PARTICLES else _cased(w)
                    for i, w in enumerate(words))


def address_snapshot(owner: RegisteredOwner) -> dict[str, Any]:
    """The owner's address as a notice keeps it (what was printed must be known later)."""
    return {
        "owner_id": owner.id, "name": owner.name, "address_raw": owner.address_raw,
        "address_line1": owner.address_line1, "address_line2": owner.address_line2, "city": owner.city,
        "state": owner.state, "zip": owner.zip, "delivery_point": owner.delivery_point,
        "address_status": owner.address_status,
    }


def _first(snapshot: Mapping[str, Any], *keys: str) -> str:
    for key in keys:
        value = snapshot.get(key)
        if value not in (None, ""):
            return str(value).strip()
    return ""


def recipient_from_snapshot(snapshot: Mapping[str, Any] | None, profile_code: str) -> Recipient | Held:
    """The envelope address, or why the piece cannot be mailed to it."""
    if not snapshot:
        return Held("No owner address: the case has no registered owner to mail to; look the owner up.")
    name = _first(snapshot, "name", "owner_name", "appellant_name")
    if not name:
        return Held("The owner's name is missing from the address; look the owner up again.")
    line1 = _first(snapshot, "address_line1", "line1", "street")
    line2 = _first(snapshot, "address_line2", "line2")
    city = _first(snapshot, "city", "town")
    state = _first(snapshot, "state", "county")
    postcode = _first(snapshot, "zip", "zip_code", "postcode")
    raw = _first(snapshot, "address_raw", "raw", "address")
    lines = [str(x).strip() for x in snapshot.get("lines") or [] if str(x).strip()]
    if lines and not line1:
        # a free-form address as an appellant wrote it (appeal letters): street first, town/postcode last
        raw = raw or ", ".join(lines)
        if profile_code.upper() == "ENG":
            last = lines[-1]
            found = _UK_POSTCODE_IN.search(last)
            postcode = found.group(0) if found else ""
            rest = last[: found.start()].strip(" ,") if found else last
            line1 = lines[0]
            line2 = lines[1] if len(lines) > 3 else ""
            city = rest or (lines[-2] if len(lines) >= 2 else "")
    if profile_code.upper() == "ENG":
        if not (line1 and city and _UK_POSTCODE.match(postcode)):
            what = "postcode" if not _UK_POSTCODE.match(postcode) else "street or town"
            return Held(f"The address cannot be mailed: the {what} is missing or wrong ('{raw or line1}').")
        return Recipient(envelope_name(name, uk=True), tuple(p for p in (line1, line2) if p), city, state,
                         postcode.upper())
    text = f"{line1} {line2}, {city}, {state} {postcode}" if line1 and city else raw
    if not text.strip():
        return Held("No owner address: the registry record has no address; look the owner up again.")
    std = standardize(text)
    if isinstance(std, AddressProblem):
        why = std.reason[:1].lower() + std.reason[1:]
        return Held(f"The owner's address cannot be mailed: {why.rstrip('.')} ('{' '.join(text.split())}').")
    # the delivery point belongs to the ZIP+4 it came with: kept only while the address still carries that ZIP+4
    dp = _first(snapshot, "delivery_point")
    same = bool(std.zip4) and postcode.replace("-", "")[5:] in ("", std.zip4)
    return Recipient(mailing_name(name).upper(), (std.delivery_line,), std.city, std.state, std.zip5,
                     zip4=std.zip4, delivery_point=dp if same and not postal.delivery_point_problem(dp or "x") else None)


# --------------------------------------------------------------------------- photos


class PhotoDerivatives:
    """Print derivatives of evidence photos, made once per photo under `print/derivatives/<sha>.grey.jpg`
    (one channel: notices print in black ink only), usually by the daily run (`notices.print_copies`).

    The original is checked against its digest and for a whole JPEG structure before the derivative is
    made; an existing derivative is reused while the original still matches its digest (checked once per version
    of the file).
    """

    def __init__(self, paths: AppPaths, renderer: DocumentRenderer) -> None:
        self.renderer = renderer
        self.store = EvidenceStore(paths.evidence_dir)
        self.dir = paths.print_dir / "derivatives"
        self._failed: dict[str, Held] = {}  # checked once per run

    def path_for(self, sha256: str) -> Path:
        return self.dir / f"{sha256.lower()}.grey.jpg"  # grey since issue 15 (older colour copies are unused)

    def ensure(self, sha256: str) -> Path | Held:
        """The derivative's path, or why this photo cannot be printed."""
        out = self.path_for(sha256)
        if sha256 in self._failed:
            return self._failed[sha256]
        if out.exists():
            if self.store.check(sha256).status == "mismatch":  # the original altered since its copy was made
                self._failed[sha256] = Held(f"The evidence photo {sha256[:12]}…: {MISMATCH_REASON} (it no "
                                            f"longer matches its recorded digest).")
                return self._failed[sha256]
            return out
        got = self._make(sha256, out)
        if isinstance(got, Held):
            self._failed[sha256] = got
        return got

    def _make(self, sha256: str, out: Path) -> Path | Held:
        try:
            original = self.store.path_for(sha256)
        except Exception:  # noqa: BLE001 - a malformed digest is a damaged record
            return Held(f"The evidence photo's digest '{sha256[:16]}' is not valid.")
        try:
            data = self.store.read_verified(sha256)  # the bytes printed are the bytes checked
        except EvidenceMissing:
            return Held(f"The evidence photo {sha256[:12]}… is missing from the evidence store.")
        except EvidenceTampered:
            return Held(f"The evidence photo {sha256[:12]}…: {MISMATCH_REASON} (it no longer matches its "
                        f"recorded digest).")
        self.dir.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{original.stem[:16]}-", suffix=".jpg", dir=self.dir)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            self.renderer.print_copy(Path(temp), out)
        except (OSError, ValueError, SyntaxError) as exc:  # Pillow's errors for broken files
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            return Held(f"The evidence photo {sha256[:12]}… is damaged and cannot be printed ({detail}).")
        finally:
            Path(temp).unlink(missing_ok=True)
        return out


# --------------------------------------------------------------------------- loading cases in bulk


@dataclass
class CaseFacts:
    """What the builders need about one case, loaded in bulk for a run."""

    citation: Citation
    owner: RegisteredOwner | None
    ledger: list[LedgerEntry] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)
    appeals: list[Appeal] = field(default_factory=list)
    mailed: list[Notice] = field(default_factory=list)  # mailed / returned pieces, oldest first
    photo: EvidenceRow | None = None

    @property
    def balance_cents(self) -> int:
        return sum(e.amount_cents for e in self.ledger)


def load_cases(session: Session, citation_ids: Iterable[int], chunk: int = 500) -> dict[int, CaseFacts]:
    """Every case's row, owner, ledger, holds, appeals, mailed notices and main photo, a few queries per
    `chunk` cases (a run of thousands must not ask the database thousands of times)."""
    ids = sorted(set(citation_ids))
    out: dict[int, CaseFacts] = {}
    for start in range(0, len(ids), chunk):
        part = ids[start:start + chunk]
        cites = list(session.scalars(select(Citation).where(Citation.id.in_(part))))
        owner_ids = {c.owner_id for c in cites if c.owner_id}
        owners = {o.id: o for o in session.scalars(select(RegisteredOwner).where(RegisteredOwner.id.in_(owner_ids)))}
        for c in cites:
            out[c.id] = CaseFacts(c, owners.get(c.owner_id) if c.owner_id else None)
        for e in session.scalars(select(LedgerEntry).where(LedgerEntry.citation_id.in_(part))
                                 .order_by(LedgerEntry.effective_date, LedgerEntry.id)):
            out[e.citation_id].ledger.append(e)
        for h in session.scalars(select(Hold).where(Hold.citation_id.in_(part)).order_by(Hold.id)):
            out[h.citation_id].holds.append(h)
        for a in session.scalars(select(Appeal).where(Appeal.citation_id.in_(part)).order_by(Appeal.id)):
            out[a.citation_id].appeals.append(a)
        for n in session.scalars(select(Notice).where(Notice.citation_id.in_(part),
                                                      Notice.status.in_(("mailed", "returned")),
                                                      Notice.reprint_of.is_(None))
                                 .order_by(Notice.mailed_at, Notice.id)):
            out[n.citation_id].mailed.append(n)
        for p in session.scalars(select(EvidenceRow).where(EvidenceRow.citation_id.in_(part))
                                 .order_by(EvidenceRow.citation_id, EvidenceRow.position, EvidenceRow.id)):
            case = out[p.citation_id]
            if case.photo is None:
                case.photo = p
    return out


# --------------------------------------------------------------------------- the builder


_ENTRY_TEXT = {"fine": "Fine", "penalty": "Penalty", "payment": "Payment", "refund": "Refund",
               "reversal": "Payment returned", "adjustment": "Adjustment", "discount": "Discount",
               "write_off": "Written off", "late_fee_waiver": "Late fees waived", "reinstatement": "Reinstated"}
_METHODS = {"cash": "Cash", "check": "Check", "cheque": "Check", "card": "Card", "ach": "ACH debit",
            "money_order": "Money order", "wire": "Wire transfer"}


class PieceBuilder:
    """Builds the printable data of queued pieces for one run (one `as_of` notice date per zone)."""

    def __init__(self, session: Session, paths: AppPaths, now: datetime, renderer: DocumentRenderer) -> None:
        self.session = session
        self.now = now
        self.renderer = renderer
        self.mail = mail_settings(session, renderer)
        self.photos = PhotoDerivatives(paths, renderer)
        self._agencies: dict[str, AgencyInfo] = {}
        self._profiles: dict[tuple[str, date], prof.JurisdictionProfile] = {}
        self._users: dict[int, str] = {}

    # ---- helpers
    def profile(self, citation: Citation) -> prof.JurisdictionProfile:
        issued = citation.issued_at
        key = (citation.profile_code, issued.date())
        hit = self._profiles.get(key)
        if hit is None:
            try:
                hit = prof.profile_for(citation.profile_code, issued)
            except UserError:
                hit = prof.load_profile(citation.profile_code)
            self._profiles[key] = hit
        return hit

    def agency(self, profile: prof.JurisdictionProfile) -> AgencyInfo:
        """The agency block for the documents of a case under `profile` (read once per profile)."""
        code = profile.code.upper()
        hit = self._agencies.get(code)
        if hit is None:
            hit = self._agencies[code] = agency_info(self.session, code)
        return hit

    def today(self, profile: prof.JurisdictionProfile) -> date:
        return self.now.astimezone(profile.tz).date()

    def local_date(self, value: datetime, profile: prof.JurisdictionProfile) -> date:
        return value.astimezone(profile.tz).date()

    def user_name(self, user_id: int | None) -> str:
        if user_id is None:
            return "the review officer"
        if user_id not in self._users:
            u = self.session.get(User, user_id)
            self._users[user_id] = u.full_name if u else f"user {user_id}"
        return self._users[user_id]

    def facts(self, case: CaseFacts) -> CitationFacts:
        """The citation as printed; times in the zone of the case's jurisdiction."""
        c = case.citation
        penalties = sum(e.amount_cents for e in case.ledger if e.kind == "penalty")
        paid = -sum(e.amount_cents for e in case.ledger if e.kind in ("payment", "reversal"))
        return CitationFacts(
            citation_number=c.citation_number, issued_at=c.issued_at, timezone_name=self.profile(c).timezone,
            plate=c.plate, plate_jurisdiction=c.jurisdiction, make=make_name(c.make),
            color=colour_name(c.color, self.profile(c).spelling),
            location=c.address or c.zone_code or f"{c.lat:.5f}, {c.lon:.5f}",
            violation_code=c.violation_code, violation_description=c.violation_description,
            fine_cents=c.fine_cents, penalty_cents=penalties, paid_cents=max(paid, 0),
            balance_cents=case.balance_cents, officer_badge=c.officer_badge or "",
            plate_type=c.plate_type or "", meter_number=(c.space or "") if (c.space or "").startswith("M-") else "",
            plate_expiry=c.registration_expiry or "",
        )

    def ledger_lines(self, case: CaseFacts) -> tuple[LedgerLine, ...]:
        return tuple(LedgerLine(e.effective_date, e.memo or _ENTRY_TEXT.get(e.kind, e.kind), e.amount_cents)
                     for e in case.ledger)

    def events(self, case: CaseFacts, profile: prof.JurisdictionProfile) -> list[case_plan.CaseEvent]:
        stages = {s.key for s in profile.stages}
        levels = {lv.key for lv in profile.appeal_levels}
        out: list[case_plan.CaseEvent] = []
        for n in case.mailed:
            if n.stage in stages and n.mailed_at is not None:
                out.append(case_plan.NoticeMailed(n.stage, self.local_date(n.mailed_at, profile)))
        for h in case.holds:
            if h.kind == "appeal":
                continue  # an appeal's pause comes from the appeal itself
            out.append(case_plan.Hold(self.local_date(h.started_at, profile),
                                 self.local_date(h.ended_at, profile) if h.ended_at else None, h.kind))
        for a in case.appeals:
            if a.level not in levels or a.status == "withdrawn":
                continue
            out.append(case_plan.ContestFiled(a.level, self.local_date(a.filed_at, profile)))
            if a.decided_at is not None and a.decision:
                outcome = _outcome(a.decision)
                if outcome is not None:
                    letter = next((n.mailed_at for n in case.mailed if n.dedupe_key == f"decision_letter:{a.id}"
                                   and n.mailed_at is not None), None)
                    out.append(case_plan.ContestDecided(a.level, self.local_date(a.decided_at, profile), outcome,
                                                        a.reduced_fine_cents,
                                                        self.local_date(letter, profile) if letter else None))
        return out

    def recipient(self, notice: Notice, case: CaseFacts, profile_code: str) -> Recipient | Held:
        owner = case.owner if (notice.owner_id in (None, case.citation.owner_id)) else None
        if owner is None and notice.owner_id:
            owner = self.session.get(RegisteredOwner, notice.owner_id)
        if owner is not None and owner.address_status == "bad":
            return Held(f"Mail to {mailing_name(owner.name)} came back undeliverable "
                        f"({owner.address_problem or 'returned mail'}); a new owner lookup is needed.")
        snapshot = notice.address_snapshot or (address_snapshot(owner) if owner is not None else None)
        return recipient_from_snapshot(snapshot, profile_code)

    def photo(self, case: CaseFacts) -> EvidencePhoto | None | Held:
        row = case.photo
        if row is None:
            return None  # no photo taken: the notice says photographs can be seen on request
        if row.integrity in ("integrity_failed", "missing"):
            why = row.integrity_reason or row.integrity.replace("_", " ")
            return Held(f"The main evidence photo failed its integrity check ({why}); it cannot be printed.")
        path = self.photos.ensure(row.sha256)
        if isinstance(path, Held):
            return path
        caption = {"plate": "Plate", "context": "Scene"}.get(row.caption or "", row.caption or "")
        return EvidencePhoto(str(path), caption, row.taken_at, row.sha256)

    # ---- entry point
    def build(self, notice: Notice, case: CaseFacts | None) -> PieceData | Held:
        kind = DOCUMENT_KINDS.get(notice.kind)
        if kind is None:
            return Held(f"Curbdesk has no printed document for '{notice.kind.replace('_', ' ')}' pieces yet; "
                        f"prepare it by hand and cancel this piece.")
        if case is None:
            return Held("The case of this notice no longer exists.", cancel=True)
        c = case.citation
        if kind.is_notice:
            status = CaseStatus(c.status)
            if status in CLOSED_STATES:
                return Held(f"The case is {status.label.lower()}: the notice is no longer due.", cancel=True)
            if status is CaseStatus.UNDER_APPEAL:
                return Held("The case is under appeal: notices pause until it is decided.")
            active = [h for h in case.holds if h.ended_at is None]
            if active:
                return Held(f"The case is on hold ({active[0].kind.replace('_', ' ')}: {active[0].reason}).")
        profile = self.profile(c)
        code = profile.code.upper()
        recipient = self.recipient(notice, case, code)
        if isinstance(recipient, Held) and notice.kind in _APPEAL_LETTERS:
            appellant = self._appellant(notice, case, code)  # an appellant may write from another address
            recipient = appellant if appellant is not None else recipient
        if isinstance(recipient, Held):
            return recipient
        try:
            if kind.notice_kind is not None:
                data: Any = self._notice(notice, case, kind.notice_kind, profile, recipient)
                if isinstance(data, Held):
                    return data
            else:
                data = getattr(self, f"_{notice.kind}")(notice, case, profile, recipient)
                if isinstance(data, Held):
                    return data
        except UserError as exc:
            return Held(str(exc))
        sort_key = f"{recipient.routing_code or recipient.zip_code:0<11}|{c.citation_number}"
        return PieceData(notice.id, c.id, c.citation_number, notice.kind, code, data, sort_key,
                         reprint=notice.reprint_of is not None)

    # ---- the notices of the escalation ladder
    def _notice(self, notice: Notice, case: CaseFacts, kind: NoticeKind, profile: prof.JurisdictionProfile,
                recipient: Recipient) -> NoticeData | Held:
        c = case.citation
        notice_date = self.today(profile)
        if kind is NoticeKind.VIOLATION and profile.code.upper() == "ENG":
            kind = NoticeKind.NOTICE_TO_OWNER
        events = self.events(case, profile)
        stage_key = notice.stage if notice.stage in {s.key for s in profile.stages} else None
        if stage_key is None:
            stage_key = _stage_for_kind(profile, notice.kind, kind)
        already = any(isinstance(e, case_plan.NoticeMailed) and e.stage_key == stage_key for e in events)
        if stage_key is not None and not already and notice.reprint_of is None:
            events.append(case_plan.NoticeMailed(stage_key, notice_date))
        schedule = case_plan.plan_case(profile, c.issued_at, c.fine_cents, events, as_of=notice_date)
        balance = case.balance_cents
        index = profile.stage_index(stage_key) if stage_key else 0
        if stage_key is not None and notice.reprint_of is None and index > 0:
            early = self._before_its_time(profile, profile.stages[index], schedule.stage_start(stage_key), notice_date)
            if early is not None:
                return early
        later = profile.stages[index + 1:]
        steps: list[PenaltyStep] = []
        running = balance
        due_date: date | None = None
        after: int | None = None
        for stage in later:
            start = schedule.stage_start(stage.key)
            if start is None:
                break
            if due_date is None:
                due_date = start - timedelta(days=1)
            added = stage.penalty.amount_cents(schedule.fine_cents)
            if added > 0:
                running += added
                if after is None:
                    after = running
                steps.append(PenaltyStep(stage.name, start - timedelta(days=1), added, running))
        if due_date is None:
            last = profile.stages[index]
            days = last.final_deadline_days or last.contest_deadline_days or 21
            due_date = notice_date + timedelta(days=days)
        if due_date < notice_date:
            return Held(f"Its pay-by date, {due_date:%d %b %Y}, has passed on the day it would be mailed; the daily "
                        f"escalation must move the case to its next step before a notice goes out.")
        discount_cents = discount_deadline = None
        if (schedule.discount is not None and balance == schedule.fine_cents
                and schedule.discount.until >= notice_date):
            discount_cents, discount_deadline = schedule.discount.amount_payable_cents, schedule.discount.until
        contest_deadline = schedule.contest_deadline
        if stage_key is not None and profile.stages[index].contest_deadline_days is None:
            contest_deadline = None  # this notice opens no window (England's Charge Certificate: no contest line)
        if contest_deadline is not None and contest_deadline < notice_date:
            contest_deadline = None  # a window that closed before this notice is not printed as a deadline
        photo = self.photo(case)
        if isinstance(photo, Held):
            return photo
        previous = max((e.mailed_on for e in events if isinstance(e, case_plan.NoticeMailed)
                        and e.stage_key != stage_key), default=None)
        data = NoticeData(
            kind=kind, profile_code=profile.code.upper(), agency=self.agency(profile), recipient=recipient,
            facts=self.facts(case), notice_date=notice_date, amount_due_cents=max(balance, 0),
            due_date=due_date, amount_due_after_cents=after, discount_cents=discount_cents,
            discount_deadline=discount_deadline, contest_deadline=contest_deadline,
            penalty_schedule=tuple(steps), photo=photo, ledger=self.ledger_lines(case),
            mail=self.mail.piece(notice.serial or 0), reprint=notice.reprint_of is not None,
            previous_notice_date=previous,
        )
        if not self.renderer.prints_notice(data):
            return Held(f"A {kind_label(notice.kind).lower()} does not exist under the {profile.name} rules.")
        return data

    @staticmethod
    def _before_its_time(profile: prof.JurisdictionProfile, stage: prof.Stage, legal_start: date | None,
                         notice_date: date) -> Held | None:
        """Why the notice of `stage` may not be mailed on `notice_date` (None when it may): the law's time
        for it has not come (England's Charge Certificate: only after the 28 days beginning with the service
        of the Notice to Owner or of the notice of rejection, reg. 21 of the 2007 General Regulations)."""
        if legal_start is None:
            return Held(f"The {stage.name} cannot go out yet: the notice before it has not been mailed, or a hold "
                        f"or an undecided appeal keeps its date open.")
        if legal_start > notice_date:
            why = f" ({stage.note})" if stage.note else ""
            return Held(f"The {stage.name} may not be served before {legal_start:%d %b %Y} under the {profile.name} "
                        f"rules{why}; it waits in the queue and the first run on or after that day prints it.",
                        wait=True)
        return None

    # ---- letters queued by other areas
    @staticmethod
    def _letter_target(notice: Notice) -> int | None:
        """The row a letter is about (appeal, hearing, refund or payment id), from its dedupe key
        "<kind>:<id>" when the queuing area set one; else the case's latest such row is used."""
        m = re.search(r":(\d+)$", notice.dedupe_key or "")
        return int(m.group(1)) if m else None

    def _appeal(self, notice: Notice, case: CaseFacts, decided: bool = False) -> Appeal | Held:
        target = self._letter_target(notice)
        appeals = [a for a in case.appeals if (target is None or a.id == target)]
        if decided:
            appeals = [a for a in appeals if a.decision]
        if not appeals:
            return Held("The appeal this letter is about cannot be found" + (" or is not decided yet." if decided
                                                                             else "."))
        return appeals[-1]

    def _level_name(self, profile: prof.JurisdictionProfile, level: str) -> str:
        try:
            return profile.appeal_level(level).name
        except UserError:
            return level.replace("_", " ").capitalize()

    def _appellant(self, notice: Notice, case: CaseFacts, profile_code: str) -> Recipient | None:
        appeal = self._appeal(notice, case)
        if isinstance(appeal, Held) or not appeal.appellant_address:
            return None
        got = recipient_from_snapshot({"name": appeal.appellant_name, "address_raw": appeal.appellant_address},
                                      profile_code)
        return got if isinstance(got, Recipient) else None

    def _appeal_recipient(self, appeal: Appeal, fallback: Recipient, profile_code: str) -> Recipient:
        if appeal.appellant_address:
            got = recipient_from_snapshot({"name": appeal.appellant_name, "address_raw": appeal.appellant_address},
                                          profile_code)
            if isinstance(got, Recipient):
                return got
        return fallback

    @staticmethod
    def _served_too_late(profile: prof.JurisdictionProfile, appeal: Appeal, decision: Decision,
                         letter_date: date) -> Held | None:
        """England: a rejection must be SERVED within the 56 days beginning with receipt of the representations
        (reg. 6(3), (4)(b), (7) of the Representations and Appeals Regulations 2022); ``decide_by`` is the last
        day it can be posted (``case_plan.decision_deadline``). Posted later it would count for nothing and the
        representations are deemed accepted, so it is held for a supervisor rather than printed."""
        level = next((lv for lv in profile.appeal_levels if lv.key == appeal.level), None)
        if (decision is Decision.DISMISSED or appeal.status == "deemed_accepted" or level is None
                or not level.deemed_accepted_if_undecided or appeal.decide_by is None
                or letter_date <= appeal.decide_by):
            return None
        return Held(f"Posted today this decision would be served on {profile.service.served_on(letter_date):%d %b %Y}, "
                    f"after the {level.decision_within_days} days beginning with the day the representations were "
                    f"received (the last day to post it was {appeal.decide_by:%d %b %Y}): by law they are deemed "
                    f"accepted ({level.legal_basis}); a supervisor must cancel the penalty charge.")

    def _decision_letter(self, notice: Notice, case: CaseFacts, profile: prof.JurisdictionProfile,
                         recipient: Recipient) -> DecisionLetterData | Held:
        appeal = self._appeal(notice, case, decided=True)
        if isinstance(appeal, Held):
            return appeal
        decision = {"upheld": Decision.UPHELD, "rejected": Decision.UPHELD, "dismissed": Decision.DISMISSED,
                    "accepted": Decision.DISMISSED, "reduced": Decision.REDUCED}.get(appeal.decision or "")
        if decision is None:
            return Held(f"The appeal's decision '{appeal.decision}' has no decision letter.")
        balance = case.balance_cents
        c = case.citation
        new_amount = {Decision.DISMISSED: 0, Decision.REDUCED: appeal.reduced_fine_cents or c.fine_cents,
                      Decision.UPHELD: c.fine_cents}[decision]
        letter_date = self.today(profile)  # the day it is printed is the day it is mailed
        late = self._served_too_late(profile, appeal, decision, letter_date)
        if late is not None:
            return late
        agency = self.agency(profile)
        number = appeal_number(appeal)
        terms = decision_terms(profile, agency, appeal.level, _outcome(appeal.decision or "") or
                               prof.ContestOutcome.UPHELD, letter_date, max(balance, 0), new_amount,
                               f"appeal {number}")
        deemed = appeal.status == "deemed_accepted"
        return DecisionLetterData(
            profile_code=profile.code.upper(), agency=agency,
            recipient=self._appeal_recipient(appeal, recipient, profile.code), letter_date=letter_date,
            appeal_number=number, facts=self.facts(case), level=self._level_name(profile, appeal.level),
            decision=decision, reason_text=appeal.decision_reason or "",
            decided_by=("operation of law (no decision within the time allowed)" if deemed
                        else self.user_name(appeal.decided_by)),
            original_amount_cents=c.fine_cents, new_amount_cents=new_amount, amount_due_cents=max(balance, 0),
            pay_by_date=terms.pay_by, refund_due_cents=max(-balance, 0),
            next_level=terms.next_level, next_level_deadline=terms.next_level_deadline,
            next_level_instructions=terms.next_level_instructions,
            mail=self.mail.piece(notice.serial or 0),
            discount_cents=terms.discount_cents, discount_deadline=terms.discount_deadline,
        )

    def _appeal_acknowledgement(self, notice: Notice, case: CaseFacts, profile: prof.JurisdictionProfile,
                                recipient: Recipient) -> AcknowledgementData | Held:
        appeal = self._appeal(notice, case)
        if isinstance(appeal, Held):
            return appeal
        ground_text = {g.key: g.text for g in profile.grounds}
        grounds = "; ".join(ground_text.get(str(g), str(g)) for g in appeal.grounds or [])
        docs = tuple(self.session.scalars(select(AppealDocument.filename)
                                          .where(AppealDocument.appeal_id == appeal.id).order_by(AppealDocument.id)))
        return AcknowledgementData(
            profile_code=profile.code.upper(), agency=self.agency(profile),
            recipient=self._appeal_recipient(appeal, recipient, profile.code), letter_date=self.today(profile),
            appeal_number=appeal_number(appeal), facts=self.facts(case), received_at=appeal.filed_at,
            channel=appeal.channel.replace("_", " ").capitalize(), level=self._level_name(profile, appeal.level),
            grounds=grounds, documents_received=docs,
            decision_due_by=decision_expected(appeal.decide_by, self.today(profile)),
            penalties_paused=True, mail=self.mail.piece(notice.serial or 0),
        )

    def _hearing_notice(self, notice: Notice, case: CaseFacts, profile: prof.JurisdictionProfile,
                        recipient: Recipient) -> HearingNoticeData | Held:
        target = self._letter_target(notice)
        appeal_ids = [a.id for a in case.appeals]
        q = select(Hearing).where(Hearing.appeal_id.in_(appeal_ids), Hearing.status.in_(("scheduled", "adjourned")))
        if target is not None:
            q = select(Hearing).where(Hearing.id == target)
        hearing = self.session.scalars(q.order_by(Hearing.scheduled_at.desc())).first()
        if hearing is None:
            return Held("No scheduled hearing was found for this hearing notice.")
        appeal = next((a for a in case.appeals if a.id == hearing.appeal_id), None)
        if appeal is None:
            return Held("The hearing's appeal belongs to another case.")
        letter_date = self.today(profile)
        hearing_day = self.local_date(hearing.scheduled_at, profile)
        if hearing_day < profile.service.served_on(letter_date):
            return Held(f"The hearing on {hearing_day:%d %b %Y} would be over before this notice is served; "
                        f"schedule a new hearing date (a new notice is queued with it) and cancel this piece.")
        mode = {"phone": "Telephone", "telephone": "Telephone"}.get(hearing.mode,
                                                                    hearing.mode.replace("_", " ").capitalize())
        instructions = {
            "In person": "Check in at the hearing office reception 15 minutes before the time above.",
            "Video": "A link to join will be e-mailed to you the day before; you may also ask for it by phone.",
            "Telephone": "The hearing officer will call you at the number on your request at the time above.",
            "Written": "No attendance: the hearing officer decides on the evidence on file.",
        }.get(mode, "")
        return HearingNoticeData(
            profile_code=profile.code.upper(), agency=self.agency(profile),
            recipient=self._appeal_recipient(appeal, recipient, profile.code), letter_date=self.today(profile),
            appeal_number=appeal_number(appeal), facts=self.facts(case), hearing_at=hearing.scheduled_at, mode=mode,
            location_lines=tuple(p.strip() for p in (hearing.location or "").split(",") if p.strip()),
            join_instructions=instructions,
            reschedule_by=reschedule_by(profile, hearing_day, letter_date, 7),
            what_to_bring=("This notice", "Photo identification",
                           "Any evidence: photographs, receipts, permits, witness statements"),
            mail=self.mail.piece(notice.serial or 0),
        )

    def _payments(self, case: CaseFacts) -> list[Payment]:
        ids = [e.payment_id for e in case.ledger if e.payment_id]
        if not ids:
            return []
        return list(self.session.scalars(select(Payment).where(Payment.id.in_(ids)).order_by(Payment.received_at)))

    def _refund_letter(self, notice: Notice, case: CaseFacts, profile: prof.JurisdictionProfile,
                       recipient: Recipient) -> RefundLetterData | Held:
        # an appeal's refund letter ("refund_letter:appeal:<appeal id>") names its refund in the snapshot; a
        # payments refund letter ("refund_letter:<refund id>") in its key
        snap = notice.address_snapshot if isinstance(notice.address_snapshot, dict) else {}
        target = snap.get("refund_id")
        if target is None and ":appeal:" not in (notice.dedupe_key or ""):
            target = self._letter_target(notice)
        q = select(Refund).where(Refund.citation_id == case.citation.id)
        if target is not None:
            q = q.where(Refund.id == int(target))
        refund = self.session.scalars(q.order_by(Refund.id.desc())).first()
        if refund is None or refund.status == "rejected":
            return Held("No approved refund was found for this refund letter.")
        if refund.status != "approved":
            return Held("The refund has not been approved yet: the letter waits for the approval.")
        payments = [p for p in self._payments(case) if p.status != "reversed"]
        last = payments[-1] if payments else None
        refund_entry = next((e for e in reversed(case.ledger) if e.kind == "refund"), None)
        method = self.agency(profile).spell("Check")
        if last is not None and last.method == "card":
            method = "Credit to the card used" + (f" (ending {last.card_last4})" if last.card_last4 else "")
        if refund.payee_name:
            uk = profile.code.upper() == "ENG"
            recipient = replace(recipient, name=envelope_name(refund.payee_name, uk=uk) if uk
                                else mailing_name(refund.payee_name).upper())
        return RefundLetterData(
            profile_code=profile.code.upper(), agency=self.agency(profile), recipient=recipient,
            letter_date=self.today(profile), citation_number=case.citation.citation_number,
            refund_cents=refund.amount_cents, reason=refund.reason, refund_method=method,
            refund_reference=(refund_entry.memo or "") if refund_entry else "",
            payment_date=last.value_date if last else None, payment_cents=last.amount_cents if last else None,
            ledger=self.ledger_lines(case), mail=self.mail.piece(notice.serial or 0),
        )

    def _reversal_letter(self, notice: Notice, case: CaseFacts, profile: prof.JurisdictionProfile,
                         recipient: Recipient) -> ReversalLetterData | Held:
        target = self._letter_target(notice)
        payments = [p for p in self._payments(case) if p.status == "reversed" and (target is None or p.id == target)]
        if not payments:
            return Held("No returned payment was found for this letter.")
        payment = payments[-1]
        reversal = next((e for e in reversed(case.ledger)
                         if e.kind == "reversal" and e.payment_id in (payment.id, None)), None)
        # the bank's reason as the payments office recorded it ("R01 insufficient funds"); the ledger memo
        # ("payment 598 reversed: ...") is the office's own note and is not printed
        memo = (payment.reversal_reason or "").strip()
        if not memo and reversal is not None:
            memo = re.sub(r"^payment \d+ reversed:\s*", "", reversal.memo or "")
        m = re.match(r"\s*(R\d{2}|[A-Z]{1,2}\d{1,3})\b[\s:,-]*(.*)", memo)
        code, reason = (m.group(1), m.group(2) or "returned by the bank") if m else ("", memo)
        fee = sum(e.amount_cents for e in case.ledger
                  if e.amount_cents > 0 and e.kind in ("penalty", "adjustment")
                  and "fee" in ((e.memo or "") + (e.dedupe_key or "")).lower()
                  and "return" in ((e.memo or "") + (e.dedupe_key or "")).lower())
        today = self.today(profile)
        return ReversalLetterData(
            profile_code=profile.code.upper(), agency=self.agency(profile), recipient=recipient, letter_date=today,
            citation_number=case.citation.citation_number, payment_date=payment.value_date,
            amount_cents=payment.amount_cents,
            instrument=self.agency(profile).spell(_METHODS.get(payment.method, payment.method.title())),
            instrument_reference=(f"no. {payment.cheque_number}" if payment.cheque_number
                                  else payment.reference or payment.external_id),
            return_reason_code=code, return_reason=reason, returned_item_fee_cents=fee,
            balance_cents=max(case.balance_cents, 0), pay_by_date=today + timedelta(days=21),
            mail=self.mail.piece(notice.serial or 0),
        )


_APPEAL_LETTERS = frozenset({"decision_letter", "hearing_notice", "appeal_acknowledgement"})


def appeal_number(appeal: Appeal) -> str:
    """The one appeal reference every screen and letter shows (``desktop.domain.appeals.appeal_number``)."""
    return appeal_reference(appeal.id)


def _outcome(decision: str) -> prof.ContestOutcome | None:
    mapping = {"upheld": prof.ContestOutcome.UPHELD, "rejected": prof.ContestOutcome.UPHELD,
               "dismissed": prof.ContestOutcome.DISMISSED, "accepted": prof.ContestOutcome.DISMISSED,
               "reduced": prof.ContestOutcome.REDUCED}
    return mapping.get(decision)


def _stage_for_kind(profile: prof.JurisdictionProfile, kind_key: str, kind: NoticeKind) -> str | None:
    """The profile stage whose notice this is, when the queued row did not say."""
    for stage in profile.stages:
        if stage.notice_kind == kind_key:
            return stage.key
    if kind is NoticeKind.VIOLATION:
        return profile.stages[0].key
    noticed = [s for s in profile.stages if s.notice_kind]
    by_name = {NoticeKind.NOTICE_TO_OWNER: "notice_to_owner", NoticeKind.CHARGE_CERTIFICATE: "charge_certificate"}
    if kind in by_name:
        return next((s.key for s in noticed if s.notice_kind == by_name[kind]), None)
    if not noticed:
        return None
    return noticed[0].key if kind is NoticeKind.DELINQUENT else noticed[-1].key


def group_key(piece: PieceData) -> tuple[str, str]:
    return piece.kind, piece.profile_code


def batches_of(pieces: Sequence[PieceData], size: int) -> list[list[PieceData]]:
    """Pieces grouped by (kind, profile), presorted by ZIP+4 within a group, cut into batches of `size`."""
    groups: dict[tuple[str, str], list[PieceData]] = defaultdict(list)
    for p in pieces:
        groups[group_key(p)].append(p)
    out: list[list[PieceData]] = []
    for key in sorted(groups):
        items = sorted(groups[key], key=lambda p: p.sort_key)
        out.extend(items[i:i + size] for i in range(0, len(items), size))
    return out
