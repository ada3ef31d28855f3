"""The mapped tables: the whole case life cycle, from field event to closed case.

(Over 600 lines, knowingly: every mapped table in one module, which Alembic's autogenerate and the schema
test compare with the migrations.)

Money columns are integer cents. Time columns are UTC and come back tz-aware.
A case's balance is never stored: it is the sum of its ledger entries.
Identifiers from outside (citation numbers, event ids, digests) are kept exactly as received.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    literal_column,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from desktop.domain import text
from desktop.persistence.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Every text column declares its width (issue 14): what a clerk, a file or a device gives is checked against
#: it in the services (``desktop.domain.text.clean_text``), the importers and the wire schema, and
#: :func:`desktop.persistence.db.refuse_unstorable_text` checks every ORM write, so neither database ever
#: sees a value the other would refuse. Text people enter is ``String(n)`` (``varchar(n)``: PostgreSQL
#: enforces it too); text the application writes itself (raw events, reasons it composes) is ``Text(n)``,
#: the width enforced by the writer and that check.
#: the largest raw field event kept (the sync client refuses larger pages long before)
RAW_EVENT = 2_000_000
#: an audit entry's reason: a user's reason (at most ``text.REASON``) with the application's words around it
AUDIT_REASON = 2 * text.REASON

#: A big integer key that SQLite still treats as the rowid alias.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


# --------------------------------------------------------------------------- people


class User(Base):
    """A person who signs in: clerk, hearing officer, mail office, supervisor or admin."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    #: set by too many failed sign-ins; the account signs in again after this time (security.lockout_minutes)
    locked_until: Mapped[datetime | None]
    #: set by an administrator's password reset: nothing but choosing a new password until it is chosen
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: HMAC of username, role, active and password hash under the office's audit key (desktop.services.core.seal)
    row_mac: Mapped[str | None] = mapped_column(String(64))


class ApiToken(Base):
    """A credential for unattended command-line jobs: acts as its user, limited to one scope of commands.

    Only the SHA-256 of the secret is kept (the secret is 256 random bits, shown once when issued)."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    scope: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class Officer(Base):
    """An enforcement officer, known by badge number."""

    __tablename__ = "officers"
    badge: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


# --------------------------------------------------------------------------- field


class SyncEndpoint(Base):
    """A field endpoint the office pulls from; its cursor is committed with the events."""

    __tablename__ = "sync_endpoints"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    url: Mapped[str] = mapped_column(String(500))
    ca_bundle: Mapped[str | None] = mapped_column(String(500))
    cursor: Mapped[str | None] = mapped_column(String(200))
    acked_cursor: Mapped[str | None] = mapped_column(String(200))
    auto_sync_minutes: Mapped[int] = mapped_column(Integer, default=0)
    last_sync_at: Mapped[datetime | None]
    last_result: Mapped[str | None] = mapped_column(Text(4000))
    reference_versions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Device(Base):
    """A handheld. Its Ed25519 key, when registered, makes signatures mandatory."""

    __tablename__ = "devices"
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    officer_badge: Mapped[str | None] = mapped_column(String(32))
    public_key: Mapped[str | None] = mapped_column(String(100))
    endpoint_id: Mapped[str | None] = mapped_column(String(100))
    app_version: Mapped[str | None] = mapped_column(String(32))
    last_seen_at: Mapped[datetime | None]
    last_seq: Mapped[int | None] = mapped_column(BigInteger)
    pending_events: Mapped[int | None] = mapped_column(Integer)
    #: Missing sequence numbers as [[first, last], ...]; empty when complete.
    seq_gaps: Mapped[list[Any]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class FieldEvent(Base):
    """Every field event received, kept as received (dedupe by event_id)."""

    __tablename__ = "field_events"
    event_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64), index=True)
    seq: Mapped[int | None] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime | None]
    received_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(200))
    #: applied, skipped (unknown type), quarantined
    outcome: Mapped[str] = mapped_column(String(32))
    raw: Mapped[str] = mapped_column(Text(RAW_EVENT))


class QuarantinedEvent(Base):
    """An event that failed validation, with the reason, waiting for a supervisor."""

    __tablename__ = "quarantine"
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str | None] = mapped_column(String(100), index=True)
    device_id: Mapped[str | None] = mapped_column(String(64))
    type: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text(4000))
    raw: Mapped[str] = mapped_column(Text(RAW_EVENT))
    source: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime]
    #: open, discarded, resubmitted
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(String(text.REASON))


class ImportedBundle(Base):
    """A dock bundle already imported (by the digest of its file)."""

    __tablename__ = "imported_bundles"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    filename: Mapped[str] = mapped_column(String(300))
    device_id: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime]
    event_count: Mapped[int] = mapped_column(Integer)


class PatrolShift(Base):
    """An officer's shift in a zone (``patrol.shift``): the hours patrolled of the compliance statistics."""

    __tablename__ = "patrol_shifts"
    #: the patrol statistics read a period's shifts from this index alone (desktop.services.patrol.stats)
    __table_args__ = (Index("ix_patrol_shift_started_zone", "started_at", "zone_code", "ended_at"),)
    event_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    officer_badge: Mapped[str] = mapped_column(String(32))
    zone_code: Mapped[str] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    vehicles_checked: Mapped[int] = mapped_column(Integer, default=0)


class PatrolCheck(Base):
    """A vehicle checked and found compliant: the other half of the compliance rate."""

    __tablename__ = "patrol_checks"
    #: the patrol statistics count a period's checks from this index alone (desktop.services.patrol.stats)
    __table_args__ = (Index("ix_patrol_check_zone_checked", "zone_code", "checked_at"),)
    event_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    zone_code: Mapped[str] = mapped_column(String(64), index=True)
    checked_at: Mapped[datetime]
    plate: Mapped[str] = mapped_column(String(16))
    jurisdiction: Mapped[str] = mapped_column(String(8))
    result: Mapped[str] = mapped_column(String(16))


class PatrolPlan(Base):
    """The patrol plan of one day: the beats now in force (``patrol_plan_beats``), its version (optimistic:
    a save names the version it was made from and is refused when another save came first) and the
    constraints and roster it was made with."""

    __tablename__ = "patrol_plans"
    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    constraints: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    roster: Mapped[list[Any]] = mapped_column(JSON, default=list)
    problems: Mapped[list[Any]] = mapped_column(JSON, default=list)
    saved_at: Mapped[datetime]
    saved_by: Mapped[str] = mapped_column(String(100))
    beats: Mapped[list[PatrolPlanBeat]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", lazy="selectin", order_by="PatrolPlanBeat.position")


class PatrolPlanBeat(Base):
    """One officer's beat: the zones in visiting order with minutes and travel (``[{zone, minutes,
    travel_minutes}]``)."""

    __tablename__ = "patrol_plan_beats"
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("patrol_plans.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    officer_badge: Mapped[str] = mapped_column(String(32))
    officer_name: Mapped[str] = mapped_column(String(200))
    shift_start: Mapped[str | None] = mapped_column(String(5))
    shift_minutes: Mapped[int] = mapped_column(Integer)
    stops: Mapped[list[Any]] = mapped_column(JSON, default=list)
    plan: Mapped[PatrolPlan] = relationship(back_populates="beats")


class PatrolPlanVersion(Base):
    """Every saved version of a plan, whole, as saved (who, when): nothing a save replaced is lost."""

    __tablename__ = "patrol_plan_versions"
    __table_args__ = (UniqueConstraint("plan_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("patrol_plans.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    saved_at: Mapped[datetime]
    saved_by: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(String(500))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)


# --------------------------------------------------------------------------- reference


class Zone(Base):
    """An enforcement zone: its polygon and its regulations (data, not code)."""

    __tablename__ = "zones"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    geometry: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    regulations: Mapped[list[Any]] = mapped_column(JSON, default=list)
    centroid_lat: Mapped[float | None]
    centroid_lon: Mapped[float | None]
    source: Mapped[str | None] = mapped_column(String(200))


class ViolationCode(Base):
    """A fine schedule line: the fine for a code from a date on."""

    __tablename__ = "violation_codes"
    __table_args__ = (UniqueConstraint("code", "effective_from"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), index=True)
    description: Mapped[str] = mapped_column(String(300))
    fine_cents: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    #: what rule the code enforces (time_limit, street_cleaning, meter, no_parking, permit_only, other)
    kind: Mapped[str] = mapped_column(String(32), default="other")


class Permit(Base):
    __tablename__ = "permits"
    id: Mapped[int] = mapped_column(primary_key=True)
    permit_number: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[str] = mapped_column(String(64))
    holder_name: Mapped[str | None] = mapped_column(String(200))
    zones: Mapped[list[Any]] = mapped_column(JSON, default=list)
    valid_from: Mapped[datetime]
    valid_to: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="active")
    plates: Mapped[list[PermitPlate]] = relationship(
        back_populates="permit", cascade="all, delete-orphan", lazy="selectin"
    )


class PermitPlate(Base):
    __tablename__ = "permit_plates"
    id: Mapped[int] = mapped_column(primary_key=True)
    permit_id: Mapped[int] = mapped_column(ForeignKey("permits.id"), index=True)
    plate: Mapped[str] = mapped_column(String(16), index=True)
    jurisdiction: Mapped[str] = mapped_column(String(8))
    permit: Mapped[Permit] = relationship(back_populates="plates")


class HotlistEntry(Base):
    __tablename__ = "hotlist"
    id: Mapped[int] = mapped_column(primary_key=True)
    plate: Mapped[str] = mapped_column(String(16), index=True)
    jurisdiction: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(32))
    since: Mapped[datetime]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    cleared_at: Mapped[datetime | None]


class JurisdictionProfileVersion(Base):
    """A version of a jurisdiction profile; a case uses the version in force on its issue date."""

    __tablename__ = "jurisdiction_profiles"
    __table_args__ = (UniqueConstraint("code", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[date] = mapped_column(Date)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Setting(Base):
    """An agency setting (declared in desktop.services.core.settings with type, default and help)."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)


#: PostgreSQL-only indexes on an expression (migration pgscale_0001), which alembic cannot compare
EXPRESSION_INDEXES = {"ix_owner_name_key_c", "ix_owner_address_line1_c", "ix_citation_address_c"}
#: The citation number as payments and the counter compare it: upper case, without dashes and spaces
#: (``domain.matching.normalise_citation``). The SQL text of the index ``ix_citation_number_key`` (migration
#: payments_0002, both databases); ``citation_number_key()`` is the same expression for queries.
CITATION_NUMBER_KEY_SQL = "replace(replace(upper(citation_number), '-', ''), ' ', '')"
#: indexes on an expression on both databases, which alembic cannot compare either
EVERYWHERE_EXPRESSION_INDEXES = {"ix_citation_number_key"}
#: SQLite-only indexes (``ddl_if``), which alembic would expect on PostgreSQL too (migration scale_0002)
SQLITE_ONLY_INDEXES = {"ix_citations_address"}

# --------------------------------------------------------------------------- owners


class RegisteredOwner(Base):
    """A registry response: who a plate was registered to, and when."""

    __tablename__ = "registered_owners"
    __table_args__ = (
        Index("ix_owner_plate_valid", "plate", "jurisdiction", "valid_from"),
        # PostgreSQL under a linguistic collation (en_US, ICU) uses no plain index for LIKE 'GARCIA%': the
        # owner-name and address searches read these byte-ordered ones instead (migration pgscale_0001)
        Index("ix_owner_name_key_c", sql_text('(name_key COLLATE "C")'), "id").ddl_if(dialect="postgresql"),
        Index("ix_owner_address_line1_c", sql_text('(address_line1 COLLATE "C")')).ddl_if(dialect="postgresql"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    plate: Mapped[str] = mapped_column(String(16))
    jurisdiction: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(200))
    #: upper-cased name for indexed prefix search
    name_key: Mapped[str] = mapped_column(String(200), index=True)
    address_raw: Mapped[str] = mapped_column(String(text.ADDRESS))
    address_line1: Mapped[str | None] = mapped_column(String(200), index=True)
    address_line2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(8))
    zip: Mapped[str | None] = mapped_column(String(10))
    #: the USPS delivery point (2 digits) of a ZIP+4 address, when the registry gives it (IMb routing code)
    delivery_point: Mapped[str | None] = mapped_column(String(2))
    #: ok, unparsed (a clerk must fix it), bad (mail came back)
    address_status: Mapped[str] = mapped_column(String(16), default="ok")
    address_problem: Mapped[str | None] = mapped_column(Text(1000))
    vehicle_make: Mapped[str | None] = mapped_column(String(32))
    vehicle_model: Mapped[str | None] = mapped_column(String(64))
    vehicle_year: Mapped[int | None] = mapped_column(Integer)
    vin: Mapped[str | None] = mapped_column(String(32), index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(100))
    imported_at: Mapped[datetime]


class OwnerLookup(Base):
    """Every registered-owner lookup and its purpose (US Driver's Privacy Protection Act)."""

    __tablename__ = "owner_lookups"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    citation_id: Mapped[int | None] = mapped_column(ForeignKey("citations.id"), index=True)
    plate: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime]
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("registered_owners.id"))


def _partial(name: str, column: str) -> Index:
    """An index of ``column`` holding only the rows where it has a value, on both databases (each reads
    ``column = x`` and a range of it through such an index: the comparison implies the value is there)."""
    where = sql_text(f"{column} IS NOT NULL")
    return Index(name, column, sqlite_where=where, postgresql_where=where)


# --------------------------------------------------------------------------- citations


class Citation(Base):
    """A citation and the case that grows from it."""

    __tablename__ = "citations"
    __table_args__ = (
        Index("ix_citation_plate_issued", "plate", "issued_at"),
        Index("ix_citation_status_next", "status", "next_action_date"),
        Index("ix_citation_status_stage_on", "status", "next_stage_on", "stage"),
        Index("ix_citation_status_action", "status", "next_action"),
        # the management reports count a period's citations from this index alone (reports_0001)
        Index("ix_citations_report", "issued_at", "officer_badge", "zone_code", "violation_code", "profile_code",
              "status", "fine_cents", "approved_at"),
        Index("ix_citation_address_c", sql_text('(address COLLATE "C")')).ddl_if(dialect="postgresql"),
        #: the address prefix search on SQLite (a range of it); PostgreSQL reads the byte-ordered one above, and
        #: nothing else looks addresses up, so there it would be one more index per row version (scale_0002)
        Index("ix_citations_address", "address").ddl_if(dialect="sqlite"),
        #: the patrol statistics count a period's citations per zone and status from this index alone
        Index("ix_citation_zone_issued_status", "zone_code", "issued_at", "status"),
        #: a payment's reference or a number typed at the counter, compared without dashes and spaces
        Index("ix_citation_number_key", sql_text(f"({CITATION_NUMBER_KEY_SQL})")),
        # Mostly empty columns are indexed only where they hold a value (scale_0001): each new row, and each
        # new version of a row (the daily run's, a payment's), goes into 15 indexes instead of 19 (status and
        # zone_code alone are served by the composite indexes that start with them).
        _partial("ix_citations_vin", "vin"),
        _partial("ix_citations_review_assignee_id", "review_assignee_id"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    citation_number: Mapped[str] = mapped_column(String(64), unique=True)
    source_event_id: Mapped[str | None] = mapped_column(String(100))
    content_digest: Mapped[str | None] = mapped_column(String(64))
    device_id: Mapped[str | None] = mapped_column(String(64), index=True)
    officer_badge: Mapped[str] = mapped_column(String(32))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    received_at: Mapped[datetime]
    plate: Mapped[str] = mapped_column(String(16))
    #: plate with confusable characters folded (O->0, I->1, B->8 ...), for one-off search
    plate_key: Mapped[str] = mapped_column(String(16), index=True)
    jurisdiction: Mapped[str] = mapped_column(String(8))
    plate_type: Mapped[str | None] = mapped_column(String(8))
    make: Mapped[str | None] = mapped_column(String(32))
    model: Mapped[str | None] = mapped_column(String(64))
    color: Mapped[str | None] = mapped_column(String(16))
    vin: Mapped[str | None] = mapped_column(String(32))
    registration_expiry: Mapped[str | None] = mapped_column(String(8))
    lat: Mapped[float]
    lon: Mapped[float]
    accuracy_m: Mapped[float | None]
    address: Mapped[str | None] = mapped_column(String(200))
    zone_code: Mapped[str | None] = mapped_column(String(64))
    space: Mapped[str | None] = mapped_column(String(32))
    violation_code: Mapped[str] = mapped_column(String(32))
    violation_description: Mapped[str] = mapped_column(String(300))
    #: what the schedule says for the code on the day of issue
    fine_cents: Mapped[int] = mapped_column(Integer)
    #: what the handheld showed the officer
    handheld_fine_cents: Mapped[int | None] = mapped_column(Integer)
    observations: Mapped[list[Any]] = mapped_column(JSON, default=list)
    remarks: Mapped[str | None] = mapped_column(String(text.REMARKS))
    status: Mapped[str] = mapped_column(String(20))
    evidence_status: Mapped[str] = mapped_column(String(20), default="none")
    signature_state: Mapped[str] = mapped_column(String(16), default="unsigned")
    profile_code: Mapped[str] = mapped_column(String(16), default="CA")
    profile_version: Mapped[int] = mapped_column(Integer, default=1)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("registered_owners.id"), index=True)
    stage: Mapped[str | None] = mapped_column(String(40))
    next_action: Mapped[str | None] = mapped_column(String(80))
    next_action_date: Mapped[date | None] = mapped_column(Date)
    #: the date of the next automatic step if unpaid (next stage, or the last stage's deadline);
    #: NULL while it counts from a notice not yet mailed, or when nothing automatic is left
    next_stage_on: Mapped[date | None] = mapped_column(Date)
    #: days spent on hold so far: every clock counted from the issue date moves by them
    held_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    on_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the clerk whose review queue holds this citation (a supervisor's assignment); NULL: everyone's queue
    review_assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    #: optimistic concurrency: bumped on every change to the case row
    version: Mapped[int] = mapped_column(Integer, default=1)
    #: HMAC of number, issue time, plate, state, violation and fine under the office's audit key
    row_mac: Mapped[str | None] = mapped_column(String(64))
    __mapper_args__ = {"version_id_col": version}

    violations: Mapped[list[CitationViolation]] = relationship(
        back_populates="citation", cascade="all, delete-orphan", order_by="CitationViolation.position"
    )
    photos: Mapped[list[EvidencePhoto]] = relationship(
        back_populates="citation", cascade="all, delete-orphan", order_by="EvidencePhoto.position"
    )
    owner: Mapped[RegisteredOwner | None] = relationship()
    #: the review checks' findings (none: no row); see :class:`CitationWarnings`
    warnings_row: Mapped[CitationWarnings | None] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def review_warnings(self) -> list[Any]:
        """The review checks' findings, ``[{code, severity, explanation, data}]``, errors first ([] if none)."""
        row = self.warnings_row
        return row.warnings if row is not None else []

    @review_warnings.setter
    def review_warnings(self, value: list[Any]) -> None:
        value = list(value or ())
        row = self.warnings_row
        if not value:
            self.warnings_row = None  # (no warnings: no row; the orphan is deleted)
        elif row is None:
            self.warnings_row = CitationWarnings(warnings=value, count=len(value))
        else:
            row.warnings, row.count = value, len(value)

    @property
    def warning_count(self) -> int:
        """How many warnings (set with them: ``review_warnings``)."""
        row = self.warnings_row
        return row.count if row is not None else 0


class CitationWarnings(Base):
    """The review checks' warnings of one citation, in a narrow table of their own (a citation with none has
    no row). Each sync writes the warnings of every citation it brought, right after storing it: in a column
    of ``citations`` that was, on PostgreSQL, a new version of the whole 900-byte row in each of its fifteen
    indexes (2.6 s of the server's 7.5 s in a 30,000-citation sync, issue 19); here it is a row of its own in
    one index. A change of warnings does not change the case's ``version``: approval checks again anyway
    (``review.approve``'s ``seen_warnings``)."""

    __tablename__ = "citation_warnings"
    citation_id: Mapped[int] = mapped_column(BigId, ForeignKey("citations.id"), primary_key=True,
                                             autoincrement=False)
    #: ``[{code, severity, explanation, data}]``, errors first
    warnings: Mapped[list[Any]] = mapped_column(JSON, default=list)
    count: Mapped[int] = mapped_column(Integer, default=0)


def citation_number_key() -> ColumnElement[str]:
    """``CITATION_NUMBER_KEY_SQL`` as a query expression, which the index ``ix_citation_number_key`` serves.

    Its strings are literals, not bound parameters: neither database matches an index on an expression to a
    query whose expression holds parameters (PostgreSQL would read all the citations, once per look-up)."""
    def quoted(value: str) -> ColumnElement[str]:
        return literal_column(f"'{value}'")

    return func.replace(func.replace(func.upper(Citation.citation_number), quoted("-"), quoted("")),
                        quoted(" "), quoted(""))


class CitationViolation(Base):
    """One violation on a citation (a citation may carry several)."""

    __tablename__ = "citation_violations"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    citation_id: Mapped[int] = mapped_column(ForeignKey("citations.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    code: Mapped[str] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(String(300))
    handheld_fine_cents: Mapped[int | None] = mapped_column(Integer)
    fine_cents: Mapped[int] = mapped_column(Integer)
    citation: Mapped[Citation] = relationship(back_populates="violations")


class EvidencePhoto(Base):
    """A photo's metadata; its bytes live in the evidence store under its SHA-256."""

    __tablename__ = "evidence_photos"
    __table_args__ = (UniqueConstraint("citation_id", "sha256"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    citation_id: Mapped[int] = mapped_column(ForeignKey("citations.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    declared_bytes: Mapped[int | None] = mapped_column(Integer)
    taken_at: Mapped[datetime | None]
    caption: Mapped[str | None] = mapped_column(String(100))
    #: pending, verified, integrity_failed, missing
    integrity: Mapped[str] = mapped_column(String(20), default="pending")
    integrity_reason: Mapped[str | None] = mapped_column(Text(1000))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    exif: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    gps_lat: Mapped[float | None]
    gps_lon: Mapped[float | None]
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    verified_at: Mapped[datetime | None]
    citation: Mapped[Citation] = relationship(back_populates="photos")


class PlateReading(Base):
    """The plate read from one evidence photo (issue 20): its text, confidence and region, or why not.

    Written by ``desktop.services.review.plates``; a photo whose engine or reader version changed is read
    again. ``plate_key`` is the look-alike folded plate, so plate search finds photo readings by index."""

    __tablename__ = "plate_readings"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("evidence_photos.id"), unique=True)
    citation_id: Mapped[int] = mapped_column(ForeignKey("citations.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    #: read, not_readable, skipped
    status: Mapped[str] = mapped_column(String(20))
    plate: Mapped[str | None] = mapped_column(String(16), index=True)
    plate_key: Mapped[str | None] = mapped_column(String(16), index=True)
    confidence: Mapped[float | None] = mapped_column(Float)
    #: [x0, y0, x1, y1] in the stored photo's pixels
    box: Mapped[list[int] | None] = mapped_column(JSON)
    engine: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str | None] = mapped_column(String(500))
    read_at: Mapped[datetime]
    milliseconds: Mapped[int | None] = mapped_column(Integer)


class CaseNote(Base):
    __tablename__ = "case_notes"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    citation_id: Mapped[int] = mapped_column(ForeignKey("citations.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime]
    text: Mapped[str] = mapped_column(String(text.NOTE))
    attachment_sha256: Mapped[str | None] = mapped_column(String(64))
    attachment_name: Mapped[str | None] = mapped_column(String(300))


class Hold(Base):
    """A pause of penalties and notices: an appeal, a payment plan or a supervisor hold."""

    __tablename__ = "holds"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    citation_id: Mapped[int] = mapped_column(ForeignKey("citations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(text.REASON))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


# --------------------------------------------------------------------------- money


class LedgerEntry(Base):
    """One line of a case's ledger. Positive cents raise what is owed; negative lower it."""

    __tablename__ = "ledger_entries"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: found through the unique (citation_id, dedupe_key) index, whose first column it is (a second
    #: index on it alone would cost every insert: a million of them in the first daily escalation)
    citation_id: Mapped[int] = mapped_column(ForeignKey("citations.id"))
    kind: Mapped[str] = mapped_column(String(20))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime]
    #: the day the entry belongs to (penalty stage date, payment value date)
    effective_date: Mapped[date] = mapped_column(Date)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), index=True)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    #: idempotency key (e.g. "penalty:delinquent_notice"): at most one entry per case and key
    dedupe_key: Mapped[str | None] = mapped_column(String(100))
    memo: Mapped[str | None] = mapped_column(String(300))
    #: HMAC of case, kind, amount, dates, payment and reversal under the office's audit key
    row_mac: Mapped[str | None] = mapped_column(String(64))
    __table_args__ = (UniqueConstraint("citation_id", "dedupe_key", name="uq_ledger_dedupe"),
                      # the receivables ageing adds up each case's ledger from this index alone (reports_0001)
                      Index("ix_ledger_owed", "citation_id", "effective_date", "amount_cents"))


class PaymentImport(Base):
    """A bank, lockbox or processor file already imported (by digest)."""

    __tablename__ = "payment_imports"
    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))
    imported_at: Mapped[datetime]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    payment_count: Mapped[int] = mapped_column(Integer)
    total_cents: Mapped[int] = mapped_column(BigInteger)
    file_total_cents: Mapped[int | None] = mapped_column(BigInteger)
    value_date: Mapped[date | None] = mapped_column(Date)
    #: what the import did: matched/unmatched counts, payments already known, ACH returns applied,
    #: records skipped with their reasons (shown on the Imports tab and in the daily close)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class CashDrawer(Base):
    """A clerk's cash drawer for one business day."""

    __tablename__ = "cash_drawers"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    business_date: Mapped[date] = mapped_column(Date)
    opened_at: Mapped[datetime]
    opening_float_cents: Mapped[int] = mapped_column(Integer, default=0)
    closed_at: Mapped[datetime | None]
    counted_cash_cents: Mapped[int | None] = mapped_column(BigInteger)
    counted_cheques_cents: Mapped[int | None] = mapped_column(BigInteger)
    difference_cents: Mapped[int | None] = mapped_column(BigInteger)
    __table_args__ = (UniqueConstraint("user_id", "business_date"),)


class Payment(Base):
    """Money received, from the counter, the bank, the lockbox or the card processor."""

    __tablename__ = "payments"
    # identity_key is unique through an index, not a table constraint: adding a constraint to SQLite rebuilds the
    # table, which a populated office's ledger (it references payments) does not allow with foreign keys on
    __table_args__ = (UniqueConstraint("source", "external_id", name="uq_payment_external"),
                      Index("uq_payments_identity_key", "identity_key", unique=True))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    method: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(200))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime]
    value_date: Mapped[date] = mapped_column(Date, index=True)
    reference: Mapped[str | None] = mapped_column(String(text.REFERENCE))
    payer_name: Mapped[str | None] = mapped_column(String(200))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    cheque_number: Mapped[str | None] = mapped_column(String(32))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("payment_imports.id"))
    drawer_id: Mapped[int | None] = mapped_column(ForeignKey("cash_drawers.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: matched, unmatched, reversed
    status: Mapped[str] = mapped_column(String(16), index=True)
    match_method: Mapped[str | None] = mapped_column(String(32))
    #: why an unmatched payment could not be matched, or how a clerk matched it
    match_note: Mapped[str | None] = mapped_column(Text(1000))
    receipt_number: Mapped[str | None] = mapped_column(String(32), unique=True)
    reversed_at: Mapped[datetime | None]
    #: e.g. "ACH return R01 (Insufficient funds)" or "cheque returned unpaid"
    reversal_reason: Mapped[str | None] = mapped_column(String(text.REASON))
    #: SHA-256 of the payment's identity from the bank's own identifiers (desktop.domain.payment_identity),
    #: unique: the same bank, lockbox, ACH or card payment can be posted once whatever file it comes in.
    #: NULL for payments not from a file (counter, plans).
    identity_key: Mapped[str | None] = mapped_column(String(64))
    #: HMAC of source, method, external id, amount and dates under the office's audit key
    row_mac: Mapped[str | None] = mapped_column(String(64))


class Refund(Base):
    """A refund of an overpayment: requested, approved by a supervisor, then paid."""

    __tablename__ = "refunds"
    id: Mapped[int] = mapped_column(primary_key=True)
    citation_id: Mapped[int] = mapped_column(ForeignKey("citations.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    payee_name: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(text.REASON))
    #: requested, approved, rejected
    status: Mapped[str] = mapped_column(String(16), index=True)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime]
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(String(text.REASON))


class PaymentPlan(Base):
    __tablename__ = "payment_plans"
    __table_args__ = (Index("ix_payment_plans_created_at", "created_at"),)  # the plans report (reports_0001)
    id: Mapped[int] = mapped_column(primary_key=True)
    citation_id: Mapped[int] = mapped_column(ForeignKey("citations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    monthly_cents: Mapped[int] = mapped_column(Integer)
    months: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[date] = mapped_column(Date)
    schedule: Mapped[list[Any]] = mapped_column(JSON)
    #: current, defaulted, completed, cancelled
    status: Mapped[str] = mapped_column(String(16))
    waived_cents: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


# --------------------------------------------------------------------------- appeals


class Appeal(Base):
    """A contest of a citation at one level (initial review, hearing, representations, tribunal)."""

    __tablename__ = "appeals"
    __table_args__ = (Index("ix_appeals_filed_at", "filed_at"),)  # the appeals report's period (reports_0001)
    id: Mapped[int] = mapped_column(primary_key=True)
    citation_id: Mapped[int] = mapped_column(ForeignKey("citations.id"), index=True)
    level: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    appellant_name: Mapped[str] = mapped_column(String(200))
    appellant_address: Mapped[str | None] = mapped_column(String(text.ADDRESS))
    appellant_email: Mapped[str | None] = mapped_column(String(200))
    grounds: Mapped[list[Any]] = mapped_column(JSON, default=list)
    statement: Mapped[str] = mapped_column(String(text.STATEMENT))
    filed_at: Mapped[datetime]
    decide_by: Mapped[date | None] = mapped_column(Date, index=True)
    late_override_reason: Mapped[str | None] = mapped_column(String(text.REASON))
    #: open, scheduled, decided, deemed_accepted, withdrawn
    status: Mapped[str] = mapped_column(String(20), index=True)
    decision: Mapped[str | None] = mapped_column(String(16))
    decision_reason: Mapped[str | None] = mapped_column(String(text.REASON))
    reduced_fine_cents: Mapped[int | None] = mapped_column(Integer)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class AppealDocument(Base):
    __tablename__ = "appeal_documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(300))
    mime_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    added_at: Mapped[datetime]


class HearingSlot(Base):
    """A hearing officer's availability."""

    __tablename__ = "hearing_slots"
    id: Mapped[int] = mapped_column(primary_key=True)
    officer_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]


class Hearing(Base):
    __tablename__ = "hearings"
    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id"), index=True)
    hearing_officer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    minutes: Mapped[int] = mapped_column(Integer, default=20)
    mode: Mapped[str] = mapped_column(String(16))
    location: Mapped[str | None] = mapped_column(String(200))
    #: scheduled, adjourned, held, cancelled
    status: Mapped[str] = mapped_column(String(16))
    adjourned_reason: Mapped[str | None] = mapped_column(String(text.REASON))


# --------------------------------------------------------------------------- notices


class NoticeBatch(Base):
    """A print batch: one PDF of notices, mailed once the operator confirms it."""

    __tablename__ = "notice_batches"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    file_path: Mapped[str | None] = mapped_column(String(500))
    piece_count: Mapped[int] = mapped_column(Integer, default=0)
    page_count: Mapped[int] = mapped_column(Integer, default=0)
    #: rendered, mailed, cancelled
    status: Mapped[str] = mapped_column(String(16))
    mailed_at: Mapped[datetime | None]
    confirmed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Notice(Base):
    """A mailed piece: queued by the escalation, printed in a batch, confirmed as mailed."""

    __tablename__ = "notices"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: found through the unique (citation_id, dedupe_key) index, whose first column it is (a second
    #: index on it alone would cost every insert: a million of them in the first daily escalation)
    citation_id: Mapped[int] = mapped_column(ForeignKey("citations.id"))
    kind: Mapped[str] = mapped_column(String(40))
    stage: Mapped[str | None] = mapped_column(String(40))
    #: queued, held, printed, mailed, returned, cancelled
    status: Mapped[str] = mapped_column(String(16))
    queued_at: Mapped[datetime]
    hold_reason: Mapped[str | None] = mapped_column(Text(1000))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("notice_batches.id"))
    serial: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    mailed_at: Mapped[datetime | None]
    returned_at: Mapped[datetime | None]
    return_reason: Mapped[str | None] = mapped_column(String(text.ADDRESS))
    reprint_of: Mapped[int | None] = mapped_column(ForeignKey("notices.id"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("registered_owners.id"))
    address_snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    dedupe_key: Mapped[str | None] = mapped_column(String(100))
    __table_args__ = (
        Index("ix_notice_status_queued", "status", "queued_at"),
        # the notices report's period (reports_0001); a notice is queued without a batch and mailing date, so
        # these two hold only the ones that have them (scale_0001: the daily run queues 500,000 at go-live)
        _partial("ix_notices_mailed_at", "mailed_at"),
        _partial("ix_notices_batch_id", "batch_id"),
        UniqueConstraint("citation_id", "dedupe_key", name="uq_notice_dedupe"),
    )


# --------------------------------------------------------------------------- audit


class AuditEntry(Base):
    """One append-only audit record; `hash` covers its content and the previous entry's hash."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_entity", "entity_type", "entity_id"),
                      # the Activity screen: one kind of entry, newest first (services/admin/activity.py)
                      Index("ix_audit_action_id", "action", "id"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime]
    user_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(100))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text(AUDIT_REASON))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The single row that serialises appends to the audit chain (locked FOR UPDATE on PostgreSQL)."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(primary_key=True)
    last_id: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
    #: which office key seals the chain (an HMAC of a fixed text, not the key), to name a wrong key plainly
    key_id: Mapped[str | None] = mapped_column(String(16))
    #: HMAC of (last_id, last_hash) under the office's audit key: the head cannot be moved without the key
    mac: Mapped[str | None] = mapped_column(String(64))


class ChangeLogEntry(Base):
    """What one committed write transaction changed, on SQLite (PostgreSQL sends it with NOTIFY instead):
    another process polling the file reads the entries after the last one it saw and leaves out its own
    (``services.core.changes``). Short-lived: old entries are pruned as new ones are written."""

    __tablename__ = "change_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    origin: Mapped[str] = mapped_column(String(32))
    #: {"a": [areas], "c": [case ids] | null, "p": [appeal ids] | null}
    payload: Mapped[str] = mapped_column(String(8000))
